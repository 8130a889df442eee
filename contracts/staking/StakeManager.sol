// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.30;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuard} from "@openzeppelin/contracts/utils/ReentrancyGuard.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {ITrainingRun} from "../run/ITrainingRun.sol";
import {IStakeManager} from "./IStakeManager.sol";

/// @title StakeManager
/// @notice Holds the bonded stake of protolearn participants. Accounts stake, ask to unstake
///         (an unbonding queue of at most MAX_UNBONDING_ENTRIES entries, each withdrawable
///         after `unbondingPeriod`), and withdraw. Runs lock stake while a node takes part and
///         slash it for misbehaviour, only out of their own lock; every slash is an escrowed
///         record that governance may reverse inside its appeal window (the lock comes back
///         with it) and that anyone may resolve (burn, or pay the treasury) after it.
/// @dev Trust: only the run factory registers runs, and the factory is named once, by the
///      deployer, during deployment; no role changes it. Governance (DEFAULT_ADMIN_ROLE) can
///      reverse slashes, deregister halted runs, set the treasury, and schedule changes to the
///      unbonding period and appeal window that apply only after RULE_CHANGE_NOTICE plus the
///      unbonding period, so a staker who starts to leave when a change is scheduled is out
///      before it applies. No role can lock or slash stake.
///      Invariants: token.balanceOf(this) == totalBonded + totalUnbonding + totalEscrowed
///      (tokens sent here directly are not counted and stay stuck); for every account
///      lockedOf == Σ lockedBy <= bondedOf. Every loop is bounded by a constant:
///      MAX_UNBONDING_ENTRIES (16) or MAX_RUN_LOCKS_PER_ACCOUNT (8).
///      Votes (G2): staked tokens vote. An account's voting units are every token this contract
///      holds for it: bonded (locked included), unbonding not yet withdrawn, and its slashes
///      still in escrow (reversible, so still its own until resolved). Units move on stake
///      (mint), withdraw (burn) and resolveSlash (burn); a slash or a reversal moves tokens
///      between bonded and escrow and leaves the votes alone, so a run's finalize writes no
///      vote checkpoint. The first stake of an account without a delegate delegates to itself;
///      `delegate` / `delegateBySig` choose another. Clock: block number, like LearnToken's
///      ERC20Votes. Invariant: total stake votes == totalBonded + totalUnbonding +
///      totalEscrowed == token.balanceOf(this) (less tokens sent here directly).
// solhint-disable-next-line max-states-count
contract StakeManager is IStakeManager, AccessControl, ReentrancyGuard, Votes {
    using SafeERC20 for IERC20;

    /// @notice How much longer than the unbonding period a scheduled stake-rule change waits:
    ///         a staker who asks to unstake up to this long after the change was scheduled is
    ///         paid out before it applies.
    uint64 public constant RULE_CHANGE_NOTICE = 1 days;

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

    /// @dev `locked` and `escrowed` share a slot: a slash writes both at the cost of one.
    ///      `escrowed` is the account's share of the slashes still in escrow (it keeps voting
    ///      until the slash is resolved; a reversal returns it to `bonded`).
    struct Account {
        uint256 bonded;
        uint256 unbonding;
        uint128 locked;
        uint128 escrowed;
    }

    /// @dev A run's position on an account: what it locks, and whether the position is open
    ///      (from the first lock until the run unlocks all of it; a slash down to 0 leaves it
    ///      open, so a reversal can restore the lock). Open positions are in `_lockingRuns`.
    struct RunLock {
        uint128 amount;
        bool open;
    }

    /// @dev Stake-rule changes waiting for their time; an `...At` of 0 means none pending.
    struct PendingRules {
        uint64 unbondingPeriod;
        uint64 unbondingPeriodAt;
        uint64 appealWindow;
        uint64 appealWindowAt;
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
    /// @dev The account that deployed this contract: the only one that may name the factory.
    // solhint-disable-next-line immutable-vars-naming
    address private immutable _deployer;

    address private _runFactory;
    PendingRules private _pending;

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
    mapping(address run => mapping(address account => RunLock)) private _locks;
    mapping(address account => address[]) private _lockingRuns;
    mapping(address run => RunStatus) private _runs;
    mapping(uint256 slashId => StoredSlash) private _slashes;

    /// @dev Lock and slash: only a run the factory registered and governance did not deregister.
    modifier onlyRegisteredRun() {
        if (_runs[msg.sender] != RunStatus.Registered) revert StakeManagerNotRun(msg.sender);
        _;
    }

    /// @param token_ the staked token (LearnToken; must expose ERC20Burnable.burn for burning)
    /// @param admin receives DEFAULT_ADMIN_ROLE (the timelock)
    /// @dev The deployer (msg.sender) keeps one power: naming the run factory, once.
    /// @param unbondingPeriod_ seconds an unstake request waits (MIN/MAX_UNBONDING_PERIOD)
    /// @param appealWindow_ seconds a slash stays in escrow (MIN/MAX_APPEAL_WINDOW)
    /// @param treasury_ receives resolved slashes; address(0) burns them
    constructor(
        IERC20 token_,
        address admin,
        uint64 unbondingPeriod_,
        uint64 appealWindow_,
        address treasury_
    ) EIP712("Protolearn Stake", "1") {
        if (address(token_) == address(0) || admin == address(0)) revert StakeManagerZeroAddress();
        _token = token_;
        _deployer = msg.sender;
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
        _applyDueRules();
        return _requestUnstake(msg.sender, amount);
    }

    /// @notice Pays out every matured unbonding entry of the caller.
    /// @dev Reverts with StakeManagerNothingToWithdraw when none has matured.
    /// @return amount what was paid
    function withdraw() external nonReentrant returns (uint256 amount) {
        return _withdraw(msg.sender);
    }

    // ------------------------------------------------------------------ runs

    /// @notice Names the run factory, the only address that may register runs. Once.
    /// @dev Only the deployer of this contract, during deployment (before anyone can stake
    ///      against a half-built system); no role can call it, so governance can never make
    ///      itself or anyone else a registrar.
    function setRunFactory(address runFactory_) external {
        if (msg.sender != _deployer) revert StakeManagerNotDeployer(msg.sender, _deployer);
        if (_runFactory != address(0)) revert StakeManagerRunFactoryAlreadySet(_runFactory);
        if (runFactory_ == address(0)) revert StakeManagerZeroAddress();
        _runFactory = runFactory_;
        emit RunFactorySet(runFactory_);
    }

    /// @inheritdoc IStakeManager
    function registerRun(address run) external {
        if (msg.sender != _runFactory) revert StakeManagerNotRunFactory(msg.sender, _runFactory);
        if (run == address(0) || _runs[run] != RunStatus.None) revert StakeManagerInvalidRun(run);
        _runs[run] = RunStatus.Registered;
        emit RunRegistered(run, msg.sender);
    }

    /// @notice Deregisters `run` for good once it is halted and its last round has settled
    ///         (`phase() == Halted`): it can no longer lock or slash, and every staker may
    ///         release what it still locks (`releaseLock`).
    /// @dev Only DEFAULT_ADMIN_ROLE (governance). Waiting for the settlement keeps governance
    ///      from cancelling the slashes of a round whose votes are in (halt, then deregister
    ///      before finalize). Escrowed slashes of the run stay appealable and resolvable; a
    ///      reversal then returns free stake instead of restoring the lock.
    function deregisterRun(address run) external onlyRole(DEFAULT_ADMIN_ROLE) {
        RunStatus status = _runs[run];
        if (status != RunStatus.Registered)
            revert StakeManagerUnexpectedRunStatus(run, status, RunStatus.Registered);
        if (ITrainingRun(run).phase() != ITrainingRun.Phase.Halted)
            revert StakeManagerRunNotHalted(run);
        _runs[run] = RunStatus.Deregistered;
        emit RunDeregistered(run, msg.sender);
    }

    /// @inheritdoc IStakeManager
    function lock(address account, uint256 amount) external onlyRegisteredRun {
        if (amount == 0) revert StakeManagerZeroAmount();
        Account storage acc = _accounts[account];
        uint256 free = acc.bonded - acc.locked;
        if (amount > free) revert StakeManagerInsufficientFreeStake(account, free, amount);
        RunLock storage pos = _locks[msg.sender][account];
        if (!pos.open) {
            address[] storage runs = _lockingRuns[account];
            if (runs.length >= MAX_RUN_LOCKS_PER_ACCOUNT) {
                revert StakeManagerTooManyRunLocks(account, MAX_RUN_LOCKS_PER_ACCOUNT);
            }
            runs.push(msg.sender);
            pos.open = true;
        }
        uint256 lockedByRun = pos.amount + amount;
        pos.amount = SafeCast.toUint128(lockedByRun);
        // amount <= free <= bonded; the checked uint128 add reverts on overflow
        acc.locked += SafeCast.toUint128(amount);
        emit Locked(msg.sender, account, amount, lockedByRun);
    }

    /// @inheritdoc IStakeManager
    /// @dev Also allowed to a deregistered run (a run's `leave` keeps working after a halt).
    ///      Unlocking down to 0 closes the run's position on the account.
    function unlock(address account, uint256 amount) external {
        if (_runs[msg.sender] == RunStatus.None) revert StakeManagerNotRun(msg.sender);
        RunLock storage pos = _locks[msg.sender][account];
        if (!pos.open) return;
        uint256 current = pos.amount;
        uint256 released = amount < current ? amount : current;
        _release(msg.sender, account, pos, released);
    }

    /// @notice Releases everything the deregistered `run` still locks of the caller.
    /// @dev Anyone, for their own stake; only once governance deregistered the run.
    /// @return released the amount that became free stake
    function releaseLock(address run) external returns (uint256 released) {
        RunStatus status = _runs[run];
        if (status != RunStatus.Deregistered)
            revert StakeManagerUnexpectedRunStatus(run, status, RunStatus.Deregistered);
        RunLock storage pos = _locks[run][msg.sender];
        if (!pos.open) revert StakeManagerNoLock(run, msg.sender);
        released = pos.amount;
        _release(run, msg.sender, pos, released);
    }

    /// @inheritdoc IStakeManager
    /// @dev `amount` is clamped to the calling run's lock on `account` (and to type(uint96).max,
    ///      the record's width); the slash comes out of that lock, so a run can never take more
    ///      of an account, over all its slashes, than the account locked in it. Other runs'
    ///      locks, free stake and unbonding stake are out of its reach.
    function slash(
        address account,
        uint256 amount,
        SlashReason reason,
        uint256 runId,
        uint256 round,
        bytes32 evidenceHash
    ) external onlyRegisteredRun nonReentrant returns (uint256 slashId, uint256 slashed) {
        if (reason == SlashReason.None) revert StakeManagerInvalidSlashReason(reason);
        _applyDueRules();
        RunLock storage pos = _locks[msg.sender][account];
        uint256 held = pos.amount;
        slashed = amount < held ? amount : held;
        if (slashed > type(uint96).max) slashed = type(uint96).max;
        if (slashed == 0) return (0, 0);
        slashId = ++_slashCount;
        // slashed <= held <= type(uint128).max
        pos.amount = uint128(held - slashed);
        Account storage acc = _accounts[account];
        // slashed <= type(uint96).max; both fields share one slot
        acc.locked -= uint128(slashed);
        acc.escrowed += uint128(slashed);
        acc.bonded -= slashed;
        _totalBonded -= slashed;
        emit LockShrunk(msg.sender, account, slashed, slashId);
        _recordSlash(slashId, account, slashed, reason, runId, round, evidenceHash);
    }

    // ------------------------------------------------------------------ appeals

    /// @notice Reverses slash `slashId`: its amount goes back to the account's bonded stake and
    ///         to the slashing run's lock it came out of, so the node's position in the run is
    ///         whole again. Only while the slash is escrowed and its appeal window open.
    /// @dev Only DEFAULT_ADMIN_ROLE (the timelock, i.e. a passed governance proposal). When the
    ///      run has since been deregistered or has released the account (the node left), the
    ///      amount returns as free stake instead, so it can never be trapped in a dead lock.
    function reverseSlash(uint256 slashId) external onlyRole(DEFAULT_ADMIN_ROLE) {
        StoredSlash storage s = _escrowedSlash(slashId);
        uint64 now_ = uint64(block.timestamp);
        if (now_ >= s.appealDeadline)
            revert StakeManagerAppealWindowClosed(slashId, s.appealDeadline, now_);
        uint256 amount = s.amount;
        address account = s.account;
        address run = s.run;
        s.status = SlashStatus.Reversed;
        _totalEscrowed -= amount;
        Account storage acc = _accounts[account];
        // amount <= type(uint96).max; the escrowed tokens go back to bonded: votes unchanged
        acc.escrowed -= uint128(amount);
        acc.bonded += amount;
        _totalBonded += amount;
        emit SlashReversed(slashId, account, amount);
        RunLock storage pos = _locks[run][account];
        if (_runs[run] == RunStatus.Registered && pos.open) {
            // amount <= type(uint96).max, and the run's lock stays below the token's supply
            pos.amount = SafeCast.toUint128(pos.amount + amount);
            acc.locked += uint128(amount);
            emit LockRestored(run, account, amount, slashId);
        }
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
        // amount <= type(uint96).max; the tokens leave the account: so do their votes
        _accounts[s.account].escrowed -= uint128(amount);
        _transferVotingUnits(s.account, address(0), amount);
        emit SlashResolved(slashId, s.account, amount, recipient, recipient == address(0));
        if (recipient == address(0)) {
            ERC20Burnable(address(_token)).burn(amount);
        } else {
            _token.safeTransfer(recipient, amount);
        }
    }

    // ------------------------------------------------------------------ settings

    /// @notice Schedules a new unbonding period for future unstake requests (pending ones keep
    ///         theirs). It applies RULE_CHANGE_NOTICE after the longer of the current and any
    ///         pending unbonding period, so a staker who asks to leave now is out before it
    ///         applies. Replaces a change still pending.
    /// @dev Only DEFAULT_ADMIN_ROLE. Bounded by MIN/MAX_UNBONDING_PERIOD.
    function setUnbondingPeriod(uint64 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkUnbondingPeriod(period);
        _applyDueRules();
        uint64 effectiveAt = _ruleChangeTime();
        _pending.unbondingPeriod = period;
        _pending.unbondingPeriodAt = effectiveAt;
        emit UnbondingPeriodScheduled(_unbondingPeriod, period, effectiveAt);
    }

    /// @notice Schedules a new appeal window for future slashes (escrowed ones keep their
    ///         deadline), applied as `setUnbondingPeriod`'s change is. Replaces a change still
    ///         pending.
    /// @dev Only DEFAULT_ADMIN_ROLE. Bounded by MIN/MAX_APPEAL_WINDOW.
    function setAppealWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _checkAppealWindow(window);
        _applyDueRules();
        uint64 effectiveAt = _ruleChangeTime();
        _pending.appealWindow = window;
        _pending.appealWindowAt = effectiveAt;
        emit AppealWindowScheduled(_appealWindow, window, effectiveAt);
    }

    /// @notice Writes the scheduled stake-rule changes whose time has come (emitting
    ///         UnbondingPeriodSet / AppealWindowSet). Permissionless; `requestUnstake`,
    ///         `slash` and the setters do it too, and the views already show a due change.
    function applyStakeRules() external {
        _applyDueRules();
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

    /// @notice Seconds a new unstake request waits before it can be withdrawn (a scheduled
    ///         change counts from its effective time on).
    function unbondingPeriod() external view returns (uint64) {
        PendingRules memory p = _pending;
        return _isDue(p.unbondingPeriodAt) ? p.unbondingPeriod : _unbondingPeriod;
    }

    /// @notice Seconds a new slash stays reversible in escrow (a scheduled change counts from
    ///         its effective time on).
    function appealWindow() external view returns (uint64) {
        PendingRules memory p = _pending;
        return _isDue(p.appealWindowAt) ? p.appealWindow : _appealWindow;
    }

    /// @notice The scheduled unbonding period and when it applies; (0, 0) when none is waiting.
    function pendingUnbondingPeriod() external view returns (uint64 period, uint64 effectiveAt) {
        PendingRules memory p = _pending;
        if (p.unbondingPeriodAt == 0 || _isDue(p.unbondingPeriodAt)) return (0, 0);
        return (p.unbondingPeriod, p.unbondingPeriodAt);
    }

    /// @notice The scheduled appeal window and when it applies; (0, 0) when none is waiting.
    function pendingAppealWindow() external view returns (uint64 window, uint64 effectiveAt) {
        PendingRules memory p = _pending;
        if (p.appealWindowAt == 0 || _isDue(p.appealWindowAt)) return (0, 0);
        return (p.appealWindow, p.appealWindowAt);
    }

    /// @notice The only address that may register runs (address(0) until the deployer names it).
    function runFactory() external view returns (address) {
        return _runFactory;
    }

    /// @notice The account that deployed this contract (it may name the run factory, once).
    function deployer() external view returns (address) {
        return _deployer;
    }

    /// @notice Where `run` stands: never registered, registered, or deregistered.
    function runStatus(address run) external view returns (RunStatus) {
        return _runs[run];
    }

    /// @inheritdoc IStakeManager
    function bondedOf(address account) external view returns (uint256) {
        return _accounts[account].bonded;
    }

    /// @inheritdoc IStakeManager
    function unbondingOf(address account) external view returns (uint256) {
        return _accounts[account].unbonding;
    }

    /// @notice The amount of `account`'s slashes still in escrow (it votes until resolved).
    function escrowedOf(address account) external view returns (uint256) {
        return _accounts[account].escrowed;
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
        return _locks[run][account].amount;
    }

    /// @notice The runs with an open position on `account` (at most MAX_RUN_LOCKS_PER_ACCOUNT):
    ///         each locks some of its stake, or did until a slash took all of it.
    function lockingRunsOf(address account) external view returns (address[] memory) {
        return _lockingRuns[account];
    }

    /// @inheritdoc IStakeManager
    function isRun(address run) external view returns (bool) {
        return _runs[run] == RunStatus.Registered;
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

    /// @dev Voting units of `account`: every token this contract holds for it, bonded (locked
    ///      included), unbonding not yet withdrawn, and its slashes still in escrow.
    function _getVotingUnits(address account) internal view override returns (uint256) {
        Account storage acc = _accounts[account];
        return acc.bonded + acc.unbonding + acc.escrowed;
    }

    function _stake(address account, uint256 amount) private {
        if (amount == 0) revert StakeManagerZeroAmount();
        // Staked tokens vote by default: the first stake of an account without a delegate
        // delegates to itself (before the units move, so nothing is counted twice).
        if (delegates(account) == address(0)) _delegate(account, account);
        Account storage acc = _accounts[account];
        acc.bonded += amount;
        _totalBonded += amount;
        _transferVotingUnits(address(0), account, amount);
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
        _transferVotingUnits(account, address(0), amount);
        emit Withdrawn(account, amount, n - kept);
        _token.safeTransfer(account, amount);
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

    /// @dev Releases `released` of `run`'s lock `l` on `account`; at 0 the position closes and
    ///      the run leaves the account's list (swap-and-pop, at most MAX_RUN_LOCKS_PER_ACCOUNT).
    function _release(address run, address account, RunLock storage pos, uint256 released) private {
        uint256 remaining = pos.amount - released;
        // remaining < pos.amount <= type(uint128).max
        pos.amount = uint128(remaining);
        // released <= pos.amount <= type(uint128).max
        _accounts[account].locked -= uint128(released);
        if (remaining == 0) {
            pos.open = false;
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
        emit Unlocked(run, account, released, remaining);
    }

    /// @dev When a scheduled stake-rule change takes effect: RULE_CHANGE_NOTICE after the
    ///      longest unbonding period a request made now could get.
    function _ruleChangeTime() private view returns (uint64) {
        uint64 longest = _unbondingPeriod;
        PendingRules memory p = _pending;
        if (p.unbondingPeriodAt != 0 && p.unbondingPeriod > longest) longest = p.unbondingPeriod;
        return uint64(block.timestamp) + longest + RULE_CHANGE_NOTICE;
    }

    function _isDue(uint64 effectiveAt) private view returns (bool) {
        return effectiveAt != 0 && effectiveAt <= block.timestamp;
    }

    /// @dev Writes the scheduled changes whose time has come; each emits its XSet(old, new).
    function _applyDueRules() private {
        PendingRules memory p = _pending;
        if (_isDue(p.unbondingPeriodAt)) {
            _pending.unbondingPeriodAt = 0;
            _pending.unbondingPeriod = 0;
            _setUnbondingPeriod(p.unbondingPeriod);
        }
        if (_isDue(p.appealWindowAt)) {
            _pending.appealWindowAt = 0;
            _pending.appealWindow = 0;
            _setAppealWindow(p.appealWindow);
        }
    }

    function _escrowedSlash(uint256 slashId) private view returns (StoredSlash storage s) {
        s = _slashes[slashId];
        if (s.status != SlashStatus.Escrowed) {
            revert StakeManagerUnexpectedSlashStatus(slashId, s.status, SlashStatus.Escrowed);
        }
    }

    function _checkUnbondingPeriod(uint64 period) private pure {
        if (period < MIN_UNBONDING_PERIOD || period > MAX_UNBONDING_PERIOD) {
            revert StakeManagerUnbondingPeriodOutOfBounds(
                period,
                MIN_UNBONDING_PERIOD,
                MAX_UNBONDING_PERIOD
            );
        }
    }

    function _checkAppealWindow(uint64 window) private pure {
        if (window < MIN_APPEAL_WINDOW || window > MAX_APPEAL_WINDOW) {
            revert StakeManagerAppealWindowOutOfBounds(
                window,
                MIN_APPEAL_WINDOW,
                MAX_APPEAL_WINDOW
            );
        }
    }

    function _setUnbondingPeriod(uint64 period) private {
        _checkUnbondingPeriod(period);
        uint64 old = _unbondingPeriod;
        _unbondingPeriod = period;
        emit UnbondingPeriodSet(old, period);
    }

    function _setAppealWindow(uint64 window) private {
        _checkAppealWindow(window);
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
