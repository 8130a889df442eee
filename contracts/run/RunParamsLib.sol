// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ITrainingRun} from "./ITrainingRun.sol";
import {RunStorage} from "./RoundLib.sol";

/// @title RunParamsLib
/// @notice The bounds of every run parameter and their check: one named error per rule, each
///         carrying the value and the allowed inclusive range. docs/run-contract.md lists them.
library RunParamsLib {
    uint256 internal constant PPM = 1_000_000;
    uint256 internal constant BPS = 10_000;

    uint256 internal constant MAX_INNER_STEPS = 100_000;
    uint256 internal constant MAX_BATCH_SIZE = 65_536;
    uint256 internal constant MAX_OUTER_LR_PPM = 2 * PPM;
    uint256 internal constant MAX_OUTER_MOMENTUM_PPM = PPM - 1;
    uint256 internal constant MAX_TRIM_PPM = PPM / 2 - 1;
    uint256 internal constant MIN_CLIP_MULTIPLE_PPM = PPM;
    uint256 internal constant MAX_CLIP_MULTIPLE_PPM = 100 * PPM;
    uint256 internal constant MAX_CHECKPOINT_EVERY = 1_000_000;
    uint256 internal constant MAX_PHASE_DURATION = 7 days;
    /// @dev Per-round bounds. Settlement runs in batches whose size the caller picks, so the
    ///      number of trainers no longer bounds one transaction (P7); 1,024 is the tested size.
    ///      The committee bounds the once-per-round loops (votes, validator slashes: 16 x ~110k
    ///      gas) and the per-seat cursors that fit one word (16 x 16 bits).
    uint256 internal constant MAX_NODES_PER_ROUND = 1024;
    uint256 internal constant MAX_COMMITTEE_SIZE = 16;
    /// @dev The validator set a committee is drawn from (a cumulative-stake scan per draw).
    uint256 internal constant MAX_VALIDATOR_SET = 64;
    /// @dev Stakes and emission fit the StakeManager's uint96 slash records and the run's
    ///      128-bit reward accumulators.
    uint256 internal constant MAX_AMOUNT = type(uint96).max;

    /// @notice Validates `p` and stores it as the run's first parameter set.
    /// @dev External (DELEGATECALLed on the run's storage) to keep the run under 24 KiB: copying
    ///      a 30-field struct from calldata is most of the code it saves.
    function initialize(RunStorage storage $, ITrainingRun.RunParams calldata p) external {
        validate(p);
        $.paramSets[0] = p;
    }

    /// @notice Validates `p` and stores it as the pending set, applied when round
    ///         `effectiveRound` opens; emits ParamsSet with the set it replaces.
    function setPending(
        RunStorage storage $,
        ITrainingRun.RunParams calldata p,
        uint256 runId,
        uint256 effectiveRound
    ) external {
        validate(p);
        uint256 next = 1 - $.activeSet;
        ITrainingRun.RunParams memory old = $.paramSets[$.hasPending ? next : $.activeSet];
        $.paramSets[next] = p;
        $.hasPending = true;
        emit ITrainingRun.ParamsSet(runId, effectiveRound, old, p);
    }

    /// @notice Reverts with the first rule `p` breaks.
    function validate(ITrainingRun.RunParams calldata p) public pure {
        if (p.modelId == bytes32(0)) revert ITrainingRun.TrainingRunModelIdZero();
        _inRange(
            p.innerSteps,
            1,
            MAX_INNER_STEPS,
            ITrainingRun.TrainingRunInnerStepsOutOfRange.selector
        );
        _inRange(
            p.batchSize,
            1,
            MAX_BATCH_SIZE,
            ITrainingRun.TrainingRunBatchSizeOutOfRange.selector
        );
        _inRange(p.innerLrPpm, 1, PPM, ITrainingRun.TrainingRunInnerLrOutOfRange.selector);
        _inRange(
            p.outerLrPpm,
            1,
            MAX_OUTER_LR_PPM,
            ITrainingRun.TrainingRunOuterLrOutOfRange.selector
        );
        _inRange(
            p.outerMomentumPpm,
            0,
            MAX_OUTER_MOMENTUM_PPM,
            ITrainingRun.TrainingRunOuterMomentumOutOfRange.selector
        );
        _inRange(p.densityPpm, 1, PPM, ITrainingRun.TrainingRunDensityOutOfRange.selector);
        if (p.quantBits != 8 && p.quantBits != 4 && p.quantBits != 2) {
            revert ITrainingRun.TrainingRunQuantBitsInvalid(p.quantBits);
        }
        if (p.aggregation > 1) revert ITrainingRun.TrainingRunAggregationInvalid(p.aggregation);
        _inRange(p.trimPpm, 0, MAX_TRIM_PPM, ITrainingRun.TrainingRunTrimOutOfRange.selector);
        _inRange(
            p.clipMultiplePpm,
            MIN_CLIP_MULTIPLE_PPM,
            MAX_CLIP_MULTIPLE_PPM,
            ITrainingRun.TrainingRunClipMultipleOutOfRange.selector
        );
        _inRange(
            p.checkpointEvery,
            1,
            MAX_CHECKPOINT_EVERY,
            ITrainingRun.TrainingRunCheckpointEveryOutOfRange.selector
        );
        _inRange(
            p.commitDuration,
            1,
            MAX_PHASE_DURATION,
            ITrainingRun.TrainingRunCommitDurationOutOfRange.selector
        );
        _inRange(
            p.revealDuration,
            1,
            MAX_PHASE_DURATION,
            ITrainingRun.TrainingRunRevealDurationOutOfRange.selector
        );
        _inRange(
            p.scoreDuration,
            1,
            MAX_PHASE_DURATION,
            ITrainingRun.TrainingRunScoreDurationOutOfRange.selector
        );
        _inRange(
            p.voteRevealDuration,
            1,
            MAX_PHASE_DURATION,
            ITrainingRun.TrainingRunVoteRevealDurationOutOfRange.selector
        );
        _inRange(
            p.maxNodesPerRound,
            1,
            MAX_NODES_PER_ROUND,
            ITrainingRun.TrainingRunMaxNodesOutOfRange.selector
        );
        _inRange(
            p.trainerSeats,
            1,
            p.maxNodesPerRound,
            ITrainingRun.TrainingRunTrainerSeatsOutOfRange.selector
        );
        _inRange(
            p.committeeSize,
            1,
            MAX_COMMITTEE_SIZE,
            ITrainingRun.TrainingRunCommitteeSizeOutOfRange.selector
        );
        _inRange(
            p.scorersPerUpdate,
            1,
            p.committeeSize,
            ITrainingRun.TrainingRunScorersPerUpdateOutOfRange.selector
        );
        _inRange(
            p.minUpdates,
            1,
            p.maxNodesPerRound,
            ITrainingRun.TrainingRunMinUpdatesOutOfRange.selector
        );
        _inRange(p.acceptScorePpm, 1, PPM, ITrainingRun.TrainingRunAcceptScoreOutOfRange.selector);
        _inRange(
            p.minTrainerStake,
            1,
            MAX_AMOUNT,
            ITrainingRun.TrainingRunMinTrainerStakeOutOfRange.selector
        );
        _inRange(
            p.minValidatorStake,
            1,
            MAX_AMOUNT,
            ITrainingRun.TrainingRunMinValidatorStakeOutOfRange.selector
        );
        _inRange(
            p.invalidSlashBps,
            0,
            BPS,
            ITrainingRun.TrainingRunInvalidSlashBpsOutOfRange.selector
        );
        _inRange(
            p.noRevealSlashBps,
            0,
            BPS,
            ITrainingRun.TrainingRunNoRevealSlashBpsOutOfRange.selector
        );
        _inRange(
            p.validatorSlashBps,
            0,
            BPS,
            ITrainingRun.TrainingRunValidatorSlashBpsOutOfRange.selector
        );
        _inRange(
            p.validatorShareBps,
            0,
            BPS,
            ITrainingRun.TrainingRunValidatorShareBpsOutOfRange.selector
        );
        _inRange(
            p.emissionPerRound,
            0,
            MAX_AMOUNT,
            ITrainingRun.TrainingRunEmissionOutOfRange.selector
        );
    }

    /// @dev Reverts with `selector`(value, min, max) unless min <= value <= max. Every range
    ///      error has that (uint256, uint256, uint256) signature; encoding it once here instead of
    ///      at 23 call sites keeps the run under the 24 KiB code size limit.
    function _inRange(uint256 value, uint256 min, uint256 max, bytes4 selector) private pure {
        if (value >= min && value <= max) return;
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            mstore(ptr, selector)
            mstore(add(ptr, 0x04), value)
            mstore(add(ptr, 0x24), min)
            mstore(add(ptr, 0x44), max)
            revert(ptr, 0x64)
        }
    }
}
