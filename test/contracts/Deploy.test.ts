import { expect } from "chai";
import { id, ZeroAddress, ZeroHash } from "ethers";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { network } from "hardhat";
import { BLOCK_SECONDS, DEVNET_GOVERNANCE, governanceFor } from "../../ignition/modules/defaults.js";
import { deploySystem, type DeploymentRecord } from "../../node/src/deploy/deploy-system.js";
import { createModel } from "../../node/src/model/registry.js";
import { genesisModel } from "../../node/src/run/genesis.js";
import { startAnvil, startHardhatNode, type LocalChain } from "../../node/src/devnet/local-chain.js";

/**
 * The Ignition deployment against two independent EVM implementations, each a separate
 * process: Hardhat's `hardhat node` and Foundry's anvil.
 */
const CHAINS: { name: string; network: string; start: () => Promise<LocalChain> }[] = [
  { name: "hardhat node", network: "localhost", start: () => startHardhatNode({ port: 18545 }) },
  { name: "anvil", network: "anvil", start: () => startAnvil({ port: 18546 }) },
];

describe("Deployment (Ignition module Protolearn)", function () {
  this.timeout(300_000);

  for (const chain of CHAINS) {
    it(`deploys the system and run #1 on ${chain.name}, hands every role to the timelock and writes deployments/<network>.json`, async () => {
      const local = await chain.start();
      const connection = await network.create({ network: chain.network, override: { url: local.rpcUrl } });
      try {
        const outDir = await mkdtemp(join(tmpdir(), "protolearn-deploy-"));
        const record = await deploySystem({ connection, networkName: chain.network, outDir });
        const written = JSON.parse(await readFile(join(outDir, `${chain.network}.json`), "utf8")) as DeploymentRecord;
        expect(written).to.deep.equal(record);
        expect(record.chainId).to.equal(local.chainId);

        const { ethers } = connection;
        for (const address of [...Object.values(record.contracts), record.runs[0]?.address ?? ""]) {
          expect(await ethers.provider.getCode(address), address).to.not.equal("0x");
        }
        const [deployer] = await ethers.getSigners();
        if (deployer === undefined) throw new Error("the chain has no accounts");
        const token = await ethers.getContractAt("LearnToken", record.contracts.LearnToken);
        const stakeManager = await ethers.getContractAt("StakeManager", record.contracts.StakeManager);
        const timelock = await ethers.getContractAt("RunTimelock", record.contracts.RunTimelock);
        const governor = await ethers.getContractAt("RunGovernor", record.contracts.RunGovernor);
        const timelockAddress = record.contracts.RunTimelock;

        expect(await governor.timelock()).to.equal(timelockAddress);
        // A devnet's governance parameters: short and explicit (DEVNET_GOVERNANCE).
        expect(await timelock.getMinDelay()).to.equal(DEVNET_GOVERNANCE.timelockDelay);
        expect(await governor.votingDelay()).to.equal(DEVNET_GOVERNANCE.votingDelay);
        expect(await governor.votingPeriod()).to.equal(DEVNET_GOVERNANCE.votingPeriod);
        expect(await governor.proposalThreshold()).to.equal(DEVNET_GOVERNANCE.proposalThreshold);
        const factory = await ethers.getContractAt("RunFactory", record.contracts.RunFactory);
        expect(await factory.guardian()).to.equal(deployer.address);
        expect(await timelock.hasRole(id("PROPOSER_ROLE"), record.contracts.RunGovernor)).to.equal(true);
        expect(await token.hasRole(ZeroHash, timelockAddress)).to.equal(true);
        expect(await stakeManager.hasRole(ZeroHash, timelockAddress)).to.equal(true);
        // The deployer keeps tokens but no role anywhere.
        expect(await token.hasRole(ZeroHash, deployer.address)).to.equal(false);
        expect(await token.hasRole(id("MINTER_ROLE"), deployer.address)).to.equal(false);
        expect(await token.hasRole(id("MINTER_ADMIN_ROLE"), deployer.address)).to.equal(false);
        expect(await stakeManager.hasRole(ZeroHash, deployer.address)).to.equal(false);
        expect(await timelock.hasRole(ZeroHash, deployer.address)).to.equal(false);
        expect(await timelock.hasRole(id("PROPOSER_ROLE"), deployer.address)).to.equal(false);
        expect(await timelock.hasRole(id("EXECUTOR_ROLE"), deployer.address)).to.equal(false);
        // Run #1 was created by governance and is wired to the stake manager and the token.
        const runAddress = record.runs[0]?.address ?? "";
        expect(await stakeManager.isRun(runAddress)).to.equal(true);
        // G1: the factory is the StakeManager's only registrar, named once; the deployer's one
        // power is spent, and no role (the timelock's included) can name another.
        expect(await stakeManager.runFactory()).to.equal(record.contracts.RunFactory);
        await expect(stakeManager.connect(deployer).setRunFactory.staticCall(deployer.address))
          .to.be.revertedWithCustomError(stakeManager, "StakeManagerRunFactoryAlreadySet")
          .withArgs(record.contracts.RunFactory);
        expect(await token.hasRole(id("MINTER_ROLE"), runAddress)).to.equal(true);
        const run = await ethers.getContractAt("TrainingRun", runAddress);
        const genesis = await genesisModel(createModel("mnist-mlp-v1"));
        expect((await run.model())[0]).to.equal(genesis.hash);
        expect(await run.initialModelCid()).to.equal(genesis.cid);
        expect(await run.governance()).to.equal(timelockAddress);
        expect(await token.balanceOf(timelockAddress)).to.be.greaterThan(0n);
        expect(await token.balanceOf(deployer.address)).to.be.greaterThan(0n);
      } finally {
        await connection.close();
        await local.stop();
      }
    });
  }
  for (const networkName of ["sepolia", "baseSepolia"]) {
    it(`gives a ${networkName} deployment its public governance: a threshold, days to vote, an appeal window an appeal fits in, no deployer role`, async () => {
      const connection = await network.create();
      try {
        const outDir = await mkdtemp(join(tmpdir(), "protolearn-deploy-"));
        const record = await deploySystem({ connection, networkName, outDir });
        const { ethers } = connection;
        const [deployer] = await ethers.getSigners();
        if (deployer === undefined) throw new Error("the chain has no accounts");
        const governor = await ethers.getContractAt("RunGovernor", record.contracts.RunGovernor);
        const timelock = await ethers.getContractAt("RunTimelock", record.contracts.RunTimelock);
        const stakeManager = await ethers.getContractAt("StakeManager", record.contracts.StakeManager);
        const token = await ethers.getContractAt("LearnToken", record.contracts.LearnToken);
        const factory = await ethers.getContractAt("RunFactory", record.contracts.RunFactory);
        const expected = governanceFor(networkName);
        const day = 24n * 3600n;
        const blockSeconds = BLOCK_SECONDS[networkName] ?? 12n;

        expect(await governor.proposalThreshold()).to.equal(expected.proposalThreshold);
        expect(expected.proposalThreshold).to.be.greaterThan(0n);
        const votingDelay = await governor.votingDelay();
        const votingPeriod = await governor.votingPeriod();
        expect(votingDelay).to.equal(day / blockSeconds);
        expect(votingPeriod).to.equal((3n * day) / blockSeconds);
        const delay = await timelock.getMinDelay();
        expect(delay).to.equal(expected.timelockDelay);
        expect(delay).to.be.greaterThanOrEqual(day);
        // An appeal proposed on the day of the slash can pass and execute inside the appeal window.
        const appealWindow = await stakeManager.appealWindow();
        expect(appealWindow).to.equal(expected.appealWindow);
        expect(appealWindow).to.be.greaterThan((votingDelay + votingPeriod) * blockSeconds + delay);
        // Who holds what: the timelock administers everything, the governor proposes, the deployer holds nothing.
        expect(await timelock.hasRole(id("PROPOSER_ROLE"), record.contracts.RunGovernor)).to.equal(true);
        expect(await timelock.hasRole(id("EXECUTOR_ROLE"), ZeroAddress)).to.equal(true);
        for (const [name, has] of [
          ["token admin", token.hasRole(ZeroHash, deployer.address)],
          ["token minter", token.hasRole(id("MINTER_ROLE"), deployer.address)],
          ["token minter admin", token.hasRole(id("MINTER_ADMIN_ROLE"), deployer.address)],
          ["stake manager admin", stakeManager.hasRole(ZeroHash, deployer.address)],
          ["timelock admin", timelock.hasRole(ZeroHash, deployer.address)],
          ["timelock proposer", timelock.hasRole(id("PROPOSER_ROLE"), deployer.address)],
          ["timelock canceller", timelock.hasRole(id("CANCELLER_ROLE"), deployer.address)],
        ] as const) {
          expect(await has, `deployer holds ${name}`).to.equal(false);
        }
        expect(await token.hasRole(ZeroHash, record.contracts.RunTimelock)).to.equal(true);
        expect(await stakeManager.hasRole(ZeroHash, record.contracts.RunTimelock)).to.equal(true);
        expect(await stakeManager.runFactory()).to.equal(record.contracts.RunFactory);
        // The guardian starts as the deployment's `guardian` parameter (default: the deployer); it
        // can only hold back future rounds, and governance replaces it (setGuardian, setDefaultGuardian).
        expect(await factory.guardian()).to.equal(deployer.address);
        const run = await ethers.getContractAt("TrainingRun", record.runs[0]?.address ?? "");
        expect(await run.guardian()).to.equal(deployer.address);
        expect(await run.governance()).to.equal(record.contracts.RunTimelock);
      } finally {
        await connection.close();
      }
    });
  }
});
