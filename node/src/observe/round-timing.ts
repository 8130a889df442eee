import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import type { BlobStore } from "../storage/blob-store.js";
import type { Logger } from "./logger.js";
import type { MetricsRegistry } from "./metrics.js";

/**
 * Where a node's wall time goes, round by round. The daemon owns one {@link RoundTimer}; the
 * code that does the work wraps it in `timer.measure("training", () => …)` (trainer, validator,
 * model sync, transaction sender). When the node sees the next round open it writes one record
 *
 *   event "round timing", { round, wallMs, parts: { training, encoding, ipfsPut, ipfsGet,
 *                            chainSend, chainConfirm, scoring, aggregation, waiting } }
 *
 * (milliseconds) to its log and to the `protolearn_round_part_seconds{part}` and
 * `protolearn_round_wall_seconds` histograms. Parts never overlap: while measurements nest or run
 * at once (IPFS gets inside scoring, concurrent gets), the time goes to the most recently started
 * one still running, so the parts add up to at most the wall time and `waiting` is the rest
 * (polling, sleeping until the next phase, chain reads, disk writes).
 *
 * `readRoundTimings` reads these records back from the devnet's node log files and
 * `summarizeRoundTimings` adds them up per round across nodes, with the protocol overhead
 * (wall − training − waiting) / (wall − waiting): the share of a node's busy time not spent training.
 */

/** The measured parts of a round. */
export const ROUND_PARTS = ["training", "encoding", "ipfsPut", "ipfsGet", "chainSend", "chainConfirm", "scoring", "aggregation"] as const;
export type RoundPart = (typeof ROUND_PARTS)[number];
/** Every column of a record: the measured parts, then `waiting` (the rest of the wall time). */
export const ROUND_TIMING_PARTS = [...ROUND_PARTS, "waiting"] as const;
export type RoundTimingPart = (typeof ROUND_TIMING_PARTS)[number];

const ms = z.number().finite().nonnegative();

/** The parts of one record, in milliseconds. */
export const roundTimingPartsSchema = z.object({
  training: ms,
  encoding: ms,
  ipfsPut: ms,
  ipfsGet: ms,
  chainSend: ms,
  chainConfirm: ms,
  scoring: ms,
  aggregation: ms,
  waiting: ms,
});
export type RoundTimingParts = z.infer<typeof roundTimingPartsSchema>;

/** One node's `round timing` log record (the log line also carries time, level, component, node). */
export const roundTimingSchema = z.object({
  event: z.literal("round timing").optional(),
  round: z.number().int().positive(),
  wallMs: ms,
  parts: roundTimingPartsSchema,
  /** Written at shutdown for the round the node was still in (it did not see the next one open). */
  partial: z.boolean().optional(),
});
export type RoundTiming = z.infer<typeof roundTimingSchema>;

/** The name of a round-timing record's log event. */
export const ROUND_TIMING_EVENT = "round timing";

/** What instrumented code needs: a way to charge wall time to a part. */
export interface PartTimer {
  /** Runs `fn` and charges its wall time (until the promise settles) to `part`. */
  measure<T>(part: RoundPart, fn: () => T): T;
  /** Starts charging `part`; call the returned function once when it is done. */
  begin(part: RoundPart): () => void;
}

/** A timer that measures nothing (code paths without a daemon: audits, tests). */
export const NO_TIMING: PartTimer = {
  measure: (_part, fn) => fn(),
  begin: () => () => undefined,
};

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function";
}

function zeroParts(): Record<RoundPart, number> {
  return Object.fromEntries(ROUND_PARTS.map((p) => [p, 0])) as Record<RoundPart, number>;
}

export interface RoundTimerOptions {
  /** Milliseconds, monotonic; injectable for tests. @default performance.now */
  now?: () => number;
  /** Where `round timing` records are logged (info). */
  logger?: Logger;
  /** Observes the round-part and phase histograms. */
  metrics?: MetricsRegistry;
  /** Also called with every finished record. */
  onRound?: (timing: RoundTiming) => void;
}

/**
 * The per-round accumulator. `tick(round, phase)` each time the node reads the round (the
 * daemon's loop): a new round finishes the previous one (returned, logged, observed) and a new
 * phase observes the previous phase's duration. Time before the first tick is not charged.
 */
export class RoundTimer implements PartTimer {
  private readonly now: () => number;
  private readonly active: { part: RoundPart }[] = [];
  private parts = zeroParts();
  private last: number;
  private round: number | undefined;
  private roundStart = 0;
  private phase: string | undefined;
  private phaseStart = 0;
  /** The first phase seen started before the node looked: its duration is not observed. */
  private phaseSeenWhole = false;

  constructor(private readonly options: RoundTimerOptions = {}) {
    this.now = options.now ?? (() => performance.now());
    this.last = this.now();
  }

  /** Charges the time since the last change to the innermost running measurement. */
  private charge(): number {
    const t = this.now();
    const top = this.active.at(-1);
    if (top !== undefined && this.round !== undefined) this.parts[top.part] += Math.max(0, t - this.last);
    this.last = t;
    return t;
  }

  begin(part: RoundPart): () => void {
    this.charge();
    const entry = { part };
    this.active.push(entry);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.charge();
      const i = this.active.lastIndexOf(entry);
      if (i >= 0) this.active.splice(i, 1);
    };
  }

  measure<T>(part: RoundPart, fn: () => T): T {
    const end = this.begin(part);
    let result: T;
    try {
      result = fn();
    } catch (err) {
      end();
      throw err;
    }
    if (isPromiseLike(result)) {
      return Promise.resolve(result).finally(end) as T;
    }
    end();
    return result;
  }

  /** The round the node is in now (undefined before the first tick). */
  get currentRound(): number | undefined {
    return this.round;
  }

  /**
   * Tells the timer which round and phase the chain is in. Returns the finished record when
   * this tick moved the node on to a new round.
   */
  tick(round: number, phase?: string): RoundTiming | undefined {
    const t = this.charge();
    let finished: RoundTiming | undefined;
    if (this.round === undefined) {
      this.startRound(round, t);
    } else if (round !== this.round) {
      finished = this.emit(this.record(t, false));
      this.startRound(round, t);
    }
    if (phase !== undefined && phase !== this.phase) {
      if (this.phase !== undefined && this.phaseSeenWhole) {
        this.options.metrics?.roundPhaseSeconds.observe({ phase: this.phase }, (t - this.phaseStart) / 1000);
      }
      this.phaseSeenWhole = this.phase !== undefined;
      this.phase = phase;
      this.phaseStart = t;
    }
    return finished;
  }

  /** Ends the current round early (shutdown): returns, logs and observes a record marked `partial`. */
  finish(): RoundTiming | undefined {
    if (this.round === undefined) return undefined;
    const t = this.charge();
    const record = this.emit(this.record(t, true));
    this.round = undefined;
    this.parts = zeroParts();
    return record;
  }

  private startRound(round: number, t: number): void {
    this.round = round;
    this.roundStart = t;
    this.parts = zeroParts();
  }

  private record(t: number, partial: boolean): RoundTiming {
    const wallMs = Math.round(t - this.roundStart);
    const rounded = Object.fromEntries(ROUND_PARTS.map((p) => [p, Math.round(this.parts[p])])) as Record<RoundPart, number>;
    const busy = ROUND_PARTS.reduce((sum, p) => sum + rounded[p], 0);
    return {
      round: this.round as number,
      wallMs,
      parts: { ...rounded, waiting: Math.max(0, wallMs - busy) },
      ...(partial ? { partial: true } : {}),
    };
  }

  private emit(record: RoundTiming): RoundTiming {
    const { logger, metrics, onRound } = this.options;
    logger?.info(ROUND_TIMING_EVENT, { ...record });
    if (metrics !== undefined) {
      for (const part of ROUND_TIMING_PARTS) metrics.roundPartSeconds.observe({ part }, record.parts[part] / 1000);
      metrics.roundWallSeconds.observe(record.wallMs / 1000);
    }
    onRound?.(record);
    return record;
  }
}

/** One node's round-timing records, as read from its log file. */
export interface NodeRoundTimings {
  /** The log file's name without `.log` (the devnet names them `node-<account index>`). */
  name: string;
  /** The node's address, from the records' `node` field, when they have one. */
  address?: string;
  /** The records in the order the node wrote them (a restarted node may repeat a round, partly). */
  timings: RoundTiming[];
}

/** Natural order: node-2 before node-10. */
function byName(a: string, b: string): number {
  return a.localeCompare(b, undefined, { numeric: true });
}

/**
 * Reads the `round timing` records from every `*.log` file in `logDir` (one JSON log per node,
 * as the devnet writes to `.protolearn/devnet/logs/node-<n>.log`). Lines that are not JSON or
 * not round-timing records are skipped. Nodes without any record are left out.
 */
export async function readRoundTimings(logDir: string): Promise<NodeRoundTimings[]> {
  const files = (await readdir(logDir, { withFileTypes: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith(".log"))
    .map((entry) => entry.name)
    .sort(byName);
  const nodes: NodeRoundTimings[] = [];
  for (const file of files) {
    const text = await readFile(join(logDir, file), "utf8");
    const timings: RoundTiming[] = [];
    let address: string | undefined;
    for (const line of text.split("\n")) {
      if (!line.includes(ROUND_TIMING_EVENT)) continue;
      let json: unknown;
      try {
        json = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof json !== "object" || json === null || (json as { event?: unknown }).event !== ROUND_TIMING_EVENT) continue;
      const parsed = roundTimingSchema.safeParse(json);
      if (!parsed.success) continue;
      timings.push(parsed.data);
      const node = (json as { node?: unknown }).node;
      if (typeof node === "string") address = node;
    }
    if (timings.length > 0) nodes.push({ name: file.replace(/\.log$/, ""), ...(address !== undefined ? { address } : {}), timings });
  }
  return nodes;
}

/** The sum over nodes of one round's records (node-milliseconds), and its protocol overhead. */
export interface RoundTimingRow {
  round: number;
  /** Nodes with a record for this round. */
  nodes: number;
  wallMs: number;
  parts: RoundTimingParts;
  /** (wall − training − waiting) / (wall − waiting); null when the nodes were never busy. */
  overhead: number | null;
}

export interface RoundTimingSummary {
  /** One row per round, ascending. */
  rounds: RoundTimingRow[];
  /** All rounds together (`round` is 0, `nodes` the number of distinct nodes). */
  total: RoundTimingRow;
}

/** (wall − training − waiting) / (wall − waiting): the part of the busy time that is not training. */
export function protocolOverhead(wallMs: number, parts: Pick<RoundTimingParts, "training" | "waiting">): number | null {
  const busy = wallMs - parts.waiting;
  return busy > 0 ? (busy - parts.training) / busy : null;
}

function emptyParts(): RoundTimingParts {
  return Object.fromEntries(ROUND_TIMING_PARTS.map((p) => [p, 0])) as RoundTimingParts;
}

/**
 * Adds the records up per round across nodes (a node's repeated records for a round, after a
 * restart, add up too) and computes each round's protocol overhead and the run's total.
 * Records marked `partial` (the round a node was in when it stopped) are included unless
 * `includePartial` is false.
 */
export function summarizeRoundTimings(
  nodes: readonly Pick<NodeRoundTimings, "name" | "timings">[],
  options: { includePartial?: boolean } = {},
): RoundTimingSummary {
  const rows = new Map<number, { wallMs: number; parts: RoundTimingParts; nodes: Set<string> }>();
  const total = { wallMs: 0, parts: emptyParts(), nodes: new Set<string>() };
  for (const node of nodes) {
    for (const timing of node.timings) {
      if (timing.partial === true && options.includePartial === false) continue;
      let row = rows.get(timing.round);
      if (row === undefined) {
        row = { wallMs: 0, parts: emptyParts(), nodes: new Set() };
        rows.set(timing.round, row);
      }
      for (const target of [row, total]) {
        target.wallMs += timing.wallMs;
        for (const part of ROUND_TIMING_PARTS) target.parts[part] += timing.parts[part];
        target.nodes.add(node.name);
      }
    }
  }
  const toRow = (round: number, r: { wallMs: number; parts: RoundTimingParts; nodes: Set<string> }): RoundTimingRow => ({
    round,
    nodes: r.nodes.size,
    wallMs: r.wallMs,
    parts: r.parts,
    overhead: protocolOverhead(r.wallMs, r.parts),
  });
  return {
    rounds: [...rows.entries()].sort(([a], [b]) => a - b).map(([round, r]) => toRow(round, r)),
    total: toRow(0, total),
  };
}

/** A fixed-width text table of a summary (seconds summed over nodes), for reports. */
export function formatRoundTimingTable(summary: RoundTimingSummary): string {
  const headers = ["round", "nodes", "wall s", ...ROUND_TIMING_PARTS, "overhead"];
  const cells = (label: string, row: RoundTimingRow): string[] => [
    label,
    String(row.nodes),
    (row.wallMs / 1000).toFixed(1),
    ...ROUND_TIMING_PARTS.map((p) => (row.parts[p] / 1000).toFixed(1)),
    row.overhead === null ? "-" : `${(row.overhead * 100).toFixed(1)}%`,
  ];
  const table = [headers, ...summary.rounds.map((r) => cells(String(r.round), r)), cells("all", summary.total)];
  const widths = headers.map((_, i) => Math.max(...table.map((row) => (row[i] as string).length)));
  return table.map((row) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join("  ")).join("\n");
}

/**
 * The same store with every `put` charged to `ipfsPut` and every `get` to `ipfsGet` (and
 * observed in `protolearn_update_fetch_seconds`), so the roles and the model sync need no
 * timing code around their IPFS calls.
 */
export function timedBlobStore(store: BlobStore, timer: PartTimer, metrics?: MetricsRegistry): BlobStore {
  return {
    start: () => store.start(),
    stop: () => store.stop(),
    put: (bytes, options) => timer.measure("ipfsPut", () => store.put(bytes, options)),
    get: (cid, options) => {
      const stopClock = metrics?.updateFetchSeconds.startTimer();
      return timer.measure("ipfsGet", () => store.get(cid, options)).finally(() => stopClock?.());
    },
  };
}

/**
 * Times a `trainUpdate` call through its step callback: each step is observed in
 * `protolearn_train_step_seconds`; the time up to the last step is `training`, the rest
 * (pseudo-gradient, top-k, quantization, error feedback) `encoding`. Call `end()` when the
 * call settles.
 */
export function trainingTimer(
  timer: PartTimer,
  metrics?: MetricsRegistry,
  now: () => number = () => performance.now(),
): { onStep: (done: number, total: number) => void; end: () => void } {
  let end = timer.begin("training");
  let stepStart = now();
  let encoding = false;
  return {
    onStep: (done, total) => {
      const t = now();
      metrics?.trainStepSeconds.observe((t - stepStart) / 1000);
      stepStart = t;
      if (done >= total && !encoding) {
        encoding = true;
        end();
        end = timer.begin("encoding");
      }
    },
    end: () => end(),
  };
}
