import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  detectionOf,
  formatRedteamTable,
  redteamRow,
  type ScenarioRecord,
  type ScenarioUpdate,
} from "../../node/src/redteam/redteam-table.js";

const HONEST = ["0xaa", "0xbb", "0xcc"];
const BAD = "0xdd";

function record(adversary: string, bad: ScenarioUpdate["outcome"][], overrides: Partial<ScenarioRecord> = {}): ScenarioRecord {
  const updates: ScenarioUpdate[] = [];
  bad.forEach((outcome, i) => {
    for (const node of HONEST) updates.push({ round: i + 2, node, adversary: false, outcome: "accepted", duplicate: false });
    if (adversary !== "none") updates.push({ round: i + 2, node: BAD, adversary: true, outcome, duplicate: false });
  });
  return {
    adversary,
    rounds: bad.length + 1,
    trainers: [...HONEST.map((address) => ({ address, adversary: false })), ...(adversary === "none" ? [] : [{ address: BAD, adversary: true }])],
    validators: 3,
    updates,
    rewards: { "0xaa": 10, "0xbb": 12, "0xcc": 8, [BAD]: 0.3 },
    slashes: bad.flatMap((o, i) => (o === "slashed" ? [{ node: BAD, reason: "InvalidUpdate", round: i + 2 }] : [])),
    finalAccuracy: 0.9,
    finalLoss: 0.3,
    agreedRounds: bad.length,
    elapsedSeconds: 1,
    ...overrides,
  };
}

describe("redteam table (no network)", () => {
  it("classifies updates: duplicate before slashed before rejected; accepted is not detected", () => {
    const u = (outcome: ScenarioUpdate["outcome"], duplicate = false): ScenarioUpdate => ({ round: 2, node: BAD, adversary: true, outcome, duplicate });
    assert.equal(detectionOf(u("slashed", true)), "duplicate");
    assert.equal(detectionOf(u("slashed")), "slashed");
    assert.equal(detectionOf(u("rejected")), "rejected");
    assert.equal(detectionOf(u("no-reveal")), "rejected");
    assert.equal(detectionOf(u("accepted")), "not detected");
  });

  it("builds a row against the all-honest baseline", () => {
    const baseline = record("none", ["accepted", "accepted", "accepted", "accepted"], { finalAccuracy: 0.92, finalLoss: 0.28 });
    const row = redteamRow(record("norm-noise", ["slashed", "slashed", "rejected", "accepted"]), baseline);
    assert.equal(row.detection, "slashed 2/4, rejected 1, not detected 1");
    assert.equal(row.adversaryUpdates, 4);
    assert.equal(row.slashedShare, 0.5);
    assert.equal(row.rewardPctOfHonest, 3); // 0.3 of an honest mean of 10
    assert.equal(row.baselineAccuracy, 0.92);
    assert.equal(row.baselineLoss, 0.28);
    assert.equal(row.honestUpdates, 12);
    assert.equal(row.honestRejected, 0);
    assert.equal(row.honestTrainersSlashed, 0);
    const honestSlashed = redteamRow(
      record("scale", ["slashed"], { slashes: [{ node: "0xaa", reason: "InvalidUpdate", round: 2 }, { node: BAD, reason: "InvalidUpdate", round: 2 }] }),
      baseline,
    );
    assert.equal(honestSlashed.honestTrainersSlashed, 1);
    const own = redteamRow(baseline, baseline);
    assert.equal(own.detection, "-");
    assert.equal(own.adversaryUpdates, 0);
  });

  it("formats one aligned row per class", () => {
    const baseline = record("none", ["accepted", "accepted"]);
    const text = formatRedteamTable([redteamRow(baseline, baseline), redteamRow(record("garbage", ["slashed", "slashed"]), baseline)]);
    const lines = text.split("\n");
    assert.equal(lines.length, 4);
    assert.ok(lines.every((l) => l.length === lines[0]!.length));
    assert.match(lines[3]!, /\| garbage +\| slashed 2\/2 +\| 100 % \(2\/2\) +\| 3\.0 % +\| 90\.0 % \(90\.0 %\)/);
  });
});
