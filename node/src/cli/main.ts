import { Command, CommanderError } from "commander";
import { BaseError } from "viem";
import { toChainError } from "../chain/chain-error.js";
import { ProtolearnError } from "../errors.js";
import { registerAudit } from "./commands/audit.js";
import { registerClaim } from "./commands/claim.js";
import { registerDelegate } from "./commands/delegate.js";
import { registerDeploy } from "./commands/deploy.js";
import { registerDevnet } from "./commands/devnet.js";
import { registerExecute } from "./commands/execute.js";
import { registerExplorer } from "./commands/explorer.js";
import { registerFinalize } from "./commands/finalize.js";
import { registerInit } from "./commands/init.js";
import { registerJoin } from "./commands/join.js";
import { registerLeave } from "./commands/leave.js";
import { registerNodeStart } from "./commands/node-start.js";
import { registerPause } from "./commands/pause.js";
import { registerPropose } from "./commands/propose.js";
import { registerProposals } from "./commands/proposals.js";
import { registerQueue } from "./commands/queue.js";
import { registerRaiseLock } from "./commands/raise-lock.js";
import { registerStake } from "./commands/stake.js";
import { registerStatus } from "./commands/status.js";
import { registerUnstake } from "./commands/unstake.js";
import { registerVote } from "./commands/vote.js";
import { registerWithdraw } from "./commands/withdraw.js";
import { processIo, type CliIo } from "./context.js";

/** Builds the `protolearn` command tree. Every command has `--help`. */
export function buildProgram(io: CliIo = processIo()): Command {
  const program = new Command("protolearn")
    .description(
      "Protocol Learning node and tools: stake, train, validate, govern and audit a decentralized training run",
    )
    .version("0.1.0")
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      // Parse errors stay one line, like every other error, with the way to the fix appended.
      outputError: (s, write) =>
        write(`${s.trimEnd()} — run the command with --help for its usage\n`),
    })
    .exitOverride();
  registerInit(program);
  // local chain and deployment
  registerDevnet(program, io);
  registerDeploy(program, io);
  // stake and participation
  registerStatus(program, io);
  registerStake(program, io);
  registerUnstake(program, io);
  registerWithdraw(program, io);
  registerJoin(program, io);
  registerRaiseLock(program, io);
  registerLeave(program, io);
  registerNodeStart(program, io);
  registerClaim(program, io);
  registerFinalize(program, io);
  registerPause(program, io);
  // governance
  registerDelegate(program, io);
  registerPropose(program, io);
  registerVote(program, io);
  registerQueue(program, io);
  registerExecute(program, io);
  registerProposals(program, io);
  registerAudit(program, io);
  registerExplorer(program, io);
  return program;
}

/** One line: the CLI's errors end in a single sentence (what happened — how to fix it). */
function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

/** Runs the CLI; returns the process exit code. Errors print one sentence with the fix. */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed usage or the parse error; --help and --version exit 0.
      return err.exitCode;
    }
    if (err instanceof ProtolearnError) {
      io.err(`error: ${oneLine(err.toDisplayString())}\n`);
      return 1;
    }
    if (err instanceof BaseError) {
      io.err(`error: ${oneLine(toChainError(err, "the chain request").toDisplayString())}\n`);
      return 1;
    }
    io.err(`error: ${oneLine(err instanceof Error ? err.message : String(err))}\n`);
    return 1;
  }
}
