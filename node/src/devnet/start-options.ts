import { z } from "zod";
import { DEFAULT_RUN_PARAMS, LM_RUN_PARAMS } from "../../../ignition/modules/defaults.js";
import { ADVERSARY_STRATEGIES } from "../daemon/adversary.js";
import { ProtolearnError } from "../errors.js";

/**
 * The options of `npm start` (scripts/start.ts), the main job: which model the local network
 * trains and how it is set up. Flags arrive as strings from the command line and are validated
 * here, each bad one named with its fix.
 */

/** The models `npm start --model` runs: MNIST (the default main job) or the byte-level LM. */
export const START_MODELS = ["mnist-mlp-v1", "byte-transformer-v1"] as const;
/** One of {@link START_MODELS}. */
export type StartModel = (typeof START_MODELS)[number];

/** What differs between the models' main jobs. */
export interface StartProfile {
  /** Run #1's parameters (the phases' durations are set by {@link devnetParameters}). */
  runParams: typeof DEFAULT_RUN_PARAMS;
  /** H the mid-run governance proposal sets when `--new-h` is not given. */
  newH: number;
  /**
   * Length of each phase in chain time. The conductor warps past a phase once every node has
   * acted, but a local chain's clock also runs with the wall clock, so a phase must outlast the
   * slowest node's work in it (the score phase: a validator's scoring).
   */
  phaseSeconds: number;
  /**
   * How long the devnet conductor waits for every node to act in a phase before it moves on
   * (and for the keeper to settle a round): only a crashed node should ever hit it.
   */
  patienceMs: number;
}

/** Each model's main job. */
export const START_PROFILES: Readonly<Record<StartModel, StartProfile>> = {
  "mnist-mlp-v1": { runParams: DEFAULT_RUN_PARAMS, newH: 50, phaseSeconds: 600, patienceMs: 90_000 },
  // A language-model validator scores each update on two batches of the model's 32 windows
  // (validationBatchSize: a gradient and 4 to 8 forward passes of 4,096 bytes, about 5-8 s an
  // update on one wasm core; 40-60 s at the earlier 256), so the phases and the patience are
  // longer. H 16 → 32 mid-run: twice the inner steps per round.
  "byte-transformer-v1": { runParams: LM_RUN_PARAMS, newH: 32, phaseSeconds: 7_200, patienceMs: 3_600_000 },
};

/** Ignition parameters of the devnet the main job deploys for `model`: long phases (the conductor warps past them), short governance. */
export function devnetParameters(model: StartModel) {
  const { runParams, phaseSeconds } = START_PROFILES[model];
  return {
    runParams: {
      ...runParams,
      commitDuration: phaseSeconds,
      revealDuration: phaseSeconds,
      scoreDuration: phaseSeconds,
      voteRevealDuration: phaseSeconds,
    },
    timelockDelay: 60n,
    votingDelay: 1n,
    votingPeriod: 10n,
  };
}

const int = z.coerce.number().int();
/** hardhat node funds 20 dev keys; key 0 deploys (node/src/devnet/start-devnet.ts). */
const MAX_NODES = 19;

/** The flags of `npm start`, as strings (or booleans) from `parseArgs`. */
const startFlagsSchema = z
  .object({
    model: z.enum(START_MODELS).default("mnist-mlp-v1"),
    rounds: int.min(1).max(10_000).default(10),
    trainers: int.min(1).max(MAX_NODES).default(4),
    validators: int.min(1).max(MAX_NODES).default(2),
    adversary: z.enum(ADVERSARY_STRATEGIES).default("sign-flip"),
    factor: z.coerce.number().positive().max(1e6).default(10),
    port: int.min(1).max(65_535).default(8545),
    out: z.string().min(1).default(".protolearn/devnet"),
    "new-h": int.min(1).max(0xffff_ffff).optional(),
    keep: z.boolean().default(false),
  })
  .refine((f) => f.trainers + f.validators <= MAX_NODES, {
    message: `trainers + validators must be at most ${MAX_NODES} (the dev keys hardhat node funds)`,
    path: ["trainers"],
  });

/** The validated options of `npm start`. */
export interface StartOptions {
  model: StartModel;
  rounds: number;
  trainers: number;
  validators: number;
  /** `none` runs every trainer honestly. */
  adversary: (typeof ADVERSARY_STRATEGIES)[number];
  factor: number;
  port: number;
  out: string;
  /** H after the mid-run governance proposal (the model's {@link StartProfile.newH} by default). */
  newH: number;
  keep: boolean;
}

const FIXES: Record<string, string> = {
  model: `pass --model ${START_MODELS.join(" or --model ")}`,
  rounds: "pass --rounds as a whole number of at least 1",
  trainers: `pass --trainers and --validators as whole numbers of at least 1, together at most ${MAX_NODES}`,
  validators: `pass --trainers and --validators as whole numbers of at least 1, together at most ${MAX_NODES}`,
  adversary: `pass --adversary ${ADVERSARY_STRATEGIES.join("|")}`,
  factor: "pass --factor as a positive number (the adversary's multiple of its honest update)",
  port: "pass --port as a free TCP port (1 to 65535)",
  out: "pass --out as a folder for the logs and the report",
  "new-h": "pass --new-h as a whole number of inner steps of at least 1",
};

/**
 * Validates `npm start`'s flags and fills in the defaults (the model's own `--new-h`).
 *
 * @example
 * const { values } = parseArgs({ options: { model: { type: "string" }, ... } });
 * const options = parseStartOptions(values); // MNIST, 10 rounds, 4 trainers, 2 validators
 */
export function parseStartOptions(flags: Record<string, unknown>): StartOptions {
  const parsed = startFlagsSchema.safeParse(flags);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue?.path[0] ?? "");
    throw new ProtolearnError(`npm start: --${name} ${JSON.stringify(flags[name])} is not valid: ${issue?.message ?? "invalid"}`, {
      code: "START_BAD_FLAG",
      fix: FIXES[name] ?? "see the flags in scripts/start.ts",
    });
  }
  const f = parsed.data;
  return {
    model: f.model,
    rounds: f.rounds,
    trainers: f.trainers,
    validators: f.validators,
    adversary: f.adversary,
    factor: f.factor,
    port: f.port,
    out: f.out,
    newH: f["new-h"] ?? START_PROFILES[f.model].newH,
    keep: f.keep,
  };
}
