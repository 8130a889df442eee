/**
 * Deploys the protolearn system (Ignition module ignition/modules/Protolearn.ts) to a network
 * and writes deployments/<network>.json, which nodes, the CLI and the explorer read. The
 * deployment itself is node/src/deploy/deploy-system.ts; this is its command line.
 *
 *   npx tsx scripts/deploy.ts --network localhost|anvil|sepolia|baseSepolia [--rpc-url URL]
 *                             [--parameters file.json] [--out deployments]
 */
import { parseArgs } from "node:util";
import { deploySystem } from "../node/src/deploy/deploy-system.js";
import { connectHardhat } from "../node/src/deploy/hardhat-connection.js";
import { readIgnitionParameters } from "../node/src/deploy/ignition-parameters.js";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      network: { type: "string", default: "localhost" },
      "rpc-url": { type: "string" },
      parameters: { type: "string" },
      out: { type: "string", default: "deployments" },
    },
  });
  const networkName = values.network ?? "localhost";
  const parameters = values.parameters ? await readIgnitionParameters(values.parameters) : undefined;
  // connectHardhat builds the contracts first when they are missing or stale.
  const connection = await connectHardhat(networkName, values["rpc-url"]);
  try {
    const record = await deploySystem({ connection, networkName, parameters, outDir: values.out });
    console.log(JSON.stringify(record, null, 2));
  } finally {
    await connection.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
