import { z } from "zod";

import { AGGREGATION_METHODS, type AggregationMethod } from "../../aggregate/index.js";
import { modelIdFromName } from "../../codec/index.js";
import { RoundError } from "../round-error.js";
import {
  parseRoundRunParams,
  ROUND_PROTOCOL_CONSTANTS,
  type RoundRunParams,
} from "../round-params.js";

/** The models the simulation and the communication benchmark can run, each with its dataset. */
export const SIM_MODEL_IDS = ["mnist-mlp-v1", "byte-transformer-v1"] as const;
/** One of {@link SIM_MODEL_IDS}. */
export type SimModelId = (typeof SIM_MODEL_IDS)[number];

/** The model and data a simulation uses when no `--model` is given. */
export const SIM_MODEL_ID: SimModelId = "mnist-mlp-v1";

/** The defaults of one model's simulation: the run parameters recommended for it. */
export interface SimDefaults {
  readonly nodes: number;
  readonly rounds: number;
  readonly innerSteps: number;
  readonly batchSize: number;
  readonly innerLearningRate: number;
  /** The DDP baseline's learning rate; `undefined`: the same as `innerLearningRate`. */
  readonly ddpLearningRate: number | undefined;
  readonly outerLearningRate: number;
  readonly outerMomentum: number;
  readonly density: number;
  readonly bits: 2 | 4 | 8;
  readonly aggregation: AggregationMethod;
  readonly trimFraction: number;
  readonly clipMultiple: number;
  readonly seed: string;
}

/**
 * The defaults of `npm run sim` and the centre of the `bench:comm` sweep for `mnist-mlp-v1`: the
 * values this project recommends for run #1 (docs/simulation.md shows the measurements behind
 * them).
 */
export const SIM_DEFAULTS = {
  nodes: 8,
  rounds: 12,
  innerSteps: 100,
  batchSize: 64,
  innerLearningRate: 0.002,
  ddpLearningRate: undefined,
  outerLearningRate: 1.5,
  outerMomentum: 0,
  density: 0.05,
  bits: 2,
  aggregation: "trimmed-mean",
  trimFraction: 0.1,
  clipMultiple: 2,
  seed: "1",
} as const satisfies SimDefaults;

/**
 * The defaults for `byte-transformer-v1` on the State of the Union corpus (batch = windows of 129
 * bytes per node and step), chosen from the measured sweeps of docs/simulation.md ("A language
 * model"): H, density and bits from `npm run bench:comm -- --model byte-transformer-v1 --rounds 4
 * --sweep`, the learning rates from runs at 64 and 256 steps, and `rounds` (the default length of
 * `bench:comm` and `sim`) from the rounds sweep: 24 rounds met the target at 4 and 8 nodes in
 * every run measured.
 */
export const LM_SIM_DEFAULTS = {
  nodes: 8,
  rounds: 24,
  innerSteps: 16,
  batchSize: 2,
  innerLearningRate: 0.003,
  ddpLearningRate: 0.01,
  outerLearningRate: 1.5,
  outerMomentum: 0,
  density: 0.007,
  bits: 2,
  aggregation: "trimmed-mean",
  trimFraction: 0.1,
  clipMultiple: 2,
  seed: "1",
} as const satisfies SimDefaults;

/** Each simulated model's defaults. */
export const SIM_DEFAULTS_BY_MODEL: Readonly<Record<SimModelId, SimDefaults>> = {
  "mnist-mlp-v1": SIM_DEFAULTS,
  "byte-transformer-v1": LM_SIM_DEFAULTS,
};

const numberFlag = z.coerce.number().finite();
const intFlag = z.coerce.number().int();

/** The flag schema with one model's defaults (flags arrive as strings from the command line). */
function flagsSchema(model: SimModelId) {
  const d = SIM_DEFAULTS_BY_MODEL[model];
  return z.object({
    model: z.literal(model).default(model),
    nodes: intFlag.min(1).max(64).default(d.nodes),
    rounds: intFlag.min(1).default(d.rounds),
    H: intFlag.min(1).default(d.innerSteps),
    batch: intFlag.min(1).default(d.batchSize),
    lr: numberFlag.positive().default(d.innerLearningRate),
    "ddp-lr":
      d.ddpLearningRate === undefined
        ? numberFlag.positive().optional()
        : numberFlag.positive().default(d.ddpLearningRate),
    "outer-lr": numberFlag.positive().default(d.outerLearningRate),
    "outer-momentum": numberFlag.min(0).lt(1).default(d.outerMomentum),
    density: numberFlag.gt(0).max(1).default(d.density),
    bits: intFlag
      .refine((b): b is 2 | 4 | 8 => b === 2 || b === 4 || b === 8, "must be 2, 4 or 8")
      .default(d.bits),
    aggregation: z.enum(AGGREGATION_METHODS).default(d.aggregation),
    trim: numberFlag.min(0).lt(0.5).default(d.trimFraction),
    clip: numberFlag.positive().default(d.clipMultiple),
    seed: z.string().min(1).default(d.seed),
  });
}

/** Simulation flags of `mnist-mlp-v1` (strings or numbers), validated and converted. */
export const simFlagsSchema = flagsSchema("mnist-mlp-v1");
/** Validated simulation flags; `model` says which defaults filled the missing ones. */
export type SimFlags = Omit<z.output<typeof simFlagsSchema>, "model" | "bits"> & {
  model: SimModelId;
  bits: 2 | 4 | 8;
};

const modelFlagSchema = z.enum(SIM_MODEL_IDS).default(SIM_MODEL_ID);

function badFlags(issues: z.ZodIssue[]): RoundError {
  return new RoundError(
    `invalid flags: ${issues.map((i) => `--${i.path.join(".")} ${i.message}`).join("; ")}`,
    {
      code: "ROUND_BAD_PARAMS",
      fix: "see the script's --help (and docs/simulation.md)",
    },
  );
}

/**
 * Validates raw flags (`model` picks the defaults of the others: {@link SIM_DEFAULTS_BY_MODEL});
 * throws ROUND_BAD_PARAMS naming every bad flag.
 *
 * @example
 * parseSimFlags({ model: "byte-transformer-v1", nodes: "4" }); // the LM defaults, 4 nodes
 */
export function parseSimFlags(raw: Record<string, unknown>): SimFlags {
  const model = modelFlagSchema.safeParse(raw.model);
  if (!model.success) throw badFlags(model.error.issues.map((i) => ({ ...i, path: ["model"] })));
  const parsed = flagsSchema(model.data).safeParse({ ...raw, model: model.data });
  if (!parsed.success) throw badFlags(parsed.error.issues);
  return parsed.data as SimFlags;
}

/** The DDP baseline's learning rate under these flags: `--ddp-lr`, else the inner `--lr`. */
export function simDdpLearningRate(flags: SimFlags): number {
  return flags["ddp-lr"] ?? flags.lr;
}

/** The run parameters a set of simulation flags describes (its model, protocol constants). */
export function simRunParams(flags: SimFlags): RoundRunParams {
  return parseRoundRunParams({
    modelId: modelIdFromName(flags.model),
    innerSteps: flags.H,
    batchSize: flags.batch,
    innerLearningRate: flags.lr,
    outerLearningRate: flags["outer-lr"],
    outerMomentum: flags["outer-momentum"],
    density: flags.density,
    bits: flags.bits,
    aggregation: flags.aggregation,
    trimFraction: flags.trim,
    clipMultiple: flags.clip,
    ...ROUND_PROTOCOL_CONSTANTS,
  });
}
