import { buildModule } from "@nomicfoundation/hardhat-ignition/modules";
import { id, ZeroAddress, ZeroHash } from "ethers";
import { DEFAULT_RUN_PARAMS, DEFAULT_SYSTEM_PARAMS } from "./defaults.js";

/**
 * Deploys the whole protolearn system and its first run:
 *
 *   LearnToken ─ RunTimelock ─ StakeManager ─ RunGovernor ─ TrainingRun (implementation) ─ RunFactory
 *
 * then hands every privileged role to the timelock. The first run is created *through the
 * timelock* (bootstrapped with a zero delay that is raised to the real delay in the same
 * deployment), so even run #1 has a governance record on-chain. When the module finishes the
 * deployer holds no role anywhere; only the tokens of the genesis allocation.
 */
const MINTER_ROLE = id("MINTER_ROLE");
const MINTER_ADMIN_ROLE = id("MINTER_ADMIN_ROLE");
const PROPOSER_ROLE = id("PROPOSER_ROLE");
const EXECUTOR_ROLE = id("EXECUTOR_ROLE");
const CANCELLER_ROLE = id("CANCELLER_ROLE");
const DEFAULT_ADMIN_ROLE = ZeroHash;

export default buildModule("Protolearn", (m) => {
  const deployer = m.getAccount(0);
  const sys = DEFAULT_SYSTEM_PARAMS;
  const tokenCap = m.getParameter("tokenCap", sys.tokenCap);
  const genesisSupply = m.getParameter("genesisSupply", sys.genesisSupply);
  const treasurySupply = m.getParameter("treasurySupply", sys.treasurySupply);
  const timelockDelay = m.getParameter("timelockDelay", sys.timelockDelay);
  const votingDelay = m.getParameter("votingDelay", sys.votingDelay);
  const votingPeriod = m.getParameter("votingPeriod", sys.votingPeriod);
  const proposalThreshold = m.getParameter("proposalThreshold", sys.proposalThreshold);
  const quorumPercent = m.getParameter("quorumPercent", sys.quorumPercent);
  const unbondingPeriod = m.getParameter("unbondingPeriod", sys.unbondingPeriod);
  const appealWindow = m.getParameter("appealWindow", sys.appealWindow);
  const guardian = m.getParameter("guardian", deployer);
  const runParams = m.getParameter("runParams", DEFAULT_RUN_PARAMS);
  const initialModelHash = m.getParameter("initialModelHash", ZeroHash);
  const initialModelCid = m.getParameter("initialModelCid", "");

  const token = m.contract("LearnToken", ["Protolearn", "LEARN", tokenCap, deployer]);
  const timelock = m.contract("RunTimelock", [0n, [deployer], [deployer], deployer]);
  const stakeManager = m.contract("StakeManager", [token, deployer, unbondingPeriod, appealWindow, timelock]);
  const governor = m.contract("RunGovernor", [
    token,
    stakeManager,
    timelock,
    votingDelay,
    votingPeriod,
    proposalThreshold,
    quorumPercent,
  ]);
  // The round contract's settlement, committee draw and parameter storage are external
  // libraries (it would not fit the 24 KiB code limit otherwise); every run clone links them.
  const roundSettlement = m.library("RoundSettlement");
  const committee = m.library("Committee");
  const runParamsLib = m.library("RunParamsLib");
  const implementation = m.contract("TrainingRun", [], {
    libraries: { RoundSettlement: roundSettlement, Committee: committee, RunParamsLib: runParamsLib },
  });
  const factory = m.contract("RunFactory", [implementation, stakeManager, token, timelock, guardian]);

  // Genesis allocation: the deployer (operators' stake on a devnet) and the treasury (timelock).
  const grantMinter = m.call(token, "grantRole", [MINTER_ROLE, deployer], { id: "grantDeployerMinter" });
  const mintGenesis = m.call(token, "mint", [deployer, genesisSupply], { id: "mintGenesis", after: [grantMinter] });
  const mintTreasury = m.call(token, "mint", [timelock, treasurySupply], { id: "mintTreasury", after: [mintGenesis] });
  const dropMinter = m.call(token, "renounceRole", [MINTER_ROLE, deployer], {
    id: "renounceDeployerMinter",
    after: [mintTreasury],
  });

  // The factory lets runs mint rewards, and is the StakeManager's only registrar of runs: the
  // deployer names it once (StakeManager.setRunFactory); no role, governance included, can
  // change it later.
  const factoryMinterAdmin = m.call(token, "grantRole", [MINTER_ADMIN_ROLE, factory], { id: "grantFactoryMinterAdmin" });
  const factoryRegistrar = m.call(stakeManager, "setRunFactory", [factory], { id: "setRunFactory" });

  // Run #1, created by the timelock (zero delay during bootstrap only).
  const createRun = m.encodeFunctionCall(factory, "createRun", [runParams, initialModelHash, initialModelCid]);
  const salt = id("protolearn:first-run");
  const scheduleRun = m.call(timelock, "schedule", [factory, 0n, createRun, ZeroHash, salt, 0n], {
    id: "scheduleFirstRun",
    after: [factoryMinterAdmin, factoryRegistrar],
  });
  const executeRun = m.call(timelock, "execute", [factory, 0n, createRun, ZeroHash, salt], {
    id: "executeFirstRun",
    after: [scheduleRun],
  });
  const firstRun = m.readEventArgument(executeRun, "RunCreated", "run", { emitter: factory });
  const run = m.contractAt("TrainingRun", firstRun, { id: "FirstRun" });

  // Raise the timelock delay to its real value, through the timelock itself.
  const updateDelay = m.encodeFunctionCall(timelock, "updateDelay", [timelockDelay]);
  const delaySalt = id("protolearn:set-delay");
  const scheduleDelay = m.call(timelock, "schedule", [timelock, 0n, updateDelay, ZeroHash, delaySalt, 0n], {
    id: "scheduleDelay",
    after: [executeRun],
  });
  const executeDelay = m.call(timelock, "execute", [timelock, 0n, updateDelay, ZeroHash, delaySalt], {
    id: "executeDelay",
    after: [scheduleDelay],
  });

  // Governance takes over: the governor proposes and cancels, anyone executes.
  const govProposer = m.call(timelock, "grantRole", [PROPOSER_ROLE, governor], { id: "grantGovernorProposer", after: [executeDelay] });
  const govCanceller = m.call(timelock, "grantRole", [CANCELLER_ROLE, governor], { id: "grantGovernorCanceller", after: [executeDelay] });
  const openExecutor = m.call(timelock, "grantRole", [EXECUTOR_ROLE, ZeroAddress], { id: "grantOpenExecutor", after: [executeDelay] });
  const tokenAdmin = m.call(token, "grantRole", [DEFAULT_ADMIN_ROLE, timelock], { id: "grantTokenAdminToTimelock", after: [dropMinter, factoryMinterAdmin] });
  const tokenMinterAdmin = m.call(token, "grantRole", [MINTER_ADMIN_ROLE, timelock], { id: "grantTokenMinterAdminToTimelock", after: [tokenAdmin] });
  const stakeAdmin = m.call(stakeManager, "grantRole", [DEFAULT_ADMIN_ROLE, timelock], { id: "grantStakeAdminToTimelock", after: [factoryRegistrar] });

  // The deployer lets go of everything.
  const handedOver = [govProposer, govCanceller, openExecutor, tokenMinterAdmin, stakeAdmin];
  m.call(token, "renounceRole", [MINTER_ADMIN_ROLE, deployer], { id: "renounceTokenMinterAdmin", after: handedOver });
  m.call(token, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer], { id: "renounceTokenAdmin", after: handedOver });
  m.call(stakeManager, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer], { id: "renounceStakeAdmin", after: handedOver });
  m.call(timelock, "renounceRole", [PROPOSER_ROLE, deployer], { id: "renounceTimelockProposer", after: handedOver });
  m.call(timelock, "renounceRole", [CANCELLER_ROLE, deployer], { id: "renounceTimelockCanceller", after: handedOver });
  m.call(timelock, "renounceRole", [EXECUTOR_ROLE, deployer], { id: "renounceTimelockExecutor", after: handedOver });
  m.call(timelock, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer], { id: "renounceTimelockAdmin", after: handedOver });

  return { token, timelock, governor, stakeManager, implementation, factory, run };
});
