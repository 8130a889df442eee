import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { trainingRunAbi } from "../../../node/src/chain/abis.js";
import { connectChain, type ChainContext } from "../../../node/src/chain/client.js";
import { Conductor } from "../../../node/src/devnet/conductor.js";
import { spawnNode, stopNode, type NodeProcess } from "../../../node/src/devnet/node-process.js";
import { startDevnet, type Devnet } from "../../../node/src/devnet/start-devnet.js";
import { createLogger } from "../../../node/src/observe/logger.js";
import { TEST_RUN_PARAMS } from "./network.js";

/** The run's events a crash test reads back from the chain. */
type RunEventName = "Committed" | "Revealed" | "VoteCommitted" | "VoteRevealed" | "UpdateScored" | "ModelAgreed";

/**
 * A devnet of real node processes for crash tests (restart.test.ts, faults.test.ts): anvil,
 * 3 accounts (node-1 the validator and keeper, node-2 and node-3 trainers) that joined run 1
 * with the test run parameters, an observer, a conductor, and `launch` to start (or restart,
 * from its data folder) one node's `protolearn node start` process.
 */
export interface ProcessDevnet {
  devnet: Devnet;
  observer: ChainContext;
  conductor: Conductor;
  /** Starts node `index` with the given IPFS peers (and extra environment, e.g. PROTOLEARN_RPC_URL). */
  launch(index: number, peers: string[], env?: Record<string, string>): Promise<NodeProcess>;
  /** Run 1's `eventName` events of `round`, in chain order. */
  runEvents<E extends RunEventName>(eventName: E, round: bigint): ReturnType<typeof getRunEvents<E>>;
  /** Stops every process launched and the chain. */
  stop(): Promise<void>;
}

function getRunEvents<E extends RunEventName>(observer: ChainContext, deploymentBlock: number, eventName: E, round: bigint) {
  return observer.publicClient.getContractEvents({
    address: observer.contracts.run.address,
    abi: trainingRunAbi,
    eventName,
    args: { runId: 1n, round } as never, // runId and round are indexed in each of these events
    fromBlock: BigInt(deploymentBlock),
    strict: true,
  });
}

export async function startProcessDevnet(options: { name: string; port: number }): Promise<ProcessDevnet> {
  const dir = await mkdtemp(join(tmpdir(), `protolearn-${options.name}-`));
  const devnet = await startDevnet({
    chain: "anvil",
    port: options.port,
    accounts: 3,
    validators: 1,
    join: true,
    outDir: join(dir, "devnet"),
    deploymentsDir: join(dir, "deployments"),
    parameters: { runParams: TEST_RUN_PARAMS },
  });
  const observer = await connectChain({ rpcUrl: devnet.chain.rpcUrl, deployment: devnet.deployment, runId: 1 });
  const conductor = new Conductor(observer, devnet.chain.rpcUrl, createLogger({ level: "warn" }), { patienceMs: 120_000, mode: "anvil" });
  const running: NodeProcess[] = [];
  return {
    devnet,
    observer,
    conductor,
    async launch(index, peers, env = {}) {
      const account = devnet.accounts.find((a) => a.index === index);
      if (account === undefined) throw new Error(`the devnet has no account ${index}`);
      const node = await spawnNode({
        name: `node-${index}`,
        address: account.address,
        configPath: account.configPath,
        password: devnet.password,
        logFile: join(dir, `node-${index}.log`),
        peers,
        keeper: account.role === "validator",
        env: { PROTOLEARN_DEPLOYMENTS: join(dir, "deployments"), ...env },
      });
      running.push(node);
      return node;
    },
    runEvents: (eventName, round) => getRunEvents(observer, devnet.deployment.deploymentBlock, eventName, round),
    async stop() {
      for (const node of running) await stopNode(node);
      await devnet.stop();
    },
  };
}
