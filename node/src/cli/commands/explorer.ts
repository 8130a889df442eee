import { resolve } from "node:path";
import type { Command } from "commander";
import { openAuditStore, type AuditStore } from "../../audit/index.js";
import { connectChain } from "../../chain/client.js";
import { loadDeployment } from "../../chain/deployment.js";
import { ProtolearnError } from "../../errors.js";
import {
  DEFAULT_EXPLORER_CACHE_DIR,
  DEFAULT_EXPLORER_HOST,
  DEFAULT_EXPLORER_PORT,
  DEFAULT_IPFS_GATEWAY,
} from "../../explorer/constants.js";
import { startExplorer } from "../../explorer/server.js";
import { createLogger, resolveLogFormat } from "../../observe/logger.js";
import { selectBackend } from "../../train/backend.js";
import { deploymentsDir, loadCliConfig, type CliIo } from "../context.js";
import { auditStoreOptions } from "./audit.js";

/**
 * `protolearn explorer --network X`: serves the contribution explorer (node/src/explorer) on
 * 127.0.0.1 until Ctrl-C. Read-only: it never asks for a password and never sends a transaction.
 */

interface ExplorerFlags {
  config?: string;
  network?: string;
  rpcUrl?: string;
  deployments?: string;
  port: string;
  host: string;
  gateway: string;
  cacheDir: string;
  confirmations?: string;
  peer: string[];
  kubo?: string;
  ipfs: boolean;
  replay: boolean;
}

function integer(text: string, what: string, min: number, max: number): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new ProtolearnError(`${what} "${text}" is not a whole number between ${min} and ${max}`, {
      code: "CLI_BAD_NUMBER",
      fix: `give ${what} as a number from ${min} to ${max}`,
    });
  }
  return value;
}

/** The gateway prefix CIDs are appended to: an http(s) URL ending in a slash. */
export function parseGateway(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    url = new URL("invalid:");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ProtolearnError(`the IPFS gateway "${text}" is not an http(s) URL`, {
      code: "CLI_BAD_GATEWAY",
      fix: `give a gateway prefix such as ${DEFAULT_IPFS_GATEWAY} or http://127.0.0.1:8080/ipfs/`,
    });
  }
  return url.toString().endsWith("/") ? url.toString() : `${url.toString()}/`;
}

export function registerExplorer(program: Command, io: CliIo): void {
  program
    .command("explorer")
    .description(
      "serve the contribution explorer (runs, rounds, nodes, governance) on 127.0.0.1; read-only",
    )
    .option(
      "--config <path>",
      "config file (default ~/.protolearn/config.json, or $PROTOLEARN_CONFIG)",
    )
    .option("--network <name>", "network: selects deployments/<name>.json (overrides the config)")
    .option("--rpc-url <url>", "JSON-RPC endpoint (overrides the config)")
    .option(
      "--deployments <dir>",
      "folder of deployments/<network>.json files (default ./deployments)",
    )
    .option("--port <port>", "port to serve on (0 picks a free one)", String(DEFAULT_EXPLORER_PORT))
    .option(
      "--host <host>",
      "address to serve on; anything but 127.0.0.1 exposes it to the network",
      DEFAULT_EXPLORER_HOST,
    )
    .option(
      "--gateway <url>",
      "IPFS gateway CID links point to (the CID is appended)",
      DEFAULT_IPFS_GATEWAY,
    )
    .option(
      "--cache-dir <dir>",
      "records cache, replayed models and the explorer's IPFS blocks",
      DEFAULT_EXPLORER_CACHE_DIR,
    )
    .option(
      "--confirmations <n>",
      "blocks an event must be buried under before it shows (default: the config's)",
    )
    .option(
      "--peer <multiaddr>",
      "IPFS peer holding the run's updates, for verify and accuracy replay (repeatable; adds to the config's peers)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      "--kubo <url>",
      "fetch updates through a Kubo daemon's RPC API instead of an embedded peer",
    )
    .option("--no-ipfs", "no IPFS peer: no verify button results and loss-only charts")
    .option(
      "--no-replay",
      "do not replay models to measure accuracy (the chart shows the on-chain loss only)",
    )
    .addHelpText(
      "after",
      [
        "",
        "Pages: / (runs), /runs/<id>, /runs/<id>/rounds/<r>, /nodes/<address>, /governance.",
        "Links go to the chain's block explorer when viem knows one (Sepolia: Etherscan, Base Sepolia:",
        "Basescan), CIDs to --gateway. Everything else is served from this process: no CDN.",
        "",
        "Examples:",
        "  $ protolearn explorer --network localhost",
        "  $ protolearn explorer --network sepolia --peer /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW… --port 8080",
      ].join("\n"),
    )
    .action(async (flags: ExplorerFlags) => {
      const config = await loadCliConfig({ ...flags, json: false }, io);
      const port = integer(flags.port, "--port", 0, 65535);
      const confirmations =
        flags.confirmations === undefined
          ? config.confirmations
          : integer(flags.confirmations, "--confirmations", 0, 64);
      const gateway = parseGateway(flags.gateway);
      const deployment = await loadDeployment(config.network, deploymentsDir(flags, io));
      const chain = await connectChain({
        rpcUrl: config.rpcUrl,
        deployment,
        runId: deployment.runs[0]?.runId ?? config.runId,
      });
      const cacheDir = resolve(flags.cacheDir);
      const logger = createLogger({
        level: config.log.level,
        format: resolveLogFormat(config.log.format, true),
        write: (line) => io.err(line + "\n"),
      }).child("explorer");
      let store: AuditStore | undefined;
      if (flags.ipfs) {
        const options = auditStoreOptions(flags, config);
        store = await openAuditStore(
          options.kind === "helia" ? { ...options, dataDir: resolve(cacheDir, "ipfs") } : options,
          logger,
        );
        if (flags.replay) await selectBackend({ backend: config.backend });
      }
      const explorer = await startExplorer({
        chain,
        cacheDir,
        confirmations,
        host: flags.host,
        port,
        gateway,
        ...(store ? { store: store.store } : {}),
        replay: flags.replay,
        fallbackMaxBytes: config.maxUpdateBytes,
        logger,
      });
      io.out(
        `explorer for ${deployment.network} (chain ${deployment.chainId}) at ${explorer.url} — Ctrl-C stops it\n`,
      );
      await new Promise<void>((done) => {
        const stop = (): void => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          done();
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
      await explorer.stop();
      await store?.close();
    });
}
