import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { z } from "zod";
import { ProtolearnError } from "../errors.js";
import { nodeBackendOptionSchema } from "../train/backend.js";

/**
 * The node's configuration: a JSON file (default `~/.protolearn/config.json`, or `--config`),
 * then `PROTOLEARN_*` environment variables on top, then command-line flags on top of that.
 * Every value is validated here, at the edge; the rest of the node trusts the typed result.
 */

export const DEFAULT_HOME = join(homedir(), ".protolearn");
export const DEFAULT_CONFIG_PATH = join(DEFAULT_HOME, "config.json");

const multiaddr = z.string().regex(/^\/(ip4|ip6|dns4|dns6|dns)\/[^/]+\/tcp\/\d+(\/p2p\/[A-Za-z0-9]+)?$/, {
  message: "expected a TCP multiaddr like /ip4/127.0.0.1/tcp/4001",
});

export const configSchema = z
  .object({
    /** Network name: selects deployments/<network>.json (e.g. localhost, anvil, sepolia). */
    network: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*$/).default("localhost"),
    /** JSON-RPC endpoint of the chain. */
    rpcUrl: z.string().url().default("http://127.0.0.1:8545"),
    /** Run this node takes part in. */
    runId: z.coerce.number().int().positive().default(1),
    /** Roles this process plays. */
    role: z.enum(["trainer", "validator", "both"]).default("trainer"),
    /** Call finalizeRound when a round is due (any node may). */
    keeper: z.boolean().default(true),
    /** Settlement items per finalizeRound call (the keeper calls it until the round is settled). */
    finalizeBatch: z.coerce.number().int().min(1).max(4096).default(128),
    /**
     * LEARN the node locks when it joins the run (decimal, e.g. "250" or "0.5"); a larger lock
     * wins more trainer seats / committee seats. Absent: the role's minimum at join time.
     */
    joinAmount: z
      .string()
      .regex(/^\d+(\.\d{1,18})?$/, { message: "expected an amount of LEARN such as 150 or 0.5" })
      .optional(),
    /** Path of the encrypted keystore (never a raw key). */
    keystore: z.string().default(join(DEFAULT_HOME, "keystore.json")),
    /** Folder for the node's crash-safe state, model, residual and IPFS blocks. */
    dataDir: z.string().default(join(DEFAULT_HOME, "data")),
    /** Blocks to wait before an event counts. */
    confirmations: z.coerce.number().int().min(0).max(64).default(1),
    /**
     * TensorFlow.js backend: auto = node-gpu → node → wasm → cpu, the first that loads. Not
     * webgpu: validation reads tensors synchronously, which it cannot do under Node.
     */
    backend: nodeBackendOptionSchema.default("auto"),
    storage: z
      .discriminatedUnion("kind", [
        z.object({
          kind: z.literal("helia"),
          listen: z.array(multiaddr).default(["/ip4/127.0.0.1/tcp/0"]),
          peers: z.array(z.string()).default([]),
        }),
        z.object({ kind: z.literal("kubo"), url: z.string().url() }),
      ])
      .default({ kind: "helia", listen: ["/ip4/127.0.0.1/tcp/0"], peers: [] }),
    /** Fetch limits for peers' updates and checkpoints. */
    fetchTimeoutMs: z.coerce.number().int().min(100).max(600_000).default(30_000),
    maxUpdateBytes: z.coerce.number().int().min(1024).max(256 * 1024 * 1024).default(8 * 1024 * 1024),
    log: z
      .object({
        level: z.enum(["debug", "info", "warn", "error"]).default("info"),
        /** "auto": readable lines on a terminal, JSON lines otherwise (a file, a log shipper). */
        format: z.enum(["auto", "pretty", "json"]).default("auto"),
      })
      .default({ level: "info", format: "auto" }),
    metrics: z
      .object({
        enabled: z.boolean().default(true),
        host: z.string().default("127.0.0.1"),
        port: z.coerce.number().int().min(0).max(65535).default(9464),
      })
      .default({ enabled: true, host: "127.0.0.1", port: 9464 }),
  })
  .strict();

export type NodeConfig = z.infer<typeof configSchema>;

export class ConfigError extends ProtolearnError {
  override name = "ConfigError";
}

/** Environment variables that map onto config keys (dotted paths). */
const ENV_KEYS: Record<string, string> = {
  PROTOLEARN_NETWORK: "network",
  PROTOLEARN_RPC_URL: "rpcUrl",
  PROTOLEARN_RUN_ID: "runId",
  PROTOLEARN_ROLE: "role",
  PROTOLEARN_JOIN_AMOUNT: "joinAmount",
  PROTOLEARN_KEYSTORE: "keystore",
  PROTOLEARN_DATA_DIR: "dataDir",
  PROTOLEARN_BACKEND: "backend",
  PROTOLEARN_LOG_LEVEL: "log.level",
  PROTOLEARN_LOG_FORMAT: "log.format",
  PROTOLEARN_METRICS_PORT: "metrics.port",
};

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const keys = path.split(".");
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (typeof next !== "object" || next === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] as string] = value;
}

/** Formats zod issues as one sentence naming each bad key. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join(".") : "(top level)"}: ${issue.message}`)
    .join("; ");
}

/**
 * Loads the config file (missing file = all defaults unless `required`), applies env vars and
 * overrides, validates, and resolves paths.
 */
export async function loadConfig(options: {
  path?: string;
  env?: NodeJS.ProcessEnv;
  overrides?: Record<string, unknown>;
  required?: boolean;
} = {}): Promise<NodeConfig> {
  const path = options.path ?? options.env?.PROTOLEARN_CONFIG ?? DEFAULT_CONFIG_PATH;
  let raw: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = await readFile(path, "utf8");
  } catch {
    if (options.required === true) {
      throw new ConfigError(`no config file at ${path}`, {
        code: "CONFIG_MISSING",
        fix: "run `protolearn init` to create one, or pass --config <path>",
      });
    }
  }
  if (text !== undefined) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new Error("not an object");
      raw = parsed as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`the config file ${path} is not a JSON object (${(err as Error).message})`, {
        code: "CONFIG_INVALID",
        fix: `fix the JSON syntax in ${path}, or run \`protolearn init --force\` to write a fresh one`,
      });
    }
  }
  for (const [envKey, configKey] of Object.entries(ENV_KEYS)) {
    const value = options.env?.[envKey];
    if (value !== undefined && value !== "") setPath(raw, configKey, value);
  }
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value !== undefined) setPath(raw, key, value);
  }
  const result = configSchema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(`the configuration is invalid: ${describeIssues(result.error)}`, {
      code: "CONFIG_INVALID",
      fix: `correct these keys in ${path} (or the matching PROTOLEARN_* variables / flags)`,
    });
  }
  const config = result.data;
  return { ...config, keystore: resolve(config.keystore), dataDir: resolve(config.dataDir) };
}
