import { strict as assert } from "node:assert";
import { existsSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { Command } from "commander";
import { REVERT_FIXES } from "../../node/src/chain/chain-error.js";
import { protolearnErrorsAbi } from "../../node/src/chain/client.js";
import { CLI_REVERT_FIXES } from "../../node/src/cli/context.js";
import { PROPOSAL_FIXES } from "../../node/src/governance/proposal-records.js";
import { buildProgram } from "../../node/src/cli/main.js";

/**
 * A fix that names something that does not exist sends the operator nowhere. These tests read
 * every `fix:` text in node/src and check the names in it: contract errors, `protolearn`
 * commands and their flags, config keys, and the docs and contract files they point at.
 */

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && e.name !== "abis.ts")
    .map((e) => join(e.parentPath, e.name));
}

/** The text of every `fix:` property in node/src (up to the end of the property), with its file. */
async function fixTexts(): Promise<{ file: string; text: string }[]> {
  const fixes: { file: string; text: string }[] = [];
  for (const file of await sourceFiles("node/src")) {
    const source = await readFile(file, "utf8");
    for (const match of source.matchAll(/\bfix:\s*/g)) {
      const rest = source.slice(match.index + match[0].length, match.index + match[0].length + 800);
      const end = /,\s*\n|\n\s*\}/.exec(rest);
      fixes.push({ file, text: end === null ? rest : rest.slice(0, end.index) });
    }
  }
  return [...fixes, ...Object.values({ ...REVERT_FIXES, ...CLI_REVERT_FIXES, ...PROPOSAL_FIXES }).map((text) => ({ file: "revert fixes", text }))];
}

function optionNames(command: Command): Set<string> {
  return new Set(command.options.flatMap((o) => [o.long, o.short].filter((n): n is string => n !== undefined)));
}

describe("fix hints name things that exist", () => {
  it("every contract error with a fix is an error of the contracts' ABIs", () => {
    const errors = new Set(protolearnErrorsAbi.filter((e) => e.type === "error").map((e) => e.name));
    const unknown = Object.keys({ ...REVERT_FIXES, ...CLI_REVERT_FIXES, ...PROPOSAL_FIXES }).filter((name) => !errors.has(name));
    assert.deepEqual(unknown, []);
  });

  it("every `protolearn <command> --flag` a fix quotes is a command of the CLI with that flag", async () => {
    const program = buildProgram();
    const problems: string[] = [];
    for (const { file, text } of await fixTexts()) {
      // Commands are quoted in backticks (escaped inside template literals): `protolearn stake <amount>`.
      for (const [, mention] of text.matchAll(/\\?`(protolearn [^`\\]*)\\?`/g)) {
        const words = mention!.split(" ").slice(1);
        let command: Command | undefined = program;
        for (const word of words.filter((w) => /^[a-z][a-z-]*$/.test(w))) {
          const sub: Command | undefined = command.commands.find((c) => c.name() === word);
          if (sub === undefined) break;
          command = sub;
        }
        if (command === program) {
          problems.push(`${file}: "${mention}" names no command`);
          continue;
        }
        const flags = optionNames(command);
        for (const flag of words.filter((w) => w.startsWith("--"))) {
          if (!flags.has(flag) && flag !== "--help") problems.push(`${file}: "${mention}": ${command.name()} has no ${flag}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  it("every config key and file a fix names exists", async () => {
    const configKeys = new Set(["storage.kind", "storage.listen", "storage.peers", "storage.url", "log.level", "log.format", "metrics.enabled", "metrics.host", "metrics.port"]);
    const problems: string[] = [];
    for (const { file, text } of await fixTexts()) {
      for (const [key] of text.matchAll(/\b(?:storage|log|metrics)\.[a-zA-Z]+\b/g)) {
        if (!configKeys.has(key)) problems.push(`${file}: config key ${key}`);
      }
      for (const [path] of text.matchAll(/\b(?:docs|contracts)\/[\w/.-]+\.(?:md|sol)\b/g)) {
        if (!existsSync(path)) problems.push(`${file}: ${path}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it("the config keys this test knows are the config schema's", async () => {
    const { configSchema } = await import("../../node/src/config/config.js");
    const parsed = configSchema.parse({});
    const keys = [
      ...Object.keys(parsed.storage).map((k) => `storage.${k}`),
      "storage.url",
      ...Object.keys(parsed.log).map((k) => `log.${k}`),
      ...Object.keys(parsed.metrics).map((k) => `metrics.${k}`),
    ];
    assert.deepEqual(
      keys.sort(),
      ["storage.kind", "storage.listen", "storage.peers", "storage.url", "log.level", "log.format", "metrics.enabled", "metrics.host", "metrics.port"].sort(),
    );
  });
});
