import { decodeFunctionData, getAddress, isAddressEqual, type Address } from "viem";
import { auditRound, contextForRun, runRecord, updateRules, verifyReveal, type RoundAudit, type VerifyResult } from "../audit/index.js";
import { compareRefs, paramsAt, roundsOf, type ChainRecords, type MembershipEvent, type RunRecord } from "../history/index.js";
import { stakeManagerAbi } from "../chain/abis.js";
import type { ChainContext } from "../chain/client.js";
import { readRoundView } from "../run/round-view.js";
import { describeActions, proposalStatus } from "../governance/index.js";
import { evalMetricForId, modelNameForId } from "../model/registry.js";
import type { BlobStore } from "../storage/blob-store.js";
import { ExplorerError } from "./explorer-error.js";
import type { ReplayedMetrics, ReplayedMetricsView } from "./replayed-metrics.js";

/**
 * The explorer's JSON API: every page's data, built from the cached records (what happened)
 * plus a few live reads of the contracts (what is true now: phase, stake, proposal state).
 * Amounts are wei as decimal strings, block numbers and rounds are numbers.
 */

export interface ExplorerContext {
  chain: ChainContext;
  records: () => ChainRecords;
  syncedTo: () => number;
  head: () => number;
  metrics: ReplayedMetrics;
  store: BlobStore | undefined;
  gateway: string;
  verifyTimeoutMs: number;
  fallbackMaxBytes: number;
}

const EVAL_LOSS_SCALE = 1e9;

function runState(run: RunRecord): "active" | "paused" | "halted" {
  const last = run.switches.at(-1);
  if (run.switches.some((s) => s.kind === "halted")) return "halted";
  return last?.kind === "paused" ? "paused" : "active";
}

function lower(a: string): string {
  return a.toLowerCase();
}

/** GET /api/meta */
export function metaPayload(ctx: ExplorerContext) {
  const { chain } = ctx;
  const explorer = chain.chain.blockExplorers?.default;
  return {
    network: chain.deployment.network,
    chainId: chain.deployment.chainId,
    chainName: chain.chain.name,
    blockExplorer:
      explorer === undefined
        ? null
        : { name: explorer.name, url: explorer.url.replace(/\/+$/, "") },
    gateway: ctx.gateway,
    contracts: chain.deployment.contracts,
    deploymentBlock: chain.deployment.deploymentBlock,
    syncedTo: ctx.syncedTo(),
    head: ctx.head(),
    runs: Object.values(ctx.records().runs)
      .map((r) => r.runId)
      .sort((a, b) => a - b),
    verify: ctx.store !== undefined,
  };
}

/** Whether a member's last membership event leaves it in the run (joined or raised its lock). */
function isMember(last: MembershipEvent | undefined): boolean {
  return last?.kind === "joined" || last?.kind === "raised";
}

/** A member's current lock and the first round it counts in draws (trainer seats, committees). */
function eligibility(events: readonly MembershipEvent[]): { lock: string | null; eligibleFrom: number | null } {
  const last = events.at(-1);
  if (!isMember(last)) return { lock: null, eligibleFrom: null };
  return { lock: last?.locked ?? last?.amount ?? null, eligibleFrom: last?.eligibleFrom ?? null };
}

function runSummary(run: RunRecord) {
  const rounds = roundsOf(run);
  const lastAgreed = [...rounds].reverse().find((r) => r.result?.kind === "agreed");
  const members = Object.values(run.members).map((events) => events.at(-1));
  return {
    runId: run.runId,
    address: run.address,
    modelId: run.modelId,
    modelName: modelNameForId(run.modelId) ?? null,
    // what evalLoss measures: "loss" (nats) or "bits-per-byte" (a byte-level language model)
    evalMetric: evalMetricForId(run.modelId),
    created: run.created,
    state: runState(run),
    rounds: rounds.length,
    currentRound: rounds.at(-1)?.round ?? 0,
    agreedRounds: rounds.filter((r) => r.result?.kind === "agreed").length,
    failedRounds: rounds.filter((r) => r.result?.kind === "failed").length,
    lastAgreed:
      lastAgreed?.result?.kind === "agreed"
        ? {
            round: lastAgreed.round,
            modelHash: lastAgreed.result.modelHash,
            evalLoss: lastAgreed.result.evalLoss,
          }
        : null,
    trainers: members.filter((m) => isMember(m) && m?.role === "trainer").length,
    validators: members.filter((m) => isMember(m) && m?.role === "validator").length,
  };
}

/** GET /api/runs */
export function runsPayload(ctx: ExplorerContext) {
  return {
    runs: Object.values(ctx.records().runs)
      .sort((a, b) => a.runId - b.runId)
      .map(runSummary),
  };
}

/** GET /api/runs/:id */
export async function runPayload(ctx: ExplorerContext, runId: number) {
  const records = ctx.records();
  const run = runRecord(records, runId);
  const chain = contextForRun(ctx.chain, run);
  const view = await readRoundView(chain);
  const rounds = roundsOf(run);
  const metrics: ReplayedMetricsView = ctx.metrics.view(run);
  const timeline = rounds.map((r) => ({
    round: r.round,
    status: r.result === null ? "open" : r.result.kind,
    commits: r.commits.length,
    reveals: r.reveals.length,
    votes: r.votes.length,
    accepted: r.outcomes.filter((o) => o.accepted).length,
    slashes: r.slashes.length,
    evalLoss: r.result?.kind === "agreed" ? r.result.evalLoss : null,
    modelHash: r.result?.kind === "agreed" ? r.result.modelHash : null,
    failure: r.result?.kind === "failed" ? r.result.reason : null,
    opened: r.opened?.at ?? null,
    closed: r.result?.at ?? null,
    paramsApplied: r.paramsApplied,
  }));
  return {
    ...runSummary(run),
    initialModelHash: run.initialModelHash,
    initialModelCid: run.initialModelCid,
    guardian: run.guardian,
    phase: {
      round: view.round,
      phase: view.phase,
      chainTime: view.now.toString(),
      commitDeadline: view.commitDeadline.toString(),
      revealDeadline: view.revealDeadline.toString(),
      scoreDeadline: view.scoreDeadline.toString(),
      commits: view.commits,
      reveals: view.reveals,
      votes: view.votes,
      modelHash: view.modelHash,
    },
    params: paramsAt(run, view.round),
    paramChanges: run.paramChanges,
    switches: run.switches,
    timeline,
    chart: {
      // the left axis: held-out loss, or bits per byte for a language model (evalLoss is then bpb)
      metric: evalMetricForId(run.modelId),
      loss: rounds
        .filter((r) => r.result?.kind === "agreed")
        .map((r) => ({
          round: r.round,
          loss: Number(r.result?.kind === "agreed" ? r.result.evalLoss : 0) / EVAL_LOSS_SCALE,
        })),
      accuracy: metrics,
    },
    members: Object.entries(run.members).map(([address, events]) => ({
      address: getAddress(address),
      role: isMember(events.at(-1)) ? (events.at(-1)?.role ?? "none") : "none",
      ...eligibility(events),
      events,
    })),
  };
}

/** GET /api/runs/:id/rounds/:r */
export function roundPayload(
  ctx: ExplorerContext,
  runId: number,
  round: number,
): RoundAudit & Record<string, unknown> {
  const records = ctx.records();
  const run = runRecord(records, runId);
  const record = run.rounds[String(round)];
  if (record === undefined) {
    throw new ExplorerError(`run ${runId} has no round ${round}`, {
      code: "EXPLORER_NOT_FOUND",
      fix: "pick a round from the run's timeline",
    });
  }
  const rounds = roundsOf(run).map((r) => r.round);
  return {
    ...auditRound(records, run, record),
    runId,
    runAddress: run.address,
    params: paramsAt(run, round),
    acceptScorePpm: Number(paramsAt(run, round).acceptScorePpm ?? 0),
    evalMetric: evalMetricForId(run.modelId),
    previous: rounds.includes(round - 1) ? round - 1 : null,
    next: rounds.includes(round + 1) ? round + 1 : null,
  };
}

/** Governance proposals that reverse `slashId` (appeals). */
function appealsOf(ctx: ExplorerContext, slashId: string): string[] {
  const sm = ctx.chain.deployment.contracts.StakeManager;
  return Object.values(ctx.records().proposals)
    .filter((p) =>
      p.targets.some((t, i) => {
        if (!isAddressEqual(t, sm)) return false;
        try {
          const call = decodeFunctionData({ abi: stakeManagerAbi, data: p.calldatas[i] ?? "0x" });
          return call.functionName === "reverseSlash" && String(call.args?.[0]) === slashId;
        } catch {
          return false;
        }
      }),
    )
    .map((p) => p.id);
}

/** Stake events of `account` with its slashes, reversals and resolutions, in chain order. */
function stakeHistory(records: ChainRecords, account: Address) {
  const slashEvents = Object.values(records.slashes)
    .filter((s) => isAddressEqual(s.account, account))
    .flatMap((s) => [
      {
        kind: "slashed" as const,
        slashId: s.slashId,
        amount: s.amount,
        reason: s.reason,
        at: s.at,
      },
      ...(s.reversed
        ? [
            {
              kind: "slash-reversed" as const,
              slashId: s.slashId,
              amount: s.reversed.amount,
              at: s.reversed.at,
            },
          ]
        : []),
      ...(s.resolved
        ? [
            {
              kind: "slash-resolved" as const,
              slashId: s.slashId,
              amount: s.resolved.amount,
              burned: s.resolved.burned,
              at: s.resolved.at,
            },
          ]
        : []),
    ]);
  return [...(records.stakes[account] ?? []), ...slashEvents].sort((a, b) =>
    compareRefs(a.at, b.at),
  );
}

/** GET /api/nodes/:address */
export async function nodePayload(ctx: ExplorerContext, address: Address) {
  const records = ctx.records();
  const key = lower(address);
  const sm = ctx.chain.contracts.stakeManager;
  const [bonded, unbonding, locked, free, withdrawable, entries, balance] = await Promise.all([
    sm.read.bondedOf([address]),
    sm.read.unbondingOf([address]),
    sm.read.lockedOf([address]),
    sm.read.freeStakeOf([address]),
    sm.read.withdrawableOf([address]),
    sm.read.unbondingEntries([address]),
    ctx.chain.contracts.token.read.balanceOf([address]),
  ]);
  const runs = [];
  for (const run of Object.values(records.runs).sort((a, b) => a.runId - b.runId)) {
    const memberships = run.members[key as Address] ?? [];
    const contributions = [];
    const votes = [];
    for (const round of roundsOf(run)) {
      const touched =
        round.commits.some((c) => isAddressEqual(c.node, address)) ||
        round.voteCommits.some((v) => isAddressEqual(v.validator, address)) ||
        (round.committee ?? []).some((a) => isAddressEqual(a, address));
      if (!touched) continue;
      const audit = auditRound(records, run, round);
      for (const c of audit.contributions.filter((x) => isAddressEqual(x.node, address)))
        contributions.push({ round: round.round, ...c });
      for (const v of audit.validators.filter((x) => isAddressEqual(x.validator, address)))
        votes.push({ round: round.round, ...v });
    }
    const claims = run.claims.filter((c) => isAddressEqual(c.node, address));
    if (
      memberships.length === 0 &&
      contributions.length === 0 &&
      votes.length === 0 &&
      claims.length === 0
    )
      continue;
    const member = await contextForRun(ctx.chain, run).contracts.run.read.memberOf([address]);
    const earned = [
      ...contributions.map((c) => c.reward ?? "0"),
      ...votes.map((v) => v.reward ?? "0"),
    ].reduce((s, r) => s + BigInt(r), 0n);
    runs.push({
      runId: run.runId,
      role: isMember(memberships.at(-1)) ? (memberships.at(-1)?.role ?? "none") : "none",
      ...eligibility(memberships),
      memberships,
      rewardsAccrued: member.rewards.toString(),
      rewardsEarned: earned.toString(),
      claimed: claims.reduce((s, c) => s + BigInt(c.amount), 0n).toString(),
      claims,
      contributions,
      votes,
    });
  }
  const slashes = Object.values(records.slashes)
    .filter((s) => isAddressEqual(s.account, address))
    .sort((a, b) => Number(BigInt(a.slashId) - BigInt(b.slashId)))
    .map((s) => ({ ...s, appeals: appealsOf(ctx, s.slashId) }));
  return {
    address: getAddress(address),
    stake: {
      balance: balance.toString(),
      bonded: bonded.toString(),
      locked: locked.toString(),
      free: free.toString(),
      unbonding: unbonding.toString(),
      withdrawable: withdrawable.toString(),
      entries: entries.map((e) => ({
        id: e.id.toString(),
        releaseAt: e.releaseAt.toString(),
        amount: e.amount.toString(),
      })),
    },
    history: stakeHistory(records, key as Address),
    runs,
    slashes,
  };
}

/** GET /api/governance */
export async function governancePayload(ctx: ExplorerContext) {
  const records = ctx.records();
  const known = {
    runs: Object.values(records.runs).map((r) => ({ runId: r.runId, address: r.address })),
    stakeManager: ctx.chain.deployment.contracts.StakeManager,
    token: ctx.chain.deployment.contracts.LearnToken,
    factory: ctx.chain.deployment.contracts.RunFactory,
  };
  const proposals = [];
  for (const p of Object.values(records.proposals).sort(
    (a, b) => a.created.block - b.created.block || a.created.logIndex - b.created.logIndex,
  )) {
    const status = await proposalStatus(ctx.chain, BigInt(p.id), BigInt(p.voteStart));
    proposals.push({
      ...p,
      ...describeActions(known, p.targets, p.calldatas),
      state: status.state,
      forVotes: status.forVotes.toString(),
      againstVotes: status.againstVotes.toString(),
      abstainVotes: status.abstainVotes.toString(),
      quorum: status.quorum.toString(),
      eta: status.eta.toString(),
    });
  }
  return {
    governor: ctx.chain.deployment.contracts.RunGovernor,
    timelock: ctx.chain.deployment.contracts.RunTimelock,
    proposals,
  };
}

/** POST /api/verify {runId, round, index}: re-fetch the update by CID and re-check its hash. */
export async function verifyPayload(
  ctx: ExplorerContext,
  request: { runId: number; round: number; index: number },
) {
  const run = runRecord(ctx.records(), request.runId);
  const reveal = run.rounds[String(request.round)]?.reveals.find((r) => r.index === request.index);
  if (reveal === undefined) {
    throw new ExplorerError(
      `run ${request.runId} round ${request.round} has no reveal ${request.index}`,
      {
        code: "EXPLORER_NOT_FOUND",
        fix: "verify a contribution listed on the round page",
      },
    );
  }
  if (ctx.store === undefined) {
    throw new ExplorerError("this explorer has no IPFS peer, so it cannot fetch updates", {
      code: "EXPLORER_NO_IPFS",
      fix: "restart it without --no-ipfs (and with --peer <multiaddr> of the run's nodes, or --kubo <url>)",
    });
  }
  const rules = updateRules(run, request.round, ctx.fallbackMaxBytes);
  const result: VerifyResult = await verifyReveal({
    store: ctx.store,
    cid: reveal.cid,
    contentHash: reveal.contentHash,
    timeoutMs: ctx.verifyTimeoutMs,
    maxBytes: rules.maxBytes,
    ...(rules.expected ? { expected: rules.expected } : {}),
  });
  return {
    ...request,
    node: reveal.node,
    cid: reveal.cid,
    contentHash: reveal.contentHash,
    ...result,
  };
}
