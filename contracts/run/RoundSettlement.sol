// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IStakeManager} from "../staking/IStakeManager.sol";
import {IRewardToken} from "./IRewardToken.sol";
import {ITrainingRun} from "./ITrainingRun.sol";
import {Member, RevealEntry, RoundLib, RoundState, RunStorage, Seat, Stake, VoteRecord} from "./RoundLib.sol";
import {RunParamsLib} from "./RunParamsLib.sol";
import {Settlement} from "./Settlement.sol";
import {WeightedMedian} from "./WeightedMedian.sol";

/// @title RoundSettlement
/// @notice A round's settlement in bounded batches that anyone may send (P7): per revealed update
///         the median of its k scorers, accept or slash, reward points; then the unrevealed
///         committers; and, in the call that settles the last item, the model majority, the
///         validators' pay and slashes, the trainer pool and the mint.
/// @dev An external library: TrainingRun DELEGATECALLs it, so it runs on the run's storage (one
///      ERC-7201 struct) and calls the StakeManager and the token as the run. It keeps the run
///      under the 24 KiB code limit. The caller (TrainingRun.finalizeRound) is nonReentrant,
///      has checked the phase and passes the round's fixed randomness.
library RoundSettlement {
    uint256 private constant MASK16 = 0xffff;
    uint256 private constant MASK128 = (1 << 128) - 1;
    /// @dev Whatever maxItems a caller passes, one call settles at most this many items and
    ///      stops after this many slashes, and stops once its items have used ITEMS_GAS_BUDGET,
    ///      so no settlement transaction can exceed the 2^24 gas cap (EIP-7825). The item and
    ///      slash counts alone do not bound it: an item costs ~18k gas at k = 4 but ~34k at
    ///      k = 16, a slashed one ~160k, so 448 items + 64 slashes at k = 16 take ~25M
    ///      (test/contracts/TrainingRunWorstCase.test.ts). The gas budget keeps a call's items
    ///      under ~9.2M (the budget plus one item), leaving room for the closing call's tally,
    ///      mint and up to 16 validator slashes (~2.7M) under 3/4 of 2^24. Only how the items
    ///      split into calls depends on gas; what each item settles to does not.
    uint256 internal constant MAX_ITEMS_PER_CALL = 512;
    uint256 internal constant MAX_SLASHES_PER_CALL = 64;
    uint256 internal constant ITEMS_GAS_BUDGET = 9_000_000;
    /// @dev A seat's score agrees with its update's median when they differ by at most this many
    ///      ppm: validators on the same backend give identical scores, on different backends a
    ///      few ppm apart; a score guessed without scoring (vote copying, issue 11) rarely lands
    ///      within 0.1 percentage point of the median. A validator is paid per agreeing score.
    uint256 internal constant SCORE_AGREEMENT_PPM = 1_000;

    /// @dev What every item of the batch needs, read once.
    struct Batch {
        uint256 runId;
        uint256 round;
        bytes32 rand;
        IStakeManager sm;
        uint256 committeeSize;
        uint256 scorers;
        uint256 quorum;
        uint256 acceptScore;
        uint256 maxSamples;
        uint256 invalidBps;
        uint256 noRevealBps;
        uint256 counters; // seat cursors, 16 bits per seat
        uint256 agreements; // per seat, 16 bits: scores that matched their update's median
        uint256 slashes; // slashes made by this call
        uint256 accepted;
        uint256 invalid;
        uint256 totalPoints;
        Seat[] seats;
        uint256[] wordIndex; // per seat: the score word cached (+1; 0 = none)
        uint256[] words;
        uint256[] entries; // median scratch
        uint256[] scored; // score << 8 | seat of each entry (the median sorts `entries` in place)
    }

    /// @notice Settles up to `maxItems` items of the current round; returns whether it is done.
    function settle(
        RunStorage storage $,
        uint256 runId,
        IStakeManager sm,
        address token,
        bytes32 rand,
        uint256 maxItems
    ) external returns (bool done) {
        Batch memory b = _batch($, runId, sm, rand);
        if (!_process($, b, maxItems)) return false;
        _close($, b, token);
        return true;
    }

    /// @dev Settles the next `maxItems` items; returns whether none is left.
    function _process(RunStorage storage $, Batch memory b, uint256 maxItems) private returns (bool) {
        RoundState s = $.state;
        uint256 reveals = s.reveals();
        uint256 total = reveals + (s.commits() > reveals ? s.commits() : 0);
        uint256 processed = $.settleCursor & MASK16;
        uint256 end = processed + (maxItems < MAX_ITEMS_PER_CALL ? maxItems : MAX_ITEMS_PER_CALL);
        if (end > total) end = total;
        uint256 gasAtStart = gasleft();
        for (uint256 i = processed; i < end; ++i) {
            if (i < reveals) _settleUpdate($, b, i);
            else _settleCommitter($, b, i - reveals);
            if (b.slashes >= MAX_SLASHES_PER_CALL || gasAtStart - gasleft() >= ITEMS_GAS_BUDGET)
                end = i + 1;
        }
        $.settleCursor = end | (b.accepted << 16) | (b.invalid << 32);
        $.seatCursors = b.counters;
        $.seatAgreements = b.agreements;
        $.totalPoints = b.totalPoints;
        if (end > processed) emit ITrainingRun.SettlementProgress(b.runId, b.round, end, total);
        return end == total;
    }

    function _batch(
        RunStorage storage $,
        uint256 runId,
        IStakeManager sm,
        bytes32 rand
    ) private view returns (Batch memory b) {
        ITrainingRun.RunParams storage p = $.paramSets[$.activeSet];
        b.runId = runId;
        b.round = $.state.number();
        b.rand = rand;
        b.sm = sm;
        b.committeeSize = p.committeeSize;
        b.scorers = p.scorersPerUpdate;
        b.quorum = b.scorers / 2 + 1;
        b.acceptScore = p.acceptScorePpm;
        b.maxSamples = uint256(p.innerSteps) * p.batchSize;
        b.invalidBps = p.invalidSlashBps;
        b.noRevealBps = p.noRevealSlashBps;
        b.counters = $.seatCursors;
        b.agreements = $.seatAgreements;
        uint256 cursor = $.settleCursor;
        b.accepted = (cursor >> 16) & MASK16;
        b.invalid = (cursor >> 32) & MASK16;
        b.totalPoints = $.totalPoints;
        uint256 c = b.committeeSize;
        b.seats = new Seat[](c);
        b.wordIndex = new uint256[](c);
        b.words = new uint256[](c);
        b.entries = new uint256[](b.scorers);
        b.scored = new uint256[](b.scorers);
        // seats of an earlier round (or never drawn) count as unrevealed
        bool drawn = $.committeeRound == b.round;
        for (uint256 j = 0; j < c; ++j) {
            if (drawn) b.seats[j] = $.seats[j];
        }
    }

    /// @dev Revealed update `i`: the lower median of its revealed scorer seats (weight 1 each).
    function _settleUpdate(RunStorage storage $, Batch memory b, uint256 i) private {
        RevealEntry e = $.reveals[i];
        address node = e.node();
        (uint256 median, uint256 n, uint256 zeros) = _scoresOf($, b, node);
        bool decided = n >= b.quorum;
        bool accepted = decided && median >= b.acceptScore;
        if (decided) _countAgreements(b, n, median);
        uint256 points = 0;
        if (accepted) {
            uint256 samples = e.samples();
            points = median * (samples < b.maxSamples ? samples : b.maxSamples);
            $.stakes[node] = $.stakes[node].withPoints(b.round, points);
            b.totalPoints += points;
            ++b.accepted;
        }
        // a median is a submitted score (<= SCORE_MAX), n <= k <= 16
        emit ITrainingRun.UpdateScored(
            b.runId,
            b.round,
            node,
            i,
            uint32(median),
            uint16(n),
            accepted,
            points
        );
        // invalid only if EVERY revealed scorer seat gave 0: a colluding minority that holds some of
        // an update's k seats can keep it out of the accepted set, but cannot slash it (issue 11)
        if (decided && zeros == n) {
            ++b.invalid;
            // after reveal the node's commitment slot holds the update's content hash
            bytes32 evidence = $.commitments[node];
            _slash($, b, node, IStakeManager.SlashReason.InvalidUpdate, b.invalidBps, evidence);
        }
    }

    /// @dev Credits each of the update's `n` revealed seats whose score is within
    ///      SCORE_AGREEMENT_PPM of the median and of a score by another holder's seat (unless one
    ///      holder has them all): a validator holding two of an update's three seats makes its
    ///      own guess the median, so the median alone would pay a guesser (vote copying).
    ///      16-bit counters: a seat scores at most 1,024 updates. O(n^2), n <= k <= 16.
    function _countAgreements(Batch memory b, uint256 n, uint256 median) private pure {
        bool oneHolder = true;
        address first = b.seats[b.scored[0] & 0xff].holder();
        for (uint256 t = 1; t < n; ++t) {
            if (b.seats[b.scored[t] & 0xff].holder() != first) oneHolder = false;
        }
        for (uint256 t = 0; t < n; ++t) {
            uint256 score = b.scored[t] >> 8;
            if (_gap(score, median) > SCORE_AGREEMENT_PPM) continue;
            bool confirmed = oneHolder;
            address holder = b.seats[b.scored[t] & 0xff].holder();
            for (uint256 u = 0; u < n && !confirmed; ++u) {
                if (b.seats[b.scored[u] & 0xff].holder() == holder) continue;
                confirmed = _gap(b.scored[u] >> 8, score) <= SCORE_AGREEMENT_PPM;
            }
            if (confirmed) b.agreements += 1 << (16 * (b.scored[t] & 0xff));
        }
    }

    function _gap(uint256 x, uint256 y) private pure returns (uint256) {
        return x > y ? x - y : y - x;
    }

    /// @dev The scores `node`'s k seats revealed for it (advancing each seat's cursor): their
    ///      lower median, how many there are, and how many are 0.
    function _scoresOf(
        RunStorage storage $,
        Batch memory b,
        address node
    ) private view returns (uint256 median, uint256 n, uint256 zeros) {
        uint256 c = b.committeeSize;
        uint256 base = RoundLib.assignmentBase(b.rand, node, c);
        for (uint256 t = 0; t < b.scorers; ++t) {
            uint256 j = (base + t) % c;
            uint256 pos = (b.counters >> (16 * j)) & MASK16;
            b.counters += 1 << (16 * j);
            Seat seat = b.seats[j];
            if (!seat.seatRevealed() || pos >= seat.scoreCount()) continue;
            uint256 w = pos / RoundLib.SCORES_PER_WORD;
            if (b.wordIndex[j] != w + 1) {
                b.words[j] = $.seatScores[(j << 8) | w];
                b.wordIndex[j] = w + 1;
            }
            uint256 score = RoundLib.scoreAt(b.words[j], pos % RoundLib.SCORES_PER_WORD);
            if (score == 0) ++zeros;
            b.entries[n] = (score << 128) | 1;
            b.scored[n] = (score << 8) | j;
            ++n;
        }
        if (n > 0) (median, ) = WeightedMedian.lowerMedian(b.entries, n);
    }

    /// @dev Committer `c`: slashed if it never revealed (its slot still holds the commitment).
    function _settleCommitter(RunStorage storage $, Batch memory b, uint256 c) private {
        address node = $.committers[c];
        if ($.members[node].revealedRound() == b.round) return;
        _slash($, b, node, IStakeManager.SlashReason.NoReveal, b.noRevealBps, $.commitments[node]);
    }

    /// @dev Everything decided once per round, after the last item.
    struct Close {
        uint256 voters;
        address[] validators;
        uint256[] weights; // revealed seats (0 if the vote was not revealed)
        bytes32[] hashes;
        uint256[] losses;
        uint256[] rewards;
        uint256 revealedWeight;
        bool majority;
        bytes32 payHash; // the hash whose backers are paid (majority, or strict plurality)
        uint256 payWeight;
        ITrainingRun.RoundFailure failure;
        uint64 evalLoss;
    }

    function _close(RunStorage storage $, Batch memory b, address token) private {
        RoundState s = $.state;
        // closed before any external call (mint, slash)
        $.state = s.withFlag(RoundLib.FLAG_FINALIZED);
        ITrainingRun.RunParams storage p = $.paramSets[$.activeSet];
        Close memory c = _loadVotes($, s.votes());
        _decide(c, b.accepted, p.minUpdates);
        uint256 emission = p.emissionPerRound;
        uint256 validatorPool = (emission * p.validatorShareBps) / RunParamsLib.BPS;
        uint256 trainerPool = 0;
        if (c.failure == ITrainingRun.RoundFailure.None && b.totalPoints > 0) {
            trainerPool = emission - validatorPool;
        }
        // a validator backing the paid hash is paid per score of its seats that matched the
        // update's median: attesting the model without scoring earns nothing (vote copying)
        uint256[] memory payWeights = new uint256[](c.voters);
        uint256 paySum = 0;
        if (c.payWeight > 0) {
            for (uint256 j = 0; j < b.committeeSize; ++j) {
                uint256 slot = b.seats[j].voteSlot();
                if (slot == 0) continue; // an undrawn committee leaves b.seats zero
                uint256 v = slot - 1;
                if (c.weights[v] == 0 || c.hashes[v] != c.payHash) continue;
                uint256 agreed = (b.agreements >> (16 * j)) & MASK16;
                payWeights[v] += agreed;
                paySum += agreed;
            }
        }
        uint256 minted = trainerPool +
            Settlement.split(validatorPool, payWeights, c.voters, paySum, c.rewards);
        if (minted > 0) {
            // A failing mint (cap reached, MINTER_ROLE revoked) must not block the run.
            try IRewardToken(token).mint(address(this), minted) {} catch {
                emit ITrainingRun.EmissionFailed(b.runId, b.round, minted);
                minted = 0;
                trainerPool = 0;
                c.rewards = new uint256[](c.voters);
            }
        }
        $.roundPools[b.round] = (trainerPool << 128) | (b.totalPoints & MASK128);
        emit ITrainingRun.TrainerPoolSet(b.runId, b.round, trainerPool, b.totalPoints);
        _settleValidators($, b, c, p);
        if (c.failure == ITrainingRun.RoundFailure.None) {
            $.modelHash = c.payHash;
            $.evalLoss = c.evalLoss;
            emit ITrainingRun.ModelAgreed(
                b.runId,
                b.round,
                c.payHash,
                c.evalLoss,
                b.accepted,
                minted
            );
        } else {
            emit ITrainingRun.RoundFailed(b.runId, b.round, c.failure);
        }
    }

    function _loadVotes(RunStorage storage $, uint256 voters) private view returns (Close memory c) {
        c.voters = voters;
        c.validators = new address[](voters);
        c.weights = new uint256[](voters);
        c.hashes = new bytes32[](voters);
        c.losses = new uint256[](voters);
        c.rewards = new uint256[](voters);
        for (uint256 v = 0; v < voters; ++v) {
            VoteRecord storage r = $.votes[v];
            c.validators[v] = r.validator;
            if (!r.revealed) continue;
            c.weights[v] = r.weight;
            c.hashes[v] = r.modelHash;
            c.losses[v] = r.evalLoss;
            c.revealedWeight += r.weight;
        }
    }

    /// @dev The 2/3 majority of the revealed seats (or the strict plurality, paid but not
    ///      adopted), its held-out loss and the round's failure reason.
    function _decide(Close memory c, uint256 accepted, uint256 minUpdates) private pure {
        if (c.revealedWeight == 0) {
            c.failure = ITrainingRun.RoundFailure.NoValidatorVotes;
            return;
        }
        (c.majority, c.payHash, c.payWeight) = Settlement.modelMajority(
            c.hashes,
            c.weights,
            c.voters,
            c.revealedWeight
        );
        if (!c.majority) {
            (c.payHash, c.payWeight) = Settlement.strictPlurality(c.hashes, c.weights, c.voters);
            c.failure = ITrainingRun.RoundFailure.NoModelMajority;
            return;
        }
        uint256[] memory entries = new uint256[](c.voters);
        uint256 m = 0;
        for (uint256 v = 0; v < c.voters; ++v) {
            if (c.weights[v] == 0 || c.hashes[v] != c.payHash) continue;
            entries[m] = WeightedMedian.pack(c.losses[v], c.weights[v]);
            ++m;
        }
        (uint256 loss, ) = WeightedMedian.lowerMedian(entries, m);
        c.evalLoss = uint64(loss); // losses were revealed as uint64
        if (accepted < minUpdates) c.failure = ITrainingRun.RoundFailure.TooFewAcceptedUpdates;
    }

    /// @dev Credits, reports and slashes every committee member that committed a vote.
    function _settleValidators(
        RunStorage storage $,
        Batch memory b,
        Close memory c,
        ITrainingRun.RunParams storage p
    ) private {
        for (uint256 v = 0; v < c.voters; ++v) {
            address validator = c.validators[v];
            uint256 reward = c.rewards[v];
            if (reward > 0) {
                Member m = $.members[validator];
                $.members[validator] = m.withRewards(m.rewards() + reward);
            }
            bool revealed = c.weights[v] > 0;
            emit ITrainingRun.ValidatorSettled(
                b.runId,
                b.round,
                validator,
                revealed && c.payWeight > 0 && c.hashes[v] == c.payHash,
                reward
            );
            if (!revealed) {
                _slash(
                    $,
                    b,
                    validator,
                    IStakeManager.SlashReason.VoteNotRevealed,
                    p.noRevealSlashBps,
                    $.votes[v].commitment
                );
            } else if (c.majority && c.hashes[v] != c.payHash) {
                _slash(
                    $,
                    b,
                    validator,
                    IStakeManager.SlashReason.ValidatorDisagreement,
                    p.validatorSlashBps,
                    c.hashes[v]
                );
            }
        }
    }

    /// @dev Slashes `bps` of the lock this run holds of `node`, and shrinks the run's record of
    ///      it (and the trainer total or the validator set entry) by what was taken.
    function _slash(
        RunStorage storage $,
        Batch memory b,
        address node,
        IStakeManager.SlashReason reason,
        uint256 bps,
        bytes32 evidence
    ) private {
        if (bps == 0) return;
        Stake k = $.stakes[node];
        uint256 lock = k.lock();
        uint256 amount = (lock * bps) / RunParamsLib.BPS;
        if (amount == 0) return;
        (uint256 slashId, uint256 slashed) = b.sm.slash(
            node,
            amount,
            reason,
            b.runId,
            b.round,
            evidence
        );
        if (slashed == 0) return;
        if (slashed > lock) slashed = lock;
        uint256 left = lock - slashed;
        $.stakes[node] = k.withLock(left);
        ITrainingRun.Role role = $.members[node].role();
        if (role == ITrainingRun.Role.Trainer) {
            $.trainerTotal -= slashed;
        } else if (role == ITrainingRun.Role.Validator && k.setSlot() > 0) {
            $.validators[k.setSlot() - 1] = uint256(uint160(node)) | (left << 160);
        }
        ++b.slashes;
        emit ITrainingRun.NodeSlashed(b.runId, b.round, node, reason, slashed, slashId);
    }
}
