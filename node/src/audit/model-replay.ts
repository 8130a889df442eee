import { mkdtemp, rm } from "node:fs/promises";
import type { Hex } from "viem";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { protolearnContracts, type ChainContext } from "../chain/client.js";
import { ModelSync } from "../sync/model-sync.js";
import { NodeState, type HeldModel } from "../sync/node-state.js";
import { ChainHistory, ParamsHistory, RoundHistory } from "../history/index.js";
import type { Dataset } from "../data/dataset.js";
import { loadRunDataset } from "../data/run-dataset.js";
import type { Model } from "../model/model.js";
import type { Logger } from "../observe/logger.js";
import type { BlobStore } from "../storage/blob-store.js";
import { evaluate } from "../train/evaluate.js";
import { AuditError } from "./audit-error.js";
import type { RunRecord } from "../history/chain-records.js";
import { runModel } from "./run-model.js";
import { decodeRoundUpdate } from "../round/index.js";
import { UpdateIndex } from "../validate/update-index.js";

/** The state folder of the auditor's replay is keyed by this address (it never sends anything). */
const AUDITOR = "0x0000000000000000000000000000000000000000" as const;

/** A ChainContext for `run`, also for runs created after the deployment record was written. */
export function contextForRun(base: ChainContext, run: RunRecord): ChainContext {
  const runs = base.deployment.runs.some((r) => r.runId === run.runId)
    ? base.deployment.runs
    : [...base.deployment.runs, { runId: run.runId, address: run.address }];
  const deployment = { ...base.deployment, runs };
  return {
    ...base,
    deployment,
    runId: run.runId,
    contracts: protolearnContracts(base.publicClient, deployment, run.runId),
  };
}

/** Inputs of {@link ModelReplay.open}. */
export interface ModelReplayOptions {
  chain: ChainContext;
  run: RunRecord;
  store: BlobStore;
  logger: Logger;
  fetchTimeoutMs: number;
  /** Where the replayed model is kept between calls; a temporary folder (removed on close) if omitted. */
  dataDir?: string;
  signal?: AbortSignal;
}

/**
 * The global model of a run, replayed the way every node does it (sync/model-sync.ts, by the
 * model chain rule of sync/model-chain.ts): from the genesis model, each agreed round's
 * accepted updates are fetched by CID, checked against their content hashes and aggregated into
 * the next round's model, and every M_r must hash to what ModelAgreed(r) attested. With the
 * model in hand, an auditor rescores updates and re-measures held-out loss and accuracy.
 * Rounds only go forward: ask for them in ascending order.
 */
export class ModelReplay {
  private constructor(
    readonly model: Model,
    readonly dataset: Dataset,
    private readonly sync: ModelSync,
    private readonly ownedDir: string | undefined,
    /** Rounds whose committee agreed on another hash than the replayed M_r (P9). */
    readonly wrongAgreements: ReadonlyMap<number, { computed: Hex; attested: Hex }>,
    private readonly accepted: UpdateIndex,
  ) {}

  /** The reference norm validators scored round `round` against (UpdateIndex.referenceNorm over the replayed accepted sets); call after modelAt(round). */
  referenceNorm(round: number): number | undefined {
    return this.accepted.referenceNorm(round);
  }

  static async open(options: ModelReplayOptions): Promise<ModelReplay> {
    const model = runModel(options.run);
    if (model === undefined) {
      throw new AuditError(
        `this build cannot replay run ${options.run.runId}'s model ${options.run.modelId}`,
        {
          code: "AUDIT_MODEL_UNSUPPORTED",
          fix: "upgrade protolearn to a version that knows the run's model, or audit without --rescore",
        },
      );
    }
    const ownedDir =
      options.dataDir === undefined
        ? await mkdtemp(join(tmpdir(), "protolearn-audit-"))
        : undefined;
    const dataDir = options.dataDir ?? (ownedDir as string);
    const ctx = contextForRun(options.chain, options.run);
    const history = new ChainHistory({ client: ctx.publicClient, deployment: ctx.deployment });
    const state = await NodeState.open(dataDir, options.run.runId, AUDITOR);
    const wrongAgreements = new Map<number, { computed: Hex; attested: Hex }>();
    const params = new ParamsHistory(history, options.run.runId);
    const sync = new ModelSync({
      model,
      state,
      rounds: new RoundHistory(history, options.run.runId),
      params,
      store: options.store,
      logger: options.logger,
      fetchTimeoutMs: options.fetchTimeoutMs,
      ...(options.signal ? { signal: options.signal } : {}),
      // the auditor replays the model chain rule on public data, whatever a committee attested
      onAttestationMismatch: (round, computed, attested) => wrongAgreements.set(round, { computed, attested }),
    });
    // the accepted sets as the replay fetches them: the same index a validator keeps (reference norms)
    const accepted = await UpdateIndex.open(dataDir);
    sync.onAcceptedUpdates(async (round, updates) => {
      if (updates.length === 0) return;
      const at = await params.at(round);
      await accepted.record(round, updates.map((u) => ({ node: u.node, update: decodeRoundUpdate(u.bytes, { model, params: at, round }) })));
    });
    return new ModelReplay(model, await loadRunDataset(model), sync, ownedDir, wrongAgreements, accepted);
  }

  /**
   * M_round by the model chain rule (node/src/sync/model-chain.ts), checked against every
   * ModelAgreed up to and including round `round`'s own once it settled (ModelDivergedError
   * otherwise).
   */
  async modelAt(round: number): Promise<HeldModel> {
    return this.sync.ensure(round);
  }

  /**
   * Held-out loss and accuracy of `params` on the run's evaluation split (what validators report;
   * for a language model the loss is bits per byte, see train/evaluate.ts).
   */
  evaluate(params: Float32Array): { loss: number; accuracy: number } {
    const { loss, accuracy } = evaluate(this.model, params, this.dataset, { split: "eval" });
    return { loss, accuracy };
  }

  async close(): Promise<void> {
    if (this.ownedDir !== undefined) await rm(this.ownedDir, { recursive: true, force: true });
  }
}
