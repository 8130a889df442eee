// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IStakeManager} from "../staking/IStakeManager.sol";

/// @title ITrainingRun
/// @notice One protolearn training run (protocol v2, docs/run-contract.md): parameters, the
///         round state machine (commit -> reveal -> vote commit -> vote reveal -> settle in
///         batches -> next round), stake-weighted trainer seats and validator committees drawn
///         from randomness fixed after the commits close, contribution records, rewards.
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
        uint32 scoreDuration; // seconds from reveal deadline to vote-commit deadline
        uint32 voteRevealDuration; // seconds from vote-commit deadline to vote-reveal deadline
        uint16 maxNodesPerRound; // hard cap on commits per round (safety bound, <= 1024)
        uint16 trainerSeats; // N: expected trainer seats per round (stake-weighted lottery)
        uint16 committeeSize; // C: validator seats drawn per round (stake-weighted, <= 16)
        uint16 scorersPerUpdate; // k: committee seats that score each update (<= C)
        uint16 minUpdates; // fewer accepted updates -> round closes without change
        uint32 acceptScorePpm; // median score of its scorers needed to be accepted
        uint128 minTrainerStake; // smallest trainer lock that can take a seat
        uint128 minValidatorStake; // smallest validator lock that can take a committee seat
        uint16 invalidSlashBps; // of the trainer's lock
        uint16 noRevealSlashBps; // of the lock of a trainer or validator that committed and did not reveal
        uint16 validatorSlashBps; // of the validator's lock, for a model hash outside the 2/3 majority
        uint16 validatorShareBps; // of the emission, to validators in consensus
        uint128 emissionPerRound; // tokens minted per accepted round
    }

    enum Role {
        None,
        Trainer,
        Validator
    }

    /// @notice The phase of the current round; `phase()` is the one definition.
    enum Phase {
        Commit, // now <= commitDeadline: eligible trainers commit
        Reveal, // commitDeadline < now <= revealDeadline: trainers reveal; the challenge is armed
        Score, // revealDeadline < now <= scoreDeadline: committee members commit their votes
        VoteReveal, // scoreDeadline < now <= voteRevealDeadline: committee members reveal
        Finalizable, // after voteRevealDeadline: anyone settles the round in batches
        Paused, // the round was settled while paused; the next one opens at unpause
        Halted // the last round was settled after a halt; no round opens again
    }

    /// @notice Why a round closed without changing the model and without trainer emission.
    enum RoundFailure {
        None,
        NoValidatorVotes, // no committee member revealed a vote
        NoModelMajority, // no model hash was backed by >= 2/3 of the revealed seats
        TooFewAcceptedUpdates, // fewer than minUpdates updates reached acceptScorePpm
        PausedDuringRound // never emitted since G3; kept so values stay stable
    }

    /// @notice The round in progress (or, while paused after settlement, the last one).
    struct RoundInfo {
        uint256 round;
        uint64 commitDeadline; // commit allowed while now <= commitDeadline
        uint64 revealDeadline; // reveal allowed while commitDeadline < now <= revealDeadline
        uint64 scoreDeadline; // commitVote allowed while revealDeadline < now <= scoreDeadline
        uint64 voteRevealDeadline; // revealVote allowed while scoreDeadline < now <= voteRevealDeadline
        uint16 commits;
        uint16 reveals;
        uint16 votes; // committee members that committed a vote
        uint16 voteReveals; // committee members that revealed their vote
        bool finalized; // settled while paused or halted; the next round opens at unpause
        uint64 challengeBlock; // 0 until armed; the randomness is blockhash(challengeBlock)
        bool randomnessReady; // whether `randomness` is fixed (readable or stored)
        bytes32 randomness; // rand_r: committee, assignments, validation batches (0 until ready)
        bytes32 seed; // seed_r = keccak(rand_{r-1}, runId, r): data shards; fixed before round r opened
        bytes32 seatRandomness; // rand_{r-1}: the trainer seat lottery of this round
        uint256 seatTotal; // total trainer lock eligible for this round's lottery
        uint16 settled; // items (reveals, then committers) settled so far
        bytes32 modelHash; // the last agreed model hash (M_{r-1} while round r runs; see ModelAgreed)
    }

    /// @notice A participant's record in this run.
    struct MemberInfo {
        Role role; // None after leave() or eviction
        uint256 lock; // stake this run locks for it (its seat and vote weight)
        uint256 eligibleFrom; // first round its current lock counts in a draw
        uint256 activeRound; // last round it committed in (trainer) or committed a vote (validator)
        uint256 revealedRound; // last round it revealed in (update or vote)
        uint256 rewards; // accrued and not yet claimed, including settled rounds' trainer points
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
    /// @notice Round `round` opened; `modelHash` is the last model hash a committee agreed on
    ///         (hash(M_{round-1}) when round round-1 agreed): the model the round trains from,
    ///         M_round, follows from public data (ModelAgreed). `seed` picks the data
    ///         shards; it derives from rand_{r-1}, so the caller that opened the round could not choose it.
    event RoundOpened(
        uint256 indexed runId,
        uint256 indexed round,
        bytes32 seed,
        bytes32 modelHash,
        uint64 commitDeadline,
        uint64 revealDeadline,
        uint64 scoreDeadline,
        uint64 voteRevealDeadline
    );
    /// @notice `node` joined as `role`, locking `locked`; it counts in draws from round `eligibleFrom`.
    event Joined(
        uint256 indexed runId,
        address indexed node,
        Role role,
        uint256 locked,
        uint256 eligibleFrom
    );
    /// @notice `node` raised its lock by `added` to `locked`; it counts in draws from `eligibleFrom`.
    event LockRaised(
        uint256 indexed runId,
        address indexed node,
        Role role,
        uint256 added,
        uint256 locked,
        uint256 eligibleFrom
    );
    /// @notice `node` left; `unlocked` of its stake was released by this run.
    event Left(uint256 indexed runId, address indexed node, Role role, uint256 unlocked);
    /// @notice `node` was removed by `by`: its lock was below the role's minimum (stale), or it
    ///         was the smallest validator lock when a larger one joined a full validator set.
    event Evicted(
        uint256 indexed runId,
        address indexed node,
        Role role,
        uint256 unlocked,
        address by
    );
    /// @notice The first transaction after the commit deadline fixed which block's hash is the
    ///         round's randomness (re-armed if that hash expired unread).
    event ChallengeArmed(uint256 indexed runId, uint256 indexed round, uint64 challengeBlock);
    /// @notice The round's randomness was read from blockhash(challengeBlock) and stored.
    event ChallengeFixed(uint256 indexed runId, uint256 indexed round, bytes32 randomness);
    /// @notice The committee of `round`: `seats[j]` holds seat j (drawn by stake, with replacement).
    event CommitteeDrawn(uint256 indexed runId, uint256 indexed round, address[] seats);
    /// @notice `node` committed to an update for `round`.
    event Committed(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed node,
        bytes32 commitment
    );
    /// @notice `node` revealed its update: the `index`-th revealed update of the round.
    event Revealed(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed node,
        uint256 index,
        string cid,
        bytes32 contentHash,
        uint64 samples
    );
    /// @notice Committee member `validator` (holding `weight` seats) committed to its vote.
    event VoteCommitted(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed validator,
        uint256 weight,
        bytes32 commitment
    );
    /// @notice `validator` revealed its vote: per held seat (ascending), `seatLengths[i]` scores
    ///         of `scores`, one per update assigned to that seat in reveal order.
    event VoteRevealed(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed validator,
        uint256 weight,
        bytes32 modelHash,
        uint64 evalLoss,
        uint16[] seatLengths,
        uint32[] scores
    );
    /// @notice Outcome of revealed update `index` at settlement: the median of its scorers'
    ///         scores (`scorers` revealed seats of k), whether it was accepted, and its reward
    ///         points (median x capped samples; paid as points x trainerPool / totalPoints).
    event UpdateScored(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed node,
        uint256 index,
        uint32 medianScore,
        uint16 scorers,
        bool accepted,
        uint256 rewardPoints
    );
    /// @notice `processed` of `total` settlement items of `round` are done.
    event SettlementProgress(uint256 indexed runId, uint256 indexed round, uint256 processed, uint256 total);
    /// @notice Outcome of one committee member at settlement: whether its model hash is the
    ///         2/3 majority's (or, without one, the largest group's) and the reward it earned.
    event ValidatorSettled(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed validator,
        bool agreed,
        uint256 reward
    );
    /// @notice The trainer pool of `round`: each accepted update earns points x pool / totalPoints.
    event TrainerPoolSet(uint256 indexed runId, uint256 indexed round, uint256 pool, uint256 totalPoints);
    /// @notice `node`'s points of `round` became `amount` of claimable rewards.
    event TrainerRewarded(uint256 indexed runId, uint256 indexed round, address indexed node, uint256 amount);
    /// @notice `node` was slashed `amount` (slash record `slashId` in the StakeManager).
    event NodeSlashed(
        uint256 indexed runId,
        uint256 indexed round,
        address indexed node,
        IStakeManager.SlashReason reason,
        uint256 amount,
        uint256 slashId
    );
    /// @notice Round `round` succeeded: its committee agreed (2/3 of the revealed seats) that
    ///         `modelHash` = hash(M_round), the model the round's trainers started from, with
    ///         held-out loss `evalLoss`; at least minUpdates updates were accepted, so
    ///         M_{round+1} = the outer step of M_round with them (a failed round leaves
    ///         M_{round+1} = M_round). Attesting M_round rather than M_{round+1} lets each
    ///         member score only its assigned updates (P8): the accepted set of round-1 is on
    ///         chain before the votes. `emission` was minted to the run.
    event ModelAgreed(
        uint256 indexed runId,
        uint256 indexed round,
        bytes32 modelHash,
        uint64 evalLoss,
        uint256 acceptedUpdates,
        uint256 emission
    );
    /// @notice Round `round` closed without model change and without trainer emission.
    event RoundFailed(uint256 indexed runId, uint256 indexed round, RoundFailure reason);
    /// @notice The reward mint of `amount` reverted (cap reached, MINTER_ROLE revoked): the
    ///         round's model stands, but nothing is paid.
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
    ///         checks the fetched parameters against ModelAgreed(round).modelHash.
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
    /// @notice Round `round` is already settled (the run is paused or halted, so no next round
    ///         opened).
    error TrainingRunRoundFinalized(uint256 round);
    /// @notice The call needs phase `needed`; round `round` is in phase `current`.
    error TrainingRunWrongPhase(uint256 round, Phase current, Phase needed);
    /// @notice The round's randomness is not fixed yet: it is readable from block `readyAt`
    ///         (send again then), or the challenge is not armed yet (readyAt 0: wait for the
    ///         commit deadline, then call armChallenge).
    error TrainingRunRandomnessNotReady(uint256 round, uint256 readyAt);
    /// @notice Validator locks cannot change between a round's commit deadline and its
    ///         settlement (the committee is drawn from them); try again when round `round` is
    ///         settled.
    error TrainingRunValidatorSetFrozen(uint256 round);

    // ---- errors: participation ----
    /// @notice join() needs Role.Trainer or Role.Validator.
    error TrainingRunInvalidRole(Role role);
    /// @notice `node` is already a member as `role`; leave() first to change role.
    error TrainingRunAlreadyJoined(address node, Role role);
    /// @notice `node` is not a member of this run; join() first.
    error TrainingRunNotMember(address node);
    /// @notice The call needs role `needed`; `node` has `role`.
    error TrainingRunWrongRole(address node, Role role, Role needed);
    /// @notice `node` committed or voted in `round`, which is not settled yet.
    error TrainingRunLeaveWhileActive(address node, uint256 round);
    /// @notice A lock of `amount` is below the role's minimum `min`: raise it (raiseLock).
    error TrainingRunLockBelowMinimum(address node, uint256 amount, uint256 min);
    /// @notice The validator set holds its maximum of `max` validators and the smallest lock,
    ///         `smallest`, is not below the `amount` offered: lock more than it to take its place.
    error TrainingRunValidatorSetFull(uint256 max, uint256 smallest, uint256 amount);
    /// @notice evictStale: `node`'s lock `amount` is not below the minimum `min`.
    error TrainingRunLockNotStale(address node, uint256 amount, uint256 min);
    /// @notice The amount is zero or does not fit the run's 96-bit stake fields.
    error TrainingRunLockAmountInvalid(uint256 amount);
    /// @notice syncLock: the StakeManager's lock of `node` (`actual`) is not above the run's record.
    error TrainingRunLockInSync(address node, uint256 recorded, uint256 actual);

    // ---- errors: commit / reveal ----
    /// @notice `node` already committed in `round` (one commit per node per round).
    error TrainingRunAlreadyCommitted(uint256 round, address node);
    /// @notice `round` already holds `maxNodes` commits.
    error TrainingRunRoundFull(uint256 round, uint256 maxNodes);
    /// @notice `node`'s lock counts in draws only from round `eligibleFrom` (it joined or
    ///         raised after the randomness of an earlier draw was fixed).
    error TrainingRunNotYetEligible(address node, uint256 round, uint256 eligibleFrom);
    /// @notice `node` drew `draw` (ppm) in `round`'s seat lottery; a seat needs below `threshold`.
    error TrainingRunNoSeat(address node, uint256 round, uint256 draw, uint256 threshold);
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
    /// @notice The CID is `length` bytes; it must be 1 .. `max`.
    error TrainingRunCidLength(uint256 length, uint256 max);

    // ---- errors: votes ----
    /// @notice `validator` holds no seat of `round`'s committee.
    error TrainingRunNotOnCommittee(uint256 round, address validator);
    /// @notice `validator` already committed a vote in `round`.
    error TrainingRunAlreadyVoted(uint256 round, address validator);
    /// @notice `validator` committed no vote in `round`, so it has nothing to reveal.
    error TrainingRunNoVoteCommitted(uint256 round, address validator);
    /// @notice `validator` already revealed its vote in `round`.
    error TrainingRunVoteAlreadyRevealed(uint256 round, address validator);
    /// @notice The vote has `given` seat lengths; the validator holds `expected` seats; or the
    ///         lengths sum to `given` while `expected` scores were sent.
    error TrainingRunVoteShapeMismatch(uint256 given, uint256 expected);
    /// @notice Score `index` is `score`; scores are ppm, at most `max`.
    error TrainingRunScoreOutOfRange(uint256 index, uint256 score, uint256 max);

    // ---- errors: misc ----
    /// @notice Checkpoints are announced for rounds that are multiples of `checkpointEvery`, up to
    ///         the current round.
    error TrainingRunNotCheckpointRound(uint256 round, uint256 checkpointEvery, uint256 currentRound);
    /// @notice A view was asked for entry `index` of a list that holds `count` this round.
    error TrainingRunIndexOutOfRange(uint256 index, uint256 count);
    /// @notice finalizeRound needs maxItems >= 1.
    error TrainingRunZeroBatch();

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
    error TrainingRunVoteRevealDurationOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunMaxNodesOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunTrainerSeatsOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunCommitteeSizeOutOfRange(uint256 value, uint256 min, uint256 max);
    error TrainingRunScorersPerUpdateOutOfRange(uint256 value, uint256 min, uint256 max);
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
    /// @notice Joins the run in `role`, locking `amount` (at least the role's minimum) of the
    ///         caller's free stake. A validator joining a full set evicts the smallest lock if
    ///         `amount` is larger. Validators cannot join between a commit deadline and settlement.
    function join(Role role, uint256 amount) external;

    /// @notice Locks `added` more. The whole lock counts in draws from the returned round on.
    function raiseLock(uint256 added) external returns (uint256 eligibleFrom);

    /// @notice After governance reversed a slash, the StakeManager restored the caller's lock
    ///         (G5) but the run's record still holds the slashed amount: takes the StakeManager's
    ///         amount, like a raise (the restored part counts from the returned round on).
    function syncLock() external returns (uint256 eligibleFrom);

    /// @notice Leaves the run and unlocks the stake (not while committed or voting in an
    ///         unsettled round; a validator not between a commit deadline and settlement).
    function leave() external;

    /// @notice Anyone: removes `node`, whose lock is below its role's current minimum, and
    ///         releases its lock (same timing rules as leave).
    function evictStale(address node) external;

    // ---- the round ----
    /// @notice commitment = keccak256(abi.encode(runId, round, msg.sender, cid, contentHash, samples, salt)).
    ///         Needs a seat: an eligible lock >= minTrainerStake and a winning lottery draw (seatDraw).
    function commit(uint256 round, bytes32 commitment) external;

    /// @notice Opens the update committed to. The first call after the commit deadline arms the challenge.
    function reveal(
        uint256 round,
        string calldata cid,
        bytes32 contentHash,
        uint64 samples,
        bytes32 salt
    ) external;

    /// @notice Anyone, after the commit deadline: arms the challenge (or re-arms an expired
    ///         one) and stores the randomness once readable. Every later entry point does the same.
    function armChallenge(uint256 round) external;

    /// @notice A committee member commits to its vote in the score phase:
    ///         commitment = keccak256(abi.encode(runId, round, msg.sender, seatLengths, scores,
    ///         modelHash, evalLoss, salt)).
    function commitVote(uint256 round, bytes32 commitment) external;

    /// @notice Opens the vote: for each seat the caller holds (ascending), the scores of the
    ///         updates assigned to that seat (reveal order), then hash(M_round) — the model this
    ///         round's trainers started from, which it computed from public data — and that
    ///         model's held-out loss (1e9-scaled).
    function revealVote(
        uint256 round,
        uint16[] calldata seatLengths,
        uint32[] calldata scores,
        bytes32 modelHash,
        uint64 evalLoss,
        bytes32 salt
    ) external;

    /// @notice Anyone, after the vote-reveal deadline: settles up to `maxItems` updates (then
    ///         unrevealed committers); the call that settles the last item decides the model,
    ///         pays validators and opens the next round. Returns whether the round is settled.
    function finalizeRound(uint256 round, uint256 maxItems) external returns (bool done);

    /// @notice A validator announces the IPFS CID of a checkpoint of M_round (event only).
    function announceCheckpoint(uint256 round, string calldata cid) external;

    /// @notice Pays the caller's accrued rewards; returns the amount (0 on a second call).
    function claim() external returns (uint256);

    // ---- governance (the timelock) / guardian ----
    /// @notice Only governance. Validated against bounds; effective when the next round opens.
    function setParams(RunParams calldata params) external;

    /// @notice Governance or the guardian. Pauses future rounds only.
    function pause() external;

    /// @notice Only governance. Opens the next round at once if the last one settled while paused.
    function unpause() external;

    /// @notice Only governance. Permanent; the open round still settles in full.
    function halt() external;

    /// @notice Only governance. Sets the address that may pause (address(0) = none).
    function setGuardian(address guardian) external;

    // ---- views ----
    function runId() external view returns (uint256);

    /// @notice The round in progress: number, deadlines, counts, randomness, seed, M_r.
    function currentRound() external view returns (RoundInfo memory);

    /// @notice The phase the current round is in at this block (the one definition of phases).
    function phase() external view returns (Phase);

    function params() external view returns (RunParams memory);

    function pendingParams() external view returns (bool pending, RunParams memory next);

    function memberOf(address node) external view returns (MemberInfo memory);

    /// @notice `node`'s trainer-seat lottery in the current round: whether it may commit, its
    ///         draw and the threshold (ppm; a seat needs draw < threshold).
    function seatDraw(address node) external view returns (bool seat, uint256 draw, uint256 threshold);

    /// @notice The current committee (seat j's holder; zeros until the randomness is fixed).
    function committee() external view returns (address[] memory seats);

    /// @notice The committee that `randomness` would draw from the current validator set.
    function committeeFor(bytes32 randomness) external view returns (address[] memory seats);

    /// @notice The committee seats (k of them, from seat base) that score revealed update `index`.
    function scorersOf(uint256 index) external view returns (uint256[] memory seats);

    /// @notice The revealed-update indices assigned to committee seat `seat`, in reveal order.
    function assignedTo(uint256 seat) external view returns (uint256[] memory indices);

    /// @notice The validator set (at most 64) and their locks.
    function validatorSet() external view returns (address[] memory validators, uint256[] memory locks);

    function revealedUpdate(
        uint256 index
    ) external view returns (address node, bytes32 contentHash, uint64 samples);

    function committer(uint256 index) external view returns (address);

    /// @notice The `index`-th vote of the current round.
    function vote(
        uint256 index
    )
        external
        view
        returns (
            address validator,
            uint256 weight,
            bytes32 commitment,
            bool revealed,
            bytes32 modelHash,
            uint64 evalLoss
        );

    function model() external view returns (bytes32 modelHash, uint64 evalLoss);

    function initialModelCid() external view returns (string memory);

    function stakeManager() external view returns (IStakeManager);

    function token() external view returns (address);

    function governance() external view returns (address);

    function guardian() external view returns (address);

    function paused() external view returns (bool);

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
