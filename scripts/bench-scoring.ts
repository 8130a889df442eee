/**
 * `npm run bench:scoring` — the scoring rule's error rates on real training (issue 11,
 * docs/validation.md "Error rates"): honest trainers run the round engine with the model's
 * simulation defaults (mnist-mlp-v1: H = 100, top-5 % 2-bit; byte-transformer-v1: H = 16 steps
 * of 2 windows, top-0.7 % 2-bit; error feedback) from the genesis model, and every honest update
 * and four rewrites of it (norm-noise, noise, sign-flip ×10, scale ×10) are scored as a committee
 * member scores them — on the model's validation batch size (validationBatchSize), with a fresh
 * challenge per round.
 *
 *   npm run bench:scoring                          # mnist-mlp-v1, 8 trainers × 63 rounds = 504 honest updates
 *   npm run bench:scoring -- --trainers 8 --rounds 10 --json
 *   npm run bench:scoring -- --model byte-transformer-v1 --trainers 4 --rounds 4 --sizes 16,64
 *
 * Per kind: updates scored 0 (slashed when the scorers agree: for honest updates the
 * false-positive rate), 1 ppm (not accepted, not slashed), accepted; the verdicts; the sign
 * test's z (min / median / max). `--sizes a,b`: each honest update is also scored at those
 * validation batch sizes (a measurement: validators use the model's), with the time per update.
 */
import { parseArgs } from "node:util";

import { table } from "../node/src/cli/output.js";
import { measureScoringRates } from "../node/src/redteam/scoring-rates.js";
import { createProgressBar } from "../node/src/round/sim/progress-bar.js";
import { parseSimFlags, SIM_MODEL_IDS, simRunParams, type SimModelId } from "../node/src/round/sim/sim-config.js";
import { loadSimWorkload } from "../node/src/round/sim/sim-workload.js";
import { selectBackend } from "../node/src/train/backend.js";

const { values: flags } = parseArgs({
  options: {
    model: { type: "string", default: "mnist-mlp-v1" },
    trainers: { type: "string" },
    rounds: { type: "string" },
    sizes: { type: "string", default: "" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});

/** Trainers × rounds when not given: MNIST as measured in docs/validation.md; the LM's scoring is ~100× dearer. */
const DEFAULT_SIZE: Readonly<Record<SimModelId, { trainers: number; rounds: number }>> = {
  "mnist-mlp-v1": { trainers: 8, rounds: 63 },
  "byte-transformer-v1": { trainers: 4, rounds: 4 },
};

async function main(): Promise<void> {
  const model = flags.model as SimModelId;
  if (!SIM_MODEL_IDS.includes(model)) throw new Error(`--model takes one of ${SIM_MODEL_IDS.join(", ")}, not ${JSON.stringify(flags.model)}`);
  const trainers = Number(flags.trainers ?? DEFAULT_SIZE[model].trainers);
  const rounds = Number(flags.rounds ?? DEFAULT_SIZE[model].rounds);
  if (!Number.isInteger(trainers) || trainers < 1 || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error("--trainers and --rounds take positive integers (e.g. --trainers 8 --rounds 63)");
  }
  const sizes = (flags.sizes ?? "").split(",").filter((v) => v.trim() !== "").map(Number);
  if (sizes.some((v) => !Number.isInteger(v) || v < 1)) throw new Error(`--sizes takes positive integers separated by commas (e.g. --sizes 16,64), not ${JSON.stringify(flags.sizes)}`);
  await selectBackend();
  const work = await loadSimWorkload(model);
  const params = simRunParams(parseSimFlags({ model }));
  const bar = createProgressBar();
  const started = Date.now();
  const { rates, samples, bySize, batchSize } = await measureScoringRates({
    model: work.model,
    dataset: work.dataset,
    params,
    trainers,
    rounds,
    sizes,
    seed: flags.seed ?? "1",
    onUpdate: (done, total) => bar.update(done, total, "trained and scored"),
  });
  bar.stop();
  const seconds = Math.round((Date.now() - started) / 1000);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ settings: { model, trainers, rounds, seed: flags.seed, seconds, batchSize, sizes }, rates, bySize, samples }, null, 2) + "\n");
    return;
  }
  const pct = (part: number, whole: number): string => `${part} (${((100 * part) / whole).toFixed(2)} %)`;
  process.stdout.write(
    [
      "",
      `scoring error rates — ${model}, ${trainers} trainers × ${rounds} rounds, H = ${params.innerSteps}, top-${+(100 * params.density).toFixed(3)} % ${params.bits}-bit, validation batches of ${batchSize} (${seconds} s)`,
      "",
      table(
        ["update", "n", "scored 0 (slashable)", "1 ppm (unhelpful)", "accepted", "helpful / unhelpful / not-descent / oversized / harmful", "z min / median / max"],
        rates.map((r) => [
          r.kind,
          r.updates,
          pct(r.zero, r.updates),
          pct(r.unhelpful, r.updates),
          pct(r.accepted, r.updates),
          `${r.verdicts.helpful} / ${r.verdicts.unhelpful} / ${r.verdicts["not-descent"]} / ${r.verdicts.oversized} / ${r.verdicts.harmful}`,
          `${r.zMin.toFixed(1)} / ${r.zMedian.toFixed(1)} / ${r.zMax.toFixed(1)}`,
        ]),
      ),
      "",
      "honest 'scored 0' is the false-positive rate of the slash; for the others 'scored 0' is the detection rate.",
      "",
      "honest updates by validation batch size (* the model's, what validators use); ms per update with / without a reference norm:",
      "",
      table(
        ["batch", "n", "scored 0", "1 ppm", "accepted", "z min / median / max", "ms (ref)", "ms (no ref, round 1)"],
        bySize.map((r) => [
          `${r.batchSize}${r.model ? " *" : ""}`,
          r.updates,
          r.zero,
          r.unhelpful,
          r.accepted,
          `${r.zMin.toFixed(1)} / ${r.zMedian.toFixed(1)} / ${r.zMax.toFixed(1)}`,
          Number.isNaN(r.msWithReference) ? "-" : Math.round(r.msWithReference),
          Number.isNaN(r.msWithoutReference) ? "-" : Math.round(r.msWithoutReference),
        ]),
      ),
      "",
    ].join("\n"),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
