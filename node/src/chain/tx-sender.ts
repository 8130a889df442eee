import type { Abi, Account, Address, Chain, Hash, PublicClient, TransactionReceipt, Transport, WalletClient } from "viem";
import type { Logger } from "../observe/logger.js";
import { NO_TIMING, type PartTimer } from "../observe/round-timing.js";
import { ChainError, isTransient, toChainError } from "./chain-error.js";

/**
 * Sends transactions from one account, one at a time: simulates first (so a revert is decoded
 * before anything is signed), estimates gas with headroom, takes each nonce from the chain's
 * pending count (sends are serialized, so that is the next one; and a reorg that dropped a mined
 * transaction of ours frees its nonce, which a locally counted nonce would skip, leaving the
 * next transaction stuck behind a gap), retries transport failures a bounded number of times, and
 * waits for the receipt. A reverted receipt is an error, never a silent success.
 */

export interface SendRequest {
  address: Address;
  abi: Abi;
  functionName: string;
  args?: readonly unknown[];
  /** Human label for logs and errors, e.g. "commit round 3". */
  label: string;
}

export interface SentTransaction {
  hash: Hash;
  receipt: TransactionReceipt;
  gasUsed: bigint;
}

export interface TxSenderOptions {
  publicClient: PublicClient<Transport, Chain | undefined>;
  walletClient: WalletClient<Transport, Chain | undefined, Account>;
  logger?: Logger;
  /** Extra ABI (errors) to decode reverts from nested calls. */
  errorAbi?: Abi;
  /** Transport retries per transaction. @default 3 */
  maxRetries?: number;
  /** Gas headroom over the estimate, in percent. @default 20 */
  gasHeadroomPercent?: bigint;
  /**
   * At least this much gas over the estimate. A run's first transaction after a deadline may
   * also arm the challenge or fix the randomness (a fresh storage slot and an event, ~25k gas);
   * whether it does depends on which transaction lands first, so a reveal simulated one block
   * earlier can need that much more than its estimate. Unused gas is not charged.
   * @default 50_000n
   */
  gasHeadroomMin?: bigint;
  /** Called with the gas of every mined transaction (metrics). */
  onGasUsed?: (label: string, gasUsed: bigint) => void;
}

/** The gas limit sent for an estimate: `percent` % more, and at least `min` more. */
export function withHeadroom(estimate: bigint, percent: bigint, min: bigint): bigint {
  const relative = (estimate * (100n + percent)) / 100n;
  return relative > estimate + min ? relative : estimate + min;
}

export class TxSender {
  private queue: Promise<unknown> = Promise.resolve();
  private timer: PartTimer = NO_TIMING;

  constructor(private readonly options: TxSenderOptions) {}

  get address(): Address {
    return this.options.walletClient.account.address;
  }

  /** Charges each transaction's wall time to the round's parts: `chainSend` up to the hash, then `chainConfirm` until the receipt. */
  useTimer(timer: PartTimer): void {
    this.timer = timer;
  }

  /** Queues a transaction behind any in flight from this sender. */
  send(request: SendRequest): Promise<SentTransaction> {
    const run = this.queue.then(() => this.sendNow(request));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async nextNonce(): Promise<number> {
    return this.options.publicClient.getTransactionCount({ address: this.address, blockTag: "pending" });
  }

  private async sendNow(request: SendRequest): Promise<SentTransaction> {
    const { publicClient, walletClient, logger } = this.options;
    const maxRetries = this.options.maxRetries ?? 3;
    const abi = this.options.errorAbi ? [...request.abi, ...this.options.errorAbi] : request.abi;
    for (let attempt = 0; ; attempt++) {
      let endPart = this.timer.begin("chainSend");
      try {
        const { request: prepared } = await publicClient.simulateContract({
          address: request.address,
          abi,
          functionName: request.functionName,
          args: request.args ?? [],
          account: walletClient.account,
        });
        const gas = await publicClient.estimateContractGas({
          address: request.address,
          abi,
          functionName: request.functionName,
          args: request.args ?? [],
          account: walletClient.account,
        });
        const nonce = await this.nextNonce();
        const hash = await walletClient.writeContract({
          ...prepared,
          nonce,
          gas: withHeadroom(gas, this.options.gasHeadroomPercent ?? 20n, this.options.gasHeadroomMin ?? 50_000n),
        } as Parameters<typeof walletClient.writeContract>[0]);
        endPart();
        endPart = this.timer.begin("chainConfirm");
        const receipt = await publicClient.waitForTransactionReceipt({ hash });
        endPart();
        if (receipt.status !== "success") {
          throw new ChainError(`${request.label} reverted on-chain in block ${receipt.blockNumber} (tx ${hash})`, {
            code: "CHAIN_REVERTED",
            fix: "the chain state changed between simulation and inclusion; check the phase and retry",
          });
        }
        logger?.debug("tx mined", { label: request.label, hash, gasUsed: receipt.gasUsed, block: receipt.blockNumber });
        this.options.onGasUsed?.(request.label, receipt.gasUsed);
        return { hash, receipt, gasUsed: receipt.gasUsed };
      } catch (err) {
        endPart();
        const message = err instanceof Error ? err.message : String(err);
        if (/nonce too low|nonce has already been used|replacement transaction underpriced/i.test(message)) {
          if (attempt < maxRetries) continue; // the next attempt reads the nonce again
        }
        const chainError = toChainError(err, request.label);
        if (isTransient(chainError) && attempt < maxRetries) {
          const delay = 250 * 2 ** attempt;
          logger?.warn("tx retry", { label: request.label, attempt: attempt + 1, delayMs: delay, error: chainError.message });
          await new Promise((r) => setTimeout(r, delay));
          continue;
        }
        throw chainError;
      }
    }
  }
}
