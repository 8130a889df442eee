/** Which part of a dataset: the training examples (sharded across nodes) or the held-out split. */
export type Split = "train" | "eval";

/** A batch in the layout the models take: `x` is `[size, inputSize]` row-major, `y` holds class indices. */
export interface Batch {
  size: number;
  x: Float32Array;
  y: Int32Array;
}

/**
 * A classification dataset with a fixed train / held-out split. Examples are addressed by index
 * within a split, so a batch is fully described by its indices and any node can rebuild it.
 */
export interface Dataset {
  /** Stable id of the data and its split rule, e.g. `mnist-v1`; nodes of one run must agree on it. */
  readonly id: string;
  /** Shape of one example's features, e.g. `[784]`; a batch's `x` holds `size × product(exampleShape)` values. */
  readonly exampleShape: readonly number[];
  /** Number of classes; labels are integers in `[0, numClasses)`. */
  readonly numClasses: number;
  /** Number of examples in each split. */
  readonly size: Readonly<Record<Split, number>>;
  /** Builds the batch of the given example indices (each in `[0, size[split])`), in that order. */
  batch(split: Split, indices: readonly number[]): Batch;
}

/** Features per example: the product of `exampleShape`. */
export function exampleSize(dataset: Pick<Dataset, "exampleShape">): number {
  let n = 1;
  for (const d of dataset.exampleShape) n *= d;
  return n;
}

/** Indices `[start, start + count)` clipped to the split, for sequential passes such as evaluation. */
export function rangeIndices(start: number, count: number, splitSize: number): number[] {
  const end = Math.min(start + count, splitSize);
  const out: number[] = [];
  for (let i = start; i < end; i++) out.push(i);
  return out;
}
