import type { Command } from "commander";
import { AuditError, buildAuditReport, DEFAULT_RESCORE_TOLERANCE_PPM, DEFAULT_VERIFY_TIMEOUT_MS, formatAudit, openAuditStore, type AuditReport, type AuditStore, type AuditStoreOptions } from "../../audit/index.js";
import { readRecords } from "../../history/index.js";
import { stableJson } from "../../persist/stable-json.js";
import type { NodeConfig } from "../../config/config.js";
import { ProtolearnError } from "../../errors.js";
import { createLogger } from "../../observe/logger.js";
import { selectBackend } from "../../train/backend.js";
import {
  openRead,
  parseAddressArg,
  withChainOptions,
  type ChainFlags,
  type CliIo,
} from "../context.js";

/**
 * `protolearn audit --run ID [--round R] [--node ADDR] [--verify] [--rescore] [--json]`: a run's
 * contribution records rebuilt from chain events alone; with --verify every update re-fetched
 * from IPFS and its hash re-checked, with --rescore every score recomputed from the replayed
 * model. Findings are printed, never hidden, and make the command exit with code 1.
 */

interface AuditFlags extends ChainFlags {
  round?: string;
  node?: string;
  verify: boolean;
  rescore: boolean;
  peer: string[];
  kubo?: string;
  timeoutMs?: string;
  tolerance?: string;
}

function positiveInt(text: string, what: string, min: number, fix: string): number {
  const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new ProtolearnError(`${what} "${text}" is not a whole number ≥ ${min}`, {
      code: "CLI_BAD_NUMBER",
      fix,
    });
  }
  return value;
}

/** Where --verify fetches from: --kubo, else the config's Kubo, else a Helia peer dialling --peer and the config's peers. */
export function auditStoreOptions(
  flags: { peer: string[]; kubo?: string },
  config: NodeConfig,
): AuditStoreOptions {
  if (flags.kubo !== undefined) return { kind: "kubo", url: flags.kubo };
  if (config.storage.kind === "kubo" && flags.peer.length === 0)
    return { kind: "kubo", url: config.storage.url };
  const configured = config.storage.kind === "helia" ? config.storage.peers : [];
  return { kind: "helia", peers: [...new Set([...configured, ...flags.peer])] };
}

function findingsError(report: AuditReport): AuditError {
  const kinds = new Map<string, number>();
  for (const f of report.findings) kinds.set(f.kind, (kinds.get(f.kind) ?? 0) + 1);
  const list = [...kinds].map(([kind, n]) => `${n} ${kind}`).join(", ");
  return new AuditError(
    `the audit of run ${report.runId} found ${report.findings.length} claim(s) that do not check out (${list})`,
    {
      code: "AUDIT_FINDINGS",
      fix: "read the findings in the report: unreachable CIDs may need a peer that holds them (--peer / --kubo); a hash mismatch or a differing score is evidence to raise with governance",
    },
  );
}

export function registerAudit(program: Command, io: CliIo): void {
  withChainOptions(
    program
      .command("audit")
      .description(
        "rebuild a run's contribution records from chain events; --verify re-checks every update on IPFS, --rescore recomputes every score",
      )
      .option("--round <r>", "only this round")
      .option("--node <address>", "only this trainer's or validator's records")
      .option(
        "--verify",
        "fetch every revealed update by CID and re-check keccak256 against the chain",
        false,
      )
      .option(
        "--rescore",
        "replay the model and recompute every score next to the on-chain median (implies --verify)",
        false,
      )
      .option(
        "--peer <multiaddr>",
        "IPFS peer to fetch updates from, e.g. a node's /ip4/…/tcp/…/p2p/… address (repeatable; adds to the config's peers)",
        (value: string, previous: string[]) => [...previous, value],
        [] as string[],
      )
      .option(
        "--kubo <url>",
        "fetch through a Kubo daemon's RPC API instead, e.g. http://127.0.0.1:5001",
      )
      .option(
        "--timeout-ms <ms>",
        `give up on one update after this long (default ${DEFAULT_VERIFY_TIMEOUT_MS})`,
      )
      .option(
        "--tolerance <ppm>",
        `largest accepted |rescore − median| (default ${DEFAULT_RESCORE_TOLERANCE_PPM})`,
      ),
  )
    .addHelpText(
      "after",
      [
        "",
        "Exit code 0 when every checked claim holds, 1 when the audit found a mismatch, an",
        "unreachable CID or a differing score (the report is printed either way), or failed.",
        "",
        "Examples:",
        "  $ protolearn audit --network sepolia --run 1",
        "  $ protolearn audit --run 1 --round 12 --verify --peer /ip4/203.0.113.7/tcp/4001/p2p/12D3KooW…",
        "  $ protolearn audit --run 1 --node 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --rescore --json",
      ].join("\n"),
    )
    .action(async (flags: AuditFlags) => {
      const round =
        flags.round === undefined
          ? undefined
          : positiveInt(
              flags.round,
              "the round",
              1,
              "give a round number such as 3 (see `protolearn status`)",
            );
      const node = flags.node === undefined ? undefined : parseAddressArg(flags.node, "node");
      const timeoutMs =
        flags.timeoutMs === undefined
          ? DEFAULT_VERIFY_TIMEOUT_MS
          : positiveInt(flags.timeoutMs, "--timeout-ms", 100, "give milliseconds, at least 100");
      const tolerancePpm =
        flags.tolerance === undefined
          ? DEFAULT_RESCORE_TOLERANCE_PPM
          : positiveInt(flags.tolerance, "--tolerance", 0, "give a tolerance in ppm, e.g. 1000");
      const ctx = await openRead(flags, io);
      const { records, blocks } = await readRecords(ctx.chain);
      const logger = createLogger({ level: "warn", write: (line) => io.err(line + "\n") });
      const fetching = flags.verify || flags.rescore;
      let store: AuditStore | undefined;
      if (fetching) {
        store = await openAuditStore(auditStoreOptions(flags, ctx.config), logger);
        for (const p of store.unreachablePeers)
          io.err(
            `warning: IPFS peer ${p.peer} is unreachable (${p.error}); its updates may show as unreachable\n`,
          );
      }
      if (flags.rescore) await selectBackend({ backend: ctx.config.backend });
      let report: AuditReport;
      try {
        report = await buildAuditReport({
          records,
          chain: ctx.chain,
          runId: ctx.config.runId,
          blocks,
          ...(round !== undefined ? { round } : {}),
          ...(node !== undefined ? { node } : {}),
          ...(store !== undefined
            ? {
                verify: {
                  store: store.store,
                  timeoutMs,
                  fallbackMaxBytes: ctx.config.maxUpdateBytes,
                },
              }
            : {}),
          ...(store !== undefined && flags.rescore
            ? { rescore: { store: store.store, timeoutMs, tolerancePpm, logger } }
            : {}),
        });
      } finally {
        await store?.close();
      }
      io.out((flags.json ? stableJson(report) : formatAudit(report)) + "\n");
      if (report.findings.length > 0) throw findingsError(report);
    });
}
