import { encodeAbiParameters, getAddress, keccak256, type Address, type Hex } from "viem";
import { assignmentsBySeat, drawCommittee, heldSeats, type ValidatorLock } from "./committee.js";

/**
 * P8 in process: how much scoring a committee member does per round as the number of trainers
 * grows, with the contract's own committee draw and assignment rule (node/src/run/committee.ts,
 * checked against the contract's views in test/node/committee.test.ts). No chain, no IPFS: the
 * draws run on synthetic randomness and addresses, and the time per scored update is measured
 * once on the real scoring path (MNIST MLP forward passes) and multiplied.
 *
 * A committee member's scoring work is the updates assigned to its seats and nothing else
 * (≈ n·k/C per seat): with lagged attestation its vote attests M_r, which it holds from model
 * sync (node/src/sync/model-chain.ts), so it runs no accept test on the other updates and does
 * not aggregate in the vote (docs/validation.md, "Committees and blind votes"). Building M_{r+1}
 * once round r settles is one aggregation of the accepted set — no forward passes — plus one
 * held-out evaluation of M_r per vote, neither of which grows with n in forward passes.
 */

export interface CommitteeWorkOptions {
  /** Trainer counts to simulate. @default [64, 256, 1024] */
  trainers?: readonly number[];
  /** C. @default 16 */
  committeeSize?: number;
  /** k. @default 3 (the run default) */
  scorersPerUpdate?: number;
  /** Validators in the set (stake-weighted draw with replacement). @default 16 */
  validators?: number;
  /** Validator locks: "equal", or "skewed" (validator i locks i + 1 units). @default "equal" */
  locks?: "equal" | "skewed";
  /** Rounds (independent randomness) averaged per size. @default 32 */
  rounds?: number;
  /** Milliseconds one scored update costs (measure with `measureScoringMs`); 0 = counts only. @default 0 */
  msPerUpdate?: number;
}

export interface CommitteeWorkRow {
  trainers: number;
  committeeSize: number;
  scorersPerUpdate: number;
  validators: number;
  /** n·k/C: the expected updates per seat. */
  expectedPerSeat: number;
  /** Over committee members and rounds: updates assigned to a member's seats (distinct), mean and max. */
  assignedMean: number;
  assignedMax: number;
  /** Seats a committee member held, mean. */
  seatsMean: number;
  /** Scoring time per member and round (assignedMean × msPerUpdate), ms: all of its scoring work. */
  voteScoringMs: number;
  /** Scoring time per member and round at the most loaded member (assignedMax × msPerUpdate), ms. */
  maxScoringMs: number;
  /** Updates a member would score if it judged every revealed update (n): the work lagged attestation removes. */
  wholeRound: number;
}

function syntheticAddress(label: string, i: number): Address {
  const hash = keccak256(encodeAbiParameters([{ type: "string" }, { type: "uint256" }], [label, BigInt(i)]));
  return getAddress(`0x${hash.slice(26)}`);
}

function syntheticRandomness(round: number, n: number): Hex {
  return keccak256(encodeAbiParameters([{ type: "string" }, { type: "uint256" }, { type: "uint256" }], ["protolearn/p8-sim", BigInt(n), BigInt(round)]));
}

/**
 * Each committee member's scoring work per round at each trainer count (see the file comment).
 *
 * @example
 * const rows = committeeWork({ msPerUpdate: await measureScoringMs() });
 * console.table(rows); // 64, 256, 1,024 trainers, C = 16, k = 3
 */
export function committeeWork(options: CommitteeWorkOptions = {}): CommitteeWorkRow[] {
  const sizes = options.trainers ?? [64, 256, 1024];
  const C = options.committeeSize ?? 16;
  const k = options.scorersPerUpdate ?? 3;
  const V = options.validators ?? 16;
  const rounds = options.rounds ?? 32;
  const ms = options.msPerUpdate ?? 0;
  const set: ValidatorLock[] = Array.from({ length: V }, (_, i) => ({
    validator: syntheticAddress("validator", i),
    lock: options.locks === "skewed" ? BigInt(i + 1) * 10n ** 18n : 10n ** 21n,
  }));
  return sizes.map((n) => {
    const trainers = Array.from({ length: n }, (_, i) => syntheticAddress("trainer", i));
    let members = 0;
    let assignedSum = 0;
    let assignedMax = 0;
    let seatsSum = 0;
    for (let r = 0; r < rounds; r++) {
      const rand = syntheticRandomness(r, n);
      const committee = drawCommittee(rand, set, 0n, C);
      const bySeat = assignmentsBySeat(rand, trainers, C, k);
      for (const member of new Set(committee)) {
        const seats = heldSeats(committee, member);
        const assigned = new Set(seats.flatMap((seat) => bySeat[seat] ?? [])).size;
        members++;
        assignedSum += assigned;
        assignedMax = Math.max(assignedMax, assigned);
        seatsSum += seats.length;
      }
    }
    const assignedMean = assignedSum / members;
    return {
      trainers: n,
      committeeSize: C,
      scorersPerUpdate: k,
      validators: V,
      expectedPerSeat: (n * k) / C,
      assignedMean,
      assignedMax,
      seatsMean: seatsSum / members,
      voteScoringMs: assignedMean * ms,
      maxScoringMs: assignedMax * ms,
      wholeRound: n,
    };
  });
}

/**
 * Milliseconds one update costs on the real scoring path (`scoreUpdate` on the MNIST MLP: forward
 * passes of two 256-example batches before and at Δ/4, the sign test's gradient of one, and —
 * these synthetic updates have no reference norm — the full and half steps), the mean over
 * `samples` synthetic sparse updates. Loads the
 * dataset and a tfjs backend (slow the first time).
 */
export async function measureScoringMs(samples = 4): Promise<number> {
  const [{ loadMnist }, { createMnistMlp }, { initParams }, { scoreUpdate }, { selectBackend }, { createRng }] = await Promise.all([
    import("../data/mnist.js"),
    import("../model/mlp.js"),
    import("../model/params.js"),
    import("../validate/score-update.js"),
    import("../train/backend.js"),
    import("../random/index.js"),
  ]);
  await selectBackend({ backend: "auto" });
  const dataset = await loadMnist();
  const model = createMnistMlp();
  const theta = initParams(model.spec, "p8-sim");
  const rng = createRng("p8-sim/updates");
  const one = (i: number): number => {
    const delta = new Float32Array(theta.length);
    for (let j = 0; j < Math.ceil(theta.length / 100); j++) delta[rng.nextInt(theta.length)] = rng.nextNormal() * 1e-3;
    const started = performance.now();
    scoreUpdate({ model, dataset, globalParams: theta, delta, seed: syntheticRandomness(i, 0), node: syntheticAddress("trainer", i), numShards: 8 });
    return performance.now() - started;
  };
  one(0); // warm-up (kernels, caches)
  let total = 0;
  for (let i = 1; i <= samples; i++) total += one(i);
  return total / samples;
}

/** `committeeWork` with the scoring time measured here: the table `scripts/bench-gas.ts` prints for P8. */
export async function committeeWorkReport(options: Omit<CommitteeWorkOptions, "msPerUpdate"> & { samples?: number } = {}): Promise<{ msPerUpdate: number; rows: CommitteeWorkRow[] }> {
  const msPerUpdate = await measureScoringMs(options.samples ?? 4);
  return { msPerUpdate, rows: committeeWork({ ...options, msPerUpdate }) };
}

/** The rows as a fixed-width text table. */
export function formatCommitteeWork(report: { msPerUpdate: number; rows: readonly CommitteeWorkRow[] }): string {
  const pad = (s: unknown, n: number) => String(s).padStart(n);
  const lines = [
    `P8: a committee member's scoring work per round — only the updates assigned to its seats; it attests M_r, so no accept test on the rest (C = ${report.rows[0]?.committeeSize ?? "?"}, k = ${report.rows[0]?.scorersPerUpdate ?? "?"}, ${report.rows[0]?.validators ?? "?"} validators, ${report.msPerUpdate.toFixed(1)} ms per scored update)`,
    `${pad("trainers", 9)} ${pad("n·k/C", 7)} ${pad("scored", 7)} ${pad("max", 5)} ${pad("seats", 6)} ${pad("scoring ms", 11)} ${pad("max ms", 7)} ${pad("whole round", 12)}`,
  ];
  for (const r of report.rows) {
    lines.push(
      `${pad(r.trainers, 9)} ${pad(r.expectedPerSeat.toFixed(1), 7)} ${pad(r.assignedMean.toFixed(1), 7)} ${pad(r.assignedMax, 5)} ${pad(r.seatsMean.toFixed(2), 6)} ${pad(Math.round(r.voteScoringMs), 11)} ${pad(Math.round(r.maxScoringMs), 7)} ${pad(r.wholeRound, 12)}`,
    );
  }
  lines.push("(scored: distinct updates assigned to a member's seats, mean over members and rounds; whole round: n, what a member scored before lagged attestation)");
  return lines.join("\n");
}
