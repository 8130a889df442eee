import { strict as assert } from "node:assert";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { network } from "hardhat";
import { parseEther, type Address } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { approve, stake } from "../../node/src/chain/actions/index.js";
import { ChainError } from "../../node/src/chain/chain-error.js";
import { connectChain, connectSigner, type SignerContext } from "../../node/src/chain/client.js";
import { loadDeployment, type Deployment } from "../../node/src/chain/deployment.js";
import { deploySystem } from "../../node/src/deploy/deploy-system.js";
import { ChainHistory } from "../../node/src/history/index.js";
import { anvilReorg } from "../../node/src/devnet/anvil-reorg.js";
import { startAnvil, type LocalChain } from "../../node/src/devnet/local-chain.js";

// anvil's first default dev account (a public test key, funded only on local chains).
const DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

describe("chain client on anvil", () => {
  let chain: LocalChain;
  let deployment: Deployment;
  let ctx: SignerContext;

  before(async () => {
    chain = await startAnvil({ port: 18547 });
    const connection = await network.create({ network: "anvil", override: { url: chain.rpcUrl } });
    const outDir = await mkdtemp(join(tmpdir(), "protolearn-chain-"));
    try {
      await deploySystem({ connection, networkName: "anvil", outDir });
    } finally {
      await connection.close();
    }
    deployment = await loadDeployment("anvil", outDir);
    ctx = await connectSigner({ rpcUrl: chain.rpcUrl, deployment, runId: 1, account: privateKeyToAccount(DEV_KEY) });
  });

  after(async () => {
    await chain?.stop();
  });

  it("decodes a custom-error revert into a ChainError with the error name and a fix, before sending", async () => {
    const nonceBefore = await ctx.publicClient.getTransactionCount({ address: ctx.account.address });
    await assert.rejects(
      stake(ctx, { amount: parseEther("100"), label: "stake 100 LEARN" }),
      (err: unknown) => {
        assert.ok(err instanceof ChainError);
        assert.equal(err.code, "CHAIN_REVERTED");
        assert.equal(err.revert?.errorName, "ERC20InsufficientAllowance");
        assert.match(err.message, /stake 100 LEARN was rejected by the contract: ERC20InsufficientAllowance\(/);
        assert.match(err.fix ?? "", /approve/);
        return true;
      },
    );
    assert.equal(await ctx.publicClient.getTransactionCount({ address: ctx.account.address }), nonceBefore, "nothing was sent");
  });

  it("sends transactions in nonce order and reports their gas", async () => {
    const [approved, staked] = await Promise.all([
      approve(ctx, { spender: deployment.contracts.StakeManager, amount: parseEther("100"), label: "approve" }),
      new Promise((r) => setTimeout(r, 10)).then(() => stake(ctx, { amount: parseEther("100"), label: "stake" })),
    ]);
    assert.equal(approved.receipt.status, "success");
    assert.equal(staked.receipt.status, "success");
    assert.ok(staked.gasUsed > 21_000n);
    assert.equal(await ctx.contracts.stakeManager.read.bondedOf([ctx.account.address]), parseEther("100"));
  });

  it("reads the history from the deployment block, then only the blocks mined since", async () => {
    const history = new ChainHistory({ client: ctx.publicClient, deployment });
    const me = () => ctx.account.address.toLowerCase() as Address;
    const first = await history.sync();
    const events = () => first.stakes[me()] ?? [];
    const staked = events().filter((e) => e.kind === "staked");
    assert.equal(staked.length, 1);
    assert.equal(staked[0]?.amount, parseEther("100").toString());
    const coveredTo = history.coveredTo;
    assert.equal(coveredTo, await ctx.publicClient.getBlockNumber());
    // A second sync with no new block reads nothing; after one more stake it adds exactly it.
    assert.equal((await history.sync()).stakes[me()]?.length, events().length);
    const before = events().length;
    await approve(ctx, { spender: deployment.contracts.StakeManager, amount: parseEther("1"), label: "approve" });
    await stake(ctx, { amount: parseEther("1"), label: "stake" });
    await history.sync();
    assert.ok(history.coveredTo > coveredTo);
    assert.equal(events().filter((e) => e.kind === "staked").length, 2);
    assert.equal(events().length, before + 1);
  });

  it("drops the events of blocks a reorg replaced: the records are rebuilt, not added to (attack: a node aggregated a settled round with events of dropped blocks)", async () => {
    const history = new ChainHistory({ client: ctx.publicClient, deployment });
    const me = () => ctx.account.address.toLowerCase() as Address;
    const staked = () => (history.current.stakes[me()] ?? []).filter((e) => e.kind === "staked").length;
    await history.sync();
    const before = staked();
    await approve(ctx, { spender: deployment.contracts.StakeManager, amount: parseEther("1"), label: "approve" });
    await stake(ctx, { amount: parseEther("1"), label: "stake" });
    await history.sync();
    assert.equal(staked(), before + 1);
    await anvilReorg(chain.rpcUrl, 1); // the stake's block is replaced by an empty one
    await history.sync();
    assert.equal(staked(), before, "the dropped stake is gone from the records");
    await stake(ctx, { amount: parseEther("1"), label: "stake again" }); // the approval survived; the nonce is the chain's
    await history.sync();
    assert.equal(staked(), before + 1, "and the stake sent again is counted once");
  });

  it("refuses an endpoint whose chain id differs from the deployment's", async () => {
    await assert.rejects(
      connectChain({ rpcUrl: chain.rpcUrl, deployment: { ...deployment, chainId: 11155111 }, runId: 1 }),
      (err: unknown) => err instanceof ChainError && err.code === "CHAIN_MISMATCH",
    );
  });

  it("names the runs that exist when the run id is unknown", async () => {
    await assert.rejects(
      connectChain({ rpcUrl: chain.rpcUrl, deployment, runId: 7 }),
      /run 7 is not in the anvil deployment/,
    );
  });
});
