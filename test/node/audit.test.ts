import { strict as assert } from "node:assert";
import { after, before, describe, it } from "node:test";
import type { Address } from "viem";
import { trainingRunAbi } from "../../node/src/chain/abis.js";
import { connectChain, type ChainContext } from "../../node/src/chain/client.js";
import type { AuditReport } from "../../node/src/audit/index.js";
import type { CliIo } from "../../node/src/cli/context.js";
import { main } from "../../node/src/cli/main.js";
import { startFinishedNetwork, type FinishedNetwork } from "./helpers/finishedNetwork.js";

/**
 * `protolearn audit` against a network with a registration round and three finished training
 * rounds (helpers/finishedNetwork.ts with the lazy validator of round 4): the records it rebuilds
 * are cross-checked against the chain's events read independently, its --verify must catch the
 * liar's hash mismatch and the ghost's unreachable CID, --rescore must reproduce the validator's
 * scores and name the validator that attested a wrong model hash (P9), and --json must be
 * byte-for-byte stable.
 */

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe("protolearn audit", { timeout: 300_000 }, () => {
  let fx: FinishedNetwork;
  let chain: ChainContext;

  async function audit(...args: string[]): Promise<CliResult> {
    let stdout = "";
    let stderr = "";
    const io: CliIo = {
      out: (s) => void (stdout += s),
      err: (s) => void (stderr += s),
      env: {},
      progress: false,
    };
    const code = await main(
      [
        "node",
        "protolearn",
        "audit",
        "--network",
        "anvil",
        "--rpc-url",
        fx.rpcUrl,
        "--deployments",
        fx.deploymentsDir,
        "--run",
        "1",
        ...args,
      ],
      io,
    );
    return { code, stdout, stderr };
  }

  async function auditJson(...args: string[]): Promise<{ result: CliResult; report: AuditReport }> {
    const result = await audit(...args, "--json");
    assert.ok(result.stdout.length > 0, `audit printed no report: ${result.stderr}`);
    return { result, report: JSON.parse(result.stdout) as AuditReport };
  }

  const peerArgs = (): string[] => fx.peers.flatMap((p) => ["--peer", p]);

  before(async () => {
    fx = await startFinishedNetwork({ port: 18731, lazyValidator: true });
    chain = await connectChain({ rpcUrl: fx.rpcUrl, deployment: fx.net.deployment, runId: 1 });
  });

  after(async () => {
    await fx?.stop();
  });

  it("rebuilds every round's commits, reveals, scores, outcomes, rewards and slashes from events, as the chain records them", async () => {
    const { result, report } = await auditJson();
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(report.checks, { verify: false, rescore: false });
    assert.deepEqual(report.findings, []);
    const query = (round: number) =>
      ({
        address: fx.runAddress,
        abi: trainingRunAbi,
        args: { runId: 1n, round: BigInt(round) },
        fromBlock: 0n,
        strict: true,
      }) as const;

    const registration = report.rounds.find((x) => x.round === 1);
    assert.equal(registration?.status, "failed", "round 1 is the registration round: no trainer holds a seat");
    assert.equal(registration?.commits, 0);
    const { scorersPerUpdate } = await chain.contracts.run.read.params();
    for (const round of [2, 3]) {
      const r = report.rounds.find((x) => x.round === round);
      assert.ok(r, `round ${round} is in the report`);
      const [revealed, scored, agreed, slashed, votes, settled] = await Promise.all([
        chain.publicClient.getContractEvents({ ...query(round), eventName: "Revealed" }),
        chain.publicClient.getContractEvents({ ...query(round), eventName: "UpdateScored" }),
        chain.publicClient.getContractEvents({ ...query(round), eventName: "ModelAgreed" }),
        chain.publicClient.getContractEvents({ ...query(round), eventName: "NodeSlashed" }),
        chain.publicClient.getContractEvents({ ...query(round), eventName: "VoteRevealed" }),
        chain.publicClient.getContractEvents({ ...query(round), eventName: "ValidatorSettled" }),
      ]);
      assert.equal(r.status, "agreed");
      assert.equal(r.agreed?.modelHash, agreed[0]?.args.modelHash);
      assert.equal(r.agreed?.evalLoss, agreed[0]?.args.evalLoss.toString());
      assert.equal(r.commits, 4);
      const revealedRows = r.contributions.filter((c) => c.reveal !== null);
      assert.deepEqual(
        revealedRows.map((c) => [c.node, c.reveal?.cid, c.reveal?.contentHash, c.reveal?.samples]),
        revealed.map((e) => [
          e.args.node,
          e.args.cid,
          e.args.contentHash,
          e.args.samples.toString(),
        ]),
      );
      for (const e of scored) {
        const row: AuditReport["rounds"][number]["contributions"][number] | undefined =
          r.contributions.find((c) => c.node === e.args.node);
        assert.deepEqual(
          [row?.medianScore, row?.scorers, row?.accepted, row?.rewardPoints],
          [e.args.medianScore, e.args.scorers, e.args.accepted, e.args.rewardPoints.toString()],
        );
      }
      // The one validator holds every committee seat: its vote is the round's only one.
      assert.deepEqual(
        r.validators.map((v) => [v.validator, v.weight, v.revealed, v.modelHash, v.evalLoss, v.agreed]),
        votes.map((v) => [
          v.args.validator,
          Number(v.args.weight),
          true,
          v.args.modelHash,
          v.args.evalLoss.toString(),
          settled.find((s) => s.args.validator === v.args.validator)?.args.agreed,
        ]),
      );
      assert.equal(r.committee?.length, 16);
      assert.ok(r.committee?.every((holder) => holder === fx.validator));
      // Each update has k scorer seats, all the validator's, each revealed with one score.
      for (const row of revealedRows) {
        assert.equal(row.scorerSeats.length, scorersPerUpdate);
        assert.deepEqual(
          row.scores.map((s) => s.seat).sort((a, b) => a - b),
          row.scorerSeats,
        );
        assert.ok(row.scores.every((s) => s.validator === fx.validator && s.scorePpm === row.medianScore));
      }
      const accepted = r.contributions.filter((c) => c.accepted === true).map((c) => c.node);
      assert.deepEqual(
        accepted.sort(),
        [...fx.honest].sort(),
        `round ${round}: the two honest updates are accepted`,
      );
      assert.ok(
        r.contributions
          .filter((c) => c.accepted)
          .every((c) => BigInt(c.rewardPoints ?? "0") > 0n && BigInt(c.reward ?? "0") > 0n),
      );
      // Slashes: what the run emitted, with the StakeManager's evidence hash beside it.
      const slashRows = r.contributions.flatMap((c) =>
        c.slashes.map((s) => ({ node: c.node, ...s })),
      );
      assert.deepEqual(
        slashRows.map((s) => [s.node, s.slashId, s.amount]),
        slashed.map((e) => [e.args.node, e.args.slashId.toString(), e.args.amount.toString()]),
      );
      for (const s of slashRows) {
        const record = await chain.contracts.stakeManager.read.slashRecord([BigInt(s.slashId)]);
        assert.equal(s.evidenceHash, record.evidenceHash.toLowerCase());
      }
    }

    const round2 = report.rounds.find((r) => r.round === 2);
    const liarRow = round2?.contributions.find((c) => c.node === fx.liar);
    assert.equal(liarRow?.reveal?.contentHash, fx.liarReveals.get(2)?.claimed);
    assert.deepEqual(
      liarRow?.slashes.map((s) => [s.reason, s.evidenceHash, s.status]),
      [["InvalidUpdate", fx.liarReveals.get(2)?.claimed, "escrowed"]],
    );
    const round3 = report.rounds.find((r) => r.round === 3);
    const ghostRow = round3?.contributions.find((c) => c.node === fx.ghost);
    assert.equal(ghostRow?.reveal, null, "the ghost never revealed in round 3");
    assert.deepEqual(
      ghostRow?.slashes.map((s) => [s.reason, s.slashId, s.evidenceHash, s.status]),
      [["NoReveal", fx.reversedSlashId.toString(), ghostRow?.commitment, "reversed"]],
    );
  });

  it("prints the same --json bytes twice, with sorted keys and amounts as decimal strings", async () => {
    const first = await audit("--json");
    const second = await audit("--json");
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, second.stdout);
    const report = JSON.parse(first.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(report), [...Object.keys(report)].sort());
    const round = (report.rounds as AuditReport["rounds"])[1];
    assert.deepEqual(Object.keys(round ?? {}), Object.keys(round ?? {}).sort());
    assert.equal(typeof round?.agreed?.emission, "string");
    assert.match(round?.agreed?.emission ?? "", /^\d+$/);
  });

  it("--verify catches the update whose content hash does not match the bytes at its CID and the CID nobody serves, and exits 1", async () => {
    const { result, report } = await auditJson("--verify", "--timeout-ms", "4000", ...peerArgs());
    assert.equal(result.code, 1, "findings make the audit fail");
    assert.match(
      result.stderr,
      /error: the audit of run 1 found 3 claim\(s\) that do not check out \(2 hash-mismatch, 1 unreachable\)/,
    );
    assert.deepEqual(
      report.findings.map((f) => [f.round, f.kind, f.node, f.cid]),
      [
        [2, "hash-mismatch", fx.liar, fx.liarReveals.get(2)?.cid],
        [2, "unreachable", fx.ghost, fx.ghostCid],
        [3, "hash-mismatch", fx.liar, fx.liarReveals.get(3)?.cid],
      ],
    );
    const mismatch = report.rounds[1]?.contributions.find((c) => c.node === fx.liar)?.verify;
    assert.equal(
      mismatch?.actualHash,
      fx.liarReveals.get(2)?.actual,
      "the report names the hash of the bytes really at the CID",
    );
    assert.match(report.findings[0]?.onChain ?? "", /rejected, median 0; slashed InvalidUpdate/);
    for (const round of report.rounds) {
      for (const c of round.contributions.filter((x) => fx.honest.includes(x.node as Address))) {
        assert.equal(c.verify?.status, "ok", `round ${round.round} ${c.node}: ${c.verify?.detail}`);
        assert.equal(c.verify?.checked, "hash+decode");
      }
    }
    const text = await audit("--verify", "--timeout-ms", "4000", ...peerArgs());
    assert.equal(text.code, 1);
    assert.match(text.stdout, /verify: HASH-MISMATCH — the 4096 bytes behind/);
    assert.match(text.stdout, /findings \(3\):/);
  });

  it("--rescore recomputes the honest scores equal to the on-chain medians and replays the agreed models", async () => {
    const [honestA] = fx.honest;
    const { result, report } = await auditJson(
      "--rescore",
      "--round",
      "3",
      "--node",
      honestA,
      ...peerArgs(),
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(report.rounds.length, 1);
    const row = report.rounds[0]?.contributions[0];
    assert.equal(row?.node, honestA);
    assert.equal(row?.rescore?.reason, "ok");
    assert.equal(row?.rescore?.scorePpm, row?.medianScore);
    assert.equal(row?.rescore?.differsBy, 0);
    assert.equal(report.rounds[0]?.replay?.modelHashMatches, true);
    assert.equal(report.rounds[0]?.replay?.evalLoss, report.rounds[0]?.agreed?.evalLoss);
    assert.ok((report.rounds[0]?.replay?.accuracy ?? 0) > 0.1);
  });

  it("--rescore names the validator that attested a model hash other than the one the on-chain accepted set yields (P9)", async () => {
    const lazy = fx.lazyValidator as Address;
    assert.ok(lazy !== null);
    const { result, report } = await auditJson("--rescore", "--round", "4", "--node", lazy, ...peerArgs());
    assert.equal(result.code, 1, "a wrong model hash is a finding");
    const round = report.rounds[0];
    assert.equal(round?.round, 4);
    const votes = await chain.publicClient.getContractEvents({
      address: fx.runAddress,
      abi: trainingRunAbi,
      eventName: "VoteRevealed",
      args: { runId: 1n, round: 4n },
      fromBlock: 0n,
      strict: true,
    });
    const attested = new Map(votes.map((v) => [v.args.validator, v.args.modelHash]));
    assert.equal(attested.size, 2, "both validators revealed a vote");
    assert.ok(round?.expectedModel, "the round's right model hash is computed");
    assert.equal(round.expectedModel.modelHash, attested.get(fx.validator), "the honest validator attested the right hash");
    assert.notEqual(attested.get(lazy), round.expectedModel.modelHash);
    assert.deepEqual(round.expectedModel.wrong, [lazy], "only the lazy validator is named");
    assert.deepEqual(
      report.findings.filter((f) => f.kind === "wrong-model-hash").map((f) => [f.round, f.kind, f.node]),
      [[4, "wrong-model-hash", lazy]],
    );
    assert.match(report.findings.find((f) => f.kind === "wrong-model-hash")?.detail ?? "", /attested another model hash/);
    // With two equal locks the lazy validator sometimes holds 2/3 of the seats: its wrong hash is
    // then the committee's agreement, which the replay reports instead of stopping on it.
    const agreedWrong = report.findings.filter((f) => f.kind === "wrong-model-agreed");
    const roundAgreed = round.agreed !== null && round.agreed.modelHash.toLowerCase() === attested.get(lazy)?.toLowerCase();
    assert.equal(agreedWrong.length, roundAgreed ? 1 : 0, "a wrong agreement is a finding of its own");
    assert.match(result.stderr, /1 wrong-model-hash/);
  });

  it("refuses a round or run that does not exist, naming the ones that do", async () => {
    const round = await audit("--round", "99");
    assert.equal(round.code, 1);
    assert.match(round.stderr, /run 1 has no round 99 — pick a round between 1 and 5/);
    assert.equal(round.stdout, "");
    const node = await audit("--node", "not-an-address");
    assert.equal(node.code, 1);
    assert.match(node.stderr, /is not an address/);
  });
});
