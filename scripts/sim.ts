/**
 * Simulates protolearn rounds in one process and compares them with dense data-parallel training.
 *
 *   npm run sim                                   # 8 nodes, the recommended run parameters
 *   npm run sim -- --nodes 8 --rounds 12 --H 100 --density 0.05 --bits 2 --seed 1
 *   npm run sim -- --json                         # one JSON object on stdout
 *
 * N trainers each run the real round engine (inner AdamW loop, pseudo-gradient, top-k + error
 * feedback + quantization) and put their update into their own Helia peer; a validator peer fetches
 * every update by CID over loopback bitswap, checks its content hash, aggregates and takes the
 * outer step. No chain. The baseline trains on the same batches with dense gradients averaged every
 * step. Progress goes to stderr, the per-round table (or JSON) to stdout. docs/simulation.md.
 */
import { parseArgs } from "node:util";

import { table, toJson } from "../node/src/cli/output.js";
import { loadMnist } from "../node/src/data/mnist.js";
import { ProtolearnError } from "../node/src/errors.js";
import { createModel } from "../node/src/model/registry.js";
import { createProgressBar } from "../node/src/round/sim/progress-bar.js";
import { parseSimFlags, SIM_MODEL_ID, simRunParams } from "../node/src/round/sim/sim-config.js";
import { simulate, type SimulationResult } from "../node/src/round/sim/simulate.js";
import { backendOptionSchema, selectBackend } from "../node/src/train/backend.js";

const USAGE =
  "usage: npm run sim -- [--nodes 8] [--rounds 12] [--H 100] [--batch 64] [--lr 0.002] [--outer-lr 1.5] [--outer-momentum 0] [--density 0.05] [--bits 2|4|8] [--aggregation trimmed-mean|median] [--trim 0.1] [--clip 2] [--seed 1] [--no-baseline] [--backend auto] [--json]";

function percent(value: number): string {
  return `${(100 * value).toFixed(2)}%`;
}

/** The human-readable report of a simulation. */
function renderSimulation(result: SimulationResult): string {
  const withBaseline = result.perRound.some((r) => r.baseline !== undefined);
  const headers = [
    "round",
    "samples",
    "acc",
    "loss",
    ...(withBaseline ? ["DDP acc", "DDP loss", "Δacc (pp)"] : []),
    "bytes/node",
    ...(withBaseline ? ["DDP bytes/node"] : []),
    "clipped",
  ];
  const rows = [
    [
      0,
      0,
      percent(result.initial.evalAccuracy),
      result.initial.evalLoss.toFixed(4),
      ...(withBaseline
        ? [percent(result.initial.evalAccuracy), result.initial.evalLoss.toFixed(4), "0.00"]
        : []),
      "-",
      ...(withBaseline ? ["-"] : []),
      "-",
    ],
    ...result.perRound.map((r) => [
      r.round,
      r.samples.toLocaleString("en-US"),
      percent(r.protocol.evalAccuracy),
      r.protocol.evalLoss.toFixed(4),
      ...(r.baseline === undefined
        ? []
        : [
            percent(r.baseline.evalAccuracy),
            r.baseline.evalLoss.toFixed(4),
            (100 * (r.protocol.evalAccuracy - r.baseline.evalAccuracy)).toFixed(2),
          ]),
      Math.round(r.protocol.bytesPerNode).toLocaleString("en-US"),
      ...(r.baseline === undefined ? [] : [r.baseline.bytesPerNode.toLocaleString("en-US")]),
      r.protocol.clipped,
    ]),
  ];
  const p = result.params;
  const b = result.bytes;
  return [
    `${result.nodes.length} nodes, ${result.rounds} rounds, H=${p.innerSteps}, batch ${p.batchSize}, inner lr ${p.innerLearningRate}, outer lr ${p.outerLearningRate} μ ${p.outerMomentum}, density ${p.density}, ${p.bits} bits, ${p.aggregation} (trim ${p.trimFraction}, clip ${p.clipMultiple}×), ${result.parameterCount.toLocaleString("en-US")} parameters`,
    "",
    table(headers, rows),
    "",
    `bytes sent: protocol ${b.protocolTotal.toLocaleString("en-US")} (${Math.round(b.protocolPerNodePerRound).toLocaleString("en-US")} per node per round); ` +
      `DDP ${b.ddpTotal.toLocaleString("en-US")} (${b.ddpPerNodePerRound.toLocaleString("en-US")} per node per round)`,
    `ratio: ${Math.round(b.ratio).toLocaleString("en-US")}× fewer bytes than DDP (${Math.round(b.ratioRingAllReduce).toLocaleString("en-US")}× against a ring all-reduce)`,
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      nodes: { type: "string" },
      rounds: { type: "string" },
      H: { type: "string" },
      batch: { type: "string" },
      lr: { type: "string" },
      "outer-lr": { type: "string" },
      "outer-momentum": { type: "string" },
      density: { type: "string" },
      bits: { type: "string" },
      aggregation: { type: "string" },
      trim: { type: "string" },
      clip: { type: "string" },
      seed: { type: "string" },
      "no-baseline": { type: "boolean", default: false },
      backend: { type: "string", default: "auto" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const { "no-baseline": noBaseline, backend, json, help: _help, ...simValues } = values;
  const flags = parseSimFlags(simValues);
  const params = simRunParams(flags);
  const selection = await selectBackend({ backend: backendOptionSchema.parse(backend) });
  process.stderr.write(`${selection.description}\n`);

  const bar = createProgressBar();
  const result = await simulate({
    model: createModel(SIM_MODEL_ID),
    dataset: await loadMnist(),
    nodes: flags.nodes,
    rounds: flags.rounds,
    params,
    seed: flags.seed,
    baseline: !noBaseline,
    onProgress: ({ completed, total, round, phase }) =>
      bar.update(completed, total, `round ${round}/${flags.rounds} ${phase}`),
  });
  bar.stop();
  if (json) {
    const { finalParams: _finalParams, ...summary } = result;
    process.stdout.write(`${toJson({ backend: selection.choice, ...summary })}\n`);
  } else {
    process.stdout.write(`${renderSimulation(result)}\n`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof ProtolearnError) console.error(`error: ${error.toDisplayString()}`);
  else console.error(error);
  if (error instanceof ProtolearnError && error.code === "ROUND_BAD_PARAMS") console.error(USAGE);
  process.exit(1);
});
