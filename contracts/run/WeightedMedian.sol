// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title WeightedMedian
/// @notice The stake-weighted *lower* median used for update scores and eval losses.
/// @dev Definition. Given values v_1..v_n with weights w_1..w_n and total W = sum(w_i) > 0,
///      the lower weighted median is the smallest value m among the v_i such that
///          2 * sum(w_i : v_i <= m) >= W,
///      i.e. the first value, in ascending order, at which the cumulative weight reaches half
///      of the total. Consequences:
///      - equal values (ties) pool their weight, the order among them does not matter;
///      - with an even split (cumulative weight exactly W/2) the lower of the two middle values
///        wins, e.g. equal weights on (10, 20) give 10;
///      - a single value is its own median; zero-weight entries never decide the result;
///      - W = 0 (no entries, or all weights zero) gives median 0 and total 0: the caller treats
///        that as "nobody voted".
///      Cost: insertion sort, O(n^2) compares; n is bounded by the run's maxValidators.
library WeightedMedian {
    /// @notice `values` and `weights` must hold at least `n` entries each.
    error WeightedMedianLengthMismatch(uint256 values, uint256 weights, uint256 n);

    /// @notice Lower weighted median of the first `n` entries of `values`/`weights`.
    /// @dev Sorts those entries in place (ascending by value, weights moved along), so the
    ///      caller can reuse scratch arrays between calls.
    /// @return median the lower weighted median (0 when total is 0)
    /// @return total the sum of the `n` weights
    function lowerMedian(uint256[] memory values, uint256[] memory weights, uint256 n)
        internal
        pure
        returns (uint256 median, uint256 total)
    {
        if (values.length < n || weights.length < n) {
            revert WeightedMedianLengthMismatch(values.length, weights.length, n);
        }
        for (uint256 i = 0; i < n; ++i) {
            total += weights[i];
        }
        if (total == 0) return (0, 0);
        _sort(values, weights, n);
        uint256 cumulative = 0;
        for (uint256 i = 0; i < n; ++i) {
            cumulative += weights[i];
            // 2 * cumulative cannot overflow: cumulative <= total, a sum of stakes far below 2^255
            if (2 * cumulative >= total) return (values[i], total);
        }
        // unreachable: after the last entry cumulative == total > 0
        return (values[n - 1], total);
    }

    /// @dev Insertion sort of the first n entries by value; stable, so ties keep their order.
    function _sort(uint256[] memory values, uint256[] memory weights, uint256 n) private pure {
        for (uint256 i = 1; i < n; ++i) {
            uint256 v = values[i];
            uint256 w = weights[i];
            uint256 j = i;
            while (j > 0 && values[j - 1] > v) {
                values[j] = values[j - 1];
                weights[j] = weights[j - 1];
                --j;
            }
            values[j] = v;
            weights[j] = w;
        }
    }
}
