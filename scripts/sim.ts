/**
 * Simulates protolearn rounds in one process and compares them with dense data-parallel training.
 *
 *   npm run sim                                   # 8 nodes, the recommended run parameters
 *   npm run sim -- --nodes 8 --rounds 12 --H 100 --density 0.05 --bits 2 --seed 1
 *   npm run sim -- --model byte-transformer-v1   # the byte-level LM on the State of the Union corpus (8 nodes, 24 rounds)
 *   npm run sim -- --json                         # one JSON object on stdout
 *
 * N trainers each run the real round engine (inner AdamW loop, pseudo-gradient, top-k + error
 * feedback + quantization) and put their update into their own Helia peer; a validator peer fetches
 * every update by CID over loopback bitswap, checks its content hash, aggregates and takes the
 * outer step. No chain. The baseline trains on the same batches with dense gradients averaged every
 * step. Progress goes to stderr, the per-round table (or JSON) to stdout. docs/simulation.md.
 */
import { Command, CommanderError } from "commander";

import { table, toJson } from "../node/src/cli/output.js";
import { ProtolearnError } from "../node/src/errors.js";
import { createProgressBar } from "../node/src/round/sim/progress-bar.js";
import {
  parseSimFlags,
  simDdpLearningRate,
  SIM_MODEL_ID,
  SIM_MODEL_IDS,
  simRunParams,
} from "../node/src/round/sim/sim-config.js";
import { loadSimWorkload } from "../node/src/round/sim/sim-workload.js";
import {
  simulate,
  type SimEvaluation,
  type SimulationResult,
} from "../node/src/round/sim/simulate.js";
import { backendOptionSchema, selectBackend } from "../node/src/train/backend.js";

function percent(value: number): string {
  return `${(100 * value).toFixed(2)}%`;
}

/** The held-out score column(s) of one evaluation: accuracy, or bits per byte for a language model. */
function score(e: SimEvaluation, lm: boolean): string {
  return lm ? (e.bitsPerByte ?? Number.NaN).toFixed(3) : percent(e.evalAccuracy);
}

/** The human-readable report of a simulation. */
function renderSimulation(result: SimulationResult, lm: boolean, ddpLr: number): string {
  const withBaseline = result.perRound.some((r) => r.baseline !== undefined);
  const metric = lm ? "bpb" : "acc";
  const headers = [
    "round",
    "samples",
    metric,
    "loss",
    ...(withBaseline ? [`DDP ${metric}`, "DDP loss", lm ? "Δbpb (%)" : "Δacc (pp)"] : []),
    "bytes/node",
    ...(withBaseline ? ["DDP bytes/node"] : []),
    "clipped",
  ];
  const gap = (p: SimEvaluation, d: SimEvaluation): string =>
    lm
      ? (
          (100 * ((p.bitsPerByte ?? Number.NaN) - (d.bitsPerByte ?? Number.NaN))) /
          (d.bitsPerByte ?? Number.NaN)
        ).toFixed(2)
      : (100 * (p.evalAccuracy - d.evalAccuracy)).toFixed(2);
  const rows = [
    [
      0,
      0,
      score(result.initial, lm),
      result.initial.evalLoss.toFixed(4),
      ...(withBaseline
        ? [score(result.initial, lm), result.initial.evalLoss.toFixed(4), "0.00"]
        : []),
      "-",
      ...(withBaseline ? ["-"] : []),
      "-",
    ],
    ...result.perRound.map((r) => [
      r.round,
      r.samples.toLocaleString("en-US"),
      score(r.protocol, lm),
      r.protocol.evalLoss.toFixed(4),
      ...(r.baseline === undefined
        ? []
        : [score(r.baseline, lm), r.baseline.evalLoss.toFixed(4), gap(r.protocol, r.baseline)]),
      Math.round(r.protocol.bytesPerNode).toLocaleString("en-US"),
      ...(r.baseline === undefined ? [] : [r.baseline.bytesPerNode.toLocaleString("en-US")]),
      r.protocol.clipped,
    ]),
  ];
  const p = result.params;
  const b = result.bytes;
  return [
    `${result.nodes.length} nodes, ${result.rounds} rounds, H=${p.innerSteps}, batch ${p.batchSize}, inner lr ${p.innerLearningRate}${ddpLr === p.innerLearningRate ? "" : ` (DDP ${ddpLr})`}, outer lr ${p.outerLearningRate} μ ${p.outerMomentum}, density ${p.density}, ${p.bits} bits, ${p.aggregation} (trim ${p.trimFraction}, clip ${p.clipMultiple}×), ${result.parameterCount.toLocaleString("en-US")} parameters`,
    "",
    table(headers, rows),
    "",
    `bytes sent: protocol ${b.protocolTotal.toLocaleString("en-US")} (${Math.round(b.protocolPerNodePerRound).toLocaleString("en-US")} per node per round); ` +
      `DDP ${b.ddpTotal.toLocaleString("en-US")} (${b.ddpPerNodePerRound.toLocaleString("en-US")} per node per round)`,
    `ratio: ${Math.round(b.ratio).toLocaleString("en-US")}× fewer bytes than DDP (${Math.round(b.ratioRingAllReduce).toLocaleString("en-US")}× against a ring all-reduce)`,
  ].join("\n");
}

function buildProgram(): Command {
  return new Command("sim")
    .description(
      "protolearn rounds in one process (real codec, aggregation and Helia peers) against dense DDP on the same batches (docs/simulation.md)",
    )
    .option("--model <id>", `${SIM_MODEL_IDS.join(" or ")}`, SIM_MODEL_ID)
    .option("--nodes <n>", "trainers")
    .option("--rounds <n>", "rounds")
    .option("--H <steps>", "inner steps per round")
    .option("--batch <n>", "examples per inner step and node")
    .option("--lr <lr>", "inner AdamW learning rate")
    .option("--ddp-lr <lr>", "the DDP baseline's learning rate (default: the model's, else --lr)")
    .option("--outer-lr <lr>", "outer learning rate")
    .option("--outer-momentum <mu>", "outer Nesterov momentum")
    .option("--density <fraction>", "top-k density of an update")
    .option("--bits <bits>", "quantization bits: 2, 4 or 8")
    .option("--aggregation <rule>", "trimmed-mean or median")
    .option("--trim <fraction>", "trimmed-mean fraction per side")
    .option("--clip <multiple>", "norm clip, multiple of the median norm")
    .option("--seed <seed>", "simulation seed")
    .option("--no-baseline", "skip the DDP baseline")
    .option("--backend <name>", "auto, node-gpu, node, wasm, cpu or webgpu", "auto")
    .option("--json", "print one JSON object", false)
    .exitOverride();
}

async function main(): Promise<void> {
  const program = buildProgram();
  program.parse(process.argv);
  const { baseline, backend, json, outerLr, outerMomentum, ddpLr, ...rest } =
    program.opts<Record<string, string | boolean | undefined>>();
  // parseSimFlags validates every training flag (zod) and fills the model's defaults.
  const flags = parseSimFlags({
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
    ...(outerLr === undefined ? {} : { "outer-lr": outerLr }),
    ...(outerMomentum === undefined ? {} : { "outer-momentum": outerMomentum }),
    ...(ddpLr === undefined ? {} : { "ddp-lr": ddpLr }),
  });
  const params = simRunParams(flags);
  const selection = await selectBackend({ backend: backendOptionSchema.parse(backend) });
  process.stderr.write(`${selection.description}\n`);
  const work = await loadSimWorkload(flags.model);
  const lm = work.metric === "bits-per-byte";

  const bar = createProgressBar();
  const result = await simulate({
    model: work.model,
    dataset: work.dataset,
    evaluator: work.evaluate,
    nodes: flags.nodes,
    rounds: flags.rounds,
    params,
    seed: flags.seed,
    baseline: baseline !== false,
    baselineLearningRate: simDdpLearningRate(flags),
    onProgress: ({ completed, total, round, phase }) =>
      bar.update(completed, total, `round ${round}/${flags.rounds} ${phase}`),
  });
  bar.stop();
  if (json === true) {
    const { finalParams: _finalParams, ...summary } = result;
    process.stdout.write(
      `${toJson({ model: flags.model, backend: selection.choice, ...summary })}\n`,
    );
  } else {
    process.stdout.write(`${renderSimulation(result, lm, simDdpLearningRate(flags))}\n`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  if (error instanceof ProtolearnError) console.error(`error: ${error.toDisplayString()}`);
  else console.error(error);
  process.exit(1);
});
