import { strict as assert } from "node:assert";
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Browser } from "playwright-core";
import { connectChain } from "../../node/src/chain/client.js";
import { loadDeployment } from "../../node/src/chain/deployment.js";
import type { CliIo } from "../../node/src/cli/context.js";
import { main } from "../../node/src/cli/main.js";
import { startAnvil, type LocalChain } from "../../node/src/devnet/local-chain.js";
import { startExplorer } from "../../node/src/explorer/server.js";
import { createLogger } from "../../node/src/observe/logger.js";
import { launchBrowser } from "./helpers/finishedNetwork.js";
import { DEV_KEYS } from "./helpers/network.js";

/**
 * The testnet path without internet: `protolearn deploy --network sepolia|baseSepolia` — the
 * operator's command, through the Hardhat networks of hardhat.config.ts with their configuration
 * variables — against anvil started with the testnet's chain id. The record must name the
 * testnet, the contracts must be there, `audit` must read them, and the explorer's links must
 * point at that network's block explorer (viem's chain definition).
 */

const IGNITION_DEPLOYMENTS = join("ignition", "deployments");
const TESTNETS = [
  {
    network: "sepolia",
    chainId: 11155111,
    port: 18733,
    variables: "SEPOLIA",
    explorer: "https://sepolia.etherscan.io",
  },
  {
    network: "baseSepolia",
    chainId: 84532,
    port: 18734,
    variables: "BASE_SEPOLIA",
    explorer: "https://sepolia.basescan.org",
  },
] as const;

async function cli(
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    out: (s) => void (stdout += s),
    err: (s) => void (stderr += s),
    env,
    progress: false,
  };
  const code = await main(["node", "protolearn", ...argv], io);
  return { code, stdout, stderr };
}

async function ignitionJournals(): Promise<Set<string>> {
  try {
    return new Set(await readdir(IGNITION_DEPLOYMENTS));
  } catch {
    return new Set();
  }
}

describe(
  "testnet deployment (sepolia and baseSepolia chain ids on anvil)",
  { timeout: 300_000 },
  () => {
    let browser: Browser;
    let deployments: string;
    let journalsBefore: Set<string>;
    const chains: LocalChain[] = [];
    const saved: Record<string, string | undefined> = {};

    before(async () => {
      deployments = await mkdtemp(join(tmpdir(), "protolearn-testnet-"));
      journalsBefore = await ignitionJournals();
      browser = await launchBrowser();
      await mkdir(join("test-artifacts", "explorer"), { recursive: true });
    });

    after(async () => {
      await browser?.close();
      for (const chain of chains) await chain.stop();
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      await rm(deployments, { recursive: true, force: true });
      // Ignition keeps a journal per deployment; drop the ones these throwaway chains created.
      for (const name of await ignitionJournals()) {
        if (
          !journalsBefore.has(name) &&
          TESTNETS.some((t) => name.startsWith(`protolearn-${t.chainId}-`))
        ) {
          await rm(join(IGNITION_DEPLOYMENTS, name), { recursive: true, force: true });
        }
      }
    });

    for (const testnet of TESTNETS) {
      it(`deploys with \`protolearn deploy --network ${testnet.network}\` and the explorer links to ${testnet.explorer}`, async () => {
        const chain = await startAnvil({ port: testnet.port, chainId: testnet.chainId });
        chains.push(chain);
        // What an operator sets with `npx hardhat keystore set …`; Hardhat falls back to the environment.
        for (const [key, value] of [
          [`${testnet.variables}_RPC_URL`, chain.rpcUrl],
          [`${testnet.variables}_PRIVATE_KEY`, DEV_KEYS[0] as string],
        ] as const) {
          if (!(key in saved)) saved[key] = process.env[key];
          process.env[key] = value;
        }

        const deployed = await cli(
          ["deploy", "--network", testnet.network, "--deployments", deployments, "--json"],
          process.env,
        );
        assert.equal(deployed.code, 0, deployed.stderr);
        const record = JSON.parse(
          await readFile(join(deployments, `${testnet.network}.json`), "utf8"),
        ) as { network: string; chainId: number };
        assert.deepEqual([record.network, record.chainId], [testnet.network, testnet.chainId]);
        const deployment = await loadDeployment(testnet.network, deployments);
        const ctx = await connectChain({ rpcUrl: chain.rpcUrl, deployment, runId: 1 });
        for (const [name, address] of Object.entries(deployment.contracts)) {
          const code = await ctx.publicClient.getCode({ address });
          assert.ok(code !== undefined && code.length > 2, `${name} has code at ${address}`);
        }

        const audit = await cli(
          [
            "audit",
            "--network",
            testnet.network,
            "--rpc-url",
            chain.rpcUrl,
            "--deployments",
            deployments,
            "--run",
            "1",
            "--json",
          ],
          {},
        );
        assert.equal(audit.code, 0, audit.stderr);
        const report = JSON.parse(audit.stdout) as {
          chainId: number;
          rounds: { round: number; status: string }[];
        };
        assert.equal(report.chainId, testnet.chainId);
        assert.deepEqual(
          report.rounds.map((r) => [r.round, r.status]),
          [[1, "open"]],
        );

        const cacheDir = await mkdtemp(join(tmpdir(), "protolearn-testnet-explorer-"));
        const explorer = await startExplorer({
          chain: ctx,
          cacheDir,
          confirmations: 0,
          port: 0,
          logger: createLogger({ level: "error" }),
        });
        try {
          const meta = (await (await fetch(`${explorer.url}/api/meta`)).json()) as {
            blockExplorer: { url: string } | null;
          };
          assert.equal(meta.blockExplorer?.url, testnet.explorer);
          const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
          await page.goto(`${explorer.url}/runs/1`);
          await page.waitForSelector("body[data-ready=true]");
          const run = deployment.runs[0]?.address ?? "";
          assert.equal(
            await page.getAttribute(`a.ext[href$="${run}"]`, "href"),
            `${testnet.explorer}/address/${run}`,
          );
          const txLinks = await page.$$eval("a.tx", (as) =>
            as.map((a) => a.getAttribute("href") ?? ""),
          );
          assert.ok(
            txLinks.length > 0 &&
              txLinks.every((href) =>
                new RegExp(`^${testnet.explorer}/tx/0x[0-9a-f]{64}$`).test(href),
              ),
            txLinks.join(" "),
          );
          const blockLinks = await page.$$eval("a.block", (as) =>
            as.map((a) => a.getAttribute("href") ?? ""),
          );
          assert.ok(
            blockLinks.length > 0 &&
              blockLinks.every((href) => href.startsWith(`${testnet.explorer}/block/`)),
            blockLinks.join(" "),
          );
          await page.screenshot({
            path: join("test-artifacts", "explorer", `run-${testnet.network}-1280x800.png`),
            fullPage: true,
          });
          await page.close();
        } finally {
          await explorer.stop();
          await rm(cacheDir, { recursive: true, force: true });
        }
      });
    }

    it("serves the same explorer as a process: `protolearn explorer --network sepolia` prints its URL and stops on SIGTERM", async () => {
      const sepolia = chains[0];
      assert.ok(sepolia, "the sepolia chain of the first test is running");
      const cacheDir = await mkdtemp(join(tmpdir(), "protolearn-testnet-cli-"));
      const args = [
        "node/bin/protolearn.mjs",
        "explorer",
        "--network",
        "sepolia",
        "--rpc-url",
        sepolia.rpcUrl,
        "--deployments",
        deployments,
      ];
      args.push("--port", "0", "--cache-dir", cacheDir, "--confirmations", "0", "--no-ipfs");
      const child = spawn(process.execPath, args, {
        env: { ...process.env, PROTOLEARN_CONFIG: join(cacheDir, "no-config.json") },
        stdio: ["ignore", "pipe", "pipe"],
      });
      try {
        let output = "";
        child.stderr.on("data", (chunk: Buffer) => void (output += chunk.toString()));
        const url = await new Promise<string>((resolve, reject) => {
          child.stdout.on("data", (chunk: Buffer) => {
            output += chunk.toString();
            const found = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
            if (found) resolve(found);
          });
          child.once("exit", (code) =>
            reject(new Error(`explorer exited with ${code}: ${output}`)),
          );
        });
        assert.match(output, /explorer for sepolia \(chain 11155111\)/);
        const runs = (await (await fetch(`${url}/api/runs`)).json()) as {
          runs: { runId: number }[];
        };
        assert.deepEqual(
          runs.runs.map((r) => r.runId),
          [1],
        );
        const html = await (await fetch(`${url}/runs/1/rounds/1`)).text();
        assert.match(html, /<script type="module" src="\/assets\/app\.js"><\/script>/);
        const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        assert.equal(await exited, 0);
      } finally {
        if (child.exitCode === null) child.kill("SIGKILL");
        await rm(cacheDir, { recursive: true, force: true });
      }
    });
  },
);
