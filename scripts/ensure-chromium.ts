/**
 * The browser tests drive Debian's Chromium through playwright-core (which downloads no browser).
 * Before the node tests run, this finds Chromium; when it is missing and we run as root, it
 * installs Debian's `chromium` package itself; otherwise it stops at once with the command that
 * fixes it, so the test run never ends in cancelled browser tests.
 *
 *   tsx scripts/ensure-chromium.ts      (run by `npm run test:node`)
 */
import { spawnSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Names Debian and other distributions give the Chromium binary. */
const BINARY_NAMES = ["chromium", "chromium-browser"];

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `PROTOLEARN_CHROMIUM` if set, else the first Chromium on PATH (or in /usr/bin); undefined if none. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const chosen = env.PROTOLEARN_CHROMIUM;
  if (chosen !== undefined && chosen !== "") return chosen;
  const dirs = [...(env.PATH ?? "").split(delimiter).filter((d) => d !== ""), "/usr/bin"];
  for (const dir of dirs) {
    for (const name of BINARY_NAMES) {
      const path = join(dir, name);
      if (isExecutable(path)) return path;
    }
  }
  return undefined;
}

const INSTALL = "sudo apt-get install -y chromium";

function installAsRoot(): boolean {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  for (const args of [["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", "chromium"]]) {
    console.error(`ensure-chromium: apt-get ${args.join(" ")}`);
    const result = spawnSync("apt-get", args, { stdio: ["ignore", "ignore", "inherit"], env });
    if (result.status !== 0) return false;
  }
  return true;
}

function main(): number {
  const explicit = process.env.PROTOLEARN_CHROMIUM;
  if (explicit !== undefined && explicit !== "" && !isExecutable(explicit)) {
    console.error(`error: PROTOLEARN_CHROMIUM=${explicit} is not an executable file\nfix: point it at a Chromium binary, or unset it and install Debian's: ${INSTALL}`);
    return 1;
  }
  if (findChromium() !== undefined) return 0;
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  if (isRoot) {
    console.error("ensure-chromium: the browser tests need Chromium and none was found; installing Debian's chromium (once)");
    if (installAsRoot() && findChromium() !== undefined) return 0;
    console.error("error: installing Debian's chromium with apt-get failed (output above)");
  } else {
    console.error("error: the browser tests need Chromium and none was found (not root, so it cannot be installed here)");
  }
  console.error(`fix: ${INSTALL}   (or set PROTOLEARN_CHROMIUM=/path/to/chromium)`);
  return 1;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
