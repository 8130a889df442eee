/**
 * `npm run redteam` — the adversarial suite (issue 11): for each adversary class, a fresh local
 * network built the way `npm start` builds one (hardhat node, real IPFS peers, node processes;
 * the adversarial trainers run `--adversary <class>`, a testing-only flag), plus one all-honest
 * network on the same dev keys; then one table, a row per class, from the chain's records.
 *
 *   npm run redteam -- --scenario soak --rounds 50          # all honest, a random fault every round
 *   npm run redteam -- [--json] [--scenario sign-flip,norm-noise] [--rounds 10] [--trainers 8]
 *                      [--validators 3] [--adversary-share 0.25] [--factor 10] [--port 8645]
 *                      [--out .protolearn/redteam] [--no-baseline]
 *
 * Scenarios run one after another (each network is stopped before the next starts). --json
 * prints the rows and the per-scenario records as JSON instead of the table; either way the
 * JSON is written to <out>/redteam.json.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ADVERSARY_STRATEGIES } from "../node/src/daemon/adversary.js";
import { createLogger } from "../node/src/observe/logger.js";
import { formatRedteamTable, redteamRow, runScenario, SOAK_SCENARIO, type ScenarioRecord } from "../node/src/redteam/index.js";

const CLASSES = ADVERSARY_STRATEGIES.filter((s) => s !== "none");

const { values: flags } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    scenario: { type: "string", default: CLASSES.join(",") },
    rounds: { type: "string", default: "10" },
    trainers: { type: "string", default: "8" },
    validators: { type: "string", default: "3" },
    "adversary-share": { type: "string", default: "0.25" },
    factor: { type: "string", default: "10" },
    port: { type: "string", default: "8645" },
    out: { type: "string", default: ".protolearn/redteam" },
    "no-baseline": { type: "boolean", default: false },
  },
});

async function main(): Promise<void> {
  const scenarios = (flags.scenario ?? "").split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  for (const s of scenarios) {
    if (!(CLASSES as readonly string[]).includes(s) && s !== SOAK_SCENARIO) {
      throw new Error(`--scenario ${s} is neither an adversary class (${CLASSES.join(", ")}) nor ${SOAK_SCENARIO}`);
    }
  }
  const out = resolve(flags.out ?? ".protolearn/redteam");
  await mkdir(out, { recursive: true });
  const logger = createLogger({ level: "warn" }, "redteam");
  const common = {
    factor: Number(flags.factor),
    trainers: Number(flags.trainers),
    validators: Number(flags.validators),
    adversaryShare: Number(flags["adversary-share"]),
    rounds: Number(flags.rounds),
    port: Number(flags.port),
    logger,
  };
  const run = async (adversary: string): Promise<ScenarioRecord> => {
    process.stderr.write(`redteam: ${adversary === "none" ? "all-honest baseline" : adversary}: ${common.trainers} trainers, ${common.validators} validators, ${common.rounds} rounds…\n`);
    const record = await runScenario({ ...common, adversary, outDir: join(out, adversary) });
    process.stderr.write(`redteam: ${adversary} done in ${record.elapsedSeconds} s\n`);
    return record;
  };
  // the soak is its own all-honest network under faults: no baseline row needed
  const onlySoak = scenarios.every((s) => s === SOAK_SCENARIO);
  const baseline = flags["no-baseline"] || onlySoak ? undefined : await run("none");
  const records: ScenarioRecord[] = [];
  for (const adversary of scenarios) records.push(await run(adversary));
  const rows = [...(baseline ? [redteamRow(baseline, baseline)] : []), ...records.map((r) => redteamRow(r, baseline))];
  const json = JSON.stringify({ settings: { ...common, logger: undefined }, rows, records: baseline ? [baseline, ...records] : records }, null, 2);
  await writeFile(join(out, "redteam.json"), json + "\n");
  if (flags.json) process.stdout.write(json + "\n");
  else {
    process.stdout.write(
      [
        "",
        `protolearn red team — ${common.trainers} trainers (${Math.round(100 * common.adversaryShare)} % adversarial), ${common.validators} validators, ${common.rounds} rounds per network`,
        "",
        formatRedteamTable(rows),
        "",
        ...records.flatMap((r) =>
          r.soak === undefined
            ? []
            : [
                `soak: ${r.rounds} rounds, faults ${["kill", "reorg", "outage", "none"].map((k) => `${k} ${r.soak!.faults.filter((f) => f.kind === k).length}`).join(", ")};`,
                `  double commits ${r.soak.checks.doubleCommits}, honest slashes ${r.soak.checks.honestSlashes}, lost rewards ${r.soak.checks.lostRewards}, votes off the agreed hash ${r.soak.checks.hashDisagreements}, nodes stopped on a diverged model ${r.soak.modelDiverged}; agreed ${r.soak.checks.agreedRounds}/${r.soak.checks.settledRounds} settled rounds`,
                "",
              ],
        ),
        "(detected as: per committed adversarial update, duplicate (a validator logged it as a near-copy) > slashed (InvalidUpdate) > rejected (not accepted, not slashed) > not detected (accepted);",
        " reward: mean per adversarial trainer as % of the honest trainers' mean; accuracy / loss: of the last attested model, all-honest run in parentheses;",
        " honest rejected: honest updates not accepted / committed; honest slashed: honest trainers slashed for any reason)",
        `JSON: ${join(out, "redteam.json")}`,
        "",
      ].join("\n"),
    );
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
