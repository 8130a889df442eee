import { expect } from "chai";
import { network } from "hardhat";
import { deployCore, ONE } from "./helpers/deployCore.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;
const fixture = () => deployCore(connection);

describe("LearnToken smoke", function () {
  it("deployCore gives the timelock every admin role and the deployer none", async function () {
    const { token, timelock, deployer, holders } = await networkHelpers.loadFixture(fixture);
    expect(await token.hasRole(await token.DEFAULT_ADMIN_ROLE(), await timelock.getAddress())).to.equal(true);
    expect(await token.hasRole(await token.DEFAULT_ADMIN_ROLE(), deployer.address)).to.equal(false);
    expect(await token.getVotes(holders[1]!.address)).to.equal(1_000_000n * ONE);
    await expect(token.mint(deployer.address, 1n)).to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount");
    void ethers;
  });
});
