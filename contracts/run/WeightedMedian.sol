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
    /// @dev Sorts those entries in place (ascending by value, weights moved along; insertion
    ///      sort, stable), so the caller can reuse scratch arrays between calls. Runs once per
    ///      revealed update in finalize, hence the assembly: it skips the bounds checks that
    ///      make up most of the Solidity version's cost (the length check above covers them).
    ///      The weight sum cannot overflow: weights are stakes (< 2^208 each, the token's
    ///      largest cap) and n <= 32 validators, or losses' weights from the same set.
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
        assembly ("memory-safe") {
            let v := add(values, 0x20)
            let w := add(weights, 0x20)
            let size := shl(5, n)
            for { let p := 0 } lt(p, size) { p := add(p, 0x20) } { total := add(total, mload(add(w, p))) }
            if total {
                for { let i := 0x20 } lt(i, size) { i := add(i, 0x20) } {
                    let x := mload(add(v, i))
                    let y := mload(add(w, i))
                    let j := i
                    // shift larger values one place up; stops at j == 0 (the read at v - 32
                    // then is the array's length word, which is never used)
                    for {} and(gt(j, 0), gt(mload(add(v, sub(j, 0x20))), x)) { j := sub(j, 0x20) } {
                        mstore(add(v, j), mload(add(v, sub(j, 0x20))))
                        mstore(add(w, j), mload(add(w, sub(j, 0x20))))
                    }
                    mstore(add(v, j), x)
                    mstore(add(w, j), y)
                }
                // first value at which 2 x cumulative weight >= total; reached at the latest at
                // the last entry, where cumulative == total
                let cumulative := 0
                for { let p := 0 } 1 { p := add(p, 0x20) } {
                    cumulative := add(cumulative, mload(add(w, p)))
                    if iszero(lt(add(cumulative, cumulative), total)) {
                        median := mload(add(v, p))
                        break
                    }
                }
            }
        }
    }
}
