// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title IRewardToken
/// @notice What a run and the run factory need from the reward token (LearnToken): minting by
///         MINTER_ROLE, whose admin role the factory holds.
interface IRewardToken {
    /// @notice The role allowed to mint (each run holds it).
    // solhint-disable-next-line func-name-mixedcase
    function MINTER_ROLE() external view returns (bytes32);

    /// @notice Mints `amount` to `to`; only MINTER_ROLE, reverts past the supply cap.
    function mint(address to, uint256 amount) external;
}
