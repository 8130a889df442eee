import { isAddressEqual, type Address, type Hex } from "viem";
import type { ChainContext } from "../chain/client.js";
import type { Logger } from "../observe/logger.js";
import { roundDecodeRules } from "../round/index.js";
import type { BlobStore } from "../storage/blob-store.js";
import { validateRound, type RevealedUpdate, type VerdictReason } from "../validate/index.js";
import { AuditError } from "./audit-error.js";
import {
  DEFAULT_RESCORE_TOLERANCE_PPM,
  DEFAULT_VERIFY_CONCURRENCY,
  EVAL_LOSS_SCALE,
} from "./constants.js";
import { ModelReplay } from "./model-replay.js";
import { roundsOf, type ChainRecords, type RunRecord } from "../history/chain-records.js";
import { auditRound, type Contribution, type RoundAudit } from "./round-audit.js";
import { paramsAt, roundParamsAt } from "../history/index.js";
import { runModel, updateRules } from "./run-model.js";
import { verifyReveal, type VerifyResult } from "./verify-reveal.js";
import { mapBounded } from "../async/map-bounded.js";

/**
 * `protolearn audit`: a run's contribution records rebuilt from events, optionally with every
 * update re-fetched by CID and its hash re-checked (`verify`), and every round re-scored from the
 * replayed model (`rescore`). Anything that does not check out becomes a finding; the report
 * never drops a row it could not confirm.
 */

/** Relative difference between the replayed and the on-chain held-out loss that is reported. */
export const EVAL_LOSS_TOLERANCE = 1e-4;

export type FindingKind =
  | "hash-mismatch"
  | "unreachable"
  | "oversize"
  | "malformed"
  | "rescore-differs"
  | "model-replay-failed"
  | "eval-loss-differs"
  | "wrong-model-hash"
  | "wrong-model-agreed";

/** A claim on chain the audit could not confirm. */
export interface AuditFinding {
  kind: FindingKind;
  round: number;
  node: Address | null;
  /** Reveal index of the update, when the finding is about one. */
  index: number | null;
  cid: string | null;
  /** What the chain recorded about it (accepted / rejected, slashed, …). */
  onChain: string;
  detail: string;
}

export interface RescoreResult {
  scorePpm: number;
  reason: VerdictReason;
  accepted: boolean;
  detail: string;
  /** |local − on-chain median| in ppm; null while the round is not finalized. */
  differsBy: number | null;
}

export interface AuditedContribution extends Contribution {
  verify?: VerifyResult;
  rescore?: RescoreResult;
}

export interface ReplayCheck {
  /** M_r replayed by the model chain rule matched the hash ModelAgreed(r) attests. */
  modelHashMatches: boolean;
  /** Held-out loss of the replayed M_r, 1e9-scaled like the chain's. */
  evalLoss: string;
  accuracy: number;
}

export interface AuditedRound extends Omit<RoundAudit, "contributions"> {
  contributions: AuditedContribution[];
  replay?: ReplayCheck;
  /**
   * P9: the model hash round r's committee had to attest — hash(M_r), replayed from public data
   * by the model chain rule (node/src/sync/model-chain.ts) — and every validator that revealed
   * another one.
   */
  expectedModel?: { modelHash: Hex; wrong: Address[] };
}

export interface AuditReport {
  network: string;
  chainId: number;
  runId: number;
  run: Address;
  modelId: Hex;
  blocks: { from: number; to: number };
  filters: { round: number | null; node: Address | null };
  checks: { verify: boolean; rescore: boolean };
  rounds: AuditedRound[];
  findings: AuditFinding[];
  summary: {
    rounds: number;
    contributions: number;
    verified: number;
    verifyFailed: number;
    rescored: number;
    findings: number;
  };
}

export interface BuildAuditReportParameters {
  records: ChainRecords;
  chain: ChainContext;
  runId: number;
  blocks: { from: number; to: number };
  round?: number;
  node?: Address;
  /** Re-fetch every update by CID and re-check its content hash. */
  verify?: { store: BlobStore; timeoutMs: number; concurrency?: number; fallbackMaxBytes: number };
  /** Replay the model and recompute every score (implies fetching every update of the rounds). */
  rescore?: { store: BlobStore; timeoutMs: number; tolerancePpm?: number; logger: Logger };
  signal?: AbortSignal;
}


/** One phrase for what the chain recorded about a contribution. */
export function chainVerdict(c: Contribution): string {
  const slashed = c.slashes.map((s) => `slashed ${s.reason} #${s.slashId} (${s.status})`);
  const outcome =
    c.accepted === null
      ? "not finalized"
      : c.accepted
        ? `accepted, median ${c.medianScore}`
        : `rejected, median ${c.medianScore}`;
  return [c.reveal === null ? "never revealed" : outcome, ...slashed].join("; ");
}

/** The run record of `runId`, or an error naming the runs the records hold. */
export function runRecord(records: ChainRecords, runId: number): RunRecord {
  const run = records.runs[String(runId)];
  if (run === undefined) {
    throw new AuditError(`the chain has no events of run ${runId}`, {
      code: "AUDIT_RUN_UNKNOWN",
      fix: `pick one of the runs found: ${Object.keys(records.runs).join(", ") || "none"} (--run)`,
    });
  }
  return run;
}

/** Builds the audit report of one run; see {@link AuditReport}. */
export async function buildAuditReport(input: BuildAuditReportParameters): Promise<AuditReport> {
  const { records, chain } = input;
  const run = runRecord(records, input.runId);
  const all = roundsOf(run);
  if (input.round !== undefined && !all.some((r) => r.round === input.round)) {
    throw new AuditError(`run ${run.runId} has no round ${input.round}`, {
      code: "AUDIT_ROUND_UNKNOWN",
      fix: `pick a round between ${all[0]?.round ?? 1} and ${all.at(-1)?.round ?? 1}, or leave out --round`,
    });
  }
  const selected = all.filter((r) => input.round === undefined || r.round === input.round);
  const rounds: AuditedRound[] = selected.map((r) => {
    const audited = auditRound(records, run, r);
    return {
      ...audited,
      contributions: audited.contributions.filter(
        (c) => input.node === undefined || isAddressEqual(c.node, input.node),
      ),
      validators: audited.validators.filter(
        (v) => input.node === undefined || isAddressEqual(v.validator, input.node),
      ),
    };
  });
  const findings: AuditFinding[] = [];

  if (input.verify !== undefined || input.rescore !== undefined) {
    const verify = input.verify ?? {
      store: (input.rescore as NonNullable<typeof input.rescore>).store,
      timeoutMs: (input.rescore as NonNullable<typeof input.rescore>).timeoutMs,
      fallbackMaxBytes: 8 * 1024 * 1024,
    };
    const jobs = rounds.flatMap((round) =>
      round.contributions.filter((c) => c.reveal !== null).map((c) => ({ round, c })),
    );
    const results = await mapBounded(
      jobs,
      verify.concurrency ?? DEFAULT_VERIFY_CONCURRENCY,
      async ({ round, c }) => {
        const reveal = c.reveal as NonNullable<Contribution["reveal"]>;
        const rules = updateRules(run, round.round, verify.fallbackMaxBytes);
        return verifyReveal({
          store: verify.store,
          cid: reveal.cid,
          contentHash: reveal.contentHash,
          timeoutMs: verify.timeoutMs,
          maxBytes: rules.maxBytes,
          ...(rules.expected ? { expected: rules.expected } : {}),
          ...(input.signal ? { signal: input.signal } : {}),
        });
      },
    );
    jobs.forEach(({ round, c }, i) => {
      const result = results[i] as VerifyResult;
      c.verify = result;
      if (result.status !== "ok") {
        findings.push({
          kind: result.status,
          round: round.round,
          node: c.node,
          index: c.reveal?.index ?? null,
          cid: c.reveal?.cid ?? null,
          onChain: chainVerdict(c),
          detail: result.detail,
        });
      }
    });
  }

  if (input.rescore !== undefined) {
    await rescore(input, run, rounds, findings);
  }

  findings.sort(
    (a, b) =>
      a.round - b.round || (a.index ?? 1e9) - (b.index ?? 1e9) || a.kind.localeCompare(b.kind),
  );
  const contributions = rounds.flatMap((r) => r.contributions);
  return {
    network: chain.deployment.network,
    chainId: chain.deployment.chainId,
    runId: run.runId,
    run: run.address,
    modelId: run.modelId,
    blocks: input.blocks,
    filters: { round: input.round ?? null, node: input.node ?? null },
    checks: {
      verify: input.verify !== undefined || input.rescore !== undefined,
      rescore: input.rescore !== undefined,
    },
    rounds,
    findings,
    summary: {
      rounds: rounds.length,
      contributions: contributions.length,
      verified: contributions.filter((c) => c.verify?.status === "ok").length,
      verifyFailed: contributions.filter((c) => c.verify !== undefined && c.verify.status !== "ok")
        .length,
      rescored: contributions.filter((c) => c.rescore !== undefined).length,
      findings: findings.length,
    },
  };
}

async function rescore(
  input: BuildAuditReportParameters,
  run: RunRecord,
  rounds: AuditedRound[],
  findings: AuditFinding[],
): Promise<void> {
  const options = input.rescore as NonNullable<BuildAuditReportParameters["rescore"]>;
  const tolerance = options.tolerancePpm ?? DEFAULT_RESCORE_TOLERANCE_PPM;
  if (runModel(run) === undefined) {
    throw new AuditError(
      `this build cannot rescore run ${run.runId}: its model ${run.modelId} is unknown here`,
      {
        code: "AUDIT_MODEL_UNSUPPORTED",
        fix: "upgrade protolearn to the version the run uses, or audit with --verify only",
      },
    );
  }
  const replay = await ModelReplay.open({
    chain: input.chain,
    run,
    store: options.store,
    logger: options.logger,
    fetchTimeoutMs: options.timeoutMs,
    ...(input.signal ? { signal: input.signal } : {}),
  });
  try {
    for (const round of rounds) {
      if (round.openedModelHash === null || round.reveals === 0) continue;
      // Every reveal of the round takes part (norm cap and duplicates are judged on all of them),
      // whatever the --node filter shows.
      const full = auditRound(
        input.records,
        run,
        run.rounds[String(round.round)] as NonNullable<RunRecord["rounds"][string]>,
      );
      // M_r by the model chain rule, checked against ModelAgreed(r) when round r agreed.
      let held: Awaited<ReturnType<ModelReplay["modelAt"]>>;
      try {
        held = await replay.modelAt(round.round);
      } catch (err) {
        findings.push({
          kind: "model-replay-failed",
          round: round.round,
          node: null,
          index: null,
          cid: null,
          onChain:
            round.agreed === null
              ? `round ${round.round} trained from M_${round.round}`
              : `round ${round.round}'s committee agreed on M_${round.round} = ${round.agreed.modelHash}`,
          detail: err instanceof Error ? err.message : String(err),
        });
        return;
      }
      const globalParams = held.params;
      const params = roundParamsAt(run, round.round);
      const reveals: RevealedUpdate[] = full.contributions
        .filter((c) => c.reveal !== null)
        .map((c) => ({
          index: (c.reveal as NonNullable<Contribution["reveal"]>).index,
          node: c.node,
          cid: (c.reveal as NonNullable<Contribution["reveal"]>).cid,
          contentHash: (c.reveal as NonNullable<Contribution["reveal"]>).contentHash,
          samples: BigInt((c.reveal as NonNullable<Contribution["reveal"]>).samples),
          commitIndex: c.commitIndex ?? 0,
        }));
      const acceptScorePpm = Number(paramsAt(run, round.round).acceptScorePpm);
      const validation = await validateRound({
        store: options.store,
        model: replay.model,
        dataset: replay.dataset,
        globalParams,
        seed: round.seed as Hex,
        ...(round.randomness === null ? {} : { challenge: round.randomness }),
        reveals,
        // Each update judged on its own, as a committee member judges its assigned ones.
        perUpdate: true,
        ...(replay.referenceNorm(round.round) === undefined ? {} : { referenceNorm: replay.referenceNorm(round.round) as number }),
        caps: roundDecodeRules(replay.model.spec, params, round.round),
        timeoutMs: options.timeoutMs,
        acceptScorePpm,
        numShards: params.numShards,
        ...(input.signal ? { signal: input.signal } : {}),
      });
      checkAttestedHashes(held.hash, round, full, findings);
      const wrongAgreement = replay.wrongAgreements.get(round.round);
      if (wrongAgreement !== undefined) {
        findings.push({
          kind: "wrong-model-agreed",
          round: round.round,
          node: null,
          index: null,
          cid: null,
          onChain: `round ${round.round}'s committee agreed on M_${round.round} = ${wrongAgreement.attested}`,
          detail: `M_${round.round} replayed from the genesis model and the earlier rounds' on-chain accepted sets is ${wrongAgreement.computed}: a 2/3 majority of the revealed seats attested a wrong model (its validators are named by wrong-model-hash)`,
        });
      }
      for (const c of round.contributions) {
        if (c.reveal === null) continue;
        const verdict = validation.verdicts[c.reveal.index];
        if (verdict === undefined) continue;
        const differsBy =
          c.medianScore === null ? null : Math.abs(verdict.scorePpm - c.medianScore);
        c.rescore = {
          scorePpm: verdict.scorePpm,
          reason: verdict.reason,
          accepted: verdict.accepted,
          detail: verdict.detail,
          differsBy,
        };
        const sideDiffers =
          c.medianScore !== null &&
          verdict.scorePpm >= acceptScorePpm !== c.medianScore >= acceptScorePpm;
        if (differsBy !== null && (differsBy > tolerance || sideDiffers)) {
          findings.push({
            kind: "rescore-differs",
            round: round.round,
            node: c.node,
            index: c.reveal.index,
            cid: c.reveal.cid,
            onChain: chainVerdict(c),
            detail: `recomputed score ${verdict.scorePpm} ppm (${verdict.reason}: ${verdict.detail}) differs from the on-chain median ${c.medianScore} ppm by ${differsBy} (tolerance ${tolerance})`,
          });
        }
      }
      if (round.agreed !== null) {
        // modelAt verified hash(M_r) against ModelAgreed(r); the loss it carries is M_r's.
        const measured = replay.evaluate(globalParams);
        const scaled = Math.round(measured.loss * EVAL_LOSS_SCALE);
        round.replay = {
          modelHashMatches: held.hash.toLowerCase() === round.agreed.modelHash.toLowerCase(),
          evalLoss: String(scaled),
          accuracy: measured.accuracy,
        };
        const onChain = Number(round.agreed.evalLoss);
        if (Math.abs(scaled - onChain) > EVAL_LOSS_TOLERANCE * Math.max(onChain, 1)) {
          findings.push({
            kind: "eval-loss-differs",
            round: round.round,
            node: null,
            index: null,
            cid: null,
            onChain: `held-out loss ${(onChain / EVAL_LOSS_SCALE).toFixed(6)} for model ${round.agreed.modelHash}`,
            detail: `the replayed model measures ${measured.loss.toFixed(6)} on the held-out split`,
          });
        }
      }
    }
  } finally {
    await replay.close();
  }
}

/**
 * P9: round r's committee attests M_r, which is a pure function of public data (the genesis
 * model and every earlier round's on-chain accepted set, by the model chain rule), so the hash an
 * honest validator had to attest is `expected` = hash(M_r) from the replay. Names every
 * validator whose revealed vote attested another hash — the evidence for a governance slash
 * proposal. Settled rounds only (agreed or failed).
 */
function checkAttestedHashes(
  expected: Hex,
  round: AuditedRound,
  full: RoundAudit,
  findings: AuditFinding[],
): void {
  if (round.status === "open") return;
  const voted = full.validators.filter((v) => v.revealed && v.modelHash !== null);
  if (voted.length === 0) return;
  const wrong = voted.filter((v) => (v.modelHash as Hex).toLowerCase() !== expected.toLowerCase());
  round.expectedModel = { modelHash: expected, wrong: wrong.map((v) => v.validator) };
  for (const v of wrong) {
    findings.push({
      kind: "wrong-model-hash",
      round: round.round,
      node: v.validator,
      index: null,
      cid: null,
      onChain: `attested model ${v.modelHash ?? "?"}${v.agreed === null ? "" : v.agreed ? " (in the majority)" : " (outside the majority)"}`,
      detail: `M_${round.round} replayed from the genesis model and the earlier rounds' on-chain accepted sets is ${expected}: validator ${v.validator} attested another model hash (evidence for a governance slash proposal)`,
    });
  }
}
