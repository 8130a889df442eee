import { expect } from "chai";
import { network } from "hardhat";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/types";
import { deployCore, ONE, timelockSigner } from "./helpers/deployCore.js";
import { SeededRandom } from "../node/fixtures/prng.js";

/**
 * Randomized differential test of StakeManager: a seeded PRNG drives OPS random operations
 * (stake, requestUnstake, withdraw, lock, unlock, slash, reverseSlash, resolveSlash, scheduled
 * setting changes, time jumps) by 5 accounts and 2 registered runs (EOAs). A plain TypeScript model of
 * the rules predicts every outcome, including which calls must revert and with which error.
 * After EVERY operation the test checks
 *   token.balanceOf(stakeManager) == Σ bonded + Σ unbonding + Σ escrowed slashes,
 *   the contract's per-account stake equals the model's, lockedOf <= bondedOf,
 *   no account has withdrawn more than it staked plus its reversed slashes,
 *   and no run has slashed an account for more than that account ever locked in it.
 *
 * PROPERTY_OPS (default 10000) and PROPERTY_SEED (default 20240601) reproduce a run.
 */
const OPS = Number(process.env.PROPERTY_OPS ?? 10_000);
const SEED = Number(process.env.PROPERTY_SEED ?? 20240601);

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const UNBONDING = 3600n;
const APPEAL = 1800n;
const MAX_ENTRIES = 16;
const NOTICE = 24n * 3600n; // RULE_CHANGE_NOTICE
const GAS = { gasLimit: 1_000_000n };

interface Entry {
  id: bigint;
  releaseAt: bigint;
  amount: bigint;
}

interface AccountModel {
  signer: HardhatEthersSigner;
  balance: bigint;
  bonded: bigint;
  locked: bigint;
  lockedBy: Map<string, bigint>;
  /** runs with an open position (a lock, or one a slash took to 0), in the contract's order
   *  (push, swap-and-pop) */
  runs: string[];
  /** per run: everything ever locked, and everything slashed net of reversals */
  everLocked: Map<string, bigint>;
  slashedBy: Map<string, bigint>;
  queue: Entry[];
  staked: bigint;
  withdrawn: bigint;
  reversed: bigint;
}

interface SlashModel {
  id: bigint;
  account: AccountModel;
  run: string;
  amount: bigint;
  deadline: bigint;
  status: "escrowed" | "reversed" | "resolved";
}

const unbondingOf = (a: AccountModel): bigint => a.queue.reduce((s, e) => s + e.amount, 0n);

/** A pending stake-rule change: `at` 0 = none. */
interface Pending {
  value: bigint;
  at: bigint;
}

/** Releases `amount` of `run`'s lock; at 0 the position closes (unlock), unless `keepOpen` (slash). */
function reduceLock(a: AccountModel, run: string, amount: bigint, keepOpen = false): void {
  const remaining = (a.lockedBy.get(run) ?? 0n) - amount;
  a.lockedBy.set(run, remaining);
  a.locked -= amount;
  if (remaining === 0n && !keepOpen) {
    const i = a.runs.indexOf(run);
    a.runs[i] = a.runs[a.runs.length - 1]!;
    a.runs.pop();
  }
}

describe("StakeManager property: conservation under random operations", function () {
  this.timeout(0);

  it(`token balance == Σ bonded + Σ unbonding + Σ escrowed after each of ${OPS} random operations (seed ${SEED})`, async function () {
    const core = await deployCore(connection, {
      unbondingPeriod: UNBONDING,
      appealWindow: APPEAL,
      treasury: "timelock",
    });
    const { stakeManager: sm, token } = core;
    const smAddress = await sm.getAddress();
    const admin = await timelockSigner(core);
    const [registrar, runA, runB] = core.others as [
      HardhatEthersSigner,
      HardhatEthersSigner,
      HardhatEthersSigner,
    ];
    await (await sm.connect(core.deployer).setRunFactory(registrar.address)).wait();
    for (const run of [runA, runB])
      await (await sm.connect(registrar).registerRun(run.address)).wait();
    const runs = [runA, runB];
    const timelockAddress = await core.timelock.getAddress();
    let treasury = await sm.treasury();

    const accounts: AccountModel[] = [];
    for (const signer of core.holders.slice(1, 6)) {
      await (await token.connect(signer).approve(smAddress, ethers.MaxUint256)).wait();
      accounts.push({
        signer,
        balance: await token.balanceOf(signer.address),
        bonded: 0n,
        locked: 0n,
        lockedBy: new Map(),
        runs: [],
        everLocked: new Map(),
        slashedBy: new Map(),
        queue: [],
        staked: 0n,
        withdrawn: 0n,
        reversed: 0n,
      });
    }
    const slashes: SlashModel[] = [];
    let nextRequestId = 1n;
    let unbondingPeriod = UNBONDING;
    let appealWindow = APPEAL;
    let pendingUnbonding: Pending = { value: 0n, at: 0n };
    let pendingAppeal: Pending = { value: 0n, at: 0n };
    /** What the contract does first in requestUnstake, slash and the setters. */
    const applyDue = (t: bigint): void => {
      if (pendingUnbonding.at !== 0n && pendingUnbonding.at <= t) {
        unbondingPeriod = pendingUnbonding.value;
        pendingUnbonding = { value: 0n, at: 0n };
      }
      if (pendingAppeal.at !== 0n && pendingAppeal.at <= t) {
        appealWindow = pendingAppeal.value;
        pendingAppeal = { value: 0n, at: 0n };
      }
    };
    const ruleChangeTime = (t: bigint): bigint => {
      let longest = unbondingPeriod;
      if (pendingUnbonding.at !== 0n && pendingUnbonding.value > longest)
        longest = pendingUnbonding.value;
      return t + longest + NOTICE;
    };
    let supply = await token.totalSupply();
    let treasuryBalance = await token.balanceOf(timelockAddress);
    let now = BigInt(await networkHelpers.time.latest());
    const rng = new SeededRandom(SEED);
    const counts = new Map<string, number>();
    const log: string[] = [];

    const amountUpTo = (max: bigint): bigint => {
      const x = rng.bigintUpTo(max);
      return x === 0n ? 1n : x;
    };
    const tokens = (): bigint => BigInt(1 + rng.int(2_000)) * ONE + BigInt(rng.int(1_000_000));
    /** The timestamp the next transaction's block will have. */
    const nextBlock = async (): Promise<bigint> => {
      now += 1n;
      await networkHelpers.time.setNextBlockTimestamp(now);
      return now;
    };
    const escrowed = (): bigint =>
      slashes.filter((s) => s.status === "escrowed").reduce((t, s) => t + s.amount, 0n);

    async function checkAccountDetail(a: AccountModel): Promise<void> {
      const [entries, byA, byB, lockingRuns] = await Promise.all([
        sm.unbondingEntries(a.signer.address),
        sm.lockedBy(runA.address, a.signer.address),
        sm.lockedBy(runB.address, a.signer.address),
        sm.lockingRunsOf(a.signer.address),
      ]);
      expect(entries.map((e) => [e.id, e.releaseAt, e.amount])).to.deep.equal(
        a.queue.map((e) => [e.id, e.releaseAt, e.amount]),
      );
      expect([byA, byB]).to.deep.equal([
        a.lockedBy.get(runA.address) ?? 0n,
        a.lockedBy.get(runB.address) ?? 0n,
      ]);
      expect([...lockingRuns]).to.deep.equal(a.runs);
    }

    async function checkInvariants(): Promise<void> {
      const [held, totalBonded, totalUnbonding, totalEscrowed, ...stakes] = await Promise.all([
        token.balanceOf(smAddress),
        sm.totalBonded(),
        sm.totalUnbonding(),
        sm.totalEscrowed(),
        ...accounts.map((a) => sm.stakeOf(a.signer.address)),
      ]);
      // G2: every account delegates its stake votes to itself (first stake), so the sum of
      // the delegated stake votes is every token held for the accounts (bonded + unbonding +
      // escrowed slashes, which vote until resolved).
      const votes = await Promise.all(accounts.map((a) => sm.getVotes(a.signer.address)));
      const sumVotes = votes.reduce((x, y) => x + y, 0n);
      let sumBonded = 0n;
      let sumUnbonding = 0n;
      accounts.forEach((a, i) => {
        const [bonded, unbonding, locked] = stakes[i] as unknown as [bigint, bigint, bigint];
        expect(
          [bonded, unbonding, locked],
          `account ${i} (bonded, unbonding, locked)`,
        ).to.deep.equal([a.bonded, unbondingOf(a), a.locked]);
        expect(locked <= bonded, `account ${i}: lockedOf <= bondedOf`).to.equal(true);
        expect(
          a.withdrawn <= a.staked + a.reversed,
          `account ${i} withdrew more than it staked + reversed`,
        ).to.equal(true);
        sumBonded += bonded;
        sumUnbonding += unbonding;
      });
      const sumEscrowed = escrowed();
      expect(held, "balanceOf(stakeManager) == Σ bonded + Σ unbonding + Σ escrowed").to.equal(
        sumBonded + sumUnbonding + sumEscrowed,
      );
      expect([totalBonded, totalUnbonding, totalEscrowed]).to.deep.equal([
        sumBonded,
        sumUnbonding,
        sumEscrowed,
      ]);
      expect(sumVotes, "Σ delegated stake votes == Σ bonded + Σ unbonding + Σ escrowed").to.equal(
        sumBonded + sumUnbonding + sumEscrowed,
      );
    }

    const started = performance.now();
    for (let op = 0; op < OPS; op++) {
      const a = rng.pick(accounts);
      const ai = accounts.indexOf(a);
      const run = rng.pick(runs);
      const roll = rng.next();
      let kind: string;
      let detail: Promise<void> | null = null;
      try {
        if (roll < 0.16) {
          kind = "stake";
          const amount = tokens();
          await nextBlock();
          await (await sm.connect(a.signer).stake(amount, GAS)).wait();
          a.bonded += amount;
          a.staked += amount;
          a.balance -= amount;
          log.push(`#${op} stake a${ai} ${amount}`);
        } else if (roll < 0.3) {
          const free = a.bonded - a.locked;
          const tooMuch = free === 0n || rng.chance(0.1);
          const amount = tooMuch ? free + 1n + rng.bigintUpTo(ONE) : amountUpTo(free);
          const t = await nextBlock();
          log.push(
            `#${op} requestUnstake a${ai} ${amount} (free ${free}, entries ${a.queue.length})`,
          );
          if (tooMuch) {
            kind = "requestUnstake:rejected";
            await expect(sm.connect(a.signer).requestUnstake(amount, GAS))
              .to.be.revertedWithCustomError(sm, "StakeManagerInsufficientFreeStake")
              .withArgs(a.signer.address, free, amount);
          } else if (a.queue.length >= MAX_ENTRIES) {
            kind = "requestUnstake:queueFull";
            await expect(
              sm.connect(a.signer).requestUnstake(amount, GAS),
            ).to.be.revertedWithCustomError(sm, "StakeManagerUnbondingQueueFull");
          } else {
            kind = "requestUnstake";
            applyDue(t);
            await (await sm.connect(a.signer).requestUnstake(amount, GAS)).wait();
            a.bonded -= amount;
            a.queue.push({ id: nextRequestId++, releaseAt: t + unbondingPeriod, amount });
            detail = checkAccountDetail(a);
          }
        } else if (roll < 0.4) {
          const t = await nextBlock();
          const matured = a.queue.filter((e) => e.releaseAt <= t);
          log.push(`#${op} withdraw a${ai} (${matured.length} matured)`);
          if (matured.length === 0) {
            kind = "withdraw:nothing";
            await expect(sm.connect(a.signer).withdraw(GAS)).to.be.revertedWithCustomError(
              sm,
              "StakeManagerNothingToWithdraw",
            );
          } else {
            kind = "withdraw";
            const amount = matured.reduce((s, e) => s + e.amount, 0n);
            const before = await token.balanceOf(a.signer.address);
            await (await sm.connect(a.signer).withdraw(GAS)).wait();
            expect(await token.balanceOf(a.signer.address)).to.equal(before + amount);
            a.queue = a.queue.filter((e) => e.releaseAt > t);
            a.withdrawn += amount;
            a.balance += amount;
            detail = checkAccountDetail(a);
          }
        } else if (roll < 0.51) {
          const free = a.bonded - a.locked;
          const tooMuch = free === 0n || rng.chance(0.1);
          const amount = tooMuch ? free + 1n : amountUpTo(free);
          await nextBlock();
          log.push(`#${op} lock ${run === runA ? "runA" : "runB"} a${ai} ${amount} (free ${free})`);
          if (tooMuch) {
            kind = "lock:rejected";
            await expect(sm.connect(run).lock(a.signer.address, amount, GAS))
              .to.be.revertedWithCustomError(sm, "StakeManagerInsufficientFreeStake")
              .withArgs(a.signer.address, free, amount);
          } else {
            kind = "lock";
            await (await sm.connect(run).lock(a.signer.address, amount, GAS)).wait();
            if (!a.runs.includes(run.address)) a.runs.push(run.address);
            a.lockedBy.set(run.address, (a.lockedBy.get(run.address) ?? 0n) + amount);
            a.everLocked.set(run.address, (a.everLocked.get(run.address) ?? 0n) + amount);
            a.locked += amount;
            detail = checkAccountDetail(a);
          }
        } else if (roll < 0.58) {
          kind = "unlock";
          const held = a.lockedBy.get(run.address) ?? 0n;
          const amount = rng.bigintUpTo(held + held / 2n + ONE);
          await nextBlock();
          log.push(
            `#${op} unlock ${run === runA ? "runA" : "runB"} a${ai} ${amount} (held ${held})`,
          );
          await (await sm.connect(run).unlock(a.signer.address, amount, GAS)).wait();
          const released = amount < held ? amount : held;
          if (a.runs.includes(run.address)) reduceLock(a, run.address, released);
          detail = checkAccountDetail(a);
        } else if (roll < 0.69) {
          const total = a.bonded + unbondingOf(a);
          // mostly a slice of the stake, sometimes more than all of it; the run gets at most its lock
          const amount = rng.chance(0.05)
            ? 0n
            : rng.chance(0.2)
              ? rng.bigintUpTo(total + total / 5n + ONE)
              : rng.bigintUpTo(total / 4n);
          const reason = 1 + rng.int(3);
          const t = await nextBlock();
          const own = a.lockedBy.get(run.address) ?? 0n;
          log.push(
            `#${op} slash ${run === runA ? "runA" : "runB"} a${ai} ${amount} (lock ${own}, bonded ${a.bonded}, unbonding ${total - a.bonded})`,
          );
          applyDue(t);
          await (
            await sm
              .connect(run)
              .slash(a.signer.address, amount, reason, 1n, BigInt(op), ethers.id(`op${op}`), GAS)
          ).wait();
          const slashed = amount < own ? amount : own;
          a.bonded -= slashed;
          reduceLock(a, run.address, slashed, true);
          a.slashedBy.set(run.address, (a.slashedBy.get(run.address) ?? 0n) + slashed);
          expect(
            a.slashedBy.get(run.address)! <= (a.everLocked.get(run.address) ?? 0n),
            "a run slashed more than the account ever locked in it",
          ).to.equal(true);
          if (slashed > 0n) {
            kind = "slash";
            const id = BigInt(slashes.length + 1);
            slashes.push({
              id,
              account: a,
              run: run.address,
              amount: slashed,
              deadline: t + appealWindow,
              status: "escrowed",
            });
            const record = await sm.slashRecord(id);
            expect([record.account, record.amount, record.status]).to.deep.equal([
              a.signer.address,
              slashed,
              1n,
            ]);
          } else {
            kind = "slash:nothing";
          }
          expect(await sm.slashCount()).to.equal(BigInt(slashes.length));
          detail = checkAccountDetail(a);
        } else if (roll < 0.76 || (roll < 0.83 && slashes.length === 0)) {
          // mostly a slash still inside its window (a real appeal), else any record or an unknown id
          const appealable = slashes.filter(
            (s) => s.status === "escrowed" && s.deadline > now + 1n,
          );
          const s =
            appealable.length > 0 && rng.chance(0.7)
              ? rng.pick(appealable)
              : slashes.length > 0
                ? rng.pick(slashes)
                : undefined;
          const id = s?.id ?? 1_000_000n;
          const t = await nextBlock();
          log.push(
            `#${op} reverseSlash ${id} (${s?.status ?? "unknown"}, deadline ${s?.deadline}, t ${t})`,
          );
          if (s === undefined || s.status !== "escrowed") {
            kind = "reverseSlash:status";
            await expect(sm.connect(admin).reverseSlash(id, GAS)).to.be.revertedWithCustomError(
              sm,
              "StakeManagerUnexpectedSlashStatus",
            );
          } else if (t >= s.deadline) {
            kind = "reverseSlash:closed";
            await expect(sm.connect(admin).reverseSlash(id, GAS))
              .to.be.revertedWithCustomError(sm, "StakeManagerAppealWindowClosed")
              .withArgs(id, s.deadline, t);
          } else {
            kind = "reverseSlash";
            await (await sm.connect(admin).reverseSlash(id, GAS)).wait();
            s.status = "reversed";
            s.account.bonded += s.amount;
            s.account.reversed += s.amount;
            s.account.slashedBy.set(s.run, s.account.slashedBy.get(s.run)! - s.amount);
            if (s.account.runs.includes(s.run)) {
              // G5: the lock comes back with the stake while the run's position is open
              s.account.lockedBy.set(s.run, (s.account.lockedBy.get(s.run) ?? 0n) + s.amount);
              s.account.locked += s.amount;
            }
            detail = checkAccountDetail(s.account);
          }
        } else if (roll < 0.83) {
          const open = slashes.filter((s) => s.status === "escrowed");
          const s = open.length > 0 && rng.chance(0.8) ? rng.pick(open) : rng.pick(slashes);
          const t = await nextBlock();
          const caller = rng.pick(accounts).signer;
          const burn = treasury === ethers.ZeroAddress;
          log.push(
            `#${op} resolveSlash ${s.id} (${s.status}, deadline ${s.deadline}, t ${t}, ${burn ? "burn" : "treasury"})`,
          );
          if (s.status !== "escrowed") {
            kind = "resolveSlash:status";
            await expect(sm.connect(caller).resolveSlash(s.id, GAS)).to.be.revertedWithCustomError(
              sm,
              "StakeManagerUnexpectedSlashStatus",
            );
          } else if (t < s.deadline) {
            kind = "resolveSlash:open";
            await expect(sm.connect(caller).resolveSlash(s.id, GAS))
              .to.be.revertedWithCustomError(sm, "StakeManagerAppealWindowOpen")
              .withArgs(s.id, s.deadline, t);
          } else {
            kind = "resolveSlash";
            await (await sm.connect(caller).resolveSlash(s.id, GAS)).wait();
            s.status = "resolved";
            if (burn) supply -= s.amount;
            else treasuryBalance += s.amount;
            expect(await token.totalSupply()).to.equal(supply);
            expect(await token.balanceOf(timelockAddress)).to.equal(treasuryBalance);
          }
        } else if (roll < 0.84) {
          kind = "setUnbondingPeriod";
          const value = 60n + BigInt(rng.int(7200));
          const t = await nextBlock();
          log.push(`#${op} setUnbondingPeriod ${value}`);
          applyDue(t);
          const at = ruleChangeTime(t);
          await expect(sm.connect(admin).setUnbondingPeriod(value, GAS))
            .to.emit(sm, "UnbondingPeriodScheduled")
            .withArgs(unbondingPeriod, value, at);
          pendingUnbonding = { value, at };
        } else if (roll < 0.855) {
          // switch between paying the treasury (the timelock) and burning
          treasury = treasury === ethers.ZeroAddress ? timelockAddress : ethers.ZeroAddress;
          kind = treasury === ethers.ZeroAddress ? "setTreasury:burn" : "setTreasury:timelock";
          await nextBlock();
          log.push(`#${op} setTreasury ${treasury}`);
          await (await sm.connect(admin).setTreasury(treasury, GAS)).wait();
        } else if (roll < 0.865) {
          kind = "setAppealWindow";
          const value = 60n + BigInt(rng.int(3600));
          const t = await nextBlock();
          log.push(`#${op} setAppealWindow ${value}`);
          applyDue(t);
          const at = ruleChangeTime(t);
          await expect(sm.connect(admin).setAppealWindow(value, GAS))
            .to.emit(sm, "AppealWindowScheduled")
            .withArgs(appealWindow, value, at);
          pendingAppeal = { value, at };
        } else {
          kind = "timeJump";
          const jump = rng.chance(0.5)
            ? 1n + BigInt(rng.int(600))
            : 1n + BigInt(rng.int(Number(2n * UNBONDING)));
          now += jump;
          log.push(`#${op} time +${jump}`);
        }
        counts.set(kind, (counts.get(kind) ?? 0) + 1);
        await Promise.all([checkInvariants(), detail]);
      } catch (error) {
        const recent = log.slice(-15).join("\n  ");
        throw new Error(
          `property broken at operation #${op} (seed ${SEED}); last operations:\n  ${recent}\n${String(error)}`,
          {
            cause: error,
          },
        );
      }
      if (log.length > 100) log.splice(0, log.length - 20);
    }
    for (const a of accounts) await checkAccountDetail(a);
    // the views show a due change before anyone writes it
    applyDue(BigInt(await networkHelpers.time.latest()));
    expect([await sm.unbondingPeriod(), await sm.appealWindow()]).to.deep.equal([
      unbondingPeriod,
      appealWindow,
    ]);
    for (const s of slashes) {
      const r = await sm.slashRecord(s.id);
      expect([r.amount, r.status]).to.deep.equal([
        s.amount,
        { escrowed: 1n, reversed: 2n, resolved: 3n }[s.status],
      ]);
    }
    const seconds = (performance.now() - started) / 1000;
    const summary = [...counts.entries()]
      .sort()
      .map(([k, v]) => `${k}=${v}`)
      .join(" ");
    console.log(
      `      ${OPS} operations in ${seconds.toFixed(1)} s (${(OPS / seconds).toFixed(0)} ops/s), seed ${SEED}: ${summary}`,
    );
    // every kind of operation, accepted and rejected, must actually have happened
    const kinds = [
      "stake",
      "requestUnstake",
      "withdraw",
      "lock",
      "unlock",
      "slash",
      "reverseSlash",
      "resolveSlash",
      "setUnbondingPeriod",
      "setAppealWindow",
      "timeJump",
    ];
    for (const kind of kinds) {
      expect(counts.get(kind) ?? 0, `no successful ${kind}`).to.be.greaterThan(0);
    }
  });
});
