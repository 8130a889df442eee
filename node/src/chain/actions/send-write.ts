import type { Abi, Address, ContractFunctionArgs, ContractFunctionName } from "viem";
import type { SignerContext } from "../client.js";
import type { SentTransaction } from "../tx-sender.js";

/** A contract handle as `protolearnContracts` returns it: an address and its generated ABI. */
export interface WritableContract<abi extends Abi> {
  address: Address;
  abi: abi;
}

/**
 * Sends one state-changing call through the signer's transaction sender, with the function
 * name and arguments type-checked against the contract's generated ABI. Every action in this
 * folder is one call of this.
 */
export function sendWrite<
  const abi extends Abi,
  functionName extends ContractFunctionName<abi, "nonpayable" | "payable">,
>(
  ctx: Pick<SignerContext, "sender">,
  contract: WritableContract<abi>,
  functionName: functionName,
  args: ContractFunctionArgs<abi, "nonpayable" | "payable", functionName>,
  label: string,
): Promise<SentTransaction> {
  return ctx.sender.send({ address: contract.address, abi: contract.abi, functionName, args: args as readonly unknown[], label });
}
