import type { Command } from "commander";
import { loadDeployment } from "../../chain/deployment.js";
import { ADVERSARY_STRATEGIES, adversarySchema } from "../../daemon/adversary.js";
import { startNode } from "../../daemon/daemon.js";
import { validatorRole } from "../../daemon/validator.js";
import { ProtolearnError } from "../../errors.js";
import { loadKeystoreFile } from "../../keystore/keystore.js";
import { createLogger, resolveLogFormat } from "../../observe/logger.js";
import { loadConfig } from "../../config/config.js";
import { deploymentsDir, withChainOptions, type ChainFlags, type CliIo } from "../context.js";
import { readPassword } from "../password.js";

interface NodeStartFlags extends ChainFlags {
  role?: string;
  dataDir?: string;
  backend?: string;
  listen?: string[];
  peer?: string[];
  metricsPort?: string;
  logFormat?: string;
  logLevel?: string;
  keeper: boolean;
  finalizeBatch?: string;
  joinAmount?: string;
  adversary?: string;
  adversaryFactor?: string;
  adversaryTarget?: string;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `protolearn node start`: the long-running trainer / validator / keeper process. */
export function registerNodeStart(program: Command, io: CliIo): void {
  const node = program.command("node").description("run a protolearn node (trainer or validator) in a run");
  withChainOptions(
    node
      .command("start")
      .description("start the node daemon: train or validate every round, keep (finalize due rounds), serve metrics")
      .option("--role <role>", "trainer | validator (overrides the config)")
      .option("--data-dir <dir>", "folder for state, model, residual and IPFS blocks (overrides the config)")
      .option("--backend <name>", "auto | node-gpu | node | wasm | cpu (overrides the config)")
      .option("--listen <multiaddr>", "IPFS listen address, repeatable (e.g. /ip4/127.0.0.1/tcp/4101)", collect)
      .option("--peer <multiaddr>", "IPFS peer to dial at start, repeatable", collect)
      .option("--metrics-port <port>", "Prometheus /metrics port (0 = any free port)")
      .option("--log-format <format>", "auto | pretty | json (auto: readable on a terminal, JSON otherwise)")
      .option("--log-level <level>", "debug | info | warn | error")
      .option("--no-keeper", "do not call finalizeRound when a round is due")
      .option("--finalize-batch <n>", "settlement items per finalizeRound call (default 128)")
      .option("--join-amount <LEARN>", "stake to lock when the node joins (default: the role's minimum)")
      .option("--adversary <strategy>", `TESTING ONLY: misbehave on purpose: ${ADVERSARY_STRATEGIES.filter((s) => s !== "none").join(" | ")}`)
      .option("--adversary-factor <x>", "TESTING ONLY: factor of sign-flip / scale", "10")
      .option("--adversary-target <address>", "TESTING ONLY: the trainer a collude-zero validator scores 0"),
  ).action(async (flags: NodeStartFlags) => {
    const overrides: Record<string, unknown> = {
      network: flags.network,
      rpcUrl: flags.rpcUrl,
      runId: flags.run,
      role: flags.role,
      dataDir: flags.dataDir,
      backend: flags.backend,
      keeper: flags.keeper,
      finalizeBatch: flags.finalizeBatch,
      joinAmount: flags.joinAmount,
      "log.format": flags.logFormat,
      "log.level": flags.logLevel,
      "metrics.port": flags.metricsPort,
    };
    if (flags.listen !== undefined || flags.peer !== undefined) {
      overrides.storage = { kind: "helia", listen: flags.listen ?? ["/ip4/127.0.0.1/tcp/0"], peers: flags.peer ?? [] };
    }
    const config = await loadConfig({
      ...(flags.config !== undefined ? { path: flags.config, required: true } : {}),
      env: io.env,
      overrides,
    });
    const adversary = adversarySchema.safeParse({
      strategy: flags.adversary ?? "none",
      factor: Number(flags.adversaryFactor ?? "10"),
      ...(flags.adversaryTarget === undefined ? {} : { target: flags.adversaryTarget }),
    });
    if (!adversary.success) {
      throw new ProtolearnError(`--adversary ${flags.adversary ?? ""}: ${adversary.error.issues.map((i) => `${i.path.join(".") || "strategy"} ${i.message}`).join("; ")}`, {
        code: "CLI_BAD_FLAG",
        fix: `use one of ${ADVERSARY_STRATEGIES.filter((s) => s !== "none").join(", ")} (a positive --adversary-factor; collude-zero also --adversary-target <trainer address>), or leave it out`,
      });
    }
    const deployment = await loadDeployment(config.network, deploymentsDir(flags, io));
    const account = await loadKeystoreFile(config.keystore, await readPassword(io.env));
    const logger = createLogger({ level: config.log.level, format: resolveLogFormat(config.log.format) }, "protolearn", { node: account.address });
    const running = await startNode({
      config,
      account,
      deployment,
      logger,
      adversary: adversary.data,
      validator: (deps) => validatorRole(deps, adversary.data),
      progress: io.progress && resolveLogFormat(config.log.format) === "pretty",
    });
    const stop = (): void => {
      logger.info("stopping");
      void running.stop();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    await running.done;
    await running.stop();
  });
}
