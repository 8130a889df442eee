// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ITrainingRun} from "./ITrainingRun.sol";

/// @dev The round in progress, packed into one slot so that commit and reveal pay a single
///      SLOAD for the number, the deadlines, the counts and the flags.
///      bits   0..39  round number        40..79  commitDeadline    80..119 revealDeadline
///           120..159 scoreDeadline      160..199 voteRevealDeadline
///           200..215 commits            216..231 reveals           232..239 votes
///           240..247 flags (FLAG_*)     248..255 vote reveals
type RoundState is uint256;

/// @dev A participant's record, one slot that stays nonzero while it is a member (role) or has
///      unclaimed rewards, so the writes of commit, reveal and settlement are nonzero -> nonzero.
///      bits   0..7   role               8..47  activeRound (committed / committed a vote)
///            48..87  revealedRound      88..127 eligibleFrom (first round its lock counts)
///           128..255 rewards (accrued, unclaimed)
type Member is uint256;

/// @dev The stake side of a member, a second slot: bits 0..95 lock, 96..135 pointsRound,
///      136..247 points (reward points of pointsRound, not yet credited), 248..255 position in
///      the validator set + 1 (0: not in it).
type Stake is uint256;

/// @dev One revealed update of the round: bits 0..159 node, 160..223 samples.
type RevealEntry is uint256;

/// @dev A committee seat of the round: bits 0..159 holder, 160..199 round, 200..207 vote index + 1
///      (0: holder has not committed), 208..223 number of scores revealed for it, 224 revealed.
type Seat is uint256;

using RoundLib for RoundState global;
using RoundLib for Member global;
using RoundLib for Stake global;
using RoundLib for RevealEntry global;
using RoundLib for Seat global;

/// @dev One committee member's vote of the round (slots reused across rounds).
struct VoteRecord {
    address validator;
    uint8 weight; // seats held
    bool revealed;
    uint64 evalLoss;
    bytes32 commitment;
    bytes32 modelHash;
}

/// @dev Everything a run stores, at one ERC-7201 location so that the external settlement
///      library (RoundSettlement) works on the same storage through a pointer.
/// @custom:storage-location erc7201:protolearn.storage.TrainingRun
struct RunStorage {
    RoundState state;
    /// @dev block whose hash is the round's randomness (0: not armed)
    uint64 challengeBlock;
    /// @dev the round the stored committee was drawn for (0: none)
    uint64 committeeRound;
    uint8 activeSet;
    bool hasPending;
    address guardian;
    /// @dev rand_r once read from blockhash(challengeBlock) (0: not yet)
    bytes32 randomness;
    /// @dev rand_{r-1}: this round's trainer seat lottery and seed
    bytes32 seatRandomness;
    bytes32 seed;
    bytes32 modelHash;
    uint64 evalLoss;
    /// @dev trainer lock eligible for this round's lottery, and the snapshot for the next round
    uint256 seatTotal;
    uint256 nextSeatTotal;
    /// @dev all trainer locks now (a join or raise counts in a later snapshot)
    uint256 trainerTotal;
    ITrainingRun.RunParams[2] paramSets;
    string initialModelCid;
    mapping(address node => Member) members;
    mapping(address node => Stake) stakes;
    /// @dev The node's commitment; replaced by its update's content hash at reveal.
    mapping(address node => bytes32) commitments;
    mapping(uint256 index => address) committers;
    mapping(uint256 index => RevealEntry) reveals;
    uint256 validatorCount;
    /// @dev validator set entry: address | lock << 160
    mapping(uint256 position => uint256) validators;
    mapping(uint256 seat => Seat) seats;
    mapping(uint256 index => VoteRecord) votes;
    /// @dev key (seat << 8) | word: eight 32-bit scores per word
    mapping(uint256 key => uint256) seatScores;
    /// @dev settlement cursor: bits 0..15 items settled, 16..31 accepted, 32..47 invalid
    uint256 settleCursor;
    /// @dev per-seat positions during settlement: 16 bits per seat
    uint256 seatCursors;
    uint256 totalPoints;
    /// @dev per settled round: trainer pool << 128 | total points
    mapping(uint256 round => uint256) roundPools;
    /// @dev per-seat count, 16 bits per seat, of the scores that matched their update's median
    ///      (within SCORE_AGREEMENT_PPM) during settlement: the seat's share of the validator pool
    uint256 seatAgreements;
}

/// @title RoundLib
/// @notice Bit packing of the run's hot storage, its storage location, the commitment hashes and
///         the draws (trainer seats, committee, assignment). Pure functions, no storage of its own.
library RoundLib {
    /// @dev keccak256(abi.encode(uint256(keccak256("protolearn.storage.TrainingRun")) - 1)) & ~0xff
    bytes32 internal constant STORAGE_SLOT =
        0x7c770b64c05ecccef741da87443e7b1f1d51fb835030e17f497f7a51a8c75600;

    uint256 internal constant FLAG_PAUSED = 1;
    uint256 internal constant FLAG_HALTED = 2;
    // Flag 4 meant "voided" until G3.
    uint256 internal constant FLAG_FINALIZED = 8;

    /// @dev Scores are ppm; stored with bit 31 set so a word of zero scores is a nonzero slot.
    uint256 internal constant SCORE_MAX = 1_000_000;
    uint256 internal constant SCORES_PER_WORD = 8;
    uint256 internal constant SCORE_PRESENT = 1 << 31;
    uint256 internal constant SCORE_MASK = (1 << 31) - 1;
    /// @dev Seat lottery resolution.
    uint256 internal constant DRAW_SCALE = 1_000_000;

    uint256 private constant MASK8 = 0xff;
    uint256 private constant MASK16 = 0xffff;
    uint256 private constant MASK40 = 0xffffffffff;
    uint256 private constant MASK64 = 0xffffffffffffffff;
    uint256 private constant MASK96 = (1 << 96) - 1;
    uint256 private constant MASK112 = (1 << 112) - 1;
    uint256 private constant MASK160 = (1 << 160) - 1;

    function load() internal pure returns (RunStorage storage $) {
        bytes32 slot = STORAGE_SLOT;
        assembly ("memory-safe") {
            $.slot := slot
        }
    }

    // ------------------------------------------------------------------ RoundState

    function openState(
        uint256 number_,
        uint256 commitDeadline_,
        uint256 revealDeadline_,
        uint256 scoreDeadline_,
        uint256 voteRevealDeadline_,
        uint256 flags_
    ) internal pure returns (RoundState) {
        return
            RoundState.wrap(
                (number_ & MASK40) |
                    ((commitDeadline_ & MASK40) << 40) |
                    ((revealDeadline_ & MASK40) << 80) |
                    ((scoreDeadline_ & MASK40) << 120) |
                    ((voteRevealDeadline_ & MASK40) << 160) |
                    ((flags_ & MASK8) << 240)
            );
    }

    function number(RoundState s) internal pure returns (uint256) {
        return RoundState.unwrap(s) & MASK40;
    }

    function commitDeadline(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> 40) & MASK40;
    }

    function revealDeadline(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> 80) & MASK40;
    }

    function scoreDeadline(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> 120) & MASK40;
    }

    function voteRevealDeadline(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> 160) & MASK40;
    }

    function commits(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> 200) & MASK16;
    }

    function reveals(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> 216) & MASK16;
    }

    function votes(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> 232) & MASK8;
    }

    function voteReveals(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> 248) & MASK8;
    }

    function hasFlag(RoundState s, uint256 flag) internal pure returns (bool) {
        return (RoundState.unwrap(s) >> 240) & flag != 0;
    }

    function withFlag(RoundState s, uint256 flag) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) | (flag << 240));
    }

    function withoutFlag(RoundState s, uint256 flag) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) & ~(flag << 240));
    }

    /// @dev Callers bound commits by maxNodesPerRound <= 1024.
    function incrementCommits(RoundState s) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) + (1 << 200));
    }

    function incrementReveals(RoundState s) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) + (1 << 216));
    }

    /// @dev Votes <= committee seats <= 16.
    function incrementVotes(RoundState s) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) + (1 << 232));
    }

    function incrementVoteReveals(RoundState s) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) + (1 << 248));
    }

    // ------------------------------------------------------------------ Member

    function role(Member m) internal pure returns (ITrainingRun.Role) {
        return ITrainingRun.Role(Member.unwrap(m) & MASK8);
    }

    function activeRound(Member m) internal pure returns (uint256) {
        return (Member.unwrap(m) >> 8) & MASK40;
    }

    function revealedRound(Member m) internal pure returns (uint256) {
        return (Member.unwrap(m) >> 48) & MASK40;
    }

    function eligibleFrom(Member m) internal pure returns (uint256) {
        return (Member.unwrap(m) >> 88) & MASK40;
    }

    function rewards(Member m) internal pure returns (uint256) {
        return Member.unwrap(m) >> 128;
    }

    function withRole(Member m, ITrainingRun.Role role_) internal pure returns (Member) {
        return Member.wrap((Member.unwrap(m) & ~MASK8) | uint256(role_));
    }

    function withActiveRound(Member m, uint256 round) internal pure returns (Member) {
        return Member.wrap((Member.unwrap(m) & ~(MASK40 << 8)) | ((round & MASK40) << 8));
    }

    function withRevealedRound(Member m, uint256 round) internal pure returns (Member) {
        return Member.wrap((Member.unwrap(m) & ~(MASK40 << 48)) | ((round & MASK40) << 48));
    }

    function withEligibleFrom(Member m, uint256 round) internal pure returns (Member) {
        return Member.wrap((Member.unwrap(m) & ~(MASK40 << 88)) | ((round & MASK40) << 88));
    }

    /// @dev rewards_ must fit 128 bits (at most emissionPerRound <= 2^96 per round).
    function withRewards(Member m, uint256 rewards_) internal pure returns (Member) {
        return Member.wrap((Member.unwrap(m) & ((1 << 128) - 1)) | (rewards_ << 128));
    }

    // ------------------------------------------------------------------ Stake

    function lock(Stake k) internal pure returns (uint256) {
        return Stake.unwrap(k) & MASK96;
    }

    function pointsRound(Stake k) internal pure returns (uint256) {
        return (Stake.unwrap(k) >> 96) & MASK40;
    }

    function points(Stake k) internal pure returns (uint256) {
        return (Stake.unwrap(k) >> 136) & MASK112;
    }

    /// @dev Position in the validator set + 1 (0: not in the set).
    function setSlot(Stake k) internal pure returns (uint256) {
        return Stake.unwrap(k) >> 248;
    }

    /// @dev lock_ fits 96 bits (checked at join/raise).
    function withLock(Stake k, uint256 lock_) internal pure returns (Stake) {
        return Stake.wrap((Stake.unwrap(k) & ~MASK96) | (lock_ & MASK96));
    }

    function withPoints(Stake k, uint256 round, uint256 points_) internal pure returns (Stake) {
        uint256 cleared = Stake.unwrap(k) & ~((MASK40 << 96) | (MASK112 << 136));
        return Stake.wrap(cleared | ((round & MASK40) << 96) | ((points_ & MASK112) << 136));
    }

    function withSetSlot(Stake k, uint256 slot) internal pure returns (Stake) {
        return Stake.wrap((Stake.unwrap(k) & ~(MASK8 << 248)) | ((slot & MASK8) << 248));
    }

    // ------------------------------------------------------------------ RevealEntry

    function newRevealEntry(address node_, uint64 samples_) internal pure returns (RevealEntry) {
        return RevealEntry.wrap(uint256(uint160(node_)) | (uint256(samples_) << 160));
    }

    function node(RevealEntry e) internal pure returns (address) {
        return address(uint160(RevealEntry.unwrap(e) & MASK160));
    }

    function samples(RevealEntry e) internal pure returns (uint64) {
        return uint64((RevealEntry.unwrap(e) >> 160) & MASK64);
    }

    // ------------------------------------------------------------------ Seat

    function newSeat(address holder_, uint256 round) internal pure returns (Seat) {
        return Seat.wrap(uint256(uint160(holder_)) | ((round & MASK40) << 160));
    }

    function holder(Seat t) internal pure returns (address) {
        return address(uint160(Seat.unwrap(t) & MASK160));
    }

    function seatRound(Seat t) internal pure returns (uint256) {
        return (Seat.unwrap(t) >> 160) & MASK40;
    }

    /// @dev Vote index + 1 of the holder's vote (0: no vote committed).
    function voteSlot(Seat t) internal pure returns (uint256) {
        return (Seat.unwrap(t) >> 200) & MASK8;
    }

    function scoreCount(Seat t) internal pure returns (uint256) {
        return (Seat.unwrap(t) >> 208) & MASK16;
    }

    function seatRevealed(Seat t) internal pure returns (bool) {
        return (Seat.unwrap(t) >> 224) & 1 == 1;
    }

    function withVoteSlot(Seat t, uint256 slot) internal pure returns (Seat) {
        return Seat.wrap((Seat.unwrap(t) & ~(MASK8 << 200)) | ((slot & MASK8) << 200));
    }

    function withReveal(Seat t, uint256 count) internal pure returns (Seat) {
        return Seat.wrap((Seat.unwrap(t) & ~(MASK16 << 208)) | ((count & MASK16) << 208) | (1 << 224));
    }

    // ------------------------------------------------------------------ score words

    function scoreAt(uint256 word, uint256 k) internal pure returns (uint256) {
        return (word >> (32 * k)) & SCORE_MASK;
    }

    function scoreBits(uint256 score, uint256 k) internal pure returns (uint256) {
        return (score | SCORE_PRESENT) << (32 * k);
    }

    // ------------------------------------------------------------------ draws

    /// @notice A trainer's seat lottery draw in ppm: uint256(keccak256(abi.encode(rand, node))) % 1e6.
    function seatDrawOf(bytes32 rand, address node_) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(rand, node_))) % DRAW_SCALE;
    }

    /// @notice The lottery threshold: min(1e6, seats x lock x 1e6 / total) (0 when total is 0).
    function seatThreshold(
        uint256 seats,
        uint256 lock_,
        uint256 total
    ) internal pure returns (uint256) {
        if (total == 0) return 0;
        // seats < 2^16, lock < 2^96, DRAW_SCALE < 2^20: no overflow
        uint256 t = (seats * lock_ * DRAW_SCALE) / total;
        return t > DRAW_SCALE ? DRAW_SCALE : t;
    }

    /// @notice The point committee seat `seat` lands on in [0, total).
    function seatPoint(bytes32 rand, uint256 seat, uint256 total) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(rand, seat))) % total;
    }

    /// @notice The first of the k consecutive committee seats (mod C) that score `node`'s update.
    function assignmentBase(
        bytes32 rand,
        address node_,
        uint256 committeeSize
    ) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(rand, node_))) % committeeSize;
    }

    /// @notice Whether seat `seat` is one of the k seats (base + t) % C, t < k.
    function scoresUpdate(
        uint256 base,
        uint256 seat,
        uint256 k,
        uint256 committeeSize
    ) internal pure returns (bool) {
        return (seat + committeeSize - base) % committeeSize < k;
    }

    // ------------------------------------------------------------------ commitments

    /// @notice A trainer's commitment: keccak256(abi.encode(runId, round, node, cid, contentHash,
    ///         samples, salt)).
    function commitment(
        uint256 runId_,
        uint256 round,
        address node_,
        string calldata cid,
        bytes32 contentHash,
        uint64 samples_,
        bytes32 salt
    ) internal pure returns (bytes32) {
        return keccak256(abi.encode(runId_, round, node_, cid, contentHash, samples_, salt));
    }

    /// @notice A validator's vote commitment: keccak256(abi.encode(runId, round, validator,
    ///         seatLengths, scores, modelHash, evalLoss, salt)).
    function voteCommitment(
        uint256 runId_,
        uint256 round,
        address validator,
        uint16[] calldata seatLengths,
        uint32[] calldata scores,
        bytes32 modelHash,
        uint64 evalLoss,
        bytes32 salt
    ) internal pure returns (bytes32) {
        return
            keccak256(
                abi.encode(runId_, round, validator, seatLengths, scores, modelHash, evalLoss, salt)
            );
    }
}
