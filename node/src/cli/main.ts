import { Command, CommanderError } from "commander";
import { ProtolearnError } from "../errors.js";
import { registerInit } from "./commands/init.js";

/** Builds the `protolearn` command tree. Every command has `--help`. */
export function buildProgram(): Command {
  const program = new Command("protolearn")
    .description("Protocol Learning node and tools: stake, train, validate, govern and audit a decentralized training run")
    .version("0.1.0")
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride();
  registerInit(program);
  return program;
}

/** Runs the CLI; returns the process exit code. Errors print one sentence with the fix. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed usage or the parse error; --help and --version exit 0.
      return err.exitCode;
    }
    if (err instanceof ProtolearnError) {
      process.stderr.write(`error: ${err.toDisplayString()}\n`);
      return 1;
    }
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
