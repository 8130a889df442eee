import { expect } from "chai";
import { network } from "hardhat";
import {
  deployRun,
  INITIAL_MODEL_CID,
  INITIAL_MODEL_HASH,
  TEST_RUN_PARAMS,
} from "./helpers/deployRun.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const runFixture = () => deployRun(connection, { trainers: 0, validators: 0 });

/** EIP-1167 runtime code with appended immutable args. */
function cloneCode(implementation: string, args: string): string {
  return `0x363d3d373d3d3d363d73${implementation.slice(2).toLowerCase()}5af43d82803e903d91602b57fd5bf3${args.slice(2).toLowerCase()}`;
}

describe("RunFactory", function () {
  it("only governance creates runs", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    for (const caller of [d.guardian, d.outsider, d.core.deployer]) {
      await expect(
        d.factory.connect(caller).createRun(TEST_RUN_PARAMS, INITIAL_MODEL_HASH, INITIAL_MODEL_CID),
      )
        .to.be.revertedWithCustomError(d.factory, "RunFactoryNotGovernance")
        .withArgs(caller.address);
    }
  });

  it("creates sequential runs as EIP-1167 clones carrying runId, stake manager, token and governance", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    expect(await d.factory.runCount()).to.equal(1n);
    const tx = d.factory
      .connect(d.governance)
      .createRun(TEST_RUN_PARAMS, INITIAL_MODEL_HASH, INITIAL_MODEL_CID);
    await expect(tx).to.emit(d.factory, "RunCreated");
    expect(await d.factory.runCount()).to.equal(2n);
    const address = await d.factory.runOf(2n);
    const run = await ethers.getContractAt("TrainingRun", address);
    const args = ethers.solidityPacked(
      ["uint256", "address", "address", "address"],
      [
        2n,
        await d.core.stakeManager.getAddress(),
        await d.core.token.getAddress(),
        d.governance.address,
      ],
    );
    expect(await ethers.provider.getCode(address)).to.equal(
      cloneCode(await d.implementation.getAddress(), args),
    );
    expect(await run.runId()).to.equal(2n);
    expect(await run.governance()).to.equal(d.governance.address);
    expect((await run.currentRound()).round).to.equal(1n);
    expect(await d.factory.runOf(3n)).to.equal(ethers.ZeroAddress);
  });

  it("registers each run in the StakeManager and grants it MINTER_ROLE", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const address = await d.run.getAddress();
    expect(await d.core.stakeManager.isRun(address)).to.equal(true);
    expect(await d.core.token.hasRole(await d.core.token.MINTER_ROLE(), address)).to.equal(true);
  });

  it("emits RunCreated with the id, address, model id, initial model and params, then the run's RunInitialized and RoundOpened", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const receipt = await (
      await d.factory
        .connect(d.governance)
        .createRun(TEST_RUN_PARAMS, INITIAL_MODEL_HASH, INITIAL_MODEL_CID)
    ).wait();
    const [created] = receipt!.logs
      .map((l) => d.factory.interface.parseLog(l))
      .filter((e) => e?.name === "RunCreated");
    expect(created!.args.runId).to.equal(2n);
    expect(created!.args.run).to.equal(await d.factory.runOf(2n));
    expect(created!.args.modelId).to.equal(TEST_RUN_PARAMS.modelId);
    expect(created!.args.initialModelHash).to.equal(INITIAL_MODEL_HASH);
    expect(created!.args.initialModelCid).to.equal(INITIAL_MODEL_CID);
    expect(created!.args.params.emissionPerRound).to.equal(TEST_RUN_PARAMS.emissionPerRound);
    const run = await ethers.getContractAt("TrainingRun", created!.args.run as string);
    await expect(receipt!.hash)
      .to.emit(run, "RunInitialized")
      .withArgs(
        2n,
        TEST_RUN_PARAMS.modelId,
        INITIAL_MODEL_HASH,
        INITIAL_MODEL_CID,
        d.guardian.address,
      );
    await expect(receipt!.hash).to.emit(run, "RoundOpened");
  });

  it("rejects invalid params and a zero initial model hash with the run's errors", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    await expect(
      d.factory
        .connect(d.governance)
        .createRun({ ...TEST_RUN_PARAMS, committeeSize: 0 }, INITIAL_MODEL_HASH, INITIAL_MODEL_CID),
    )
      .to.be.revertedWithCustomError(d.run, "TrainingRunCommitteeSizeOutOfRange")
      .withArgs(0n, 1n, 16n);
    await expect(
      d.factory
        .connect(d.governance)
        .createRun(TEST_RUN_PARAMS, ethers.ZeroHash, INITIAL_MODEL_CID),
    ).to.be.revertedWithCustomError(d.run, "TrainingRunZeroModelHash");
    await expect(d.factory.connect(d.governance).createRun(TEST_RUN_PARAMS, INITIAL_MODEL_HASH, ""))
      .to.be.revertedWithCustomError(d.run, "TrainingRunCidLength")
      .withArgs(0n, 128n);
    expect(await d.factory.runCount()).to.equal(1n);
  });

  it("a second factory, not the one the StakeManager names, cannot create (register) a run", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const rogue = await ethers.deployContract("RunFactory", [
      await d.implementation.getAddress(),
      await d.core.stakeManager.getAddress(),
      await d.core.token.getAddress(),
      d.governance.address,
      d.guardian.address,
    ]);
    await expect(
      rogue.connect(d.governance).createRun(TEST_RUN_PARAMS, INITIAL_MODEL_HASH, INITIAL_MODEL_CID),
    )
      .to.be.revertedWithCustomError(d.core.stakeManager, "StakeManagerNotRunFactory")
      .withArgs(await rogue.getAddress(), await d.factory.getAddress());
  });

  it("rejects a zero implementation, stake manager, token or governance address", async function () {
    const d = await networkHelpers.loadFixture(runFixture);
    const good = [
      await d.implementation.getAddress(),
      await d.core.stakeManager.getAddress(),
      await d.core.token.getAddress(),
      d.governance.address,
      d.guardian.address,
    ];
    const factory = await ethers.getContractFactory("RunFactory");
    for (let i = 0; i < 4; i++) {
      const args = [...good];
      args[i] = ethers.ZeroAddress;
      await expect(ethers.deployContract("RunFactory", args))
        .to.be.revertedWithCustomError(factory, "RunFactoryZeroAddress")
        .withArgs(BigInt(i));
    }
    const noGuardian = await ethers.deployContract("RunFactory", [
      ...good.slice(0, 4),
      ethers.ZeroAddress,
    ]);
    expect(await noGuardian.guardian()).to.equal(ethers.ZeroAddress);
    expect(await noGuardian.implementation()).to.equal(good[0]);
  });
});
