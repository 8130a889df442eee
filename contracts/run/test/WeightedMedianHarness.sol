// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {Settlement} from "../Settlement.sol";
import {WeightedMedian} from "../WeightedMedian.sol";

/// @title WeightedMedianHarness
/// @notice Test-only: exposes the WeightedMedian and Settlement libraries so tests can check
///         them against a TypeScript reference on tables of cases.
contract WeightedMedianHarness {
    /// @notice WeightedMedian.lowerMedian of `values` with `weights` (packed here; a shorter
    ///         `weights` makes the library revert with its length error).
    function lowerMedian(
        uint256[] memory values,
        uint256[] memory weights
    ) external pure returns (uint256 median, uint256 total) {
        uint256[] memory entries = new uint256[](
            weights.length < values.length ? weights.length : values.length
        );
        for (uint256 i = 0; i < entries.length; ++i) {
            entries[i] = WeightedMedian.pack(values[i], weights[i]);
        }
        return WeightedMedian.lowerMedian(entries, values.length);
    }

    /// @notice Settlement.modelMajority over all votes.
    function modelMajority(
        bytes32[] memory hashes,
        uint256[] memory weights
    ) external pure returns (bool found, bytes32 hash, uint256 backing) {
        uint256 total = 0;
        for (uint256 i = 0; i < weights.length; ++i) {
            total += weights[i];
        }
        return Settlement.modelMajority(hashes, weights, hashes.length, total);
    }

    /// @notice Settlement.split of `pool` pro rata to `weights`.
    function split(
        uint256 pool,
        uint256[] memory weights
    ) external pure returns (uint256[] memory shares, uint256 paid) {
        uint256 sum = 0;
        for (uint256 i = 0; i < weights.length; ++i) {
            sum += weights[i];
        }
        shares = new uint256[](weights.length);
        paid = Settlement.split(pool, weights, weights.length, sum, shares);
    }
}
