import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Address } from "viem";

/**
 * A `protolearn node start` child process, as `npm start` and the crash tests run it: JSON logs
 * on stderr are captured (and teed to a log file), the IPFS listen address is read from the
 * node's "ipfs" log record, and the process can be stopped politely or killed outright.
 */
export interface NodeProcess {
  name: string;
  address: Address;
  child: ChildProcess;
  /** The node's IPFS multiaddr (with /p2p/ id), for later peers to dial. */
  multiaddr: string;
  /** Every JSON log record the node wrote so far. */
  events: Record<string, unknown>[];
  /** Resolves with the first record that satisfies `predicate` (past or future). */
  waitForEvent(predicate: (e: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), "../../bin/protolearn.mjs");

export async function spawnNode(options: {
  name: string;
  address: Address;
  configPath: string;
  password: string;
  logFile: string;
  peers?: string[];
  keeper?: boolean;
  adversary?: { strategy: string; factor: number; target?: string };
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}): Promise<NodeProcess> {
  const args = [CLI, "node", "start", "--config", options.configPath, "--log-format", "json", "--metrics-port", "0"];
  args.push("--listen", "/ip4/127.0.0.1/tcp/0");
  for (const peer of options.peers ?? []) args.push("--peer", peer);
  if (options.keeper === false) args.push("--no-keeper");
  if (options.adversary) args.push("--adversary", options.adversary.strategy, "--adversary-factor", String(options.adversary.factor));
  if (options.adversary?.target !== undefined) args.push("--adversary-target", options.adversary.target);
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...options.env, PROTOLEARN_PASSWORD: options.password },
    stdio: ["ignore", "pipe", "pipe"],
    ...(options.cwd ? { cwd: options.cwd } : {}),
  });
  const log = createWriteStream(options.logFile, { flags: "a" });
  const events: Record<string, unknown>[] = [];
  const waiters: { predicate: (e: Record<string, unknown>) => boolean; resolve: (e: Record<string, unknown>) => void }[] = [];
  let buffered = "";
  child.stdout?.on("data", (chunk: Buffer) => log.write(chunk));
  child.stderr?.on("data", (chunk: Buffer) => {
    log.write(chunk);
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop() ?? "";
    for (const line of lines) {
      let event: Record<string, unknown>;
      try {
        event = JSON.parse(line) as Record<string, unknown>;
      } catch {
        continue; // a non-JSON line (library warning) stays in the log file only
      }
      events.push(event);
      for (const w of [...waiters]) {
        if (w.predicate(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    }
  });
  const exited = new Promise<never>((_, reject) =>
    child.once("exit", (code, signal) => reject(new Error(`${options.name} exited (code ${code}, signal ${signal}); see ${options.logFile}`))),
  );
  exited.catch(() => undefined);
  const waitForEvent = (predicate: (e: Record<string, unknown>) => boolean, timeoutMs = 120_000): Promise<Record<string, unknown>> => {
    const seen = events.find(predicate);
    if (seen) return Promise.resolve(seen);
    return Promise.race([
      new Promise<Record<string, unknown>>((resolveEvent) => waiters.push({ predicate, resolve: resolveEvent })),
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${options.name}: no matching log record within ${timeoutMs} ms; see ${options.logFile}`)), timeoutMs).unref(),
      ),
    ]);
  };
  const ipfs = await waitForEvent((e) => e.event === "ipfs" && Array.isArray(e.listen));
  return {
    name: options.name,
    address: options.address,
    child,
    multiaddr: String((ipfs.listen as unknown[])[0]),
    events,
    waitForEvent,
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
export async function stopNode(node: NodeProcess, graceMs = 10_000): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  await new Promise<void>((done) => {
    node.child.once("exit", () => done());
    node.child.kill("SIGTERM");
    setTimeout(() => node.child.kill("SIGKILL"), graceMs).unref();
  });
}

/** `kill -9`: no chance to clean up, as in a crash or power loss. */
export async function killNode(node: NodeProcess): Promise<void> {
  if (node.child.exitCode !== null || node.child.signalCode !== null) return;
  await new Promise<void>((done) => {
    node.child.once("exit", () => done());
    node.child.kill("SIGKILL");
  });
}

