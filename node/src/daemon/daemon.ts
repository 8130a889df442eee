import { join } from "node:path";
import type { Account } from "viem";
import { parseUnits } from "viem";
import { finalizeRound, join as joinRun, roleMinimum } from "../chain/actions/index.js";
import { LEARN_DECIMALS } from "../chain/learn-amount.js";
import { connectSigner, type SignerContext } from "../chain/client.js";
import { Role } from "../chain/contract-enums.js";
import type { Deployment } from "../chain/deployment.js";
import type { NodeConfig } from "../config/config.js";
import { loadRunDataset } from "../data/run-dataset.js";
import type { Dataset } from "../data/dataset.js";
import { ProtolearnError } from "../errors.js";
import type { Model } from "../model/model.js";
import { modelForRun } from "../model/registry.js";
import type { Logger } from "../observe/logger.js";
import { MetricsRegistry } from "../observe/metrics.js";
import { RoundTimer, timedBlobStore, type PartTimer } from "../observe/round-timing.js";
import { phaseIndex } from "../run/round-phase.js";
import { HeliaBlobStore, KuboBlobStore, type BlobStore } from "../storage/index.js";
import { selectBackend } from "../train/backend.js";
import type { Adversary } from "./adversary.js";
import { ModelDivergedError, ModelSync } from "../sync/model-sync.js";
import { NodeState } from "../sync/node-state.js";
import { ChainHistory, ParamsHistory, RoundHistory } from "../history/index.js";
import { readRoundView, type RoundView } from "../run/round-view.js";
import { TrainerRole } from "./trainer.js";

/**
 * `protolearn node start`: one process that plays the trainer and/or validator role in a run,
 * and keeps (finalizes rounds when due). It polls the run's round at chain time and lets each
 * role act on the phase; every action is idempotent against the chain's record, so the loop
 * can be killed and restarted at any point.
 */

/** A role's reaction to the current round. */
export interface RoundRole {
  step(view: RoundView): Promise<void>;
}

/** Builds the validator role; injected so the daemon does not depend on how scoring works. */
export type ValidatorFactory = (deps: RoleDeps) => RoundRole;

export interface RoleDeps {
  ctx: SignerContext;
  state: NodeState;
  sync: ModelSync;
  rounds: RoundHistory;
  params: ParamsHistory;
  store: BlobStore;
  model: Model;
  dataset: Dataset;
  logger: Logger;
  metrics: MetricsRegistry;
  /** Charges wall time to the round's parts (observe/round-timing.ts). */
  timer?: PartTimer;
  config: NodeConfig;
  signal: AbortSignal;
}

export interface StartNodeOptions {
  config: NodeConfig;
  account: Account;
  deployment: Deployment;
  logger: Logger;
  adversary?: Adversary;
  validator?: ValidatorFactory;
  /** An already started store (tests, or several roles sharing one); else one is made from the config. */
  store?: BlobStore;
  /** Poll interval. @default 500 */
  tickMs?: number;
  /** Progress bars on stderr (training steps); for a terminal with readable logs. */
  progress?: boolean;
  /** Called after each tick with the round view (progress display, tests). */
  onTick?: (view: RoundView) => void;
}

export interface RunningNode {
  address: `0x${string}`;
  store: BlobStore;
  metrics: MetricsRegistry;
  metricsPort: number | undefined;
  /** Resolves when the loop ends: stop() was called, the run halted, or a fatal error. */
  done: Promise<void>;
  stop(): Promise<void>;
}

async function openStore(config: NodeConfig, dir: string): Promise<BlobStore> {
  if (config.storage.kind === "kubo") {
    const store = new KuboBlobStore({ url: config.storage.url });
    await store.start();
    return store;
  }
  const store = new HeliaBlobStore({ dataDir: dir, listen: config.storage.listen });
  await store.start();
  for (const peer of config.storage.peers) await store.dial(peer);
  return store;
}

export async function startNode(options: StartNodeOptions): Promise<RunningNode> {
  const { config, logger } = options;
  if (config.role === "both") {
    throw new ProtolearnError("an address holds one role in a run (the run contract's rule), so one process cannot be both", {
      code: "ROLE_BOTH_UNSUPPORTED",
      fix: "run a trainer and a validator as two processes with two keystores (--role trainer / --role validator)",
    });
  }
  const metrics = new MetricsRegistry();
  const timer = new RoundTimer({ logger, metrics });
  const backend = await selectBackend({ backend: config.backend, log: (line) => logger.info("backend", { line }) });
  logger.info("backend selected", { backend: backend.choice, detail: backend.description });

  const ctx = await connectSigner({
    rpcUrl: config.rpcUrl,
    deployment: options.deployment,
    runId: config.runId,
    account: options.account,
    logger: logger.child("tx"),
    onGasUsed: (label, gas) => {
      metrics.inc("protolearn_gas_used_total", "Gas used by this node's transactions", Number(gas), { action: label.split(" ")[0] ?? label });
    },
  });
  const address = ctx.account.address;
  const nodeDir = join(config.dataDir, address.toLowerCase());
  const store = options.store ?? (await openStore(config, join(nodeDir, "ipfs")));
  const runParams = await ctx.contracts.run.read.params();
  const model = modelForRun(runParams.modelId);
  // The dataset follows the run's model (MNIST, or the State of the Union bytes for the LM).
  const dataset = await loadRunDataset(model);
  logger.info("model and data", { model: model.spec.id, dataset: dataset.id, train: dataset.size.train, eval: dataset.size.eval });
  const state = await NodeState.open(config.dataDir, config.runId, address);
  const history = new ChainHistory({ client: ctx.publicClient, deployment: ctx.deployment });
  const rounds = new RoundHistory(history, config.runId);
  const params = new ParamsHistory(history, config.runId);
  const controller = new AbortController();
  ctx.sender.useTimer(timer);
  // The roles and the model sync see the store through the timer (ipfsPut / ipfsGet).
  const timedStore = timedBlobStore(store, timer, metrics);
  const sync = new ModelSync({ model, state, rounds, params, store: timedStore, timer, metrics, logger: logger.child("model"), fetchTimeoutMs: config.fetchTimeoutMs, signal: controller.signal });
  const deps: RoleDeps = { ctx, state, sync, rounds, params, store: timedStore, model, dataset, logger, metrics, timer, config, signal: controller.signal };

  await ensureMembership(ctx, config, logger);
  const roles: RoundRole[] = [];
  if (config.role !== "validator") {
    roles.push(
      new TrainerRole({ ...deps, adversary: options.adversary ?? { strategy: "none", factor: 10 }, progress: options.progress ?? false }),
    );
  }
  if (config.role !== "trainer") {
    if (options.validator === undefined) {
      throw new ProtolearnError("this build has no validator role", { code: "VALIDATOR_MISSING", fix: "run with --role trainer" });
    }
    roles.push(options.validator(deps));
  }

  const server = config.metrics.enabled ? await metrics.serve(config.metrics.host, config.metrics.port) : undefined;
  if (server) logger.info("metrics", { url: `http://${config.metrics.host}:${server.port}/metrics` });
  if (store instanceof HeliaBlobStore) logger.info("ipfs", { peerId: store.peerId(), listen: store.multiaddrs() });

  const tickMs = options.tickMs ?? 500;
  const done = (async () => {
    let lastPhase = "";
    // consecutive failed ticks (an RPC outage, a flaky IPFS peer): the wait doubles up to 8 s
    let failures = 0;
    while (!controller.signal.aborted) {
      try {
        const view = await readRoundView(ctx);
        recordView(metrics, view);
        timer.tick(view.round, view.phase);
        if (`${view.round}:${view.phase}` !== lastPhase) {
          lastPhase = `${view.round}:${view.phase}`;
          logger.info("round", { round: view.round, phase: view.phase });
        }
        // A halt takes effect when the open round is finalized: until then the node still acts
        // in it (a committed trainer that stopped now would be slashed for not revealing).
        if (view.phase === "halted") {
          logger.warn("the run is halted for good: stopping; leave the run and withdraw your stake");
          break;
        }
        for (const role of roles) await role.step(view);
        if (config.keeper && view.phase === "finalizable" && !view.finalized) await settle(ctx, view, config.finalizeBatch, logger);
        await recordAccount(ctx, metrics);
        options.onTick?.(view);
        if (failures > 0) logger.info("recovered", { failedTicks: failures });
        failures = 0;
      } catch (err) {
        if (controller.signal.aborted) break;
        if (err instanceof ModelDivergedError) {
          logger.error("stopping: model diverged", { error: err.message, fix: err.fix });
          throw err;
        }
        failures++;
        logger.warn("tick failed; retrying", {
          error: err instanceof ProtolearnError ? err.toDisplayString() : String(err),
          failures,
          retryInMs: retryDelayMs(tickMs, failures),
        });
      }
      await new Promise((r) => setTimeout(r, failures === 0 ? tickMs : retryDelayMs(tickMs, failures)));
    }
  })();

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    controller.abort();
    await done.catch(() => undefined);
    timer.finish();
    await server?.close();
    if (options.store === undefined) await store.stop();
  };
  return { address, store, metrics, metricsPort: server?.port, done, stop };
}

/** The wait after `failures` consecutive failed ticks: the tick interval doubled per failure, at most 8 s. */
export function retryDelayMs(tickMs: number, failures: number): number {
  return Math.min(8_000, tickMs * 2 ** Math.min(failures, 16));
}

async function ensureMembership(ctx: SignerContext, config: NodeConfig, logger: Logger): Promise<void> {
  const member = await ctx.contracts.run.read.memberOf([ctx.account.address]);
  if (member.role !== Role.None) return;
  const role = config.role === "trainer" ? "trainer" : "validator";
  const minimum = await roleMinimum(ctx, role);
  const amount = config.joinAmount === undefined ? minimum : parseUnits(config.joinAmount, LEARN_DECIMALS);
  if (amount < minimum) {
    throw new ProtolearnError(`joinAmount ${config.joinAmount ?? ""} LEARN is below the run's ${role} minimum`, {
      code: "CONFIG_JOIN_AMOUNT_LOW",
      fix: `set joinAmount to at least ${Number(minimum) / 1e18} LEARN (or remove it to lock the minimum)`,
    });
  }
  logger.info("joining the run", { role, lock: amount.toString() });
  await joinRun(ctx, { role, amount, label: "join" });
}

/**
 * Keeper: settles a round whose vote-reveal phase is over by calling finalizeRound(round,
 * batch) until it reports the round settled. A call that only armed the challenge (or found
 * the randomness not yet readable) settles nothing and returns done = false: the loop stops
 * then, and the next tick (a block later) calls again. Another keeper's concurrent batch makes
 * ours revert or settle less; either way the next tick reads the chain again.
 */
export async function settle(ctx: SignerContext, view: RoundView, batch: number, logger: Logger): Promise<boolean> {
  const log = logger.child("keeper", { round: view.round });
  for (let calls = 0; calls < 64; calls++) {
    let sent;
    try {
      sent = await finalizeRound(ctx, { round: view.round, maxItems: batch });
    } catch (err) {
      log.debug("finalize skipped", { error: err instanceof Error ? err.message : String(err) });
      return false;
    }
    log.info(sent.done ? "finalized" : "settlement batch", {
      gasUsed: sent.gasUsed,
      ...(sent.progress ? { processed: sent.progress.processed, total: sent.progress.total } : {}),
    });
    if (sent.done) return true;
    // No progress: the call armed the challenge or the randomness is not readable yet (next block).
    if (sent.progress === undefined) return false;
  }
  return false;
}

function recordView(metrics: MetricsRegistry, view: RoundView): void {
  metrics.set("protolearn_round", "Current round of the run", view.round);
  metrics.set("protolearn_phase", "Current phase (index in commit, reveal, score, vote-reveal, finalizable, paused, halted)", phaseIndex(view.phase));
}

async function recordAccount(ctx: SignerContext, metrics: MetricsRegistry): Promise<void> {
  const [bonded, member] = await Promise.all([
    ctx.contracts.stakeManager.read.bondedOf([ctx.account.address]),
    ctx.contracts.run.read.memberOf([ctx.account.address]),
  ]);
  metrics.set("protolearn_stake_bonded", "Bonded stake of this node (LEARN)", Number(bonded) / 1e18);
  metrics.set("protolearn_rewards_pending", "Accrued, unclaimed rewards (LEARN)", Number(member.rewards) / 1e18);
}
