// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ITrainingRun} from "./ITrainingRun.sol";

/// @dev The round in progress, packed into one slot so that commit, reveal and submitScores pay
///      a single SLOAD for everything they check (number, deadlines, counts, bounds, flags).
///      bits   0..39  round number        40..79  commitDeadline    80..119 revealDeadline
///           120..159 scoreDeadline      160..175 commits          176..191 reveals
///           192..207 votes              208..223 maxNodes         224..239 maxValidators
///           240..247 flags (FLAG_*)
type RoundState is uint256;

/// @dev A participant's record, one slot that stays nonzero while it is a member (role) or has
///      unclaimed rewards, so the writes of commit, reveal and finalize are nonzero -> nonzero.
///      bits   0..7   role               8..47  activeRound (committed / scored)
///            48..87  revealedRound    128..255 rewards (accrued, unclaimed)
type Member is uint256;

/// @dev One revealed update of the round: bits 0..159 node, 160..223 samples.
type RevealEntry is uint256;

using RoundLib for RoundState global;
using RoundLib for Member global;
using RoundLib for RevealEntry global;

/// @title RoundLib
/// @notice Bit packing of the run's hot storage (round state, member records, revealed updates,
///         score words) and the commitment hash. Pure functions, no storage of their own.
library RoundLib {
    /// @dev The run is paused: the open round runs on and settles, the next one opens only at
    ///      unpause.
    uint256 internal constant FLAG_PAUSED = 1;
    /// @dev The run is halted for good: the open round runs on and settles, no next one opens.
    uint256 internal constant FLAG_HALTED = 2;
    // Flag 4 meant "voided" (paused while open) until G3; a pause no longer voids a round.
    /// @dev The round was finalized while paused or halted; the next one opens at unpause (never
    ///      after a halt).
    uint256 internal constant FLAG_FINALIZED = 8;

    /// @dev Scores are ppm; stored with bit 31 set so a word of all-zero scores is still a
    ///      nonzero slot (the next round's write then costs 2,900 gas, not 20,000).
    uint256 internal constant SCORE_MAX = 1_000_000;
    uint256 internal constant SCORES_PER_WORD = 8;
    uint256 private constant SCORE_PRESENT = 1 << 31;
    uint256 internal constant SCORE_MASK = (1 << 31) - 1;

    uint256 private constant MASK16 = 0xffff;
    uint256 private constant MASK40 = 0xffffffffff;
    uint256 private constant MASK64 = 0xffffffffffffffff;
    uint256 private constant MASK160 = (1 << 160) - 1;

    uint256 private constant COMMITS_SHIFT = 160;
    uint256 private constant REVEALS_SHIFT = 176;
    uint256 private constant VOTES_SHIFT = 192;
    uint256 private constant FLAGS_SHIFT = 240;

    // ------------------------------------------------------------------ RoundState

    /// @dev A freshly opened round: counts zero, flags as given (only FLAG_* bits).
    function openState(
        uint256 number_,
        uint256 commitDeadline_,
        uint256 revealDeadline_,
        uint256 scoreDeadline_,
        uint256 maxNodes_,
        uint256 maxValidators_,
        uint256 flags_
    ) internal pure returns (RoundState) {
        return
            RoundState.wrap(
                (number_ & MASK40) |
                    ((commitDeadline_ & MASK40) << 40) |
                    ((revealDeadline_ & MASK40) << 80) |
                    ((scoreDeadline_ & MASK40) << 120) |
                    ((maxNodes_ & MASK16) << 208) |
                    ((maxValidators_ & MASK16) << 224) |
                    ((flags_ & 0xff) << FLAGS_SHIFT)
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

    function commits(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> COMMITS_SHIFT) & MASK16;
    }

    function reveals(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> REVEALS_SHIFT) & MASK16;
    }

    function votes(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> VOTES_SHIFT) & MASK16;
    }

    function maxNodes(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> 208) & MASK16;
    }

    function maxValidators(RoundState s) internal pure returns (uint256) {
        return (RoundState.unwrap(s) >> 224) & MASK16;
    }

    function hasFlag(RoundState s, uint256 flag) internal pure returns (bool) {
        return (RoundState.unwrap(s) >> FLAGS_SHIFT) & flag != 0;
    }

    function withFlag(RoundState s, uint256 flag) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) | (flag << FLAGS_SHIFT));
    }

    function withoutFlag(RoundState s, uint256 flag) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) & ~(flag << FLAGS_SHIFT));
    }

    /// @dev The caller checked commits < maxNodes <= 0xffff, so the field cannot carry over.
    function incrementCommits(RoundState s) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) + (1 << COMMITS_SHIFT));
    }

    /// @dev reveals <= commits <= maxNodes <= 0xffff, so the field cannot carry over.
    function incrementReveals(RoundState s) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) + (1 << REVEALS_SHIFT));
    }

    /// @dev The caller checked votes < maxValidators <= 0xffff, so the field cannot carry over.
    function incrementVotes(RoundState s) internal pure returns (RoundState) {
        return RoundState.wrap(RoundState.unwrap(s) + (1 << VOTES_SHIFT));
    }

    // ------------------------------------------------------------------ Member

    function newMember(ITrainingRun.Role role_, uint256 rewards_) internal pure returns (Member) {
        return Member.wrap(uint256(role_) | (rewards_ << 128));
    }

    function role(Member m) internal pure returns (ITrainingRun.Role) {
        return ITrainingRun.Role(Member.unwrap(m) & 0xff);
    }

    function activeRound(Member m) internal pure returns (uint256) {
        return (Member.unwrap(m) >> 8) & MASK40;
    }

    function revealedRound(Member m) internal pure returns (uint256) {
        return (Member.unwrap(m) >> 48) & MASK40;
    }

    function rewards(Member m) internal pure returns (uint256) {
        return Member.unwrap(m) >> 128;
    }

    function withRole(Member m, ITrainingRun.Role role_) internal pure returns (Member) {
        return Member.wrap((Member.unwrap(m) & ~uint256(0xff)) | uint256(role_));
    }

    function withActiveRound(Member m, uint256 round) internal pure returns (Member) {
        return Member.wrap((Member.unwrap(m) & ~(MASK40 << 8)) | ((round & MASK40) << 8));
    }

    function withRevealedRound(Member m, uint256 round) internal pure returns (Member) {
        return Member.wrap((Member.unwrap(m) & ~(MASK40 << 48)) | ((round & MASK40) << 48));
    }

    /// @dev rewards_ must fit 128 bits (the run accrues at most emissionPerRound <= 2^96 per
    ///      round per node, checked by the caller).
    function withRewards(Member m, uint256 rewards_) internal pure returns (Member) {
        return Member.wrap((Member.unwrap(m) & ((1 << 128) - 1)) | (rewards_ << 128));
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

    // ------------------------------------------------------------------ score words

    /// @dev Score `k` (0..7) of a packed word; the caller reads only positions it wrote.
    function scoreAt(uint256 word, uint256 k) internal pure returns (uint256) {
        return (word >> (32 * k)) & SCORE_MASK;
    }

    /// @dev Score `score` (<= SCORE_MAX, checked by the caller) for position `k` of a word.
    function scoreBits(uint256 score, uint256 k) internal pure returns (uint256) {
        return (score | SCORE_PRESENT) << (32 * k);
    }

    // ------------------------------------------------------------------ commitment

    /// @notice The commitment a trainer submits: keccak256(abi.encode(runId, round, node, cid,
    ///         contentHash, samples, salt)).
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
}
