import * as tf from "@tensorflow/tfjs-core";

import { ProtolearnError } from "../errors.js";
import { softmaxCrossEntropy, type LossAndGradients, type Model } from "./model.js";
import type { ModelSpec, ParamInit, ParamSpec } from "./spec.js";

/** Bytes are the tokens: every byte value is a class. */
export const BYTE_VOCABULARY = 256;

/** Sizes of a {@link createByteTransformer} model. */
export interface TransformerConfig {
  /** Transformer blocks. @default 4 */
  layers: number;
  /** Width of the residual stream. @default 128 */
  dModel: number;
  /** Attention heads; must divide `dModel`. @default 4 */
  heads: number;
  /** Longest input sequence (rows of the learned position table). @default 128 */
  context: number;
  /** Hidden width of each MLP as a multiple of `dModel`. @default 4 */
  mlpRatio: number;
}

/** The sizes of `byte-transformer-v1` when nothing else is asked for (875,520 parameters). */
export const DEFAULT_TRANSFORMER_CONFIG: Readonly<TransformerConfig> = Object.freeze({
  layers: 4,
  dModel: 128,
  heads: 4,
  context: 128,
  mlpRatio: 4,
});

/** Standard deviation of the initial weights (GPT-2's 0.02). */
const INIT_STD = 0.02;
/** LayerNorm's variance epsilon. */
const LN_EPSILON = 1e-5;
/**
 * Most windows one forward (or forward + backward) pass takes: a larger batch is computed in
 * passes of this many windows. At 32 windows of 128 bytes a training pass of byte-transformer-v1
 * peaks well under the wasm backend's heap; 256 windows in one pass overrun it ("memory access
 * out of bounds"), which a validator's 256-window validation batch would otherwise do.
 */
export const MAX_WINDOWS_PER_PASS = 32;
/** Added to attention scores of future positions; exp() of it underflows to exactly 0. */
const MASKED_SCORE = -1e9;

/**
 * Uniform init with the given standard deviation: U[−√3·σ, √3·σ) has variance σ². Uniform (not
 * normal) because `initParams` draws uniformly only, which keeps the bits the same on every
 * JavaScript engine.
 */
function uniformStd(std: number): ParamInit {
  return { kind: "uniform", limit: Math.sqrt(3) * std };
}

/**
 * The parameter layout of a byte-level decoder-only transformer (GPT-2 style, pre-LayerNorm),
 * in flattening order. LayerNorm gains are stored as offsets from 1 (`gain = 1 + g`), so that
 * they start at the "zeros" init the spec supports and are not decayed.
 */
export function transformerSpec(config: TransformerConfig = DEFAULT_TRANSFORMER_CONFIG): ModelSpec {
  assertConfig(config);
  const { layers, dModel: d, context, mlpRatio } = config;
  const hidden = mlpRatio * d;
  const weight = uniformStd(INIT_STD);
  // GPT-2: projections that write into the residual stream are scaled by 1/√(2·layers), so the
  // stream's variance does not grow with depth.
  const residual = uniformStd(INIT_STD / Math.sqrt(2 * layers));
  const zeros: ParamInit = { kind: "zeros" };
  const kernel = (name: string, shape: number[], init: ParamInit = weight): ParamSpec => ({
    name,
    shape,
    init,
    decay: true,
  });
  const vector = (name: string, size: number): ParamSpec => ({
    name,
    shape: [size],
    init: zeros,
    decay: false,
  });
  const layerNorm = (prefix: string): ParamSpec[] => [
    vector(`${prefix}/gain`, d),
    vector(`${prefix}/bias`, d),
  ];
  const params: ParamSpec[] = [
    kernel("embed/token", [BYTE_VOCABULARY, d]),
    kernel("embed/position", [context, d]),
  ];
  for (let l = 0; l < layers; l++) {
    const block = `block${l}`;
    params.push(
      ...layerNorm(`${block}/ln1`),
      kernel(`${block}/attn/qkv/kernel`, [d, 3 * d]),
      vector(`${block}/attn/qkv/bias`, 3 * d),
      kernel(`${block}/attn/out/kernel`, [d, d], residual),
      vector(`${block}/attn/out/bias`, d),
      ...layerNorm(`${block}/ln2`),
      kernel(`${block}/mlp/in/kernel`, [d, hidden]),
      vector(`${block}/mlp/in/bias`, hidden),
      kernel(`${block}/mlp/out/kernel`, [hidden, d], residual),
      vector(`${block}/mlp/out/bias`, d),
    );
  }
  params.push(
    ...layerNorm("final/ln"),
    kernel("head/kernel", [d, BYTE_VOCABULARY]),
    vector("head/bias", BYTE_VOCABULARY),
  );
  return {
    id: "byte-transformer-v1",
    // One example is a window of context + 1 bytes: the inputs and, shifted by one, the targets.
    inputSize: context + 1,
    numClasses: BYTE_VOCABULARY,
    params,
  };
}

function assertConfig(config: TransformerConfig): void {
  const { layers, dModel, heads, context, mlpRatio } = config;
  const positive = [layers, dModel, heads, context, mlpRatio].every(
    (n) => Number.isInteger(n) && n >= 1,
  );
  if (!positive || dModel % heads !== 0) {
    throw new ProtolearnError(
      `transformer sizes ${JSON.stringify(config)} are not valid (positive integers, heads dividing dModel)`,
      {
        code: "MODEL_BAD_CONFIG",
        fix: "use positive integer sizes with dModel a multiple of heads, or the defaults",
      },
    );
  }
}

/**
 * A next-byte language model. Beyond the {@link Model} contract (which sees one example as a
 * window of `context + 1` bytes, stored as float values 0–255) it exposes per-position logits.
 */
export interface ByteTransformer extends Model {
  readonly config: Readonly<TransformerConfig>;
  /**
   * Logits `[batch, length, 256]` of the byte after each position of `tokens: [batch, length]`
   * (int32 byte values, `length ≤ context`); position t sees only bytes 0…t.
   */
  sequenceLogits(params: readonly tf.Tensor[], tokens: tf.Tensor2D): tf.Tensor3D;
  /**
   * Mean cross-entropy (nats) over every position of `windows: [batch, length + 1]` (byte values,
   * any dtype): the first `length` bytes are the inputs, the last `length` the targets.
   */
  sequenceLoss(params: readonly tf.Tensor[], windows: tf.Tensor2D): tf.Scalar;
}

/**
 * Whether `model` is a byte-level language model (scores every position of a window), as
 * `byte-transformer-v1` is: its held-out score is bits per byte, not classifier loss and accuracy.
 *
 * @example
 * if (isByteTransformer(model)) evaluateBitsPerByte(model, params, dataset);
 */
export function isByteTransformer(model: Model): model is ByteTransformer {
  const candidate = model as Partial<ByteTransformer>;
  return (
    typeof candidate.sequenceLogits === "function" && typeof candidate.sequenceLoss === "function"
  );
}

/**
 * The two views of `windows: [n, length + 1]` (byte values, any dtype) that a next-byte model
 * reads: `inputs` [n, length], the first `length` bytes (int32), and `targets` [n·length], the
 * last `length` bytes flattened: target t of a window is the byte after input t.
 */
export function splitWindows(windows: tf.Tensor2D): { inputs: tf.Tensor2D; targets: tf.Tensor1D } {
  const [n, width] = windows.shape;
  const length = width - 1;
  const bytes = tf.cast(windows, "int32");
  return {
    inputs: tf.slice(bytes, [0, 0], [n, length]),
    targets: tf.reshape(tf.slice(bytes, [0, 1], [n, length]), [-1]) as tf.Tensor1D,
  };
}

/** Parameters of one block, in spec order. */
type BlockParams = [
  tf.Tensor1D,
  tf.Tensor1D,
  tf.Tensor2D,
  tf.Tensor1D,
  tf.Tensor2D,
  tf.Tensor1D,
  tf.Tensor1D,
  tf.Tensor1D,
  tf.Tensor2D,
  tf.Tensor1D,
  tf.Tensor2D,
  tf.Tensor1D,
];
const BLOCK_TENSORS = 12;

/** LayerNorm over the last axis of `x: [n, d]`, gain stored as `1 + g`. */
function layerNorm(x: tf.Tensor2D, g: tf.Tensor1D, b: tf.Tensor1D): tf.Tensor2D {
  const mean = tf.mean(x, 1, true);
  const centered = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centered), 1, true);
  const normed = tf.mul(centered, tf.rsqrt(tf.add(variance, LN_EPSILON)));
  return tf.add(tf.mul(normed, tf.add(g, 1)), b);
}

/**
 * GELU, tanh approximation (GPT-2's): 0.5·x·(1 + tanh(u)), u = √(2/π)·(x + 0.044715·x³),
 * computed as the equal x·σ(2u) because the wasm backend's Sigmoid (XNNPACK, vectorised) is about
 * 7× faster than its Tanh (scalar) on a [256, 512] activation (docs/training.md).
 */
function gelu(x: tf.Tensor2D): tf.Tensor2D {
  const cube = tf.mul(tf.mul(x, x), x);
  const twiceInner = tf.mul(tf.add(x, tf.mul(cube, 0.044715)), 2 * Math.sqrt(2 / Math.PI));
  return tf.mul(x, tf.sigmoid(twiceInner));
}

/** `x·w + b` as one plain 2-D product (no transposed operand). */
function dense(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  return tf.add(tf.matMul(x, w), b);
}

/** `[T, T]` additive causal mask: 0 on and below the diagonal, {@link MASKED_SCORE} above it. */
function causalMask(length: number): tf.Tensor2D {
  const values = new Float32Array(length * length);
  for (let i = 0; i < length; i++) {
    for (let j = i + 1; j < length; j++) values[i * length + j] = MASKED_SCORE;
  }
  return tf.tensor2d(values, [length, length]);
}

/**
 * `byte-transformer-v1`: a byte-level decoder-only transformer. Token (one-hot · table) plus
 * learned position embeddings, `layers` pre-LayerNorm blocks (causal multi-head self-attention,
 * then a GELU MLP of `mlpRatio × dModel`, each added to the residual stream), a final LayerNorm
 * and an untied output head with bias. No dropout: a step is a pure function of its inputs.
 *
 * Trained through autodiff (`tf.valueAndGrads`). The forward pass avoids transposed operands
 * (keys are transposed by an explicit `tf.transpose`) and uses one-hot products instead of
 * `gather`, whose gradient needs `UnsortedSegmentSum`, a kernel the wasm backend lacks; the
 * backward products with transposed operands are made plain by `installPlainMatMul` on wasm.
 *
 * As a {@link Model} an example is a window of `context + 1` bytes: `lossAndGradients` is the
 * mean next-byte cross-entropy over all `context` positions (the label tensor, the window's last
 * byte, is already among the targets), and `logits` gives the last position's prediction — the
 * window's last byte given the `context` before it — so classifier-style evaluation still works.
 *
 * @example
 * const model = createByteTransformer();
 * const params = initParams(model.spec, "protolearn/byte-transformer-v1/genesis");
 */
export function createByteTransformer(
  config: TransformerConfig = DEFAULT_TRANSFORMER_CONFIG,
): ByteTransformer {
  const spec = transformerSpec(config);
  const frozen = Object.freeze({ ...config });
  const { layers, dModel: d, heads, context } = frozen;
  const headSize = d / heads;

  function attention(
    x: tf.Tensor2D,
    batch: number,
    length: number,
    p: BlockParams,
    mask: tf.Tensor2D,
  ): tf.Tensor2D {
    const qkv = dense(x, p[2], p[3]);
    const [q, k, v] = tf.split(qkv, 3, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    // [b·t, d] → [b, heads, t, headSize]
    const split = (m: tf.Tensor2D): tf.Tensor4D =>
      tf.transpose(tf.reshape(m, [batch, length, heads, headSize]), [0, 2, 1, 3]);
    const keysT = tf.transpose(tf.reshape(k, [batch, length, heads, headSize]), [0, 2, 3, 1]);
    const scores = tf.add(tf.mul(tf.matMul(split(q), keysT), 1 / Math.sqrt(headSize)), mask);
    const mixed = tf.matMul(tf.softmax(scores), split(v)); // [b, heads, t, headSize]
    const merged = tf.reshape(tf.transpose(mixed, [0, 2, 1, 3]), [batch * length, d]);
    return dense(merged as tf.Tensor2D, p[4], p[5]);
  }

  /** Final hidden states → logits `[b·t, 256]` of tokens `[b, t]`. */
  function flatLogits(params: readonly tf.Tensor[], tokens: tf.Tensor2D): tf.Tensor2D {
    const [batch, length] = tokens.shape;
    if (length < 1 || length > context) {
      throw new ProtolearnError(
        `a sequence of ${length} bytes does not fit the transformer's context of ${context}`,
        { code: "MODEL_BAD_INPUT", fix: `pass 1 to ${context} bytes per row` },
      );
    }
    if (params.length !== spec.params.length) {
      throw new ProtolearnError(
        `${spec.id} takes ${spec.params.length} parameter tensors, got ${params.length}`,
        { code: "MODEL_PARAM_SHAPE", fix: `pass the tensors of ${spec.id} in spec order` },
      );
    }
    const tokenTable = params[0] as tf.Tensor2D;
    const positionTable = params[1] as tf.Tensor2D;
    const oneHot = tf.cast(
      tf.oneHot(tf.reshape(tf.cast(tokens, "int32"), [-1]) as tf.Tensor1D, BYTE_VOCABULARY),
      "float32",
    ) as tf.Tensor2D;
    const positions = tf.slice(positionTable, [0, 0], [length, d]);
    let x = tf.reshape(
      tf.add(tf.reshape(tf.matMul(oneHot, tokenTable), [batch, length, d]), positions),
      [batch * length, d],
    ) as tf.Tensor2D;
    const mask = causalMask(length);
    for (let l = 0; l < layers; l++) {
      const start = 2 + l * BLOCK_TENSORS;
      const p = params.slice(start, start + BLOCK_TENSORS) as BlockParams;
      x = tf.add(x, attention(layerNorm(x, p[0], p[1]), batch, length, p, mask));
      const h = gelu(dense(layerNorm(x, p[6], p[7]), p[8], p[9]));
      x = tf.add(x, dense(h, p[10], p[11]));
    }
    const tail = 2 + layers * BLOCK_TENSORS;
    const normed = layerNorm(x, params[tail] as tf.Tensor1D, params[tail + 1] as tf.Tensor1D);
    return dense(normed, params[tail + 2] as tf.Tensor2D, params[tail + 3] as tf.Tensor1D);
  }

  function sequenceLogits(params: readonly tf.Tensor[], tokens: tf.Tensor2D): tf.Tensor3D {
    return tf.tidy(() => {
      const [batch, length] = tokens.shape;
      return tf.reshape(flatLogits(params, tokens), [batch, length, BYTE_VOCABULARY]);
    });
  }

  function sequenceLoss(params: readonly tf.Tensor[], windows: tf.Tensor2D): tf.Scalar {
    return tf.tidy(() => {
      const { inputs, targets } = splitWindows(windows);
      const oneHotTargets = tf.cast(tf.oneHot(targets, BYTE_VOCABULARY), "float32") as tf.Tensor2D;
      return softmaxCrossEntropy(flatLogits(params, inputs), oneHotTargets);
    });
  }

  function logits(params: readonly tf.Tensor[], x: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const [batch] = x.shape;
      const inputs = tf.slice(x, [0, 0], [batch, context]);
      const all = sequenceLogits(params, inputs);
      return tf.reshape(tf.slice(all, [0, context - 1, 0], [batch, 1, BYTE_VOCABULARY]), [
        batch,
        BYTE_VOCABULARY,
      ]);
    });
  }

  function lossAndGradients(
    params: readonly tf.Tensor[],
    x: tf.Tensor2D,
    _labels: tf.Tensor1D,
  ): LossAndGradients {
    const [batch, width] = x.shape;
    const gradientsOf = (windows: tf.Tensor2D) =>
      tf.valueAndGrads((...ps: tf.Tensor[]): tf.Scalar => sequenceLoss(ps, windows))([...params]);
    if (batch <= MAX_WINDOWS_PER_PASS) {
      return tf.tidy(() => {
        const { value, grads } = gradientsOf(x);
        return { loss: value, gradients: grads };
      });
    }
    // A larger batch (a validator's 256-window validation batch) in passes of at most
    // MAX_WINDOWS_PER_PASS windows: every window has the same number of targets, so the batch
    // mean is the window-weighted mean of the passes' means. Each pass's activations are freed
    // before the next, which keeps the wasm heap under its limit.
    let loss = tf.scalar(0);
    let gradients = params.map((p) => tf.zerosLike(p));
    for (let start = 0; start < batch; start += MAX_WINDOWS_PER_PASS) {
      const size = Math.min(MAX_WINDOWS_PER_PASS, batch - start);
      const weight = size / batch;
      const next = tf.tidy(() => {
        const { value, grads } = gradientsOf(tf.slice(x, [start, 0], [size, width]));
        return {
          loss: tf.add(loss, tf.mul(value, weight)) as tf.Scalar,
          gradients: grads.map((g, i) => tf.add(gradients[i] as tf.Tensor, tf.mul(g, weight))),
        };
      });
      tf.dispose([loss, ...gradients]);
      loss = next.loss;
      gradients = next.gradients;
    }
    return { loss, gradients };
  }

  return { spec, config: frozen, logits, lossAndGradients, sequenceLogits, sequenceLoss };
}
