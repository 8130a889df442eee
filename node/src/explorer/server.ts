import { readdir, readFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { extname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { getAddress, type Address } from "viem";
import { z } from "zod";
import { stableJson } from "../persist/stable-json.js";
import type { ChainContext } from "../chain/client.js";
import { ProtolearnError } from "../errors.js";
import type { Logger } from "../observe/logger.js";
import type { BlobStore } from "../storage/blob-store.js";
import {
  DEFAULT_EXPLORER_HOST,
  DEFAULT_EXPLORER_PORT,
  DEFAULT_EXPLORER_VERIFY_TIMEOUT_MS,
  DEFAULT_IPFS_GATEWAY,
  DEFAULT_POLL_MS,
  MAX_REQUEST_BYTES,
} from "./constants.js";
import {
  governancePayload,
  metaPayload,
  nodePayload,
  roundPayload,
  runPayload,
  runsPayload,
  verifyPayload,
  type ExplorerContext,
} from "./explorer-api.js";
import { ExplorerError } from "./explorer-error.js";
import { ExplorerIndex } from "./explorer-index.js";
import { ReplayedMetrics } from "./replayed-metrics.js";

/**
 * `protolearn explorer`: a small HTTP server (node:http) that serves the pages (static HTML, CSS
 * and JS in ./static, no CDN, nothing fetched from outside) and the JSON API they render from.
 * Local only by default (127.0.0.1).
 */

export interface StartExplorerOptions {
  chain: ChainContext;
  /** Folder of the records cache, the replayed models and the accuracy points. */
  cacheDir: string;
  /** Blocks an event must be buried under before it shows. */
  confirmations: number;
  /** @default DEFAULT_EXPLORER_HOST (127.0.0.1) */
  host?: string;
  /** 0 picks a free port. @default DEFAULT_EXPLORER_PORT (8787) */
  port?: number;
  /** CID links point at `${gateway}${cid}`. @default DEFAULT_IPFS_GATEWAY */
  gateway?: string;
  /** The IPFS peer "verify" and the accuracy replay fetch through; without it both are off. */
  store?: BlobStore;
  /** Replay models to measure accuracy per round. @default true when a store is given */
  replay?: boolean;
  /** @default DEFAULT_EXPLORER_VERIFY_TIMEOUT_MS */
  verifyTimeoutMs?: number;
  /** Size cap for updates of models this build does not know. @default 8 MiB */
  fallbackMaxBytes?: number;
  /** Background sync interval. @default DEFAULT_POLL_MS */
  pollMs?: number;
  logger: Logger;
}

export interface RunningExplorer {
  url: string;
  port: number;
  index: ExplorerIndex;
  metrics: ReplayedMetrics;
  stop(): Promise<void>;
}

const STATIC_DIR = fileURLToPath(new URL("./static/", import.meta.url));
const CONTENT_TYPES: Record<string, string> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};
/** A servable file under static/: folders and names in lowercase kebab-case, a known extension. */
const ASSET_PATH = /^(?:[a-z0-9]+(?:-[a-z0-9]+)*\/)*[a-z0-9]+(?:-[a-z0-9]+)*\.(?:js|css|svg)$/;
/** Files served from node_modules (no CDN): /assets/<key> → the package's file. */
const VENDOR_FILES: Record<string, string> = {
  "vendor/uplot.js": "uplot/dist/uPlot.esm.js",
  "vendor/uplot.css": "uplot/dist/uPlot.min.css",
};

interface Asset {
  file: string;
  type: string;
}

/**
 * The files /assets/ serves, listed once at start: every file under static/ whose path matches
 * ASSET_PATH (index.html is the pages' shell, served on page paths), and the vendored libraries
 * resolved in node_modules (no symlinks followed in static/). A request is answered only when its
 * path is a key here, so no path (`..` in any spelling, a file added after start) reaches any
 * other file.
 */
async function listAssets(): Promise<Map<string, Asset>> {
  const assets = new Map<string, Asset>();
  for (const entry of await readdir(STATIC_DIR, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    const key = relative(STATIC_DIR, file).split(sep).join("/");
    const type = CONTENT_TYPES[extname(key)];
    if (ASSET_PATH.test(key) && type !== undefined) assets.set(key, { file, type });
  }
  const require = createRequire(import.meta.url);
  for (const [key, specifier] of Object.entries(VENDOR_FILES)) {
    let file: string;
    try {
      file = require.resolve(specifier);
    } catch {
      throw new ExplorerError(`the explorer cannot find ${specifier} in node_modules`, {
        code: "EXPLORER_ASSET_MISSING",
        fix: "install the dependencies (npm ci)",
      });
    }
    assets.set(key, { file, type: CONTENT_TYPES[extname(file)] ?? "application/octet-stream" });
  }
  return assets;
}

const PAGE = /^\/(?:|runs\/\d+|runs\/\d+\/rounds\/\d+|nodes\/0x[0-9a-fA-F]{40}|governance)\/?$/;
const SECURITY_HEADERS = {
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

const verifyRequestSchema = z.object({
  runId: z.number().int().positive(),
  round: z.number().int().positive(),
  index: z.number().int().nonnegative(),
});

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, { "content-type": type, "cache-control": "no-store", ...SECURITY_HEADERS });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, "application/json; charset=utf-8", stableJson(value));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_REQUEST_BYTES) {
      throw new ExplorerError(`the request body is over ${MAX_REQUEST_BYTES} bytes`, {
        code: "EXPLORER_BAD_REQUEST",
        fix: "send {runId, round, index}",
      });
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8")) as unknown;
  } catch {
    throw new ExplorerError("the request body is not JSON", {
      code: "EXPLORER_BAD_REQUEST",
      fix: 'send {"runId": 1, "round": 2, "index": 0}',
    });
  }
}

function statusOf(err: unknown): number {
  if (!(err instanceof ProtolearnError)) return 500;
  if (
    err.code === "EXPLORER_NOT_FOUND" ||
    err.code === "AUDIT_RUN_UNKNOWN" ||
    err.code === "AUDIT_ROUND_UNKNOWN"
  )
    return 404;
  if (err.code === "EXPLORER_BAD_REQUEST") return 400;
  if (err.code === "EXPLORER_NO_IPFS") return 503;
  return 502;
}

/** Starts the explorer; it syncs in the background and serves at once. */
export async function startExplorer(options: StartExplorerOptions): Promise<RunningExplorer> {
  const { chain, logger } = options;
  const assets = await listAssets();
  const index = await ExplorerIndex.open({
    chain,
    cacheDir: options.cacheDir,
    confirmations: options.confirmations,
    logger,
  });
  const metrics = new ReplayedMetrics({
    chain,
    cacheDir: options.cacheDir,
    logger: logger.child("replay"),
    fetchTimeoutMs: options.verifyTimeoutMs ?? DEFAULT_EXPLORER_VERIFY_TIMEOUT_MS,
    enabled: options.replay ?? true,
    ...(options.store ? { store: options.store } : {}),
  });
  const gateway = options.gateway ?? DEFAULT_IPFS_GATEWAY;
  const ctx: ExplorerContext = {
    chain,
    records: () => index.records,
    syncedTo: () => index.syncedTo,
    head: () => index.head,
    metrics,
    store: options.store,
    gateway,
    verifyTimeoutMs: options.verifyTimeoutMs ?? DEFAULT_EXPLORER_VERIFY_TIMEOUT_MS,
    fallbackMaxBytes: options.fallbackMaxBytes ?? 8 * 1024 * 1024,
  };
  const refresh = async (): Promise<void> => {
    await index.refresh();
    metrics.kick(Object.values(index.records.runs));
  };

  const api = async (req: IncomingMessage, path: string): Promise<unknown> => {
    await refresh();
    if (req.method === "POST" && path === "/api/verify") {
      const parsed = verifyRequestSchema.safeParse(await readBody(req));
      if (!parsed.success) {
        throw new ExplorerError(
          `the verify request is invalid: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
          {
            code: "EXPLORER_BAD_REQUEST",
            fix: 'send {"runId": 1, "round": 2, "index": 0}',
          },
        );
      }
      return verifyPayload(ctx, parsed.data);
    }
    if (req.method !== "GET")
      throw new ExplorerError(`${req.method ?? "?"} ${path} is not supported`, {
        code: "EXPLORER_BAD_REQUEST",
        fix: "use GET, or POST /api/verify",
      });
    if (path === "/api/meta") return metaPayload(ctx);
    if (path === "/api/runs") return runsPayload(ctx);
    if (path === "/api/governance") return governancePayload(ctx);
    let m = /^\/api\/runs\/(\d+)$/.exec(path);
    if (m) return runPayload(ctx, Number(m[1]));
    m = /^\/api\/runs\/(\d+)\/rounds\/(\d+)$/.exec(path);
    if (m) return roundPayload(ctx, Number(m[1]), Number(m[2]));
    m = /^\/api\/nodes\/(0x[0-9a-fA-F]{40})$/.exec(path);
    if (m) return nodePayload(ctx, getAddress(m[1] as Address));
    throw new ExplorerError(`no API at ${path}`, {
      code: "EXPLORER_NOT_FOUND",
      fix: "see docs/explorer.md for the API",
    });
  };

  const server = createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://explorer.local").pathname;
    void (async () => {
      try {
        if (path.startsWith("/api/")) {
          sendJson(res, 200, await api(req, path));
          return;
        }
        if (path.startsWith("/assets/")) {
          const asset =
            req.method === "GET" ? assets.get(path.slice("/assets/".length)) : undefined;
          if (asset === undefined) send(res, 404, "text/plain; charset=utf-8", "not found\n");
          else send(res, 200, asset.type, await readFile(asset.file));
          return;
        }
        const html = await readFile(join(STATIC_DIR, "index.html"));
        send(
          res,
          req.method === "GET" && PAGE.test(path) ? 200 : 404,
          "text/html; charset=utf-8",
          html,
        );
      } catch (err) {
        const status = statusOf(err);
        if (status >= 500)
          logger.warn("request failed", {
            path,
            error: err instanceof Error ? err.message : String(err),
          });
        sendJson(res, status, {
          error: err instanceof Error ? err.message : String(err),
          code: err instanceof ProtolearnError ? err.code : "EXPLORER_INTERNAL",
          fix: err instanceof ProtolearnError ? (err.fix ?? null) : "see the explorer's log",
        });
      }
    })();
  });

  const host = options.host ?? DEFAULT_EXPLORER_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new ExplorerError(
          `the explorer cannot listen on ${host}:${options.port ?? DEFAULT_EXPLORER_PORT}: ${err.message}`,
          {
            code: "EXPLORER_LISTEN_FAILED",
            fix:
              err.code === "EADDRINUSE"
                ? "pick another --port, or stop what uses this one"
                : "check --host and --port",
          },
        ),
      ),
    );
    server.listen(options.port ?? DEFAULT_EXPLORER_PORT, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const poll = setInterval(() => {
    refresh().catch((err: unknown) =>
      logger.warn("sync failed; retrying", {
        error: err instanceof Error ? err.message : String(err),
      }),
    );
  }, options.pollMs ?? DEFAULT_POLL_MS);
  poll.unref();
  refresh().catch((err: unknown) =>
    logger.warn("first sync failed; retrying", {
      error: err instanceof Error ? err.message : String(err),
    }),
  );

  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    index,
    metrics,
    stop: async () => {
      clearInterval(poll);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await metrics.idle();
    },
  };
}
