import type { Hex } from "viem";
import { mapBounded } from "../async/map-bounded.js";
import { contentHash } from "../codec/index.js";
import { ProtolearnError } from "../errors.js";
import type { Model } from "../model/model.js";
import type { Logger } from "../observe/logger.js";
import type { MetricsRegistry } from "../observe/metrics.js";
import { NO_TIMING, type PartTimer } from "../observe/round-timing.js";
import { maxUpdateBytes, type RoundUpdate } from "../round/index.js";
import { modelHash } from "../model/hash.js";
import { decodeCheckpoint, maxCheckpointBytes } from "../run/checkpoint.js";
import { genesisModel } from "../run/genesis.js";
import type { BlobStore } from "../storage/index.js";
import { DEFAULT_FETCH_CONCURRENCY } from "../validate/constants.js";
import type { HeldModel, NodeState } from "./node-state.js";
import { advanceModel, ModelDivergedError, needsUpdates, verifyAttested, type SettledRound } from "./model-chain.js";
import type { ParamsHistory } from "../history/params-history.js";
import type { RoundHistory } from "../history/round-history.js";

/**
 * Keeps the node's copy of the global model equal to the chain's, by the model chain rule
 * (node/src/sync/model-chain.ts): from the genesis model (or the last round it holds, or a
 * checkpoint) it replays every settled round — checks M_r against ModelAgreed(r) when round r
 * agreed, then builds M_{r+1} from round r's accepted updates (fetched by CID, each checked
 * against its revealed content hash, aggregated by the deterministic round engine), or keeps M_r
 * when round r failed. A mismatch stops the node with the reason: continuing would train on a
 * model nobody else holds.
 */
export { ModelDivergedError };

/** Round r's accepted updates as model sync fetched them (content hashes checked), in reveal order. */
export type AcceptedUpdatesListener = (round: number, updates: readonly RoundUpdate[]) => Promise<void> | void;

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
  /**
   * Called when a round's committee agreed on another hash than the M_r this node computed by
   * the model chain rule. Without it that stops the node (ModelDivergedError): it cannot tell
   * its own fault from the committee's. An auditor passes it: the model is a pure function of
   * public data, so the replay goes on with the computed M_r and the wrong attestation is a
   * finding (P9).
   */
  onAttestationMismatch?: (round: number, computed: Hex, attested: Hex) => void;
}

export class ModelSync {
  private readonly listeners: AcceptedUpdatesListener[] = [];

  constructor(private readonly options: ModelSyncOptions) {}

  /**
   * Calls `listener` with each round's on-chain accepted updates as sync fetches them to build
   * the next model (a validator keeps them as public work for duplicate checks, P6).
   */
  onAcceptedUpdates(listener: AcceptedUpdatesListener): void {
    this.listeners.push(listener);
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
   * The newest announced checkpoint of M_c (c ≤ `round`) whose parameters hash to the model round
   * c's committee agreed on (ModelAgreed(c) attests M_c); a checkpoint of a round that failed or
   * is not settled yet cannot be checked and is skipped. Undefined when none is usable (the
   * caller then replays from genesis). Tries the three newest announcements.
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
        const outcome = await rounds.outcome(checkpoint.round);
        if (outcome.kind !== "agreed" || outcome.modelHash.toLowerCase() !== hash.toLowerCase()) {
          logger.warn("checkpoint rejected: its model is not the one the round's committee agreed on", { round: checkpoint.round, cid: checkpoint.cid, outcome: outcome.kind });
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

  /**
   * Returns M_round (the model round `round`'s trainers train from and its committee attests),
   * built by the model chain rule from every settled round before it and checked against each of
   * their ModelAgreed hashes — and against ModelAgreed(round) too once `round` has settled.
   */
  async ensure(round: number): Promise<HeldModel> {
    const { model, state, rounds, logger } = this.options;
    let held = await state.loadModel();
    if (held !== undefined && held.round > round) {
      throw new ProtolearnError(`this node holds M_${held.round}, newer than the M_${round} asked for`, {
        code: "MODEL_HISTORY_BEHIND",
        fix: "rounds only go forward: ask for the current round, or sync from a fresh data folder",
      });
    }
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
    for (;;) {
      this.options.signal?.throwIfAborted();
      const r: number = held.round;
      const outcome = await rounds.outcome(r);
      if (outcome.kind === "pending") {
        if (r === round) return held;
        throw new ProtolearnError(`round ${r} is not finalized but the chain is at round ${round}`, {
          code: "MODEL_HISTORY_GAP",
          fix: "the RPC node may be lagging: retry, or check that rpcUrl serves the full chain",
        });
      }
      const settled: SettledRound = outcome.kind === "agreed" ? outcome : { kind: "failed" };
      if (this.options.onAttestationMismatch !== undefined && settled.kind === "agreed" && settled.modelHash.toLowerCase() !== held.hash.toLowerCase()) {
        this.options.onAttestationMismatch(r, held.hash, settled.modelHash);
      } else {
        verifyAttested(held, settled);
      }
      if (r === round) return held;
      const params = await this.options.params.at(r);
      let updates: RoundUpdate[] = [];
      if (needsUpdates(settled)) {
        const cap = maxUpdateBytes(model.spec, params);
        const acceptedSet = new Set((outcome.kind === "agreed" ? outcome.accepted : []).map((a) => a.toLowerCase()));
        const reveals = (await rounds.reveals(r)).filter((rv) => acceptedSet.has(rv.node.toLowerCase()));
        // Fetched concurrently (bounded like a validator's fetches), kept in reveal order.
        updates = await mapBounded(reveals, DEFAULT_FETCH_CONCURRENCY, async (reveal) => ({
          node: reveal.node,
          bytes: await this.fetchAccepted(r, reveal.cid, reveal.contentHash, cap),
          samples: reveal.samples,
        }));
      }
      const current: HeldModel = held;
      const { next, changed } = (this.options.timer ?? NO_TIMING).measure("aggregation", () =>
        advanceModel({ model, held: current, outcome: settled, updates, params }),
      );
      for (const listener of this.listeners) await listener(r, updates);
      if (changed) await state.savePrevious(held);
      held = next;
      if (outcome.kind === "failed") logger.info("round failed, model unchanged", { round: r, reason: outcome.reason });
      else logger.info("model advanced", { round: r + 1, hash: next.hash, updates: updates.length });
      await state.saveModel(held);
    }
  }
}
