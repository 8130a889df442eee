import { join } from "node:path";
import { z } from "zod";
import { ModelReplay, runModel } from "../audit/index.js";
import { roundsOf, type RunRecord } from "../history/index.js";
import type { ChainContext } from "../chain/client.js";
import { readIfExists, writeDurable } from "../persist/durable-file.js";
import type { Logger } from "../observe/logger.js";
import type { BlobStore } from "../storage/blob-store.js";

/**
 * Held-out accuracy per round is not on chain (only the loss is), so the explorer measures it:
 * it replays the run's model from the genesis model through every agreed round's accepted
 * updates (fetched by CID, hash-checked, and each M_r checked against the hash ModelAgreed(r)
 * attests — sync/model-chain.ts), then evaluates each agreed round's M_r on the held-out split
 * (the model whose loss ModelAgreed(r) carries). Cheap for the
 * small models of this project; results are kept on disk by model hash, so a restart does not
 * replay again. When an update cannot be fetched the chart shows loss only and says why.
 */

export interface MetricPoint {
  round: number;
  modelHash: string;
  loss: number;
  accuracy: number;
}

export interface ReplayedMetricsView {
  status: "disabled" | "unsupported" | "replaying" | "done" | "failed";
  /** Why accuracy is missing or incomplete. */
  note: string | null;
  points: MetricPoint[];
}

const fileSchema = z.object({
  version: z.literal(2),
  points: z.array(
    z.object({
      round: z.number().int().positive(),
      modelHash: z.string(),
      loss: z.number(),
      accuracy: z.number(),
    }),
  ),
});

export interface ReplayedMetricsOptions {
  chain: ChainContext;
  /** Where accepted updates are fetched from; without one there is nothing to replay. */
  store?: BlobStore;
  cacheDir: string;
  fetchTimeoutMs: number;
  logger: Logger;
  /** Whether to replay at all (`--no-replay` turns it off). */
  enabled: boolean;
}

/** Replays and measures the models of every run, one run at a time, in the background. */
export class ReplayedMetrics {
  private readonly points = new Map<number, Map<number, MetricPoint>>();
  private readonly failures = new Map<number, string>();
  private readonly loaded = new Set<number>();
  private running: Promise<void> | undefined;
  private pending: RunRecord[] = [];

  constructor(private readonly options: ReplayedMetricsOptions) {}

  private file(runId: number): string {
    return join(this.options.cacheDir, `metrics-run-${runId}.json`);
  }

  private async load(runId: number): Promise<Map<number, MetricPoint>> {
    const existing = this.points.get(runId);
    if (existing !== undefined && this.loaded.has(runId)) return existing;
    const map = new Map<number, MetricPoint>();
    const raw = await readIfExists(this.file(runId));
    if (raw !== undefined) {
      const parsed = fileSchema.safeParse(JSON.parse(raw.toString("utf8")) as unknown);
      if (parsed.success) for (const p of parsed.data.points) map.set(p.round, p);
    }
    this.points.set(runId, map);
    this.loaded.add(runId);
    return map;
  }

  /** What the chart can show for `run` now. */
  view(run: RunRecord): ReplayedMetricsView {
    if (!this.options.enabled || this.options.store === undefined) {
      const why =
        this.options.store === undefined
          ? "the explorer has no IPFS peer"
          : "accuracy replay is off (--no-replay)";
      return {
        status: "disabled",
        note: `${why}: the chart shows the on-chain loss only`,
        points: [],
      };
    }
    if (runModel(run) === undefined) {
      return {
        status: "unsupported",
        note: `this build cannot replay model ${run.modelId}: the chart shows the on-chain loss only`,
        points: [],
      };
    }
    const points = [...(this.points.get(run.runId)?.values() ?? [])].sort(
      (a, b) => a.round - b.round,
    );
    const failure = this.failures.get(run.runId);
    if (failure !== undefined)
      return {
        status: "failed",
        note: `accuracy stops at the last round that could be replayed: ${failure}`,
        points,
      };
    const agreed = roundsOf(run).filter((r) => r.result?.kind === "agreed").length;
    if (points.length < agreed)
      return {
        status: "replaying",
        note: `replaying the model: ${points.length} of ${agreed} agreed rounds measured`,
        points,
      };
    return { status: "done", note: null, points };
  }

  /** Starts measuring whatever agreed rounds of `runs` are not measured yet. */
  kick(runs: RunRecord[]): void {
    if (!this.options.enabled || this.options.store === undefined) return;
    this.pending = runs.filter((r) => runModel(r) !== undefined && !this.failures.has(r.runId));
    this.running ??= this.work().finally(() => {
      this.running = undefined;
    });
  }

  /** Resolves when the current background replay (if any) ends. */
  async idle(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  private async work(): Promise<void> {
    while (this.pending.length > 0) {
      const run = this.pending.shift() as RunRecord;
      try {
        await this.measure(run);
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        this.failures.set(run.runId, message);
        this.options.logger.warn("accuracy replay stopped", { run: run.runId, error: message });
      }
    }
  }

  private async measure(run: RunRecord): Promise<void> {
    const done = await this.load(run.runId);
    const todo = roundsOf(run).filter((r) => r.result?.kind === "agreed" && !done.has(r.round));
    if (todo.length === 0) return;
    const replay = await ModelReplay.open({
      chain: this.options.chain,
      run,
      store: this.options.store as BlobStore,
      logger: this.options.logger,
      fetchTimeoutMs: this.options.fetchTimeoutMs,
      dataDir: join(this.options.cacheDir, "replay-v2"),
    });
    try {
      for (const round of todo) {
        if (round.result?.kind !== "agreed") continue;
        // ModelAgreed(r) attests M_r (node/src/sync/model-chain.ts): its accuracy is M_r's.
        const attested = await replay.modelAt(round.round);
        const measured = replay.evaluate(attested.params);
        done.set(round.round, {
          round: round.round,
          modelHash: round.result.modelHash,
          ...measured,
        });
        await writeDurable(
          this.file(run.runId),
          JSON.stringify({ version: 2, points: [...done.values()] }),
        );
      }
    } finally {
      await replay.close();
    }
  }
}
