// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title Settlement
/// @notice Pure arithmetic of a round's finalize: the 2/3 supermajority test, the model-hash
///         majority and the pro-rata reward split. No storage, so it is tested on its own.
library Settlement {
    /// @notice Whether `part` is at least two thirds of `total` (false when total is 0).
    function isSupermajority(uint256 part, uint256 total) internal pure returns (bool) {
        // 3 * part and 2 * total cannot overflow: both are sums of stakes below 2^208
        return total > 0 && 3 * part >= 2 * total;
    }

    /// @notice The model hash backed by >= 2/3 of `total`, among the first `n` votes.
    /// @dev Groups votes by hash in O(n^2) (n <= maxValidators). At most one hash can hold
    ///      2/3 of the weight, so the first one found is the answer.
    /// @return found whether a hash reached the supermajority
    /// @return hash that hash (zero when not found)
    /// @return backing the stake behind it
    function modelMajority(
        bytes32[] memory hashes,
        uint256[] memory weights,
        uint256 n,
        uint256 total
    ) internal pure returns (bool found, bytes32 hash, uint256 backing) {
        for (uint256 i = 0; i < n; ++i) {
            bytes32 candidate = hashes[i];
            uint256 sum = 0;
            for (uint256 j = 0; j < n; ++j) {
                if (hashes[j] == candidate) sum += weights[j];
            }
            if (isSupermajority(sum, total)) return (true, candidate, sum);
        }
        return (false, bytes32(0), 0);
    }

    /// @notice Splits `pool` over the first `n` entries pro rata to `weights` (sum `weightSum`),
    ///         rounding each share down; writes the shares to `out` and returns their sum.
    /// @dev The sum never exceeds `pool`: floor(pool * w_i / S) summed over i <= pool * S / S.
    ///      Rounding dust (< n base units) stays unminted. weightSum 0 pays nothing (and leaves
    ///      `out` untouched, so it must come zeroed).
    function split(
        uint256 pool,
        uint256[] memory weights,
        uint256 n,
        uint256 weightSum,
        uint256[] memory out
    ) internal pure returns (uint256 paid) {
        if (pool == 0 || weightSum == 0) return 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 w = weights[i];
            if (w == 0) continue;
            // pool <= 2^96 and w <= 2^160 (a stake or median x samples): no overflow
            uint256 share = (pool * w) / weightSum;
            out[i] = share;
            paid += share;
        }
    }

    /// @notice The hash with strictly the most weight among the first `n` votes (weight 0 votes
    ///         ignored); zero and 0 when two hashes tie for the most.
    /// @dev O(n^2) over n <= committee seats (16).
    function strictPlurality(
        bytes32[] memory hashes,
        uint256[] memory weights,
        uint256 n
    ) internal pure returns (bytes32 hash, uint256 backing) {
        bool tied = false;
        for (uint256 i = 0; i < n; ++i) {
            if (weights[i] == 0 || hashes[i] == hash) continue;
            uint256 sum = 0;
            for (uint256 j = 0; j < n; ++j) {
                if (hashes[j] == hashes[i]) sum += weights[j];
            }
            if (sum > backing) {
                (hash, backing, tied) = (hashes[i], sum, false);
            } else if (sum == backing) {
                tied = true;
            }
        }
        if (tied) return (bytes32(0), 0);
    }
}
