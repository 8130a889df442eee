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
        ValidatorDisagreement, // attested a model hash outside the 2/3 majority
        VoteNotRevealed // a committee member committed a vote and never revealed it
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

    /// @notice Where a run stands with the StakeManager. Only the run factory registers runs;
    ///         governance deregisters a run once it is halted, for good.
    enum RunStatus {
        None, // never registered: may do nothing
        Registered, // may lock, unlock and slash within its own locks
        Deregistered // may only unlock; each staker may release what it still locks
    }

    /// @notice One pending unstake request of an account, withdrawable from `releaseAt` on.
    struct UnbondingEntry {
        uint64 id; // the requestId returned by requestUnstake
        uint64 releaseAt; // block timestamp from which withdraw pays it
        uint128 amount; // what is left of it (a slash may have reduced it)
    }

    // ---- events: every state change emits one ----
    /// @notice `account` bonded `amount` more; `bonded` is its new bonded stake.
    event Staked(address indexed account, uint256 amount, uint256 bonded);
    /// @notice `account` moved `amount` of free bonded stake into the unbonding queue.
    event UnstakeRequested(
        address indexed account,
        uint256 indexed requestId,
        uint256 amount,
        uint64 releaseAt
    );
    /// @notice `account` withdrew `amount`, the sum of its `entries` matured unbonding entries.
    event Withdrawn(address indexed account, uint256 amount, uint256 entries);
    /// @notice `run` locked `amount` more of `account`'s bonded stake; `lockedByRun` is its new lock.
    event Locked(address indexed run, address indexed account, uint256 amount, uint256 lockedByRun);
    /// @notice `run` released `amount` of its lock on `account`; `lockedByRun` is what remains.
    event Unlocked(
        address indexed run,
        address indexed account,
        uint256 amount,
        uint256 lockedByRun
    );
    /// @notice Slash `slashId` took `amount` out of `run`'s lock on `account` (a slash always
    ///         comes out of the slashing run's own lock, and only out of it).
    event LockShrunk(
        address indexed run,
        address indexed account,
        uint256 amount,
        uint256 indexed slashId
    );
    /// @notice Reversing slash `slashId` gave `run` back the `amount` of its lock on `account`
    ///         that the slash had taken.
    event LockRestored(
        address indexed run,
        address indexed account,
        uint256 amount,
        uint256 indexed slashId
    );
    /// @notice `run` slashed `amount` of `account`'s stake locked by `run` into escrow.
    event Slashed(
        uint256 indexed slashId,
        address indexed account,
        address indexed run,
        uint256 runId,
        uint256 round,
        SlashReason reason,
        uint256 amount,
        bytes32 evidenceHash
    );
    /// @notice Governance reversed slash `slashId`: `amount` went back to `account`'s bonded stake.
    event SlashReversed(uint256 indexed slashId, address indexed account, uint256 amount);
    /// @notice Slash `slashId` left escrow after its appeal window: `amount` was sent to
    ///         `recipient` (the treasury), or burned when `burned` (recipient is then address(0)).
    event SlashResolved(
        uint256 indexed slashId,
        address indexed account,
        uint256 amount,
        address recipient,
        bool burned
    );
    /// @notice `run` may now lock, unlock and slash; registered by `registrar` (the run factory).
    event RunRegistered(address indexed run, address indexed registrar);
    /// @notice The halted `run` was deregistered by `by` (governance): it can no longer lock or
    ///         slash, and each staker may release what the run still locks.
    event RunDeregistered(address indexed run, address indexed by);
    /// @notice The deployer named `runFactory` the only registrar of runs; this happens once.
    event RunFactorySet(address indexed runFactory);
    /// @notice Governance scheduled the unbonding period `pending` to replace `current` at
    ///         `effectiveAt` (later than any unstake request made now can mature).
    event UnbondingPeriodScheduled(uint64 current, uint64 pending, uint64 effectiveAt);
    /// @notice Governance scheduled the appeal window `pending` to replace `current` at
    ///         `effectiveAt` (later than any unstake request made now can mature).
    event AppealWindowScheduled(uint64 current, uint64 pending, uint64 effectiveAt);
    /// @notice The unbonding period for new requests changed (at deployment, or a scheduled
    ///         change applied).
    event UnbondingPeriodSet(uint64 oldPeriod, uint64 newPeriod);
    /// @notice The appeal window for new slashes changed (at deployment, or a scheduled change
    ///         applied).
    event AppealWindowSet(uint64 oldWindow, uint64 newWindow);
    /// @notice Where resolved slashes go changed (address(0) = burn).
    event TreasurySet(address oldTreasury, address newTreasury);

    // ---- errors ----
    /// @notice The caller is not a registered run (never registered, or deregistered).
    error StakeManagerNotRun(address caller);
    /// @notice Only the run factory (`runFactory`; address(0) = none set yet) registers runs.
    error StakeManagerNotRunFactory(address caller, address runFactory);
    /// @notice Only the account that deployed the StakeManager names the run factory.
    error StakeManagerNotDeployer(address caller, address deployer);
    /// @notice The run factory is already `runFactory`; it is set once and never changes.
    error StakeManagerRunFactoryAlreadySet(address runFactory);
    /// @notice `run` is `current`, the operation needs it `expected`.
    error StakeManagerUnexpectedRunStatus(address run, RunStatus current, RunStatus expected);
    /// @notice `run` is not halted with its last round settled (phase Halted), so it cannot be
    ///         deregistered yet.
    error StakeManagerRunNotHalted(address run);
    /// @notice `run` holds no lock on `account` to release.
    error StakeManagerNoLock(address run, address account);
    /// @notice An amount of zero was given where a positive amount is needed.
    error StakeManagerZeroAmount();
    /// @notice The account's free bonded stake (bonded - locked) is below what was asked.
    error StakeManagerInsufficientFreeStake(address account, uint256 free, uint256 needed);
    /// @notice The account already has `max` pending unstake requests; withdraw matured ones first.
    error StakeManagerUnbondingQueueFull(address account, uint256 max);
    /// @notice No unbonding entry has matured; `nextReleaseAt` is the earliest (0 = none pending).
    error StakeManagerNothingToWithdraw(address account, uint64 nextReleaseAt, uint64 now_);
    /// @notice `max` runs already hold a lock on the account; one must unlock first.
    error StakeManagerTooManyRunLocks(address account, uint256 max);
    /// @notice A slash needs a reason other than None.
    error StakeManagerInvalidSlashReason(SlashReason reason);
    /// @notice The slash record is in `current` status, the operation needs `expected`.
    error StakeManagerUnexpectedSlashStatus(
        uint256 slashId,
        SlashStatus current,
        SlashStatus expected
    );
    /// @notice The appeal window of the slash closed at `deadline`; it can no longer be reversed.
    error StakeManagerAppealWindowClosed(uint256 slashId, uint64 deadline, uint64 now_);
    /// @notice The appeal window of the slash is open until `deadline`; it cannot be resolved yet.
    error StakeManagerAppealWindowOpen(uint256 slashId, uint64 deadline, uint64 now_);
    /// @notice The run is address(0) or was already registered.
    error StakeManagerInvalidRun(address run);
    /// @notice The unbonding period is outside [min, max] seconds.
    error StakeManagerUnbondingPeriodOutOfBounds(uint64 period, uint64 min, uint64 max);
    /// @notice The appeal window is outside [min, max] seconds.
    error StakeManagerAppealWindowOutOfBounds(uint64 window, uint64 min, uint64 max);
    /// @notice The treasury cannot be the StakeManager itself (address(0) means burn).
    error StakeManagerInvalidTreasury(address treasury);
    /// @notice A constructor address (token or admin) is address(0).
    error StakeManagerZeroAddress();

    /// @notice Bonded (not unbonding) stake of `account`, including the part runs have locked.
    function bondedOf(address account) external view returns (uint256);

    /// @notice Total stake of `account` that sits in the unbonding queue.
    function unbondingOf(address account) external view returns (uint256);

    /// @notice Bonded stake of `account` locked by all runs together.
    function lockedOf(address account) external view returns (uint256);

    /// @notice Bonded stake of `account` locked by `run`.
    function lockedBy(address run, address account) external view returns (uint256);

    /// @notice Whether `run` is a registered run (may lock, unlock and slash); false once
    ///         deregistered.
    function isRun(address run) external view returns (bool);

    /// @notice Lets `run` lock, unlock and slash stake within its own locks.
    /// @dev Only the run factory (`runFactory()`), which registers each run it creates.
    function registerRun(address run) external;

    /// @notice Locks `amount` of `account`'s free bonded stake for the calling run.
    /// @dev Only a registered run. Reverts when free bonded stake (bonded - locked) < amount.
    function lock(address account, uint256 amount) external;

    /// @notice Releases up to `amount` of the calling run's lock on `account` (never reverts on
    ///         over-release: a slash may already have shrunk the lock).
    /// @dev Only a registered run.
    function unlock(address account, uint256 amount) external;

    /// @notice Slashes up to `amount` of the stake the calling run locks of `account`; the lock
    ///         and the bonded stake shrink by what was taken, which goes into escrow for
    ///         `appealWindow`. Nothing outside the run's own lock is reachable.
    /// @dev Only a registered run.
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

    /// @notice Bonded stake of `account` that no run has locked (bonded - locked).
    function freeStakeOf(address account) external view returns (uint256);

    /// @notice The slash record `slashId` (all fields zero for an unknown id).
    function slashRecord(uint256 slashId) external view returns (SlashRecord memory);

    /// @notice Number of slash records; ids run from 1 to slashCount().
    function slashCount() external view returns (uint256);
}

