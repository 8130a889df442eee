import { expect } from "chai";
import { network } from "hardhat";
import { deployCore, ONE, timelockSigner } from "./helpers/deployCore.js";

const connection = await network.create();
const { ethers, networkHelpers } = connection;

const MAX_VOTES_SUPPLY = 2n ** 208n - 1n;
const CAP = 1_000n * ONE;

/** A token whose admin is a plain signer, for the rules of the token itself. */
async function standaloneToken() {
  const [admin, minter, factory, alice, bob, outsider] = await ethers.getSigners();
  const token = await ethers.deployContract("LearnToken", [
    "Protolearn",
    "LEARN",
    CAP,
    admin!.address,
  ]);
  await (await token.connect(admin!).grantRole(await token.MINTER_ROLE(), minter!.address)).wait();
  return {
    token,
    admin: admin!,
    minter: minter!,
    factory: factory!,
    alice: alice!,
    bob: bob!,
    outsider: outsider!,
  };
}

const coreFixture = () => deployCore(connection);

describe("LearnToken", function () {
  describe("construction", function () {
    it("stores name, symbol, cap and gives the admin DEFAULT_ADMIN_ROLE and MINTER_ADMIN_ROLE", async function () {
      const { token, admin } = await networkHelpers.loadFixture(standaloneToken);
      expect(await token.name()).to.equal("Protolearn");
      expect(await token.symbol()).to.equal("LEARN");
      expect(await token.cap()).to.equal(CAP);
      expect(await token.totalSupply()).to.equal(0n);
      expect(await token.hasRole(await token.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await token.hasRole(await token.MINTER_ADMIN_ROLE(), admin.address)).to.equal(true);
    });

    it("makes MINTER_ADMIN_ROLE the admin of MINTER_ROLE and DEFAULT_ADMIN_ROLE the admin of MINTER_ADMIN_ROLE", async function () {
      const { token } = await networkHelpers.loadFixture(standaloneToken);
      expect(await token.getRoleAdmin(await token.MINTER_ROLE())).to.equal(
        await token.MINTER_ADMIN_ROLE(),
      );
      expect(await token.getRoleAdmin(await token.MINTER_ADMIN_ROLE())).to.equal(
        await token.DEFAULT_ADMIN_ROLE(),
      );
    });

    it("rejects a zero cap and a cap above what ERC20Votes can checkpoint", async function () {
      const [admin] = await ethers.getSigners();
      const factory = await ethers.getContractFactory("LearnToken");
      await expect(ethers.deployContract("LearnToken", ["P", "P", 0n, admin!.address]))
        .to.be.revertedWithCustomError(factory, "LearnTokenInvalidCap")
        .withArgs(0n, MAX_VOTES_SUPPLY);
      await expect(
        ethers.deployContract("LearnToken", ["P", "P", MAX_VOTES_SUPPLY + 1n, admin!.address]),
      )
        .to.be.revertedWithCustomError(factory, "LearnTokenInvalidCap")
        .withArgs(MAX_VOTES_SUPPLY + 1n, MAX_VOTES_SUPPLY);
      const atMax = await ethers.deployContract("LearnToken", [
        "P",
        "P",
        MAX_VOTES_SUPPLY,
        admin!.address,
      ]);
      expect(await atMax.cap()).to.equal(MAX_VOTES_SUPPLY);
    });

    it("rejects the zero address as admin", async function () {
      const factory = await ethers.getContractFactory("LearnToken");
      await expect(ethers.deployContract("LearnToken", ["P", "P", CAP, ethers.ZeroAddress]))
        .to.be.revertedWithCustomError(factory, "LearnTokenInvalidAdmin")
        .withArgs(ethers.ZeroAddress);
    });

    it("uses the block-number clock for votes", async function () {
      const { token } = await networkHelpers.loadFixture(standaloneToken);
      expect(await token.CLOCK_MODE()).to.equal("mode=blocknumber&from=default");
      expect(await token.clock()).to.equal(BigInt(await ethers.provider.getBlockNumber()));
    });
  });

  describe("minting and the cap", function () {
    it("lets a MINTER_ROLE holder mint", async function () {
      const { token, minter, alice } = await networkHelpers.loadFixture(standaloneToken);
      await expect(token.connect(minter).mint(alice.address, 5n * ONE))
        .to.emit(token, "Transfer")
        .withArgs(ethers.ZeroAddress, alice.address, 5n * ONE);
      expect(await token.balanceOf(alice.address)).to.equal(5n * ONE);
      expect(await token.mintable()).to.equal(CAP - 5n * ONE);
    });

    it("mint reverts for an account without MINTER_ROLE, the admin included", async function () {
      const { token, admin, outsider, alice } = await networkHelpers.loadFixture(standaloneToken);
      const minterRole = await token.MINTER_ROLE();
      for (const caller of [admin, outsider]) {
        await expect(token.connect(caller).mint(alice.address, 1n))
          .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, minterRole);
      }
    });

    it("mints exactly up to the cap", async function () {
      const { token, minter, alice } = await networkHelpers.loadFixture(standaloneToken);
      await (await token.connect(minter).mint(alice.address, CAP)).wait();
      expect(await token.totalSupply()).to.equal(CAP);
      expect(await token.mintable()).to.equal(0n);
    });

    it("mint reverts with LearnTokenCapExceeded when the supply would pass the cap", async function () {
      const { token, minter, alice } = await networkHelpers.loadFixture(standaloneToken);
      await (await token.connect(minter).mint(alice.address, CAP - 1n)).wait();
      await expect(token.connect(minter).mint(alice.address, 2n))
        .to.be.revertedWithCustomError(token, "LearnTokenCapExceeded")
        .withArgs(CAP + 1n, CAP);
      await (await token.connect(minter).mint(alice.address, 1n)).wait();
      expect(await token.totalSupply()).to.equal(CAP);
    });

    it("burning frees room under the cap again", async function () {
      const { token, minter, alice } = await networkHelpers.loadFixture(standaloneToken);
      await (await token.connect(minter).mint(alice.address, CAP)).wait();
      await (await token.connect(alice).burn(10n * ONE)).wait();
      expect(await token.totalSupply()).to.equal(CAP - 10n * ONE);
      expect(await token.mintable()).to.equal(10n * ONE);
      await (await token.connect(minter).mint(alice.address, 10n * ONE)).wait();
      expect(await token.totalSupply()).to.equal(CAP);
    });
  });

  describe("roles", function () {
    it("a MINTER_ADMIN_ROLE holder (the run factory) grants and revokes MINTER_ROLE", async function () {
      const { token, admin, factory, alice, bob } =
        await networkHelpers.loadFixture(standaloneToken);
      const minterRole = await token.MINTER_ROLE();
      await (
        await token.connect(admin).grantRole(await token.MINTER_ADMIN_ROLE(), factory.address)
      ).wait();
      await (await token.connect(factory).grantRole(minterRole, alice.address)).wait();
      await (await token.connect(alice).mint(bob.address, ONE)).wait();
      expect(await token.balanceOf(bob.address)).to.equal(ONE);
      await (await token.connect(factory).revokeRole(minterRole, alice.address)).wait();
      await expect(token.connect(alice).mint(bob.address, ONE))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(alice.address, minterRole);
    });

    it("an account without MINTER_ADMIN_ROLE cannot grant MINTER_ROLE", async function () {
      const { token, outsider, minter } = await networkHelpers.loadFixture(standaloneToken);
      await expect(token.connect(minter).grantRole(await token.MINTER_ROLE(), outsider.address))
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(minter.address, await token.MINTER_ADMIN_ROLE());
    });

    it("only DEFAULT_ADMIN_ROLE grants MINTER_ADMIN_ROLE", async function () {
      const { token, factory, outsider } = await networkHelpers.loadFixture(standaloneToken);
      await expect(
        token.connect(outsider).grantRole(await token.MINTER_ADMIN_ROLE(), factory.address),
      )
        .to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount")
        .withArgs(outsider.address, await token.DEFAULT_ADMIN_ROLE());
    });

    it("in the core deployment only the timelock holds admin roles and nobody can mint", async function () {
      const { token, timelock, deployer, holders } = await networkHelpers.loadFixture(coreFixture);
      const timelockAddress = await timelock.getAddress();
      expect(await token.hasRole(await token.DEFAULT_ADMIN_ROLE(), timelockAddress)).to.equal(true);
      expect(await token.hasRole(await token.MINTER_ADMIN_ROLE(), timelockAddress)).to.equal(true);
      for (const role of [
        await token.DEFAULT_ADMIN_ROLE(),
        await token.MINTER_ADMIN_ROLE(),
        await token.MINTER_ROLE(),
      ]) {
        expect(await token.hasRole(role, deployer.address)).to.equal(false);
      }
      await expect(
        token.connect(holders[1]!).mint(holders[1]!.address, 1n),
      ).to.be.revertedWithCustomError(token, "AccessControlUnauthorizedAccount");
    });

    it("the timelock can grant MINTER_ROLE directly", async function () {
      const core = await networkHelpers.loadFixture(coreFixture);
      const asTimelock = await timelockSigner(core);
      const minter = core.others[0]!;
      await (
        await core.token
          .connect(asTimelock)
          .grantRole(await core.token.MINTER_ROLE(), minter.address)
      ).wait();
      await (await core.token.connect(minter).mint(minter.address, ONE)).wait();
      expect(await core.token.balanceOf(minter.address)).to.equal(ONE);
    });
  });

  describe("votes", function () {
    it("a balance has no votes until it is delegated", async function () {
      const { token, minter, alice } = await networkHelpers.loadFixture(standaloneToken);
      await (await token.connect(minter).mint(alice.address, 7n * ONE)).wait();
      expect(await token.getVotes(alice.address)).to.equal(0n);
      await expect(token.connect(alice).delegate(alice.address))
        .to.emit(token, "DelegateVotesChanged")
        .withArgs(alice.address, 0n, 7n * ONE);
      expect(await token.getVotes(alice.address)).to.equal(7n * ONE);
    });

    it("delegating to another account moves the votes, and transfers move them along", async function () {
      const { token, minter, alice, bob } = await networkHelpers.loadFixture(standaloneToken);
      await (await token.connect(minter).mint(alice.address, 10n * ONE)).wait();
      await (await token.connect(alice).delegate(bob.address)).wait();
      expect(await token.getVotes(bob.address)).to.equal(10n * ONE);
      expect(await token.getVotes(alice.address)).to.equal(0n);
      await (await token.connect(alice).transfer(bob.address, 4n * ONE)).wait();
      // bob has not delegated his own balance, so only alice's remaining 6 count for him
      expect(await token.getVotes(bob.address)).to.equal(6n * ONE);
    });

    it("getPastVotes reads the votes at a past block, not the current ones", async function () {
      const { token, minter, alice } = await networkHelpers.loadFixture(standaloneToken);
      await (await token.connect(minter).mint(alice.address, 3n * ONE)).wait();
      await (await token.connect(alice).delegate(alice.address)).wait();
      const before = await ethers.provider.getBlockNumber();
      await (await token.connect(minter).mint(alice.address, 2n * ONE)).wait();
      await networkHelpers.mine();
      expect(await token.getPastVotes(alice.address, before)).to.equal(3n * ONE);
      expect(await token.getVotes(alice.address)).to.equal(5n * ONE);
      expect(await token.getPastTotalSupply(before)).to.equal(3n * ONE);
    });

    it("burning removes votes", async function () {
      const { token, minter, alice } = await networkHelpers.loadFixture(standaloneToken);
      await (await token.connect(minter).mint(alice.address, 3n * ONE)).wait();
      await (await token.connect(alice).delegate(alice.address)).wait();
      await (await token.connect(alice).burn(ONE)).wait();
      expect(await token.getVotes(alice.address)).to.equal(2n * ONE);
    });
  });

  describe("permit", function () {
    async function signPermit(
      owner: Awaited<ReturnType<typeof standaloneToken>>["alice"],
      token: Awaited<ReturnType<typeof standaloneToken>>["token"],
      spender: string,
      value: bigint,
      deadline: bigint,
      nonce?: bigint,
    ) {
      const domain = await token.eip712Domain();
      const signature = await owner.signTypedData(
        {
          name: domain.name,
          version: domain.version,
          chainId: domain.chainId,
          verifyingContract: domain.verifyingContract,
        },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        {
          owner: owner.address,
          spender,
          value,
          nonce: nonce ?? (await token.nonces(owner.address)),
          deadline,
        },
      );
      return ethers.Signature.from(signature);
    }

    it("a signed permit sets the allowance and the spender can transferFrom", async function () {
      const { token, minter, alice, bob } = await networkHelpers.loadFixture(standaloneToken);
      await (await token.connect(minter).mint(alice.address, 5n * ONE)).wait();
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const sig = await signPermit(alice, token, bob.address, 2n * ONE, deadline);
      // bob submits it: alice needs no ETH and no transaction
      await expect(
        token
          .connect(bob)
          .permit(alice.address, bob.address, 2n * ONE, deadline, sig.v, sig.r, sig.s),
      )
        .to.emit(token, "Approval")
        .withArgs(alice.address, bob.address, 2n * ONE);
      expect(await token.nonces(alice.address)).to.equal(1n);
      await (await token.connect(bob).transferFrom(alice.address, bob.address, 2n * ONE)).wait();
      expect(await token.balanceOf(bob.address)).to.equal(2n * ONE);
    });

    it("permit reverts after its deadline", async function () {
      const { token, alice, bob } = await networkHelpers.loadFixture(standaloneToken);
      const deadline = BigInt(await networkHelpers.time.latest()) + 10n;
      const sig = await signPermit(alice, token, bob.address, ONE, deadline);
      await networkHelpers.time.increase(11);
      await expect(token.permit(alice.address, bob.address, ONE, deadline, sig.v, sig.r, sig.s))
        .to.be.revertedWithCustomError(token, "ERC2612ExpiredSignature")
        .withArgs(deadline);
    });

    it("permit reverts when replayed or when the values differ from what was signed", async function () {
      const { token, alice, bob } = await networkHelpers.loadFixture(standaloneToken);
      const deadline = BigInt(await networkHelpers.time.latest()) + 3600n;
      const sig = await signPermit(alice, token, bob.address, ONE, deadline);
      await expect(
        token.permit(alice.address, bob.address, 2n * ONE, deadline, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(token, "ERC2612InvalidSigner");
      await (
        await token.permit(alice.address, bob.address, ONE, deadline, sig.v, sig.r, sig.s)
      ).wait();
      await expect(
        token.permit(alice.address, bob.address, ONE, deadline, sig.v, sig.r, sig.s),
      ).to.be.revertedWithCustomError(token, "ERC2612InvalidSigner");
    });
  });

  describe("burning", function () {
    it("burn lowers the balance and the total supply", async function () {
      const { token, minter, alice } = await networkHelpers.loadFixture(standaloneToken);
      await (await token.connect(minter).mint(alice.address, 5n * ONE)).wait();
      await expect(token.connect(alice).burn(2n * ONE))
        .to.emit(token, "Transfer")
        .withArgs(alice.address, ethers.ZeroAddress, 2n * ONE);
      expect(await token.totalSupply()).to.equal(3n * ONE);
    });

    it("burnFrom needs an allowance", async function () {
      const { token, minter, alice, bob } = await networkHelpers.loadFixture(standaloneToken);
      await (await token.connect(minter).mint(alice.address, 5n * ONE)).wait();
      await expect(token.connect(bob).burnFrom(alice.address, ONE))
        .to.be.revertedWithCustomError(token, "ERC20InsufficientAllowance")
        .withArgs(bob.address, 0n, ONE);
      await (await token.connect(alice).approve(bob.address, ONE)).wait();
      await (await token.connect(bob).burnFrom(alice.address, ONE)).wait();
      expect(await token.balanceOf(alice.address)).to.equal(4n * ONE);
    });
  });
});
