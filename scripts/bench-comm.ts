/**
 * Communication benchmark: bytes the protocol sends versus dense data-parallel training (DDP),
 * and the accuracy each reaches after the same samples, for the recommended run parameters and a
 * one-at-a-time sweep around them.
 *
 *   npm run bench:comm                      # tables on stdout, progress on stderr
 *   npm run bench:comm -- --json            # one JSON object on stdout
 *   npm run bench:comm -- --no-sweep        # the recommended configuration only
 *   npm run bench:comm -- --save out.json   # tables on stdout and the JSON object into a file
 *
 * Every configuration is a full simulation (scripts/sim.ts, node/src/round/sim/simulate.ts):
 * 8 nodes, real codec, aggregation and Helia/bitswap transport. The sweep varies H (rounds scaled
 * so that every run consumes the same samples), density and bits, one at a time. DDP bytes are
 * `H × P × 4` per node per round (one dense float32 gradient per step; docs/simulation.md) and
 * the DDP run is trained on exactly the protocol run's batches. Target (issue #3): ≥ 5,000× fewer
 * bytes with final accuracy within 0.5 percentage points of DDP.
 */
import { writeFile } from "node:fs/promises";
import os from "node:os";
import { parseArgs } from "node:util";

import { table, toJson } from "../node/src/cli/output.js";
import { loadMnist } from "../node/src/data/mnist.js";
import { ProtolearnError } from "../node/src/errors.js";
import { createModel } from "../node/src/model/registry.js";
import { roundParamsToChain } from "../node/src/round/index.js";
import { createProgressBar } from "../node/src/round/sim/progress-bar.js";
import {
  parseSimFlags,
  SIM_MODEL_ID,
  simRunParams,
  type SimFlags,
} from "../node/src/round/sim/sim-config.js";
import {
  simulate,
  simulateBaseline,
  type BaselineResult,
  type SimulationResult,
} from "../node/src/round/sim/simulate.js";
import { backendOptionSchema, selectBackend } from "../node/src/train/backend.js";

/** The target. */
const TARGET = { ratio: 5_000, accuracyGapPp: 0.5 } as const;

/** One measured configuration. */
interface Measurement {
  label: string;
  nodes: number;
  rounds: number;
  H: number;
  density: number;
  bits: number;
  samples: number;
  bytesPerNodePerRound: number;
  bytesPerNodeTotal: number[];
  bytesTotal: number;
  ddpBytesPerNodePerRound: number;
  ddpBytesTotal: number;
  ratio: number;
  ratioRingAllReduce: number;
  finalAccuracy: number;
  ddpFinalAccuracy: number;
  /** (protocol − DDP) final accuracy in percentage points; negative = protocol behind. */
  gapPp: number;
  /** Mean accuracy over the last three rounds, both runs (less sensitive to eval noise). */
  last3Accuracy: number;
  ddpLast3Accuracy: number;
  finalEvalLoss: number;
  ddpFinalEvalLoss: number;
  meetsTarget: boolean;
  accuracyByRound: number[];
  ddpAccuracyByRound: number[];
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function measure(
  label: string,
  flags: SimFlags,
  sim: SimulationResult,
  ddp: BaselineResult,
): Measurement {
  const last = sim.perRound.at(-1);
  const ddpLast = ddp.perRound.at(-1);
  if (last === undefined || ddpLast === undefined) throw new Error("a simulation without rounds");
  const gapPp = 100 * (last.protocol.evalAccuracy - ddpLast.evalAccuracy);
  return {
    label,
    nodes: flags.nodes,
    rounds: flags.rounds,
    H: flags.H,
    density: flags.density,
    bits: flags.bits,
    samples: last.samples,
    bytesPerNodePerRound: sim.bytes.protocolPerNodePerRound,
    bytesPerNodeTotal: sim.bytes.protocolTotalByNode,
    bytesTotal: sim.bytes.protocolTotal,
    ddpBytesPerNodePerRound: sim.bytes.ddpPerNodePerRound,
    ddpBytesTotal: sim.bytes.ddpTotal,
    ratio: sim.bytes.ratio,
    ratioRingAllReduce: sim.bytes.ratioRingAllReduce,
    finalAccuracy: last.protocol.evalAccuracy,
    ddpFinalAccuracy: ddpLast.evalAccuracy,
    gapPp,
    last3Accuracy: mean(sim.perRound.slice(-3).map((r) => r.protocol.evalAccuracy)),
    ddpLast3Accuracy: mean(ddp.perRound.slice(-3).map((r) => r.evalAccuracy)),
    finalEvalLoss: last.protocol.evalLoss,
    ddpFinalEvalLoss: ddpLast.evalLoss,
    meetsTarget: sim.bytes.ratio >= TARGET.ratio && gapPp >= -TARGET.accuracyGapPp,
    accuracyByRound: sim.perRound.map((r) => r.protocol.evalAccuracy),
    ddpAccuracyByRound: ddp.perRound.map((r) => r.evalAccuracy),
  };
}

/** The one-at-a-time sweep around `base`: H (same samples), density, bits. */
function sweepConfigs(base: SimFlags): { label: string; flags: SimFlags }[] {
  const configs: { label: string; flags: SimFlags }[] = [];
  const samplesRounds = base.rounds * base.H;
  for (const H of [base.H / 2, base.H * 2]) {
    if (!Number.isInteger(H) || samplesRounds % H !== 0) continue;
    configs.push({ label: `H=${H}`, flags: { ...base, H, rounds: samplesRounds / H } });
  }
  for (const density of [base.density / 2, base.density * 2]) {
    if (density <= 1) configs.push({ label: `density=${density}`, flags: { ...base, density } });
  }
  for (const bits of [8, 4, 2] as const) {
    if (bits !== base.bits) configs.push({ label: `bits=${bits}`, flags: { ...base, bits } });
  }
  return configs;
}

const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
const int = (v: number): string => Math.round(v).toLocaleString("en-US");

function render(defaults: Measurement, sweep: Measurement[], seconds: number): string {
  const headline = table(
    ["", "protocol", "DDP (dense fp32)"],
    [
      [
        "bytes per node per round",
        int(defaults.bytesPerNodePerRound),
        int(defaults.ddpBytesPerNodePerRound),
      ],
      [
        "bytes per node, whole run",
        int(mean(defaults.bytesPerNodeTotal)),
        int(defaults.ddpBytesTotal / defaults.nodes),
      ],
      ["bytes, all nodes, whole run", int(defaults.bytesTotal), int(defaults.ddpBytesTotal)],
      ["final accuracy", pct(defaults.finalAccuracy), pct(defaults.ddpFinalAccuracy)],
      ["mean accuracy, last 3 rounds", pct(defaults.last3Accuracy), pct(defaults.ddpLast3Accuracy)],
      ["final eval loss", defaults.finalEvalLoss.toFixed(4), defaults.ddpFinalEvalLoss.toFixed(4)],
    ],
  );
  const rows = [defaults, ...sweep].map((m) => [
    m.label,
    m.rounds,
    m.H,
    m.density,
    m.bits,
    int(m.samples),
    int(m.bytesPerNodePerRound),
    `${int(m.ratio)}×`,
    pct(m.finalAccuracy),
    pct(m.ddpFinalAccuracy),
    m.gapPp.toFixed(2),
    pct(m.last3Accuracy),
    pct(m.ddpLast3Accuracy),
    m.meetsTarget ? "yes" : "no",
  ]);
  return [
    `recommended configuration (${defaults.nodes} nodes, ${defaults.rounds} rounds, H=${defaults.H}, density ${defaults.density}, ${defaults.bits} bits, ${int(defaults.samples)} samples):`,
    "",
    headline,
    "",
    `ratio: ${int(defaults.ratio)}× fewer bytes than DDP (${int(defaults.ratioRingAllReduce)}× against a ring all-reduce); accuracy gap ${defaults.gapPp.toFixed(2)} pp; target (≥ ${int(TARGET.ratio)}×, within ${TARGET.accuracyGapPp} pp): ${defaults.meetsTarget ? "met" : "NOT met"}`,
    "",
    ...(sweep.length === 0
      ? []
      : [
          "sweep (one parameter at a time; H runs keep the samples equal):",
          "",
          table(
            [
              "config",
              "rounds",
              "H",
              "density",
              "bits",
              "samples",
              "bytes/node/round",
              "vs DDP",
              "acc",
              "DDP acc",
              "gap pp",
              "acc last3",
              "DDP last3",
              "target",
            ],
            rows,
          ),
          "",
        ]),
    `${int(seconds)} s wall time`,
  ].join("\n");
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: "boolean", default: false },
      "no-sweep": { type: "boolean", default: false },
      save: { type: "string" },
      rounds: { type: "string" },
      nodes: { type: "string" },
      seed: { type: "string" },
      backend: { type: "string", default: "auto" },
    },
  });
  const base = parseSimFlags({
    ...(values.rounds === undefined ? {} : { rounds: values.rounds }),
    ...(values.nodes === undefined ? {} : { nodes: values.nodes }),
    ...(values.seed === undefined ? {} : { seed: values.seed }),
  });
  const backend = await selectBackend({ backend: backendOptionSchema.parse(values.backend) });
  process.stderr.write(`${backend.description}\n`);
  const model = createModel(SIM_MODEL_ID);
  const dataset = await loadMnist();
  const configs = [
    { label: "recommended", flags: base },
    ...(values["no-sweep"] ? [] : sweepConfigs(base)),
  ];
  const bar = createProgressBar();
  const started = performance.now();
  const baselines = new Map<string, BaselineResult>();
  const measurements: Measurement[] = [];
  for (const [i, { label, flags }] of configs.entries()) {
    const params = simRunParams(flags);
    const common = {
      model,
      dataset,
      nodes: flags.nodes,
      rounds: flags.rounds,
      params,
      seed: flags.seed,
    };
    const tag = `${i + 1}/${configs.length} ${label}`;
    // DDP depends on the batches and the optimizer, not on the compression settings.
    const key = JSON.stringify([
      flags.nodes,
      flags.rounds,
      flags.H,
      flags.batch,
      flags.lr,
      flags.seed,
    ]);
    let ddp = baselines.get(key);
    if (ddp === undefined) {
      ddp = await simulateBaseline({
        ...common,
        onProgress: ({ completed, total, round }) =>
          bar.update(completed, total, `${tag}: DDP round ${round}`),
      });
      bar.stop();
      baselines.set(key, ddp);
    }
    const sim = await simulate({
      ...common,
      baseline: false,
      onProgress: ({ completed, total, round, phase }) =>
        bar.update(completed, total, `${tag}: round ${round}/${flags.rounds} ${phase}`),
    });
    bar.stop();
    measurements.push(measure(label, flags, sim, ddp));
  }
  const seconds = (performance.now() - started) / 1000;
  const [defaults, ...sweep] = measurements as [Measurement, ...Measurement[]];
  const report = {
    benchmark: "comm",
    model: SIM_MODEL_ID,
    backend: backend.choice,
    cpus: os.cpus().length,
    target: TARGET,
    flags: base,
    recommendedRunParams: roundParamsToChain(simRunParams(base)),
    ddpAccounting: "H × P × 4 bytes per node per round (one dense float32 gradient per step)",
    recommended: defaults,
    sweep,
    seconds,
  };
  if (values.save !== undefined) await writeFile(values.save, `${toJson(report)}\n`);
  process.stdout.write(
    values.json ? `${toJson(report)}\n` : `${render(defaults, sweep, seconds)}\n`,
  );
}

main().catch((error: unknown) => {
  if (error instanceof ProtolearnError) console.error(`error: ${error.toDisplayString()}`);
  else console.error(error);
  process.exit(1);
});
