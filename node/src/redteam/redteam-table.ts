/**
 * The red-team table (issue 11): one row per adversary class, built from what a scenario's
 * chain records (node/src/history) and its validators' logs say, against an all-honest run on the
 * same dev keys. Pure: no network, so it is unit-tested on its own.
 */

/** What happened to one committed update, from the chain (and, for `duplicate`, the validators' logs). */
export interface ScenarioUpdate {
  round: number;
  /** Lowercased trainer address. */
  node: string;
  adversary: boolean;
  /**
   * accepted: in the round's accepted set; rejected: revealed, not accepted, not slashed;
   * slashed: NodeSlashed(InvalidUpdate) in that round; no-reveal: committed, never revealed.
   */
  outcome: "accepted" | "rejected" | "slashed" | "no-reveal";
  /** A validator that scored it logged reason `duplicate` (it repeats other or public work). */
  duplicate: boolean;
}

/** One scenario's network run, reduced to what the table needs (JSON-able). */
export interface ScenarioRecord {
  /** The adversary class ("none" for the all-honest baseline). */
  adversary: string;
  rounds: number;
  trainers: { address: string; adversary: boolean; /** LEARN locked at the start. */ lock?: number }[];
  validators: number;
  /** The validators (locks in LEARN), their rewards (LEARN) and committee seats summed over the rounds. */
  validatorSide?: {
    validators: { address: string; adversary: boolean; lock: number }[];
    rewards: Record<string, number>;
    seats: Record<string, number>;
  };
  /** collude-zero: the honest trainer the colluders score 0. */
  target?: string;
  /** The soak scenario: the faults injected and the invariants checked (counts of violations). */
  soak?: {
    faults: { round: number; kind: string; detail: string }[];
    checks: { doubleCommits: number; honestSlashes: number; lostRewards: number; hashDisagreements: number; agreedRounds: number; settledRounds: number };
    /** Nodes that stopped with MODEL_DIVERGED. */
    modelDiverged: number;
  };
  updates: ScenarioUpdate[];
  /** Trainer rewards per lowercased address, in LEARN (the outcomes' reward, summed over rounds). */
  rewards: Record<string, number>;
  /** Every slash of the run: lowercased node, reason name, round. */
  slashes: { node: string; reason: string; round: number }[];
  /** Held-out accuracy of the last model a validator measured (M_R, the last round's attested model). */
  finalAccuracy: number | undefined;
  /** Held-out loss on chain (ModelAgreed) of the last agreed round. */
  finalLoss: number | undefined;
  /** Rounds that ended with an agreed model. */
  agreedRounds: number;
  elapsedSeconds: number;
}

export type Detection = "duplicate" | "slashed" | "rejected" | "not detected";

export interface RedteamRow {
  adversary: string;
  /** The most frequent detection of its updates, with the counts of every kind that occurred. */
  detection: string;
  detections: Record<Detection, number>;
  adversaryUpdates: number;
  /** Share of its committed updates that were slashed (0–1). */
  slashedShare: number;
  /** Its mean reward per adversarial trainer as % of the honest trainers' mean (undefined: honest earned 0). */
  rewardPctOfHonest: number | undefined;
  finalAccuracy: number | undefined;
  baselineAccuracy: number | undefined;
  finalLoss: number | undefined;
  baselineLoss: number | undefined;
  honestUpdates: number;
  honestRejected: number;
  /** Distinct honest trainers slashed for any reason. */
  honestTrainersSlashed: number;
  /**
   * The adversary's share of the seats against its share of the stake (%): trainer classes, its
   * committed updates of all committed; validator classes, its committee seats of all seats.
   */
  seatSharePct: number | undefined;
  stakeSharePct: number | undefined;
  /** Validator classes: the adversarial validators' reward per locked LEARN as % of the honest validators'. */
  validatorRewardPctOfHonest: number | undefined;
  /** collude-zero: the target's updates not accepted / committed. */
  targetRejected: string | undefined;
  agreedRounds: number;
  rounds: number;
}

/** Where one adversarial update ended: duplicate > slashed > rejected > not detected. */
export function detectionOf(update: ScenarioUpdate): Detection {
  if (update.duplicate) return "duplicate";
  if (update.outcome === "slashed") return "slashed";
  if (update.outcome === "accepted") return "not detected";
  return "rejected"; // rejected, or no-reveal (slashed NoReveal is counted with the slashes below)
}

/** One table row: a scenario against the all-honest baseline (undefined: none was run). */
export function redteamRow(scenario: ScenarioRecord, baseline: ScenarioRecord | undefined): RedteamRow {
  const bad = scenario.updates.filter((u) => u.adversary);
  const honest = scenario.updates.filter((u) => !u.adversary);
  const detections: Record<Detection, number> = { duplicate: 0, slashed: 0, rejected: 0, "not detected": 0 };
  for (const update of bad) detections[detectionOf(update)]++;
  const order: Detection[] = ["duplicate", "slashed", "rejected", "not detected"];
  const present = order.filter((d) => detections[d] > 0).sort((a, b) => detections[b] - detections[a]);
  const detection =
    bad.length === 0
      ? "-"
      : present.map((d, i) => (i === 0 ? `${d} ${detections[d]}/${bad.length}` : `${d} ${detections[d]}`)).join(", ");
  const slashedNodes = new Set(scenario.slashes.map((s) => s.node.toLowerCase()));
  const slashedUpdates = bad.filter((u) => u.outcome === "slashed").length;
  const mean = (xs: number[]): number => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);
  const rewardOf = (address: string): number => scenario.rewards[address.toLowerCase()] ?? 0;
  const honestMean = mean(scenario.trainers.filter((t) => !t.adversary).map((t) => rewardOf(t.address)));
  const badMean = mean(scenario.trainers.filter((t) => t.adversary).map((t) => rewardOf(t.address)));
  const validators = scenario.validatorSide?.validators ?? [];
  const validatorClass = validators.some((v) => v.adversary);
  const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
  const share = (part: number, whole: number): number | undefined => (whole > 0 ? (100 * part) / whole : undefined);
  let seatSharePct: number | undefined;
  let stakeSharePct: number | undefined;
  let validatorRewardPctOfHonest: number | undefined;
  if (validatorClass) {
    const seats = scenario.validatorSide?.seats ?? {};
    const rewards = scenario.validatorSide?.rewards ?? {};
    const bad = validators.filter((v) => v.adversary);
    const good = validators.filter((v) => !v.adversary);
    seatSharePct = share(sum(bad.map((v) => seats[v.address] ?? 0)), sum(validators.map((v) => seats[v.address] ?? 0)));
    stakeSharePct = share(sum(bad.map((v) => v.lock)), sum(validators.map((v) => v.lock)));
    const perLock = (vs: typeof validators): number => sum(vs.map((v) => rewards[v.address] ?? 0)) / Math.max(1e-18, sum(vs.map((v) => v.lock)));
    validatorRewardPctOfHonest = perLock(good) > 0 ? (100 * perLock(bad)) / perLock(good) : undefined;
  } else if (bad.length > 0) {
    seatSharePct = share(bad.length, scenario.updates.length);
    const locks = scenario.trainers.map((t) => t.lock ?? 1);
    stakeSharePct = share(sum(scenario.trainers.filter((t) => t.adversary).map((t) => t.lock ?? 1)), sum(locks));
  }
  const targetUpdates = scenario.target === undefined ? [] : scenario.updates.filter((u) => u.node === scenario.target);
  return {
    adversary: scenario.adversary,
    seatSharePct,
    stakeSharePct,
    validatorRewardPctOfHonest,
    targetRejected: scenario.target === undefined ? undefined : `${targetUpdates.filter((u) => u.outcome !== "accepted").length}/${targetUpdates.length}`,
    detection,
    detections,
    adversaryUpdates: bad.length,
    slashedShare: bad.length === 0 ? 0 : slashedUpdates / bad.length,
    rewardPctOfHonest: honestMean > 0 ? (100 * badMean) / honestMean : undefined,
    finalAccuracy: scenario.finalAccuracy,
    baselineAccuracy: baseline?.finalAccuracy,
    finalLoss: scenario.finalLoss,
    baselineLoss: baseline?.finalLoss,
    honestUpdates: honest.length,
    honestRejected: honest.filter((u) => u.outcome !== "accepted").length,
    honestTrainersSlashed: scenario.trainers.filter((t) => !t.adversary && slashedNodes.has(t.address.toLowerCase())).length,
    agreedRounds: scenario.agreedRounds,
    rounds: scenario.rounds,
  };
}

/** The table as text, one row per class (the baseline's own row first when given). */
export function formatRedteamTable(rows: readonly RedteamRow[]): string {
  const pct = (x: number | undefined, digits = 1): string => (x === undefined ? "-" : `${x.toFixed(digits)} %`);
  const acc = (x: number | undefined): string => (x === undefined ? "-" : `${(100 * x).toFixed(1)} %`);
  const loss = (x: number | undefined): string => (x === undefined ? "-" : x.toFixed(4));
  const header = [
    "adversary",
    "detected as",
    "slashed",
    "reward vs honest",
    "accuracy (all-honest)",
    "held-out loss (all-honest)",
    "honest rejected",
    "honest slashed",
    "agreed rounds",
    "seats (stake)",
    "validator reward vs honest",
  ];
  const body = rows.map((r) => [
    r.adversary,
    r.detection,
    r.adversaryUpdates === 0 ? "-" : `${pct(100 * r.slashedShare, 0)} (${Math.round(r.slashedShare * r.adversaryUpdates)}/${r.adversaryUpdates})`,
    r.adversaryUpdates === 0 ? "-" : pct(r.rewardPctOfHonest),
    `${acc(r.finalAccuracy)} (${acc(r.baselineAccuracy)})`,
    `${loss(r.finalLoss)} (${loss(r.baselineLoss)})`,
    `${r.honestRejected}/${r.honestUpdates}${r.targetRejected === undefined ? "" : ` (target ${r.targetRejected})`}`,
    String(r.honestTrainersSlashed),
    `${r.agreedRounds}/${r.rounds}`,
    r.seatSharePct === undefined ? "-" : `${r.seatSharePct.toFixed(1)} % (${pct(r.stakeSharePct)})`,
    r.validatorRewardPctOfHonest === undefined ? "-" : pct(r.validatorRewardPctOfHonest),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...body.map(line)].join("\n");
}
