import type { Address, Hex } from "viem";

import { contentHash } from "../../codec/index.js";
import type { Dataset } from "../../data/dataset.js";
import type { Model } from "../../model/model.js";
import { parameterCount } from "../../model/spec.js";
import { genesisModel } from "../../run/genesis.js";
import { evaluateAsync } from "../../train/evaluate.js";
import { nextModel, type RoundUpdate } from "../next-model.js";
import { RoundError } from "../round-error.js";
import { maxUpdateBytes, type RoundRunParams } from "../round-params.js";
import { trainUpdate } from "../train-update.js";
import { ddpBytesPerNodePerRound, ringAllReduceBytesPerNodePerRound } from "./comm-bytes.js";
import { createDdpBaseline, type DdpBaseline } from "./ddp-baseline.js";
import { simNodeAddress, simRoundSeed } from "./sim-seeds.js";
import { startSimNetwork } from "./sim-network.js";

/** Inputs of {@link simulate}. */
export interface SimulationOptions {
  model: Model;
  dataset: Dataset;
  /** Trainers, each with its own Helia peer. */
  nodes: number;
  rounds: number;
  params: RoundRunParams;
  /** Fixes the node addresses and every round seed. */
  seed: string;
  /**
   * Also train the dense data-parallel baseline on the same batches.
   * @default true
   */
  baseline?: boolean;
  /**
   * The baseline's AdamW learning rate, when it should differ from the run's inner learning
   * rate (each optimizer at its own best setting; docs/simulation.md). @default
   * `params.innerLearningRate`
   */
  baselineLearningRate?: number;
  /** Evaluate on the first `evalLimit` held-out examples only. @default the whole eval split */
  evalLimit?: number;
  /**
   * Scores parameters on held-out data (e.g. `loadSimWorkload(...).evaluate`: bits per byte for a
   * language model). Replaces the default `evaluate` (loss and accuracy), and `evalLimit` with it.
   */
  evaluator?: (params: Float32Array) => SimEvaluation | Promise<SimEvaluation>;
  /** How long the validator waits for one update over bitswap. @default 30000 */
  fetchTimeoutMs?: number;
  /** Called after each unit of work (one node's inner loop, one baseline step, ...). */
  onProgress?: (progress: SimulationProgress) => void;
  signal?: AbortSignal;
}

/** Where a running simulation is; `completed` and `total` count inner steps. */
export interface SimulationProgress {
  completed: number;
  total: number;
  round: number;
  phase: "train" | "aggregate" | "baseline";
}

/** Held-out score of a model. */
export interface SimEvaluation {
  /** Mean cross-entropy in nats (per example, or per predicted byte for a language model). */
  evalLoss: number;
  /** Share of examples classified right; `NaN` for a language model. */
  evalAccuracy: number;
  /** Language models: `evalLoss / ln 2` over every predicted byte of the held-out windows. */
  bitsPerByte?: number;
}

/** The run parameters the DDP baseline trains with: the run's, with its own learning rate if given. */
function baselineParams(
  options: Pick<SimulationOptions, "params" | "baselineLearningRate">,
): RoundRunParams {
  const lr = options.baselineLearningRate;
  return lr === undefined ? options.params : { ...options.params, innerLearningRate: lr };
}

/** The evaluator a simulation uses: the given one, else `evaluate`'s loss and accuracy. */
function evaluatorOf(
  options: Pick<SimulationOptions, "evaluator" | "evalLimit" | "model" | "dataset">,
): (params: Float32Array) => Promise<SimEvaluation> {
  const { evaluator } = options;
  if (evaluator !== undefined) return async (p) => evaluator(p);
  const { model, dataset } = options;
  const evalOptions = options.evalLimit === undefined ? {} : { limit: options.evalLimit };
  return async (p) => {
    // Asynchronous reads, so that the simulation also runs on the webgpu backend.
    const e = await evaluateAsync(model, p, dataset, evalOptions);
    return { evalLoss: e.loss, evalAccuracy: e.accuracy };
  };
}

/** What one protocol round produced, for both the protocol and the baseline. */
export interface SimRoundRecord {
  round: number;
  /** Training examples consumed so far by all nodes together (equal for both runs). */
  samples: number;
  protocol: SimEvaluation & {
    /** Mean of the trainers' inner-loop losses. */
    trainLoss: number;
    /** `modelHash_{r+1}`. */
    modelHash: Hex;
    /** Mean encoded update size: what one node sends this round. */
    bytesPerNode: number;
    /** Each node's update size this round, in node order. */
    bytesByNode: number[];
    /** Largest update of the round. */
    maxBytesPerNode: number;
    /** Bytes the validator fetched over bitswap (all updates of the round). */
    bytesFetched: number;
    /** Updates scaled down by norm clipping. */
    clipped: number;
  };
  baseline?: SimEvaluation & { trainLoss: number; bytesPerNode: number };
}

/** A finished simulation. */
export interface SimulationResult {
  nodes: Address[];
  parameterCount: number;
  params: RoundRunParams;
  rounds: number;
  /** Evaluation of the genesis model (round 0). */
  initial: SimEvaluation;
  perRound: SimRoundRecord[];
  /** Final global parameters of the protocol run. */
  finalParams: Float32Array;
  bytes: {
    /** Mean bytes one node sent per round (its update). */
    protocolPerNodePerRound: number;
    /** Bytes each node sent over the whole run, in node order. */
    protocolTotalByNode: number[];
    /** Everything all nodes sent over the run. */
    protocolTotal: number;
    /** `H × P × 4`: one dense float32 gradient per step (docs/simulation.md). */
    ddpPerNodePerRound: number;
    ddpTotal: number;
    /** ddpTotal / protocolTotal. */
    ratio: number;
    /** The same ratio against a ring all-reduce (`2(N−1)/N` × more DDP bytes). */
    ratioRingAllReduce: number;
  };
}

/**
 * Runs `rounds` protocol rounds among `nodes` in-process trainers and one validator, with the
 * real round engine (`trainUpdate`, `nextModel`), the real codec and aggregation and real Helia
 * peers (each trainer puts its update into its own store; the validator fetches it by CID over
 * loopback bitswap and checks its content hash). There is no chain: commits and reveals are
 * replaced by handing over (node, CID, content hash, samples), and every update is accepted.
 * Optionally trains the dense data-parallel baseline on exactly the same batches.
 */
export async function simulate(options: SimulationOptions): Promise<SimulationResult> {
  const { model, dataset, rounds, params, seed, signal } = options;
  const withBaseline = options.baseline ?? true;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 30_000;
  const nodes = Array.from({ length: options.nodes }, (_, i) => simNodeAddress(seed, i));
  const n = parameterCount(model.spec);
  const cap = maxUpdateBytes(model.spec, params);
  const H = params.innerSteps;
  const total = rounds * (nodes.length * H + (withBaseline ? H : 0));
  let completed = 0;
  const report = (round: number, phase: SimulationProgress["phase"], units: number): void => {
    completed += units;
    options.onProgress?.({ completed, total, round, phase });
  };

  const genesis = await genesisModel(model);
  const assess = evaluatorOf(options);
  const initial = await assess(genesis.params);
  const network = await startSimNetwork(nodes);
  let baseline: DdpBaseline | undefined;
  try {
    baseline = withBaseline
      ? createDdpBaseline({
          model,
          dataset,
          initialParams: genesis.params,
          nodes,
          params: baselineParams(options),
        })
      : undefined;
    let global = genesis.params;
    let momentum: Float32Array | undefined;
    const residuals = new Map<Address, Float32Array | null>(nodes.map((node) => [node, null]));
    const perRound: SimRoundRecord[] = [];
    let samples = 0;
    let protocolTotal = 0;

    for (let round = 1; round <= rounds; round++) {
      const roundSeed = simRoundSeed(seed, round);
      // Train phase: every trainer computes and publishes its update.
      const reveals: { node: Address; cid: string; hash: Hex; samples: number }[] = [];
      const sizes: number[] = [];
      let trainLossSum = 0;
      for (const node of nodes) {
        const update = await trainUpdate({
          model,
          dataset,
          globalParams: global,
          seed: roundSeed,
          node,
          round,
          params,
          residual: residuals.get(node) ?? null,
          ...(signal === undefined ? {} : { signal }),
        });
        residuals.set(node, update.residual);
        const store = network.trainers.get(node);
        if (store === undefined) throw new Error(`no store for ${node}`);
        const cid = await store.put(update.bytes, signal === undefined ? {} : { signal });
        reveals.push({ node, cid, hash: update.contentHash, samples: update.samples });
        sizes.push(update.bytes.length);
        trainLossSum += update.trainLoss;
        samples += update.samples;
        report(round, "train", H);
      }

      // Validator: fetch each revealed CID from its trainer's peer, check it, aggregate.
      const accepted: RoundUpdate[] = [];
      let bytesFetched = 0;
      for (const reveal of reveals) {
        await network.connect(reveal.node);
        const bytes = await network.validator.get(reveal.cid, {
          timeoutMs: fetchTimeoutMs,
          maxBytes: cap,
          ...(signal === undefined ? {} : { signal }),
        });
        if (contentHash(bytes) !== reveal.hash) {
          throw new RoundError(
            `the blob behind ${reveal.cid} does not match ${reveal.node}'s content hash`,
            {
              code: "ROUND_CONTENT_HASH_MISMATCH",
              fix: "score the update invalid; in the simulation this means the storage layer is broken",
            },
          );
        }
        bytesFetched += bytes.length;
        accepted.push({ node: reveal.node, bytes, samples: reveal.samples });
      }
      const next = nextModel({
        model,
        globalParams: global,
        momentum,
        updates: accepted,
        params,
        round,
      });
      global = next.params;
      momentum = next.momentum;
      report(round, "aggregate", 0);
      const sent = sizes.reduce((a, b) => a + b, 0);
      protocolTotal += sent;
      const record: SimRoundRecord = {
        round,
        samples,
        protocol: {
          ...(await assess(global)),
          trainLoss: trainLossSum / nodes.length,
          modelHash: next.modelHash,
          bytesPerNode: sent / nodes.length,
          bytesByNode: sizes,
          maxBytesPerNode: Math.max(...sizes),
          bytesFetched,
          clipped: next.aggregation.nodes.filter((node) => node.clipFactor < 1).length,
        },
      };

      if (baseline !== undefined) {
        const { trainLoss } = await baseline.runRound(roundSeed, () =>
          report(round, "baseline", 1),
        );
        record.baseline = {
          ...(await assess(await baseline.params())),
          trainLoss,
          bytesPerNode: ddpBytesPerNodePerRound(n, H),
        };
      }
      perRound.push(record);
    }

    const ddpPerNodePerRound = ddpBytesPerNodePerRound(n, H);
    const ddpTotal = ddpPerNodePerRound * nodes.length * rounds;
    const ringTotal = ringAllReduceBytesPerNodePerRound(n, H, nodes.length) * nodes.length * rounds;
    return {
      nodes,
      parameterCount: n,
      params,
      rounds,
      initial,
      perRound,
      finalParams: global,
      bytes: {
        protocolPerNodePerRound: protocolTotal / (nodes.length * rounds),
        protocolTotalByNode: nodes.map((_, j) =>
          perRound.reduce((sum, r) => sum + (r.protocol.bytesByNode[j] as number), 0),
        ),
        protocolTotal,
        ddpPerNodePerRound,
        ddpTotal,
        ratio: ddpTotal / protocolTotal,
        ratioRingAllReduce: ringTotal / protocolTotal,
      },
    };
  } finally {
    baseline?.dispose();
    await network.stop();
  }
}

/** The dense baseline of a simulation on its own: per-round held-out evaluation and train loss. */
export interface BaselineResult {
  nodes: Address[];
  initial: SimEvaluation;
  perRound: (SimEvaluation & { round: number; samples: number; trainLoss: number })[];
  /** `H × P × 4` per node per round (docs/simulation.md). */
  bytesPerNodePerRound: number;
}

/**
 * Trains only the dense data-parallel baseline of a simulation (same nodes, seeds and batches
 * as {@link simulate} with the same options). The baseline does not depend on the compression
 * settings, so a sweep over density or bits needs it once per (nodes, rounds, H, batch, lr).
 */
export async function simulateBaseline(
  options: Omit<SimulationOptions, "baseline" | "fetchTimeoutMs">,
): Promise<BaselineResult> {
  const { model, dataset, rounds, params, seed } = options;
  const nodes = Array.from({ length: options.nodes }, (_, i) => simNodeAddress(seed, i));
  const genesis = await genesisModel(model);
  const assess = evaluatorOf(options);
  const total = rounds * params.innerSteps;
  let completed = 0;
  const baseline = createDdpBaseline({
    model,
    dataset,
    initialParams: genesis.params,
    nodes,
    params: baselineParams(options),
  });
  try {
    const perRound: BaselineResult["perRound"] = [];
    for (let round = 1; round <= rounds; round++) {
      if (options.signal?.aborted === true) throw options.signal.reason;
      const { trainLoss } = await baseline.runRound(simRoundSeed(seed, round), () => {
        completed += 1;
        options.onProgress?.({ completed, total, round, phase: "baseline" });
      });
      perRound.push({
        round,
        samples: round * nodes.length * params.innerSteps * params.batchSize,
        trainLoss,
        ...(await assess(await baseline.params())),
      });
    }
    return {
      nodes,
      initial: await assess(genesis.params),
      perRound,
      bytesPerNodePerRound: ddpBytesPerNodePerRound(parameterCount(model.spec), params.innerSteps),
    };
  } finally {
    baseline.dispose();
  }
}
