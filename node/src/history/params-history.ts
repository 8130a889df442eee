import { runFactoryAbi, trainingRunAbi } from "../chain/abis.js";
import type { ChainContext } from "../chain/client.js";
import { ProtolearnError } from "../errors.js";
import { roundParamsFromChain, type RoundRunParams } from "../round/index.js";

/**
 * The run parameters in force in any round, rebuilt from events: the run's creation params
 * (RunCreated on the factory), then each ParamsSet (governance; pending) that a ParamsApplied
 * (round open) made active. A node replaying old rounds must aggregate each with the
 * parameters of that round, not today's. Scans incrementally: each refresh reads only the
 * blocks since the last one.
 */
export class ParamsHistory {
  private readonly schedule: { fromRound: number; params: RoundRunParams }[] = [];
  /** A ParamsSet not yet applied by a round opening. */
  private pending: unknown;
  private scannedTo: bigint;

  constructor(
    private readonly ctx: ChainContext,
    fromBlock: bigint,
  ) {
    this.scannedTo = fromBlock - 1n;
  }

  private async refresh(): Promise<void> {
    const head = await this.ctx.publicClient.getBlockNumber({ cacheTime: 0 });
    if (head <= this.scannedTo) return;
    const runId = BigInt(this.ctx.runId);
    const range = { fromBlock: this.scannedTo + 1n, toBlock: head, strict: true } as const;
    const run = this.ctx.contracts.run.address;
    const [created, set, applied] = await Promise.all([
      this.schedule.length > 0
        ? Promise.resolve([])
        : this.ctx.publicClient.getContractEvents({
            ...range,
            address: this.ctx.deployment.contracts.RunFactory,
            abi: runFactoryAbi,
            eventName: "RunCreated",
            args: { runId },
          }),
      this.ctx.publicClient.getContractEvents({ ...range, address: run, abi: trainingRunAbi, eventName: "ParamsSet", args: { runId } }),
      this.ctx.publicClient.getContractEvents({ ...range, address: run, abi: trainingRunAbi, eventName: "ParamsApplied", args: { runId } }),
    ]);
    const first = created[0];
    if (this.schedule.length === 0) {
      if (first === undefined) {
        throw new ProtolearnError(`no RunCreated event for run ${this.ctx.runId} up to block ${head}`, {
          code: "RUN_HISTORY_MISSING",
          fix: "check deploymentBlock in deployments/<network>.json (it must be at or before the run's creation)",
        });
      }
      this.schedule.push({ fromRound: 1, params: roundParamsFromChain(first.args.params) });
    }
    type Ev = { kind: "set"; params: unknown } | { kind: "applied"; round: number };
    const ordered: { block: bigint; index: number; ev: Ev }[] = [
      ...set.map((l) => ({ block: l.blockNumber, index: l.logIndex, ev: { kind: "set", params: l.args.newParams } as Ev })),
      ...applied.map((l) => ({ block: l.blockNumber, index: l.logIndex, ev: { kind: "applied", round: Number(l.args.round) } as Ev })),
    ].sort((a, b) => (a.block === b.block ? a.index - b.index : a.block < b.block ? -1 : 1));
    for (const { ev } of ordered) {
      if (ev.kind === "set") this.pending = ev.params;
      else if (this.pending !== undefined) {
        this.schedule.push({ fromRound: ev.round, params: roundParamsFromChain(this.pending) });
        this.pending = undefined;
      }
    }
    this.scannedTo = head;
  }

  /** Parameters in force during `round`. */
  async at(round: number): Promise<RoundRunParams> {
    await this.refresh();
    let current = this.schedule[0];
    for (const entry of this.schedule) if (entry.fromRound <= round) current = entry;
    if (current === undefined) throw new Error("unreachable: empty parameter schedule");
    return current.params;
  }
}
