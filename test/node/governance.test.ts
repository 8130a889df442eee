import { DEFAULT_RUN_PARAMS } from "../../ignition/modules/defaults.js";
import { strict as assert } from "node:assert";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { getAddress, keccak256, parseUnits, toBytes, type Address } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { connectChain, type ChainContext } from "../../node/src/chain/client.js";
import { DEVNET_MNEMONIC } from "../../node/src/devnet/dev-keys.js";
import { startDevnet, type Devnet } from "../../node/src/devnet/start-devnet.js";
import type { CliIo } from "../../node/src/cli/context.js";
import { main } from "../../node/src/cli/main.js";
import {
  applyRunParamChanges,
  describeActions,
  GovernanceError,
  guardianProposal,
  paramsProposal,
  parseProposalId,
  parseVoteChoice,
  proposalId,
  proposalStateName,
  reverseSlashProposal,
  runSwitchProposal,
  treasuryTransferProposal,
  type RunParams,
} from "../../node/src/governance/index.js";
import { encryptKeystore, writeKeystoreFile } from "../../node/src/keystore/keystore.js";

/**
 * Governance through the CLI on a real anvil devnet: proposals built by node/src/governance,
 * voted by the devnet's self-delegated accounts, queued and executed through the timelock
 * after moving the chain's blocks and time, and the run's state checked after each.
 */

const PORT = 18561;
const PASSWORD = "governance-test-password";
const LEARN = (n: string): bigint => parseUnits(n, 18);
const THRESHOLD = LEARN("100000");

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function cli(argv: string[]): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    out: (s) => void (stdout += s),
    err: (s) => void (stderr += s),
    env: { PROTOLEARN_PASSWORD: PASSWORD },
    progress: false,
  };
  const code = await main(["node", "protolearn", ...argv], io);
  return { code, stdout, stderr };
}

async function ok(argv: string[]): Promise<Record<string, unknown>> {
  const result = await cli([...argv, "--json"]);
  assert.equal(result.code, 0, `protolearn ${argv.join(" ")}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

function assertOneLineError(result: RunResult, pattern: RegExp): void {
  assert.equal(result.code, 1, `expected exit 1: ${result.stdout}${result.stderr}`);
  assert.equal(result.stdout, "");
  const lines = result.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, result.stderr);
  assert.match(lines[0] ?? "", pattern);
}

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

describe("governance proposals (pure)", () => {
  const current = {
    modelId: keccak256(toBytes("mnist-mlp-v1")),
    innerSteps: 50,
    batchSize: 64,
    innerLrPpm: 2000,
    outerLrPpm: 700_000,
    outerMomentumPpm: 900_000,
    densityPpm: 10_000,
    quantBits: 8,
    aggregation: 0,
    trimPpm: 100_000,
    clipMultiplePpm: 2_000_000,
    checkpointEvery: 5,
    commitDuration: 600,
    revealDuration: 300,
    scoreDuration: 600,
    voteRevealDuration: 300,
    maxNodesPerRound: 128,
    trainerSeats: 64,
    committeeSize: 16,
    scorersPerUpdate: 3,
    minUpdates: 2,
    acceptScorePpm: 1,
    minTrainerStake: LEARN("100"),
    minValidatorStake: LEARN("1000"),
    invalidSlashBps: 1000,
    noRevealSlashBps: 100,
    validatorSlashBps: 500,
    validatorShareBps: 2000,
    emissionPerRound: LEARN("100"),
  } satisfies RunParams;

  it("applies named changes, leaves the other fields alone and reports old -> new", () => {
    const { next, changes } = applyRunParamChanges(current, [
      "innerSteps=100",
      "densityPpm=5_000",
      "minTrainerStake=150.5",
      "modelId=mnist-cnn-v1",
    ]);
    assert.deepEqual(
      { ...next },
      {
        ...current,
        innerSteps: 100,
        densityPpm: 5000,
        minTrainerStake: LEARN("150.5"),
        modelId: keccak256(toBytes("mnist-cnn-v1")),
      },
    );
    assert.deepEqual(changes.map((c) => `${c.name}: ${c.from} -> ${c.to}`).slice(0, 3), [
      "innerSteps: 50 -> 100",
      "densityPpm: 10000 -> 5000",
      "minTrainerStake: 100 LEARN -> 150.5 LEARN",
    ]);
  });

  it("rejects unknown names with a suggestion, malformed assignments, wrong types, overflow, duplicates and no-op sets", () => {
    const rejects = (sets: string[], pattern: RegExp): void =>
      assert.throws(
        () => applyRunParamChanges(current, sets),
        (err: unknown) => err instanceof GovernanceError && pattern.test(err.toDisplayString()),
      );
    rejects(
      ["innerStep=100"],
      /"innerStep" is not a run parameter — did you mean innerSteps\? valid names: modelId, innerSteps/,
    );
    rejects(["innerSteps"], /not of the form name=value/);
    rejects(["innerSteps=1.5"], /innerSteps is a whole number from 0 to 4294967295/);
    rejects(["quantBits=256"], /quantBits is a uint8 \(at most 255\)/);
    rejects(["minTrainerStake=abc"], /an amount of LEARN/);
    rejects(["modelId=0x1234"], /a 32-byte hex value or a model name/);
    rejects(["innerSteps=1", "innerSteps=2"], /innerSteps is set twice/);
    rejects(["innerSteps=50"], /would change nothing/);
    rejects([], /needs at least one --set/);
  });

  it("parses vote choices, proposal ids and state names", () => {
    assert.equal(parseVoteChoice("FOR"), "for");
    assert.equal(parseVoteChoice("abstain"), "abstain");
    assert.throws(
      () => parseVoteChoice("yes"),
      (err: unknown) =>
        err instanceof GovernanceError &&
        err.toDisplayString() === '"yes" is not a vote — vote `for`, `against` or `abstain`',
    );
    assert.equal(parseProposalId("0x10"), 16n);
    assert.equal(parseProposalId("12345678901234567890123"), 12345678901234567890123n);
    assert.throws(() => parseProposalId("abc"), GovernanceError);
    assert.deepEqual([0, 1, 4, 5, 7].map(proposalStateName), [
      "Pending",
      "Active",
      "Succeeded",
      "Queued",
      "Executed",
    ]);
    assert.throws(() => proposalStateName(8), GovernanceError);
  });

  it("describes each kind of proposal back from its calls", () => {
    const run = "0x00000000000000000000000000000000000000a1" as Address;
    const stakeManager = "0x00000000000000000000000000000000000000b2" as Address;
    const token = "0x00000000000000000000000000000000000000c3" as Address;
    const factory = "0x00000000000000000000000000000000000000d4" as Address;
    const known = { runs: [{ runId: 1, address: run }], stakeManager, token, factory };
    const describe = (draft: {
      actions: { target: Address; calldata: `0x${string}` }[];
    }): string => {
      const d = describeActions(
        known,
        draft.actions.map((a) => a.target),
        draft.actions.map((a) => a.calldata),
      );
      return `${d.kind}: ${d.summary}`;
    };
    assert.equal(
      describe(paramsProposal({ run, runId: 1, next: current, changes: [] })),
      "params: set run 1 parameters",
    );
    assert.equal(
      describe(runSwitchProposal({ kind: "pause", run, runId: 1 })),
      "pause: pause run 1",
    );
    assert.equal(
      describe(runSwitchProposal({ kind: "resume", run, runId: 1 })),
      "resume: resume run 1",
    );
    assert.equal(describe(runSwitchProposal({ kind: "halt", run, runId: 1 })), "halt: halt run 1");
    assert.equal(
      describe(reverseSlashProposal({ stakeManager, slashId: 7n })),
      "reverse-slash: reverse slash #7",
    );
    assert.equal(
      describe(treasuryTransferProposal({ token, to: stakeManager, amount: LEARN("12.5") })),
      `treasury-transfer: transfer 12.5 LEARN to ${stakeManager}`,
    );
    assert.equal(
      describe(guardianProposal({ scope: "run", target: run, runId: 1, guardian: token })),
      `guardian: make ${getAddress(token)} the guardian of run 1`,
    );
    assert.equal(
      describe(guardianProposal({ scope: "default", target: factory, runId: 1, guardian: token })),
      `guardian: make ${getAddress(token)} the guardian of new runs`,
    );
    assert.equal(describeActions(known, [stakeManager], ["0xdeadbeef"]).kind, "other");
  });
});

describe("governance through the CLI on an anvil devnet", () => {
  let devnet: Devnet;
  let dir: string;
  let chain: ChainContext;
  let guardianFlags: string[];

  const flagsOf = (i: number): string[] => {
    const account = devnet.accounts[i];
    assert.ok(account, `no devnet account ${i}`);
    return ["--config", account.configPath, "--deployments", join(dir, "deployments")];
  };
  const mine = async (blocks: number): Promise<void> =>
    void (await rpc(devnet.chain.rpcUrl, "anvil_mine", [`0x${blocks.toString(16)}`]));
  const passTime = async (seconds: number): Promise<void> => {
    await rpc(devnet.chain.rpcUrl, "evm_increaseTime", [seconds]);
    await rpc(devnet.chain.rpcUrl, "evm_mine", []);
  };
  const nonceOf = (i: number): Promise<number> =>
    chain.publicClient.getTransactionCount({ address: devnet.accounts[i]?.address ?? "0x" });

  /** Everyone votes for each proposal, the vote ends, each is queued, the timelock delay passes. */
  async function passAndQueue(ids: string[]): Promise<void> {
    await mine(2); // past the voting delay
    for (const id of ids)
      for (let i = 0; i < devnet.accounts.length; i++) await ok(["vote", id, "for", ...flagsOf(i)]);
    await mine(51); // past the voting period
    for (const id of ids) await ok(["queue", id, ...flagsOf(0)]);
    await passTime(3600);
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protolearn-gov-"));
    devnet = await startDevnet({
      port: PORT,
      accounts: 4, // 4 x 250,000 LEARN = 1,000,000 votes > 4 % quorum of the 20,000,000 supply
      validators: 1,
      outDir: join(dir, "devnet"),
      deploymentsDir: join(dir, "deployments"),
      password: PASSWORD,
      // A public network's kind of threshold: each self-delegated node account holds more.
      parameters: { proposalThreshold: THRESHOLD },
    });
    chain = await connectChain({
      rpcUrl: devnet.chain.rpcUrl,
      deployment: devnet.deployment,
      runId: 1,
    });
    // The guardian is the deployer (dev key #0); give it a keystore and config like a node's.
    const guardianKey = mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: 0 }).getHdKey()
      .privateKey;
    assert.ok(guardianKey);
    const keystore = join(dir, "guardian", "keystore.json");
    await writeKeystoreFile(
      keystore,
      await encryptKeystore(`0x${Buffer.from(guardianKey).toString("hex")}`, PASSWORD, {
        scryptN: 1 << 12,
      }),
    );
    const config = join(dir, "guardian", "config.json");
    await writeFile(
      config,
      JSON.stringify({
        network: "localhost",
        rpcUrl: devnet.chain.rpcUrl,
        keystore,
        dataDir: join(dir, "guardian", "data"),
      }),
    );
    guardianFlags = ["--config", config, "--deployments", join(dir, "deployments")];
  });

  after(async () => {
    await devnet?.stop();
  });

  it("a parameter change and a treasury grant pass: propose, vote, queue, wait the timelock delay, execute", async () => {
    const proposed = await ok([
      "propose",
      "params",
      "--set",
      "innerSteps=200",
      "--set",
      "densityPpm=5000",
      ...flagsOf(0),
    ]);
    const paramsId = String(proposed.proposalId);
    assert.equal(proposed.kind, "params");
    // the CLI's id is the governor's own hashProposal
    const { targets, values, calldatas } = proposed as unknown as {
      targets: Address[];
      values: string[];
      calldatas: `0x${string}`[];
    };
    assert.equal(
      await chain.contracts.governor.read.hashProposal([
        targets,
        values.map(BigInt),
        calldatas,
        keccak256(toBytes(String(proposed.description))),
      ]),
      BigInt(paramsId),
    );
    assert.equal(
      proposalId({ targets, values: values.map(BigInt), calldatas }, String(proposed.description)),
      BigInt(paramsId),
    );

    const recipient = devnet.accounts[3]?.address ?? "0x";
    const grant = await ok([
      "propose",
      "treasury-transfer",
      recipient,
      "1234.5",
      "--description",
      "Grant to node-4",
      ...flagsOf(1),
    ]);
    const grantId = String(grant.proposalId);

    // too early to vote: nothing is sent
    const nonce = await nonceOf(1);
    assertOneLineError(
      await cli(["vote", paramsId, "for", ...flagsOf(1)]),
      /is Pending; voting opens at block \d+ \(in \d+ blocks?\), and votes are only accepted while it is Active/,
    );
    assert.equal(await nonceOf(1), nonce);

    await mine(2);
    const voted = await ok([
      "vote",
      paramsId,
      "for",
      "--reason",
      "longer inner loop",
      ...flagsOf(0),
    ]);
    assert.equal(voted.weight, LEARN("250000").toString());
    assertOneLineError(
      await cli(["vote", paramsId, "against", ...flagsOf(0)]),
      /has already voted on proposal/,
    );
    assertOneLineError(
      await cli(["queue", paramsId, ...flagsOf(0)]),
      /cannot be queued: its vote is still open \(ends at block \d+ \(in \d+ blocks\)\)/,
    );
    for (let i = 1; i < 4; i++) await ok(["vote", paramsId, "for", ...flagsOf(i)]);
    for (let i = 0; i < 4; i++)
      await ok(["vote", grantId, i === 3 ? "abstain" : "for", ...flagsOf(i)]);
    await mine(51);

    const listed = (await ok(["proposals", ...flagsOf(2)])).proposals as {
      id: string;
      kind: string;
      state: string;
      forVotes: string;
      abstainVotes: string;
    }[];
    assert.deepEqual(
      listed.map((p) => [p.id, p.kind, p.state, p.forVotes, p.abstainVotes]),
      [
        [paramsId, "params", "Succeeded", LEARN("1000000").toString(), "0"],
        [
          grantId,
          "treasury-transfer",
          "Succeeded",
          LEARN("750000").toString(),
          LEARN("250000").toString(),
        ],
      ],
    );

    assertOneLineError(
      await cli(["execute", paramsId, ...flagsOf(2)]),
      /is Succeeded; only a Queued proposal can be executed — queue it first/,
    );
    await ok(["queue", paramsId, ...flagsOf(2)]);
    await ok(["queue", grantId, ...flagsOf(2)]);
    const executor = await nonceOf(2);
    assertOneLineError(
      await cli(["execute", paramsId, ...flagsOf(2)]),
      /is queued but its timelock delay runs until .* \(in (59 min|1 h)/,
    );
    assert.equal(await nonceOf(2), executor, "nothing was sent before the delay passed");
    await passTime(3600);

    const balanceBefore = await chain.contracts.token.read.balanceOf([recipient]);
    await ok(["execute", paramsId, ...flagsOf(2)]);
    await ok(["execute", grantId, ...flagsOf(2)]);
    assert.equal(
      await chain.contracts.token.read.balanceOf([recipient]),
      balanceBefore + LEARN("1234.5"),
    );
    const [pending, next] = await chain.contracts.run.read.pendingParams();
    assert.equal(pending, true);
    assert.equal(next.innerSteps, 200);
    assert.equal(next.densityPpm, 5000);
    assert.equal(next.batchSize, 64, "fields not named keep their value");
    assert.equal(
      (await chain.contracts.run.read.params()).innerSteps,
      DEFAULT_RUN_PARAMS.innerSteps,
      "the round in progress keeps its parameters",
    );
    const status = await ok(["status", ...flagsOf(2)]);
    assert.equal(
      (status.run as { pendingParams: { innerSteps: number } }).pendingParams.innerSteps,
      200,
    );
    const states = ((await ok(["proposals", ...flagsOf(2)])).proposals as { state: string }[]).map(
      (p) => p.state,
    );
    assert.deepEqual(states, ["Executed", "Executed"]);

    // a second params proposal builds on the pending set, not on the active one
    const second = await ok(["propose", "params", "--set", "batchSize=32", ...flagsOf(0)]);
    assert.match(String(second.description), /batchSize 64 -> 32/);
  });

  it("bad proposals exit 1 and send nothing", async () => {
    const nonce = await nonceOf(0);
    assertOneLineError(
      await cli(["propose", "params", "--set", "innerStep=100", ...flagsOf(0)]),
      /"innerStep" is not a run parameter — did you mean innerSteps\?/,
    );
    assertOneLineError(
      await cli(["propose", "params", "--set", "innerSteps=0", ...flagsOf(0)]),
      /the proposal would fail when the timelock executes it: setParams reverts with TrainingRunInnerStepsOutOfRange\(0, 1, 100000\) — choose a value inside \[min, max\]/,
    );
    assertOneLineError(
      await cli(["propose", "params", "--set", "batchSize=32", ...flagsOf(0)]),
      /an identical proposal .* already exists/,
    );
    assertOneLineError(
      await cli(["propose", "resume", ...flagsOf(0)]),
      /unpause reverts with TrainingRunNotPaused\(1\) — the run is not paused/,
    );
    assertOneLineError(
      await cli(["propose", "reverse-slash", "1", ...flagsOf(0)]),
      /reverseSlash reverts with StakeManagerUnexpectedSlashStatus\(1, 0, 1\) — that slash is not in escrow/,
    );
    assertOneLineError(
      await cli([
        "propose",
        "treasury-transfer",
        devnet.accounts[0]?.address ?? "",
        "99000000",
        ...flagsOf(0),
      ]),
      /the treasury holds .* LEARN, less than the 99000000 LEARN to transfer/,
    );
    assertOneLineError(
      await cli(["propose", "treasury-transfer", "0x1234", "1", ...flagsOf(0)]),
      /"0x1234" is not an address/,
    );
    assertOneLineError(
      await cli(["vote", "12345", "for", ...flagsOf(0)]),
      /no proposal 12345 on the localhost governor/,
    );
    assertOneLineError(
      await cli(["vote", "12345", "maybe", ...flagsOf(0)]),
      /"maybe" is not a vote/,
    );
    assert.equal(await nonceOf(0), nonce);
  });

  it("an account below the proposal threshold is refused before anything is sent, with its votes and the threshold", async () => {
    // The guardian (the deployer) holds tokens but never delegated them: it has no votes.
    const guardian = mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: 0 }).address;
    const nonce = await chain.publicClient.getTransactionCount({ address: guardian });
    assert.equal(await chain.contracts.governor.read.proposalThreshold(), THRESHOLD);
    assertOneLineError(
      await cli(["propose", "pause", "--description", "below the threshold", ...guardianFlags]),
      new RegExp(`${guardian} has 0 LEARN of votes at block \\d+; proposing on this governor needs 100000 LEARN`),
    );
    assert.equal(await chain.publicClient.getTransactionCount({ address: guardian }), nonce);
  });

  it("the guardian pauses directly; governance resumes the run, then pauses and halts it for good after the open round is finalized", async () => {
    assertOneLineError(await cli(["pause", ...flagsOf(0)]), /is not the guardian of run 1/);
    await ok(["pause", ...guardianFlags]);
    assert.equal(await chain.contracts.run.read.paused(), true);
    assertOneLineError(
      await cli(["propose", "pause", ...flagsOf(0)]),
      /pause reverts with TrainingRunPaused\(1\) — the run is already paused/,
    );

    const resume = String((await ok(["propose", "resume", ...flagsOf(0)])).proposalId);
    await passAndQueue([resume]);
    await ok(["execute", resume, ...flagsOf(0)]);
    assert.equal(await chain.contracts.run.read.paused(), false);

    // two proposals in the same window; the halt executes after the pause
    const pause = String(
      (await ok(["propose", "pause", "--description", "Pause run 1 (governance)", ...flagsOf(1)]))
        .proposalId,
    );
    const halt = String((await ok(["propose", "halt", ...flagsOf(2)])).proposalId);
    await passAndQueue([pause, halt]);
    await ok(["execute", pause, ...flagsOf(3)]);
    assert.equal(await chain.contracts.run.read.paused(), true);
    await ok(["execute", halt, ...flagsOf(3)]);
    assert.equal(await chain.contracts.run.read.halted(), true);

    // Pause and halt act between rounds: the open round keeps its phases until it is finalized.
    const open = (await ok(["status", ...flagsOf(3)])).run as { phase: string; halted: boolean };
    assert.notEqual(open.phase, "halted");
    assert.equal(open.halted, true);
    const { scoreDeadline } = await chain.contracts.run.read.currentRound();
    const { timestamp } = await chain.publicClient.getBlock();
    if (scoreDeadline >= timestamp) await passTime(Number(scoreDeadline - timestamp) + 1);
    await ok(["finalize", ...flagsOf(3)]);
    const status = (await ok(["status", ...flagsOf(3)])).run as { phase: string; halted: boolean };
    assert.equal(status.phase, "halted");
    assert.equal(status.halted, true);
    assertOneLineError(await cli(["finalize", ...flagsOf(3)]), /run 1 was halted for good by governance; its last round \d+ is finalized/);
    assertOneLineError(
      await cli(["propose", "resume", ...flagsOf(0)]),
      /TrainingRunHalted\(\d+\) — the run is halted for good/,
    );
    assertOneLineError(
      await cli(["join", ...flagsOf(3)]),
      /run 1 was halted for good by governance/,
    );
  });

  it("governance replaces the guardian of the run and the default of future runs; the old guardian can no longer pause", async () => {
    const next = devnet.accounts[1]?.address;
    assert.ok(next);
    const forRun = String((await ok(["propose", "guardian", next, ...flagsOf(0)])).proposalId);
    const forNewRuns = String((await ok(["propose", "guardian", next, "--default", ...flagsOf(1)])).proposalId);
    const listed = (await ok(["proposals", ...flagsOf(0)])).proposals as { id: string; summary: string }[];
    assert.match(listed.find((p) => p.id === forRun)?.summary ?? "", /the guardian of run 1/);
    assert.match(listed.find((p) => p.id === forNewRuns)?.summary ?? "", /the guardian of new runs/);
    await passAndQueue([forRun, forNewRuns]);
    await ok(["execute", forRun, ...flagsOf(0)]);
    await ok(["execute", forNewRuns, ...flagsOf(0)]);
    assert.equal((await chain.contracts.run.read.guardian()).toLowerCase(), next.toLowerCase());
    assert.equal((await chain.contracts.factory.read.guardian()).toLowerCase(), next.toLowerCase());
    assertOneLineError(await cli(["pause", ...guardianFlags]), /is not the guardian of run 1/);
  });
});
