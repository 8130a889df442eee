import { z } from "zod";

import { AGGREGATION_METHODS } from "../../aggregate/index.js";
import { modelIdFromName } from "../../codec/index.js";
import { RoundError } from "../round-error.js";
import {
  parseRoundRunParams,
  ROUND_PROTOCOL_CONSTANTS,
  type RoundRunParams,
} from "../round-params.js";

/** The model and data every simulation and benchmark uses. */
export const SIM_MODEL_ID = "mnist-mlp-v1";

/**
 * The defaults of `npm run sim` and the centre of the `bench:comm` sweep: the values this
 * project recommends for run #1 (docs/simulation.md shows the measurements behind them).
 */
export const SIM_DEFAULTS = {
  nodes: 8,
  rounds: 12,
  innerSteps: 100,
  batchSize: 64,
  innerLearningRate: 0.002,
  outerLearningRate: 1.5,
  outerMomentum: 0,
  density: 0.05,
  bits: 2,
  aggregation: "trimmed-mean",
  trimFraction: 0.1,
  clipMultiple: 2,
  seed: "1",
} as const;

const numberFlag = z.coerce.number().finite();
const intFlag = z.coerce.number().int();

/** Simulation flags as `node:util` parseArgs returns them (strings), validated and converted. */
export const simFlagsSchema = z.object({
  nodes: intFlag.min(1).max(64).default(SIM_DEFAULTS.nodes),
  rounds: intFlag.min(1).default(SIM_DEFAULTS.rounds),
  H: intFlag.min(1).default(SIM_DEFAULTS.innerSteps),
  batch: intFlag.min(1).default(SIM_DEFAULTS.batchSize),
  lr: numberFlag.positive().default(SIM_DEFAULTS.innerLearningRate),
  "outer-lr": numberFlag.positive().default(SIM_DEFAULTS.outerLearningRate),
  "outer-momentum": numberFlag.min(0).lt(1).default(SIM_DEFAULTS.outerMomentum),
  density: numberFlag.gt(0).max(1).default(SIM_DEFAULTS.density),
  bits: intFlag
    .refine((b) => b === 2 || b === 4 || b === 8, "must be 2, 4 or 8")
    .default(SIM_DEFAULTS.bits),
  aggregation: z.enum(AGGREGATION_METHODS).default(SIM_DEFAULTS.aggregation),
  trim: numberFlag.min(0).lt(0.5).default(SIM_DEFAULTS.trimFraction),
  clip: numberFlag.positive().default(SIM_DEFAULTS.clipMultiple),
  seed: z.string().min(1).default(SIM_DEFAULTS.seed),
});
export type SimFlags = z.output<typeof simFlagsSchema>;

/** Validates raw flags; throws ROUND_BAD_PARAMS naming every bad flag. */
export function parseSimFlags(raw: Record<string, unknown>): SimFlags {
  const parsed = simFlagsSchema.safeParse(raw);
  if (!parsed.success) {
    throw new RoundError(
      `invalid flags: ${parsed.error.issues.map((i) => `--${i.path.join(".")} ${i.message}`).join("; ")}`,
      {
        code: "ROUND_BAD_PARAMS",
        fix: "see the usage line of the script (and docs/simulation.md)",
      },
    );
  }
  return parsed.data;
}

/** The run parameters a set of simulation flags describes (the MNIST MLP, protocol constants). */
export function simRunParams(flags: SimFlags): RoundRunParams {
  return parseRoundRunParams({
    modelId: modelIdFromName(SIM_MODEL_ID),
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
