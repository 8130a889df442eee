import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A minimal Prometheus registry: gauges and counters with labels, rendered in the text
 * exposition format (version 0.0.4) on `GET /metrics`. Enough for a node's round, phase, loss,
 * bytes sent, gas spent, stake and rewards; no dependency.
 */

type Labels = Record<string, string>;

interface Metric {
  name: string;
  help: string;
  type: "gauge" | "counter";
  values: Map<string, { labels: Labels; value: number }>;
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${String(labels[k]).replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`)
    .join(",");
}

export class MetricsRegistry {
  private readonly metrics = new Map<string, Metric>();

  private metric(name: string, help: string, type: Metric["type"]): Metric {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`invalid metric name ${name}`);
    let metric = this.metrics.get(name);
    if (metric === undefined) {
      metric = { name, help, type, values: new Map() };
      this.metrics.set(name, metric);
    }
    return metric;
  }

  /** Sets a gauge. */
  set(name: string, help: string, value: number, labels: Labels = {}): void {
    this.metric(name, help, "gauge").values.set(labelKey(labels), { labels, value });
  }

  /** Adds to a counter (must not decrease). */
  inc(name: string, help: string, by = 1, labels: Labels = {}): void {
    if (by < 0) throw new Error(`counter ${name} cannot decrease`);
    const metric = this.metric(name, help, "counter");
    const key = labelKey(labels);
    const current = metric.values.get(key)?.value ?? 0;
    metric.values.set(key, { labels, value: current + by });
  }

  /** Current value, for tests and reports. */
  get(name: string, labels: Labels = {}): number | undefined {
    return this.metrics.get(name)?.values.get(labelKey(labels))?.value;
  }

  /** Prometheus text exposition format. */
  render(): string {
    const lines: string[] = [];
    for (const metric of [...this.metrics.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} ${metric.type}`);
      for (const [key, { value }] of metric.values) {
        lines.push(`${metric.name}${key ? `{${key}}` : ""} ${Number.isFinite(value) ? value : "NaN"}`);
      }
    }
    return lines.join("\n") + "\n";
  }

  /** Serves `/metrics` on host:port (port 0 = any free port); resolves to the bound port. */
  async serve(host: string, port: number): Promise<{ port: number; close: () => Promise<void> }> {
    const server: Server = createServer((req, res) => {
      if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(this.render());
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
