import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

/**
 * A node's Prometheus metrics, on prom-client with a registry of its own (not prom-client's
 * global one), so tests and several nodes in one process do not collide. Served on
 * `GET /metrics` in the text exposition format (version 0.0.4).
 *
 * - Process metrics from `collectDefaultMetrics` (`process_cpu_seconds_total`,
 *   `process_resident_memory_bytes`, `nodejs_eventloop_lag_seconds`, `nodejs_heap_size_used_bytes`, …).
 * - Histograms of where a node's time goes (declared here, see docs/cli.md):
 *   `protolearn_round_phase_seconds{phase}`, `protolearn_train_step_seconds`,
 *   `protolearn_update_fetch_seconds`, `protolearn_update_verify_seconds`,
 *   `protolearn_round_part_seconds{part}` and `protolearn_round_wall_seconds` (round-timing.ts).
 * - Gauges and counters the daemon sets by name with `set` / `inc` (round, phase, losses, stake,
 *   rewards, bytes sent, gas used): each is made on first use.
 */

type Labels = Record<string, string>;

export interface MetricsOptions {
  /** Collect prom-client's process metrics (CPU, memory, event loop, GC). @default true */
  defaultMetrics?: boolean;
}

export class MetricsRegistry {
  /** The prom-client registry this node's metrics live in. */
  readonly registry = new Registry();

  /** How long each contract phase lasted, as this node saw it (phase change to phase change). */
  readonly roundPhaseSeconds = new Histogram({
    name: "protolearn_round_phase_seconds",
    help: "Wall time of each round phase as this node observed it (commit, reveal, score, finalizable, ...)",
    labelNames: ["phase"] as const,
    buckets: [1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });

  /** One inner-loop step (forward, backward, AdamW), time between step callbacks. */
  readonly trainStepSeconds = new Histogram({
    name: "protolearn_train_step_seconds",
    help: "Wall time of one inner-loop training step",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  /** Fetching one peer's update (or a checkpoint) from IPFS, successful or not. */
  readonly updateFetchSeconds = new Histogram({
    name: "protolearn_update_fetch_seconds",
    help: "Wall time to fetch one update from IPFS (validation and model sync)",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  /** Checking one fetched update against its revealed content hash. */
  readonly updateVerifySeconds = new Histogram({
    name: "protolearn_update_verify_seconds",
    help: "Wall time to check one fetched update against its revealed content hash",
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
    registers: [this.registry],
  });

  /** Per round: wall time in each part (training, encoding, ipfsPut, …, waiting); see round-timing.ts. */
  readonly roundPartSeconds = new Histogram({
    name: "protolearn_round_part_seconds",
    help: "Wall time this node spent per round in each part (training, encoding, ipfsPut, ipfsGet, chainSend, chainConfirm, scoring, aggregation, waiting)",
    labelNames: ["part"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });

  /** Per round: the round's whole wall time on this node. */
  readonly roundWallSeconds = new Histogram({
    name: "protolearn_round_wall_seconds",
    help: "Wall time of a whole round on this node (from seeing it open to seeing the next one)",
    buckets: [1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1800, 3600],
    registers: [this.registry],
  });

  private readonly gauges = new Map<string, Gauge>();
  private readonly counters = new Map<string, Counter>();

  constructor(options: MetricsOptions = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  private gauge(name: string, help: string, labels: Labels): Gauge {
    let gauge = this.gauges.get(name);
    if (gauge === undefined) {
      gauge = new Gauge({ name, help, labelNames: Object.keys(labels), registers: [this.registry] });
      this.gauges.set(name, gauge);
    }
    return gauge;
  }

  private counter(name: string, help: string, labels: Labels): Counter {
    let counter = this.counters.get(name);
    if (counter === undefined) {
      counter = new Counter({ name, help, labelNames: Object.keys(labels), registers: [this.registry] });
      this.counters.set(name, counter);
    }
    return counter;
  }

  /** Sets a gauge (made on first use, with these label names). */
  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.gauge(name, help, labels).set(labels, value);
  }

  /** Adds to a counter (made on first use; must not decrease). */
  inc(name: string, help: string, by = 1, labels: Labels = {}): void {
    if (by < 0) throw new Error(`counter ${name} cannot decrease`);
    this.counter(name, help, labels).inc(labels, by);
  }

  /** Current value of a gauge or counter, for tests and reports. */
  async get(name: string, labels: Labels = {}): Promise<number | undefined> {
    const metric = this.registry.getSingleMetric(name);
    if (metric === undefined) return undefined;
    const { values } = await metric.get();
    const wanted = Object.entries(labels);
    const found = values.find(
      (v) => Object.keys(v.labels).length === wanted.length && wanted.every(([k, value]) => String(v.labels[k]) === value),
    );
    return found?.value;
  }

  /** Prometheus text exposition format. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** Serves `/metrics` on host:port (port 0 = any free port); resolves to the bound port. */
  async serve(host: string, port: number): Promise<{ port: number; close: () => Promise<void> }> {
    const server: Server = createServer((req, res) => {
      if (req.url === "/metrics" || req.url?.startsWith("/metrics?") === true) {
        this.render().then(
          (body) => res.writeHead(200, { "content-type": this.registry.contentType }).end(body),
          (err: unknown) => res.writeHead(500).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`),
        );
      } else {
        res.writeHead(404).end("not found: try /metrics\n");
      }
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, host, resolve);
    });
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
