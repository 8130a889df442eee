import { join } from "node:path";
import type { Address, Hex } from "viem";
import { z } from "zod";
import { ProtolearnError } from "../errors.js";
import { readIfExists, writeDurable } from "../persist/durable-file.js";

/**
 * What a node must not lose across a crash, in `<dataDir>/run-<id>-<address>/`:
 * - state.json: the model round/hash it holds, the update it is committing/revealing (salt,
 *   CID, content hash — persisted BEFORE the commit transaction is sent), the validator's vote
 *   (salt, seat lengths, scores, model hash, eval loss — persisted BEFORE commitVote is sent,
 *   revealed exactly as persisted), the last round it finished as a validator;
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

const pendingVoteSchema = z.object({
  round: z.number().int().positive(),
  salt: hex32,
  /** One entry per held committee seat (ascending): how many of `scores` belong to it. */
  seatLengths: z.array(z.number().int().min(0).max(65_535)),
  /** Per held seat, the scores (ppm) of the updates assigned to it, concatenated. */
  scores: z.array(z.number().int().min(0).max(1_000_000)),
  modelHash: hex32,
  /** 1e9-scaled held-out loss, as a decimal string (uint64 does not fit a JSON number). */
  evalLoss: z.string().regex(/^\d+$/),
  committed: z.boolean(),
  revealed: z.boolean(),
});
/** A validator's vote of one round, from before commitVote until it is revealed. */
export type PendingVote = z.infer<typeof pendingVoteSchema>;

const stateSchema = z.object({
  /** 1: before rounds v2 (no vote); read as 2 with no pending vote. */
  version: z.union([z.literal(1), z.literal(2)]).transform(() => 2 as const),
  runId: z.number().int().positive(),
  node: z.string(),
  model: z.object({ round: z.number().int().positive(), hash: hex32, hasMomentum: z.boolean() }).nullable(),
  pending: pendingSchema.nullable(),
  scoredRound: z.number().int().nonnegative(),
  vote: pendingVoteSchema.nullable().default(null),
  /** The model held before the last change (prev-params.bin): M_r − M_prev is the last public aggregate. */
  previous: z.object({ round: z.number().int().positive(), hash: hex32 }).nullable().default(null),
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
      return new NodeState(dir, { version: 2, runId, node: node.toLowerCase(), model: null, pending: null, scoredRound: 0, vote: null, previous: null });
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

  /** The validator's vote being committed or revealed (null when none). */
  get vote(): PendingVote | null {
    return this.json.vote;
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

  /** Keeps `model` as the one before the next change (call before saveModel moves on). */
  async savePrevious(model: HeldModel): Promise<void> {
    await writeDurable(join(this.dir, "prev-params.bin"), toBytes(model.params));
    this.json.previous = { round: model.round, hash: model.hash };
    await this.save();
  }

  /** The model held before the last change, or undefined. */
  async loadPrevious(): Promise<{ round: number; hash: Hex; params: Float32Array } | undefined> {
    const meta = this.json.previous;
    if (meta === null) return undefined;
    const params = await readIfExists(join(this.dir, "prev-params.bin"));
    return params === undefined ? undefined : { round: meta.round, hash: meta.hash as Hex, params: toFloats(params) };
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

  /** Persists a vote before its commitVote transaction is sent (the salt must survive a crash). */
  async saveVote(vote: PendingVote): Promise<void> {
    this.json.vote = vote;
    await this.save();
  }

  async markVote(change: Partial<Pick<PendingVote, "committed" | "revealed">>): Promise<void> {
    if (this.json.vote === null) return;
    this.json.vote = { ...this.json.vote, ...change };
    await this.save();
  }

  async markScored(round: number): Promise<void> {
    this.json.scoredRound = round;
    await this.save();
  }
}
