import type { Hex } from "viem";
import { mapBounded } from "../async/map-bounded.js";
import { contentHash } from "../codec/index.js";
import { ProtolearnError } from "../errors.js";
import type { Model } from "../model/model.js";
import type { Logger } from "../observe/logger.js";
import type { MetricsRegistry } from "../observe/metrics.js";
import { NO_TIMING, type PartTimer } from "../observe/round-timing.js";
import { maxUpdateBytes, nextModel, type RoundUpdate } from "../round/index.js";
import { modelHash } from "../model/hash.js";
import { decodeCheckpoint, maxCheckpointBytes } from "../run/checkpoint.js";
import { genesisModel } from "../run/genesis.js";
import type { BlobStore } from "../storage/index.js";
import { DEFAULT_FETCH_CONCURRENCY } from "../validate/constants.js";
import type { HeldModel, NodeState } from "./node-state.js";
import type { ParamsHistory } from "../history/params-history.js";
import type { RoundHistory } from "../history/round-history.js";

/**
 * Keeps the node's copy of the global model equal to the chain's. From the genesis model (or
 * the last round it holds) it replays every finalized round: a failed round leaves θ as it is;
 * an agreed round fetches the accepted updates by CID, checks each against its revealed
 * content hash, applies the deterministic aggregation + outer step (node/src/round) and checks
 * the result against the model hash the chain recorded. A mismatch stops the node with the
 * reason: continuing would train on a model nobody else holds.
 */
export class ModelDivergedError extends ProtolearnError {
  override name = "ModelDivergedError";
}

export interface ModelSyncOptions {
  model: Model;
  state: NodeState;
  rounds: RoundHistory;
  params: ParamsHistory;
  store: BlobStore;
  logger: Logger;
  fetchTimeoutMs: number;
  /** Aborts between rounds and fetches. */
  signal?: AbortSignal;
  /** Charges replaying a round (hash checks, aggregation, outer step) to `aggregation`. */
  timer?: PartTimer;
  /** Observes the content-hash check of each update (`protolearn_update_verify_seconds`). */
  metrics?: MetricsRegistry;
}

export class ModelSync {
  /** A model this node already computed for the start of `round` (a validator's aggregate). */
  private candidate: HeldModel | undefined;

  constructor(private readonly options: ModelSyncOptions) {}

  /**
   * Offers θ_{round} that this node computed itself (a validator aggregates the accepted updates
   * while scoring). When the chain later agrees on exactly that hash, replaying the round takes
   * it instead of fetching and aggregating the same updates again; any other outcome discards it.
   */
  offer(candidate: HeldModel): void {
    this.candidate = candidate;
  }

  /**
   * The last public aggregate before `round`: M_prev − M_round (dense, the sign of a trainer's
   * Δ = θ_old − θ_new) from the model held before the last change; undefined when this node has
   * none (a fresh node, or the model has not changed yet). Call after `ensure(round, …)`.
   */
  async previousAggregate(round: number): Promise<Float32Array | undefined> {
    const { state } = this.options;
    const [held, previous] = await Promise.all([state.loadModel(), state.loadPrevious()]);
    if (held === undefined || previous === undefined || held.round !== round || previous.round >= round) return undefined;
    if (previous.params.length !== held.params.length) return undefined;
    const delta = new Float32Array(held.params.length);
    let nonZero = false;
    for (let i = 0; i < delta.length; i++) {
      const d = (previous.params[i] as number) - (held.params[i] as number);
      delta[i] = d;
      if (d !== 0) nonZero = true;
    }
    return nonZero ? delta : undefined;
  }

  /** Fetches one accepted update and checks it against the revealed content hash. */
  private async fetchAccepted(round: number, cid: string, expected: Hex, maxBytes: number): Promise<Uint8Array> {
    const bytes = await this.options.store.get(cid, {
      timeoutMs: this.options.fetchTimeoutMs,
      maxBytes,
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    });
    const stopVerify = this.options.metrics?.updateVerifySeconds.startTimer();
    const hash = (this.options.timer ?? NO_TIMING).measure("aggregation", () => contentHash(bytes));
    stopVerify?.();
    if (hash !== expected.toLowerCase()) {
      throw new ModelDivergedError(`the bytes at ${cid} (round ${round}) do not hash to the revealed content hash`, {
        code: "MODEL_UPDATE_HASH_MISMATCH",
        fix: "an accepted update must match its commitment; report this run and round (`protolearn audit --verify`)",
      });
    }
    return bytes;
  }

  /**
   * The newest announced checkpoint at or before `round` whose parameters hash to the model
   * the chain says that round opened with; undefined when none is usable (the caller then
   * replays from genesis). Tries the three newest announcements.
   */
  private async fromCheckpoint(round: number): Promise<HeldModel | undefined> {
    const { model, rounds, store, logger } = this.options;
    for (const checkpoint of (await rounds.checkpoints(round)).slice(0, 3)) {
      try {
        const bytes = await store.get(checkpoint.cid, {
          timeoutMs: this.options.fetchTimeoutMs,
          maxBytes: maxCheckpointBytes(model.spec),
          ...(this.options.signal ? { signal: this.options.signal } : {}),
        });
        const { params, momentum } = decodeCheckpoint(model.spec, bytes);
        const hash = modelHash(model.spec, params);
        const opened = await rounds.openedModelHash(checkpoint.round);
        if (opened === undefined || opened.toLowerCase() !== hash.toLowerCase()) {
          logger.warn("checkpoint rejected: its model is not the one the round opened with", { round: checkpoint.round, cid: checkpoint.cid });
          continue;
        }
        logger.info("model from checkpoint", { round: checkpoint.round, cid: checkpoint.cid, hash });
        return { round: checkpoint.round, hash, params, momentum };
      } catch (err) {
        logger.warn("checkpoint unusable", { round: checkpoint.round, cid: checkpoint.cid, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return undefined;
  }

  /** Returns θ for `round`, whose hash must be `expectedHash` (the chain's M_round). */
  async ensure(round: number, expectedHash: Hex): Promise<HeldModel> {
    const { model, state, rounds, logger } = this.options;
    let held = await state.loadModel();
    if (held === undefined) {
      held = await this.fromCheckpoint(round);
      if (held !== undefined) await state.saveModel(held);
    }
    if (held === undefined) {
      const genesis = await genesisModel(model);
      const opened = await rounds.openedModelHash(1);
      if (opened !== undefined && opened.toLowerCase() !== genesis.hash.toLowerCase()) {
        throw new ModelDivergedError(`this node's genesis model ${genesis.hash} is not the run's initial model ${opened}`, {
          code: "MODEL_GENESIS_MISMATCH",
          fix: "the run uses another model or version: update protolearn to the version the run was created with",
        });
      }
      held = { round: 1, hash: genesis.hash, params: genesis.params, momentum: undefined };
      await state.saveModel(held);
      logger.info("model genesis", { hash: genesis.hash });
    }
    while (held.round < round) {
      this.options.signal?.throwIfAborted();
      const r: number = held.round;
      const outcome = await rounds.outcome(r);
      if (outcome.kind === "pending") {
        throw new ProtolearnError(`round ${r} is not finalized but the chain is at round ${round}`, {
          code: "MODEL_HISTORY_GAP",
          fix: "the RPC node may be lagging: retry, or check that rpcUrl serves the full chain",
        });
      }
      if (outcome.kind === "failed") {
        held = { ...held, round: r + 1 };
        logger.info("round failed, model unchanged", { round: r, reason: outcome.reason });
      } else {
        const offered = this.candidate;
        this.candidate = undefined;
        if (offered !== undefined && offered.round === r + 1 && offered.hash.toLowerCase() === outcome.modelHash.toLowerCase()) {
          if (offered.hash.toLowerCase() !== held.hash.toLowerCase()) await state.savePrevious(held);
          held = offered;
          logger.info("model advanced", { round: r + 1, hash: offered.hash, from: "own aggregate" });
          await state.saveModel(held);
          continue;
        }
        const params = await this.options.params.at(r);
        const cap = maxUpdateBytes(model.spec, params);
        const acceptedSet = new Set(outcome.accepted.map((a) => a.toLowerCase()));
        const reveals = (await rounds.reveals(r)).filter((rv) => acceptedSet.has(rv.node.toLowerCase()));
        // Fetched concurrently (bounded like a validator's fetches), kept in reveal order.
        const updates: RoundUpdate[] = await mapBounded(reveals, DEFAULT_FETCH_CONCURRENCY, async (reveal) => ({
          node: reveal.node,
          bytes: await this.fetchAccepted(r, reveal.cid, reveal.contentHash, cap),
          samples: reveal.samples,
        }));
        const globalParams: Float32Array = held.params;
        const momentum: Float32Array | undefined = held.momentum;
        const next: ReturnType<typeof nextModel> = (this.options.timer ?? NO_TIMING).measure("aggregation", () =>
          nextModel({ model, globalParams, momentum, updates, params, round: r }),
        );
        if (next.modelHash.toLowerCase() !== outcome.modelHash.toLowerCase()) {
          throw new ModelDivergedError(
            `after round ${r} this node computed model ${next.modelHash} but the chain agreed on ${outcome.modelHash}`,
            {
              code: "MODEL_DIVERGED",
              fix: "stop training on this node; check that it runs the same protolearn version as the validators, then resync from a fresh data folder",
            },
          );
        }
        if (next.modelHash.toLowerCase() !== held.hash.toLowerCase()) await state.savePrevious(held);
        held = { round: r + 1, hash: next.modelHash, params: next.params, momentum: next.momentum };
        logger.info("model advanced", { round: r + 1, hash: next.modelHash, updates: updates.length });
      }
      await state.saveModel(held);
    }
    if (held.hash.toLowerCase() !== expectedHash.toLowerCase()) {
      throw new ModelDivergedError(`this node holds model ${held.hash} for round ${round}, the chain says ${expectedHash}`, {
        code: "MODEL_DIVERGED",
        fix: "move the node's data folder away and restart to resync from the chain",
      });
    }
    return held;
  }
}
