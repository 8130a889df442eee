import { getAddress, type Address, type Hex } from "viem";
import { z } from "zod";
import type { Deployment } from "../chain/deployment.js";
import type { DecodedLog } from "./decode-logs.js";
import { roleWord } from "../chain/contract-enums.js";
import { HistoryError } from "./history-error.js";
import {
  emptyRound,
  type ChainRecords,
  type EventRef,
  type RoleName,
  type RoundRecord,
  type RunRecord,
  type StakeEvent,
} from "./chain-records.js";

/**
 * The one reducer from decoded events to {@link ChainRecords}. `protolearn audit` feeds it every
 * event since the deployment block; the explorer feeds it chunk by chunk and keeps the result on
 * disk. Each event's arguments are validated here (chain data is external input): an event that
 * does not have the shape its ABI promises stops the rebuild with the block and transaction that
 * carry it, rather than being skipped and silently missing from the record.
 */

const hex32 = z
  .string()
  .regex(/^0x[0-9a-fA-F]{64}$/)
  .transform((v) => v.toLowerCase() as Hex);
const address = z
  .string()
  .regex(/^0x[0-9a-fA-F]{40}$/)
  .transform((v) => getAddress(v));
const big = z.bigint().nonnegative();
const uint = big.transform((v) => v.toString());
const small = z.union([z.number().int().nonnegative(), big.transform((v) => Number(v))]);
const params = z
  .record(z.union([z.bigint(), z.number(), z.string(), z.boolean()]))
  .transform((record) => {
    const out: Record<string, string | number> = {};
    for (const [key, value] of Object.entries(record)) {
      out[key] =
        typeof value === "bigint"
          ? value.toString()
          : typeof value === "boolean"
            ? Number(value)
            : value;
    }
    return out;
  });

const runEvents = {
  RunInitialized: z.object({
    runId: big,
    modelId: hex32,
    initialModelHash: hex32,
    initialModelCid: z.string(),
    guardian: address,
  }),
  RoundOpened: z.object({
    runId: big,
    round: small,
    seed: hex32,
    modelHash: hex32,
    commitDeadline: uint,
    revealDeadline: uint,
    scoreDeadline: uint,
    voteRevealDeadline: uint,
  }),
  Joined: z.object({ runId: big, node: address, role: small, locked: uint, eligibleFrom: small }),
  LockRaised: z.object({ runId: big, node: address, role: small, added: uint, locked: uint, eligibleFrom: small }),
  Left: z.object({ runId: big, node: address, role: small, unlocked: uint }),
  Evicted: z.object({ runId: big, node: address, role: small, unlocked: uint, by: address }),
  ChallengeArmed: z.object({ runId: big, round: small, challengeBlock: uint }),
  ChallengeFixed: z.object({ runId: big, round: small, randomness: hex32 }),
  CommitteeDrawn: z.object({ runId: big, round: small, seats: z.array(address).readonly() }),
  VoteCommitted: z.object({ runId: big, round: small, validator: address, weight: small, commitment: hex32 }),
  Committed: z.object({ runId: big, round: small, node: address, commitment: hex32 }),
  Revealed: z.object({
    runId: big,
    round: small,
    node: address,
    index: small,
    cid: z.string(),
    contentHash: hex32,
    samples: uint,
  }),
  VoteRevealed: z.object({
    runId: big,
    round: small,
    validator: address,
    weight: small,
    modelHash: hex32,
    evalLoss: uint,
    seatLengths: z.array(small).readonly(),
    scores: z.array(small).readonly(),
  }),
  UpdateScored: z.object({
    runId: big,
    round: small,
    node: address,
    index: small,
    medianScore: small,
    scorers: small,
    accepted: z.boolean(),
    rewardPoints: uint,
  }),
  SettlementProgress: z.object({ runId: big, round: small, processed: small, total: small }),
  TrainerPoolSet: z.object({ runId: big, round: small, pool: uint, totalPoints: uint }),
  TrainerRewarded: z.object({ runId: big, round: small, node: address, amount: uint }),
  ValidatorSettled: z.object({
    runId: big,
    round: small,
    validator: address,
    agreed: z.boolean(),
    reward: uint,
  }),
  NodeSlashed: z.object({
    runId: big,
    round: small,
    node: address,
    reason: small,
    amount: uint,
    slashId: uint,
  }),
  ModelAgreed: z.object({
    runId: big,
    round: small,
    modelHash: hex32,
    evalLoss: uint,
    acceptedUpdates: small,
    emission: uint,
  }),
  RoundFailed: z.object({ runId: big, round: small, reason: small }),
  EmissionFailed: z.object({ runId: big, round: small, amount: uint }),
  RewardsClaimed: z.object({ runId: big, node: address, amount: uint }),
  CheckpointAnnounced: z.object({ runId: big, round: small, announcer: address, cid: z.string() }),
  ParamsSet: z.object({ runId: big, effectiveRound: small, newParams: params }),
  ParamsApplied: z.object({ runId: big, round: small }),
  Paused: z.object({ runId: big, round: small, account: address }),
  Unpaused: z.object({ runId: big, round: small, account: address }),
  Halted: z.object({ runId: big, round: small, account: address }),
  GuardianSet: z.object({ runId: big, newGuardian: address }),
};

/** Every run event carries its runId first: checked against the address that emitted it. */
const runIdOnly = { event: z.object({ runId: big }) };

const factoryEvents = {
  RunCreated: z.object({
    runId: small,
    run: address,
    modelId: hex32,
    initialModelHash: hex32,
    initialModelCid: z.string(),
    params,
  }),
};

const stakeEvents = {
  Staked: z.object({ account: address, amount: uint, bonded: uint }),
  UnstakeRequested: z.object({ account: address, requestId: uint, amount: uint, releaseAt: uint }),
  Withdrawn: z.object({ account: address, amount: uint, entries: uint }),
  Locked: z.object({ run: address, account: address, amount: uint, lockedByRun: uint }),
  Unlocked: z.object({ run: address, account: address, amount: uint, lockedByRun: uint }),
  LockShrunk: z.object({ run: address, account: address, amount: uint, slashId: uint }),
  LockRestored: z.object({ run: address, account: address, amount: uint, slashId: uint }),
  Slashed: z.object({
    slashId: uint,
    account: address,
    run: address,
    runId: small,
    round: small,
    reason: small,
    amount: uint,
    evidenceHash: hex32,
  }),
  SlashReversed: z.object({ slashId: uint, account: address, amount: uint }),
  SlashResolved: z.object({
    slashId: uint,
    account: address,
    amount: uint,
    recipient: address,
    burned: z.boolean(),
  }),
};

const governorEvents = {
  ProposalCreated: z.object({
    proposalId: uint,
    proposer: address,
    targets: z.array(address).readonly(),
    values: z.array(uint).readonly(),
    calldatas: z.array(z.string().regex(/^0x[0-9a-fA-F]*$/)).readonly(),
    voteStart: uint,
    voteEnd: uint,
    description: z.string(),
  }),
  VoteCast: z.object({
    voter: address,
    proposalId: uint,
    support: small,
    weight: uint,
    reason: z.string(),
  }),
  VoteCastWithParams: z.object({
    voter: address,
    proposalId: uint,
    support: small,
    weight: uint,
    reason: z.string(),
  }),
  ProposalQueued: z.object({ proposalId: uint, etaSeconds: uint }),
  ProposalExecuted: z.object({ proposalId: uint }),
  ProposalCanceled: z.object({ proposalId: uint }),
};

type Schemas = Record<string, z.ZodTypeAny>;

function parse<S extends Schemas, K extends keyof S & string>(
  schemas: S,
  name: K,
  log: DecodedLog,
): z.output<S[K]> {
  const schema = schemas[name] as S[K];
  const result = schema.safeParse(log.args);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new HistoryError(
      `the ${name} event in transaction ${log.transactionHash} (block ${log.blockNumber}) does not have the shape its ABI declares: ${issue?.path.join(".") ?? "?"} ${issue?.message ?? ""}`,
      {
        code: "HISTORY_BAD_EVENT",
        fix: "check that --network points at a protolearn deployment and that the RPC endpoint returns unmodified logs",
      },
    );
  }
  return result.data as z.output<S[K]>;
}

function refOf(log: DecodedLog): EventRef {
  return { block: Number(log.blockNumber), logIndex: log.logIndex, tx: log.transactionHash };
}

/** The record's role word; a value outside the enum (a newer contract) is recorded as "none". */
function recordRole(value: number): RoleName {
  const word = roleWord(value);
  return word.startsWith("unknown(") ? "none" : (word as RoleName);
}

function key(address: string): Address {
  return address.toLowerCase() as Address;
}

/** Adds `logs` (in chain order) to `records`, which it mutates and returns. */
export function recordEvents(
  records: ChainRecords,
  logs: readonly DecodedLog[],
  deployment: Deployment,
): ChainRecords {
  const contracts = deployment.contracts;
  const runByAddress = new Map<string, RunRecord>();
  for (const run of Object.values(records.runs)) runByAddress.set(key(run.address), run);

  const ensureRun = (runId: number, runAddress: Address): RunRecord => {
    const existing = records.runs[String(runId)];
    if (existing !== undefined) return existing;
    const created: RunRecord = {
      runId,
      address: runAddress,
      modelId: `0x${"00".repeat(32)}`,
      initialModelHash: `0x${"00".repeat(32)}`,
      initialModelCid: "",
      guardian: null,
      created: null,
      params: {},
      paramChanges: [],
      switches: [],
      members: {},
      claims: [],
      checkpoints: [],
      rounds: {},
    };
    records.runs[String(runId)] = created;
    runByAddress.set(key(runAddress), created);
    return created;
  };
  for (const run of deployment.runs)
    if (!runByAddress.has(key(run.address))) ensureRun(run.runId, run.address);

  const roundOf = (run: RunRecord, round: number): RoundRecord => {
    const existing = run.rounds[String(round)];
    if (existing !== undefined) return existing;
    const created = emptyRound(round);
    run.rounds[String(round)] = created;
    return created;
  };
  const stakeOf = (account: Address): StakeEvent[] => {
    const list = records.stakes[key(account)] ?? [];
    records.stakes[key(account)] = list;
    return list;
  };

  for (const log of logs) {
    const at = refOf(log);
    const from = key(log.address);
    const name = log.eventName;
    if (from === key(contracts.RunFactory)) {
      if (name !== "RunCreated") continue;
      const e = parse(factoryEvents, "RunCreated", log);
      const run = ensureRun(e.runId, e.run);
      Object.assign(run, {
        address: e.run,
        modelId: e.modelId,
        initialModelHash: e.initialModelHash,
        initialModelCid: e.initialModelCid,
        params: e.params,
        created: at,
      });
      runByAddress.set(key(e.run), run);
    } else if (from === key(contracts.StakeManager)) {
      recordStakeEvent(records, stakeOf, name, log, at);
    } else if (from === key(contracts.RunGovernor)) {
      recordGovernorEvent(records, name, log, at);
    } else {
      const run = runByAddress.get(from);
      if (run === undefined || !(name in runEvents)) continue;
      const e = parse(runIdOnly, "event", { ...log, eventName: name });
      if (Number(e.runId) !== run.runId) {
        throw new HistoryError(
          `run ${run.runId} at ${run.address} emitted an event for run ${e.runId} (tx ${log.transactionHash})`,
          {
            code: "HISTORY_BAD_EVENT",
            fix: "the address in the deployment record is not the run it claims to be: check deployments/<network>.json",
          },
        );
      }
      recordRunEvent(run, roundOf, name as keyof typeof runEvents, log, at);
    }
  }
  return records;
}

function recordRunEvent(
  run: RunRecord,
  roundOf: (run: RunRecord, round: number) => RoundRecord,
  name: keyof typeof runEvents,
  log: DecodedLog,
  at: EventRef,
): void {
  switch (name) {
    case "RunInitialized": {
      const e = parse(runEvents, name, log);
      run.guardian = e.guardian;
      if (run.created === null) {
        Object.assign(run, {
          modelId: e.modelId,
          initialModelHash: e.initialModelHash,
          initialModelCid: e.initialModelCid,
          created: at,
        });
      }
      return;
    }
    case "RoundOpened": {
      const e = parse(runEvents, name, log);
      const { round, ...opened } = e;
      roundOf(run, round).opened = {
        seed: opened.seed,
        modelHash: opened.modelHash,
        commitDeadline: opened.commitDeadline,
        revealDeadline: opened.revealDeadline,
        scoreDeadline: opened.scoreDeadline,
        voteRevealDeadline: opened.voteRevealDeadline,
        at,
      };
      return;
    }
    case "Joined":
    case "LockRaised":
    case "Left":
    case "Evicted": {
      const list = run.members[key(log.args.node as string)] ?? [];
      if (name === "Joined") {
        const e = parse(runEvents, name, log);
        list.push({ kind: "joined", role: recordRole(e.role), amount: e.locked, locked: e.locked, eligibleFrom: e.eligibleFrom, at });
      } else if (name === "LockRaised") {
        const e = parse(runEvents, name, log);
        list.push({ kind: "raised", role: recordRole(e.role), amount: e.added, locked: e.locked, eligibleFrom: e.eligibleFrom, at });
      } else if (name === "Left") {
        const e = parse(runEvents, name, log);
        list.push({ kind: "left", role: recordRole(e.role), amount: e.unlocked, at });
      } else {
        const e = parse(runEvents, name, log);
        list.push({ kind: "evicted", role: recordRole(e.role), amount: e.unlocked, by: e.by, at });
      }
      run.members[key(log.args.node as string)] = list;
      return;
    }
    case "ChallengeArmed": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).challenge.push({ challengeBlock: e.challengeBlock, at });
      return;
    }
    case "ChallengeFixed": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).randomness = { value: e.randomness, at };
      return;
    }
    case "CommitteeDrawn": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).committee = [...e.seats];
      return;
    }
    case "VoteCommitted": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).voteCommits.push({ validator: e.validator, weight: e.weight, commitment: e.commitment, at });
      return;
    }
    case "SettlementProgress": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).settlement = { processed: e.processed, total: e.total, at };
      return;
    }
    case "TrainerPoolSet": {
      const e = parse(runEvents, name, log);
      const record = roundOf(run, e.round);
      record.trainerPool = { pool: e.pool, totalPoints: e.totalPoints, at };
      const total = BigInt(e.totalPoints);
      for (const outcome of record.outcomes) {
        outcome.reward = total === 0n ? "0" : ((BigInt(outcome.rewardPoints) * BigInt(e.pool)) / total).toString();
      }
      return;
    }
    case "TrainerRewarded": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).trainerRewards.push({ node: e.node, amount: e.amount, at });
      return;
    }
    case "Committed": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).commits.push({ node: e.node, commitment: e.commitment, at });
      return;
    }
    case "Revealed": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).reveals.push({
        index: e.index,
        node: e.node,
        cid: e.cid,
        contentHash: e.contentHash,
        samples: e.samples,
        at,
      });
      return;
    }
    case "VoteRevealed": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).votes.push({
        validator: e.validator,
        weight: e.weight,
        modelHash: e.modelHash,
        evalLoss: e.evalLoss,
        seatLengths: [...e.seatLengths],
        scores: [...e.scores],
        at,
      });
      return;
    }
    case "UpdateScored": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).outcomes.push({
        node: e.node,
        index: e.index,
        medianScore: e.medianScore,
        scorers: e.scorers,
        accepted: e.accepted,
        rewardPoints: e.rewardPoints,
        reward: "0",
        at,
      });
      return;
    }
    case "ValidatorSettled": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).settlements.push({
        validator: e.validator,
        agreed: e.agreed,
        reward: e.reward,
        at,
      });
      return;
    }
    case "NodeSlashed": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).slashes.push({
        node: e.node,
        reason: e.reason,
        amount: e.amount,
        slashId: e.slashId,
        at,
      });
      return;
    }
    case "ModelAgreed": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).result = {
        kind: "agreed",
        modelHash: e.modelHash,
        evalLoss: e.evalLoss,
        acceptedUpdates: e.acceptedUpdates,
        emission: e.emission,
        at,
      };
      return;
    }
    case "RoundFailed": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).result = { kind: "failed", reason: e.reason, at };
      return;
    }
    case "EmissionFailed": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).emissionFailed = { amount: e.amount, at };
      return;
    }
    case "RewardsClaimed": {
      const e = parse(runEvents, name, log);
      run.claims.push({ node: e.node, amount: e.amount, at });
      return;
    }
    case "CheckpointAnnounced": {
      const e = parse(runEvents, name, log);
      run.checkpoints.push({ round: e.round, cid: e.cid, announcer: e.announcer, at });
      return;
    }
    case "ParamsSet": {
      const e = parse(runEvents, name, log);
      run.paramChanges.push({
        effectiveRound: e.effectiveRound,
        params: e.newParams,
        appliedRound: null,
        at,
      });
      return;
    }
    case "ParamsApplied": {
      const e = parse(runEvents, name, log);
      roundOf(run, e.round).paramsApplied = true;
      const pending = run.paramChanges.filter((c) => c.appliedRound === null).at(-1);
      if (pending !== undefined) pending.appliedRound = e.round;
      return;
    }
    case "Paused":
    case "Unpaused":
    case "Halted": {
      const e = parse(runEvents, name, log);
      run.switches.push({
        kind: name === "Paused" ? "paused" : name === "Unpaused" ? "unpaused" : "halted",
        round: e.round,
        account: e.account,
        at,
      });
      return;
    }
    case "GuardianSet": {
      const e = parse(runEvents, name, log);
      run.guardian = e.newGuardian;
      return;
    }
  }
}

function recordStakeEvent(
  records: ChainRecords,
  stakeOf: (account: Address) => StakeEvent[],
  name: string,
  log: DecodedLog,
  at: EventRef,
): void {
  switch (name) {
    case "Staked": {
      const e = parse(stakeEvents, name, log);
      stakeOf(e.account).push({ kind: "staked", amount: e.amount, bonded: e.bonded, at });
      return;
    }
    case "UnstakeRequested": {
      const e = parse(stakeEvents, name, log);
      stakeOf(e.account).push({
        kind: "unstake-requested",
        requestId: e.requestId,
        amount: e.amount,
        releaseAt: e.releaseAt,
        at,
      });
      return;
    }
    case "Withdrawn": {
      const e = parse(stakeEvents, name, log);
      stakeOf(e.account).push({ kind: "withdrawn", amount: e.amount, entries: e.entries, at });
      return;
    }
    case "Locked":
    case "Unlocked": {
      const e = parse(stakeEvents, name, log);
      stakeOf(e.account).push({
        kind: name === "Locked" ? "locked" : "unlocked",
        run: e.run,
        amount: e.amount,
        lockedByRun: e.lockedByRun,
        at,
      });
      return;
    }
    case "LockShrunk": {
      const e = parse(stakeEvents, name, log);
      stakeOf(e.account).push({
        kind: "lock-shrunk",
        run: e.run,
        amount: e.amount,
        slashId: e.slashId,
        at,
      });
      return;
    }
    case "LockRestored": {
      const e = parse(stakeEvents, name, log);
      stakeOf(e.account).push({
        kind: "lock-restored",
        run: e.run,
        amount: e.amount,
        slashId: e.slashId,
        at,
      });
      return;
    }
    case "Slashed": {
      const e = parse(stakeEvents, name, log);
      records.slashes[e.slashId] = {
        slashId: e.slashId,
        account: e.account,
        run: e.run,
        runId: e.runId,
        round: e.round,
        reason: e.reason,
        amount: e.amount,
        evidenceHash: e.evidenceHash,
        at,
        status: "escrowed",
        reversed: null,
        resolved: null,
      };
      return;
    }
    case "SlashReversed": {
      const e = parse(stakeEvents, name, log);
      const slash = records.slashes[e.slashId];
      if (slash !== undefined) {
        slash.status = "reversed";
        slash.reversed = { amount: e.amount, at };
      }
      return;
    }
    case "SlashResolved": {
      const e = parse(stakeEvents, name, log);
      const slash = records.slashes[e.slashId];
      if (slash !== undefined) {
        slash.status = "resolved";
        slash.resolved = { amount: e.amount, recipient: e.recipient, burned: e.burned, at };
      }
      return;
    }
  }
}

function recordGovernorEvent(
  records: ChainRecords,
  name: string,
  log: DecodedLog,
  at: EventRef,
): void {
  switch (name) {
    case "ProposalCreated": {
      const e = parse(governorEvents, name, log);
      records.proposals[e.proposalId] = {
        id: e.proposalId,
        proposer: e.proposer,
        targets: [...e.targets],
        values: [...e.values],
        calldatas: e.calldatas.map((c) => c.toLowerCase() as Hex),
        description: e.description,
        voteStart: e.voteStart,
        voteEnd: e.voteEnd,
        created: at,
        votes: [],
        queued: null,
        executed: null,
        canceled: null,
      };
      return;
    }
    case "VoteCast":
    case "VoteCastWithParams": {
      const e = parse(governorEvents, name, log);
      records.proposals[e.proposalId]?.votes.push({
        voter: e.voter,
        support: e.support,
        weight: e.weight,
        reason: e.reason,
        at,
      });
      return;
    }
    case "ProposalQueued": {
      const e = parse(governorEvents, name, log);
      const proposal = records.proposals[e.proposalId];
      if (proposal !== undefined) proposal.queued = { eta: e.etaSeconds, at };
      return;
    }
    case "ProposalExecuted":
    case "ProposalCanceled": {
      const e = parse(governorEvents, name, log);
      const proposal = records.proposals[e.proposalId];
      if (proposal !== undefined)
        proposal[name === "ProposalExecuted" ? "executed" : "canceled"] = at;
      return;
    }
  }
}
