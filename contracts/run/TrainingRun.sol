// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IStakeManager} from "../staking/IStakeManager.sol";
import {IRewardToken} from "./IRewardToken.sol";
import {ITrainingRun} from "./ITrainingRun.sol";
import {Member, RevealEntry, RoundLib, RoundState} from "./RoundLib.sol";
import {RunParamsLib} from "./RunParamsLib.sol";
import {Settlement} from "./Settlement.sol";
import {WeightedMedian} from "./WeightedMedian.sol";

/// @title TrainingRun
/// @notice One protolearn training run: the round state machine of docs/run-contract.md
///         (open -> commit -> reveal -> score -> permissionless finalize -> next round), stake
///         locks through the StakeManager, stake-weighted median scoring, model-hash consensus,
///         slashing, and pull-based rewards minted per successful round.
/// @dev Used through EIP-1167 clones made by RunFactory, whose appended immutable args are
///      abi.encodePacked(runId, stakeManager, token, governance): reading them costs ~200 gas
///      instead of a 2,100-gas cold SLOAD on every commit and reveal. The implementation itself
///      can never be initialized.
///      Storage is laid out for the gas targets: the round state is one packed slot, a member
///      record is one packed slot, per-node and per-index slots are reused across rounds (so
///      writes are nonzero -> nonzero), and the CID lives only in the Revealed event.
contract TrainingRun is ITrainingRun, Initializable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev Longest CID accepted (CIDv1 base32 sha2-256 is 59 characters).
    uint256 private constant MAX_CID_LENGTH = 128;
    /// @dev EIP-1167 runtime code length: the immutable args start right after it.
    uint256 private constant CLONE_ARGS_OFFSET = 0x2d;

    /// @dev One validator vote of the round, stored at its submission index (slots reused).
    struct Vote {
        address validator;
        uint64 evalLoss;
        uint128 weight;
        bytes32 modelHash;
    }

    /// @dev Everything finalize computes before it writes, kept in memory.
    struct Tally {
        uint256 runId;
        uint256 round;
        uint256 voters;
        uint256 updateCount;
        uint256 votingWeight; // stake of all validators that voted
        bool majority;
        bytes32 modelHash;
        uint256 majorityWeight;
        uint64 evalLoss;
        uint256 acceptedCount;
        uint256 invalidCount;
        uint256 rewardWeightSum; // sum of median x samples over accepted updates
        RoundFailure failure;
        uint256 minted;
        address[] validators;
        uint256[] weights;
        bytes32[] hashes;
        uint256[] losses;
        uint256[] validatorRewards;
        /// @dev per revealed update: node | median << 160 | OUTCOME_ACCEPTED | OUTCOME_INVALID
        uint256[] outcomes;
        /// @dev per revealed update: median x capped samples if accepted, else 0
        uint256[] rewardWeights;
        /// @dev per revealed update: its reward (all zero unless the round pays)
        uint256[] trainerRewards;
    }

    uint256 private constant OUTCOME_MEDIAN_SHIFT = 160;
    uint256 private constant OUTCOME_ACCEPTED = 1 << 192;
    uint256 private constant OUTCOME_INVALID = 1 << 193;

    RoundState private _state;
    mapping(address node => Member) private _members;
    /// @dev The node's commitment; replaced by its update's content hash at reveal.
    mapping(address node => bytes32) private _commitments;
    mapping(uint256 index => address) private _committers;
    mapping(uint256 index => RevealEntry) private _reveals;
    mapping(uint256 index => Vote) private _votes;
    /// @dev Key (voteIndex << 5) | wordIndex: eight 32-bit scores per word (wordIndex < 8).
    mapping(uint256 key => uint256) private _scoreWords;
    bytes32 private _seed;
    bytes32 private _modelHash;
    uint64 private _evalLoss;
    address private _guardian;
    bool private _hasPending;
    /// @dev Index in _paramSets of the active parameters; the other entry holds pending ones,
    ///      so applying them at round open flips an index instead of copying 26 fields.
    uint8 private _activeSet;
    RunParams[2] private _paramSets;
    string private _initialModelCid;

    /// @dev The implementation is only ever used through clones.
    constructor() {
        _disableInitializers();
    }

    /// @notice Called once by the factory in the clone's creation transaction; opens round 1.
    /// @param params_ the run's parameters (validated against RunParamsLib's bounds)
    /// @param initialModelHash keccak256 of the initial model M_1 (nonzero)
    /// @param modelCid where M_1 lives on IPFS
    /// @param guardian_ may pause the run (address(0) = nobody but governance)
    function initialize(
        RunParams calldata params_,
        bytes32 initialModelHash,
        string calldata modelCid,
        address guardian_
    ) external initializer {
        RunParamsLib.validate(params_);
        if (initialModelHash == bytes32(0)) revert TrainingRunZeroModelHash();
        _checkCid(modelCid);
        _paramSets[0] = params_;
        _modelHash = initialModelHash;
        _initialModelCid = modelCid;
        _guardian = guardian_;
        emit RunInitialized(runId(), params_.modelId, initialModelHash, modelCid, guardian_);
        _openRound(1);
    }

    // ------------------------------------------------------------------ participation

    /// @inheritdoc ITrainingRun
    /// @dev Locks minTrainerStake or minValidatorStake of the round in progress. Allowed while
    ///      paused, not after a halt.
    function join(Role role) external nonReentrant {
        RoundState s = _state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        if (role == Role.None) revert TrainingRunInvalidRole(role);
        Member m = _members[msg.sender];
        if (m.role() != Role.None) revert TrainingRunAlreadyJoined(msg.sender, m.role());
        RunParams storage p = _params();
        uint256 amount = role == Role.Trainer ? p.minTrainerStake : p.minValidatorStake;
        _members[msg.sender] = m.withRole(role);
        emit Joined(runId(), msg.sender, role, amount);
        stakeManager().lock(msg.sender, amount);
    }

    /// @inheritdoc ITrainingRun
    /// @dev Releases everything this run locks of the caller. Accrued rewards stay claimable.
    ///      Not while the caller committed or scored in the unfinalized round, halted or not:
    ///      that round still settles with its slashes (G3), so its stake must stay locked.
    function leave() external nonReentrant {
        Member m = _members[msg.sender];
        Role role = m.role();
        if (role == Role.None) revert TrainingRunNotMember(msg.sender);
        RoundState s = _state;
        if (m.activeRound() == s.number() && !s.hasFlag(RoundLib.FLAG_FINALIZED))
            revert TrainingRunLeaveWhileActive(msg.sender, s.number());
        _members[msg.sender] = m.withRole(Role.None);
        IStakeManager sm = stakeManager();
        uint256 locked = sm.lockedBy(address(this), msg.sender);
        emit Left(runId(), msg.sender, role, locked);
        sm.unlock(msg.sender, locked);
    }

    // ------------------------------------------------------------------ the round

    /// @inheritdoc ITrainingRun
    function commit(uint256 round, bytes32 commitment) external {
        RoundState s = _state;
        _checkLive(s, round);
        if (block.timestamp > s.commitDeadline()) {
            revert TrainingRunPhaseClosed(round, Phase.Commit, s.commitDeadline(), block.timestamp);
        }
        Member m = _members[msg.sender];
        if (m.role() != Role.Trainer)
            revert TrainingRunWrongRole(msg.sender, m.role(), Role.Trainer);
        if (m.activeRound() == round) revert TrainingRunAlreadyCommitted(round, msg.sender);
        uint256 index = s.commits();
        if (index >= s.maxNodes()) revert TrainingRunRoundFull(round, s.maxNodes());

        _members[msg.sender] = m.withActiveRound(round);
        _commitments[msg.sender] = commitment;
        _committers[index] = msg.sender;
        _state = s.incrementCommits();
        emit Committed(runId(), round, msg.sender, commitment);
    }

    /// @inheritdoc ITrainingRun
    /// @dev Only after the commit deadline, so no update is visible before every commit is in.
    function reveal(
        uint256 round,
        string calldata cid,
        bytes32 contentHash,
        uint64 samples,
        bytes32 salt
    ) external {
        RoundState s = _state;
        _checkLive(s, round);
        if (block.timestamp <= s.commitDeadline()) {
            revert TrainingRunPhaseNotOpen(
                round,
                Phase.Reveal,
                s.commitDeadline(),
                block.timestamp
            );
        }
        if (block.timestamp > s.revealDeadline()) {
            revert TrainingRunPhaseClosed(round, Phase.Reveal, s.revealDeadline(), block.timestamp);
        }
        Member m = _members[msg.sender];
        if (m.activeRound() != round || m.role() != Role.Trainer)
            revert TrainingRunNotCommitted(round, msg.sender);
        if (m.revealedRound() == round) revert TrainingRunAlreadyRevealed(round, msg.sender);
        _checkCid(cid);
        uint256 id = runId();
        bytes32 computed = RoundLib.commitment(
            id,
            round,
            msg.sender,
            cid,
            contentHash,
            samples,
            salt
        );
        bytes32 committed = _commitments[msg.sender];
        if (computed != committed)
            revert TrainingRunRevealMismatch(round, msg.sender, computed, committed);

        uint256 index = s.reveals();
        _members[msg.sender] = m.withRevealedRound(round);
        _commitments[msg.sender] = contentHash;
        _reveals[index] = RoundLib.newRevealEntry(msg.sender, samples);
        _state = s.incrementReveals();
        emit Revealed(id, round, msg.sender, index, cid, contentHash, samples);
    }

    /// @inheritdoc ITrainingRun
    /// @dev The vote weighs the validator's stake locked by this run at submission.
    function submitScores(
        uint256 round,
        uint32[] calldata scores,
        bytes32 modelHash,
        uint64 evalLoss
    ) external {
        RoundState s = _state;
        _checkLive(s, round);
        if (block.timestamp <= s.revealDeadline()) {
            revert TrainingRunPhaseNotOpen(round, Phase.Score, s.revealDeadline(), block.timestamp);
        }
        if (block.timestamp > s.scoreDeadline()) {
            revert TrainingRunPhaseClosed(round, Phase.Score, s.scoreDeadline(), block.timestamp);
        }
        Member m = _members[msg.sender];
        if (m.role() != Role.Validator)
            revert TrainingRunWrongRole(msg.sender, m.role(), Role.Validator);
        if (m.activeRound() == round) revert TrainingRunAlreadyScored(round, msg.sender);
        if (scores.length != s.reveals())
            revert TrainingRunScoreCountMismatch(round, scores.length, s.reveals());
        uint256 index = s.votes();
        if (index >= s.maxValidators())
            revert TrainingRunTooManyValidators(round, s.maxValidators());
        uint256 weight = stakeManager().lockedBy(address(this), msg.sender);
        if (weight == 0) revert TrainingRunNoValidatorStake(msg.sender);

        _members[msg.sender] = m.withActiveRound(round);
        _storeScores(index, scores);
        _votes[index] = Vote({
            validator: msg.sender,
            evalLoss: evalLoss,
            weight: SafeCast.toUint128(weight),
            modelHash: modelHash
        });
        _state = s.incrementVotes();
        emit ScoresSubmitted(runId(), round, msg.sender, weight, modelHash, evalLoss, scores);
    }

    /// @inheritdoc ITrainingRun
    /// @dev Pause and halt never change how a round settles (G3): the open round is settled in
    ///      full, slashes included, whenever they were called. They only decide whether the next
    ///      round opens: not while paused (it opens at unpause), never after a halt.
    function finalizeRound(uint256 round) external nonReentrant {
        RoundState s = _state;
        if (round != s.number()) revert TrainingRunWrongRound(round, s.number());
        if (s.hasFlag(RoundLib.FLAG_FINALIZED)) revert TrainingRunRoundFinalized(round);
        if (block.timestamp <= s.scoreDeadline()) {
            revert TrainingRunPhaseNotOpen(
                round,
                Phase.Finalizable,
                s.scoreDeadline(),
                block.timestamp
            );
        }
        // mark the round closed before any external call (mint, slash)
        _state = s.withFlag(RoundLib.FLAG_FINALIZED);
        _settle(s);
        // decided on the flags read before any external call (checks-effects-interactions)
        if (!s.hasFlag(RoundLib.FLAG_PAUSED) && !s.hasFlag(RoundLib.FLAG_HALTED)) {
            _openRound(round + 1);
        }
    }

    /// @inheritdoc ITrainingRun
    function claim() external nonReentrant returns (uint256 amount) {
        Member m = _members[msg.sender];
        amount = m.rewards();
        if (amount == 0) return 0;
        _members[msg.sender] = m.withRewards(0);
        emit RewardsClaimed(runId(), msg.sender, amount);
        IERC20(token()).safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ governance / guardian

    /// @inheritdoc ITrainingRun
    function setParams(RunParams calldata newParams) external {
        _checkGovernance();
        RoundState s = _state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        RunParamsLib.validate(newParams);
        _setParams(s.number() + 1, newParams);
    }

    /// @inheritdoc ITrainingRun
    /// @dev Only future rounds: the open round keeps its phases and settles in full at finalize
    ///      (slashes, rewards, model); the next round opens only at unpause. So neither the
    ///      guardian nor governance can cancel a slash whose scores are public (G3).
    function pause() external {
        if (msg.sender != _guardian && msg.sender != governance()) {
            revert TrainingRunNotGuardianOrGovernance(msg.sender);
        }
        RoundState s = _state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        if (s.hasFlag(RoundLib.FLAG_PAUSED)) revert TrainingRunPaused(s.number());
        _state = s.withFlag(RoundLib.FLAG_PAUSED);
        emit Paused(runId(), s.number(), msg.sender);
    }

    /// @inheritdoc ITrainingRun
    /// @dev Opens the next round at once if the last one was finalized while paused.
    function unpause() external {
        _checkGovernance();
        RoundState s = _state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        if (!s.hasFlag(RoundLib.FLAG_PAUSED)) revert TrainingRunNotPaused(s.number());
        s = s.withoutFlag(RoundLib.FLAG_PAUSED);
        _state = s;
        emit Unpaused(runId(), s.number(), msg.sender);
        if (s.hasFlag(RoundLib.FLAG_FINALIZED)) _openRound(s.number() + 1);
    }

    /// @inheritdoc ITrainingRun
    /// @dev Like pause, a halt takes effect when the open round closes: that round still runs
    ///      its phases and settles in full at finalize (anyone, after its score deadline), so
    ///      governance cannot cancel its slashes; its members can leave once it is finalized.
    function halt() external {
        _checkGovernance();
        RoundState s = _state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        _state = s.withFlag(RoundLib.FLAG_HALTED);
        emit Halted(runId(), s.number(), msg.sender);
    }

    /// @inheritdoc ITrainingRun
    function announceCheckpoint(uint256 round, string calldata cid) external {
        Member m = _members[msg.sender];
        if (m.role() != Role.Validator)
            revert TrainingRunWrongRole(msg.sender, m.role(), Role.Validator);
        uint256 every = _params().checkpointEvery;
        uint256 current = _state.number();
        if (round == 0 || round > current || round % every != 0)
            revert TrainingRunNotCheckpointRound(round, every, current);
        _checkCid(cid);
        emit CheckpointAnnounced(runId(), round, msg.sender, cid);
    }

    /// @inheritdoc ITrainingRun
    function setGuardian(address newGuardian) external {
        _checkGovernance();
        _setGuardian(newGuardian);
    }

    // ------------------------------------------------------------------ views

    /// @inheritdoc ITrainingRun
    function runId() public view returns (uint256) {
        return _cloneArg(0);
    }

    /// @inheritdoc ITrainingRun
    function stakeManager() public view returns (IStakeManager) {
        return IStakeManager(address(uint160(_cloneArg(32) >> 96)));
    }

    /// @inheritdoc ITrainingRun
    function token() public view returns (address) {
        return address(uint160(_cloneArg(52) >> 96));
    }

    /// @inheritdoc ITrainingRun
    function governance() public view returns (address) {
        return address(uint160(_cloneArg(72) >> 96));
    }

    /// @inheritdoc ITrainingRun
    function guardian() external view returns (address) {
        return _guardian;
    }

    /// @inheritdoc ITrainingRun
    function currentRound() external view returns (RoundInfo memory info) {
        RoundState s = _state;
        info.round = s.number();
        info.commitDeadline = uint64(s.commitDeadline());
        info.revealDeadline = uint64(s.revealDeadline());
        info.scoreDeadline = uint64(s.scoreDeadline());
        info.commits = uint16(s.commits());
        info.reveals = uint16(s.reveals());
        info.votes = uint16(s.votes());
        info.finalized = s.hasFlag(RoundLib.FLAG_FINALIZED);
        // info.voided stays false: a pause no longer voids a round (G3)
        info.seed = _seed;
        info.modelHash = _modelHash;
    }

    /// @inheritdoc ITrainingRun
    /// @dev A pause or halt shows only once the open round is finalized: until then the round
    ///      runs its phases (node/src/run/round-phase.ts mirrors this).
    function phase() external view returns (Phase) {
        RoundState s = _state;
        if (s.hasFlag(RoundLib.FLAG_FINALIZED)) {
            return s.hasFlag(RoundLib.FLAG_HALTED) ? Phase.Halted : Phase.Paused;
        }
        if (block.timestamp <= s.commitDeadline()) return Phase.Commit;
        if (block.timestamp <= s.revealDeadline()) return Phase.Reveal;
        if (block.timestamp <= s.scoreDeadline()) return Phase.Score;
        return Phase.Finalizable;
    }

    /// @inheritdoc ITrainingRun
    function params() external view returns (RunParams memory) {
        return _params();
    }

    /// @inheritdoc ITrainingRun
    function pendingParams() external view returns (bool pending, RunParams memory next) {
        return (_hasPending, _paramSets[1 - _activeSet]);
    }

    /// @inheritdoc ITrainingRun
    function memberOf(address node) external view returns (MemberInfo memory) {
        Member m = _members[node];
        return
            MemberInfo({
                role: m.role(),
                activeRound: m.activeRound(),
                revealedRound: m.revealedRound(),
                rewards: m.rewards()
            });
    }

    /// @inheritdoc ITrainingRun
    /// @dev Reverts for an index at or past the current round's reveal count.
    function revealedUpdate(
        uint256 index
    ) external view returns (address node, bytes32 contentHash, uint64 samples) {
        _checkIndex(index, _state.reveals());
        RevealEntry e = _reveals[index];
        node = e.node();
        return (node, _commitments[node], e.samples());
    }

    /// @inheritdoc ITrainingRun
    function committer(uint256 index) external view returns (address) {
        _checkIndex(index, _state.commits());
        return _committers[index];
    }

    /// @inheritdoc ITrainingRun
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
        )
    {
        RoundState s = _state;
        _checkIndex(index, s.votes());
        Vote storage v = _votes[index];
        uint256 n = s.reveals();
        scores = new uint32[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 word = _scoreWords[(index << 5) | (i / RoundLib.SCORES_PER_WORD)];
            // a score is <= SCORE_MAX < 2^32
            scores[i] = uint32(RoundLib.scoreAt(word, i % RoundLib.SCORES_PER_WORD));
        }
        return (v.validator, v.weight, v.modelHash, v.evalLoss, scores);
    }

    /// @inheritdoc ITrainingRun
    function model() external view returns (bytes32 modelHash, uint64 evalLoss) {
        return (_modelHash, _evalLoss);
    }

    /// @inheritdoc ITrainingRun
    function initialModelCid() external view returns (string memory) {
        return _initialModelCid;
    }

    /// @inheritdoc ITrainingRun
    function paused() external view returns (bool) {
        return _state.hasFlag(RoundLib.FLAG_PAUSED);
    }

    /// @inheritdoc ITrainingRun
    function halted() external view returns (bool) {
        return _state.hasFlag(RoundLib.FLAG_HALTED);
    }

    // ------------------------------------------------------------------ internal: state changes

    /// @dev Opens round `number_` now: applies pending parameters, fixes the deadlines, draws
    ///      seed_r from prevrandao and the previous blockhash. Callers ensure the run is neither
    ///      paused nor halted.
    function _openRound(uint256 number_) private {
        uint256 id = runId();
        if (_hasPending) {
            _activeSet = 1 - _activeSet;
            _hasPending = false;
            emit ParamsApplied(id, number_);
        }
        RunParams storage p = _params();
        uint256 commitDeadline = block.timestamp + p.commitDuration;
        uint256 revealDeadline = commitDeadline + p.revealDuration;
        uint256 scoreDeadline = revealDeadline + p.scoreDuration;
        bytes32 seed = keccak256(
            abi.encode(block.prevrandao, blockhash(block.number - 1), id, number_)
        );
        _seed = seed;
        _state = RoundLib.openState(
            number_,
            commitDeadline,
            revealDeadline,
            scoreDeadline,
            p.maxNodesPerRound,
            p.maxValidators,
            0
        );
        emit RoundOpened(
            id,
            number_,
            seed,
            _modelHash,
            uint64(commitDeadline),
            uint64(revealDeadline),
            uint64(scoreDeadline)
        );
    }

    function _setParams(uint256 effectiveRound, RunParams calldata newParams) private {
        uint256 next = 1 - _activeSet;
        RunParams memory old = _paramSets[_hasPending ? next : _activeSet];
        _paramSets[next] = newParams;
        _hasPending = true;
        emit ParamsSet(runId(), effectiveRound, old, newParams);
    }

    function _setGuardian(address newGuardian) private {
        address old = _guardian;
        _guardian = newGuardian;
        emit GuardianSet(runId(), old, newGuardian);
    }

    /// @dev Packs eight scores per word at keys (index << 5) | word; each score <= SCORE_MAX.
    function _storeScores(uint256 index, uint32[] calldata scores) private {
        uint256 n = scores.length;
        uint256 word = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 score = scores[i];
            if (score > RoundLib.SCORE_MAX)
                revert TrainingRunScoreOutOfRange(i, score, RoundLib.SCORE_MAX);
            uint256 k = i % RoundLib.SCORES_PER_WORD;
            word |= RoundLib.scoreBits(score, k);
            if (k == RoundLib.SCORES_PER_WORD - 1 || i == n - 1) {
                _scoreWords[(index << 5) | (i / RoundLib.SCORES_PER_WORD)] = word;
                word = 0;
            }
        }
    }

    function _accrue(address node, uint256 amount) private {
        Member m = _members[node];
        _members[node] = m.withRewards(SafeCast.toUint128(m.rewards() + amount));
    }

    // ------------------------------------------------------------------ internal: finalize

    /// @dev Settles an expired, non-void round: medians, acceptance, model consensus, rewards,
    ///      slashes, and the new global model. Reads everything first (_tally), mints the exact
    ///      sum it is about to credit, then writes; the slashes (calls into the StakeManager)
    ///      come last.
    function _settle(RoundState s) private {
        Tally memory t = _tally(s);
        RunParams storage p = _params();
        if (t.failure == RoundFailure.None) _computeRewards(t, p);
        if (t.minted > 0) {
            // The token is the run's own LearnToken (set by governance through the factory) and
            // finalize is nonReentrant. A failing mint (cap reached, MINTER_ROLE revoked) must not
            // block the run, so it is caught and the round pays nothing.
            try IRewardToken(token()).mint(address(this), t.minted) {} catch {
                emit EmissionFailed(t.runId, t.round, t.minted);
                t.minted = 0;
                t.trainerRewards = new uint256[](t.updateCount);
                t.validatorRewards = new uint256[](t.voters);
            }
        }
        _creditUpdates(t);
        _creditValidators(t);
        if (t.invalidCount > 0) _slashInvalidUpdates(t, p.invalidSlashBps);
        if (s.commits() > s.reveals()) _slashNoReveals(t, s.commits(), p.noRevealSlashBps);
        if (t.majority) _slashDisagreeingValidators(t, p.validatorSlashBps);
        if (t.failure == RoundFailure.None) {
            _modelHash = t.modelHash;
            _evalLoss = t.evalLoss;
            emit ModelAgreed(t.runId, t.round, t.modelHash, t.evalLoss, t.acceptedCount, t.minted);
        } else {
            emit RoundFailed(t.runId, t.round, t.failure);
        }
    }

    /// @dev Loads the round's votes and scores and computes everything finalize decides.
    function _tally(RoundState s) private view returns (Tally memory t) {
        t.runId = runId();
        t.round = s.number();
        t.voters = s.votes();
        t.updateCount = s.reveals();
        _loadVotes(t);
        _modelConsensus(t);
        _scoreUpdates(t);
        if (t.votingWeight == 0) t.failure = RoundFailure.NoValidatorVotes;
        else if (!t.majority) t.failure = RoundFailure.NoModelMajority;
        else if (t.acceptedCount < _params().minUpdates)
            t.failure = RoundFailure.TooFewAcceptedUpdates;
    }

    function _loadVotes(Tally memory t) private view {
        uint256 n = t.voters;
        t.validators = new address[](n);
        t.weights = new uint256[](n);
        t.hashes = new bytes32[](n);
        t.losses = new uint256[](n);
        t.validatorRewards = new uint256[](n);
        for (uint256 k = 0; k < n; ++k) {
            Vote storage v = _votes[k];
            t.validators[k] = v.validator;
            t.weights[k] = v.weight;
            t.hashes[k] = v.modelHash;
            t.losses[k] = v.evalLoss;
            t.votingWeight += v.weight;
        }
    }

    /// @dev The 2/3 model hash and the lower weighted median of its backers' eval losses.
    function _modelConsensus(Tally memory t) private pure {
        (t.majority, t.modelHash, t.majorityWeight) = Settlement.modelMajority(
            t.hashes,
            t.weights,
            t.voters,
            t.votingWeight
        );
        if (!t.majority) return;
        uint256[] memory entries = new uint256[](t.voters);
        uint256 m = 0;
        for (uint256 k = 0; k < t.voters; ++k) {
            if (t.hashes[k] != t.modelHash) continue;
            entries[m] = WeightedMedian.pack(t.losses[k], t.weights[k]);
            ++m;
        }
        (uint256 loss, ) = WeightedMedian.lowerMedian(entries, m);
        // losses were submitted as uint64, so their median is one of them
        t.evalLoss = uint64(loss);
    }

    /// @dev Per revealed update: the stake-weighted lower median of its scores, whether it is
    ///      accepted (median >= acceptScorePpm) or invalid (median 0 with >= 2/3 of the voting
    ///      stake scoring 0), and its reward weight median x min(samples, innerSteps x batchSize).
    function _scoreUpdates(Tally memory t) private view {
        uint256 n = t.updateCount;
        uint256[] memory outcomes = new uint256[](n);
        uint256[] memory rewardWeights = new uint256[](n);
        t.outcomes = outcomes;
        t.rewardWeights = rewardWeights;
        t.trainerRewards = new uint256[](n);
        RunParams storage p = _params();
        uint256 acceptScore = p.acceptScorePpm;
        // a trainer cannot have processed more samples than H steps of one batch each
        uint256 maxSamples = uint256(p.innerSteps) * p.batchSize;
        uint256[][2] memory scratch = [new uint256[](t.voters), new uint256[](t.voters)];
        for (uint256 i = 0; i < n; ++i) {
            RevealEntry e = _reveals[i];
            (uint256 median, uint256 zeroWeight) = _medianOf(t, i, scratch);
            uint256 outcome = uint256(uint160(e.node())) | (median << OUTCOME_MEDIAN_SHIFT);
            if (t.votingWeight > 0) {
                if (median >= acceptScore) {
                    outcome |= OUTCOME_ACCEPTED;
                    ++t.acceptedCount;
                    uint256 samples = e.samples();
                    uint256 w = median * (samples < maxSamples ? samples : maxSamples);
                    rewardWeights[i] = w;
                    t.rewardWeightSum += w;
                } else if (median == 0 && Settlement.isSupermajority(zeroWeight, t.votingWeight)) {
                    outcome |= OUTCOME_INVALID;
                    ++t.invalidCount;
                }
            }
            outcomes[i] = outcome;
        }
    }

    /// @dev Stake-weighted lower median of update `i`'s scores and the stake that scored it 0.
    ///      scratch[0] caches each voter's current score word (loaded once per 8 updates),
    ///      scratch[1] receives the packed (score, weight) entries the median sorts in place.
    function _medianOf(
        Tally memory t,
        uint256 i,
        uint256[][2] memory scratch
    ) private view returns (uint256 median, uint256 zeroWeight) {
        uint256[] memory words = scratch[0];
        uint256[] memory entries = scratch[1];
        uint256[] memory voterWeights = t.weights;
        uint256 v = t.voters;
        uint256 slot = i % RoundLib.SCORES_PER_WORD;
        if (slot == 0) {
            uint256 wordKey = i / RoundLib.SCORES_PER_WORD;
            for (uint256 k = 0; k < v; ++k) {
                words[k] = _scoreWords[(k << 5) | wordKey];
            }
        }
        // Builds each voter's entry score << 128 | weight (WeightedMedian.pack; a score is
        // <= SCORE_MAX and a weight was stored as uint128, so both fit). In assembly because it
        // runs voters x updates times; the three arrays have exactly `v` entries (allocated by
        // _loadVotes/_scoreUpdates), so no index leaves them. zeroWeight cannot overflow: it
        // is part of votingWeight, a sum of stakes.
        uint256 shift = 32 * slot;
        uint256 mask = RoundLib.SCORE_MASK;
        assembly ("memory-safe") {
            let end := shl(5, v)
            for {
                let p := 0x20
            } iszero(gt(p, end)) {
                p := add(p, 0x20)
            } {
                let score := and(shr(shift, mload(add(words, p))), mask)
                let weight := mload(add(voterWeights, p))
                mstore(add(entries, p), or(shl(128, score), weight))
                if iszero(score) {
                    zeroWeight := add(zeroWeight, weight)
                }
            }
        }
        (median, ) = WeightedMedian.lowerMedian(entries, v);
    }

    /// @dev emissionPerRound split: validatorShareBps to the validators of the majority by
    ///      stake, the rest to accepted updates by median score x samples, each share rounded
    ///      down. `minted` is the exact sum credited, never more than the emission.
    function _computeRewards(Tally memory t, RunParams storage p) private view {
        uint256 emission = p.emissionPerRound;
        uint256 validatorPool = (emission * p.validatorShareBps) / RunParamsLib.BPS;
        uint256 trainerPool = emission - validatorPool;
        uint256[] memory agreedWeights = new uint256[](t.voters);
        for (uint256 k = 0; k < t.voters; ++k) {
            if (t.hashes[k] == t.modelHash) agreedWeights[k] = t.weights[k];
        }
        t.minted =
            Settlement.split(
                validatorPool,
                agreedWeights,
                t.voters,
                t.majorityWeight,
                t.validatorRewards
            ) +
            Settlement.split(
                trainerPool,
                t.rewardWeights,
                t.updateCount,
                t.rewardWeightSum,
                t.trainerRewards
            );
    }

    function _creditUpdates(Tally memory t) private {
        uint256 id = t.runId;
        uint256 round = t.round;
        uint256[] memory outcomes = t.outcomes;
        uint256[] memory rewards = t.trainerRewards;
        for (uint256 i = 0; i < outcomes.length; ++i) {
            uint256 outcome = outcomes[i];
            address node = address(uint160(outcome));
            uint256 reward = rewards[i];
            if (reward > 0) _accrue(node, reward);
            // a median is a submitted score, <= SCORE_MAX < 2^32
            emit UpdateScored(
                id,
                round,
                node,
                uint32(outcome >> OUTCOME_MEDIAN_SHIFT),
                outcome & OUTCOME_ACCEPTED != 0,
                reward
            );
        }
    }

    function _creditValidators(Tally memory t) private {
        for (uint256 k = 0; k < t.voters; ++k) {
            address validator = t.validators[k];
            uint256 reward = t.validatorRewards[k];
            if (reward > 0) _accrue(validator, reward);
            emit ValidatorSettled(
                t.runId,
                t.round,
                validator,
                t.majority && t.hashes[k] == t.modelHash,
                reward
            );
        }
    }

    function _slashInvalidUpdates(Tally memory t, uint256 bps) private {
        if (bps == 0) return;
        for (uint256 i = 0; i < t.updateCount; ++i) {
            uint256 outcome = t.outcomes[i];
            if (outcome & OUTCOME_INVALID == 0) continue;
            address node = address(uint160(outcome));
            // after reveal the node's commitment slot holds the update's content hash
            _slash(t, node, IStakeManager.SlashReason.InvalidUpdate, bps, _commitments[node]);
        }
    }

    /// @dev Only runs when some committer did not reveal (commits > reveals).
    function _slashNoReveals(Tally memory t, uint256 commits, uint256 bps) private {
        if (bps == 0) return;
        for (uint256 i = 0; i < commits; ++i) {
            address node = _committers[i];
            if (_members[node].revealedRound() == t.round) continue;
            // an unrevealed node's slot still holds its commitment: the evidence
            _slash(t, node, IStakeManager.SlashReason.NoReveal, bps, _commitments[node]);
        }
    }

    function _slashDisagreeingValidators(Tally memory t, uint256 bps) private {
        if (bps == 0) return;
        for (uint256 k = 0; k < t.voters; ++k) {
            if (t.hashes[k] == t.modelHash) continue;
            _slash(
                t,
                t.validators[k],
                IStakeManager.SlashReason.ValidatorDisagreement,
                bps,
                t.hashes[k]
            );
        }
    }

    /// @dev Slashes `bps` of the stake this run locks of `node`, with `evidence` on record.
    function _slash(
        Tally memory t,
        address node,
        IStakeManager.SlashReason reason,
        uint256 bps,
        bytes32 evidence
    ) private {
        IStakeManager sm = stakeManager();
        uint256 amount = (sm.lockedBy(address(this), node) * bps) / RunParamsLib.BPS;
        if (amount == 0) return;
        (uint256 slashId, uint256 slashed) = sm.slash(
            node,
            amount,
            reason,
            t.runId,
            t.round,
            evidence
        );
        if (slashed > 0) emit NodeSlashed(t.runId, t.round, node, reason, slashed, slashId);
    }

    /// @dev The parameters of the round in progress.
    function _params() private view returns (RunParams storage) {
        return _paramSets[_activeSet];
    }

    // ------------------------------------------------------------------ internal: checks

    function _checkGovernance() private view {
        if (msg.sender != governance()) revert TrainingRunNotGovernance(msg.sender);
    }

    /// @dev Commit, reveal and score need the current round, not yet finalized. A pause or a
    ///      halt does not stop the open round (G3); a finalized round is the current one only
    ///      while the run is paused or halted, so that is the error named.
    function _checkLive(RoundState s, uint256 round) private pure {
        if (s.hasFlag(RoundLib.FLAG_FINALIZED)) {
            if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
            revert TrainingRunPaused(s.number());
        }
        if (round != s.number()) revert TrainingRunWrongRound(round, s.number());
    }

    function _checkCid(string calldata cid) private pure {
        uint256 length = bytes(cid).length;
        if (length == 0 || length > MAX_CID_LENGTH)
            revert TrainingRunCidLength(length, MAX_CID_LENGTH);
    }

    function _checkIndex(uint256 index, uint256 count) private pure {
        if (index >= count) revert TrainingRunIndexOutOfRange(index, count);
    }

    /// @dev A word of the clone's immutable args (abi.encodePacked(runId, stakeManager, token,
    ///      governance)) at `offset`, read from this clone's own code (EXTCODECOPY on a warm
    ///      address: ~110 gas). Uses the scratch space, so no memory is allocated.
    function _cloneArg(uint256 offset) private view returns (uint256 word) {
        assembly ("memory-safe") {
            extcodecopy(address(), 0x00, add(CLONE_ARGS_OFFSET, offset), 0x20)
            word := mload(0x00)
        }
    }
}
