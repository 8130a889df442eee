import { roundParamsFromChain, type RoundRunParams } from "../round/index.js";
import type { ChainHistory } from "./chain-history.js";
import type { RunRecord } from "./chain-records.js";

/**
 * The run parameters in force in any round, from the records: the run's creation parameters
 * (RunCreated), then each governance change (ParamsSet) from the round that applied it
 * (ParamsApplied, at a round's opening). A node replaying old rounds must aggregate each with
 * the parameters of that round, not today's.
 */

/** The raw on-chain parameters (field → value) in force during `round`. */
export function paramsAt(run: RunRecord, round: number): Record<string, string | number> {
  let current = run.params;
  for (const change of run.paramChanges) {
    if (change.appliedRound !== null && change.appliedRound <= round) current = change.params;
  }
  return current;
}

/** The round parameters every node used in `round` (throws for parameters no node could use). */
export function roundParamsAt(run: RunRecord, round: number): RoundRunParams {
  return roundParamsFromChain(paramsAt(run, round));
}

/** {@link roundParamsAt} for one run, synced to the chain head before each read. */
export class ParamsHistory {
  constructor(
    private readonly history: ChainHistory,
    private readonly runId: number,
  ) {}

  /** Parameters in force during `round`. */
  async at(round: number): Promise<RoundRunParams> {
    await this.history.sync();
    return roundParamsAt(this.history.run(this.runId), round);
  }
}
