import { createRequire } from "node:module";

/** The part of cli-progress the simulation scripts use (the package ships no types). */
interface CliProgressBar {
  start(total: number, value: number, payload?: Record<string, string>): void;
  update(value: number, payload?: Record<string, string>): void;
  stop(): void;
}
interface CliProgress {
  SingleBar: new (options: Record<string, unknown>, preset: unknown) => CliProgressBar;
  Presets: { shades_classic: unknown };
}

/** A progress bar on stderr, so that stdout carries only the table or the JSON object. */
export interface ProgressBar {
  /** Sets the position; the first call starts the bar with `total`. */
  update(completed: number, total: number, label: string): void;
  stop(): void;
}

/**
 * A cli-progress bar on stderr showing `{label}`, steps done and the ETA. Silent when stderr is
 * not a terminal (CI logs, `2> file`), where a redrawn bar would only add noise.
 */
export function createProgressBar(): ProgressBar {
  if (!process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const require = createRequire(import.meta.url);
  const cliProgress = require("cli-progress") as CliProgress;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: "{bar} {percentage}% | {label} | {value}/{total} steps | ETA {eta_formatted}",
      hideCursor: true,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(completed, total, label) {
      if (!started) {
        bar.start(total, 0, { label });
        started = true;
      }
      bar.update(completed, { label });
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
