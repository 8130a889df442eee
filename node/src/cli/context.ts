import { resolve } from "node:path";
import type { Command } from "commander";
import { getAddress, isAddress, parseUnits, type Address } from "viem";
import { ChainError } from "../chain/chain-error.js";
import { formatLearn, LEARN_DECIMALS } from "../chain/learn-amount.js";
import {
  connectChain,
  connectSigner,
  type ChainContext,
  type SignerContext,
} from "../chain/client.js";
import { loadDeployment, type Deployment } from "../chain/deployment.js";
import { loadConfig, type NodeConfig } from "../config/config.js";
import { ProtolearnError } from "../errors.js";
import { keystoreAddress, loadKeystoreFile } from "../keystore/keystore.js";
import { toJson } from "./output.js";
import { readPassword } from "./password.js";
import { progressEnabled, withProgress } from "./progress.js";

/**
 * What every chain command shares: the flags that select config, network, endpoint and run;
 * the path from those flags to a connected chain (read-only commands never ask for a password);
 * sending a transaction with progress and a fix for every revert; parsing amounts and
 * addresses at the edge; printing results as text or one JSON object.
 */

// ---------------------------------------------------------------- input / output

/** Where a command reads its environment and writes its output (the process, or a test's buffers). */
export interface CliIo {
  /** Writes to stdout (results). */
  out(text: string): void;
  /** Writes to stderr (notes, warnings, errors). */
  err(text: string): void;
  /** Environment: PROTOLEARN_* config overrides and PROTOLEARN_PASSWORD. */
  env: NodeJS.ProcessEnv;
  /** Draw spinners on stderr (only when it is a terminal). */
  progress: boolean;
}

/** The real process's stdout, stderr and environment. */
export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    env: process.env,
    progress: progressEnabled(),
  };
}

/** Prints `value` as one JSON object with `--json`, else the human text. */
export function emit(io: CliIo, json: boolean, value: unknown, human: () => string): void {
  io.out((json ? toJson(value) : human()) + "\n");
}

// ---------------------------------------------------------------- flags

/** The options every chain command takes. */
export interface ChainFlags {
  config?: string;
  network?: string;
  rpcUrl?: string;
  run?: string;
  deployments?: string;
  json: boolean;
}

/** Adds --config, --network, --rpc-url, --run, --deployments and --json to a chain command. */
export function withChainOptions(command: Command): Command {
  return command
    .option(
      "--config <path>",
      "config file (default ~/.protolearn/config.json, or $PROTOLEARN_CONFIG)",
    )
    .option("--network <name>", "network: selects deployments/<name>.json (overrides the config)")
    .option("--rpc-url <url>", "JSON-RPC endpoint (overrides the config)")
    .option("--run <id>", "run id (overrides the config)")
    .option(
      "--deployments <dir>",
      "folder of deployments/<network>.json files (default ./deployments, or $PROTOLEARN_DEPLOYMENTS)",
    )
    .option("--json", "print the result as one JSON object", false);
}

/** The configuration with the flags applied on top of the file and the environment. */
export async function loadCliConfig(flags: ChainFlags, io: CliIo): Promise<NodeConfig> {
  return loadConfig({
    ...(flags.config !== undefined ? { path: flags.config, required: true } : {}),
    env: io.env,
    overrides: { network: flags.network, rpcUrl: flags.rpcUrl, runId: flags.run },
  });
}

/** The folder that holds deployments/<network>.json. */
export function deploymentsDir(flags: { deployments?: string }, io: CliIo): string {
  return resolve(flags.deployments ?? io.env.PROTOLEARN_DEPLOYMENTS ?? "deployments");
}

// ---------------------------------------------------------------- contexts

export interface CliReadContext {
  io: CliIo;
  json: boolean;
  config: NodeConfig;
  deployment: Deployment;
  chain: ChainContext;
  /** The operator's address, from the keystore file's plain `address` field (no password). */
  me: Address | undefined;
}

export interface CliSignerContext extends CliReadContext {
  signer: SignerContext;
  me: Address;
}

/** Config → deployment → chain, for commands that only read. Never asks for a password. */
export async function openRead(flags: ChainFlags, io: CliIo): Promise<CliReadContext> {
  const config = await loadCliConfig(flags, io);
  const deployment = await loadDeployment(config.network, deploymentsDir(flags, io));
  const chain = await connectChain({ rpcUrl: config.rpcUrl, deployment, runId: config.runId });
  return {
    io,
    json: flags.json,
    config,
    deployment,
    chain,
    me: await keystoreAddress(config.keystore),
  };
}

/**
 * Config → deployment → password → keystore account → signer, for commands that send. A wrong
 * password or a missing keystore stops here, before anything touches the chain.
 */
export async function openSigner(flags: ChainFlags, io: CliIo): Promise<CliSignerContext> {
  const config = await loadCliConfig(flags, io);
  const deployment = await loadDeployment(config.network, deploymentsDir(flags, io));
  const password = await readPassword(io.env);
  const account = await loadKeystoreFile(config.keystore, password);
  const signer = await connectSigner({
    rpcUrl: config.rpcUrl,
    deployment,
    runId: config.runId,
    account,
  });
  return { io, json: flags.json, config, deployment, chain: signer, signer, me: account.address };
}

// ---------------------------------------------------------------- transactions

/**
 * Fixes for reverts that chain/chain-error.ts leaves generic, phrased as CLI commands, by
 * contract error name (test/node/fix-hints.test.ts checks every name against the ABIs).
 */
export const CLI_REVERT_FIXES: Readonly<Record<string, string>> = {
  TrainingRunLeaveWhileActive:
    "wait until the round you took part in is finalized (see `protolearn status`), then leave",
  TrainingRunAlreadyJoined: "you are already a member: `protolearn leave` first to change role",
  TrainingRunNotMember: "join the run first with `protolearn join`",
  TrainingRunWrongPhase:
    "the round is not in that phase: see the deadlines in `protolearn status`",
  TrainingRunLockBelowMinimum:
    "your lock is below the run's current minimum (stale): raise it with `protolearn raise-lock --amount <LEARN>`",
  TrainingRunValidatorSetFrozen:
    "validator locks cannot change between a commit deadline and settlement: try again once the round is settled (`protolearn status`)",
  TrainingRunValidatorSetFull:
    "the validator set is full: join with a larger --amount than the smallest lock it names",
  TrainingRunNotGuardianOrGovernance:
    "only the guardian may pause directly; anyone may propose it with `protolearn propose pause`",
  TrainingRunNotPaused: "the run is not paused, so there is nothing to resume",
  StakeManagerZeroAmount: "give an amount above zero",
  StakeManagerUnbondingQueueFull: "withdraw matured requests with `protolearn withdraw` first",
  StakeManagerTooManyRunLocks:
    "leave another run first: an account can be locked by at most 8 runs",
  GovernorInsufficientProposerVotes:
    "delegate enough votes to yourself with `protolearn delegate` before proposing",
  GovernorNonexistentProposal: "copy the proposal id from `protolearn proposals`",
  TimelockUnexpectedOperationState:
    "the timelock delay has not passed yet: see the eta in `protolearn proposals`",
  ERC20InsufficientBalance:
    "this account does not hold enough LEARN: check `protolearn status` and use a smaller amount",
};

/**
 * Sends one transaction from the operator's account with a chain action (chain/actions), behind
 * a spinner labelled `parameters.label`: simulated first (nothing is sent if it would revert),
 * and a revert gets the CLI's fix.
 *
 * @example
 * const sent = await sendTx(ctx, stake, { amount, label: `stake ${formatLearn(amount)}` });
 */
export async function sendTx<Parameters extends { label?: string } | undefined, Result>(
  ctx: CliSignerContext,
  action: (signer: SignerContext, parameters: Parameters) => Promise<Result>,
  parameters: NonNullable<NoInfer<Parameters>> & { label: string },
): Promise<Result> {
  try {
    return await withProgress(ctx.io.progress, parameters.label, () =>
      action(ctx.signer, parameters),
    );
  } catch (err) {
    const name = err instanceof ChainError ? err.revert?.errorName : undefined;
    const fix = name === undefined ? undefined : CLI_REVERT_FIXES[name];
    if (err instanceof ChainError && fix !== undefined) {
      throw new ChainError(err.message, { code: err.code, fix, cause: err, revert: err.revert });
    }
    throw err;
  }
}

// ---------------------------------------------------------------- values

/** Parses a positive LEARN amount with up to 18 decimals ("100", "0.5") into wei. */
export function parseLearnAmount(text: string, what = "amount"): bigint {
  const trimmed = text.trim().replace(/_/g, "");
  const value = /^\d+(\.\d{1,18})?$/.test(trimmed) ? parseUnits(trimmed, LEARN_DECIMALS) : undefined;
  if (value === undefined || value === 0n) {
    throw new ProtolearnError(`the ${what} "${text}" is not a positive amount of LEARN`, {
      code: "CLI_BAD_AMOUNT",
      fix: "give a positive number of LEARN with at most 18 decimals, e.g. 100 or 0.5",
    });
  }
  return value;
}

export { formatLearn };

/** Parses a 20-byte hex address. */
export function parseAddressArg(text: string, what = "address"): Address {
  if (!isAddress(text, { strict: false })) {
    throw new ProtolearnError(`the ${what} "${text}" is not an address`, {
      code: "CLI_BAD_ADDRESS",
      fix: "give a 0x-prefixed 20-byte hex address",
    });
  }
  return getAddress(text);
}

/** "42 s", "3 min 5 s", "2 h 10 min", "7 d 0 h". */
export function formatDuration(seconds: bigint): string {
  const s = seconds < 0n ? -seconds : seconds;
  if (s < 60n) return `${s} s`;
  if (s < 3600n) return `${s / 60n} min ${s % 60n} s`;
  if (s < 86400n) return `${s / 3600n} h ${(s % 3600n) / 60n} min`;
  return `${s / 86400n} d ${(s % 86400n) / 3600n} h`;
}

/** A chain timestamp as "2025-05-01 12:00:00 UTC (in 42 s)", relative to the chain's `now`. */
export function describeTime(timestamp: bigint, now: bigint): string {
  const iso = new Date(Number(timestamp) * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
  const delta = timestamp - now;
  return `${iso} (${delta === 0n ? "now" : delta > 0n ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`})`;
}
