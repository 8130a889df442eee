import { runFactoryAbi, trainingRunAbi } from "../chain/abis.js";
import type { ChainContext } from "../chain/client.js";
import { ProtolearnError } from "../errors.js";
import { roundParamsFromChain, type RoundRunParams } from "../round/index.js";

/**
 * The run parameters in force in any round, rebuilt from events: the run's creation params
 * (RunCreated on the factory), then each ParamsSet (governance; pending) that a ParamsApplied
 * (round open) made active. A node replaying old rounds must aggregate each with the
 * parameters of that round, not today's.
 */
export class ParamsHistory {
  private schedule: { fromRound: number; params: RoundRunParams }[] | undefined;
  private scannedTo = -1n;

  constructor(
    private readonly ctx: ChainContext,
    private readonly fromBlock: bigint,
  ) {}

  private async refresh(): Promise<void> {
    const head = await this.ctx.publicClient.getBlockNumber({ cacheTime: 0 });
    if (this.schedule !== undefined && head <= this.scannedTo) return;
    const runId = BigInt(this.ctx.runId);
    const [created, set, applied] = await Promise.all([
      this.ctx.publicClient.getContractEvents({
        address: this.ctx.deployment.contracts.RunFactory,
        abi: runFactoryAbi,
        eventName: "RunCreated",
        args: { runId },
        fromBlock: this.fromBlock,
        toBlock: head,
        strict: true,
      }),
      this.ctx.publicClient.getContractEvents({
        address: this.ctx.contracts.run.address,
        abi: trainingRunAbi,
        eventName: "ParamsSet",
        args: { runId },
        fromBlock: this.fromBlock,
        toBlock: head,
        strict: true,
      }),
      this.ctx.publicClient.getContractEvents({
        address: this.ctx.contracts.run.address,
        abi: trainingRunAbi,
        eventName: "ParamsApplied",
        args: { runId },
        fromBlock: this.fromBlock,
        toBlock: head,
        strict: true,
      }),
    ]);
    const first = created[0];
    if (first === undefined) {
      throw new ProtolearnError(`no RunCreated event for run ${this.ctx.runId} since block ${this.fromBlock}`, {
        code: "RUN_HISTORY_MISSING",
        fix: "check deploymentBlock in deployments/<network>.json (it must be at or before the run's creation)",
      });
    }
    const schedule = [{ fromRound: 1, params: roundParamsFromChain(first.args.params) }];
    type Ev = { kind: "set"; params: unknown } | { kind: "applied"; round: number };
    const ordered: { block: bigint; index: number; ev: Ev }[] = [
      ...set.map((l) => ({ block: l.blockNumber, index: l.logIndex, ev: { kind: "set", params: l.args.newParams } as Ev })),
      ...applied.map((l) => ({ block: l.blockNumber, index: l.logIndex, ev: { kind: "applied", round: Number(l.args.round) } as Ev })),
    ].sort((a, b) => (a.block === b.block ? a.index - b.index : a.block < b.block ? -1 : 1));
    let pending: unknown;
    for (const { ev } of ordered) {
      if (ev.kind === "set") pending = ev.params;
      else if (pending !== undefined) {
        schedule.push({ fromRound: ev.round, params: roundParamsFromChain(pending) });
        pending = undefined;
      }
    }
    this.schedule = schedule;
    this.scannedTo = head;
  }

  /** Parameters in force during `round`. */
  async at(round: number): Promise<RoundRunParams> {
    await this.refresh();
    const schedule = this.schedule ?? [];
    let current = schedule[0];
    for (const entry of schedule) if (entry.fromRound <= round) current = entry;
    if (current === undefined) throw new Error("unreachable: empty parameter schedule");
    return current.params;
  }
}
