import { isAddressEqual, type Hex } from "viem";

import { AggregationError } from "./aggregation-error.js";
import {
  AGGREGATION_METHODS,
  DEFAULT_AGGREGATION_METHOD,
  DEFAULT_CLIP_MULTIPLE,
  DEFAULT_TRIM_FRACTION,
  type AggregationMethod,
} from "./constants.js";
import { updateNorm } from "./update-norm.js";

/** One accepted node's decoded update. */
export interface NodeUpdate {
  /** The node's address (any case; compared lowercased). */
  readonly address: Hex;
  /** Its dense pseudo-gradient, as `toDense(decodeUpdate(...))` returns it. */
  readonly update: Float32Array;
  /** Samples it declared in its reveal; reported, not used as a weight (see docs/aggregation.md). */
  readonly samples?: number;
}

/** How to aggregate; the run's parameters. */
export interface AggregateOptions {
  /**
   * Updates with a norm above `clipMultiple × median norm` are scaled down to that norm.
   * @default 2
   */
  readonly clipMultiple?: number;
  /**
   * Coordinate-wise rule applied after clipping.
   * @default "trimmed-mean"
   */
  readonly method?: AggregationMethod;
  /**
   * For the trimmed mean: max(floor(trimFraction × m), 1) values are dropped from each end of
   * every coordinate when m ≥ 3 and trimFraction > 0 (see {@link trimCount}); 0 is the plain
   * mean. In [0, 0.5).
   * @default 0.2
   */
  readonly trimFraction?: number;
}

/** What happened to one node's update. */
export interface AggregatedNode {
  /** Lowercased address. */
  readonly address: Hex;
  /** ‖update‖₂ before clipping. */
  readonly norm: number;
  /** Factor the update was multiplied by: 1, or clipThreshold / norm. */
  readonly clipFactor: number;
  readonly samples: number | undefined;
}

/** Aggregation's output: the new pseudo-gradient and how it was computed. */
export interface AggregateResult {
  /** The aggregated pseudo-gradient, bit-identical on every machine for the same inputs. */
  readonly delta: Float32Array;
  /** Nodes in the order they were combined (ascending address). */
  readonly nodes: readonly AggregatedNode[];
  readonly medianNorm: number;
  /** clipMultiple × medianNorm. */
  readonly clipThreshold: number;
  readonly method: AggregationMethod;
  /** Values dropped from each end of every coordinate (0 for the median). */
  readonly trimmedPerSide: number;
}

/**
 * Combines the accepted updates of a round into one pseudo-gradient, robustly and
 * deterministically: sort by node address, clip each update's norm to `clipMultiple × median
 * norm`, then take the coordinate-wise trimmed mean (or median). All arithmetic is float64 in a
 * fixed order over plain typed arrays; the result is rounded once to float32. The same set of
 * updates in any order gives a bit-identical result (docs/aggregation.md).
 *
 * @example
 * const { delta } = aggregateUpdates(
 *   accepted.map(({ node, bytes }) => ({ address: node, update: toDense(decodeUpdate(bytes, expected)) })),
 *   { clipMultiple: 2, method: "trimmed-mean", trimFraction: 0.2 },
 * );
 */
export function aggregateUpdates(
  inputs: readonly NodeUpdate[],
  options: AggregateOptions = {},
): AggregateResult {
  const { clipMultiple, method, trimFraction } = checkOptions(options);
  const sorted = checkInputs(inputs);
  const m = sorted.length;
  const n = sorted[0]!.update.length;

  const norms = sorted.map(({ update }) => updateNorm(update));
  const medianNorm = medianOfSorted(Float64Array.from(norms).sort());
  const clipThreshold = clipMultiple * medianNorm;
  const factors = norms.map((norm) => (norm > clipThreshold ? clipThreshold / norm : 1));

  const trimmedPerSide = method === "median" ? 0 : trimCount(trimFraction, m);
  const updates = sorted.map(({ update }) => update);
  const column = new Float64Array(m);
  const delta = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) column[j] = updates[j]![i]! * factors[j]!;
    insertionSort(column);
    let value: number;
    if (method === "median") {
      value = medianOfSorted(column);
    } else {
      let sum = 0;
      for (let j = trimmedPerSide; j < m - trimmedPerSide; j++) sum += column[j]!;
      value = sum / (m - 2 * trimmedPerSide);
    }
    // One rounding to float32; `+ 0` turns -0 into +0 so the bytes never depend on signed zeros.
    delta[i] = Math.fround(value) + 0;
  }

  return {
    delta,
    nodes: sorted.map(({ address, samples }, j) => ({
      address,
      norm: norms[j]!,
      clipFactor: factors[j]!,
      samples,
    })),
    medianNorm,
    clipThreshold,
    method,
    trimmedPerSide,
  };
}

/**
 * Values the trimmed mean drops from each end of every coordinate: ⌊trimFraction · m⌋, but at
 * least one once m ≥ 3 (and trimFraction > 0). Without the floor a 10 % trim drops nothing below
 * m = 10, and one update that passes scoring enters the mean in full at the sizes runs have.
 * trimFraction 0 is the plain mean at every m (an explicit opt-out); m ≤ 2 cannot trim.
 */
export function trimCount(trimFraction: number, m: number): number {
  if (!(trimFraction > 0) || m < 3) return 0;
  return Math.max(Math.floor(trimFraction * m), 1);
}

/** Median of an ascending array: the middle value, or the mean of the two middle values. */
function medianOfSorted(values: Float64Array): number {
  const middle = values.length >> 1;
  return values.length % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
}

/** Ascending, stable; m is the number of accepted updates (bounded by maxNodesPerRound). */
function insertionSort(values: Float64Array): void {
  for (let i = 1; i < values.length; i++) {
    const value = values[i]!;
    let j = i - 1;
    while (j >= 0 && values[j]! > value) {
      values[j + 1] = values[j]!;
      j--;
    }
    values[j + 1] = value;
  }
}

function checkOptions(options: AggregateOptions): Required<AggregateOptions> {
  const clipMultiple = options.clipMultiple ?? DEFAULT_CLIP_MULTIPLE;
  const method = options.method ?? DEFAULT_AGGREGATION_METHOD;
  const trimFraction = options.trimFraction ?? DEFAULT_TRIM_FRACTION;
  const bad = (message: string, fix: string): AggregationError =>
    new AggregationError(message, { code: "AGGREGATE_BAD_OPTIONS", fix });
  if (!(clipMultiple > 0) || !Number.isFinite(clipMultiple)) {
    throw bad(
      `clipMultiple is ${clipMultiple}`,
      "use a positive multiple of the median norm, e.g. 2",
    );
  }
  if (!(AGGREGATION_METHODS as readonly string[]).includes(method)) {
    throw bad(
      `method is ${JSON.stringify(method)}`,
      `use one of ${AGGREGATION_METHODS.join(", ")}`,
    );
  }
  if (!(trimFraction >= 0 && trimFraction < 0.5)) {
    throw bad(`trimFraction is ${trimFraction}`, "use a fraction in [0, 0.5), e.g. 0.2");
  }
  return { clipMultiple, method, trimFraction };
}

function checkInputs(inputs: readonly NodeUpdate[]): Array<NodeUpdate & { address: Hex }> {
  if (inputs.length === 0) {
    throw new AggregationError("there are no updates to aggregate", {
      code: "AGGREGATE_NO_UPDATES",
      fix: "a round with fewer than minUpdates accepted updates keeps the model unchanged; do not call aggregateUpdates for it",
    });
  }
  const sorted = inputs
    .map((input) => {
      if (!/^0x[0-9a-fA-F]{40}$/.test(input.address)) {
        throw new AggregationError(`${JSON.stringify(input.address)} is not a node address`, {
          code: "AGGREGATE_BAD_ADDRESS",
          fix: "pass the 20-byte 0x-prefixed address each update was revealed by",
        });
      }
      return { ...input, address: input.address.toLowerCase() as Hex };
    })
    .sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  const length = sorted[0]!.update.length;
  for (const [j, { address, update }] of sorted.entries()) {
    if (j > 0 && isAddressEqual(address, sorted[j - 1]!.address)) {
      throw new AggregationError(`node ${address} has two updates`, {
        code: "AGGREGATE_DUPLICATE_NODE",
        fix: "pass each accepted node's update once (one commit per node per round)",
      });
    }
    if (update.length !== length) {
      throw new AggregationError(
        `the update of ${address} has ${update.length} values, another has ${length}`,
        {
          code: "AGGREGATE_LENGTH_MISMATCH",
          fix: "decode every update against the same model shapes before aggregating",
        },
      );
    }
    const bad = update.findIndex((value) => !Number.isFinite(value));
    if (bad >= 0) {
      throw new AggregationError(`the update of ${address} is ${update[bad]} at index ${bad}`, {
        code: "AGGREGATE_NON_FINITE",
        fix: "aggregate decoded updates only (decodeUpdate never yields non-finite values)",
      });
    }
  }
  return sorted;
}
