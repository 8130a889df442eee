import { createRequire } from "node:module";

/**
 * Progress for long work (waiting for a transaction, a deployment): a spinner with the
 * elapsed time on stderr, drawn by cli-progress, only when stderr is a terminal — piped or
 * logged output stays free of control characters, and stdout stays clean for `--json`.
 */

/** The part of cli-progress used here (the package ships no type declarations). */
interface SingleBar {
  start(total: number, startValue: number, payload?: Record<string, unknown>): void;
  update(value: number, payload?: Record<string, unknown>): void;
  stop(): void;
}
interface CliProgressModule {
  SingleBar: new (options: Record<string, unknown>) => SingleBar;
}

const require = createRequire(import.meta.url);
const FRAMES = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];

/** Whether progress should be drawn: stderr is a TTY (and nobody asked for quiet output). */
export function progressEnabled(stream: NodeJS.WriteStream = process.stderr): boolean {
  return stream.isTTY === true;
}

/**
 * Runs `work` while a spinner labelled `label` turns on stderr (when `enabled`); the spinner
 * is cleared when the work ends, whether it succeeds or throws.
 */
export async function withProgress<T>(
  enabled: boolean,
  label: string,
  work: () => Promise<T>,
): Promise<T> {
  if (!enabled) return work();
  const cliProgress = require("cli-progress") as CliProgressModule;
  const bar = new cliProgress.SingleBar({
    format: "{spinner} {label} {elapsed}s",
    stream: process.stderr,
    clearOnComplete: true,
    hideCursor: true,
    fps: 10,
  });
  const started = Date.now();
  let frame = 0;
  const payload = (): Record<string, unknown> => ({
    spinner: FRAMES[frame++ % FRAMES.length],
    label,
    elapsed: ((Date.now() - started) / 1000).toFixed(1),
  });
  bar.start(1, 0, payload());
  const timer = setInterval(() => bar.update(0, payload()), 100);
  try {
    return await work();
  } finally {
    clearInterval(timer);
    bar.stop();
  }
}
