/**
 * Training-step benchmark of the MNIST MLP (784-256-10) and CNN on the active TensorFlow.js backend.
 *
 *   npm run bench:train                                # prints tables
 *   npm run bench:train -- --json                      # prints one JSON object
 *   npm run bench:train -- --backend cpu --batch 32,64 --seconds 8
 *
 * For each batch size B it times single calls of these operations in interleaved rounds (so
 * that load from other processes hits each alike) and reports the 10th percentile of the
 * per-call times — the speed the machine gives when nothing preempts it; the JSON also carries
 * the medians. Every call ends in a sync (`dataSync`), so asynchronous backends are timed fairly.
 *
 *  - `plain`: `tf.matMul` [B,784]·[784,256], the step's dominant product: the CEILING;
 *  - `manual`: the hand-written forward+backward pass (`model.lossAndGradients`, every matMul plain);
 *  - `manualNewWeights`: the same with weight tensors that are new on each call, as in training
 *    after every optimizer update (the wasm backend re-packs a new right-hand matMul operand);
 *  - `adamW`: one AdamW update of all 203,530 parameters;
 *  - `full`: the whole inner step — shard batch, upload, forward+backward, AdamW;
 *  - `autodiff`: the forward+backward by TensorFlow.js autodiff (`tf.valueAndGrads`);
 *  - `autodiffStock`: the same with the backend's own matMul kernels, i.e. without
 *    `installPlainMatMul` (only where `selectBackend` installed it: wasm);
 *  - `fullAutodiff`: the whole inner step with the autodiff forward+backward;
 *  - `cnn` / `cnnFull` / `cnnAdamW`: mnist-cnn-v1's forward+backward (autodiff with its custom
 *    conv and pool gradients), its whole inner step, and one AdamW update of its 11,274 values;
 *  - `transposeFlag` / `transposeFlagStock` / `explicitTranspose`: the weight-gradient product
 *    xᵀ·dY ([784,B]·[B,256]) with a transposed operand (through the installed kernels, and
 *    through the backend's own) vs after an explicit `tf.transpose`.
 *
 * FLOPs per step count the products only (matMuls, convolutions): forward, every weight
 * gradient, and the input gradient of every layer but the first (not needed). MLP:
 * 2·B·(2·784·256 + 3·256·10) = 818,176·B. CNN: forward 1,583,680·B (conv0 28²·8·25,
 * conv1 14²·16·200, dense 784·10, ×2), weight gradients as much again, input gradients of conv1
 * and the dense layer 1,270,080·B: 4,437,440·B. "% of ceiling" is GFLOP/s over the same run's
 * plain matMul GFLOP/s.
 */
import { parseArgs } from "node:util";

import * as tf from "@tensorflow/tfjs-core";
import type { Address, Hex } from "viem";

import { loadMnist } from "../node/src/data/mnist.js";
import { assignShard, shardBatchIndices } from "../node/src/data/shard.js";
import { createMnistCnn } from "../node/src/model/cnn.js";
import { createMnistMlp } from "../node/src/model/mlp.js";
import { autodiffLossAndGradients, type Model } from "../node/src/model/model.js";
import { initParams, unflattenParams } from "../node/src/model/params.js";
import { createRng } from "../node/src/random/index.js";
import { adamWOptionsSchema, createAdamW, type AdamW } from "../node/src/train/adamw.js";
import { backendOptionSchema, selectBackend } from "../node/src/train/backend.js";
import { installPlainMatMul, uninstallPlainMatMul } from "../node/src/train/plain-matmul.js";

const USAGE =
  "usage: bench-train [--json] [--backend auto|node-gpu|node|wasm|cpu] [--batch 64,128,256] [--seconds 4]";
const { values: flags } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    backend: { type: "string", default: "auto" },
    batch: { type: "string", default: "64,128,256" },
    seconds: { type: "string", default: "4" },
  },
});
const batchSizes = flags.batch.split(",").map((s) => Number.parseInt(s, 10));
const secondsPerBatch = Number.parseFloat(flags.seconds);
const backendOption = backendOptionSchema.safeParse(flags.backend);
if (
  batchSizes.some((b) => !Number.isInteger(b) || b < 1 || b > 1125) ||
  !(secondsPerBatch > 0) ||
  !backendOption.success
) {
  console.error(USAGE);
  process.exit(2);
}

const IN = 784;
const HIDDEN = 256;
const OUT = 10;
const FLOPS_PER_SAMPLE = 2 * (2 * IN * HIDDEN + 3 * HIDDEN * OUT);
const CNN_FORWARD_FLOPS = 2 * (28 * 28 * 8 * 25 + 14 * 14 * 16 * 25 * 8 + 784 * 10);
const CNN_FLOPS_PER_SAMPLE = 2 * CNN_FORWARD_FLOPS + 2 * (14 * 14 * 16 * 25 * 8 + 784 * 10);
const SEED: Hex = `0x${"be".repeat(32)}`;
const NODE: Address = "0x00000000000000000000000000000000000b3c4d";
const NUM_SHARDS = 8;
const MIN_ROUNDS = 15;
const KINDS = [
  "plain",
  "manual",
  "manualNewWeights",
  "adamW",
  "full",
  "autodiff",
  "autodiffStock",
  "fullAutodiff",
  "cnn",
  "cnnFull",
  "cnnAdamW",
  "transposeFlag",
  "transposeFlagStock",
  "explicitTranspose",
] as const;
type Kind = (typeof KINDS)[number];

/** The `q`-quantile (0…1) of `values`, nearest rank. */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

const gflops = (flops: number, ms: number): number => flops / (ms * 1e6);

interface BatchResult {
  batch: number;
  rounds: number;
  /** ms per call: 10th percentile */
  ms: Record<Kind, number>;
  /** ms per call: median */
  medianMs: Record<Kind, number>;
  ceilingGflops: number;
  manualGflops: number;
  manualPctOfCeiling: number;
  manualNewWeightsPctOfCeiling: number;
  fullStepGflops: number;
  fullStepPctOfCeiling: number;
  autodiffGflops: number;
  autodiffPctOfCeiling: number;
  autodiffStockPctOfCeiling: number;
  manualOverAutodiffSpeedup: number;
  fullAutodiffPctOfCeiling: number;
  cnnGflops: number;
  cnnPctOfCeiling: number;
  cnnFullStepGflops: number;
  cnnFullStepPctOfCeiling: number;
  samplesPerSec: {
    manual: number;
    full: number;
    autodiff: number;
    fullAutodiff: number;
    cnn: number;
    cnnFull: number;
  };
  transposeFlagGflops: number;
  transposeFlagStockGflops: number;
  explicitTransposeGflops: number;
}

const backend = await selectBackend({
  backend: backendOption.data,
  ...(flags.json ? {} : { log: (line: string) => console.log(line) }),
});
const mnist = await loadMnist();
const model = createMnistMlp();
const autodiffModel: Model = {
  spec: model.spec,
  logits: model.logits,
  lossAndGradients: (p, x, y) => autodiffLossAndGradients(model, p, x, y),
};
const cnn = createMnistCnn();
/** Runs `f` with the backend's own matMul kernels (a no-op where none were wrapped). */
function withStockMatMul(f: () => void): void {
  if (!backend.plainMatMul) return f();
  uninstallPlainMatMul(backend.tfName);
  try {
    f();
  } finally {
    installPlainMatMul(backend.tfName);
  }
}
const rng = createRng("protolearn/bench-train");
const randomTensor = (shape: number[]): tf.Tensor2D =>
  tf.tensor2d(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.nextFloat() - 0.5),
    shape as [number, number],
  );
const shard = assignShard(SEED, NODE, NUM_SHARDS);
const batchAt = (step: number, batchSize: number): ReturnType<typeof mnist.batch> =>
  mnist.batch(
    "train",
    shardBatchIndices({
      seed: SEED,
      node: NODE,
      step,
      batchSize,
      trainSize: mnist.size.train,
      shard,
      numShards: NUM_SHARDS,
    }),
  );

/** One batch size: builds the operations, times them, frees everything. */
function measure(batch: number): BatchResult {
  const init = initParams(model.spec, "bench");
  const params = unflattenParams(model.spec, init);
  let live = unflattenParams(model.spec, init);
  const adamOptions = adamWOptionsSchema.parse({});
  const fullAdam = createAdamW(model.spec, live, adamOptions);
  let liveAutodiff = unflattenParams(model.spec, init);
  const autodiffAdam = createAdamW(model.spec, liveAutodiff, adamOptions);
  const cnnInit = initParams(cnn.spec, "bench");
  const cnnParams = unflattenParams(cnn.spec, cnnInit);
  let liveCnn = unflattenParams(cnn.spec, cnnInit);
  const cnnAdam = createAdamW(cnn.spec, liveCnn, adamOptions);
  let cnnAdamOnlyParams = unflattenParams(cnn.spec, cnnInit);
  const cnnAdamOnly = createAdamW(cnn.spec, cnnAdamOnlyParams, adamOptions);
  let adamOnlyParams = unflattenParams(model.spec, init);
  const adamOnly = createAdamW(model.spec, adamOnlyParams, adamOptions);
  const first = batchAt(0, batch);
  const x = tf.tensor2d(first.x, [batch, IN]);
  const y = tf.tensor1d(first.y, "int32");
  const fixedGradients = model.lossAndGradients(params, x, y);
  const cnnFixedGradients = cnn.lossAndGradients(cnnParams, x, y);
  const a = randomTensor([batch, IN]);
  const w = randomTensor([IN, HIDDEN]);
  const dY = randomTensor([batch, HIDDEN]);
  let step = 0;
  /** One inner step of `m` from `params` (shard batch, upload, forward+backward, AdamW). */
  const innerStep = (m: Model, adam: AdamW, params: tf.Tensor[]): tf.Tensor[] => {
    const b = batchAt(step++, batch);
    const bx = tf.tensor2d(b.x, [batch, IN]);
    const by = tf.tensor1d(b.y, "int32");
    const r = m.lossAndGradients(params, bx, by);
    const next = adam.step(params, r.gradients);
    r.loss.dataSync();
    tf.dispose([bx, by, r.loss, ...r.gradients]);
    return next;
  };

  const ops: Record<Kind, () => void> = {
    plain: () => {
      const c = tf.matMul(a, w);
      c.dataSync();
      c.dispose();
    },
    manual: () => {
      const r = model.lossAndGradients(params, x, y);
      r.loss.dataSync();
      tf.dispose([r.loss, ...r.gradients]);
    },
    manualNewWeights: () => {
      const fresh = params.map((p) => tf.clone(p));
      const r = model.lossAndGradients(fresh, x, y);
      r.loss.dataSync();
      tf.dispose([r.loss, ...r.gradients, ...fresh]);
    },
    adamW: () => {
      adamOnlyParams = adamOnly.step(adamOnlyParams, fixedGradients.gradients);
      adamOnlyParams[0]?.dataSync();
    },
    full: () => {
      live = innerStep(model, fullAdam, live);
    },
    autodiff: () => {
      const r = autodiffModel.lossAndGradients(params, x, y);
      r.loss.dataSync();
      tf.dispose([r.loss, ...r.gradients]);
    },
    autodiffStock: () => withStockMatMul(() => ops.autodiff()),
    fullAutodiff: () => {
      liveAutodiff = innerStep(autodiffModel, autodiffAdam, liveAutodiff);
    },
    cnn: () => {
      const r = cnn.lossAndGradients(cnnParams, x, y);
      r.loss.dataSync();
      tf.dispose([r.loss, ...r.gradients]);
    },
    cnnFull: () => {
      liveCnn = innerStep(cnn, cnnAdam, liveCnn);
    },
    cnnAdamW: () => {
      cnnAdamOnlyParams = cnnAdamOnly.step(cnnAdamOnlyParams, cnnFixedGradients.gradients);
      cnnAdamOnlyParams[0]?.dataSync();
    },
    transposeFlag: () => {
      const c = tf.matMul(a, dY, true, false);
      c.dataSync();
      c.dispose();
    },
    transposeFlagStock: () => withStockMatMul(() => ops.transposeFlag()),
    explicitTranspose: () => {
      const c = tf.tidy(() => tf.matMul(tf.transpose(a), dY));
      c.dataSync();
      c.dispose();
    },
  };

  for (const kind of KINDS) for (let i = 0; i < 5; i++) ops[kind](); // warm-up: kernels, memory growth
  const samples = Object.fromEntries(KINDS.map((k) => [k, [] as number[]])) as Record<
    Kind,
    number[]
  >;
  const started = performance.now();
  let rounds = 0;
  while (rounds < MIN_ROUNDS || performance.now() - started < secondsPerBatch * 1000) {
    // Rotate the order so that no operation always runs right after the same neighbour.
    for (let k = 0; k < KINDS.length; k++) {
      const kind = KINDS[(rounds + k) % KINDS.length] as Kind;
      const t0 = performance.now();
      ops[kind]();
      samples[kind].push(performance.now() - t0);
    }
    rounds += 1;
  }
  tf.dispose([
    params,
    live,
    liveAutodiff,
    cnnParams,
    liveCnn,
    cnnAdamOnlyParams,
    cnnFixedGradients.loss,
    cnnFixedGradients.gradients,
    adamOnlyParams,
    x,
    y,
    a,
    w,
    dY,
    fixedGradients.loss,
    fixedGradients.gradients,
  ]);
  fullAdam.dispose();
  autodiffAdam.dispose();
  cnnAdam.dispose();
  cnnAdamOnly.dispose();
  adamOnly.dispose();

  const ms = Object.fromEntries(KINDS.map((k) => [k, quantile(samples[k], 0.1)])) as Record<
    Kind,
    number
  >;
  const medianMs = Object.fromEntries(KINDS.map((k) => [k, quantile(samples[k], 0.5)])) as Record<
    Kind,
    number
  >;
  const stepFlops = FLOPS_PER_SAMPLE * batch;
  const ceiling = gflops(2 * batch * IN * HIDDEN, ms.plain);
  const pct = (kind: Kind): number => (100 * gflops(stepFlops, ms[kind])) / ceiling;
  const cnnFlops = CNN_FLOPS_PER_SAMPLE * batch;
  const cnnPct = (kind: Kind): number => (100 * gflops(cnnFlops, ms[kind])) / ceiling;
  return {
    batch,
    rounds,
    ms,
    medianMs,
    ceilingGflops: ceiling,
    manualGflops: gflops(stepFlops, ms.manual),
    manualPctOfCeiling: pct("manual"),
    manualNewWeightsPctOfCeiling: pct("manualNewWeights"),
    fullStepGflops: gflops(stepFlops, ms.full),
    fullStepPctOfCeiling: pct("full"),
    autodiffGflops: gflops(stepFlops, ms.autodiff),
    autodiffPctOfCeiling: pct("autodiff"),
    autodiffStockPctOfCeiling: pct("autodiffStock"),
    manualOverAutodiffSpeedup: ms.autodiff / ms.manual,
    fullAutodiffPctOfCeiling: pct("fullAutodiff"),
    cnnGflops: gflops(cnnFlops, ms.cnn),
    cnnPctOfCeiling: cnnPct("cnn"),
    cnnFullStepGflops: gflops(cnnFlops, ms.cnnFull),
    cnnFullStepPctOfCeiling: cnnPct("cnnFull"),
    samplesPerSec: {
      manual: (1000 * batch) / ms.manual,
      full: (1000 * batch) / ms.full,
      autodiff: (1000 * batch) / ms.autodiff,
      fullAutodiff: (1000 * batch) / ms.fullAutodiff,
      cnn: (1000 * batch) / ms.cnn,
      cnnFull: (1000 * batch) / ms.cnnFull,
    },
    transposeFlagGflops: gflops(2 * batch * IN * HIDDEN, ms.transposeFlag),
    transposeFlagStockGflops: gflops(2 * batch * IN * HIDDEN, ms.transposeFlagStock),
    explicitTransposeGflops: gflops(2 * batch * IN * HIDDEN, ms.explicitTranspose),
  };
}

const results = batchSizes.map(measure);
const report = {
  benchmark: "bench:train",
  backend: {
    choice: backend.choice,
    tfName: backend.tfName,
    threads: backend.threads,
    simd: backend.simd,
    description: backend.description,
    plainMatMul: backend.plainMatMul,
  },
  model: model.spec.id,
  flopsPerSample: FLOPS_PER_SAMPLE,
  cnnModel: cnn.spec.id,
  cnnFlopsPerSample: CNN_FLOPS_PER_SAMPLE,
  secondsPerBatchSize: secondsPerBatch,
  statistic: "10th percentile of single-call times, interleaved rounds",
  results,
  summary: {
    minManualPctOfCeiling: Math.min(...results.map((r) => r.manualPctOfCeiling)),
    minFullStepPctOfCeiling: Math.min(...results.map((r) => r.fullStepPctOfCeiling)),
    minAutodiffPctOfCeiling: Math.min(...results.map((r) => r.autodiffPctOfCeiling)),
    minFullAutodiffPctOfCeiling: Math.min(...results.map((r) => r.fullAutodiffPctOfCeiling)),
    minCnnFullStepPctOfCeiling: Math.min(...results.map((r) => r.cnnFullStepPctOfCeiling)),
  },
};

function table(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) =>
    Math.max(h.length, ...rows.map((r) => (r[i] as string).length)),
  );
  const line = (cells: string[]): string =>
    cells.map((c, i) => c.padStart(widths[i] as number)).join(" │ ");
  console.log(line(headers));
  console.log(widths.map((w) => "─".repeat(w)).join("─┼─"));
  for (const row of rows) console.log(line(row));
}

if (flags.json) {
  console.log(JSON.stringify(report));
} else {
  const gf = (v: number): string => `${v.toFixed(1)} GF/s`;
  const pc = (v: number): string => `${v.toFixed(0)}%`;
  const msf = (v: number): string => `${v.toFixed(2)} ms`;
  console.log(
    `\n${model.spec.id}: ${FLOPS_PER_SAMPLE.toLocaleString("en-US")} FLOP per sample, ${cnn.spec.id}: ${CNN_FLOPS_PER_SAMPLE.toLocaleString("en-US")} (products only); 10th percentile of single calls over ${secondsPerBatch} s per batch size; % = GFLOP/s over the plain matMul's\n`,
  );
  console.log(
    "full inner step (shard batch + upload + forward/backward + AdamW) against the plain matMul ceiling",
  );
  table(
    [
      "batch",
      "ceiling (matMul)",
      "MLP hand-written",
      "%",
      "MLP autodiff",
      "%",
      "CNN autodiff",
      "%",
      "CNN samples/s",
    ],
    results.map((r) => [
      String(r.batch),
      gf(r.ceilingGflops),
      msf(r.ms.full),
      pc(r.fullStepPctOfCeiling),
      msf(r.ms.fullAutodiff),
      pc(r.fullAutodiffPctOfCeiling),
      msf(r.ms.cnnFull),
      pc(r.cnnFullStepPctOfCeiling),
      r.samplesPerSec.cnnFull.toFixed(0),
    ]),
  );
  console.log(
    `\nforward+backward pass against the ceiling (autodiff, stock: without installPlainMatMul${backend.plainMatMul ? "" : ", not installed on this backend"})`,
  );
  table(
    [
      "batch",
      "MLP hand-written",
      "%",
      "samples/s",
      "MLP autodiff",
      "%",
      "autodiff, stock",
      "%",
      "CNN autodiff",
      "%",
    ],
    results.map((r) => [
      String(r.batch),
      gf(r.manualGflops),
      pc(r.manualPctOfCeiling),
      r.samplesPerSec.manual.toFixed(0),
      gf(r.autodiffGflops),
      pc(r.autodiffPctOfCeiling),
      msf(r.ms.autodiffStock),
      pc(r.autodiffStockPctOfCeiling),
      gf(r.cnnGflops),
      pc(r.cnnPctOfCeiling),
    ]),
  );
  console.log("\nwhere the inner step goes");
  table(
    [
      "batch",
      "MLP full step",
      "samples/s",
      "fwd+bwd",
      "fwd+bwd, new weights",
      "AdamW",
      "CNN full step",
      "fwd+bwd",
      "AdamW",
    ],
    results.map((r) => [
      String(r.batch),
      msf(r.ms.full),
      r.samplesPerSec.full.toFixed(0),
      msf(r.ms.manual),
      msf(r.ms.manualNewWeights),
      msf(r.ms.adamW),
      msf(r.ms.cnnFull),
      msf(r.ms.cnn),
      msf(r.ms.cnnAdamW),
    ]),
  );
  console.log("\nweight-gradient product xᵀ·dY ([784,B]·[B,256]) vs the plain forward product");
  table(
    [
      "batch",
      "transposeA flag",
      "flag, stock kernel",
      "tf.transpose + plain",
      "plain [B,784]·[784,256]",
    ],
    results.map((r) => [
      String(r.batch),
      gf(r.transposeFlagGflops),
      gf(r.transposeFlagStockGflops),
      gf(r.explicitTransposeGflops),
      gf(r.ceilingGflops),
    ]),
  );
}
