import { mkdir, writeFile, access } from "node:fs/promises";
import { dirname, join } from "node:path";
import type { Command } from "commander";
import { getAddress } from "viem";
import { generatePrivateKey } from "viem/accounts";
import { configSchema, DEFAULT_CONFIG_PATH, DEFAULT_HOME } from "../../config/config.js";
import { ProtolearnError } from "../../errors.js";
import { encryptKeystore, writeKeystoreFile } from "../../keystore/keystore.js";
import { readPassword } from "../password.js";
import { printResult } from "../output.js";

/** `protolearn init`: a new encrypted keystore and a config file that points at it. */
export function registerInit(program: Command): void {
  program
    .command("init")
    .description("create an encrypted keystore (new key) and a config file")
    .option("--home <dir>", "folder for the keystore, config and data", DEFAULT_HOME)
    .option("--network <name>", "network the node will use", "localhost")
    .option("--rpc-url <url>", "JSON-RPC endpoint of that network", "http://127.0.0.1:8545")
    .option("--role <role>", "trainer | validator | both", "trainer")
    .option("--force", "overwrite an existing config file (never an existing keystore)", false)
    .option("--json", "print the result as JSON", false)
    .action(async (opts: { home: string; network: string; rpcUrl: string; role: string; force: boolean; json: boolean }) => {
      const keystorePath = join(opts.home, "keystore.json");
      const configPath = opts.home === DEFAULT_HOME ? DEFAULT_CONFIG_PATH : join(opts.home, "config.json");
      const config = configSchema.safeParse({
        network: opts.network,
        rpcUrl: opts.rpcUrl,
        role: opts.role,
        keystore: keystorePath,
        dataDir: join(opts.home, "data"),
      });
      if (!config.success) {
        const issue = config.error.issues[0];
        throw new ProtolearnError(`invalid --${issue?.path.join(".") ?? "option"}: ${issue?.message ?? ""}`, {
          code: "CLI_BAD_FLAG",
          fix: "see `protolearn init --help` for the accepted values",
        });
      }
      const configExists = await access(configPath).then(() => true, () => false);
      if (configExists && !opts.force) {
        throw new ProtolearnError(`a config file already exists at ${configPath}`, {
          code: "CONFIG_EXISTS",
          fix: "pass --force to overwrite it (the keystore is never overwritten)",
        });
      }
      const password = await readPassword(process.env, "new keystore password (8+ characters): ");
      const keystore = await encryptKeystore(generatePrivateKey(), password);
      await writeKeystoreFile(keystorePath, keystore);
      await mkdir(dirname(configPath), { recursive: true });
      await writeFile(configPath, JSON.stringify(config.data, null, 2) + "\n", { mode: 0o600 });
      const address = getAddress(`0x${keystore.address}`);
      printResult(opts.json, { address, keystore: keystorePath, config: configPath }, () =>
        [`address   ${address}`, `keystore  ${keystorePath} (encrypted)`, `config    ${configPath}`, "", "next: fund this address, then `protolearn stake <amount>` and `protolearn join`"].join("\n"),
      );
    });
}
