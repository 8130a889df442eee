// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IStakeManager} from "../staking/IStakeManager.sol";

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
        Paused, // the round was finalized while paused; the next one opens at unpause
        Halted // the last round was finalized after a halt; no round opens again
    }

    /// @notice Why a round closed without changing the model and without emission.
    enum RoundFailure {
        None,
        NoValidatorVotes, // no validator scored the round (or all voting stake was zero)
        NoModelMajority, // no model hash was backed by >= 2/3 of the voting validator stake
        TooFewAcceptedUpdates, // fewer than minUpdates updates reached acceptScorePpm
        PausedDuringRound // not emitted since G3 (a pause no longer voids a round); kept so values stay stable
    }

    /// @notice The round in progress (or, while paused after a finalize, the last one).
    struct RoundInfo {
        uint256 round;
        uint64 commitDeadline; // commit allowed while now <= commitDeadline
        uint64 revealDeadline; // reveal allowed while commitDeadline < now <= revealDeadline
        uint64 scoreDeadline; // scores allowed while revealDeadline < now <= scoreDeadline
        uint16 commits;
        uint16 reveals;
        uint16 votes; // validators that submitted scores
        bool finalized; // finalized while paused or halted; the next round opens at unpause
        bool voided; // always false since G3 (a pause no longer voids a round); kept for the ABI
        bytes32 seed; // seed_r, from prevrandao and the previous blockhash
        bytes32 modelHash; // M_r, the global model this round trains from
    }

    /// @notice A participant's record in this run.
    struct MemberInfo {
        Role role; // None after leave()
        uint256 activeRound; // last round it committed in (trainer) or scored (validator)
        uint256 revealedRound; // last round it revealed in (trainer)
        uint256 rewards; // accrued, not yet claimed
    }

    // ---- events: every state change emits one ----
    /// @notice The clone was initialized; round 1 opens in the same transaction.
    event RunInitialized(
        uint256 indexed runId,
        bytes32 indexed modelId,
        bytes32 initialModelHash,
        string initialModelCid,
        address guardian
    );
    /// @notice Round `round` opened with seed `seed` from global model `modelHash` (M_r).
    event RoundOpened(
        uint256 indexed runId,
        uint256 indexed round,
        bytes32 seed,
        bytes32 modelHash,
        uint64 commitDeadline,
        uint64 revealDeadline,
        uint64 scoreDeadline
    );
    /// @notice `node` joined as `role`; `locked` of its bonded stake is now locked by this run.
    event Joined(uint256 indexed runId, address indexed node, Role role, uint256 locked);
    /// @notice `node` left; `unlocked` of its stake was released by this run.
    event Left(uint256 indexed runId, address indexed node, Role role, uint256 unlocked);
    /// @notice `node` committed to an update for `round`.
    event Committed(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed node,
        bytes32 commitment
    );
    /// @notice `node` revealed its update: the `index`-th revealed update of the round (the
    ///         position of its score in every validator's scores array).
    event Revealed(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed node,
        uint256 index,
        string cid,
        bytes32 contentHash,
        uint64 samples
    );
    /// @notice `validator` scored every revealed update of `round` with voting weight `weight`.
    event ScoresSubmitted(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed validator,
        uint256 weight,
        bytes32 modelHash,
        uint64 evalLoss,
        uint32[] scores
    );
    /// @notice Outcome of one revealed update at finalize: its stake-weighted median score,
    ///         whether it was accepted and the reward it earned (0 in a failed round).
    event UpdateScored(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed node,
        uint32 medianScore,
        bool accepted,
        uint256 reward
    );
    /// @notice Outcome of one validator at finalize: whether its model hash is the 2/3 majority's
    ///         and the reward it earned.
    event ValidatorSettled(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed validator,
        bool agreed,
        uint256 reward
    );
    /// @notice `node` was slashed `amount` (slash record `slashId` in the StakeManager).
    event NodeSlashed(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed node,
        IStakeManager.SlashReason reason,
        uint256 amount,
        uint256 slashId
    );
    /// @notice Round `round` succeeded: `modelHash` is M_{round+1}; `emission` was minted to the run.
    event ModelAgreed(
        uint256 indexed runId,
        uint256 indexed round,
        bytes32 modelHash,
        uint64 evalLoss,
        uint256 acceptedUpdates,
        uint256 emission
    );
    /// @notice Round `round` closed without model change and without emission.
    event RoundFailed(uint256 indexed runId, uint256 indexed round, RoundFailure reason);
    /// @notice The reward mint of `amount` reverted (e.g. the token's supply cap is reached, or the
    ///         run's MINTER_ROLE was revoked): the round's model stands, but nothing is paid.
    event EmissionFailed(uint256 indexed runId, uint256 indexed round, uint256 amount);
    /// @notice `node` pulled `amount` of accrued rewards.
    event RewardsClaimed(uint256 indexed runId, address indexed node, uint256 amount);
    /// @notice Governance set the parameters that apply from round `effectiveRound` on.
    event ParamsSet(
        uint256 indexed runId,
        uint256 indexed effectiveRound,
        RunParams oldParams,
        RunParams newParams
    );
    /// @notice Parameters set earlier by governance became active as round `round` opened.
    event ParamsApplied(uint256 indexed runId, uint256 indexed round);
    /// @notice `account` paused the run during round `round`: `round` still settles in full, the
    ///         next round opens only at unpause.
    event Paused(uint256 indexed runId, uint256 indexed round, address account);
    /// @notice `account` unpaused the run.
    event Unpaused(uint256 indexed runId, uint256 indexed round, address account);
    /// @notice `account` (governance) halted the run for good: `round` still settles in full, no
    ///         round opens after it.
    event Halted(uint256 indexed runId, uint256 indexed round, address account);
    /// @notice Governance changed the guardian (address(0) = none).
    event GuardianSet(uint256 indexed runId, address oldGuardian, address newGuardian);
    /// @notice Validator `announcer` put a full checkpoint of M_round (the model the round opened
    ///         with, plus the outer momentum) on IPFS at `cid`. Nothing is trusted: a late joiner
    ///         checks the fetched parameters against RoundOpened(round).modelHash.
    event CheckpointAnnounced(uint256 indexed runId, uint256 indexed round, address indexed announcer, string cid);

    // ---- errors: access ----
    /// @notice Only governance (the timelock) may call this.
    error TrainingRunNotGovernance(address caller);
    /// @notice Only the guardian or governance may call this.
    error TrainingRunNotGuardianOrGovernance(address caller);

    // ---- errors: run state ----
    /// @notice The run is halted for good and its last round `round` is settled (or the call is
    ///         join/setParams/pause/unpause/halt); only leave(), claim() and views work.
    error TrainingRunHalted(uint256 round);
    /// @notice The run is paused and round `round` is settled; the next round opens when
    ///         governance unpauses.
    error TrainingRunPaused(uint256 round);
    /// @notice unpause() needs a paused run.
    error TrainingRunNotPaused(uint256 round);
    /// @notice The call names round `given`, the current round is `current`.
    error TrainingRunWrongRound(uint256 given, uint256 current);
    /// @notice Round `round` is already finalized (the run is paused or halted, so no next round
    ///         opened).
    error TrainingRunRoundFinalized(uint256 round);
    /// @notice `phase` of `round` closed at `deadline`; it is `now`.
    error TrainingRunPhaseClosed(uint256 round, Phase phase, uint256 deadline, uint256 now);
    /// @notice `phase` of `round` opens after `opensAfter`; it is `now`.
    error TrainingRunPhaseNotOpen(uint256 round, Phase phase, uint256 opensAfter, uint256 now);

    // ---- errors: participation ----
    /// @notice join() needs Role.Trainer or Role.Validator.
    error TrainingRunInvalidRole(Role role);
    /// @notice `node` is already a member as `role`; leave() first to change role.
    error TrainingRunAlreadyJoined(address node, Role role);
    /// @notice `node` is not a member of this run; join() first.
    error TrainingRunNotMember(address node);
    /// @notice The call needs role `needed`; `node` has `role`.
    error TrainingRunWrongRole(address node, Role role, Role needed);
    /// @notice `node` committed or scored in `round`, which is not finalized yet.
    error TrainingRunLeaveWhileActive(address node, uint256 round);

    // ---- errors: commit / reveal / score ----
    /// @notice `node` already committed in `round` (one commit per node per round).
    error TrainingRunAlreadyCommitted(uint256 round, address node);
    /// @notice `round` already holds `maxNodes` commits.
    error TrainingRunRoundFull(uint256 round, uint256 maxNodes);
    /// @notice `node` did not commit in `round`, so it has nothing to reveal.
    error TrainingRunNotCommitted(uint256 round, address node);
    /// @notice `node` already revealed in `round`.
    error TrainingRunAlreadyRevealed(uint256 round, address node);
    /// @notice The revealed values hash to `computed`, but `node` committed `committed`.
    error TrainingRunRevealMismatch(
        uint256 round,
        address node,
        bytes32 computed,
        bytes32 committed
    );
    /// @notice Checkpoints are announced for rounds that are multiples of `checkpointEvery`, up to
    ///         the current round.
    error TrainingRunNotCheckpointRound(uint256 round, uint256 checkpointEvery, uint256 currentRound);
    /// @notice The CID is `length` bytes; it must be 1 .. `max`.
    error TrainingRunCidLength(uint256 length, uint256 max);
    /// @notice `validator` already submitted scores in `round`.
    error TrainingRunAlreadyScored(uint256 round, address validator);
    /// @notice `given` scores were submitted, `round` has `expected` revealed updates.
    error TrainingRunScoreCountMismatch(uint256 round, uint256 given, uint256 expected);
    /// @notice Score `index` is `score`; scores are ppm, at most `max`.
    error TrainingRunScoreOutOfRange(uint256 index, uint256 score, uint256 max);
    /// @notice `round` already holds the scores of `maxValidators` validators.
    error TrainingRunTooManyValidators(uint256 round, uint256 maxValidators);
    /// @notice `validator` has no stake locked by this run, so its scores would weigh nothing.
    error TrainingRunNoValidatorStake(address validator);

    /// @notice A view was asked for entry `index` of a list that holds `count` this round.
    error TrainingRunIndexOutOfRange(uint256 index, uint256 count);

    // ---- errors: initialization ----
    /// @notice The initial model hash is zero.
    error TrainingRunZeroModelHash();

    // ---- errors: parameter bounds (one per rule; `min`/`max` are inclusive) ----
    error TrainingRunModelIdZero();
    error TrainingRunInnerStepsOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunBatchSizeOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunInnerLrOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunOuterLrOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunOuterMomentumOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunDensityOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunQuantBitsInvalid(uint256 value);
    error TrainingRunAggregationInvalid(uint256 value);
    error TrainingRunTrimOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunClipMultipleOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunCheckpointEveryOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunCommitDurationOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunRevealDurationOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunScoreDurationOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunMaxNodesOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunMaxValidatorsOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunMinUpdatesOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunAcceptScoreOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunMinTrainerStakeOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunMinValidatorStakeOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunInvalidSlashBpsOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunNoRevealSlashBpsOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunValidatorSlashBpsOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunValidatorShareBpsOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunEmissionOutOfRange(uint256 value, uint256 min, uint256 max);

    // ---- participation ----
    /// @notice Joins the run in `role`, locking the role's minimum stake in the StakeManager.
    function join(Role role) external;

    /// @notice Leaves the run and unlocks the stake (not while committed in an unfinalized round;
    ///         always allowed after a halt).
    function leave() external;

    // ---- the round ----
    /// @notice commitment = keccak256(abi.encode(runId, round, msg.sender, cid, contentHash, samples, salt))
    function commit(uint256 round, bytes32 commitment) external;

    function reveal(
        uint256 round,
        string calldata cid,
        bytes32 contentHash,
        uint64 samples,
        bytes32 salt
    ) external;

    /// @notice One score per revealed update, in reveal order; the model hash the validator
    ///         aggregated and its held-out loss (1e9-scaled).
    function submitScores(
        uint256 round,
        uint32[] calldata scores,
        bytes32 modelHash,
        uint64 evalLoss
    ) external;

    /// @notice Permissionless once the score deadline has passed: medians, accept/slash,
    ///         model-hash consensus, reward accrual, next round opens.
    function finalizeRound(uint256 round) external;

    /// @notice A validator announces the IPFS CID of a checkpoint of M_round (event only; no
    ///         state). Only for rounds that are multiples of checkpointEvery, up to the current one.
    function announceCheckpoint(uint256 round, string calldata cid) external;

    /// @notice Pays the caller's accrued rewards; returns the amount (0 on a second call).
    function claim() external returns (uint256);

    // ---- governance (the timelock) / guardian ----
    /// @notice Only governance. Validated against bounds; effective when the next round opens.
    function setParams(RunParams calldata params) external;

    /// @notice Governance or the guardian. Pauses future rounds only: the open round keeps its
    ///         phases and settles in full (slashes, rewards, model); the next round opens at
    ///         unpause.
    function pause() external;

    /// @notice Only governance. Opens the next round at once if the last one closed while paused.
    function unpause() external;

    /// @notice Only governance. Permanent: the open round still runs and settles in full (its
    ///         slashes included); after it no round opens and nothing is minted; members leave
    ///         once it is finalized.
    function halt() external;

    /// @notice Only governance. Sets the address that may pause (address(0) = none).
    function setGuardian(address guardian) external;

    // ---- views ----
    /// @notice Sequential id given by the factory (1, 2, ...).
    function runId() external view returns (uint256);

    /// @notice The round in progress: number, deadlines, counts, seed_r and M_r.
    function currentRound() external view returns (RoundInfo memory);

    /// @notice The phase the current round is in at this block.
    function phase() external view returns (Phase);

    /// @notice The parameters of the round in progress.
    function params() external view returns (RunParams memory);

    /// @notice Parameters set by governance that apply when the next round opens, if any.
    function pendingParams() external view returns (bool pending, RunParams memory next);

    /// @notice `node`'s record: role, last active round, last revealed round, accrued rewards.
    function memberOf(address node) external view returns (MemberInfo memory);

    /// @notice The `index`-th revealed update of the current round (the order of the scores).
    function revealedUpdate(
        uint256 index
    ) external view returns (address node, bytes32 contentHash, uint64 samples);

    /// @notice The `index`-th node that committed in the current round.
    function committer(uint256 index) external view returns (address);

    /// @notice The `index`-th validator vote of the current round.
    function vote(
        uint256 index
    )
        external
        view
        returns (
            address validator,
            uint256 weight,
            bytes32 modelHash,
            uint64 evalLoss,
            uint32[] memory scores
        );

    /// @notice The global model M_r of the current round and its held-out loss (0 before the first agreement).
    function model() external view returns (bytes32 modelHash, uint64 evalLoss);

    /// @notice The IPFS CID of the initial model M_1.
    function initialModelCid() external view returns (string memory);

    /// @notice The StakeManager that holds the stake this run locks and slashes.
    function stakeManager() external view returns (IStakeManager);

    /// @notice The reward token this run mints and pays out.
    function token() external view returns (address);

    /// @notice Governance (the timelock).
    function governance() external view returns (address);

    /// @notice The guardian that may pause (address(0) = none).
    function guardian() external view returns (address);

    /// @notice Whether the run is paused.
    function paused() external view returns (bool);

    /// @notice Whether the run is halted for good.
    function halted() external view returns (bool);
}

/// @title IRunFactory
/// @notice Creates runs (EIP-1167 clones of one TrainingRun implementation) through governance,
///         registers each in the StakeManager and lets it mint rewards.
interface IRunFactory {
    /// @notice Run `runId` was created at `run` (a clone) with `params`; round 1 is open.
    event RunCreated(
        uint256 indexed runId,
        address indexed run,
        bytes32 indexed modelId,
        bytes32 initialModelHash,
        string initialModelCid,
        ITrainingRun.RunParams params
    );

    /// @notice Governance changed the guardian given to runs created from now on (address(0) =
    ///         none); existing runs keep theirs (TrainingRun.setGuardian changes those).
    event DefaultGuardianSet(address oldGuardian, address newGuardian);

    /// @notice Only governance (the timelock) may create runs or set the default guardian.
    error RunFactoryNotGovernance(address caller);
    /// @notice A constructor address is address(0); `index` is its position (0 = implementation).
    error RunFactoryZeroAddress(uint256 index);

    /// @notice Only governance (the timelock).
    /// @return runId sequential id starting at 1
    /// @return run the new run's address
    function createRun(
        ITrainingRun.RunParams calldata params,
        bytes32 initialModelHash,
        string calldata initialModelCid
    ) external returns (uint256 runId, address run);

    /// @notice Only governance (the timelock). Sets the guardian runs created from now on get
    ///         (address(0) = nobody but governance may pause them).
    function setDefaultGuardian(address newGuardian) external;

    /// @notice Number of runs created; ids run from 1 to runCount().
    function runCount() external view returns (uint256);

    /// @notice The run with id `runId` (address(0) if none).
    function runOf(uint256 runId) external view returns (address);
}
