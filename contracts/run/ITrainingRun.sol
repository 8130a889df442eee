// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title ITrainingRun
/// @notice One protolearn training run: parameters, the round state machine
///         (open -> commit -> reveal -> score -> finalize), contribution records, rewards.
/// @dev Fixed-point conventions: `*Ppm` = parts per million, `*Bps` = basis points (1e4),
///      scores are in ppm (0 .. 1_000_000), eval loss is 1e9-scaled.
interface ITrainingRun {
    /// @notice Everything governance can tune. A change takes effect when the next round opens.
    struct RunParams {
        // --- training, read by nodes ---
        bytes32 modelId; // keccak256 of the model's stable id string, e.g. "mnist-mlp-v1"
        uint32 innerSteps; // H: AdamW steps per round
        uint32 batchSize; // inner-loop batch size
        uint32 innerLrPpm; // AdamW learning rate
        uint32 outerLrPpm; // Nesterov outer learning rate (DiLoCo: 0.7)
        uint32 outerMomentumPpm; // Nesterov momentum (DiLoCo: 0.9)
        uint32 densityPpm; // top-k density of an update
        uint8 quantBits; // 8, 4 or 2
        uint8 aggregation; // 0 = trimmed mean, 1 = coordinate-wise median
        uint32 trimPpm; // fraction trimmed at each end by the trimmed mean
        uint32 clipMultiplePpm; // norm clip = multiple x median norm
        uint32 checkpointEvery; // rounds between full-model checkpoints on IPFS
        // --- protocol ---
        uint32 commitDuration; // seconds from round open to commit deadline
        uint32 revealDuration; // seconds from commit deadline to reveal deadline
        uint32 scoreDuration; // seconds from reveal deadline to score deadline
        uint16 maxNodesPerRound; // bound of every per-round loop over trainers
        uint16 maxValidators; // bound of every per-round loop over validators
        uint16 minUpdates; // fewer accepted updates -> round closes without change
        uint32 acceptScorePpm; // stake-weighted median score needed to be accepted
        uint128 minTrainerStake;
        uint128 minValidatorStake;
        uint16 invalidSlashBps; // of the trainer's locked stake
        uint16 noRevealSlashBps; // of the trainer's locked stake
        uint16 validatorSlashBps; // of the validator's locked stake
        uint16 validatorShareBps; // of the emission, to validators in consensus
        uint128 emissionPerRound; // tokens minted per accepted round
    }

    enum Role {
        None,
        Trainer,
        Validator
    }

    enum Phase {
        Commit, // until commitDeadline
        Reveal, // until revealDeadline
        Score, // until scoreDeadline
        Finalizable, // after scoreDeadline, until someone finalizes
        Paused,
        Halted
    }

    // ---- participation ----
    /// @notice Joins the run in `role`, locking the role's minimum stake in the StakeManager.
    function join(Role role) external;

    /// @notice Leaves the run and unlocks the stake (not while committed in an unfinalized round;
    ///         always allowed after a halt).
    function leave() external;

    // ---- the round ----
    /// @notice commitment = keccak256(abi.encode(runId, round, msg.sender, cid, contentHash, samples, salt))
    function commit(uint256 round, bytes32 commitment) external;

    function reveal(uint256 round, string calldata cid, bytes32 contentHash, uint64 samples, bytes32 salt)
        external;

    /// @notice One score per revealed update, in reveal order; the model hash the validator
    ///         aggregated and its held-out loss (1e9-scaled).
    function submitScores(uint256 round, uint32[] calldata scores, bytes32 modelHash, uint64 evalLoss)
        external;

    /// @notice Permissionless once the score deadline has passed: medians, accept/slash,
    ///         model-hash consensus, reward accrual, next round opens.
    function finalizeRound(uint256 round) external;

    /// @notice Pays the caller's accrued rewards; returns the amount (0 on a second call).
    function claim() external returns (uint256);

    // ---- governance (the timelock) / guardian ----
    /// @notice Only governance. Validated against bounds; effective when the next round opens.
    function setParams(RunParams calldata params) external;

    /// @notice Governance or the guardian.
    function pause() external;

    /// @notice Only governance.
    function unpause() external;

    /// @notice Only governance. Permanent: no more rounds or emission; stake can be unlocked.
    function halt() external;
}

/// @title IRunFactory
/// @notice Creates runs (EIP-1167 clones of one TrainingRun implementation) through governance,
///         registers each in the StakeManager and lets it mint rewards.
interface IRunFactory {
    /// @notice Only governance (the timelock).
    /// @return runId sequential id starting at 1
    /// @return run the new run's address
    function createRun(ITrainingRun.RunParams calldata params, bytes32 initialModelHash, string calldata initialModelCid)
        external
        returns (uint256 runId, address run);
}
