import { strict as assert } from "node:assert";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import type { Abi } from "viem";
import {
  learnTokenAbi,
  runFactoryAbi,
  runGovernorAbi,
  runTimelockAbi,
  stakeManagerAbi,
  trainingRunAbi,
} from "../../node/src/chain/abis.js";
import {
  enumName,
  PROPOSAL_STATES,
  ProposalState,
  Role,
  ROLES,
  roleValue,
  roleWord,
  ROUND_FAILURES,
  RoundFailure,
  RUN_STATUSES,
  RunStatus,
  SLASH_REASONS,
  SLASH_STATUSES,
  SlashReason,
  SlashStatus,
  VOTE_TYPES,
  VoteType,
} from "../../node/src/chain/contract-enums.js";
import { ROUND_PHASES } from "../../node/src/run/round-phase.js";

const require = createRequire(import.meta.url);

/** The member names of `enum <name> { … }` in a Solidity source, in declaration order. */
async function solidityEnum(path: string, name: string): Promise<string[]> {
  const source = (await readFile(path, "utf8"))
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\/\/.*$/gm, "");
  const body = new RegExp(`\\benum\\s+${name}\\s*\\{([^}]*)\\}`).exec(source)?.[1];
  assert.ok(body !== undefined, `${path} declares no enum ${name}`);
  return body
    .split(",")
    .map((member) => member.trim())
    .filter((member) => member !== "");
}

/** Every `internalType` "enum X.Y" the generated ABIs mention. */
function abiEnumTypes(): Set<string> {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === "object" && value !== null) {
      const internalType = (value as { internalType?: unknown }).internalType;
      if (typeof internalType === "string" && internalType.startsWith("enum ")) {
        found.add(internalType.slice("enum ".length).replace(/\[\d*\]$/, ""));
      }
      Object.values(value).forEach(visit);
    }
  };
  const abis: Abi[] = [learnTokenAbi, stakeManagerAbi, trainingRunAbi, runFactoryAbi, runGovernorAbi, runTimelockAbi];
  abis.forEach(visit);
  return found;
}

const OZ = (file: string): string => require.resolve(`@openzeppelin/contracts/${file}`);

/** Each TS mirror, the Solidity enum it mirrors, where that enum is declared, and whether an ABI uses it. */
const MIRRORS = [
  { solidity: "ITrainingRun.Role", file: "contracts/run/ITrainingRun.sol", names: ROLES, inAbi: true },
  { solidity: "ITrainingRun.Phase", file: "contracts/run/ITrainingRun.sol", names: ROUND_PHASES, inAbi: true },
  { solidity: "ITrainingRun.RoundFailure", file: "contracts/run/ITrainingRun.sol", names: ROUND_FAILURES, inAbi: true },
  { solidity: "IStakeManager.SlashReason", file: "contracts/staking/IStakeManager.sol", names: SLASH_REASONS, inAbi: true },
  { solidity: "IStakeManager.SlashStatus", file: "contracts/staking/IStakeManager.sol", names: SLASH_STATUSES, inAbi: true },
  { solidity: "IStakeManager.RunStatus", file: "contracts/staking/IStakeManager.sol", names: RUN_STATUSES, inAbi: true },
  { solidity: "IGovernor.ProposalState", file: OZ("governance/IGovernor.sol"), names: PROPOSAL_STATES, inAbi: true },
  {
    solidity: "GovernorCountingSimple.VoteType",
    file: OZ("governance/extensions/GovernorCountingSimple.sol"),
    names: VOTE_TYPES,
    inAbi: false, // castVote takes a plain uint8
  },
] as const;

describe("contract enums mirror the Solidity enums", () => {
  for (const mirror of MIRRORS) {
    it(`${mirror.solidity}: same members in the same order as the Solidity declaration`, async () => {
      const [, enumName] = mirror.solidity.split(".");
      const declared = await solidityEnum(mirror.file, enumName!);
      // ROUND_PHASES spells the phases as CLI words ("vote-reveal" for VoteReveal); the order is what matters.
      assert.deepEqual(
        mirror.names.map((n) => n.toLowerCase().replace(/-/g, "")),
        declared.map((n) => n.toLowerCase()),
      );
      if (mirror.names !== ROUND_PHASES) assert.deepEqual([...mirror.names], declared);
    });
  }

  it("every enum an ABI uses has a mirror (a new enum in a contract needs one)", () => {
    const mirrored = new Set<string>(MIRRORS.filter((m) => m.inAbi).map((m) => m.solidity));
    // The timelock's operation state is OpenZeppelin's and only appears in its revert error.
    const unmirrored = [...abiEnumTypes()].filter((t) => !mirrored.has(t) && t !== "TimelockController.OperationState");
    assert.deepEqual(unmirrored, []);
    for (const m of MIRRORS.filter((m) => m.inAbi)) {
      assert.ok(abiEnumTypes().has(m.solidity), `no ABI mentions enum ${m.solidity}`);
    }
  });

  it("the value objects are the list indexes", () => {
    const pairs: [readonly string[], Readonly<Record<string, number>>][] = [
      [ROLES, Role],
      [ROUND_FAILURES, RoundFailure],
      [SLASH_REASONS, SlashReason],
      [SLASH_STATUSES, SlashStatus],
      [RUN_STATUSES, RunStatus],
      [PROPOSAL_STATES, ProposalState],
      [VOTE_TYPES, VoteType],
    ];
    for (const [names, values] of pairs) {
      assert.deepEqual(Object.entries(values), names.map((name, index) => [name, index]));
    }
  });

  it("names values, and names an unknown value as such", () => {
    assert.equal(enumName(SLASH_REASONS, 2n), "NoReveal");
    assert.equal(enumName(SLASH_REASONS, 9), "unknown(9)");
    assert.equal(roleWord(Role.Validator), "validator");
    assert.equal(roleWord(7), "unknown(7)");
    assert.equal(roleValue("trainer"), Role.Trainer);
    assert.equal(roleValue("validator"), Role.Validator);
  });
});
