// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {Initializable} from "@openzeppelin/contracts/proxy/utils/Initializable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

import {IStakeManager} from "../staking/IStakeManager.sol";
import {ITrainingRun} from "./ITrainingRun.sol";
import {Member, RevealEntry, RoundLib, RoundState, RunStorage, Seat, Stake, VoteRecord} from "./RoundLib.sol";
import {Committee} from "./Committee.sol";
import {RoundSettlement} from "./RoundSettlement.sol";
import {RunParamsLib} from "./RunParamsLib.sol";

/// @title TrainingRun
/// @notice One protolearn training run, protocol v2 (docs/run-contract.md): trainers and
///         validators lock stake of their choice; trainer seats are a stake-weighted lottery
///         and the validator committee a stake-weighted draw, both from randomness fixed only
///         after the commits close; each update is scored by k committee seats; votes are
///         committed, then revealed; settlement runs in bounded batches anyone may send.
/// @dev Used through EIP-1167 clones made by RunFactory, whose appended immutable args are
///      abi.encodePacked(runId, stakeManager, token, governance). All state lives in one
///      ERC-7201 struct (RoundLib.RunStorage) so that the settlement library works on it.
contract TrainingRun is ITrainingRun, Initializable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @dev Longest CID accepted (CIDv1 base32 sha2-256 is 59 characters).
    uint256 private constant MAX_CID_LENGTH = 128;
    /// @dev EIP-1167 runtime code length: the immutable args start right after it.
    uint256 private constant CLONE_ARGS_OFFSET = 0x2d;
    /// @dev blockhash reaches back 256 blocks.
    uint256 private constant BLOCKHASH_WINDOW = 256;
    uint256 private constant MASK128 = (1 << 128) - 1;

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
        if (initialModelHash == bytes32(0)) revert TrainingRunZeroModelHash();
        _checkCid(modelCid);
        RunStorage storage $ = RoundLib.load();
        RunParamsLib.initialize($, params_);
        $.modelHash = initialModelHash;
        $.initialModelCid = modelCid;
        $.guardian = guardian_;
        uint256 id = runId();
        // Round 1's lottery has no eligible lock (nobody joined before it), so nothing rides on it.
        $.randomness = keccak256(abi.encode(blockhash(block.number - 1), id, uint256(0)));
        emit RunInitialized(id, params_.modelId, initialModelHash, modelCid, guardian_);
        _openRound($, 1);
    }

    // ------------------------------------------------------------------ participation

    /// @inheritdoc ITrainingRun
    function join(Role role, uint256 amount) external nonReentrant {
        RunStorage storage $ = RoundLib.load();
        RoundState s = $.state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        if (role == Role.None) revert TrainingRunInvalidRole(role);
        Member m = $.members[msg.sender];
        if (m.role() != Role.None) revert TrainingRunAlreadyJoined(msg.sender, m.role());
        if (amount == 0 || amount > RunParamsLib.MAX_AMOUNT)
            revert TrainingRunLockAmountInvalid(amount);
        RunParams storage p = _params($);
        uint256 min = role == Role.Trainer ? p.minTrainerStake : p.minValidatorStake;
        if (amount < min) revert TrainingRunLockBelowMinimum(msg.sender, amount, min);
        _armIfDue($, s);
        uint256 eligible = _eligibleFrom(s, role);
        Stake k = $.stakes[msg.sender];
        (m, k) = _creditPoints($, s, msg.sender, m, k);
        $.members[msg.sender] = m.withRole(role).withEligibleFrom(eligible);
        $.stakes[msg.sender] = k.withLock(amount);
        address evicted = address(0);
        uint256 evictedLock = 0;
        if (role == Role.Trainer) {
            $.trainerTotal += amount;
        } else {
            if (_validatorSetFrozen(s)) revert TrainingRunValidatorSetFrozen(s.number());
            (evicted, evictedLock) = _addValidator($, msg.sender, amount);
        }
        emit Joined(runId(), msg.sender, role, amount, eligible);
        IStakeManager sm = stakeManager();
        sm.lock(msg.sender, amount);
        if (evicted != address(0)) {
            emit Evicted(runId(), evicted, Role.Validator, evictedLock, msg.sender);
            sm.unlock(evicted, sm.lockedBy(address(this), evicted));
        }
    }

    /// @inheritdoc ITrainingRun
    function raiseLock(uint256 added) external nonReentrant returns (uint256 eligibleFrom) {
        RunStorage storage $ = RoundLib.load();
        eligibleFrom = _raise($, added);
        stakeManager().lock(msg.sender, added);
    }

    /// @inheritdoc ITrainingRun
    function syncLock() external nonReentrant returns (uint256 eligibleFrom) {
        RunStorage storage $ = RoundLib.load();
        uint256 recorded = $.stakes[msg.sender].lock();
        uint256 actual = stakeManager().lockedBy(address(this), msg.sender);
        if (actual <= recorded) revert TrainingRunLockInSync(msg.sender, recorded, actual);
        eligibleFrom = _raise($, actual - recorded);
    }

    /// @dev Adds `added` to the caller's lock record (and the trainer total or its validator-set
    ///      entry); the whole lock counts in draws from the returned round on.
    function _raise(RunStorage storage $, uint256 added) private returns (uint256 eligibleFrom) {
        RoundState s = $.state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        Member m = $.members[msg.sender];
        Role role = m.role();
        if (role == Role.None) revert TrainingRunNotMember(msg.sender);
        Stake k = $.stakes[msg.sender];
        uint256 locked = k.lock() + added;
        if (added == 0 || locked > RunParamsLib.MAX_AMOUNT)
            revert TrainingRunLockAmountInvalid(added);
        _armIfDue($, s);
        eligibleFrom = _eligibleFrom(s, role);
        if (role == Role.Trainer) {
            $.trainerTotal += added;
        } else {
            if (_validatorSetFrozen(s)) revert TrainingRunValidatorSetFrozen(s.number());
            $.validators[k.setSlot() - 1] = uint256(uint160(msg.sender)) | (locked << 160);
        }
        $.members[msg.sender] = m.withEligibleFrom(eligibleFrom);
        $.stakes[msg.sender] = k.withLock(locked);
        emit LockRaised(runId(), msg.sender, role, added, locked, eligibleFrom);
    }

    /// @inheritdoc ITrainingRun
    /// @dev Accrued rewards stay claimable.
    function leave() external nonReentrant {
        _remove(msg.sender, false);
    }

    /// @inheritdoc ITrainingRun
    function evictStale(address node) external nonReentrant {
        _remove(node, true);
    }

    // ------------------------------------------------------------------ the round

    /// @inheritdoc ITrainingRun
    function commit(uint256 round, bytes32 commitment) external {
        RunStorage storage $ = RoundLib.load();
        RoundState s = $.state;
        _guard($, s, round, Phase.Commit, Phase.Commit);
        Member m = $.members[msg.sender];
        if (m.role() != Role.Trainer)
            revert TrainingRunWrongRole(msg.sender, m.role(), Role.Trainer);
        if (m.activeRound() == round) revert TrainingRunAlreadyCommitted(round, msg.sender);
        if (m.eligibleFrom() > round)
            revert TrainingRunNotYetEligible(msg.sender, round, m.eligibleFrom());
        Stake k = $.stakes[msg.sender];
        RunParams storage p = _params($);
        uint256 lock = k.lock();
        if (lock < p.minTrainerStake)
            revert TrainingRunLockBelowMinimum(msg.sender, lock, p.minTrainerStake);
        uint256 draw = RoundLib.seatDrawOf($.seatRandomness, msg.sender);
        uint256 threshold = RoundLib.seatThreshold(p.trainerSeats, lock, $.seatTotal);
        if (draw >= threshold) revert TrainingRunNoSeat(msg.sender, round, draw, threshold);
        uint256 index = s.commits();
        if (index >= p.maxNodesPerRound) revert TrainingRunRoundFull(round, p.maxNodesPerRound);

        (m, ) = _creditPoints($, s, msg.sender, m, k);
        $.members[msg.sender] = m.withActiveRound(round);
        $.commitments[msg.sender] = commitment;
        $.committers[index] = msg.sender;
        $.state = s.incrementCommits();
        emit Committed(runId(), round, msg.sender, commitment);
    }

    /// @inheritdoc ITrainingRun
    function reveal(
        uint256 round,
        string calldata cid,
        bytes32 contentHash,
        uint64 samples,
        bytes32 salt
    ) external {
        RunStorage storage $ = RoundLib.load();
        RoundState s = $.state;
        _guard($, s, round, Phase.Reveal, Phase.Reveal);
        Member m = $.members[msg.sender];
        if (m.activeRound() != round || m.role() != Role.Trainer)
            revert TrainingRunNotCommitted(round, msg.sender);
        if (m.revealedRound() == round) revert TrainingRunAlreadyRevealed(round, msg.sender);
        _checkCid(cid);
        {
            bytes32 computed = RoundLib.commitment(
                runId(),
                round,
                msg.sender,
                cid,
                contentHash,
                samples,
                salt
            );
            bytes32 committed = $.commitments[msg.sender];
            if (computed != committed)
                revert TrainingRunRevealMismatch(round, msg.sender, computed, committed);
        }
        uint256 index = s.reveals();
        $.members[msg.sender] = m.withRevealedRound(round);
        $.commitments[msg.sender] = contentHash;
        $.reveals[index] = RoundLib.newRevealEntry(msg.sender, samples);
        $.state = s.incrementReveals();
        emit Revealed(runId(), round, msg.sender, index, cid, contentHash, samples);
    }

    /// @inheritdoc ITrainingRun
    function armChallenge(uint256 round) external {
        RunStorage storage $ = RoundLib.load();
        _guard($, $.state, round, Phase.Reveal, Phase.Finalizable);
    }

    /// @inheritdoc ITrainingRun
    function commitVote(uint256 round, bytes32 commitment) external {
        RunStorage storage $ = RoundLib.load();
        RoundState s = $.state;
        bytes32 rand = _guard($, s, round, Phase.Score, Phase.Score);
        if (rand == bytes32(0)) revert TrainingRunRandomnessNotReady(round, _readyAt($));
        Member m = $.members[msg.sender];
        if (m.role() != Role.Validator)
            revert TrainingRunWrongRole(msg.sender, m.role(), Role.Validator);
        if (m.activeRound() == round) revert TrainingRunAlreadyVoted(round, msg.sender);
        RunParams storage p = _params($);
        uint256 lock = $.stakes[msg.sender].lock();
        if (lock < p.minValidatorStake)
            revert TrainingRunLockBelowMinimum(msg.sender, lock, p.minValidatorStake);
        _ensureCommittee($, round, rand);
        uint256 index = s.votes();
        uint256 weight = 0;
        for (uint256 j = 0; j < p.committeeSize; ++j) {
            Seat seat = $.seats[j];
            if (seat.holder() != msg.sender) continue;
            $.seats[j] = seat.withVoteSlot(index + 1);
            ++weight;
        }
        if (weight == 0) revert TrainingRunNotOnCommittee(round, msg.sender);
        $.votes[index] = VoteRecord({
            validator: msg.sender,
            weight: uint8(weight),
            revealed: false,
            evalLoss: 0,
            commitment: commitment,
            modelHash: bytes32(0)
        });
        $.members[msg.sender] = m.withActiveRound(round);
        $.state = s.incrementVotes();
        emit VoteCommitted(runId(), round, msg.sender, weight, commitment);
    }

    /// @inheritdoc ITrainingRun
    function revealVote(
        uint256 round,
        uint16[] calldata seatLengths,
        uint32[] calldata scores,
        bytes32 modelHash,
        uint64 evalLoss,
        bytes32 salt
    ) external {
        // hashed first, while few locals are live
        bytes32 computed = RoundLib.voteCommitment(
            runId(),
            round,
            msg.sender,
            seatLengths,
            scores,
            modelHash,
            evalLoss,
            salt
        );
        RunStorage storage $ = RoundLib.load();
        RoundState s = $.state;
        _guard($, s, round, Phase.VoteReveal, Phase.VoteReveal);
        Member m = $.members[msg.sender];
        if (m.activeRound() != round || m.role() != Role.Validator)
            revert TrainingRunNoVoteCommitted(round, msg.sender);
        if (m.revealedRound() == round)
            revert TrainingRunVoteAlreadyRevealed(round, msg.sender);
        VoteRecord storage v = $.votes[_voteIndexOf($, s, msg.sender)];
        if (computed != v.commitment)
            revert TrainingRunRevealMismatch(round, msg.sender, computed, v.commitment);
        if (seatLengths.length != v.weight)
            revert TrainingRunVoteShapeMismatch(seatLengths.length, v.weight);
        Committee.storeVoteScores($, _params($).committeeSize, seatLengths, scores);
        v.revealed = true;
        v.modelHash = modelHash;
        v.evalLoss = evalLoss;
        $.members[msg.sender] = m.withRevealedRound(round);
        $.state = s.incrementVoteReveals();
        _emitVoteRevealed(round, v, seatLengths, scores);
    }

    function _emitVoteRevealed(
        uint256 round,
        VoteRecord storage v,
        uint16[] calldata seatLengths,
        uint32[] calldata scores
    ) private {
        emit VoteRevealed(
            runId(),
            round,
            msg.sender,
            v.weight,
            v.modelHash,
            v.evalLoss,
            seatLengths,
            scores
        );
    }

    /// @inheritdoc ITrainingRun
    /// @dev Pause and halt never change how a round settles (G3); they only decide whether the
    ///      next round opens. Never reverts for randomness that is not readable yet: it arms the
    ///      challenge (that write must not be rolled back) and returns false.
    function finalizeRound(uint256 round, uint256 maxItems) external nonReentrant returns (bool done) {
        if (maxItems == 0) revert TrainingRunZeroBatch();
        RunStorage storage $ = RoundLib.load();
        RoundState s = $.state;
        if (round == s.number() && s.hasFlag(RoundLib.FLAG_FINALIZED))
            revert TrainingRunRoundFinalized(round);
        bytes32 rand = _guard($, s, round, Phase.Finalizable, Phase.Finalizable);
        if (rand == bytes32(0)) return false;
        done = RoundSettlement.settle($, runId(), stakeManager(), token(), rand, maxItems);
        if (!done) return false;
        // flags read before the settlement's external calls (checks-effects-interactions)
        if (!s.hasFlag(RoundLib.FLAG_PAUSED) && !s.hasFlag(RoundLib.FLAG_HALTED)) {
            _openRound($, round + 1);
        }
    }

    /// @inheritdoc ITrainingRun
    function claim() external nonReentrant returns (uint256 amount) {
        RunStorage storage $ = RoundLib.load();
        Member m = $.members[msg.sender];
        (m, ) = _creditPoints($, $.state, msg.sender, m, $.stakes[msg.sender]);
        amount = m.rewards();
        if (amount == 0) return 0;
        $.members[msg.sender] = m.withRewards(0);
        emit RewardsClaimed(runId(), msg.sender, amount);
        IERC20(token()).safeTransfer(msg.sender, amount);
    }

    // ------------------------------------------------------------------ governance / guardian

    /// @inheritdoc ITrainingRun
    function setParams(RunParams calldata newParams) external {
        _checkGovernance();
        RunStorage storage $ = RoundLib.load();
        RoundState s = $.state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        RunParamsLib.setPending($, newParams, runId(), s.number() + 1);
    }

    /// @inheritdoc ITrainingRun
    function pause() external {
        RunStorage storage $ = RoundLib.load();
        if (msg.sender != $.guardian && msg.sender != governance()) {
            revert TrainingRunNotGuardianOrGovernance(msg.sender);
        }
        RoundState s = $.state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        if (s.hasFlag(RoundLib.FLAG_PAUSED)) revert TrainingRunPaused(s.number());
        $.state = s.withFlag(RoundLib.FLAG_PAUSED);
        emit Paused(runId(), s.number(), msg.sender);
    }

    /// @inheritdoc ITrainingRun
    function unpause() external {
        _checkGovernance();
        RunStorage storage $ = RoundLib.load();
        RoundState s = $.state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        if (!s.hasFlag(RoundLib.FLAG_PAUSED)) revert TrainingRunNotPaused(s.number());
        s = s.withoutFlag(RoundLib.FLAG_PAUSED);
        $.state = s;
        emit Unpaused(runId(), s.number(), msg.sender);
        if (s.hasFlag(RoundLib.FLAG_FINALIZED)) _openRound($, s.number() + 1);
    }

    /// @inheritdoc ITrainingRun
    function halt() external {
        _checkGovernance();
        RunStorage storage $ = RoundLib.load();
        RoundState s = $.state;
        if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
        $.state = s.withFlag(RoundLib.FLAG_HALTED);
        emit Halted(runId(), s.number(), msg.sender);
    }

    /// @inheritdoc ITrainingRun
    function announceCheckpoint(uint256 round, string calldata cid) external {
        RunStorage storage $ = RoundLib.load();
        Member m = $.members[msg.sender];
        if (m.role() != Role.Validator)
            revert TrainingRunWrongRole(msg.sender, m.role(), Role.Validator);
        uint256 every = _params($).checkpointEvery;
        uint256 current = $.state.number();
        if (round == 0 || round > current || round % every != 0)
            revert TrainingRunNotCheckpointRound(round, every, current);
        _checkCid(cid);
        emit CheckpointAnnounced(runId(), round, msg.sender, cid);
    }

    /// @inheritdoc ITrainingRun
    function setGuardian(address newGuardian) external {
        _checkGovernance();
        RunStorage storage $ = RoundLib.load();
        address old = $.guardian;
        $.guardian = newGuardian;
        emit GuardianSet(runId(), old, newGuardian);
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
        return RoundLib.load().guardian;
    }

    /// @inheritdoc ITrainingRun
    function currentRound() external view returns (RoundInfo memory info) {
        RunStorage storage $ = RoundLib.load();
        RoundState s = $.state;
        info.round = s.number();
        info.commitDeadline = uint64(s.commitDeadline());
        info.revealDeadline = uint64(s.revealDeadline());
        info.scoreDeadline = uint64(s.scoreDeadline());
        info.voteRevealDeadline = uint64(s.voteRevealDeadline());
        info.commits = uint16(s.commits());
        info.reveals = uint16(s.reveals());
        info.votes = uint16(s.votes());
        info.voteReveals = uint16(s.voteReveals());
        info.finalized = s.hasFlag(RoundLib.FLAG_FINALIZED);
        info.challengeBlock = $.challengeBlock;
        info.randomness = _randomnessView($);
        info.randomnessReady = info.randomness != bytes32(0);
        info.seed = $.seed;
        info.seatRandomness = $.seatRandomness;
        info.seatTotal = $.seatTotal;
        info.settled = uint16($.settleCursor);
        info.modelHash = $.modelHash;
    }

    /// @inheritdoc ITrainingRun
    function phase() external view returns (Phase) {
        return _phaseOf(RoundLib.load().state);
    }

    /// @inheritdoc ITrainingRun
    function params() external view returns (RunParams memory) {
        return _params(RoundLib.load());
    }

    /// @inheritdoc ITrainingRun
    function pendingParams() external view returns (bool pending, RunParams memory next) {
        RunStorage storage $ = RoundLib.load();
        return ($.hasPending, $.paramSets[1 - $.activeSet]);
    }

    /// @inheritdoc ITrainingRun
    function memberOf(address node) external view returns (MemberInfo memory) {
        RunStorage storage $ = RoundLib.load();
        Member m = $.members[node];
        Stake k = $.stakes[node];
        (uint256 credit, ) = _pointsValue($, $.state, k);
        return
            MemberInfo({
                role: m.role(),
                lock: k.lock(),
                eligibleFrom: m.eligibleFrom(),
                activeRound: m.activeRound(),
                revealedRound: m.revealedRound(),
                rewards: m.rewards() + credit
            });
    }

    /// @inheritdoc ITrainingRun
    function seatDraw(address node) external view returns (bool seat, uint256 draw, uint256 threshold) {
        RunStorage storage $ = RoundLib.load();
        RunParams storage p = _params($);
        Member m = $.members[node];
        uint256 lock = $.stakes[node].lock();
        draw = RoundLib.seatDrawOf($.seatRandomness, node);
        if (
            m.role() == Role.Trainer &&
            m.eligibleFrom() <= $.state.number() &&
            lock >= p.minTrainerStake
        ) threshold = RoundLib.seatThreshold(p.trainerSeats, lock, $.seatTotal);
        seat = draw < threshold;
    }

    /// @inheritdoc ITrainingRun
    function committee() external view returns (address[] memory seats) {
        RunStorage storage $ = RoundLib.load();
        uint256 c = _params($).committeeSize;
        if ($.committeeRound == $.state.number()) {
            seats = new address[](c);
            for (uint256 j = 0; j < c; ++j) seats[j] = $.seats[j].holder();
            return seats;
        }
        bytes32 rand = _randomnessView($);
        if (rand == bytes32(0)) return new address[](c);
        return Committee.draw($, rand);
    }

    /// @inheritdoc ITrainingRun
    function committeeFor(bytes32 randomness) external view returns (address[] memory seats) {
        RunStorage storage $ = RoundLib.load();
        return Committee.draw($, randomness);
    }

    /// @inheritdoc ITrainingRun
    function scorersOf(uint256 index) external view returns (uint256[] memory seats) {
        RunStorage storage $ = RoundLib.load();
        _checkIndex(index, $.state.reveals());
        RunParams storage p = _params($);
        uint256 base = RoundLib.assignmentBase(
            _randomnessView($),
            $.reveals[index].node(),
            p.committeeSize
        );
        seats = new uint256[](p.scorersPerUpdate);
        for (uint256 t = 0; t < seats.length; ++t) seats[t] = (base + t) % p.committeeSize;
    }

    /// @inheritdoc ITrainingRun
    function assignedTo(uint256 seat) external view returns (uint256[] memory indices) {
        RunStorage storage $ = RoundLib.load();
        _checkIndex(seat, _params($).committeeSize);
        return Committee.assignedTo($, _randomnessView($), seat);
    }

    /// @inheritdoc ITrainingRun
    function validatorSet() external view returns (address[] memory validators, uint256[] memory locks) {
        RunStorage storage $ = RoundLib.load();
        uint256 n = $.validatorCount;
        validators = new address[](n);
        locks = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            uint256 entry = $.validators[i];
            validators[i] = address(uint160(entry));
            locks[i] = entry >> 160;
        }
    }

    /// @inheritdoc ITrainingRun
    function revealedUpdate(
        uint256 index
    ) external view returns (address node, bytes32 contentHash, uint64 samples) {
        RunStorage storage $ = RoundLib.load();
        _checkIndex(index, $.state.reveals());
        RevealEntry e = $.reveals[index];
        node = e.node();
        return (node, $.commitments[node], e.samples());
    }

    /// @inheritdoc ITrainingRun
    function committer(uint256 index) external view returns (address) {
        RunStorage storage $ = RoundLib.load();
        _checkIndex(index, $.state.commits());
        return $.committers[index];
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
            bytes32 commitment,
            bool revealed,
            bytes32 modelHash,
            uint64 evalLoss
        )
    {
        RunStorage storage $ = RoundLib.load();
        _checkIndex(index, $.state.votes());
        VoteRecord storage v = $.votes[index];
        return (v.validator, v.weight, v.commitment, v.revealed, v.modelHash, v.evalLoss);
    }

    /// @inheritdoc ITrainingRun
    function model() external view returns (bytes32 modelHash, uint64 evalLoss) {
        RunStorage storage $ = RoundLib.load();
        return ($.modelHash, $.evalLoss);
    }

    /// @inheritdoc ITrainingRun
    function initialModelCid() external view returns (string memory) {
        return RoundLib.load().initialModelCid;
    }

    /// @inheritdoc ITrainingRun
    function paused() external view returns (bool) {
        return RoundLib.load().state.hasFlag(RoundLib.FLAG_PAUSED);
    }

    /// @inheritdoc ITrainingRun
    function halted() external view returns (bool) {
        return RoundLib.load().state.hasFlag(RoundLib.FLAG_HALTED);
    }

    // ------------------------------------------------------------------ internal: phases

    /// @dev The one definition of the round's phase.
    function _phaseOf(RoundState s) private view returns (Phase) {
        if (s.hasFlag(RoundLib.FLAG_FINALIZED)) {
            return s.hasFlag(RoundLib.FLAG_HALTED) ? Phase.Halted : Phase.Paused;
        }
        if (block.timestamp <= s.commitDeadline()) return Phase.Commit;
        if (block.timestamp <= s.revealDeadline()) return Phase.Reveal;
        if (block.timestamp <= s.scoreDeadline()) return Phase.Score;
        if (block.timestamp <= s.voteRevealDeadline()) return Phase.VoteReveal;
        return Phase.Finalizable;
    }

    /// @dev The one guard of every round entry point: the named round is the current one, not
    ///      settled, and its phase is within [from, to]. After the commit deadline it arms the
    ///      challenge and returns the round's randomness once it is fixed (else zero).
    function _guard(
        RunStorage storage $,
        RoundState s,
        uint256 round,
        Phase from,
        Phase to
    ) private returns (bytes32 rand) {
        if (s.hasFlag(RoundLib.FLAG_FINALIZED)) {
            if (s.hasFlag(RoundLib.FLAG_HALTED)) revert TrainingRunHalted(s.number());
            revert TrainingRunPaused(s.number());
        }
        if (round != s.number()) revert TrainingRunWrongRound(round, s.number());
        Phase current = _phaseOf(s);
        if (current < from || current > to) revert TrainingRunWrongPhase(round, current, from);
        if (current != Phase.Commit) rand = _arm($, round);
    }

    /// @dev Arms the challenge (first call after the commit deadline, or when the armed hash
    ///      expired unread) and stores the randomness once blockhash(challengeBlock) is readable.
    ///      The first arming also snapshots the trainer locks eligible for the next round's lottery.
    function _arm(RunStorage storage $, uint256 round) private returns (bytes32 rand) {
        rand = $.randomness;
        if (rand != bytes32(0)) return rand;
        uint256 cb = $.challengeBlock;
        if (cb != 0) {
            if (block.number <= cb) return bytes32(0);
            if (block.number - cb <= BLOCKHASH_WINDOW) {
                rand = keccak256(abi.encode(blockhash(cb), runId(), round));
                $.randomness = rand;
                emit ChallengeFixed(runId(), round, rand);
                return rand;
            }
        } else {
            $.nextSeatTotal = $.trainerTotal;
        }
        cb = block.number + 1;
        $.challengeBlock = uint64(cb);
        emit ChallengeArmed(runId(), round, uint64(cb));
    }

    /// @dev For join/raiseLock: arm before a lock changes once the commit deadline has passed,
    ///      so the next lottery's snapshot never includes a lock made after it.
    function _armIfDue(RunStorage storage $, RoundState s) private {
        if (
            !s.hasFlag(RoundLib.FLAG_FINALIZED) &&
            block.timestamp > s.commitDeadline() &&
            $.challengeBlock == 0
        ) _arm($, s.number());
    }

    /// @dev The stored randomness, or the readable blockhash one (zero if neither).
    function _randomnessView(RunStorage storage $) private view returns (bytes32) {
        bytes32 rand = $.randomness;
        if (rand != bytes32(0)) return rand;
        uint256 cb = $.challengeBlock;
        if (cb == 0 || block.number <= cb || block.number - cb > BLOCKHASH_WINDOW) return bytes32(0);
        return keccak256(abi.encode(blockhash(cb), runId(), $.state.number()));
    }

    function _readyAt(RunStorage storage $) private view returns (uint256) {
        uint256 cb = $.challengeBlock;
        return cb == 0 ? 0 : cb + 1;
    }

    /// @dev The first round a lock made now counts in: a trainer's lottery of round r uses
    ///      rand_{r-1}, so a lock made after round r's randomness may be known counts from r+2;
    ///      a validator's committee is drawn from locks frozen at the commit deadline.
    function _eligibleFrom(RoundState s, Role role) private view returns (uint256) {
        uint256 r = s.number();
        bool known = s.hasFlag(RoundLib.FLAG_FINALIZED) || block.timestamp > s.commitDeadline();
        if (role == Role.Validator) return known ? r + 1 : r;
        return known ? r + 2 : r + 1;
    }

    function _validatorSetFrozen(RoundState s) private view returns (bool) {
        return !s.hasFlag(RoundLib.FLAG_FINALIZED) && block.timestamp > s.commitDeadline();
    }

    // ------------------------------------------------------------------ internal: state changes

    /// @dev Opens round `number_` now: applies pending parameters, fixes the deadlines, takes
    ///      the previous round's randomness for the seat lottery and the seed.
    function _openRound(RunStorage storage $, uint256 number_) private {
        uint256 id = runId();
        if ($.hasPending) {
            $.activeSet = 1 - $.activeSet;
            $.hasPending = false;
            emit ParamsApplied(id, number_);
        }
        RunParams storage p = _params($);
        uint256 commitDeadline = block.timestamp + p.commitDuration;
        uint256 revealDeadline = commitDeadline + p.revealDuration;
        uint256 scoreDeadline = revealDeadline + p.scoreDuration;
        uint256 voteRevealDeadline = scoreDeadline + p.voteRevealDuration;
        bytes32 previous = $.randomness;
        bytes32 seed = keccak256(abi.encode(previous, id, number_));
        $.seatRandomness = previous;
        $.seed = seed;
        $.seatTotal = $.nextSeatTotal;
        $.randomness = bytes32(0);
        $.challengeBlock = 0;
        $.settleCursor = 0;
        $.seatCursors = 0;
        $.seatAgreements = 0;
        $.totalPoints = 0;
        $.state = RoundLib.openState(
            number_,
            commitDeadline,
            revealDeadline,
            scoreDeadline,
            voteRevealDeadline,
            0
        );
        emit RoundOpened(
            id,
            number_,
            seed,
            $.modelHash,
            uint64(commitDeadline),
            uint64(revealDeadline),
            uint64(scoreDeadline),
            uint64(voteRevealDeadline)
        );
    }

    /// @dev Draws and stores the committee of `round` once.
    function _ensureCommittee(RunStorage storage $, uint256 round, bytes32 rand) private {
        if ($.committeeRound == round) return;
        address[] memory seats = Committee.draw($, rand);
        for (uint256 j = 0; j < seats.length; ++j) {
            $.seats[j] = RoundLib.newSeat(seats[j], round);
        }
        $.committeeRound = uint64(round);
        emit CommitteeDrawn(runId(), round, seats);
    }

    function _voteIndexOf(
        RunStorage storage $,
        RoundState s,
        address validator
    ) private view returns (uint256) {
        uint256 n = s.votes();
        for (uint256 v = 0; v < n; ++v) {
            if ($.votes[v].validator == validator) return v;
        }
        revert TrainingRunNoVoteCommitted(s.number(), validator);
    }

    /// @dev Adds a validator; a full set admits it by evicting the smallest lock if it is larger.
    function _addValidator(
        RunStorage storage $,
        address node,
        uint256 amount
    ) private returns (address evicted, uint256 evictedLock) {
        uint256 n = $.validatorCount;
        uint256 position = n;
        if (n == RunParamsLib.MAX_VALIDATOR_SET) {
            evictedLock = type(uint256).max;
            for (uint256 i = 0; i < n; ++i) {
                uint256 lock = $.validators[i] >> 160;
                if (lock < evictedLock) (evictedLock, position) = (lock, i);
            }
            if (evictedLock >= amount)
                revert TrainingRunValidatorSetFull(n, evictedLock, amount);
            evicted = address(uint160($.validators[position]));
            Member em = $.members[evicted];
            $.members[evicted] = em.withRole(Role.None);
            $.stakes[evicted] = $.stakes[evicted].withLock(0).withSetSlot(0);
        } else {
            $.validatorCount = n + 1;
        }
        $.validators[position] = uint256(uint160(node)) | (amount << 160);
        $.stakes[node] = $.stakes[node].withSetSlot(position + 1);
    }

    /// @dev leave() and evictStale(): releases `node`'s lock. Not while it is active in the
    ///      unsettled round (that round settles with its slashes, G3), nor a validator while the
    ///      committee is being drawn from the set.
    function _remove(address node, bool stale) private {
        RunStorage storage $ = RoundLib.load();
        Member m = $.members[node];
        Role role = m.role();
        if (role == Role.None) revert TrainingRunNotMember(node);
        RoundState s = $.state;
        Stake k = $.stakes[node];
        if (stale) {
            RunParams storage p = _params($);
            uint256 min = role == Role.Trainer ? p.minTrainerStake : p.minValidatorStake;
            if (k.lock() >= min) revert TrainingRunLockNotStale(node, k.lock(), min);
        }
        if (m.activeRound() == s.number() && !s.hasFlag(RoundLib.FLAG_FINALIZED))
            revert TrainingRunLeaveWhileActive(node, s.number());
        if (role == Role.Trainer) {
            $.trainerTotal -= k.lock();
        } else {
            if (_validatorSetFrozen(s)) revert TrainingRunValidatorSetFrozen(s.number());
            uint256 last = $.validatorCount - 1;
            uint256 position = k.setSlot() - 1;
            if (position != last) {
                uint256 moved = $.validators[last];
                $.validators[position] = moved;
                address movedNode = address(uint160(moved));
                $.stakes[movedNode] = $.stakes[movedNode].withSetSlot(position + 1);
            }
            delete $.validators[last];
            $.validatorCount = last;
        }
        (m, k) = _creditPoints($, s, node, m, k);
        $.members[node] = m.withRole(Role.None);
        $.stakes[node] = k.withLock(0).withSetSlot(0);
        IStakeManager sm = stakeManager();
        uint256 locked = sm.lockedBy(address(this), node);
        if (stale) emit Evicted(runId(), node, role, locked, msg.sender);
        else emit Left(runId(), node, role, locked);
        sm.unlock(node, locked);
    }

    /// @dev Credits `node`'s reward points of a settled round to its rewards (storage is written
    ///      by the caller for the member, here for the stake).
    function _creditPoints(
        RunStorage storage $,
        RoundState s,
        address node,
        Member m,
        Stake k
    ) private returns (Member, Stake) {
        (uint256 amount, bool settled) = _pointsValue($, s, k);
        if (!settled) return (m, k);
        uint256 round = k.pointsRound();
        k = k.withPoints(0, 0);
        $.stakes[node] = k;
        if (amount > 0) {
            m = m.withRewards(m.rewards() + amount);
            $.members[node] = m;
            emit TrainerRewarded(runId(), round, node, amount);
        }
        return (m, k);
    }

    /// @dev What `k`'s points are worth, and whether their round is settled (else 0, false).
    function _pointsValue(
        RunStorage storage $,
        RoundState s,
        Stake k
    ) private view returns (uint256 amount, bool settled) {
        uint256 points = k.points();
        if (points == 0) return (0, false);
        uint256 round = k.pointsRound();
        if (round == s.number() && !s.hasFlag(RoundLib.FLAG_FINALIZED)) return (0, false);
        uint256 pool = $.roundPools[round];
        uint256 totalPoints = pool & MASK128;
        if (totalPoints > 0) amount = ((pool >> 128) * points) / totalPoints;
        return (amount, true);
    }

    /// @dev The parameters of the round in progress.
    function _params(RunStorage storage $) private view returns (RunParams storage) {
        return $.paramSets[$.activeSet];
    }

    // ------------------------------------------------------------------ internal: checks

    function _checkGovernance() private view {
        if (msg.sender != governance()) revert TrainingRunNotGovernance(msg.sender);
    }

    function _checkCid(string calldata cid) private pure {
        uint256 length = bytes(cid).length;
        if (length == 0 || length > MAX_CID_LENGTH)
            revert TrainingRunCidLength(length, MAX_CID_LENGTH);
    }

    function _checkIndex(uint256 index, uint256 count) private pure {
        if (index >= count) revert TrainingRunIndexOutOfRange(index, count);
    }

    /// @dev A word of the clone's immutable args at `offset`, read from this clone's own code.
    function _cloneArg(uint256 offset) private view returns (uint256 word) {
        assembly ("memory-safe") {
            extcodecopy(address(), 0x00, add(CLONE_ARGS_OFFSET, offset), 0x20)
            word := mload(0x00)
        }
    }
}
