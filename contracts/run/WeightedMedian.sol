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
///      Entries are packed as value << 128 | weight (both below 2^128), so sorting moves one
///      word per entry and comparing two entries compares their values first.
///      Cost: insertion sort, O(n^2) in the worst case; n is bounded by the run's maxValidators.
library WeightedMedian {
    uint256 private constant WEIGHT_MASK = 0xffffffffffffffffffffffffffffffff;

    /// @notice `entries` holds fewer than the `n` entries asked for.
    error WeightedMedianLengthMismatch(uint256 length, uint256 n);
    /// @notice A value or weight does not fit 128 bits.
    error WeightedMedianEntryOverflow(uint256 value, uint256 weight);

    /// @notice One entry: `value` with `weight`, both below 2^128.
    function pack(uint256 value, uint256 weight) internal pure returns (uint256) {
        if (value > WEIGHT_MASK || weight > WEIGHT_MASK)
            revert WeightedMedianEntryOverflow(value, weight);
        return (value << 128) | weight;
    }

    /// @notice Lower weighted median of the first `n` packed entries.
    /// @dev Sorts those entries in place (ascending), so the caller can reuse a scratch array
    ///      between calls. Runs once per revealed update in finalize, hence the assembly: it
    ///      skips the bounds checks that make up most of the Solidity version's cost (the length
    ///      check above covers them). The weight sum cannot overflow: n weights below 2^128 each.
    /// @return median the lower weighted median (0 when total is 0)
    /// @return total the sum of the `n` weights
    function lowerMedian(
        uint256[] memory entries,
        uint256 n
    ) internal pure returns (uint256 median, uint256 total) {
        if (entries.length < n) revert WeightedMedianLengthMismatch(entries.length, n);
        assembly ("memory-safe") {
            let base := add(entries, 0x20)
            let size := shl(5, n)
            for {
                let p := 0
            } lt(p, size) {
                p := add(p, 0x20)
            } {
                total := add(total, and(mload(add(base, p)), WEIGHT_MASK))
            }
            if total {
                for {
                    let i := 0x20
                } lt(i, size) {
                    i := add(i, 0x20)
                } {
                    let x := mload(add(base, i))
                    let j := i
                    // shift larger entries one place up, then drop x into the gap
                    for {} j {} {
                        let prev := mload(add(base, sub(j, 0x20)))
                        if iszero(gt(prev, x)) {
                            break
                        }
                        mstore(add(base, j), prev)
                        j := sub(j, 0x20)
                    }
                    mstore(add(base, j), x)
                }
                // first value at which 2 x cumulative weight >= total; reached at the latest at
                // the last entry, where cumulative == total
                let cumulative := 0
                for {
                    let p := 0
                } 1 {
                    p := add(p, 0x20)
                } {
                    let e := mload(add(base, p))
                    cumulative := add(cumulative, and(e, WEIGHT_MASK))
                    if iszero(lt(add(cumulative, cumulative), total)) {
                        median := shr(128, e)
                        break
                    }
                }
            }
        }
    }
}
