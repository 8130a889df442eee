import type { Address, PublicClient } from "viem";

import { createRng, type Rng } from "../random/index.js";
import type { RoundRecord } from "../history/chain-records.js";
import { anvilReorg } from "../devnet/anvil-reorg.js";
import type { RpcProxy } from "../devnet/rpc-proxy.js";

/** One injected fault, for the soak's log. */
export interface InjectedFault {
  round: number;
  kind: "kill" | "reorg" | "outage" | "none";
  /** kill: the node's name; reorg: depth; outage: seconds. */
  detail: string;
}

/** What the fault injector may do to the network (the soak scenario owns the processes and the chain). */
export interface FaultTargets {
  /** Names of the nodes that may be killed. */
  nodes(): string[];
  /** kill -9 the node, wait `downMs`, start it again from its data folder. */
  restart(name: string, downMs: number): Promise<void>;
  proxy: RpcProxy;
  rpcUrl: string;
  publicClient: PublicClient;
}

/**
 * The soak's random faults (issue 11 item 3): one per round, drawn from a seeded RNG so a soak
 * can be replayed — a kill -9 of a random node at a random moment (restarted 1–4 s later), a
 * reorg of depth 1–3 (never past the blocks of the current round: anvil_reorg, dropped
 * transactions not re-included), an RPC outage of 5–20 s, or nothing.
 */
export class FaultInjector {
  private readonly rng: Rng;
  readonly injected: InjectedFault[] = [];

  constructor(
    private readonly targets: FaultTargets,
    seed: string,
  ) {
    this.rng = createRng(`protolearn/soak/${seed}`);
  }

  /** Starts round `round`'s fault; the promise settles when the fault is over (the node is back). */
  async during(round: number, roundStartBlock: bigint): Promise<void> {
    const draw = this.rng.nextFloat();
    const delayMs = 500 + this.rng.nextInt(6_000);
    await sleep(delayMs);
    if (draw < 0.4) {
      const names = this.targets.nodes();
      const name = names[this.rng.nextInt(names.length)] as string;
      const downMs = 1_000 + this.rng.nextInt(3_000);
      this.injected.push({ round, kind: "kill", detail: name });
      await this.targets.restart(name, downMs);
    } else if (draw < 0.7) {
      const head = await this.targets.publicClient.getBlockNumber();
      const depth = Math.min(1 + this.rng.nextInt(3), Number(head - roundStartBlock));
      if (depth < 1) {
        this.injected.push({ round, kind: "none", detail: "no block of this round yet to reorg" });
        return;
      }
      await anvilReorg(this.targets.rpcUrl, depth);
      this.injected.push({ round, kind: "reorg", detail: `depth ${depth}` });
    } else if (draw < 0.9) {
      const seconds = 5 + this.rng.nextInt(16);
      this.injected.push({ round, kind: "outage", detail: `${seconds} s` });
      this.targets.proxy.down();
      await sleep(seconds * 1_000);
      this.targets.proxy.up();
    } else {
      this.injected.push({ round, kind: "none", detail: "" });
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The soak's invariants over the settled rounds (issue 11): each is a count of violations. */
export interface SoakChecks {
  /** (round, node) pairs with more than one Committed event. */
  doubleCommits: number;
  /** Slashes of any node (the soak's nodes are all honest). */
  honestSlashes: number;
  /** Trainers whose accrued rewards on chain differ from the sum of their outcomes' rewards by more than rounding. */
  lostRewards: number;
  /** Revealed votes of agreed rounds that attested another model hash than the agreed one. */
  hashDisagreements: number;
  /** Rounds that ended with an agreed model, of those settled. */
  agreedRounds: number;
  settledRounds: number;
}

/**
 * Checks a soak's settled rounds: no double commit, no slash, no lost reward (for every
 * trainer, `accrued` — memberOf(node).rewards, which counts points not yet credited — equals the
 * sum of its outcomes' pool shares within one wei per round of rounding), and every revealed vote
 * of a round that agreed attested the agreed hash.
 */
export function checkSoak(records: readonly RoundRecord[], accrued: ReadonlyMap<string, bigint>): SoakChecks {
  let doubleCommits = 0;
  let honestSlashes = 0;
  let hashDisagreements = 0;
  let agreedRounds = 0;
  let settledRounds = 0;
  const earned = new Map<string, bigint>();
  for (const record of records) {
    const seen = new Map<string, number>();
    for (const c of record.commits) seen.set(c.node.toLowerCase(), (seen.get(c.node.toLowerCase()) ?? 0) + 1);
    doubleCommits += [...seen.values()].filter((n) => n > 1).length;
    honestSlashes += record.slashes.length;
    for (const o of record.outcomes) earned.set(o.node.toLowerCase(), (earned.get(o.node.toLowerCase()) ?? 0n) + BigInt(o.reward));
    if (record.result !== null) settledRounds++;
    if (record.result?.kind === "agreed") {
      agreedRounds++;
      const agreed = record.result.modelHash.toLowerCase();
      hashDisagreements += record.votes.filter((v) => v.modelHash.toLowerCase() !== agreed).length;
    }
  }
  let lostRewards = 0;
  for (const [node, sum] of earned) {
    const onChain = accrued.get(node) ?? 0n;
    const gap = onChain > sum ? onChain - sum : sum - onChain;
    if (gap > BigInt(records.length)) lostRewards++;
  }
  return { doubleCommits, honestSlashes, lostRewards, hashDisagreements, agreedRounds, settledRounds };
}

/** The trainers' accrued rewards on chain (memberOf(node).rewards), lowercased. */
export async function accruedRewards(
  read: (node: Address) => Promise<{ rewards: bigint }>,
  trainers: readonly Address[],
): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>();
  for (const t of trainers) out.set(t.toLowerCase(), (await read(t)).rewards);
  return out;
}
