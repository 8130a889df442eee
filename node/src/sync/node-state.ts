import { join } from "node:path";
import type { Address, Hex } from "viem";
import { z } from "zod";
import { ProtolearnError } from "../errors.js";
import { readIfExists, writeDurable } from "../persist/durable-file.js";

/**
 * What a node must not lose across a crash, in `<dataDir>/run-<id>-<address>/`:
 * - state.json: the model round/hash it holds, the update it is committing/revealing (salt,
 *   CID, content hash — persisted BEFORE the commit transaction is sent), the last round it
 *   scored as a validator;
 * - params.bin / momentum.bin: θ_r and the outer momentum for that round;
 * - residual.bin: the error-feedback residual of its last committed update.
 * Every write goes through writeDurable (temp file + fsync + rename), so `kill -9` at any
 * instant leaves the old or the new version.
 */

const hex32 = z.string().regex(/^0x[0-9a-fA-F]{64}$/);

const pendingSchema = z.object({
  round: z.number().int().positive(),
  salt: hex32,
  cid: z.string().min(1),
  contentHash: hex32,
  samples: z.number().int().nonnegative(),
  committed: z.boolean(),
  revealed: z.boolean(),
});
export type PendingUpdate = z.infer<typeof pendingSchema>;

const stateSchema = z.object({
  version: z.literal(1),
  runId: z.number().int().positive(),
  node: z.string(),
  model: z.object({ round: z.number().int().positive(), hash: hex32, hasMomentum: z.boolean() }).nullable(),
  pending: pendingSchema.nullable(),
  scoredRound: z.number().int().nonnegative(),
});
export type NodeStateJson = z.infer<typeof stateSchema>;

export interface HeldModel {
  round: number;
  hash: Hex;
  params: Float32Array;
  momentum: Float32Array | undefined;
}

function toBytes(array: Float32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

function toFloats(buffer: Buffer): Float32Array {
  const copy = new Uint8Array(buffer.byteLength);
  copy.set(buffer);
  return new Float32Array(copy.buffer);
}

export class NodeState {
  private json: NodeStateJson;

  private constructor(
    readonly dir: string,
    json: NodeStateJson,
  ) {
    this.json = json;
  }

  /** Opens (or creates) the state folder of `node` in run `runId`. */
  static async open(dataDir: string, runId: number, node: Address): Promise<NodeState> {
    const dir = join(dataDir, `run-${runId}-${node.toLowerCase()}`);
    const raw = await readIfExists(join(dir, "state.json"));
    if (raw === undefined) {
      return new NodeState(dir, { version: 1, runId, node: node.toLowerCase(), model: null, pending: null, scoredRound: 0 });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      parsed = undefined;
    }
    const result = stateSchema.safeParse(parsed);
    if (!result.success) {
      throw new ProtolearnError(`the node state in ${dir}/state.json is unreadable`, {
        code: "STATE_CORRUPT",
        fix: `move ${dir} away and restart: the node resyncs the model from the chain and IPFS (an uncommitted update is lost)`,
      });
    }
    return new NodeState(dir, result.data);
  }

  get pending(): PendingUpdate | null {
    return this.json.pending;
  }

  get scoredRound(): number {
    return this.json.scoredRound;
  }

  get modelRound(): number | undefined {
    return this.json.model?.round;
  }

  private async save(): Promise<void> {
    await writeDurable(join(this.dir, "state.json"), JSON.stringify(this.json, null, 2));
  }

  /** The model this node holds, or undefined before its first sync. */
  async loadModel(): Promise<HeldModel | undefined> {
    const meta = this.json.model;
    if (meta === null) return undefined;
    const params = await readIfExists(join(this.dir, "params.bin"));
    if (params === undefined) return undefined;
    const momentum = meta.hasMomentum ? await readIfExists(join(this.dir, "momentum.bin")) : undefined;
    return { round: meta.round, hash: meta.hash as Hex, params: toFloats(params), momentum: momentum ? toFloats(momentum) : undefined };
  }

  /** Stores θ_r (params first, then the state that points at it). */
  async saveModel(model: HeldModel): Promise<void> {
    await writeDurable(join(this.dir, "params.bin"), toBytes(model.params));
    if (model.momentum !== undefined) await writeDurable(join(this.dir, "momentum.bin"), toBytes(model.momentum));
    this.json.model = { round: model.round, hash: model.hash, hasMomentum: model.momentum !== undefined };
    await this.save();
  }

  async loadResidual(): Promise<Float32Array | null> {
    const raw = await readIfExists(join(this.dir, "residual.bin"));
    return raw === undefined ? null : toFloats(raw);
  }

  /** Persists the update about to be committed and its residual, before any transaction. */
  async savePending(pending: PendingUpdate, residual: Float32Array): Promise<void> {
    await writeDurable(join(this.dir, "residual.bin"), toBytes(residual));
    this.json.pending = pending;
    await this.save();
  }

  async markPending(change: Partial<Pick<PendingUpdate, "committed" | "revealed">>): Promise<void> {
    if (this.json.pending === null) return;
    this.json.pending = { ...this.json.pending, ...change };
    await this.save();
  }

  async markScored(round: number): Promise<void> {
    this.json.scoredRound = round;
    await this.save();
  }
}
