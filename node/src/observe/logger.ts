import { pino, stdTimeFunctions, type DestinationStream, type Logger as PinoLogger } from "pino";
import { prettyFactory } from "pino-pretty";

/**
 * Structured logging on pino: every record is an event name plus fields. `json` writes one JSON
 * object per line (for log shippers and the devnet's log readers):
 *
 *   {"level":"info","time":"2025-01-01T00:00:00.000Z","component":"protolearn:trainer","node":"0x…","round":3,"event":"committed","gasUsed":"41234"}
 *
 * `pretty` writes one readable line through pino-pretty: `12:00:00 INFO [protolearn:trainer] committed round=3 gasUsed=41234`.
 * Loggers are scoped per component (`logger.child("trainer")`) so an operator can tell where a
 * line came from. bigint fields are written as decimal strings, errors as `{ name, message }`,
 * byte arrays as `<n bytes>`. Both formats write synchronously, so nothing is lost on exit.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFormat = "pretty" | "json";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(component: string, fields?: LogFields): Logger;
}

export interface LoggerOptions {
  level?: LogLevel;
  /**
   * `json` or `pretty`. Default: `pretty` when `write` is given or stderr is a terminal,
   * otherwise `json` (a pipe or a file gets JSON lines).
   */
  format?: LogFormat;
  /** Where lines go (one call per line, without the newline); defaults to stderr so stdout stays clean for `--json` output. */
  write?: (line: string) => void;
  /** Clock, injectable for tests. */
  now?: () => Date;
}

/** Makes a field value JSON-friendly (bigint → string, Error → { name, message }, bytes → "<n bytes>"), recursively. */
export function jsonSafe(value: unknown, depth = 0): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof Uint8Array) return `<${value.byteLength} bytes>`;
  if (depth >= 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => jsonSafe(v, depth + 1));
  if (value instanceof Date || value instanceof Map || value instanceof Set) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = jsonSafe(v, depth + 1);
  return out;
}

function prettyValue(value: unknown): string {
  return typeof value === "string" ? (/\s/.test(value) || value === "" ? JSON.stringify(value) : value) : JSON.stringify(value);
}

/** Keys pino itself writes; a field of the same name is not repeated in the readable line. */
const RECORD_KEYS = new Set(["level", "time", "component", "event", "pid", "hostname"]);

/** The pino-pretty line: `HH:MM:ss LEVEL [component] event key=value …`. */
function prettyLine(colorize: boolean): (json: string) => string {
  return prettyFactory({
    colorize,
    messageKey: "event",
    translateTime: "SYS:HH:MM:ss",
    ignore: "component,pid,hostname",
    hideObject: true,
    singleLine: true,
    customPrettifiers: { time: (t) => String(t) },
    messageFormat: (log, messageKey) => {
      const rest = Object.entries(log)
        .filter(([k]) => !RECORD_KEYS.has(k))
        .map(([k, v]) => `${k}=${prettyValue(v)}`)
        .join(" ");
      return `[${String(log.component)}] ${String(log[messageKey])}${rest ? " " + rest : ""}`;
    },
  });
}

function destination(options: LoggerOptions, format: LogFormat): DestinationStream {
  const write = options.write;
  if (format === "json") {
    if (write !== undefined) return { write: (line: string) => write(line.replace(/\n$/, "")) };
    // Synchronous writes on fd 2: lines written just before exit are not lost.
    return pino.destination({ dest: 2, sync: true });
  }
  const pretty = prettyLine(write === undefined && process.stderr.isTTY);
  if (write !== undefined) return { write: (line: string) => write(pretty(line).replace(/\n$/, "")) };
  return { write: (line: string) => process.stderr.write(pretty(line).replace(/\n?$/, "\n")) };
}

/**
 * The format a configured `"auto" | "pretty" | "json"` means here: "auto" is readable lines on a
 * terminal (or an injected writer) and JSON lines otherwise.
 */
export function resolveLogFormat(format: LogFormat | "auto" | undefined, hasWriter = false): LogFormat {
  if (format !== undefined && format !== "auto") return format;
  return hasWriter || process.stderr.isTTY ? "pretty" : "json";
}

function rootPino(options: LoggerOptions): PinoLogger {
  const format = resolveLogFormat(options.format, options.write !== undefined);
  const now = options.now;
  return pino(
    {
      level: options.level ?? "info",
      messageKey: "event",
      base: null,
      // Fields are made JSON-safe before they reach pino; no key gets pino's own serializers.
      serializers: { err: (value: unknown) => value },
      timestamp: now === undefined ? stdTimeFunctions.isoTime : () => `,"time":"${now().toISOString()}"`,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination(options, format),
  );
}

function wrap(root: PinoLogger, component: string, base: LogFields): Logger {
  const emit =
    (level: LogLevel) =>
    (event: string, fields: LogFields = {}): void => {
      if (!root.isLevelEnabled(level)) return;
      root[level](jsonSafe({ component, ...base, ...fields }) as LogFields, event);
    };
  return {
    debug: emit("debug"),
    info: emit("info"),
    warn: emit("warn"),
    error: emit("error"),
    child: (name, fields = {}) => wrap(root, `${component}:${name}`, { ...base, ...fields }),
  };
}

/**
 * Creates a root logger. `component` names the process part (`protolearn`, `start`), children
 * append to it (`protolearn:trainer`); `base` fields go on every record (e.g. `{ node: address }`).
 */
export function createLogger(options: LoggerOptions = {}, component = "protolearn", base: LogFields = {}): Logger {
  return wrap(rootPino(options), component, base);
}
