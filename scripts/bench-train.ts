/**
 * Training-step benchmark of the MNIST MLP (784-256-10), the CNN and the byte-level language
 * model byte-transformer-v1 on the active TensorFlow.js backend.
 *
 *   npm run bench:train                                # prints tables
 *   npm run bench:train -- --json                      # prints one JSON object
 *   npm run bench:train -- --backend cpu --batch 32,64 --seconds 8
 *   npm run bench:train -- --lm-batch 2,8,32           # the language model at 2, 8, 32 windows
 *   npm run bench:train -- --lm-batch none             # MNIST models only
 *   npm run bench:train -- --backend webgpu            # a GPU through Dawn; also times wasm for the ratio
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
 *  - `autodiffStock`: the same with the backend's own kernels, i.e. without
 *    `installPlainMatMul` and `installHeapKernels` (only where `selectBackend` installed them: wasm);
 *  - `fullAutodiff`: the whole inner step with the autodiff forward+backward;
 *  - `cnn` / `cnnFull` / `cnnAdamW`: mnist-cnn-v1's forward+backward (autodiff with its custom
 *    conv and pool gradients), its whole inner step, and one AdamW update of its 11,274 values;
 *  - `transposeFlag` / `transposeFlagStock` / `explicitTranspose`: the weight-gradient product
 *    xᵀ·dY ([784,B]·[B,256]) with a transposed operand (through the installed kernels, and
 *    through the backend's own) vs after an explicit `tf.transpose`.
 *
 * The language model (scripts/bench-train-transformer.ts) has its own ceiling, the plain matMul
 * of its largest product ([W·128,128]·[128,512] at W windows), and its own operations: the
 * autodiff forward+backward (with and without the installed kernels), AdamW of its 875,520
 * parameters, and the trainer's whole inner step (`trainStep` on a shard batch of the corpus).
 *
 * FLOPs per step count the products only (matMuls, convolutions): forward, every weight
 * gradient, and the input gradient of every layer but the first (not needed). MLP:
 * 2·B·(2·784·256 + 3·256·10) = 818,176·B. CNN: forward 1,583,680·B (conv0 28²·8·25,
 * conv1 14²·16·200, dense 784·10, ×2), weight gradients as much again, input gradients of conv1
 * and the dense layer 1,270,080·B: 4,437,440·B. "% of ceiling" is GFLOP/s over the same run's
 * plain matMul GFLOP/s.
 */
import * as tf from "@tensorflow/tfjs-core";
import { Command, CommanderError } from "commander";
import type { Address, Hex } from "viem";

import { loadMnist } from "../node/src/data/mnist.js";
import { assignShard, shardBatchIndices } from "../node/src/data/shard.js";
import { createMnistCnn } from "../node/src/model/cnn.js";
import { createMnistMlp } from "../node/src/model/mlp.js";
import { autodiffLossAndGradients, type Model } from "../node/src/model/model.js";
import { initParams, unflattenParams } from "../node/src/model/params.js";
import { createRng } from "../node/src/random/index.js";
import { z } from "zod";

import { ProtolearnError } from "../node/src/errors.js";
import { adamWOptionsSchema, createAdamW, type AdamW } from "../node/src/train/adamw.js";
import {
  backendOptionSchema,
  selectBackend,
  type BackendSelection,
} from "../node/src/train/backend.js";
import { installHeapKernels, uninstallHeapKernels } from "../node/src/train/heap-kernels.js";
import { installPlainMatMul, uninstallPlainMatMul } from "../node/src/train/plain-matmul.js";
import {
  TRANSFORMER_FLOPS_PER_WINDOW,
  TRANSFORMER_KINDS,
  transformerOps,
  type TransformerKind,
} from "./bench-train-transformer.js";

/** The flags, validated: batch sizes 1–1,125 (MNIST's shard of 9,000 / 8), seconds > 0. */
const flagsSchema = z.object({
  json: z.boolean(),
  backend: backendOptionSchema,
  batch: z
    .string()
    .transform((s) => s.split(",").map((v) => Number(v.trim())))
    .pipe(z.array(z.number().int().min(1).max(1125)).min(1)),
  lmBatch: z
    .string()
    .transform((s) => (s.trim() === "none" ? [] : s.split(",").map((v) => Number(v.trim()))))
    .pipe(z.array(z.number().int().min(1).max(64))),
  seconds: z.coerce.number().finite().positive(),
  dawnOption: z.array(z.string().min(1)),
  compare: z.enum(["wasm", "none"]).optional(),
});

const program = new Command("bench-train")
  .description(
    "times the MNIST MLP's, the CNN's and byte-transformer-v1's training step on a TensorFlow.js backend (docs/training.md)",
  )
  .option("--json", "print one JSON object", false)
  .option("--backend <name>", "auto, node-gpu, node, wasm, cpu or webgpu", "auto")
  .option("--batch <sizes>", "comma-separated batch sizes", "64,128,256")
  .option(
    "--lm-batch <windows>",
    "byte-transformer-v1: comma-separated windows of 128 bytes per step (1–64), or none",
    "2,8",
  )
  .option("--seconds <s>", "seconds of interleaved timing per batch size", "4")
  .option(
    "--dawn-option <option>",
    "webgpu: an option for Dawn's create(), e.g. backend=vulkan or adapter=<name> (repeatable)",
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .option(
    "--compare <backend>",
    "also time the same operations on wasm and report the ratio (default: wasm when --backend webgpu, else none)",
  )
  .exitOverride();
let flags: z.output<typeof flagsSchema>;
try {
  program.parse();
  const parsed = flagsSchema.safeParse(program.opts());
  if (!parsed.success) {
    throw new ProtolearnError(
      `invalid flags: ${parsed.error.issues.map((i) => `--${i.path.join(".")} ${i.message}`).join("; ")}`,
      { code: "BENCH_BAD_FLAGS", fix: "see npm run bench:train -- --help" },
    );
  }
  flags = parsed.data;
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  console.error(error instanceof ProtolearnError ? `error: ${error.toDisplayString()}` : error);
  process.exit(2);
}
const batchSizes = flags.batch;
const secondsPerBatch = flags.seconds;
const compareWith = flags.compare ?? (flags.backend === "webgpu" ? "wasm" : "none");

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

/**
 * Times single calls of each operation in interleaved rounds — the order rotates, so that no
 * operation always runs right after the same neighbour — for at least MIN_ROUNDS rounds and
 * `secondsPerBatch` seconds, after `warmUp` untimed calls of each (kernel set-up, shader
 * compilation on webgpu, memory growth). Returns the 10th-percentile and median ms per call.
 */
async function timeInterleaved<K extends string>(
  kinds: readonly K[],
  ops: Record<K, () => Promise<void>>,
  warmUp: number,
): Promise<{ rounds: number; ms: Record<K, number>; medianMs: Record<K, number> }> {
  for (const kind of kinds) for (let i = 0; i < warmUp; i++) await ops[kind]();
  const samples = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  const started = performance.now();
  let rounds = 0;
  while (rounds < MIN_ROUNDS || performance.now() - started < secondsPerBatch * 1000) {
    for (let k = 0; k < kinds.length; k++) {
      const kind = kinds[(rounds + k) % kinds.length] as K;
      const t0 = performance.now();
      await ops[kind]();
      samples[kind].push(performance.now() - t0);
    }
    rounds += 1;
  }
  const at = (q: number) =>
    Object.fromEntries(kinds.map((k) => [k, quantile(samples[k], q)])) as Record<K, number>;
  return { rounds, ms: at(0.1), medianMs: at(0.5) };
}

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

let backend: BackendSelection;
try {
  backend = await selectBackend({
    backend: flags.backend,
    dawnOptions: flags.dawnOption,
    ...(flags.json ? {} : { log: (line: string) => console.log(line) }),
  });
} catch (error) {
  console.error(error instanceof ProtolearnError ? `error: ${error.toDisplayString()}` : error);
  process.exit(1);
}
/**
 * Waits for a result: `dataSync` where the backend can read synchronously, `await data()` on
 * webgpu, whose synchronous read needs a browser's OffscreenCanvas (docs/training.md).
 */
let syncRead = backend.choice !== "webgpu";
async function sync(t: tf.Tensor | undefined): Promise<void> {
  if (t === undefined) return;
  if (syncRead) t.dataSync();
  else await t.data();
}
const mnist = await loadMnist();
const model = createMnistMlp();
const autodiffModel: Model = {
  spec: model.spec,
  logits: model.logits,
  lossAndGradients: (p, x, y) => autodiffLossAndGradients(model, p, x, y),
};
const cnn = createMnistCnn();
/** Runs `f` with the backend's own matMul kernels (a no-op where none were wrapped). */
async function withStockMatMul(f: () => Promise<void>): Promise<void> {
  if (!backend.plainMatMul) return f();
  uninstallPlainMatMul(backend.tfName);
  try {
    await f();
  } finally {
    installPlainMatMul(backend.tfName);
  }
}
/**
 * Runs `f` with all of the backend's own kernels: matMul and the ones `installHeapKernels`
 * replaces (a no-op where neither was installed).
 */
async function withStockKernels(f: () => Promise<void>): Promise<void> {
  if (!backend.heapKernels) return withStockMatMul(f);
  uninstallHeapKernels(backend.tfName);
  try {
    await withStockMatMul(f);
  } finally {
    installHeapKernels(backend.tfName);
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
async function measure(batch: number): Promise<BatchResult> {
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
  const innerStep = async (m: Model, adam: AdamW, params: tf.Tensor[]): Promise<tf.Tensor[]> => {
    const b = batchAt(step++, batch);
    const bx = tf.tensor2d(b.x, [batch, IN]);
    const by = tf.tensor1d(b.y, "int32");
    const r = m.lossAndGradients(params, bx, by);
    const next = adam.step(params, r.gradients);
    await sync(r.loss);
    tf.dispose([bx, by, r.loss, ...r.gradients]);
    return next;
  };

  const ops: Record<Kind, () => Promise<void>> = {
    plain: async () => {
      const c = tf.matMul(a, w);
      await sync(c);
      c.dispose();
    },
    manual: async () => {
      const r = model.lossAndGradients(params, x, y);
      await sync(r.loss);
      tf.dispose([r.loss, ...r.gradients]);
    },
    manualNewWeights: async () => {
      const fresh = params.map((p) => tf.clone(p));
      const r = model.lossAndGradients(fresh, x, y);
      await sync(r.loss);
      tf.dispose([r.loss, ...r.gradients, ...fresh]);
    },
    adamW: async () => {
      adamOnlyParams = adamOnly.step(adamOnlyParams, fixedGradients.gradients);
      await sync(adamOnlyParams[0]);
    },
    full: async () => {
      live = await innerStep(model, fullAdam, live);
    },
    autodiff: async () => {
      const r = autodiffModel.lossAndGradients(params, x, y);
      await sync(r.loss);
      tf.dispose([r.loss, ...r.gradients]);
    },
    autodiffStock: () => withStockKernels(() => ops.autodiff()),
    fullAutodiff: async () => {
      liveAutodiff = await innerStep(autodiffModel, autodiffAdam, liveAutodiff);
    },
    cnn: async () => {
      const r = cnn.lossAndGradients(cnnParams, x, y);
      await sync(r.loss);
      tf.dispose([r.loss, ...r.gradients]);
    },
    cnnFull: async () => {
      liveCnn = await innerStep(cnn, cnnAdam, liveCnn);
    },
    cnnAdamW: async () => {
      cnnAdamOnlyParams = cnnAdamOnly.step(cnnAdamOnlyParams, cnnFixedGradients.gradients);
      await sync(cnnAdamOnlyParams[0]);
    },
    transposeFlag: async () => {
      const c = tf.matMul(a, dY, true, false);
      await sync(c);
      c.dispose();
    },
    transposeFlagStock: () => withStockMatMul(() => ops.transposeFlag()),
    explicitTranspose: async () => {
      const c = tf.tidy(() => tf.matMul(tf.transpose(a), dY));
      await sync(c);
      c.dispose();
    },
  };

  const { rounds, ms, medianMs } = await timeInterleaved(KINDS, ops, 5);
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

/** byte-transformer-v1 at one batch of windows: timings and shares of its own ceiling. */
interface TransformerResult {
  windows: number;
  rounds: number;
  /** ms per call: 10th percentile */
  ms: Record<TransformerKind, number>;
  /** ms per call: median */
  medianMs: Record<TransformerKind, number>;
  ceilingGflops: number;
  stepGflops: number;
  stepPctOfCeiling: number;
  stepStockPctOfCeiling: number;
  fullStepGflops: number;
  fullStepPctOfCeiling: number;
  /** Predicted bytes per second of the whole inner step. */
  bytesPerSec: number;
}

/** Times byte-transformer-v1's operations at `windows` windows per step, interleaved. */
async function measureTransformer(windows: number): Promise<TransformerResult> {
  const { ops, flops, dispose } = await transformerOps(windows, { sync, withStockKernels });
  const { rounds, ms, medianMs } = await timeInterleaved(TRANSFORMER_KINDS, ops, 2);
  dispose();
  const ceiling = gflops(flops.plain, ms.plain);
  const pct = (kind: TransformerKind): number => (100 * gflops(flops.step, ms[kind])) / ceiling;
  return {
    windows,
    rounds,
    ms,
    medianMs,
    ceilingGflops: ceiling,
    stepGflops: gflops(flops.step, ms.step),
    stepPctOfCeiling: pct("step"),
    stepStockPctOfCeiling: pct("stepStock"),
    fullStepGflops: gflops(flops.step, ms.full),
    fullStepPctOfCeiling: pct("full"),
    bytesPerSec: (1000 * windows * 128) / ms.full,
  };
}

const results: BatchResult[] = [];
for (const b of batchSizes) results.push(await measure(b));
const transformerResults: TransformerResult[] = [];
for (const w of flags.lmBatch) transformerResults.push(await measureTransformer(w));
const primary = backend;

/** Operations compared between the backend and wasm: products FLOPs per call, by batch size. */
const COMPARED = {
  plain: (b: number) => 2 * b * IN * HIDDEN,
  manual: (b: number) => FLOPS_PER_SAMPLE * b,
  full: (b: number) => FLOPS_PER_SAMPLE * b,
  autodiff: (b: number) => FLOPS_PER_SAMPLE * b,
  fullAutodiff: (b: number) => FLOPS_PER_SAMPLE * b,
  cnn: (b: number) => CNN_FLOPS_PER_SAMPLE * b,
  cnnFull: (b: number) => CNN_FLOPS_PER_SAMPLE * b,
} as const satisfies Partial<Record<Kind, (b: number) => number>>;
type Compared = keyof typeof COMPARED;

interface Comparison {
  batch: number;
  /** GFLOP/s on the benchmarked backend and on wasm, and wasm ms / backend ms (> 1: faster). */
  ops: Record<Compared, { gflops: number; wasmGflops: number; speedup: number }>;
}

/** byte-transformer-v1 compared the same way, per batch of windows. */
interface TransformerComparison {
  windows: number;
  ops: Record<"plain" | "step" | "full", { gflops: number; wasmGflops: number; speedup: number }>;
}

let comparison:
  | {
      backend: string;
      against: string;
      results: Comparison[];
      transformer: TransformerComparison[];
    }
  | undefined;
if (compareWith === "wasm" && primary.choice !== "wasm") {
  if (!flags.json) console.log(`\ntiming the same operations on wasm for the ratio...`);
  backend = await selectBackend({ backend: "wasm" });
  syncRead = true;
  const wasmResults: BatchResult[] = [];
  for (const b of batchSizes) wasmResults.push(await measure(b));
  const wasmTransformer: TransformerResult[] = [];
  for (const w of flags.lmBatch) wasmTransformer.push(await measureTransformer(w));
  comparison = {
    backend: primary.choice,
    against: "wasm",
    transformer: transformerResults.map((r, i) => {
      const w = wasmTransformer[i] as TransformerResult;
      const cell = (kind: "plain" | "step" | "full") => {
        const flops =
          kind === "plain"
            ? r.ceilingGflops * r.ms.plain * 1e6
            : TRANSFORMER_FLOPS_PER_WINDOW * r.windows;
        return {
          gflops: gflops(flops, r.ms[kind]),
          wasmGflops: gflops(flops, w.ms[kind]),
          speedup: w.ms[kind] / r.ms[kind],
        };
      };
      return {
        windows: r.windows,
        ops: { plain: cell("plain"), step: cell("step"), full: cell("full") },
      };
    }),
    results: results.map((r, i) => {
      const w = wasmResults[i] as BatchResult;
      const ops = Object.fromEntries(
        (Object.keys(COMPARED) as Compared[]).map((kind) => {
          const flops = COMPARED[kind](r.batch);
          return [
            kind,
            {
              gflops: gflops(flops, r.ms[kind]),
              wasmGflops: gflops(flops, w.ms[kind]),
              speedup: w.ms[kind] / r.ms[kind],
            },
          ];
        }),
      ) as Comparison["ops"];
      return { batch: r.batch, ops };
    }),
  };
}

const report = {
  benchmark: "bench:train",
  backend: {
    choice: primary.choice,
    tfName: primary.tfName,
    threads: primary.threads,
    simd: primary.simd,
    description: primary.description,
    plainMatMul: primary.plainMatMul,
    heapKernels: primary.heapKernels,
    ...(primary.adapter === undefined ? {} : { adapter: primary.adapter }),
  },
  model: model.spec.id,
  flopsPerSample: FLOPS_PER_SAMPLE,
  cnnModel: cnn.spec.id,
  cnnFlopsPerSample: CNN_FLOPS_PER_SAMPLE,
  transformerModel: "byte-transformer-v1",
  transformerFlopsPerWindow: TRANSFORMER_FLOPS_PER_WINDOW,
  secondsPerBatchSize: secondsPerBatch,
  statistic: "10th percentile of single-call times, interleaved rounds",
  results,
  transformer: transformerResults,
  summary: {
    minManualPctOfCeiling: Math.min(...results.map((r) => r.manualPctOfCeiling)),
    minFullStepPctOfCeiling: Math.min(...results.map((r) => r.fullStepPctOfCeiling)),
    minAutodiffPctOfCeiling: Math.min(...results.map((r) => r.autodiffPctOfCeiling)),
    minFullAutodiffPctOfCeiling: Math.min(...results.map((r) => r.fullAutodiffPctOfCeiling)),
    minCnnFullStepPctOfCeiling: Math.min(...results.map((r) => r.cnnFullStepPctOfCeiling)),
    ...(transformerResults.length === 0
      ? {}
      : {
          minTransformerFullStepPctOfCeiling: Math.min(
            ...transformerResults.map((r) => r.fullStepPctOfCeiling),
          ),
        }),
  },
  ...(comparison === undefined ? {} : { comparison }),
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
    `\nforward+backward pass against the ceiling (autodiff, stock: the backend's own kernels, without installPlainMatMul and installHeapKernels${primary.plainMatMul ? "" : ", neither installed on this backend"})`,
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
  if (transformerResults.length > 0) {
    console.log(
      `\nbyte-transformer-v1: ${TRANSFORMER_FLOPS_PER_WINDOW.toLocaleString("en-US")} FLOP per window of 128 bytes (products only); ceiling = plain matMul [W·128,128]·[128,512]`,
    );
    table(
      [
        "windows",
        "ceiling (matMul)",
        "full step",
        "%",
        "bytes/s",
        "fwd+bwd",
        "%",
        "fwd+bwd, stock kernels",
        "%",
        "AdamW",
      ],
      transformerResults.map((r) => [
        String(r.windows),
        gf(r.ceilingGflops),
        msf(r.ms.full),
        pc(r.fullStepPctOfCeiling),
        r.bytesPerSec.toFixed(0),
        msf(r.ms.step),
        pc(r.stepPctOfCeiling),
        msf(r.ms.stepStock),
        pc(r.stepStockPctOfCeiling),
        msf(r.ms.adamW),
      ]),
    );
  }
  if (comparison !== undefined) {
    const c = comparison;
    const cell = (o: { gflops: number; wasmGflops: number; speedup: number }): string =>
      `${o.gflops.toFixed(1)} vs ${o.wasmGflops.toFixed(1)} (${o.speedup.toFixed(2)}×)`;
    console.log(
      `\n${c.backend} against wasm in the same run: GFLOP/s on ${c.backend} vs on wasm (× = wasm time / ${c.backend} time)`,
    );
    table(
      [
        "batch",
        "matMul ceiling",
        "MLP fwd+bwd",
        "MLP full step",
        "MLP autodiff step",
        "CNN fwd+bwd",
        "CNN full step",
      ],
      c.results.map((r) => [
        String(r.batch),
        cell(r.ops.plain),
        cell(r.ops.manual),
        cell(r.ops.full),
        cell(r.ops.fullAutodiff),
        cell(r.ops.cnn),
        cell(r.ops.cnnFull),
      ]),
    );
    if (c.transformer.length > 0) {
      table(
        ["LM windows", "matMul ceiling", "LM fwd+bwd", "LM full step"],
        c.transformer.map((r) => [
          String(r.windows),
          cell(r.ops.plain),
          cell(r.ops.step),
          cell(r.ops.full),
        ]),
      );
    }
  }
}
