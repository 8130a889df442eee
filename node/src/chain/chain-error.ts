import { BaseError, ContractFunctionRevertedError, type Abi } from "viem";
import { ProtolearnError } from "../errors.js";

/**
 * A failed chain interaction. When a contract reverted with one of our custom errors, the
 * error's name and arguments are decoded into the message, and the fix names what to do.
 */
export class ChainError extends ProtolearnError {
  override name = "ChainError";
  /** The decoded custom error, when the contract reverted with one. */
  readonly revert: { errorName: string; args: readonly unknown[] } | undefined;

  constructor(
    message: string,
    options: { code: string; fix?: string; cause?: unknown; revert?: { errorName: string; args: readonly unknown[] } },
  ) {
    super(message, options);
    this.revert = options.revert;
  }
}

/**
 * What an operator should do about a custom error a protolearn contract can raise, by error
 * name (test/node/fix-hints.test.ts checks every name against the contracts' ABIs).
 */
export const REVERT_FIXES: Readonly<Record<string, string>> = {
  TrainingRunWrongPhase: "the round is not in the phase this call needs: see the deadlines in `protolearn status` and wait for the next round if it is over",
  TrainingRunRandomnessNotReady: "the round's randomness is not readable yet: call armChallenge if nobody has, then send again a block after readyAt",
  TrainingRunNoSeat: "this trainer did not win a seat in this round's lottery (seatDraw): wait for the next round, or raise the lock for better odds",
  TrainingRunNotYetEligible: "the lock counts in draws only from a later round (memberOf.eligibleFrom): wait for that round",
  TrainingRunLockBelowMinimum: "the lock is below the run's current minimum: raise it with raiseLock to take seats again",
  TrainingRunNotOnCommittee: "this validator holds no seat in this round's committee: nothing to vote on this round",
  TrainingRunValidatorSetFrozen: "validator locks cannot change between a commit deadline and settlement: try again once the round is settled",
  TrainingRunAlreadyCommitted: "this node already committed in this round; it will reveal that commitment",
  TrainingRunNotMember: "join the run first with `protolearn join`",
  TrainingRunPaused: "the run is paused by governance or the guardian; wait for it to resume",
  TrainingRunHalted: "the run was halted for good by governance; leave it and withdraw your stake",
  StakeManagerInsufficientFreeStake: "stake more with `protolearn stake <amount>` or unlock stake from another run",
  StakeManagerNothingToWithdraw: "nothing has finished unbonding yet: check `protolearn status` for the unlock time",
  ERC20InsufficientBalance: "this account does not hold enough LEARN: get tokens first or use a smaller amount",
  ERC20InsufficientAllowance: "approve the stake manager first (the CLI does it when you stake)",
  GovernorUnexpectedProposalState: "the proposal is not in a state that allows this: check `protolearn proposals`",
  GovernorAlreadyCastVote: "this account already voted on the proposal",
};

function formatArg(value: unknown): string {
  return typeof value === "bigint" ? value.toString() : typeof value === "string" ? value : JSON.stringify(value);
}

/** Turns whatever viem threw for `action` into a ChainError with the revert decoded. */
export function toChainError(err: unknown, action: string): ChainError {
  if (err instanceof ChainError) return err;
  if (err instanceof BaseError) {
    const reverted = err.walk((e) => e instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const errorName = reverted.data?.errorName ?? "unknown";
      const args = reverted.data?.args ?? [];
      const fix = REVERT_FIXES[errorName] ?? (errorName === "unknown" ? "check the arguments and the run's phase" : undefined);
      const reason = reverted.data ? `${errorName}(${args.map(formatArg).join(", ")})` : (reverted.reason ?? "no reason");
      return new ChainError(`${action} was rejected by the contract: ${reason}`, {
        code: "CHAIN_REVERTED",
        fix: fix ?? `see the ${errorName} error in docs/contracts.md or docs/run-contract.md`,
        cause: err,
        revert: { errorName, args },
      });
    }
    return new ChainError(`${action} failed: ${err.shortMessage}`, {
      code: "CHAIN_FAILED",
      fix: "check that the RPC URL in the config is reachable and the chain is running",
      cause: err,
    });
  }
  return new ChainError(`${action} failed: ${err instanceof Error ? err.message : String(err)}`, {
    code: "CHAIN_FAILED",
    fix: "check that the RPC URL in the config is reachable and the chain is running",
    cause: err,
  });
}

/** Errors worth retrying: the transport, not the contract. */
export function isTransient(err: unknown): boolean {
  if (err instanceof ChainError && err.code === "CHAIN_REVERTED") return false;
  const text = err instanceof Error ? `${err.name} ${err.message}` : String(err);
  return /fetch failed|ECONNREFUSED|ECONNRESET|socket hang up|timed? ?out|HttpRequestError|rate limit|429|503|502/i.test(text);
}

/** Merges ABIs keeping only error entries, so nested reverts decode wherever they came from. */
export function errorsOf(...abis: Abi[]): Abi {
  const seen = new Set<string>();
  const out: Abi[number][] = [];
  for (const abi of abis) {
    for (const item of abi) {
      if (item.type !== "error") continue;
      const key = `${item.name}(${item.inputs.map((i) => i.type).join(",")})`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push(item);
      }
    }
  }
  return out;
}
