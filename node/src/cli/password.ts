import { createInterface } from "node:readline";
import { ProtolearnError } from "../errors.js";

/**
 * The keystore password: from PROTOLEARN_PASSWORD (for services and scripts), else a prompt
 * on the terminal that does not echo. Never from a command-line flag (flags end up in shell
 * history and `ps`).
 */
export async function readPassword(env: NodeJS.ProcessEnv, prompt = "keystore password: "): Promise<string> {
  const fromEnv = env.PROTOLEARN_PASSWORD;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (!process.stdin.isTTY) {
    throw new ProtolearnError("no keystore password: PROTOLEARN_PASSWORD is unset and there is no terminal to ask on", {
      code: "PASSWORD_MISSING",
      fix: "set PROTOLEARN_PASSWORD in the environment (e.g. from a secrets file), or run the command in a terminal",
    });
  }
  return new Promise((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const out = rl as unknown as { _writeToOutput: (s: string) => void };
    process.stderr.write(prompt);
    out._writeToOutput = () => undefined; // no echo
    rl.question("", (answer) => {
      rl.close();
      process.stderr.write("\n");
      resolve(answer);
    });
  });
}
