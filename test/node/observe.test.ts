import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { createLogger } from "../../node/src/observe/logger.js";
import { MetricsRegistry } from "../../node/src/observe/metrics.js";

describe("logger", () => {
  it("writes one JSON object per line with component, event and fields", () => {
    const lines: string[] = [];
    const log = createLogger({ format: "json", write: (l) => lines.push(l), now: () => new Date(0) });
    log.child("trainer", { round: 3 }).info("committed", { gas: 41234n, cid: "bafy" });
    assert.equal(lines.length, 1);
    assert.deepEqual(JSON.parse(lines[0] as string), {
      time: "1970-01-01T00:00:00.000Z",
      level: "info",
      component: "protolearn:trainer",
      event: "committed",
      round: 3,
      gas: "41234",
      cid: "bafy",
    });
  });

  it("drops records below the level and prints readable lines", () => {
    const lines: string[] = [];
    const log = createLogger({ level: "warn", write: (l) => lines.push(l), now: () => new Date(0) });
    log.info("hidden");
    log.warn("stake low", { need: "10 LEARN" });
    assert.deepEqual(lines, ['00:00:00 WARN  [protolearn] stake low need="10 LEARN"']);
  });
});

describe("metrics", () => {
  it("renders gauges and counters in the Prometheus text format and serves them", async () => {
    const metrics = new MetricsRegistry();
    metrics.set("protolearn_round", "Current round", 4, { run: "1" });
    metrics.inc("protolearn_bytes_sent_total", "Bytes put on IPFS", 1000);
    metrics.inc("protolearn_bytes_sent_total", "Bytes put on IPFS", 24);
    assert.equal(metrics.get("protolearn_bytes_sent_total"), 1024);
    assert.throws(() => metrics.inc("protolearn_bytes_sent_total", "x", -1), /cannot decrease/);
    const server = await metrics.serve("127.0.0.1", 0);
    try {
      const body = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
      assert.match(body, /# TYPE protolearn_round gauge\nprotolearn_round\{run="1"\} 4\n/);
      assert.match(body, /protolearn_bytes_sent_total 1024\n/);
      assert.equal((await fetch(`http://127.0.0.1:${server.port}/other`)).status, 404);
    } finally {
      await server.close();
    }
  });
});
