import { strict as assert } from "node:assert";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { createLogger } from "../../node/src/observe/logger.js";
import { MetricsRegistry } from "../../node/src/observe/metrics.js";
import {
  formatRoundTimingTable,
  readRoundTimings,
  RoundTimer,
  roundTimingSchema,
  summarizeRoundTimings,
  timedBlobStore,
  trainingTimer,
  type RoundTiming,
} from "../../node/src/observe/round-timing.js";
import type { BlobStore } from "../../node/src/storage/index.js";

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1_000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

describe("logger (pino)", () => {
  it("writes one JSON object per line with level, time, component, event and fields", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "json", write: (l) => lines.push(l), now: () => new Date(0) }, "protolearn", { node: "0xabc" });
    log.child("trainer", { round: 3 }).info("committed", { gasUsed: 41234n, cid: "bafy", nested: { wei: 10n ** 18n }, error: new Error("boom"), bytes: new Uint8Array(4) });
    assert.equal(lines.length, 1);
    assert.ok(!(lines[0] as string).includes("\n"));
    assert.deepEqual(JSON.parse(lines[0] as string), {
      time: "1970-01-01T00:00:00.000Z",
      level: "info",
      component: "protolearn:trainer",
      node: "0xabc",
      event: "committed",
      round: 3,
      gasUsed: "41234",
      cid: "bafy",
      nested: { wei: "1000000000000000000" },
      error: { name: "Error", message: "boom" },
      bytes: "<4 bytes>",
    });
  });

  it("drops records below the level, nests child components and lets a call's fields win", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", format: "json", write: (l) => lines.push(l) });
    const child = log.child("validator", { round: 1 }).child("fetch");
    child.debug("hidden");
    child.info("hidden");
    child.warn("slow peer", { round: 2 });
    child.error("failed");
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      records.map((r) => [r.level, r.component, r.event, r.round]),
      [
        ["warn", "protolearn:validator:fetch", "slow peer", 2],
        ["error", "protolearn:validator:fetch", "failed", 1],
      ],
    );
    assert.equal(Object.keys(JSON.parse(lines[0] as string) as object).filter((k) => k === "round").length, 1);
  });

  it("prints readable single lines through pino-pretty", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "info", format: "pretty", write: (l) => lines.push(l), now: () => new Date(0) });
    log.debug("hidden");
    log.child("keeper").warn("stake low", { need: "10 LEARN", wei: 5n });
    assert.equal(lines.length, 1);
    assert.match(lines[0] as string, /^\d\d:\d\d:\d\d WARN: \[protolearn:keeper\] stake low need="10 LEARN" wei=5$/);
  });
});

describe("metrics (prom-client)", () => {
  it("keeps each node's metrics in its own registry and serves the Prometheus text format", async () => {
    const a = new MetricsRegistry();
    const b = new MetricsRegistry({ defaultMetrics: false });
    a.set("protolearn_round", "Current round", 4, { run: "1" });
    b.set("protolearn_round", "Current round", 7, { run: "1" });
    a.inc("protolearn_bytes_sent_total", "Bytes put on IPFS", 1000);
    a.inc("protolearn_bytes_sent_total", "Bytes put on IPFS", 24);
    a.inc("protolearn_gas_used_total", "Gas", 21000, { action: "commit" });
    assert.equal(await a.get("protolearn_bytes_sent_total"), 1024);
    assert.equal(await a.get("protolearn_round", { run: "1" }), 4);
    assert.equal(await b.get("protolearn_round", { run: "1" }), 7);
    assert.equal(await a.get("protolearn_missing"), undefined);
    assert.throws(() => a.inc("protolearn_bytes_sent_total", "x", -1), /cannot decrease/);

    const server = await a.serve("127.0.0.1", 0);
    try {
      const response = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
      const body = await response.text();
      assert.match(body, /# TYPE protolearn_round gauge\nprotolearn_round\{run="1"\} 4\n/);
      assert.match(body, /protolearn_bytes_sent_total 1024\n/);
      assert.match(body, /protolearn_gas_used_total\{action="commit"\} 21000\n/);
      for (const name of [
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "nodejs_eventloop_lag_seconds",
        "protolearn_round_phase_seconds",
        "protolearn_train_step_seconds",
        "protolearn_update_fetch_seconds",
        "protolearn_update_verify_seconds",
        "protolearn_round_part_seconds",
        "protolearn_round_wall_seconds",
      ]) {
        assert.match(body, new RegExp(`^# TYPE ${name} `, "m"), `${name} is served`);
      }
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
    } finally {
      await server.close();
    }
    const other = await b.render();
    assert.doesNotMatch(other, /process_cpu_seconds_total/);
    assert.match(other, /protolearn_round\{run="1"\} 7/);
  });

  it("counts histogram observations", async () => {
    const metrics = new MetricsRegistry({ defaultMetrics: false });
    const count = async (name: string, labels = ""): Promise<number> => {
      const match = new RegExp(`^${name}_count${labels.replace(/[{}]/g, "\\$&")} (\\d+)$`, "m").exec(await metrics.render());
      return Number(match?.[1] ?? 0);
    };
    assert.equal(await count("protolearn_train_step_seconds"), 0);
    metrics.trainStepSeconds.observe(0.01);
    metrics.trainStepSeconds.observe(0.02);
    metrics.updateFetchSeconds.observe(0.3);
    metrics.updateVerifySeconds.observe(0.001);
    metrics.roundPhaseSeconds.observe({ phase: "commit" }, 12);
    assert.equal(await count("protolearn_train_step_seconds"), 2);
    assert.equal(await count("protolearn_update_fetch_seconds"), 1);
    assert.equal(await count("protolearn_update_verify_seconds"), 1);
    assert.equal(await count("protolearn_round_phase_seconds", '{phase="commit"}'), 1);
  });
});

describe("round timing", () => {
  it("charges nested and concurrent work to the innermost part; the rest is waiting", async () => {
    const clock = manualClock();
    const records: RoundTiming[] = [];
    const lines: string[] = [];
    const metrics = new MetricsRegistry({ defaultMetrics: false });
    const timer = new RoundTimer({
      now: clock.now,
      metrics,
      logger: createLogger({ format: "json", write: (l) => lines.push(l) }),
      onRound: (r) => records.push(r),
    });
    clock.advance(500); // before the first tick: not charged to any round
    assert.equal(timer.tick(1, "commit"), undefined);
    clock.advance(100); // waiting

    // Training then encoding, through the step callback.
    const training = trainingTimer(timer, metrics, clock.now);
    clock.advance(300);
    training.onStep(1, 2);
    clock.advance(300);
    training.onStep(2, 2);
    clock.advance(50);
    training.end();

    // A put, then a chain transaction in two parts.
    await timer.measure("ipfsPut", async () => {
      clock.advance(20);
      await Promise.resolve();
    });
    const endSend = timer.begin("chainSend");
    clock.advance(15);
    endSend();
    endSend(); // idempotent
    timer.measure("chainConfirm", () => clock.advance(200));
    timer.tick(1, "reveal");
    clock.advance(1000); // waiting for the score phase
    timer.tick(1, "score");

    // Scoring with two overlapping gets inside: 10 ms scoring, 40 ms of gets (union), 5 ms scoring.
    const endScoring = timer.begin("scoring");
    clock.advance(10);
    const endGetA = timer.begin("ipfsGet");
    clock.advance(20);
    const endGetB = timer.begin("ipfsGet");
    clock.advance(10);
    endGetA();
    clock.advance(10);
    endGetB();
    clock.advance(5);
    endScoring();
    assert.throws(() => timer.measure("aggregation", () => {
      clock.advance(7);
      throw new Error("fails");
    }), /fails/);

    // A part running across the round boundary is split between the rounds.
    const endLate = timer.begin("aggregation");
    clock.advance(3);
    const finished = timer.tick(2, "commit");
    clock.advance(30);
    endLate();

    const expected: RoundTiming = {
      round: 1,
      wallMs: 100 + 650 + 20 + 15 + 200 + 1000 + 55 + 7 + 3,
      parts: { training: 600, encoding: 50, ipfsPut: 20, ipfsGet: 40, chainSend: 15, chainConfirm: 200, scoring: 15, aggregation: 10, waiting: 1100 },
    };
    assert.deepEqual(finished, expected);
    assert.deepEqual(records, [expected]);
    assert.deepEqual(roundTimingSchema.parse(JSON.parse(lines[0] as string)), { event: "round timing", ...expected });
    assert.equal((JSON.parse(lines[0] as string) as { event: string }).event, "round timing");

    clock.advance(70);
    const partial = timer.finish();
    assert.deepEqual(partial, {
      round: 2,
      wallMs: 100,
      parts: { training: 0, encoding: 0, ipfsPut: 0, ipfsGet: 0, chainSend: 0, chainConfirm: 0, scoring: 0, aggregation: 30, waiting: 70 },
      partial: true,
    });

    const body = await metrics.render();
    assert.match(body, /protolearn_round_part_seconds_count\{part="training"\} 2\n/);
    assert.match(body, /protolearn_round_part_seconds_sum\{part="chainConfirm"\} 0\.2\n/);
    assert.match(body, /protolearn_round_wall_seconds_count 2\n/);
    assert.match(body, /protolearn_train_step_seconds_count 2\n/);
    // commit (first seen, partial) is not observed; reveal lasted 1000 ms; score 65 ms.
    assert.match(body, /protolearn_round_phase_seconds_sum\{phase="reveal"\} 1\n/);
    assert.doesNotMatch(body, /phase="commit"/);
  });

  it("times a blob store's puts and gets", async () => {
    const clock = manualClock();
    const timer = new RoundTimer({ now: clock.now });
    const metrics = new MetricsRegistry({ defaultMetrics: false });
    const inner: BlobStore = {
      start: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      put: () => {
        clock.advance(5);
        return Promise.resolve("bafy");
      },
      get: () => {
        clock.advance(8);
        return Promise.reject(new Error("timeout"));
      },
    };
    const store = timedBlobStore(inner, timer, metrics);
    timer.tick(3);
    assert.equal(await store.put(new Uint8Array(1)), "bafy");
    await assert.rejects(store.get("bafy", { timeoutMs: 1, maxBytes: 1 }), /timeout/);
    const record = timer.tick(4) as RoundTiming;
    assert.equal(record.parts.ipfsPut, 5);
    assert.equal(record.parts.ipfsGet, 8);
    assert.match(await metrics.render(), /protolearn_update_fetch_seconds_count 1\n/);
  });

  it("reads the devnet's node logs and sums them per round with the protocol overhead", async () => {
    const dir = await mkdtemp(join(tmpdir(), "protolearn-timing-"));
    try {
      const parts = (training: number, waiting: number, rest = 0) => ({
        training,
        encoding: rest,
        ipfsPut: 0,
        ipfsGet: 0,
        chainSend: rest,
        chainConfirm: 0,
        scoring: 0,
        aggregation: 0,
        waiting,
      });
      const line = (node: string, round: number, wallMs: number, p: ReturnType<typeof parts>, extra = {}) =>
        JSON.stringify({ level: "info", time: "2025-01-01T00:00:00.000Z", component: "protolearn", node, ...extra, round, wallMs, parts: p, event: "round timing" });
      await writeFile(
        join(dir, "node-10.log"),
        [
          line("0xB", 1, 1000, parts(600, 200, 100)),
          '{"level":"info","event":"committed","round":1}',
          "a library warning that is not JSON",
          line("0xB", 2, 500, parts(0, 500)),
          line("0xB", 3, 200, parts(100, 0, 50), { partial: true }),
          "",
        ].join("\n"),
      );
      await writeFile(join(dir, "node-2.log"), [line("0xA", 1, 800, parts(0, 400, 200)), '{"event":"round timing","round":"bad"}'].join("\n") + "\n");
      await writeFile(join(dir, "node-3.log"), '{"event":"ipfs","listen":[]}\n');
      await writeFile(join(dir, "report.json"), line("0xC", 1, 1, parts(0, 1)));

      const nodes = await readRoundTimings(dir);
      assert.deepEqual(
        nodes.map((n) => [n.name, n.address, n.timings.map((t) => t.round)]),
        [
          ["node-2", "0xA", [1]],
          ["node-10", "0xB", [1, 2, 3]],
        ],
      );
      assert.equal(nodes[1]?.timings[2]?.partial, true);

      const summary = summarizeRoundTimings(nodes);
      assert.deepEqual(
        summary.rounds.map((r) => [r.round, r.nodes, r.wallMs, r.parts.training, r.parts.waiting, r.overhead]),
        [
          // (1800 − 600 − 600) / (1800 − 600)
          [1, 2, 1800, 600, 600, 0.5],
          [2, 1, 500, 0, 500, null],
          [3, 1, 200, 100, 0, 0.5],
        ],
      );
      assert.deepEqual([summary.total.nodes, summary.total.wallMs, summary.total.parts.encoding], [2, 2500, 350]);
      assert.equal(summary.total.overhead, (2500 - 700 - 1100) / (2500 - 1100));
      assert.deepEqual(summarizeRoundTimings(nodes, { includePartial: false }).rounds.map((r) => r.round), [1, 2]);

      const table = formatRoundTimingTable(summary).split("\n");
      assert.equal(table.length, 5);
      assert.match(table[0] as string, /^round\s+nodes\s+wall s\s+training\s+encoding.*waiting\s+overhead$/);
      assert.match(table[1] as string, /^1\s+2\s+1\.8\s+0\.6\s.*50\.0%$/);
      assert.match(table[4] as string, /^all\s+2\s+2\.5\s/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
