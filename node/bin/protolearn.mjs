#!/usr/bin/env node
// Entry point of the `protolearn` CLI: registers the TypeScript loader, then runs the CLI.
import { register } from "tsx/esm/api";

const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(
    `error: protolearn needs Node.js 22 or newer (this is ${process.version}) — run it through npm (\`npx protolearn\`), which uses the project's node@22`,
  );
  process.exit(1);
}
register();
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv);
