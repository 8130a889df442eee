// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title IRunRegistry
/// @notice The StakeManager's run registration, called by the run factory (which holds
///         RUN_REGISTRAR_ROLE) so that a new run may lock, unlock and slash stake.
interface IRunRegistry {
    /// @notice Lets `run` lock, unlock and slash stake; permanent.
    function registerRun(address run) external;
}
