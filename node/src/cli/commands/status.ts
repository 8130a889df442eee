import type { Command } from "commander";
import { isAddressEqual, zeroAddress, type Address, type Hex } from "viem";
import { ChainHistory, roundAssignment, roundsOf, voteScores } from "../../history/index.js";
import {
  describeTime,
  emit,
  formatLearn,
  openRead,
  parseAddressArg,
  withChainOptions,
  type ChainFlags,
  type CliIo,
  type CliReadContext,
} from "../context.js";
import { phaseName } from "../../run/round-phase.js";
import { roleWord } from "../../chain/contract-enums.js";

/** What `protolearn status --json` prints. Amounts are wei (1e-18 LEARN), times unix seconds of the chain. */
export interface StatusReport {
  network: string;
  chainId: number;
  block: bigint;
  chainTime: bigint;
  run: {
    runId: number;
    address: Address;
    round: bigint;
    phase: string;
    commitDeadline: bigint;
    revealDeadline: bigint;
    scoreDeadline: bigint;
    voteRevealDeadline: bigint;
    voteReveals: number;
    commits: number;
    reveals: number;
    votes: number;
    modelHash: Hex;
    evalLoss: bigint;
    paused: boolean;
    halted: boolean;
    guardian: Address;
    params: Record<string, unknown>;
    pendingParams: Record<string, unknown> | null;
  };
  account: AccountStatus | null;
}

export interface AccountStatus {
  address: Address;
  balance: bigint;
  votes: bigint;
  delegate: Address | null;
  /** votes delegated to this account by stakers (StakeManager, issue 10 G2) */
  stakeVotes: bigint;
  bonded: bigint;
  locked: bigint;
  lockedByRun: bigint;
  free: bigint;
  unbonding: bigint;
  unbondingEntries: { requestId: bigint; amount: bigint; releaseAt: bigint }[];
  withdrawable: bigint;
  role: string;
  activeRound: bigint;
  pendingRewards: bigint;
  lastUpdate: LastUpdate | null;
}

/** Outcome of the operator's most recent scored update, with each validator's score of it. */
export interface LastUpdate {
  round: bigint;
  medianScorePpm: number;
  accepted: boolean;
  reward: bigint;
  scores: { validator: Address; scorePpm: number }[];
}

async function lastUpdateOf(ctx: CliReadContext, node: Address): Promise<LastUpdate | null> {
  const history = new ChainHistory({ client: ctx.chain.publicClient, deployment: ctx.deployment });
  await history.sync();
  const rounds = roundsOf(history.run(ctx.config.runId)).reverse();
  for (const round of rounds) {
    const outcome = round.outcomes.find((o) => isAddressEqual(o.node, node));
    if (outcome === undefined) continue;
    const reveal = round.reveals.find((r) => isAddressEqual(r.node, node));
    const assignment = roundAssignment(history.run(ctx.config.runId), round);
    return {
      round: BigInt(round.round),
      medianScorePpm: outcome.medianScore,
      accepted: outcome.accepted,
      reward: BigInt(outcome.reward),
      scores:
        reveal === undefined
          ? []
          : round.votes.flatMap((v) =>
              voteScores(assignment, v)
                .filter((s) => s.index === reveal.index)
                .map((s) => ({ validator: v.validator, scorePpm: s.scorePpm })),
            ),
    };
  }
  return null;
}

async function accountStatus(ctx: CliReadContext, me: Address): Promise<AccountStatus> {
  const { token, stakeManager, run } = ctx.chain.contracts;
  const [
    balance,
    votes,
    delegate,
    stake,
    lockedByRun,
    free,
    entries,
    withdrawable,
    member,
    lastUpdate,
    stakeVotes,
  ] = await Promise.all([
    token.read.balanceOf([me]),
    token.read.getVotes([me]),
    token.read.delegates([me]),
    stakeManager.read.stakeOf([me]),
    stakeManager.read.lockedBy([run.address, me]),
    stakeManager.read.freeStakeOf([me]),
    stakeManager.read.unbondingEntries([me]),
    stakeManager.read.withdrawableOf([me]),
    run.read.memberOf([me]),
    lastUpdateOf(ctx, me),
    stakeManager.read.getVotes([me]),
  ]);
  const [bonded, unbonding, locked] = stake;
  return {
    address: me,
    balance,
    votes,
    delegate: isAddressEqual(delegate, zeroAddress) ? null : delegate,
    stakeVotes,
    bonded,
    locked,
    lockedByRun,
    free,
    unbonding,
    unbondingEntries: entries.map((e) => ({
      requestId: BigInt(e.id),
      amount: e.amount,
      releaseAt: BigInt(e.releaseAt),
    })),
    withdrawable,
    role: roleWord(member.role),
    activeRound: member.activeRound,
    pendingRewards: member.rewards,
    lastUpdate,
  };
}

/** Everything `status` shows, read at one block. */
export async function readStatus(
  ctx: CliReadContext,
  address: Address | undefined,
): Promise<StatusReport> {
  const { run } = ctx.chain.contracts;
  const block = await ctx.chain.publicClient.getBlock();
  const at = { blockNumber: block.number };
  const [info, phase, model, paused, halted, guardian, params, pending] = await Promise.all([
    run.read.currentRound(at),
    run.read.phase(at),
    run.read.model(at),
    run.read.paused(at),
    run.read.halted(at),
    run.read.guardian(at),
    run.read.params(at),
    run.read.pendingParams(at),
  ]);
  return {
    network: ctx.deployment.network,
    chainId: ctx.deployment.chainId,
    block: block.number,
    chainTime: block.timestamp,
    run: {
      runId: ctx.config.runId,
      address: run.address,
      round: info.round,
      phase: phaseName(phase),
      commitDeadline: BigInt(info.commitDeadline),
      revealDeadline: BigInt(info.revealDeadline),
      scoreDeadline: BigInt(info.scoreDeadline),
      voteRevealDeadline: BigInt(info.voteRevealDeadline),
      voteReveals: info.voteReveals,
      commits: info.commits,
      reveals: info.reveals,
      votes: info.votes,
      modelHash: info.modelHash,
      evalLoss: model[1],
      paused,
      halted,
      guardian,
      params: { ...params },
      pendingParams: pending[0] ? { ...pending[1] } : null,
    },
    account: address === undefined ? null : await accountStatus(ctx, address),
  };
}

function humanStatus(r: StatusReport): string {
  const now = r.chainTime;
  const run = r.run;
  const lines = [
    `network      ${r.network} (chain ${r.chainId}), block ${r.block}, chain time ${describeTime(now, now).replace(/ \(now\)$/, "")}`,
    `run          ${run.runId} at ${run.address}`,
    `round        ${run.round}, phase ${run.phase}${run.halted ? (run.phase === "halted" ? " — HALTED for good" : " — HALTED after this round") : run.paused ? (run.phase === "paused" ? " — PAUSED" : " — PAUSED from the next round") : ""}`,
    `  commit     until ${describeTime(run.commitDeadline, now)}   (${run.commits} commits)`,
    `  reveal     until ${describeTime(run.revealDeadline, now)}   (${run.reveals} reveals)`,
    `  score      until ${describeTime(run.scoreDeadline, now)}   (${run.votes} committee vote commits)`,
    `  vote reveal until ${describeTime(run.voteRevealDeadline, now)}   (${run.voteReveals} votes revealed)`,
    `model        ${run.modelHash}${run.evalLoss > 0n ? ` (held-out loss ${(Number(run.evalLoss) / 1e9).toFixed(4)})` : ""}`,
    `params       ${run.pendingParams === null ? "no change pending" : "a change set by governance applies from the next round"}`,
  ];
  const a = r.account;
  if (a === null) {
    lines.push("", "account      none (no keystore; pass --address to show one)");
    return lines.join("\n");
  }
  lines.push(
    "",
    `account      ${a.address}`,
    `balance      ${formatLearn(a.balance)}`,
    `votes        ${formatLearn(a.votes)}${a.delegate === null ? " (not delegated: `protolearn delegate` to vote)" : isAddressEqual(a.delegate, a.address) ? "" : ` (delegated to ${a.delegate})`}`,
    `stake votes  ${formatLearn(a.stakeVotes)}`,
    `bonded       ${formatLearn(a.bonded)} (locked ${formatLearn(a.locked)}, ${formatLearn(a.lockedByRun)} by this run; free ${formatLearn(a.free)})`,
    `unbonding    ${formatLearn(a.unbonding)}${a.withdrawable > 0n ? `, ${formatLearn(a.withdrawable)} withdrawable now` : ""}`,
    ...a.unbondingEntries.map(
      (e) =>
        `  #${e.requestId}        ${formatLearn(e.amount)} releases ${describeTime(e.releaseAt, now)}`,
    ),
    `role         ${a.role}${a.activeRound > 0n ? ` (last active in round ${a.activeRound})` : ""}`,
    `rewards      ${formatLearn(a.pendingRewards)} to claim`,
  );
  const u = a.lastUpdate;
  if (u === null) {
    lines.push("last update  none scored yet");
  } else {
    lines.push(
      `last update  round ${u.round}: median score ${u.medianScorePpm} ppm, ${u.accepted ? "accepted" : "rejected"}, reward ${formatLearn(u.reward)}`,
      ...u.scores.map((s) => `  ${s.validator} scored ${s.scorePpm} ppm`),
    );
  }
  return lines.join("\n");
}

/** `protolearn status [--json]`: the run, the round, and your stake, role, rewards and votes. Read-only. */
export function registerStatus(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("status")
      .description(
        "show the run, its round and deadlines, and your stake, role, rewards, last scores and votes (read-only)",
      )
      .option("--address <address>", "show this account instead of the keystore's"),
  )
    .addHelpText(
      "after",
      "\nExamples:\n  $ protolearn status\n  $ protolearn status --json | jq .account.bonded",
    )
    .action(async (flags: ChainFlags & { address?: string }) => {
      const address = flags.address === undefined ? undefined : parseAddressArg(flags.address);
      const ctx = await openRead(flags, io);
      const report = await readStatus(ctx, address ?? ctx.me);
      emit(io, ctx.json, report, () => humanStatus(report));
    });
}
