// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title RunTimelock
/// @notice The executor of protolearn governance: holds the admin roles of LearnToken,
///         StakeManager and every run, and the treasury funds. Proposals reach it only through
///         RunGovernor (PROPOSER_ROLE) and wait `minDelay` seconds before anyone may execute.
/// @dev A plain OpenZeppelin TimelockController; its own subclass so deployments and
///      explorers get a named artifact.
contract RunTimelock is TimelockController {
    /// @param minDelay seconds between queueing and execution
    /// @param proposers receive PROPOSER_ROLE and CANCELLER_ROLE (the governor)
    /// @param executors receive EXECUTOR_ROLE (address(0) = anyone may execute)
    /// @param admin optional bootstrap admin (address(0) = none); should renounce after setup
    constructor(
        uint256 minDelay,
        address[] memory proposers,
        address[] memory executors,
        address admin
    ) TimelockController(minDelay, proposers, executors, admin) {}
}
