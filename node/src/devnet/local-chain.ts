import { spawn, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { ProtolearnError } from "../errors.js";

/**
 * Local chains as child processes: Hardhat's `hardhat node` (EDR) and Foundry's anvil, two
 * independent EVM implementations. Used by `npm start`, `protolearn devnet` and the deployment
 * tests. Each resolves once its JSON-RPC answers, and `stop()` ends the process.
 */

export interface LocalChain {
  kind: "hardhat" | "anvil";
  rpcUrl: string;
  chainId: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

const require = createRequire(import.meta.url);

/** Node 22 binary of this project (node@22 dev dependency), falling back to the current one. */
function nodeBinary(): string {
  try {
    return join(dirname(require.resolve("node/package.json")), "bin", "node");
  } catch {
    return process.execPath;
  }
}

async function rpcChainId(rpcUrl: string, signal: AbortSignal): Promise<number> {
  const res = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
    signal,
  });
  const body = (await res.json()) as { result?: string };
  if (typeof body.result !== "string") throw new Error("no chain id");
  return Number.parseInt(body.result, 16);
}

async function waitForRpc(rpcUrl: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      throw new ProtolearnError(`the local chain exited with code ${child.exitCode} before answering: ${output().slice(-400)}`, {
        code: "DEVNET_CHAIN_EXITED",
        fix: "check that the port is free (another chain running?) and that `npm ci` completed",
      });
    }
    try {
      return await rpcChainId(rpcUrl, AbortSignal.timeout(1000));
    } catch {
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        throw new ProtolearnError(`the local chain at ${rpcUrl} did not answer within ${timeoutMs} ms`, {
          code: "DEVNET_CHAIN_TIMEOUT",
          fix: "check that the port is free and the machine is not overloaded, then retry",
        });
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
      setTimeout(() => child.kill("SIGKILL"), 5000).unref();
    });
}

function capture(child: ChildProcess): () => string {
  let out = "";
  const keep = (chunk: Buffer): void => {
    out = (out + chunk.toString()).slice(-4000);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  return () => out;
}

/** Starts `hardhat node` on 127.0.0.1:`port` (from the project root `cwd`). */
export async function startHardhatNode(options: { port: number; cwd?: string; timeoutMs?: number }): Promise<LocalChain> {
  const hardhatCli = join(dirname(require.resolve("hardhat/package.json")), "dist", "src", "cli.js");
  const child = spawn(nodeBinary(), [hardhatCli, "node", "--hostname", "127.0.0.1", "--port", String(options.port)], {
    cwd: options.cwd ?? process.cwd(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = capture(child);
  const rpcUrl = `http://127.0.0.1:${options.port}`;
  const chainId = await waitForRpc(rpcUrl, child, output, options.timeoutMs ?? 120_000);
  return { kind: "hardhat", rpcUrl, chainId, process: child, stop: stopper(child) };
}

/** Starts anvil on 127.0.0.1:`port`, optionally with another chain id (e.g. a testnet's). */
export async function startAnvil(options: { port: number; chainId?: number; blockTime?: number; timeoutMs?: number }): Promise<LocalChain> {
  const anvilBin = join(dirname(require.resolve("@foundry-rs/anvil/package.json")), "bin.mjs");
  const args = [anvilBin, "--host", "127.0.0.1", "--port", String(options.port), "--silent"];
  if (options.chainId !== undefined) args.push("--chain-id", String(options.chainId));
  if (options.blockTime !== undefined) args.push("--block-time", String(options.blockTime));
  const child = spawn(nodeBinary(), args, { stdio: ["ignore", "pipe", "pipe"] });
  const output = capture(child);
  const rpcUrl = `http://127.0.0.1:${options.port}`;
  const chainId = await waitForRpc(rpcUrl, child, output, options.timeoutMs ?? 60_000);
  return { kind: "anvil", rpcUrl, chainId, process: child, stop: stopper(child) };
}
