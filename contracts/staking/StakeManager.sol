// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IStakeManager} from "./IStakeManager.sol";

/// @title StakeManager
/// @notice Holds the bonded stake of protolearn participants. Accounts stake, ask to unstake
///         (an unbonding queue of at most MAX_UNBONDING_ENTRIES entries, each withdrawable
///         after `unbondingPeriod`), and withdraw. Registered runs lock stake while a node
///         takes part and slash it for misbehaviour; every slash is an escrowed record that
///         governance may reverse inside its appeal window and that anyone may resolve
///         (burn, or pay the treasury) after it.
/// @dev Invariants: token.balanceOf(this) == totalBonded + totalUnbonding + totalEscrowed
///      (tokens sent here directly are not counted and stay stuck), and for every account
///      lockedOf <= bondedOf. Every loop is bounded by a constant: MAX_UNBONDING_ENTRIES (16)
///      or MAX_RUN_LOCKS_PER_ACCOUNT (8).
contract StakeManager is IStakeManager, AccessControl, ReentrancyGuard {
    using SafeERC20 for IERC20;

    /// @notice May call `registerRun` (the run factory). Its admin is DEFAULT_ADMIN_ROLE.
    bytes32 public constant RUN_REGISTRAR_ROLE = keccak256("RUN_REGISTRAR_ROLE");

    /// @notice Pending unstake requests an account may have at once.
    uint256 public constant MAX_UNBONDING_ENTRIES = 16;
    /// @notice Runs that may hold a lock on one account at once.
    uint256 public constant MAX_RUN_LOCKS_PER_ACCOUNT = 8;
    /// @notice Bounds of `unbondingPeriod`, in seconds.
    uint64 public constant MIN_UNBONDING_PERIOD = 1 minutes;
    uint64 public constant MAX_UNBONDING_PERIOD = 365 days;
    /// @notice Bounds of `appealWindow`, in seconds.
    uint64 public constant MIN_APPEAL_WINDOW = 1 minutes;
    uint64 public constant MAX_APPEAL_WINDOW = 365 days;

    struct Account {
        uint256 bonded;
        uint256 unbonding;
        uint256 locked;
    }

    /// @dev SlashRecord packed into 4 slots (runId and round as uint128: run ids and rounds
    ///      count up from 1 and never get near 2^128), with the appeal deadline fixed when the slash
    ///      happens (a later setAppealWindow does not move it). uint40 seconds last until year 36812.
    struct StoredSlash {
        address account;
        uint96 amount;
        address run;
        uint40 createdAt;
        uint40 appealDeadline;
        SlashReason reason;
        SlashStatus status;
        uint128 runId;
        uint128 round;
        bytes32 evidenceHash;
    }

    // solhint-disable-next-line immutable-vars-naming
    IERC20 private immutable _token;

    address private _treasury;
    uint64 private _unbondingPeriod;
    uint64 private _appealWindow;

    uint256 private _totalBonded;
    uint256 private _totalUnbonding;
    uint256 private _totalEscrowed;
    uint256 private _requestCount;
    uint256 private _slashCount;

    mapping(address account => Account) private _accounts;
    mapping(address account => UnbondingEntry[]) private _queues;
    mapping(address run => mapping(address account => uint256)) private _lockedBy;
    mapping(address account => address[]) private _lockingRuns;
    mapping(address run => bool) private _runs;
    mapping(uint256 slashId => StoredSlash) private _slashes;

    modifier onlyRun() {
        if (!_runs[msg.sender]) revert StakeManagerNotRun(msg.sender);
        _;
    }

    /// @param token_ the staked token (LearnToken; must expose ERC20Burnable.burn for burning)
    /// @param admin receives DEFAULT_ADMIN_ROLE (the timelock)
    /// @param unbondingPeriod_ seconds an unstake request waits (MIN/MAX_UNBONDING_PERIOD)
    /// @param appealWindow_ seconds a slash stays in escrow (MIN/MAX_APPEAL_WINDOW)
    /// @param treasury_ receives resolved slashes; address(0) burns them
    constructor(
        IERC20 token_,
        address admin,
        uint64 unbondingPeriod_,
        uint64 appealWindow_,
        address treasury_
    ) {
        if (address(token_) == address(0) || admin == address(0)) revert StakeManagerZeroAddress();
        _token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _setUnbondingPeriod(unbondingPeriod_);
        _setAppealWindow(appealWindow_);
        _setTreasury(treasury_);
    }

    // ------------------------------------------------------------------ staking

    /// @notice Bonds `amount` tokens of the caller (needs an allowance for this contract).
    function stake(uint256 amount) external nonReentrant {
        _stake(msg.sender, amount);
    }

    /// @notice Bonds `amount` tokens of the caller using an EIP-2612 permit instead of an approve.
    /// @dev A permit that fails (e.g. it was front-run and already used) is ignored; the
    ///      transfer then needs an allowance as in `stake`.
    function stakeWithPermit(
        uint256 amount,
        uint256 deadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant {
        // The permit may already have been submitted by someone who saw it in the mempool;
        // that is harmless, the allowance is what counts.
        /* solhint-disable no-empty-blocks */
        try
            IERC20Permit(address(_token)).permit(
                msg.sender,
                address(this),
                amount,
                deadline,
                v,
                r,
                s
            )
        {} catch {}
        /* solhint-enable no-empty-blocks */
        _stake(msg.sender, amount);
    }

    /// @notice Moves `amount` of the caller's free bonded stake (bonded - locked) into the
    ///         unbonding queue; it can be withdrawn `unbondingPeriod` seconds from now.
    /// @return requestId the id of the new unbonding entry
    function requestUnstake(uint256 amount) external nonReentrant returns (uint256 requestId) {
        return _requestUnstake(msg.sender, amount);
    }

    /// @notice Pays out every matured unbonding entry of the caller.
    /// @dev Reverts with StakeManagerNothingToWithdraw when none has matured.
    /// @return amount what was paid
    function withdraw() external nonReentrant returns (uint256 amount) {
        return _withdraw(msg.sender);
    }

    // ------------------------------------------------------------------ runs

    /// @inheritdoc IStakeManager
    function registerRun(address run) external onlyRole(RUN_REGISTRAR_ROLE) {
        if (run == address(0) || _runs[run]) revert StakeManagerInvalidRun(run);
        _runs[run] = true;
        emit RunRegistered(run, msg.sender);
    }

    /// @inheritdoc IStakeManager
    function lock(address account, uint256 amount) external onlyRun {
        if (amount == 0) revert StakeManagerZeroAmount();
        Account storage acc = _accounts[account];
        uint256 free = acc.bonded - acc.locked;
        if (amount > free) revert StakeManagerInsufficientFreeStake(account, free, amount);
        uint256 current = _lockedBy[msg.sender][account];
        if (current == 0) {
            address[] storage runs = _lockingRuns[account];
            if (runs.length >= MAX_RUN_LOCKS_PER_ACCOUNT) {
                revert StakeManagerTooManyRunLocks(account, MAX_RUN_LOCKS_PER_ACCOUNT);
            }
            runs.push(msg.sender);
        }
        _lockedBy[msg.sender][account] = current + amount;
        acc.locked += amount;
        emit Locked(msg.sender, account, amount, current + amount);
    }

    /// @inheritdoc IStakeManager
    function unlock(address account, uint256 amount) external onlyRun {
        uint256 current = _lockedBy[msg.sender][account];
        uint256 released = amount < current ? amount : current;
        if (released == 0) return;
        _reduceLock(msg.sender, account, released);
        emit Unlocked(msg.sender, account, released, current - released);
    }

    /// @inheritdoc IStakeManager
    /// @dev `amount` is clamped to type(uint96).max (the record's width). Locks shrink only as
    ///      far as needed for lockedOf <= bondedOf, the slashing run's own lock first.
    function slash(
        address account,
        uint256 amount,
        SlashReason reason,
        uint256 runId,
        uint256 round,
        bytes32 evidenceHash
    ) external onlyRun nonReentrant returns (uint256 slashId, uint256 slashed) {
        if (reason == SlashReason.None) revert StakeManagerInvalidSlashReason(reason);
        uint256 capped = amount > type(uint96).max ? type(uint96).max : amount;
        uint256 nextId = _slashCount + 1;
        slashed = _takeStake(msg.sender, account, capped, nextId);
        if (slashed == 0) return (0, 0);
        _slashCount = nextId;
        slashId = nextId;
        _recordSlash(slashId, account, slashed, reason, runId, round, evidenceHash);
    }

    // ------------------------------------------------------------------ appeals

    /// @notice Reverses slash `slashId`: its amount goes back to the account's bonded stake
    ///         (free, not locked). Only while the slash is escrowed and its appeal window open.
    /// @dev Only DEFAULT_ADMIN_ROLE (the timelock, i.e. a passed governance proposal).
    function reverseSlash(uint256 slashId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        StoredSlash storage s = _escrowedSlash(slashId);
        uint64 now_ = uint64(block.timestamp);
        if (now_ >= s.appealDeadline)
            revert StakeManagerAppealWindowClosed(slashId, s.appealDeadline, now_);
        uint256 amount = s.amount;
        address account = s.account;
        s.status = SlashStatus.Reversed;
        _totalEscrowed -= amount;
        _accounts[account].bonded += amount;
        _totalBonded += amount;
        emit SlashReversed(slashId, account, amount);
    }

    /// @notice Ends the escrow of slash `slashId` once its appeal window has closed: the amount
    ///         goes to the treasury, or is burned when the treasury is address(0).
    /// @dev Permissionless.
    function resolveSlash(uint256 slashId) external nonReentrant {
        StoredSlash storage s = _escrowedSlash(slashId);
        uint64 now_ = uint64(block.timestamp);
        if (now_ < s.appealDeadline)
            revert StakeManagerAppealWindowOpen(slashId, s.appealDeadline, now_);
        uint256 amount = s.amount;
        address recipient = _treasury;
        s.status = SlashStatus.Resolved;
        _totalEscrowed -= amount;
        emit SlashResolved(slashId, s.account, amount, recipient, recipient == address(0));
        if (recipient == address(0)) {
            ERC20Burnable(address(_token)).burn(amount);
        } else {
            _token.safeTransfer(recipient, amount);
        }
    }

    // ------------------------------------------------------------------ settings

    /// @notice Sets the unbonding period of future unstake requests (pending ones keep theirs).
    /// @dev Only DEFAULT_ADMIN_ROLE. Bounded by MIN/MAX_UNBONDING_PERIOD.
    function setUnbondingPeriod(uint64 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setUnbondingPeriod(period);
    }

    /// @notice Sets the appeal window of future slashes (escrowed ones keep their deadline).
    /// @dev Only DEFAULT_ADMIN_ROLE. Bounded by MIN/MAX_APPEAL_WINDOW.
    function setAppealWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setAppealWindow(window);
    }

    /// @notice Sets where resolved slashes go; address(0) burns them.
    /// @dev Only DEFAULT_ADMIN_ROLE. Applies to slashes resolved from now on.
    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setTreasury(treasury_);
    }

    // ------------------------------------------------------------------ views

    /// @notice The staked token.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice Receiver of resolved slashes (address(0) = they are burned).
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @notice Seconds a new unstake request waits before it can be withdrawn.
    function unbondingPeriod() external view returns (uint64) {
        return _unbondingPeriod;
    }

    /// @notice Seconds a new slash stays reversible in escrow.
    function appealWindow() external view returns (uint64) {
        return _appealWindow;
    }

    /// @inheritdoc IStakeManager
    function bondedOf(address account) external view returns (uint256) {
        return _accounts[account].bonded;
    }

    /// @inheritdoc IStakeManager
    function unbondingOf(address account) external view returns (uint256) {
        return _accounts[account].unbonding;
    }

    /// @inheritdoc IStakeManager
    function lockedOf(address account) external view returns (uint256) {
        return _accounts[account].locked;
    }

    /// @inheritdoc IStakeManager
    function freeStakeOf(address account) external view returns (uint256) {
        Account storage acc = _accounts[account];
        return acc.bonded - acc.locked;
    }

    /// @notice Bonded, unbonding and locked stake of `account` in one call.
    function stakeOf(
        address account
    ) external view returns (uint256 bonded, uint256 unbonding, uint256 locked) {
        Account storage acc = _accounts[account];
        return (acc.bonded, acc.unbonding, acc.locked);
    }

    /// @inheritdoc IStakeManager
    function lockedBy(address run, address account) external view returns (uint256) {
        return _lockedBy[run][account];
    }

    /// @notice The runs that hold a lock on `account` (at most MAX_RUN_LOCKS_PER_ACCOUNT).
    function lockingRunsOf(address account) external view returns (address[] memory) {
        return _lockingRuns[account];
    }

    /// @inheritdoc IStakeManager
    function isRun(address run) external view returns (bool) {
        return _runs[run];
    }

    /// @notice The pending unstake requests of `account`, oldest first (at most MAX_UNBONDING_ENTRIES).
    function unbondingEntries(address account) external view returns (UnbondingEntry[] memory) {
        return _queues[account];
    }

    /// @notice What `withdraw` would pay `account` now.
    function withdrawableOf(address account) external view returns (uint256 amount) {
        UnbondingEntry[] storage queue = _queues[account];
        uint256 n = queue.length;
        for (uint256 i = 0; i < n; ++i) {
            if (queue[i].releaseAt <= block.timestamp) amount += queue[i].amount;
        }
    }

    /// @notice Sum of all accounts' bonded stake.
    function totalBonded() external view returns (uint256) {
        return _totalBonded;
    }

    /// @notice Sum of all accounts' unbonding stake.
    function totalUnbonding() external view returns (uint256) {
        return _totalUnbonding;
    }

    /// @notice Sum of the amounts of all slashes still in escrow.
    function totalEscrowed() external view returns (uint256) {
        return _totalEscrowed;
    }

    /// @inheritdoc IStakeManager
    function slashRecord(uint256 slashId) external view returns (SlashRecord memory) {
        StoredSlash storage s = _slashes[slashId];
        return
            SlashRecord({
                account: s.account,
                amount: s.amount,
                run: s.run,
                createdAt: s.createdAt,
                reason: s.reason,
                status: s.status,
                runId: s.runId,
                round: s.round,
                evidenceHash: s.evidenceHash
            });
    }

    /// @notice Timestamp at which slash `slashId`'s appeal window closes: reversible before,
    ///         resolvable from then on (0 for an unknown id).
    function slashAppealDeadline(uint256 slashId) external view returns (uint64) {
        return _slashes[slashId].appealDeadline;
    }

    /// @inheritdoc IStakeManager
    function slashCount() external view returns (uint256) {
        return _slashCount;
    }

    // ------------------------------------------------------------------ internals

    function _stake(address account, uint256 amount) private {
        if (amount == 0) revert StakeManagerZeroAmount();
        Account storage acc = _accounts[account];
        acc.bonded += amount;
        _totalBonded += amount;
        emit Staked(account, amount, acc.bonded);
        _token.safeTransferFrom(account, address(this), amount);
    }

    function _requestUnstake(address account, uint256 amount) private returns (uint256 requestId) {
        if (amount == 0) revert StakeManagerZeroAmount();
        Account storage acc = _accounts[account];
        uint256 free = acc.bonded - acc.locked;
        if (amount > free) revert StakeManagerInsufficientFreeStake(account, free, amount);
        UnbondingEntry[] storage queue = _queues[account];
        if (queue.length >= MAX_UNBONDING_ENTRIES)
            revert StakeManagerUnbondingQueueFull(account, MAX_UNBONDING_ENTRIES);

        acc.bonded -= amount;
        acc.unbonding += amount;
        _totalBonded -= amount;
        _totalUnbonding += amount;
        requestId = ++_requestCount;
        uint64 releaseAt = uint64(block.timestamp) + _unbondingPeriod;
        queue.push(
            UnbondingEntry({
                id: SafeCast.toUint64(requestId),
                releaseAt: releaseAt,
                amount: SafeCast.toUint128(amount)
            })
        );
        emit UnstakeRequested(account, requestId, amount, releaseAt);
    }

    /// @dev Removes the matured entries and keeps the others in their order (a shorter
    ///      unbonding period can make a newer entry mature before an older one).
    function _withdraw(address account) private returns (uint256 amount) {
        UnbondingEntry[] storage queue = _queues[account];
        uint256 n = queue.length;
        uint256 kept = 0;
        uint64 nextReleaseAt = 0;
        uint64 now_ = uint64(block.timestamp);
        for (uint256 i = 0; i < n; ++i) {
            UnbondingEntry memory entry = queue[i];
            if (entry.releaseAt <= now_) {
                amount += entry.amount;
            } else {
                if (kept != i) queue[kept] = entry;
                ++kept;
                if (nextReleaseAt == 0 || entry.releaseAt < nextReleaseAt)
                    nextReleaseAt = entry.releaseAt;
            }
        }
        if (amount == 0) revert StakeManagerNothingToWithdraw(account, nextReleaseAt, now_);
        for (uint256 i = kept; i < n; ++i) {
            queue.pop();
        }
        _accounts[account].unbonding -= amount;
        _totalUnbonding -= amount;
        emit Withdrawn(account, amount, n - kept);
        _token.safeTransfer(account, amount);
    }

    /// @dev Takes up to `amount` from `account`: bonded stake first, then unbonding entries;
    ///      then shrinks the locks if bonded stake fell below them. Returns what it took.
    function _takeStake(
        address run,
        address account,
        uint256 amount,
        uint256 slashId
    ) private returns (uint256 taken) {
        Account storage acc = _accounts[account];
        uint256 fromBonded = amount < acc.bonded ? amount : acc.bonded;
        if (fromBonded > 0) {
            acc.bonded -= fromBonded;
            _totalBonded -= fromBonded;
        }
        taken = fromBonded;
        if (amount > fromBonded) taken += _slashUnbonding(slashId, account, amount - fromBonded);
        if (acc.locked > acc.bonded) _shrinkLocks(run, account, acc.locked - acc.bonded, slashId);
    }

    /// @dev Stores slash `slashId` of `amount` by the calling run in escrow, with its appeal
    ///      deadline fixed now.
    function _recordSlash(
        uint256 slashId,
        address account,
        uint256 amount,
        SlashReason reason,
        uint256 runId,
        uint256 round,
        bytes32 evidenceHash
    ) private {
        uint64 now_ = uint64(block.timestamp);
        StoredSlash storage s = _slashes[slashId];
        s.account = account;
        // amount <= type(uint96).max: slash() clamps the request to it
        s.amount = uint96(amount);
        s.run = msg.sender;
        s.createdAt = SafeCast.toUint40(now_);
        s.appealDeadline = SafeCast.toUint40(now_ + _appealWindow);
        s.reason = reason;
        s.status = SlashStatus.Escrowed;
        s.runId = SafeCast.toUint128(runId);
        s.round = SafeCast.toUint128(round);
        s.evidenceHash = evidenceHash;
        _totalEscrowed += amount;
        emit Slashed(slashId, account, msg.sender, runId, round, reason, amount, evidenceHash);
    }

    /// @dev Takes up to `amount` from `account`'s unbonding entries, newest first (the stake
    ///      that most recently tried to leave); fully taken entries are removed.
    function _slashUnbonding(
        uint256 slashId,
        address account,
        uint256 amount
    ) private returns (uint256 taken) {
        UnbondingEntry[] storage queue = _queues[account];
        while (taken < amount && queue.length > 0) {
            UnbondingEntry storage entry = queue[queue.length - 1];
            uint256 available = entry.amount;
            uint256 take = amount - taken < available ? amount - taken : available;
            uint64 requestId = entry.id;
            if (take == available) {
                queue.pop();
            } else {
                // take < available <= type(uint128).max, so the cast cannot truncate
                entry.amount = uint128(available - take);
            }
            taken += take;
            emit UnbondingSlashed(slashId, account, requestId, take, available - take);
        }
        if (taken > 0) {
            _accounts[account].unbonding -= taken;
            _totalUnbonding -= taken;
        }
    }

    /// @dev Cuts `excess` out of the locks on `account`: the slashing run's lock first, then
    ///      the other runs' locks, last-registered first. Walking from the end keeps the
    ///      swap-and-pop in `_reduceLock` from moving an unvisited entry behind the cursor.
    function _shrinkLocks(address run, address account, uint256 excess, uint256 slashId) private {
        uint256 own = _lockedBy[run][account];
        if (own > 0) {
            uint256 cut = excess < own ? excess : own;
            _reduceLock(run, account, cut);
            excess -= cut;
            emit LockShrunk(run, account, cut, slashId);
        }
        address[] storage runs = _lockingRuns[account];
        uint256 i = runs.length;
        while (excess > 0 && i > 0) {
            --i;
            address other = runs[i];
            uint256 held = _lockedBy[other][account];
            uint256 cut = excess < held ? excess : held;
            _reduceLock(other, account, cut);
            excess -= cut;
            emit LockShrunk(other, account, cut, slashId);
        }
    }

    function _reduceLock(address run, address account, uint256 amount) private {
        uint256 remaining = _lockedBy[run][account] - amount;
        _lockedBy[run][account] = remaining;
        _accounts[account].locked -= amount;
        if (remaining == 0) {
            address[] storage runs = _lockingRuns[account];
            uint256 n = runs.length;
            for (uint256 i = 0; i < n; ++i) {
                if (runs[i] == run) {
                    runs[i] = runs[n - 1];
                    runs.pop();
                    break;
                }
            }
        }
    }

    function _escrowedSlash(uint256 slashId) private view returns (StoredSlash storage s) {
        s = _slashes[slashId];
        if (s.status != SlashStatus.Escrowed) {
            revert StakeManagerUnexpectedSlashStatus(slashId, s.status, SlashStatus.Escrowed);
        }
    }

    function _setUnbondingPeriod(uint64 period) private {
        if (period < MIN_UNBONDING_PERIOD || period > MAX_UNBONDING_PERIOD) {
            revert StakeManagerUnbondingPeriodOutOfBounds(
                period,
                MIN_UNBONDING_PERIOD,
                MAX_UNBONDING_PERIOD
            );
        }
        uint64 old = _unbondingPeriod;
        _unbondingPeriod = period;
        emit UnbondingPeriodSet(old, period);
    }

    function _setAppealWindow(uint64 window) private {
        if (window < MIN_APPEAL_WINDOW || window > MAX_APPEAL_WINDOW) {
            revert StakeManagerAppealWindowOutOfBounds(
                window,
                MIN_APPEAL_WINDOW,
                MAX_APPEAL_WINDOW
            );
        }
        uint64 old = _appealWindow;
        _appealWindow = window;
        emit AppealWindowSet(old, window);
    }

    function _setTreasury(address treasury_) private {
        if (treasury_ == address(this)) revert StakeManagerInvalidTreasury(treasury_);
        address old = _treasury;
        _treasury = treasury_;
        emit TreasurySet(old, treasury_);
    }
}
