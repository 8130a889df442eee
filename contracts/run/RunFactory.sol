// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";

import {IStakeManager} from "../staking/IStakeManager.sol";
import {IRewardToken} from "./IRewardToken.sol";
import {IRunFactory, ITrainingRun} from "./ITrainingRun.sol";
import {TrainingRun} from "./TrainingRun.sol";

/// @title RunFactory
/// @notice Creates training runs for governance: an EIP-1167 clone of one TrainingRun
///         implementation per run (with runId, stake manager, token and governance appended as
///         immutable args), initialized in the same transaction, registered in the StakeManager
///         and granted the token's MINTER_ROLE.
/// @dev Must be the StakeManager's run factory (named once by the StakeManager's deployer,
///      `StakeManager.setRunFactory`) and hold MINTER_ADMIN_ROLE on the token.
contract RunFactory is IRunFactory {
    address private immutable _implementation;
    IStakeManager private immutable _stakeManager;
    address private immutable _token;
    address private immutable _governance;
    /// @dev The guardian new runs get; a governance setting (setDefaultGuardian).
    address private _defaultGuardian;

    uint256 private _runCount;
    mapping(uint256 runId => address run) private _runs;

    /// @param implementation_ the TrainingRun implementation the clones delegate to
    /// @param stakeManager_ where runs lock and slash stake
    /// @param token_ the reward token (LearnToken) runs mint
    /// @param governance_ the timelock: creates runs and governs each of them
    /// @param guardian_ the first default guardian of new runs (address(0) = nobody but
    ///        governance may pause); governance replaces it with setDefaultGuardian
    constructor(
        address implementation_,
        IStakeManager stakeManager_,
        address token_,
        address governance_,
        address guardian_
    ) {
        if (implementation_ == address(0)) revert RunFactoryZeroAddress(0);
        if (address(stakeManager_) == address(0)) revert RunFactoryZeroAddress(1);
        if (token_ == address(0)) revert RunFactoryZeroAddress(2);
        if (governance_ == address(0)) revert RunFactoryZeroAddress(3);
        _implementation = implementation_;
        _stakeManager = stakeManager_;
        _token = token_;
        _governance = governance_;
        _setDefaultGuardian(guardian_);
    }

    /// @inheritdoc IRunFactory
    /// @dev Round 1 of the new run opens in this transaction.
    function createRun(
        ITrainingRun.RunParams calldata params,
        bytes32 initialModelHash,
        string calldata initialModelCid
    ) external returns (uint256 runId, address run) {
        if (msg.sender != _governance) revert RunFactoryNotGovernance(msg.sender);
        runId = _runCount + 1;
        _runCount = runId;
        run = Clones.cloneWithImmutableArgs(
            _implementation,
            abi.encodePacked(runId, address(_stakeManager), _token, _governance)
        );
        _runs[runId] = run;
        emit RunCreated(runId, run, params.modelId, initialModelHash, initialModelCid, params);
        TrainingRun(run).initialize(params, initialModelHash, initialModelCid, _defaultGuardian);
        _stakeManager.registerRun(run);
        IAccessControl(_token).grantRole(IRewardToken(_token).MINTER_ROLE(), run);
    }

    /// @inheritdoc IRunFactory
    /// @dev Runs created earlier keep their guardian; governance changes it per run with
    ///      TrainingRun.setGuardian.
    function setDefaultGuardian(address newGuardian) external {
        if (msg.sender != _governance) revert RunFactoryNotGovernance(msg.sender);
        _setDefaultGuardian(newGuardian);
    }

    /// @inheritdoc IRunFactory
    function runCount() external view returns (uint256) {
        return _runCount;
    }

    /// @inheritdoc IRunFactory
    function runOf(uint256 runId) external view returns (address) {
        return _runs[runId];
    }

    /// @notice The TrainingRun implementation every run delegates to.
    function implementation() external view returns (address) {
        return _implementation;
    }

    /// @notice The StakeManager runs are registered in.
    function stakeManager() external view returns (IStakeManager) {
        return _stakeManager;
    }

    /// @notice The reward token runs may mint.
    function token() external view returns (address) {
        return _token;
    }

    /// @notice Governance (the timelock): the only account that may create runs.
    function governance() external view returns (address) {
        return _governance;
    }

    /// @notice The guardian given to new runs (address(0) = none): a governance setting.
    function guardian() external view returns (address) {
        return _defaultGuardian;
    }

    function _setDefaultGuardian(address newGuardian) private {
        address old = _defaultGuardian;
        _defaultGuardian = newGuardian;
        emit DefaultGuardianSet(old, newGuardian);
    }
}
