import { create, type KuboRPCClient } from "kubo-rpc-client";
import { z } from "zod";

import type { BlobStore, GetOptions, PutOptions } from "./blob-store.js";
import { computeCid, parseCid } from "./cid.js";
import {
  DEFAULT_CID_VERSION,
  DEFAULT_KUBO_CONNECT_TIMEOUT_MS,
  KUBO_CHUNK_SIZE,
} from "./constants.js";
import { checkGetOptions, withDeadline } from "./get-options.js";
import { readBounded } from "./read-bounded.js";
import { StorageError } from "./storage-error.js";

const kuboInitSchema = z.object({
  url: z.string().refine((value) => {
    try {
      return /^https?:$/.test(new URL(value).protocol);
    } catch {
      return false;
    }
  }, "must be an http:// or https:// URL"),
  cidVersion: z.union([z.literal(0), z.literal(1)]).optional(),
  connectTimeoutMs: z.number().int().positive().optional(),
});

/** How to reach the Kubo daemon. */
export interface KuboBlobStoreInit {
  /** The daemon's RPC API, e.g. "http://127.0.0.1:5001" (Kubo's `Addresses.API`). */
  readonly url: string;
  /**
   * 0: CIDv0 (Kubo's default); 1: CIDv1 with raw leaves.
   * @default 0
   */
  readonly cidVersion?: 0 | 1;
  /**
   * How long start() waits for the daemon to answer.
   * @default 5000
   */
  readonly connectTimeoutMs?: number;
}

/**
 * Storage through an external Kubo daemon's RPC API, for operators who already run IPFS. Adds
 * with Kubo's default import settings (or CIDv1 raw leaves) and checks the daemon's CID against
 * the locally computed one, so a daemon configured with other import settings is caught at the
 * first put instead of producing CIDs nobody else can reproduce.
 */
export class KuboBlobStore implements BlobStore {
  private readonly init: { url: string; cidVersion: 0 | 1; connectTimeoutMs: number };
  private client: KuboRPCClient | undefined;

  constructor(init: KuboBlobStoreInit) {
    const parsed = kuboInitSchema.safeParse(init);
    if (!parsed.success) {
      throw new StorageError(
        `Kubo store options are invalid: ${parsed.error.issues.map((i) => `${i.path.join(".") || "options"} ${i.message}`).join("; ")}`,
        {
          code: "STORAGE_BAD_OPTIONS",
          fix: 'set storage.url (with storage.kind "kubo") to the daemon\'s RPC address, e.g. "http://127.0.0.1:5001"',
        },
      );
    }
    this.init = {
      url: parsed.data.url,
      cidVersion: parsed.data.cidVersion ?? DEFAULT_CID_VERSION,
      connectTimeoutMs: parsed.data.connectTimeoutMs ?? DEFAULT_KUBO_CONNECT_TIMEOUT_MS,
    };
  }

  /** Connects and checks that the daemon answers. */
  async start(): Promise<void> {
    if (this.client) return;
    const client = create({ url: this.init.url });
    try {
      await client.version({ signal: AbortSignal.timeout(this.init.connectTimeoutMs) });
    } catch (error) {
      throw this.unreachable(error);
    }
    this.client = client;
  }

  async stop(): Promise<void> {
    this.client = undefined;
  }

  async put(bytes: Uint8Array, options: PutOptions = {}): Promise<string> {
    const client = this.started();
    const expected = await computeCid(bytes, this.init.cidVersion);
    let actual: string;
    try {
      const result = await client.add(bytes, {
        cidVersion: this.init.cidVersion,
        rawLeaves: this.init.cidVersion === 1,
        chunker: `size-${KUBO_CHUNK_SIZE}`,
        trickle: false,
        pin: true,
        signal: options.signal,
      });
      actual = result.cid.toString();
    } catch (error) {
      throw this.failure("storing", error);
    }
    if (actual !== expected) {
      throw new StorageError(
        `the Kubo daemon stored the blob as ${actual}, but the protocol's CID is ${expected}`,
        {
          code: "STORAGE_CID_MISMATCH",
          fix: "reset the daemon's Import.* settings (UnixFSChunker, UnixFSFileMaxLinks, HashFunction) to Kubo's defaults",
        },
      );
    }
    return actual;
  }

  async get(cidString: string, options: GetOptions): Promise<Uint8Array> {
    checkGetOptions(options);
    const cid = parseCid(cidString);
    const client = this.started();
    return withDeadline(
      cidString,
      options,
      // `length` makes the daemon stop after maxBytes + 1 bytes, enough to see a blob is too large.
      (signal) =>
        readBounded(
          client.cat(cid, { signal, length: options.maxBytes + 1 }),
          options.maxBytes,
          cidString,
        ),
      (error) => this.failure(`fetching ${cidString} from`, error),
    );
  }

  private started(): KuboRPCClient {
    if (!this.client) {
      throw new StorageError("the Kubo store is not started", {
        code: "STORAGE_NOT_STARTED",
        fix: "call start() before using the store (the daemon does this at launch)",
      });
    }
    return this.client;
  }

  private failure(action: string, error: unknown): StorageError {
    if (isConnectionFailure(error)) return this.unreachable(error);
    return new StorageError(`${action} the Kubo daemon failed: ${(error as Error).message}`, {
      code: action === "storing" ? "STORAGE_PUT_FAILED" : "STORAGE_FETCH_FAILED",
      fix: "check the daemon's log (`ipfs log tail`); for a fetch, an update that cannot be read scores as invalid",
      cause: error,
    });
  }

  private unreachable(error: unknown): StorageError {
    return new StorageError(
      `the Kubo daemon at ${this.init.url} does not answer: ${(error as Error).message}`,
      {
        code: "STORAGE_UNREACHABLE",
        fix: `start it with \`ipfs daemon\` or point storage.url at its RPC address (Addresses.API), or use the embedded store (storage.kind "helia")`,
        cause: error,
      },
    );
  }
}

/** A network-level failure (refused, reset, DNS, fetch failed) rather than an answer from Kubo. */
function isConnectionFailure(error: unknown): boolean {
  for (
    let current: unknown = error, depth = 0;
    current instanceof Error && depth < 5;
    current = current.cause, depth++
  ) {
    const code = (current as Error & { code?: unknown }).code;
    if (
      typeof code === "string" &&
      /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT)$/.test(
        code,
      )
    )
      return true;
    if (current.name === "TypeError" && current.message === "fetch failed") return true;
  }
  return false;
}
