// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ITrainingRun} from "./ITrainingRun.sol";

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
    /// @dev Bound the finalize loops so that the worst round fits one transaction under the
    ///      2^24 (16,777,216) gas cap of EIP-7825: every update invalid (64 StakeManager slashes,
    ///      ~110k gas each), 15 validators outside the majority slashed, scores in the order
    ///      that makes the median's insertion sort slowest. Measured ~11M gas
    ///      (test/contracts/TrainingRunWorstCase.test.ts), leaving room for costlier slashes.
    uint256 internal constant MAX_NODES_PER_ROUND = 64;
    uint256 internal constant MAX_VALIDATORS = 16;
    /// @dev Stakes and emission fit the StakeManager's uint96 slash records and the run's
    ///      128-bit reward accumulators.
    uint256 internal constant MAX_AMOUNT = type(uint96).max;

    /// @notice Reverts with the first rule `p` breaks.
    function validate(ITrainingRun.RunParams calldata p) internal pure {
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
            p.maxNodesPerRound,
            1,
            MAX_NODES_PER_ROUND,
            ITrainingRun.TrainingRunMaxNodesOutOfRange.selector
        );
        _inRange(
            p.maxValidators,
            1,
            MAX_VALIDATORS,
            ITrainingRun.TrainingRunMaxValidatorsOutOfRange.selector
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
