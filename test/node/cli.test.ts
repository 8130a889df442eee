import { strict as assert } from "node:assert";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Command } from "commander";
import { parseUnits, type Address } from "viem";
import { connectChain, type ChainContext } from "../../node/src/chain/client.js";
import { startDevnet, type Devnet } from "../../node/src/devnet/start-devnet.js";
import type { CliIo } from "../../node/src/cli/context.js";
import { buildProgram, main } from "../../node/src/cli/main.js";

/**
 * The protolearn CLI end to end: commands run in-process through `main(argv, io)` against a
 * real anvil devnet built by `startDevnet` (deploy via Ignition, funded keystores and configs).
 */

const PORT = 18560;
const PASSWORD = "cli-test-password";
const LEARN = (n: string): bigint => parseUnits(n, 18);

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `protolearn <argv>` in-process with its own stdout/stderr buffers and environment. */
async function cli(
  argv: string[],
  env: NodeJS.ProcessEnv = { PROTOLEARN_PASSWORD: PASSWORD },
): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  const io: CliIo = {
    out: (s) => void (stdout += s),
    err: (s) => void (stderr += s),
    env,
    progress: false,
  };
  const code = await main(["node", "protolearn", ...argv], io);
  return { code, stdout, stderr };
}

/** Asserts the shape every bad input must have: exit 1, one `error:` line naming the problem, nothing on stdout. */
function assertOneLineError(result: RunResult, pattern: RegExp): void {
  assert.equal(
    result.code,
    1,
    `expected exit 1, got ${result.code}: ${result.stderr}${result.stdout}`,
  );
  assert.equal(result.stdout, "");
  const lines = result.stderr.split("\n").filter((l) => l !== "");
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] ?? "", /^error: /);
  assert.match(lines[0] ?? "", pattern);
}

/** Every command path under `command`, e.g. ["propose", "params"]. */
function commandPaths(
  command: Command,
  prefix: string[] = [],
): { path: string[]; command: Command }[] {
  return command.commands.flatMap((sub) => {
    const path = [...prefix, sub.name()];
    return [{ path, command: sub }, ...commandPaths(sub, path)];
  });
}

describe("protolearn CLI --help", () => {
  it("every command and subcommand prints its usage and every option, and exits 0", async () => {
    const paths = commandPaths(buildProgram());
    assert.ok(paths.length >= 20, `only ${paths.length} commands registered`);
    for (const { path, command } of paths) {
      const result = await cli([...path, "--help"]);
      assert.equal(result.code, 0, `${path.join(" ")} --help exited ${result.code}`);
      assert.match(
        result.stdout,
        new RegExp(`^Usage: protolearn ${path.join(" ")}`),
        path.join(" "),
      );
      for (const option of command.options) {
        assert.ok(
          option.long !== undefined && result.stdout.includes(option.long),
          `${path.join(" ")} --help does not list ${option.long}`,
        );
      }
    }
  });

  it("chain commands take --config, --network, --rpc-url, --run and --json", async () => {
    for (const name of [
      "status",
      "stake",
      "unstake",
      "withdraw",
      "join",
      "leave",
      "claim",
      "vote",
      "queue",
      "execute",
      "proposals",
    ]) {
      const { stdout } = await cli([name, "--help"]);
      for (const flag of ["--config", "--network", "--rpc-url", "--run", "--json"])
        assert.ok(stdout.includes(flag), `${name} lacks ${flag}`);
    }
  });
});

describe("protolearn CLI on an anvil devnet", () => {
  let devnet: Devnet;
  let dir: string;
  let chain: ChainContext;
  let me: Address;
  let flags: string[];

  /** What a bad input must leave untouched. */
  async function snapshot(address: Address): Promise<Record<string, bigint | number>> {
    const { token, stakeManager, run } = chain.contracts;
    const [nonce, balance, allowance, stake, member, block] = await Promise.all([
      chain.publicClient.getTransactionCount({ address }),
      token.read.balanceOf([address]),
      token.read.allowance([address, stakeManager.address]),
      stakeManager.read.stakeOf([address]),
      run.read.memberOf([address]),
      chain.publicClient.getBlockNumber({ cacheTime: 0 }),
    ]);
    return {
      nonce,
      balance,
      allowance,
      bonded: stake[0],
      unbonding: stake[1],
      locked: stake[2],
      role: member.role,
      block,
    };
  }

  async function status(
    extra: string[] = [],
  ): Promise<{ run: Record<string, unknown>; account: Record<string, unknown> }> {
    const result = await cli(["status", "--json", ...flags, ...extra]);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as {
      run: Record<string, unknown>;
      account: Record<string, unknown>;
    };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "protolearn-cli-"));
    devnet = await startDevnet({
      port: PORT,
      accounts: 3,
      validators: 1,
      outDir: join(dir, "devnet"),
      deploymentsDir: join(dir, "deployments"),
      password: PASSWORD,
    });
    const trainer = devnet.accounts[1];
    assert.ok(trainer);
    me = trainer.address;
    flags = ["--config", trainer.configPath, "--deployments", join(dir, "deployments")];
    chain = await connectChain({
      rpcUrl: devnet.chain.rpcUrl,
      deployment: devnet.deployment,
      runId: 1,
    });
  });

  after(async () => {
    await devnet?.stop();
  });

  it("startDevnet wrote a keystore and a valid config per account, funded and self-delegated", async () => {
    assert.equal(devnet.accounts.length, 3);
    assert.deepEqual(
      devnet.accounts.map((a) => a.role),
      ["validator", "trainer", "trainer"],
    );
    for (const account of devnet.accounts) {
      const config = JSON.parse(await readFile(account.configPath, "utf8")) as {
        rpcUrl: string;
        keystore: string;
        role: string;
      };
      assert.equal(config.rpcUrl, devnet.chain.rpcUrl);
      assert.equal(config.keystore, account.keystorePath);
      assert.equal(config.role, account.role);
      assert.equal(await chain.contracts.token.read.balanceOf([account.address]), LEARN("250000"));
      assert.equal(await chain.contracts.token.read.delegates([account.address]), account.address);
    }
  });

  it("status works without a password and shows the run in its commit phase", async () => {
    const result = await cli(["status", "--json", ...flags], {}); // no PROTOLEARN_PASSWORD, no terminal
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout) as {
      run: { round: string; phase: string; paused: boolean };
      account: { address: string; role: string; votes: string };
    };
    assert.equal(report.run.round, "1");
    assert.equal(report.run.phase, "commit");
    assert.equal(report.run.paused, false);
    assert.equal(report.account.address, me);
    assert.equal(report.account.role, "none");
    assert.equal(report.account.votes, LEARN("250000").toString());
  });

  it("stake approves then bonds, join locks the trainer minimum, unstake queues the rest, and status --json shows each", async () => {
    const staked = await cli(["stake", "150.5", ...flags]);
    assert.equal(staked.code, 0, staked.stderr);
    assert.match(staked.stdout, /staked\s+150\.5 LEARN/);
    let report = await status();
    assert.equal(report.account.bonded, LEARN("150.5").toString());
    assert.equal(report.account.balance, (LEARN("250000") - LEARN("150.5")).toString());

    const joined = await cli(["join", ...flags]); // the config's role: trainer
    assert.equal(joined.code, 0, joined.stderr);
    report = await status();
    assert.equal(report.account.role, "trainer");
    assert.equal(report.account.lockedByRun, LEARN("100").toString());
    assert.equal(report.account.free, LEARN("50.5").toString());

    const unstaked = await cli(["unstake", "50", "--json", ...flags]);
    assert.equal(unstaked.code, 0, unstaked.stderr);
    const request = JSON.parse(unstaked.stdout) as { releaseAt: string };
    report = await status();
    const entries = report.account.unbondingEntries as { amount: string; releaseAt: string }[];
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.amount, LEARN("50").toString());
    assert.equal(entries[0]?.releaseAt, request.releaseAt);
    assert.ok(
      BigInt(request.releaseAt) > BigInt(report.run.commitDeadline as string),
      "unbonding outlasts the round",
    );
    assert.equal(report.account.unbonding, LEARN("50").toString());
  });

  it("the human status names the phase, relative deadlines and the stake", async () => {
    const result = await cli(["status", ...flags]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /round\s+1, phase commit/);
    assert.match(result.stdout, /commit\s+until .+ UTC \(in \d+ min \d+ s\)/);
    assert.match(result.stdout, /bonded\s+100\.5 LEARN \(locked 100 LEARN/);
    assert.match(result.stdout, /role\s+trainer/);
  });

  describe("bad input exits 1 with one sentence and changes nothing", () => {
    const cases: { name: string; argv: () => string[]; env?: NodeJS.ProcessEnv; error: RegExp }[] =
      [
        {
          name: "unknown network",
          argv: () => ["stake", "1", ...flags, "--network", "nowhere"],
          error: /no deployment for network "nowhere".*deploy first/,
        },
        {
          name: "unknown run",
          argv: () => ["stake", "1", ...flags, "--run", "7"],
          error: /run 7 is not in the localhost deployment.*runs that exist there: 1/,
        },
        {
          name: "insufficient balance (no approval sent either)",
          argv: () => ["stake", "1000000", ...flags],
          error: /holds 249849\.5 LEARN, less than the 1000000 LEARN to stake/,
        },
        {
          name: "insufficient free stake to unstake",
          argv: () => ["unstake", "10", ...flags],
          error: /only 0\.5 LEARN of your stake is free.*100 LEARN is locked/,
        },
        {
          name: "insufficient stake to join as validator",
          argv: () => ["join", "--role", "validator", ...devnetFlags(2)],
          error:
            /joining as validator locks 1000 LEARN, but only 0 LEARN of your stake is free.*stake at least 1000 LEARN more/,
        },
        {
          name: "already joined",
          argv: () => ["join", "--role", "validator", ...flags],
          error: /already a trainer of run 1.*leave/,
        },
        {
          name: "wrong password",
          argv: () => ["stake", "1", ...flags],
          env: { PROTOLEARN_PASSWORD: "not-the-password" },
          error: /keystore password is wrong/,
        },
        {
          name: "no password and no terminal",
          argv: () => ["stake", "1", ...flags],
          env: {},
          error: /no keystore password.*PROTOLEARN_PASSWORD/,
        },
        {
          name: "amount that is not a number",
          argv: () => ["stake", "lots", ...flags],
          error: /"lots" is not a positive amount of LEARN/,
        },
        {
          name: "zero amount",
          argv: () => ["stake", "0", ...flags],
          error: /"0" is not a positive amount/,
        },
        {
          name: "more than 18 decimals",
          argv: () => ["stake", "0.0000000000000000001", ...flags],
          error: /at most 18 decimals/,
        },
        {
          name: "finalize while the commit phase is open",
          argv: () => ["finalize", ...flags],
          error:
            /round 1 is in its commit phase; it can be finalized after the vote-reveal deadline .* \(in \d+ min/,
        },
        {
          name: "nothing has finished unbonding",
          argv: () => ["withdraw", ...flags],
          error: /nothing has finished unbonding yet; the next request releases .* \(in [67] d/,
        },
        {
          name: "raise-lock by a non-member",
          argv: () => ["raise-lock", "--amount", "10", ...devnetFlags(2)],
          error: /is not a member of run 1.*protolearn join --amount/,
        },
        {
          name: "raise-lock by more than the free stake",
          argv: () => ["raise-lock", "--amount", "10", ...flags],
          error: /raising the lock by 10 LEARN needs that much free stake, but only 0\.5 LEARN is free.*stake at least 9\.5 LEARN more/,
        },
        {
          name: "raise-lock with an amount that is not a number",
          argv: () => ["raise-lock", "--amount", "lots", ...flags],
          error: /the --amount "lots" is not a positive amount of LEARN/,
        },
        {
          name: "raise-lock without --amount",
          argv: () => ["raise-lock", ...flags],
          error: /required option '--amount <LEARN>' not specified/,
        },
        {
          name: "leave by a non-member",
          argv: () => ["leave", ...devnetFlags(2)],
          error: /is not a member of run 1/,
        },
        {
          name: "pause by someone who is not the guardian",
          argv: () => ["pause", ...flags],
          error: /is not the guardian of run 1.*propose pause/,
        },
        {
          name: "missing argument",
          argv: () => ["stake", ...flags],
          error: /missing required argument 'amount'/,
        },
        {
          name: "unknown role",
          argv: () => ["join", "--role", "auditor", ...flags],
          error:
            /argument 'auditor' is invalid\. Allowed choices are trainer, validator\. — run the command with --help/,
        },
      ];

    function devnetFlags(index: number): string[] {
      const account = devnet.accounts[index];
      assert.ok(account);
      return ["--config", account.configPath, "--deployments", join(dir, "deployments")];
    }

    for (const c of cases) {
      it(c.name, async () => {
        const accounts = devnet.accounts.map((a) => a.address);
        const before = await Promise.all(accounts.map(snapshot));
        const result = await cli(c.argv(), c.env);
        assertOneLineError(result, c.error);
        assert.deepEqual(await Promise.all(accounts.map(snapshot)), before);
      });
    }

    it("a config file that is not JSON", async () => {
      const path = join(dir, "broken.json");
      await writeFile(path, "{ rpcUrl: nope");
      const before = await snapshot(me);
      assertOneLineError(
        await cli(["stake", "1", "--config", path]),
        /the config file .*broken\.json is not a JSON object.*fix the JSON syntax/,
      );
      assert.deepEqual(await snapshot(me), before);
    });

    it("a config file with an invalid value", async () => {
      const path = join(dir, "invalid.json");
      await writeFile(path, JSON.stringify({ rpcUrl: "not a url", role: "miner" }));
      assertOneLineError(
        await cli(["status", "--config", path]),
        /the configuration is invalid: rpcUrl: Invalid url; role: Invalid enum value.*correct these keys/,
      );
    });

    it("a config file that does not exist", async () => {
      assertOneLineError(
        await cli(["status", "--config", join(dir, "missing.json")]),
        /no config file at .*missing\.json.*protolearn init/,
      );
    });

    it("an endpoint where no chain answers", async () => {
      assertOneLineError(
        await cli(["status", ...flags, "--rpc-url", "http://127.0.0.1:18568"]),
        /cannot reach the chain at http:\/\/127\.0\.0\.1:18568/,
      );
    });
  });

  it("raise-lock adds free stake to the lock, which counts from the next round", async () => {
    const result = await cli(["raise-lock", "--amount", "0.5", "--json", ...flags]);
    assert.equal(result.code, 0, result.stderr);
    const raised = JSON.parse(result.stdout) as { locked: string; eligibleFrom: string; stale: boolean };
    assert.equal(raised.locked, LEARN("100.5").toString());
    assert.equal(raised.eligibleFrom, "2", "raised in round 1's commit phase: counts from round 2");
    assert.equal(raised.stale, false);
    const report = await status();
    assert.equal(report.account.lockedByRun, LEARN("100.5").toString());
    assert.equal(report.account.free, "0");
  });

  it("claim with nothing accrued sends nothing and says so", async () => {
    const before = await snapshot(me);
    const result = await cli(["claim", ...flags]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /no rewards have accrued .* nothing was sent/);
    assert.deepEqual(await snapshot(me), before);
  });

  it("finalize after the vote-reveal deadline settles the round in batches (no votes: it fails) and opens the next", async () => {
    const info = await chain.contracts.run.read.currentRound();
    const now = (await chain.publicClient.getBlock()).timestamp;
    await rpc(devnet.chain.rpcUrl, "evm_increaseTime", [
      Number(BigInt(info.voteRevealDeadline) - now + 1n),
    ]);
    await rpc(devnet.chain.rpcUrl, "evm_mine", []);
    const result = await cli(["finalize", "--json", ...flags]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout).finalizedRound, "1");
    const report = await status();
    assert.equal(report.run.round, "2");
    assert.equal(report.run.phase, "commit");
    // the member left nothing active in round 1, so it may leave now
    const left = await cli(["leave", ...flags]);
    assert.equal(left.code, 0, left.stderr);
    assert.equal((await status()).account.role, "none");
  });
});

async function rpc(url: string, method: string, params: unknown[]): Promise<unknown> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}
