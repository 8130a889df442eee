// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {ITrainingRun} from "./ITrainingRun.sol";
import {RoundLib, RunStorage, Seat} from "./RoundLib.sol";
import {RunParamsLib} from "./RunParamsLib.sol";

/// @title Committee
/// @notice The validator committee of a round: the stake-weighted draw of its seats, the
///         updates each seat scores, and the storage of a revealed vote's scores.
/// @dev An external library (DELEGATECALLed by TrainingRun on its own storage) so that the
///      run stays under the 24 KiB code limit.
library Committee {
    /// @dev C seats drawn with replacement, each landing on a validator with probability
    ///      lock / T over the locks at or above the minimum (T their sum).
    function draw(RunStorage storage $, bytes32 rand) external view returns (address[] memory seats) {
        ITrainingRun.RunParams storage p = $.paramSets[$.activeSet];
        uint256 c = p.committeeSize;
        seats = new address[](c);
        uint256 n = $.validatorCount;
        uint256 min = p.minValidatorStake;
        uint256[] memory entries = new uint256[](n);
        uint256 total = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 entry = $.validators[i];
            entries[i] = entry;
            uint256 lock = entry >> 160;
            if (lock >= min) total += lock;
        }
        if (total == 0) return seats;
        for (uint256 j = 0; j < c; ++j) {
            uint256 x = RoundLib.seatPoint(rand, j, total);
            uint256 cumulative = 0;
            for (uint256 i = 0; i < n; ++i) {
                uint256 lock = entries[i] >> 160;
                if (lock < min) continue;
                cumulative += lock;
                if (x < cumulative) {
                    seats[j] = address(uint160(entries[i]));
                    break;
                }
            }
        }
    }

    /// @notice The revealed-update indices that seat `seat` scores, in reveal order.
    function assignedTo(
        RunStorage storage $,
        bytes32 rand,
        uint256 seat
    ) external view returns (uint256[] memory indices) {
        ITrainingRun.RunParams storage p = $.paramSets[$.activeSet];
        uint256 n = $.state.reveals();
        indices = new uint256[](n);
        uint256 m = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 base = RoundLib.assignmentBase(rand, $.reveals[i].node(), p.committeeSize);
            if (RoundLib.scoresUpdate(base, seat, p.scorersPerUpdate, p.committeeSize)) {
                indices[m] = i;
                ++m;
            }
        }
        assembly ("memory-safe") {
            mstore(indices, m)
        }
    }

    /// @dev Stores the revealed scores per held seat (ascending) at keys (seat << 8) | word.
    function storeVoteScores(
        RunStorage storage $,
        uint256 committeeSize,
        uint16[] calldata seatLengths,
        uint32[] calldata scores
    ) external {
        uint256 offset = 0;
        uint256 h = 0;
        for (uint256 j = 0; j < committeeSize; ++j) {
            Seat seat = $.seats[j];
            if (seat.holder() != msg.sender) continue;
            uint256 len = seatLengths[h];
            ++h;
            if (len > RunParamsLib.MAX_NODES_PER_ROUND || offset + len > scores.length)
                revert ITrainingRun.TrainingRunVoteShapeMismatch(offset + len, scores.length);
            uint256 word = 0;
            for (uint256 q = 0; q < len; ++q) {
                uint256 score = scores[offset + q];
                if (score > RoundLib.SCORE_MAX)
                    revert ITrainingRun.TrainingRunScoreOutOfRange(offset + q, score, RoundLib.SCORE_MAX);
                uint256 slot = q % RoundLib.SCORES_PER_WORD;
                word |= RoundLib.scoreBits(score, slot);
                if (slot == RoundLib.SCORES_PER_WORD - 1 || q == len - 1) {
                    $.seatScores[(j << 8) | (q / RoundLib.SCORES_PER_WORD)] = word;
                    word = 0;
                }
            }
            offset += len;
            $.seats[j] = seat.withReveal(len);
        }
        if (offset != scores.length) revert ITrainingRun.TrainingRunVoteShapeMismatch(offset, scores.length);
    }

}
