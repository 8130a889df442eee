/**
 * Structured logging: every record is an event name plus fields. `json` prints one JSON object
 * per line (for log shippers), `pretty` prints a readable line. Loggers are scoped per
 * component (`logger.child("trainer")`) so an operator can tell where a line came from.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "pretty" | "json";
export type LogFields = Record<string, unknown>;

const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(component: string, fields?: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Where lines go; defaults to stderr so stdout stays clean for `--json` output. */
  write?: (line: string) => void;
  /** Clock, injectable for tests. */
  now?: () => Date;
}

function jsonSafe(value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  return value;
}

function prettyValue(value: unknown): string {
  const safe = jsonSafe(value);
  return typeof safe === "string" ? (/\s/.test(safe) ? JSON.stringify(safe) : safe) : JSON.stringify(safe);
}

/** Creates a root logger. */
export function createLogger(options: LoggerOptions = {}, component = "protolearn", base: LogFields = {}): Logger {
  const level = options.level ?? "info";
  const format = options.format ?? "pretty";
  const write = options.write ?? ((line: string) => process.stderr.write(line + "\n"));
  const now = options.now ?? (() => new Date());

  const emit = (lvl: LogLevel, event: string, fields: LogFields = {}): void => {
    if (LEVEL_ORDER[lvl] < LEVEL_ORDER[level]) return;
    const all = { ...base, ...fields };
    if (format === "json") {
      write(JSON.stringify({ time: now().toISOString(), level: lvl, component, event, ...all }, (_k, v: unknown) => jsonSafe(v)));
    } else {
      const time = now().toISOString().slice(11, 19);
      const rest = Object.entries(all)
        .map(([k, v]) => `${k}=${prettyValue(v)}`)
        .join(" ");
      write(`${time} ${lvl.toUpperCase().padEnd(5)} [${component}] ${event}${rest ? " " + rest : ""}`);
    }
  };

  return {
    debug: (e, f) => emit("debug", e, f),
    info: (e, f) => emit("info", e, f),
    warn: (e, f) => emit("warn", e, f),
    error: (e, f) => emit("error", e, f),
    child: (name, fields = {}) => createLogger(options, `${component}:${name}`, { ...base, ...fields }),
  };
}
