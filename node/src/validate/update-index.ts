import { medianNorm, updateNorm } from "../aggregate/update-norm.js";
import { join } from "node:path";
import type { Address } from "viem";
import { readIfExists, writeDurable } from "../persist/durable-file.js";
import type { PublicWork, SparseUpdate } from "./duplicate-of.js";

/**
 * A validator's bounded, persisted index of the run's earlier accepted updates (P6: an update
 * that nearly duplicates any of them is not new work). Each entry keeps the update's top-k index
 * set and its values (the sketch the Jaccard and cosine tests need); the newest `maxEntries`
 * are kept, older ones drop out, so memory and disk stay bounded (mnist-mlp-v1 at top-5 %:
 * about 40 KB an entry, 10 MB at the default 256).
 *
 * File `<dir>/earlier-updates.bin`, written through writeDurable (a crash leaves the old or
 * the new index): "PLUI" u32 version=1, u32 count, then per entry u32 round, 20-byte node,
 * u32 n, n × u32 indices, n × f32 values (little-endian).
 */

export const DEFAULT_UPDATE_INDEX_ENTRIES = 256;

const MAGIC = 0x49554c50; // "PLUI" little-endian
const FILE = "earlier-updates.bin";

export interface IndexedUpdate extends SparseUpdate {
  round: number;
  node: Address;
}

export class UpdateIndex {
  private constructor(
    private readonly path: string,
    private entries: IndexedUpdate[],
    private readonly maxEntries: number,
  ) {}

  /** Opens the index in `dir` (empty when the file is missing or unreadable: it is only a cache of public data). */
  static async open(dir: string, maxEntries = DEFAULT_UPDATE_INDEX_ENTRIES): Promise<UpdateIndex> {
    const path = join(dir, FILE);
    const raw = await readIfExists(path);
    let entries: IndexedUpdate[] = [];
    if (raw !== undefined) {
      try {
        entries = decodeIndex(raw);
      } catch {
        entries = [];
      }
    }
    return new UpdateIndex(path, entries.slice(-maxEntries), maxEntries);
  }

  get size(): number {
    return this.entries.length;
  }

  /**
   * The reference norm for round `round`'s scoring: the median ‖Δ‖₂ (the mean of the two middle
   * ones for an even count) of the accepted updates of the latest earlier round held; undefined
   * when none is held. Every validator that followed the run holds the same on-chain accepted sets.
   */
  referenceNorm(round: number): number | undefined {
    const rounds = this.entries.filter((e) => e.round < round).map((e) => e.round);
    if (rounds.length === 0) return undefined;
    const latest = Math.max(...rounds);
    return medianNorm(this.entries.filter((e) => e.round === latest).map((e) => updateNorm(e.values)));
  }

  /** Entries of rounds before `round`, oldest first, as public work for {@link duplicateOfPublic}. */
  before(round: number): PublicWork[] {
    return this.entries
      .filter((e) => e.round < round)
      .map((e) => ({ label: `round ${e.round}'s accepted update by ${e.node}`, update: e }));
  }

  /** Records round `round`'s accepted updates (replacing any recorded for that round) and persists. */
  async record(round: number, updates: readonly { node: Address; update: SparseUpdate }[]): Promise<void> {
    const kept = this.entries.filter((e) => e.round !== round);
    for (const { node, update } of updates) {
      kept.push({ round, node, indices: Uint32Array.from(update.indices), values: Float32Array.from(update.values) });
    }
    kept.sort((a, b) => a.round - b.round);
    this.entries = kept.slice(-this.maxEntries);
    await writeDurable(this.path, encodeIndex(this.entries));
  }
}

function encodeIndex(entries: readonly IndexedUpdate[]): Uint8Array {
  let size = 12;
  for (const e of entries) size += 4 + 20 + 4 + e.indices.length * 8;
  const buffer = Buffer.alloc(size);
  let at = buffer.writeUInt32LE(MAGIC, 0);
  at = buffer.writeUInt32LE(1, at);
  at = buffer.writeUInt32LE(entries.length, at);
  for (const e of entries) {
    at = buffer.writeUInt32LE(e.round, at);
    at += Buffer.from(e.node.slice(2), "hex").copy(buffer, at);
    at = buffer.writeUInt32LE(e.indices.length, at);
    for (const index of e.indices) at = buffer.writeUInt32LE(index, at);
    for (const value of e.values) at = buffer.writeFloatLE(value, at);
  }
  return buffer;
}

function decodeIndex(buffer: Buffer): IndexedUpdate[] {
  if (buffer.readUInt32LE(0) !== MAGIC || buffer.readUInt32LE(4) !== 1) throw new Error("not an update index");
  const count = buffer.readUInt32LE(8);
  let at = 12;
  const entries: IndexedUpdate[] = [];
  for (let i = 0; i < count; i++) {
    const round = buffer.readUInt32LE(at);
    const node = `0x${buffer.subarray(at + 4, at + 24).toString("hex")}` as Address;
    const n = buffer.readUInt32LE(at + 24);
    at += 28;
    if (at + n * 8 > buffer.length) throw new Error("truncated update index");
    const indices = new Uint32Array(n);
    const values = new Float32Array(n);
    for (let j = 0; j < n; j++) indices[j] = buffer.readUInt32LE(at + 4 * j);
    at += 4 * n;
    for (let j = 0; j < n; j++) values[j] = buffer.readFloatLE(at + 4 * j);
    at += 4 * n;
    entries.push({ round, node, indices, values });
  }
  return entries;
}
