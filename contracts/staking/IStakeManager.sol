// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

/// @title IStakeManager
/// @notice Bonded stake of protolearn participants: staking, an unbonding queue, per-run locks,
///         and slashing into an appealable escrow. The interface every TrainingRun codes against.
interface IStakeManager {
    /// @notice Why a slash happened; stored in the slash record and emitted.
    enum SlashReason {
        None,
        InvalidUpdate, // median score 0 and >= 2/3 of voting validator stake scored 0
        NoReveal, // committed and never revealed
        ValidatorDisagreement // attested a model hash outside the 2/3 majority
    }

    /// @notice Lifecycle of a slash record.
    enum SlashStatus {
        None,
        Escrowed, // inside the appeal window, reversible by governance
        Reversed, // returned to the account's bonded stake by governance
        Resolved // burned or sent to the treasury after the window
    }

    /// @notice One slash, as kept on-chain for audit and appeal.
    struct SlashRecord {
        address account;
        uint96 amount;
        address run;
        uint64 createdAt;
        SlashReason reason;
        SlashStatus status;
        uint256 runId;
        uint256 round;
        bytes32 evidenceHash;
    }

    /// @notice Bonded (not unbonding) stake of `account`, including the part runs have locked.
    function bondedOf(address account) external view returns (uint256);

    /// @notice Total stake of `account` that sits in the unbonding queue.
    function unbondingOf(address account) external view returns (uint256);

    /// @notice Bonded stake of `account` locked by all runs together.
    function lockedOf(address account) external view returns (uint256);

    /// @notice Bonded stake of `account` locked by `run`.
    function lockedBy(address run, address account) external view returns (uint256);

    /// @notice Whether `run` is a registered run (may lock, unlock and slash).
    function isRun(address run) external view returns (bool);

    /// @notice Locks `amount` of `account`'s free bonded stake for the calling run.
    /// @dev Only a registered run. Reverts when free bonded stake (bonded - locked) < amount.
    function lock(address account, uint256 amount) external;

    /// @notice Releases up to `amount` of the calling run's lock on `account` (never reverts on
    ///         over-release: a slash may already have shrunk the lock).
    /// @dev Only a registered run.
    function unlock(address account, uint256 amount) external;

    /// @notice Slashes up to `amount` from `account`: bonded stake first, then unbonding entries,
    ///         newest first. The slashed tokens go into escrow for `appealWindow`.
    /// @dev Only a registered run. Shrinks the run locks so that lockedOf <= bondedOf holds.
    /// @return slashId the record id (0 when nothing could be slashed)
    /// @return slashed the amount actually taken (<= amount)
    function slash(
        address account,
        uint256 amount,
        SlashReason reason,
        uint256 runId,
        uint256 round,
        bytes32 evidenceHash
    ) external returns (uint256 slashId, uint256 slashed);
}
