import type { Address, Hex } from "viem";
import type { ChainContext } from "../chain/client.js";
import { trainingRunAbi } from "../chain/abis.js";

/**
 * A round's record as the chain's events tell it: the reveals (the CID lives only in the
 * event), the commit order (duplicates: the first committed is credited), the finalize
 * outcome (accepted updates, the agreed model hash). Read-only; validated by the ABI decoder.
 */

export interface RevealRecord {
  index: number;
  node: Address;
  cid: string;
  contentHash: Hex;
  samples: number;
  /** Position of the node's commit in the round (0 = first). */
  commitIndex: number;
}

export type RoundOutcome =
  | { kind: "agreed"; modelHash: Hex; evalLoss: bigint; accepted: Address[] }
  | { kind: "failed"; reason: number }
  | { kind: "pending" };

export class RoundHistory {
  /** Outcomes of finalized rounds and their reveals: immutable once final, so read once. */
  private readonly settled = new Map<number, { outcome: RoundOutcome; reveals?: RevealRecord[] }>();

  constructor(
    private readonly ctx: ChainContext,
    private readonly fromBlock: bigint,
  ) {}

  private get runAddress(): Address {
    return this.ctx.contracts.run.address;
  }

  private query(round: number) {
    return {
      address: this.runAddress,
      abi: trainingRunAbi,
      args: { runId: BigInt(this.ctx.runId), round: BigInt(round) },
      fromBlock: this.fromBlock,
      strict: true,
    } as const;
  }

  /** Every reveal of `round`, in reveal order, with its commit position. */
  async reveals(round: number): Promise<RevealRecord[]> {
    const settled = this.settled.get(round);
    if (settled?.reveals !== undefined) return settled.reveals;
    const records = await this.readReveals(round);
    if (settled !== undefined) settled.reveals = records;
    return records;
  }

  private async readReveals(round: number): Promise<RevealRecord[]> {
    const [revealed, committed] = await Promise.all([
      this.ctx.publicClient.getContractEvents({ ...this.query(round), eventName: "Revealed" }),
      this.ctx.publicClient.getContractEvents({ ...this.query(round), eventName: "Committed" }),
    ]);
    const commitOrder = new Map<string, number>();
    committed.forEach((log, i) => commitOrder.set(log.args.node.toLowerCase(), i));
    return revealed
      .map((log) => ({
        index: Number(log.args.index),
        node: log.args.node,
        cid: log.args.cid,
        contentHash: log.args.contentHash,
        samples: Number(log.args.samples),
        commitIndex: commitOrder.get(log.args.node.toLowerCase()) ?? Number.MAX_SAFE_INTEGER,
      }))
      .sort((a, b) => a.index - b.index);
  }

  /** How `round` ended, or "pending" while it is not finalized. */
  async outcome(round: number): Promise<RoundOutcome> {
    const cached = this.settled.get(round);
    if (cached !== undefined) return cached.outcome;
    const outcome = await this.readOutcome(round);
    if (outcome.kind !== "pending") this.settled.set(round, { outcome });
    return outcome;
  }

  private async readOutcome(round: number): Promise<RoundOutcome> {
    const [agreed, failed] = await Promise.all([
      this.ctx.publicClient.getContractEvents({ ...this.query(round), eventName: "ModelAgreed" }),
      this.ctx.publicClient.getContractEvents({ ...this.query(round), eventName: "RoundFailed" }),
    ]);
    const last = agreed.at(-1);
    if (last !== undefined) {
      const scored = await this.ctx.publicClient.getContractEvents({ ...this.query(round), eventName: "UpdateScored" });
      return {
        kind: "agreed",
        modelHash: last.args.modelHash,
        evalLoss: last.args.evalLoss,
        accepted: scored.filter((log) => log.args.accepted).map((log) => log.args.node),
      };
    }
    const fail = failed.at(-1);
    if (fail !== undefined) return { kind: "failed", reason: Number(fail.args.reason) };
    return { kind: "pending" };
  }

  /** Announced checkpoints of rounds up to `maxRound`, newest round first. */
  async checkpoints(maxRound: number): Promise<{ round: number; cid: string; announcer: Address }[]> {
    const logs = await this.ctx.publicClient.getContractEvents({
      address: this.runAddress,
      abi: trainingRunAbi,
      eventName: "CheckpointAnnounced",
      args: { runId: BigInt(this.ctx.runId) },
      fromBlock: this.fromBlock,
      strict: true,
    });
    return logs
      .map((log) => ({ round: Number(log.args.round), cid: log.args.cid, announcer: log.args.announcer }))
      .filter((c) => c.round <= maxRound)
      .sort((a, b) => b.round - a.round);
  }

  /** The model hash M_r that round `round` opened with (from RoundOpened). */
  async openedModelHash(round: number): Promise<Hex | undefined> {
    const opened = await this.ctx.publicClient.getContractEvents({ ...this.query(round), eventName: "RoundOpened" });
    return opened.at(-1)?.args.modelHash;
  }
}
