import type { Address, Hex } from "viem";
import type { ChainHistory } from "./chain-history.js";
import type { RoundRecord } from "./chain-records.js";

/**
 * One run's rounds as the chain's events tell them (a view over {@link ChainHistory}): the
 * reveals (the CID lives only in the event), the commit order (duplicates: the first committed
 * is credited), the finalize outcome (accepted updates, the agreed model hash) and the announced
 * checkpoints. Every read first syncs the history to the chain head.
 */

/** A revealed update of a round, in reveal order, with the position of its commit. */
export interface RoundReveal {
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
  constructor(
    private readonly history: ChainHistory,
    private readonly runId: number,
  ) {}

  private async round(round: number): Promise<RoundRecord | undefined> {
    await this.history.sync();
    return this.history.run(this.runId).rounds[String(round)];
  }

  /** Every reveal of `round`, in reveal order, with its commit position. */
  async reveals(round: number): Promise<RoundReveal[]> {
    const record = await this.round(round);
    if (record === undefined) return [];
    const commitOrder = new Map<string, number>();
    record.commits.forEach((c, i) => {
      if (!commitOrder.has(c.node.toLowerCase())) commitOrder.set(c.node.toLowerCase(), i);
    });
    return record.reveals
      .map((r) => ({
        index: r.index,
        node: r.node,
        cid: r.cid,
        contentHash: r.contentHash,
        samples: Number(r.samples),
        commitIndex: commitOrder.get(r.node.toLowerCase()) ?? Number.MAX_SAFE_INTEGER,
      }))
      .sort((a, b) => a.index - b.index);
  }

  /** Each scored trainer's (lowercased) median score in `round` (empty before it is settled). */
  async medians(round: number): Promise<Map<string, number>> {
    const record = await this.round(round);
    return new Map((record?.outcomes ?? []).map((o) => [o.node.toLowerCase(), o.medianScore]));
  }

  /** How `round` ended, or "pending" while it is not finalized. */
  async outcome(round: number): Promise<RoundOutcome> {
    const result = (await this.round(round))?.result ?? null;
    if (result === null) return { kind: "pending" };
    if (result.kind === "failed") return { kind: "failed", reason: result.reason };
    const record = (await this.round(round)) as RoundRecord;
    return {
      kind: "agreed",
      modelHash: result.modelHash,
      evalLoss: BigInt(result.evalLoss),
      accepted: record.outcomes.filter((o) => o.accepted).map((o) => o.node),
    };
  }

  /** Announced checkpoints of rounds up to `maxRound`, newest round first. */
  async checkpoints(maxRound: number): Promise<{ round: number; cid: string; announcer: Address }[]> {
    await this.history.sync();
    return this.history
      .run(this.runId)
      .checkpoints.filter((c) => c.round <= maxRound)
      .map((c) => ({ round: c.round, cid: c.cid, announcer: c.announcer }))
      .sort((a, b) => b.round - a.round);
  }

  /** The model hash M_r that round `round` opened with (from RoundOpened). */
  async openedModelHash(round: number): Promise<Hex | undefined> {
    return (await this.round(round))?.opened?.modelHash;
  }
}
