/**
 * `npm run bench:scoring` — the scoring rule's error rates on real training (issue 11,
 * docs/validation.md "Error rates"): honest MNIST trainers run the round engine with the run's
 * default parameters (H = 100, top-5 % 2-bit, error feedback) from the genesis model, and every
 * honest update and four rewrites of it (norm-noise, noise, sign-flip ×10, scale ×10) are scored
 * as a committee member scores them, with a fresh challenge per round.
 *
 *   npm run bench:scoring                          # 8 trainers × 63 rounds = 504 honest updates
 *   npm run bench:scoring -- --trainers 8 --rounds 10 --json
 *
 * Per kind: updates scored 0 (slashed when the scorers agree: for honest updates the
 * false-positive rate), 1 ppm (not accepted, not slashed), accepted; the verdicts; the sign
 * test's z (min / median / max).
 */
import { parseArgs } from "node:util";

import { table } from "../node/src/cli/output.js";
import { measureScoringRates } from "../node/src/redteam/scoring-rates.js";
import { createProgressBar } from "../node/src/round/sim/progress-bar.js";
import { parseSimFlags, simRunParams } from "../node/src/round/sim/sim-config.js";
import { loadSimWorkload } from "../node/src/round/sim/sim-workload.js";
import { selectBackend } from "../node/src/train/backend.js";

const { values: flags } = parseArgs({
  options: {
    trainers: { type: "string", default: "8" },
    rounds: { type: "string", default: "63" },
    seed: { type: "string", default: "1" },
    json: { type: "boolean", default: false },
  },
});

async function main(): Promise<void> {
  const trainers = Number(flags.trainers);
  const rounds = Number(flags.rounds);
  if (!Number.isInteger(trainers) || trainers < 1 || !Number.isInteger(rounds) || rounds < 1) {
    throw new Error("--trainers and --rounds take positive integers (e.g. --trainers 8 --rounds 63)");
  }
  await selectBackend();
  const work = await loadSimWorkload("mnist-mlp-v1");
  const params = simRunParams(parseSimFlags({}));
  const bar = createProgressBar();
  const started = Date.now();
  const { rates, samples } = await measureScoringRates({
    model: work.model,
    dataset: work.dataset,
    params,
    trainers,
    rounds,
    seed: flags.seed ?? "1",
    onUpdate: (done, total) => bar.update(done, total, "trained and scored"),
  });
  bar.stop();
  const seconds = Math.round((Date.now() - started) / 1000);
  if (flags.json) {
    process.stdout.write(JSON.stringify({ settings: { trainers, rounds, seed: flags.seed, seconds }, rates, samples }, null, 2) + "\n");
    return;
  }
  const pct = (part: number, whole: number): string => `${part} (${((100 * part) / whole).toFixed(2)} %)`;
  process.stdout.write(
    [
      "",
      `scoring error rates — mnist-mlp-v1, ${trainers} trainers × ${rounds} rounds, H = ${params.innerSteps}, top-${100 * params.density} % ${params.bits}-bit (${seconds} s)`,
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
    ].join("\n"),
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
