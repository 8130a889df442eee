/**
 * `npm start` — the main job: a whole local protolearn network on this machine.
 *
 *   hardhat node → deploy (Ignition) → fund, stake and join 6 accounts → 2 validators and
 *   4 trainers as separate `protolearn node start` processes, each with its own Helia IPFS
 *   peer (one trainer adversarial: sign-flip ×10 by default) → 10 rounds of MNIST training
 *   (or, with --model byte-transformer-v1, of the byte-level language model on the State of the
 *   Union corpus), with a governance proposal mid-run that changes H → a final report (stdout +
 *   JSON file); for the language model it ends with the final model's continuation of a prompt.
 *
 * Chain time is warped past each phase's deadline once every node has acted (devnet only),
 * so the run takes as long as the work, not as long as the phases.
 *
 *   npm start -- [--model mnist-mlp-v1|byte-transformer-v1] [--rounds 10] [--trainers 4]
 *                [--validators 2] [--adversary sign-flip] [--factor 10] [--port 8545]
 *                [--out .protolearn/devnet] [--new-h 50 (MNIST) | 32 (LM)] [--keep]
 *
 * --keep leaves the chain and the nodes running after the report (Ctrl-C stops them), so the
 * explorer and the CLI can browse the network the job just built.
 */
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { SingleBar } from "cli-progress";
import { isAddressEqual, type Address } from "viem";
import { mnemonicToAccount } from "viem/accounts";
import { castVote, delegate, execute, propose, queue } from "../node/src/chain/actions/index.js";
import { connectSigner, type SignerContext } from "../node/src/chain/client.js";
import { DEVNET_MNEMONIC } from "../node/src/devnet/dev-keys.js";
import { startDevnet, type Devnet } from "../node/src/devnet/start-devnet.js";
import { Conductor } from "../node/src/devnet/conductor.js";
import { spawnNode, stopNode, type NodeProcess } from "../node/src/devnet/node-process.js";
import { paramsProposal, proposalArrays, descriptionHash } from "../node/src/governance/index.js";
import { modelIdFromName } from "../node/src/codec/model-id.js";
import { SAMPLE_BYTES, sampleFinalModel, type FinalModelSample } from "../node/src/devnet/final-model.js";
import { printableText } from "../node/src/model/generate.js";
import { devnetParameters, parseStartOptions, START_PROFILES } from "../node/src/devnet/start-options.js";
import { createModel, evalMetricForId } from "../node/src/model/registry.js";
import { selectBackend } from "../node/src/train/backend.js";
import { parameterCount } from "../node/src/model/spec.js";
import { createLogger } from "../node/src/observe/logger.js";
import { formatRoundTimingTable, readRoundTimings, summarizeRoundTimings } from "../node/src/observe/round-timing.js";
import { ChainHistory, roundParamsAt, roundsOf } from "../node/src/history/index.js";
import { enumName, ROUND_FAILURES, SLASH_REASONS } from "../node/src/chain/contract-enums.js";
import { ProtolearnError } from "../node/src/errors.js";

const { values: flags } = parseArgs({
  options: {
    model: { type: "string" },
    rounds: { type: "string" },
    trainers: { type: "string" },
    validators: { type: "string" },
    adversary: { type: "string" },
    factor: { type: "string" },
    port: { type: "string" },
    out: { type: "string" },
    "new-h": { type: "string" },
    keep: { type: "boolean", default: false },
  },
});
const options = (() => {
  try {
    return parseStartOptions(flags);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof ProtolearnError ? err.toDisplayString() : String(err)}\n`);
    process.exit(2);
  }
})();
const MODEL = options.model;
const ROUNDS = options.rounds;
const TRAINERS = options.trainers;
const VALIDATORS = options.validators;
const OUT = resolve(options.out);
const NEW_H = options.newH;
const LANGUAGE_MODEL = evalMetricForId(modelIdFromName(MODEL)) === "bits-per-byte";
const logger = createLogger({ level: "info" }, "start");

/** Devnet parameters: phases long in chain time (the conductor warps), short governance. */
const DEVNET_PARAMETERS = devnetParameters(MODEL);

interface StartedNode {
  index: number;
  role: "trainer" | "validator";
  adversary: string | undefined;
  process: NodeProcess;
}

/** A governance proposal through the full Governor path: propose, vote, queue, execute. */
async function passParamsChange(deployer: SignerContext, conductor: Conductor, innerSteps: number): Promise<{ proposalId: string; description: string }> {
  const { run } = deployer.contracts;
  const current = await run.read.params();
  const draft = paramsProposal({
    run: run.address,
    runId: 1,
    next: { ...current, innerSteps },
    changes: [{ name: "innerSteps", from: String(current.innerSteps), to: String(innerSteps) } as never],
  });
  const arrays = proposalArrays(draft.actions);
  const hash = descriptionHash(draft.description);
  const { proposalId } = await propose(deployer, { ...arrays, description: draft.description, label: "governance propose" });
  await conductor.mine(Number(DEVNET_PARAMETERS.votingDelay) + 1);
  await castVote(deployer, { proposalId, support: "For", label: "governance castVote" });
  await conductor.mine(Number(DEVNET_PARAMETERS.votingPeriod) + 1);
  await queue(deployer, { ...arrays, descriptionHash: hash, label: "governance queue" });
  await conductor.warp(DEVNET_PARAMETERS.timelockDelay + 1n);
  await execute(deployer, { ...arrays, descriptionHash: hash, label: "governance execute" });
  return { proposalId: proposalId.toString(), description: draft.description };
}

async function main(): Promise<void> {
  const started = Date.now();
  await rm(OUT, { recursive: true, force: true });
  await mkdir(join(OUT, "logs"), { recursive: true });
  logger.info("starting a local network", { chain: "hardhat node", port: options.port, model: MODEL, trainers: TRAINERS, validators: VALIDATORS });
  const devnet = await startDevnet({
    chain: "hardhat",
    port: options.port,
    accounts: TRAINERS + VALIDATORS,
    validators: VALIDATORS,
    outDir: OUT,
    join: true,
    parameters: DEVNET_PARAMETERS,
  });
  const nodes: StartedNode[] = [];
  try {
    const deployer = await connectSigner({
      rpcUrl: devnet.chain.rpcUrl,
      deployment: devnet.deployment,
      runId: 1,
      account: mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: 0 }),
    });
    await delegate(deployer, { label: "deployer delegates" });
    const conductor = new Conductor(deployer, devnet.chain.rpcUrl, logger, { patienceMs: START_PROFILES[MODEL].patienceMs });

    // Validators first, then trainers; each new peer dials every earlier one (a full mesh).
    const ordered = [...devnet.accounts].sort((a, b) => (a.role === b.role ? a.index - b.index : a.role === "validator" ? -1 : 1));
    const adversaryIndex = ordered.filter((a) => a.role === "trainer").at(-1)?.index;
    for (const account of ordered) {
      const adversary = account.index === adversaryIndex && options.adversary !== "none" ? options.adversary : undefined;
      const started = await spawnNode({
        name: `node-${account.index}`,
        address: account.address,
        configPath: account.configPath,
        password: devnet.password,
        logFile: join(OUT, "logs", `node-${account.index}.log`),
        peers: nodes.map((n) => n.process.multiaddr),
        keeper: account.role === "validator",
        ...(adversary ? { adversary: { strategy: adversary, factor: options.factor } } : {}),
      });
      nodes.push({ index: account.index, role: account.role, adversary, process: started });
      logger.info("node started", { node: `node-${account.index}`, role: account.role, address: account.address, adversary: adversary ?? "no" });
    }

    // Round 1 is a registration round: the trainers' locks count from round 2 (rounds v2), so
    // the conductor waits only for the commits of trainers that hold a seat (seatDraw).
    const trainerAddresses = devnet.accounts.filter((a) => a.role === "trainer").map((a) => a.address);
    const bar = new SingleBar({ format: "rounds [{bar}] {value}/{total} | {status}", stream: process.stderr, hideCursor: true });
    bar.start(ROUNDS, 0, { status: "training" });
    let governance: { proposalId: string; description: string; atRound: number } | undefined;
    for (let round = 1; round <= ROUNDS; round++) {
      const next = await conductor.playRound({ trainers: trainerAddresses, validators: VALIDATORS });
      bar.update(round, { status: `round ${next.round} open` });
      if (round === Math.floor(ROUNDS / 2) && governance === undefined) {
        bar.update(round, { status: `governance: H -> ${NEW_H}` });
        governance = { ...(await passParamsChange(deployer, conductor, NEW_H)), atRound: next.round };
      }
    }
    bar.stop();
    // The language model's sample comes from the final model, replayed from the nodes' IPFS
    // peers while they still run.
    const sample = LANGUAGE_MODEL ? await sampleText(deployer, devnet, nodes) : undefined;
    if (!options.keep) for (const node of nodes) await stopNode(node.process);

    const report = await buildReport(deployer, devnet, nodes, governance, sample, Date.now() - started);
    const path = join(OUT, "report.json");
    await writeFile(path, JSON.stringify(report, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2) + "\n");
    printReport(report, path);
    const peers = nodes.map((n) => `--peer ${n.process.multiaddr}`).join(" ");
    if (options.keep) {
      process.stdout.write(
        [
          "",
          "the chain and the nodes keep running (Ctrl-C stops them). Open the explorer in another terminal:",
          `  npx protolearn explorer --network localhost --rpc-url ${devnet.chain.rpcUrl} --confirmations 0 ${peers}`,
          "and try the CLI with any node's config, e.g.:",
          `  PROTOLEARN_PASSWORD=${devnet.password} npx protolearn status --config ${devnet.accounts[0]?.configPath ?? ""}`,
          "",
        ].join("\n"),
      );
      await new Promise<void>((resolveStop) => process.once("SIGINT", () => resolveStop()));
    } else {
      process.stdout.write("to browse this network in the explorer, run `npm start -- --keep` and follow the instructions it prints\n");
    }
  } finally {
    for (const node of nodes) await stopNode(node.process);
    await devnet.stop();
  }
}

type Report = Awaited<ReturnType<typeof buildReport>>;

/**
 * M_{ROUNDS+1}, the model the network holds after the last round (built from round ROUNDS's
 * accepted updates; every earlier M_r checked against its committee's attestation), measured and
 * asked to continue a fixed prompt.
 */
async function sampleText(ctx: SignerContext, devnet: Devnet, nodes: StartedNode[]): Promise<FinalModelSample> {
  process.stderr.write("sampling text from the final model...\n");
  await selectBackend({ backend: "auto" });
  const history = new ChainHistory({ client: ctx.publicClient, deployment: devnet.deployment });
  await history.sync();
  return sampleFinalModel({
    chain: ctx,
    run: history.run(1),
    peers: nodes.map((n) => n.process.multiaddr),
    round: ROUNDS + 1,
    logger: logger.child("sample"),
  });
}

/**
 * The report is built from the chain's history (the same records `protolearn audit` and the
 * explorer read: node/src/history), plus what only the nodes know: held-out accuracy (the
 * validator's log) and the bytes each trainer stored. Gas comes from the receipts.
 */
async function buildReport(
  ctx: SignerContext,
  devnet: Devnet,
  nodes: StartedNode[],
  governance: { proposalId: string; description: string; atRound: number } | undefined,
  sample: FinalModelSample | undefined,
  elapsedMs: number,
) {
  const runAddress = ctx.contracts.run.address;
  const fromBlock = BigInt(devnet.deployment.deploymentBlock);
  const history = new ChainHistory({ client: ctx.publicClient, deployment: devnet.deployment });
  await history.sync();
  const run = history.run(1);
  const roundRecords = roundsOf(run).filter((r) => r.round >= 1 && r.round <= ROUNDS);
  const validator = nodes.find((n) => n.role === "validator");
  // The validator's "vote ready" line of round r measures M_r, the model ModelAgreed(r) attests
  // (node/src/sync/model-chain.ts): the same model as the round's on-chain loss. For the language
  // model the loss is bits per byte and the accuracy the next-byte accuracy (train/evaluate.ts).
  const accuracyByRound = new Map<number, number>();
  for (const e of validator?.process.events ?? []) {
    if (e.event === "vote ready" && typeof e.round === "number" && typeof e.accuracy === "number") accuracyByRound.set(e.round, e.accuracy);
  }
  const rounds = [];
  for (let r = 1; r <= ROUNDS; r++) {
    const record = roundRecords.find((x) => x.round === r);
    const result = record?.result ?? null;
    // Round 1 is the registration round (rounds v2): every lock was made in it, so no trainer
    // holds a seat and nothing is voted on; it closes without a model change.
    const registration = r === 1 && result?.kind === "failed" && (record?.commits.length ?? 0) === 0;
    rounds.push({
      round: r,
      outcome:
        result === null
          ? "not finalized"
          : result.kind === "agreed"
            ? "model agreed"
            : registration
              ? "registration"
              : `failed (${enumName(ROUND_FAILURES, result.reason)})`,
      acceptedUpdates: result?.kind === "agreed" ? result.acceptedUpdates : 0,
      heldOutLoss: result?.kind === "agreed" ? Number(result.evalLoss) / 1e9 : undefined,
      bitsPerByte: LANGUAGE_MODEL && result?.kind === "agreed" ? Number(result.evalLoss) / 1e9 : undefined,
      heldOutAccuracy: accuracyByRound.get(r),
      emission: result?.kind === "agreed" ? BigInt(result.emission) : 0n,
    });
  }

  // Gas: every transaction each node sent, from the receipts.
  const gasBy = new Map<string, { gas: bigint; txs: number }>();
  const head = await ctx.publicClient.getBlockNumber();
  const addresses = new Set(nodes.map((n) => n.process.address.toLowerCase()));
  for (let b = fromBlock; b <= head; b++) {
    const block = await ctx.publicClient.getBlock({ blockNumber: b, includeTransactions: true });
    for (const tx of block.transactions) {
      if (!addresses.has(tx.from.toLowerCase())) continue;
      const receipt = await ctx.publicClient.getTransactionReceipt({ hash: tx.hash });
      const entry = gasBy.get(tx.from.toLowerCase()) ?? { gas: 0n, txs: 0 };
      gasBy.set(tx.from.toLowerCase(), { gas: entry.gas + receipt.gasUsed, txs: entry.txs + 1 });
    }
  }

  const model = createModel(MODEL);
  const denseBytes = parameterCount(model.spec) * 4;
  // What a data-parallel (DDP) worker would send over the same rounds: a dense fp32 gradient
  // every inner step, H_r steps in round r (H changes mid-run through governance).
  let ddpBytes = 0;
  for (let r = 1; r <= ROUNDS; r++) ddpBytes += roundParamsAt(run, r).innerSteps * denseBytes;
  const nameOf = (address: Address) => `node-${nodes.find((n) => isAddressEqual(n.process.address, address))?.index ?? "?"}`;
  const perNode = [];
  for (const node of nodes) {
    const address = node.process.address;
    const stored = node.process.events.filter((e) => e.event === "update stored" && typeof e.round === "number" && e.round <= ROUNDS);
    const bytes = stored.reduce((sum, e) => sum + (typeof e.bytes === "number" ? e.bytes : 0), 0);
    const gas = gasBy.get(address.toLowerCase()) ?? { gas: 0n, txs: 0 };
    const outcomes = roundRecords.flatMap((r) => r.outcomes.filter((o) => isAddressEqual(o.node, address)));
    const settlements = roundRecords.flatMap((r) => r.settlements.filter((v) => isAddressEqual(v.validator, address)));
    perNode.push({
      node: `node-${node.index}`,
      address,
      role: node.role,
      adversary: node.adversary ?? "no",
      updatesSent: stored.length,
      acceptedUpdates: outcomes.filter((o) => o.accepted).length,
      bytesSent: bytes,
      bytesPerRound: stored.length ? Math.round(bytes / stored.length) : 0,
      denseFp32BytesPerRound: node.role === "trainer" ? denseBytes : 0,
      ddpBytesTotal: node.role === "trainer" ? ddpBytes : 0,
      gasTotal: gas.gas,
      gasPerRound: Number(gas.gas) / ROUNDS,
      transactions: gas.txs,
      rewards: [...outcomes, ...settlements].reduce((sum, x) => sum + BigInt(x.reward), 0n),
    });
  }
  return {
    network: { chain: "hardhat node", rpcUrl: devnet.chain.rpcUrl, chainId: devnet.deployment.chainId, run: runAddress },
    modelId: MODEL,
    evalMetric: evalMetricForId(modelIdFromName(MODEL)),
    parameters: parameterCount(model.spec),
    rounds,
    nodes: perNode,
    slashes: roundRecords.flatMap((r) =>
      r.slashes.map((s) => ({
        round: r.round,
        node: s.node,
        nodeName: nameOf(s.node),
        reason: enumName(SLASH_REASONS, s.reason),
        amount: BigInt(s.amount),
        slashId: s.slashId,
      })),
    ),
    timing: summarizeRoundTimings(await readRoundTimings(join(OUT, "logs"))),
    governance,
    finalModel: sample,
    elapsedSeconds: Math.round(elapsedMs / 1000),
    modelIdHash: modelIdFromName(MODEL),
  };
}

function printReport(report: Report, path: string): void {
  const out: string[] = [];
  const pad = (s: unknown, n: number) => String(s ?? "-").padEnd(n);
  out.push("", `protolearn local network — final report (${report.modelId}, ${report.parameters.toLocaleString("en-US")} parameters)`, "");
  const lm = report.evalMetric === "bits-per-byte";
  const outcomeWidth = Math.max(16, ...report.rounds.map((r) => r.outcome.length + 2));
  const scoreHeader = lm ? "bits/byte" : "held-out loss";
  const accuracyHeader = lm ? "next-byte acc" : "accuracy";
  out.push(`${pad("round", 6)}${pad("outcome", outcomeWidth)}${pad("accepted", 9)}${pad(scoreHeader, 14)}${pad(accuracyHeader, 9)}`);
  for (const r of report.rounds) {
    out.push(
      `${pad(r.round, 6)}${pad(r.outcome, outcomeWidth)}${pad(r.acceptedUpdates, 9)}${pad(r.heldOutLoss?.toFixed(4), 14)}${pad(r.heldOutAccuracy === undefined ? undefined : (r.heldOutAccuracy * 100).toFixed(1) + "%", 9)}`,
    );
  }
  const final = report.finalModel;
  if (final !== undefined) {
    out.push(`${pad(`${final.round}*`, 6)}${pad("final model", outcomeWidth)}${pad("-", 9)}${pad(final.bitsPerByte.toFixed(4), 14)}${pad((final.accuracy * 100).toFixed(1) + "%", 9)}`);
  }
  out.push(
    "(registration: round 1, in which every node joined; a lock counts in draws from the next round, so no trainer held a seat)",
    lm
      ? "(bits per byte and next-byte accuracy: of M_r, the model round r's trainers started from, which its committee attested (lagged attestation) — held-out bits per byte is the eval loss ModelAgreed(r) carries, the accuracy from the validator's log; 8 bits per byte is a uniform guess)"
      : "(held-out loss and accuracy: of M_r, the model round r's trainers started from, which its committee attested (lagged attestation) — the loss from ModelAgreed(r), the accuracy from the validator's log)",
  );
  if (final !== undefined) {
    out.push(
      `(${final.round}*: M_${final.round}, the model after the last round, built from round ${final.round - 1}'s accepted updates and measured by this report; hash ${final.modelHash})`,
      "",
      `M_${final.round} continues a fixed prompt by ${SAMPLE_BYTES} bytes, greedily and by seeded sampling (control bytes shown as \\xNN):`,
      `  prompt:  ${printableText(final.prompt)}`,
      `  greedy:  ${printableText(final.greedy)}`,
      `  sampled: ${printableText(final.sampled)}`,
      `  (sampled at temperature ${final.temperature}, seed "${final.seed}"; the same model gives the same text)`,
    );
  }
  out.push(
    "",
    `${pad("node", 8)}${pad("role", 10)}${pad("adversary", 10)}${pad("accepted", 9)}${pad("bytes/round", 12)}${pad("vs 1 dense", 11)}${pad("vs DDP", 9)}${pad("gas/round", 10)}${pad("rewards (LEARN)", 16)}`,
  );
  for (const n of report.nodes) {
    const dense = n.bytesPerRound ? `${(n.denseFp32BytesPerRound / n.bytesPerRound).toFixed(0)}x` : "-";
    const ddp = n.bytesSent ? `${(n.ddpBytesTotal / n.bytesSent).toFixed(0)}x` : "-";
    out.push(
      `${pad(n.node, 8)}${pad(n.role, 10)}${pad(n.adversary, 10)}${pad(n.role === "trainer" ? `${n.acceptedUpdates}/${n.updatesSent}` : "-", 9)}${pad(n.bytesPerRound || "-", 12)}${pad(dense, 11)}${pad(ddp, 9)}${pad(Math.round(n.gasPerRound), 10)}${pad((Number(n.rewards) / 1e18).toFixed(2), 16)}`,
    );
  }
  out.push("(vs 1 dense: one fp32 copy of the model per round; vs DDP: a dense fp32 gradient every inner step, H per round)");
  out.push("", "slashes:");
  if (report.slashes.length === 0) out.push("  none");
  for (const s of report.slashes) out.push(`  round ${s.round}: ${s.nodeName} ${s.node} slashed ${(Number(s.amount) / 1e18).toFixed(2)} LEARN for ${s.reason} (slash #${s.slashId}, appealable)`);
  out.push(
    "",
    "where the nodes' time went, per round (seconds summed over nodes; overhead = share of the busy time, wall − waiting, not spent training):",
    formatRoundTimingTable(report.timing),
  );
  if (report.governance) out.push("", `governance: "${report.governance.description}" passed and executed during round ${report.governance.atRound}`);
  out.push(
    "",
    `finished in ${report.elapsedSeconds} s; report written to ${path}`,
  );
  process.stdout.write(out.join("\n") + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
