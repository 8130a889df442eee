import type { Hex } from "viem";
import { z } from "zod";

import { AGGREGATION_METHODS, type AggregationMethod } from "../aggregate/index.js";
import {
  DEFAULT_CHUNK_SIZE,
  MAX_CHUNK_SIZE,
  SUPPORTED_BITS,
  topKCount,
  type DecodeExpectation,
  type QuantizationBits,
} from "../codec/index.js";
import { FIXED_HEADER_BYTES } from "../codec/constants.js";
import { DEFAULT_NUM_SHARDS } from "../data/shard.js";
import { parameterCount, type ModelSpec } from "../model/spec.js";
import { adamWOptionsSchema } from "../train/adamw.js";
import { RoundError } from "./round-error.js";

/**
 * The run parameters a node needs to train, compress and aggregate one round, in natural units
 * (fractions, not ppm). `roundParamsFromChain` builds it from the on-chain `RunParams`; the
 * simulation builds it from flags. Everything here that changes `θ_{r+1}` must be identical on
 * every node, so it is either read from the chain or a fixed protocol constant.
 */
export interface RoundRunParams {
  /** keccak256 of the model's id string (`modelIdFromName("mnist-mlp-v1")`). */
  readonly modelId: Hex;
  /** H: AdamW steps per round. */
  readonly innerSteps: number;
  /** Examples per inner step. */
  readonly batchSize: number;
  /** AdamW learning rate of the inner loop. */
  readonly innerLearningRate: number;
  /** Nesterov learning rate of the outer step (DiLoCo: 0.7). */
  readonly outerLearningRate: number;
  /** Nesterov momentum of the outer step (DiLoCo: 0.9). */
  readonly outerMomentum: number;
  /** Fraction of coordinates an update transmits (top-k). */
  readonly density: number;
  /** Quantization width of transmitted values. */
  readonly bits: QuantizationBits;
  /** Coordinate-wise aggregation rule. */
  readonly aggregation: AggregationMethod;
  /** Fraction trimmed from each end of every coordinate by the trimmed mean, in [0, 0.5). */
  readonly trimFraction: number;
  /** Updates above this multiple of the median norm are scaled down to it. */
  readonly clipMultiple: number;
  /**
   * Shards the training split is cut into. Protocol constant (not in the on-chain RunParams).
   * @default DEFAULT_NUM_SHARDS (8)
   */
  readonly numShards: number;
  /**
   * Transmitted values per quantization scale. Protocol constant (not in the on-chain RunParams).
   * @default DEFAULT_CHUNK_SIZE (256)
   */
  readonly chunkSize: number;
  /**
   * AdamW decoupled weight decay of the inner loop. Protocol constant (not on chain).
   * @default 0.01
   */
  readonly weightDecay: number;
}

const positiveInt = z.number().int().positive().max(0xffff_ffff);
/** Validates a {@link RoundRunParams} built by hand (flags, config); one message per rule. */
export const roundRunParamsSchema = z.object({
  modelId: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be 32 bytes of 0x-prefixed hex"),
  innerSteps: positiveInt,
  batchSize: positiveInt,
  innerLearningRate: z.number().positive().finite(),
  outerLearningRate: z.number().positive().finite(),
  outerMomentum: z.number().min(0).lt(1),
  density: z.number().gt(0).max(1),
  bits: z.union([z.literal(2), z.literal(4), z.literal(8)]),
  aggregation: z.enum(AGGREGATION_METHODS),
  trimFraction: z.number().min(0).lt(0.5),
  clipMultiple: z.number().positive().finite(),
  numShards: positiveInt,
  chunkSize: z.number().int().min(1).max(MAX_CHUNK_SIZE),
  weightDecay: z.number().min(0).finite(),
});

/** The protocol constants of {@link RoundRunParams} that the chain does not carry. */
export const ROUND_PROTOCOL_CONSTANTS = {
  numShards: DEFAULT_NUM_SHARDS,
  chunkSize: DEFAULT_CHUNK_SIZE,
  weightDecay: adamWOptionsSchema.parse({}).weightDecay,
} as const;

/**
 * Checks hand-built parameters and returns them typed; throws ROUND_BAD_PARAMS naming every
 * broken rule.
 */
export function parseRoundRunParams(input: unknown): RoundRunParams {
  const parsed = roundRunParamsSchema.safeParse(input);
  if (!parsed.success) throw badParams("round parameters", parsed.error);
  return { ...parsed.data, modelId: parsed.data.modelId.toLowerCase() as Hex };
}

/** An unsigned on-chain integer as viem (number or bigint) or ethers (bigint) returns it. */
function uint(bits: number): z.ZodType<number, z.ZodTypeDef, number | bigint> {
  const max = (1n << BigInt(bits)) - 1n;
  return z
    .union([z.number().int().nonnegative(), z.bigint()])
    .refine((v) => BigInt(v) >= 0n && BigInt(v) <= max, `must be a uint${bits}`)
    .transform((v) => Number(v));
}

const PPM = 1_000_000;

/**
 * The training fields of the on-chain `ITrainingRun.RunParams` (contracts/run/ITrainingRun.sol),
 * as a chain client returns them; the protocol fields (deadlines, stakes, slashes) are ignored.
 */
export const onChainRunParamsSchema = z.object({
  modelId: z.string().regex(/^0x[0-9a-fA-F]{64}$/, "must be a bytes32"),
  innerSteps: uint(32).refine((v) => v >= 1, "must be at least 1"),
  batchSize: uint(32).refine((v) => v >= 1, "must be at least 1"),
  innerLrPpm: uint(32).refine((v) => v >= 1, "must be at least 1 ppm"),
  outerLrPpm: uint(32).refine((v) => v >= 1, "must be at least 1 ppm"),
  outerMomentumPpm: uint(32).refine((v) => v < PPM, "must be below 1,000,000 ppm"),
  densityPpm: uint(32).refine((v) => v >= 1 && v <= PPM, "must be in [1, 1,000,000] ppm"),
  quantBits: uint(8).refine(
    (v) => (SUPPORTED_BITS as readonly number[]).includes(v),
    `must be one of ${SUPPORTED_BITS.join(", ")}`,
  ),
  aggregation: uint(8).refine(
    (v) => v < AGGREGATION_METHODS.length,
    "must be 0 (trimmed mean) or 1 (median)",
  ),
  trimPpm: uint(32).refine((v) => v < PPM / 2, "must be below 500,000 ppm"),
  clipMultiplePpm: uint(32).refine((v) => v >= 1, "must be at least 1 ppm"),
});
/** What {@link roundParamsFromChain} accepts. */
export type OnChainRunParams = z.input<typeof onChainRunParamsSchema>;

/**
 * Converts the on-chain `RunParams` struct (ppm fixed point) to {@link RoundRunParams}.
 * Each ppm value becomes `value / 1e6`, one correctly rounded division, so every node gets the
 * same double (`700000 ppm` is exactly the literal `0.7`). The aggregation enum maps 0 →
 * `trimmed-mean`, 1 → `median`. Fields the chain does not carry take
 * {@link ROUND_PROTOCOL_CONSTANTS}.
 *
 * @example
 * const raw = await client.readContract({ address: run, abi, functionName: "params" });
 * const params = roundParamsFromChain(raw);
 */
export function roundParamsFromChain(raw: unknown): RoundRunParams {
  const parsed = onChainRunParamsSchema.safeParse(raw);
  if (!parsed.success) throw badParams("the on-chain RunParams", parsed.error);
  const p = parsed.data;
  return {
    modelId: p.modelId.toLowerCase() as Hex,
    innerSteps: p.innerSteps,
    batchSize: p.batchSize,
    innerLearningRate: p.innerLrPpm / PPM,
    outerLearningRate: p.outerLrPpm / PPM,
    outerMomentum: p.outerMomentumPpm / PPM,
    density: p.densityPpm / PPM,
    bits: p.quantBits as QuantizationBits,
    aggregation: AGGREGATION_METHODS[p.aggregation] as AggregationMethod,
    trimFraction: p.trimPpm / PPM,
    clipMultiple: p.clipMultiplePpm / PPM,
    ...ROUND_PROTOCOL_CONSTANTS,
  };
}

/**
 * The inverse of {@link roundParamsFromChain} for the training fields: ppm integers (rounded
 * to the nearest ppm), e.g. to print a governance proposal for parameters tuned in the
 * simulation.
 */
export function roundParamsToChain(
  params: RoundRunParams,
): z.output<typeof onChainRunParamsSchema> {
  const ppm = (v: number): number => Math.round(v * PPM);
  return {
    modelId: params.modelId,
    innerSteps: params.innerSteps,
    batchSize: params.batchSize,
    innerLrPpm: ppm(params.innerLearningRate),
    outerLrPpm: ppm(params.outerLearningRate),
    outerMomentumPpm: ppm(params.outerMomentum),
    densityPpm: ppm(params.density),
    quantBits: params.bits,
    aggregation: AGGREGATION_METHODS.indexOf(params.aggregation),
    trimPpm: ppm(params.trimFraction),
    clipMultiplePpm: ppm(params.clipMultiple),
  };
}

/**
 * The largest encoded update an honest node can produce for this model and these parameters:
 * the header with the model's shapes, k = topKCount(n, density) values, one scale per chunk, a
 * worst-case 5-byte varint per index and the packed codes. Receivers pass it to `get` and
 * `decodeUpdate` as the size cap, so an oversize blob is refused before it is buffered.
 */
export function maxUpdateBytes(spec: ModelSpec, params: RoundRunParams): number {
  let header = FIXED_HEADER_BYTES;
  for (const p of spec.params) header += 1 + 4 * p.shape.length;
  const k = topKCount(parameterCount(spec), params.density);
  return (
    header + 4 + 4 * Math.ceil(k / params.chunkSize) + 5 * k + Math.ceil((k * params.bits) / 8)
  );
}

/**
 * The run's rules for one round's updates, as the codec enforces them: the run's model id and
 * the model's shapes, the size cap {@link maxUpdateBytes}, the run's bits and chunk size, at most
 * the run's density, and the round (omitted: any round, for audits). The one conversion from run
 * parameters to decode rules; the trainer's own check, every validator, model sync and the audit
 * all decode under it.
 *
 * @example
 * const update = decodeUpdate(bytes, roundDecodeRules(model.spec, params, round));
 */
export function roundDecodeRules(
  spec: ModelSpec,
  params: RoundRunParams,
  round?: number,
): DecodeExpectation {
  return {
    modelId: params.modelId,
    shapes: spec.params.map((p) => p.shape),
    maxBytes: maxUpdateBytes(spec, params),
    ...(round === undefined ? {} : { round }),
    params: { bits: params.bits, chunkSize: params.chunkSize, maxDensity: params.density },
  };
}

function badParams(what: string, error: z.ZodError): RoundError {
  return new RoundError(
    `${what} are invalid: ${error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    {
      code: "ROUND_BAD_PARAMS",
      fix: "use values inside the bounds of contracts/run/RunParamsLib.sol (docs/run-contract.md), which the contract enforces on setParams",
    },
  );
}
