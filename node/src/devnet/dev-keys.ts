import { toHex, type Hex } from "viem";
import { mnemonicToAccount, type HDAccount } from "viem/accounts";

/**
 * The public development keys of Hardhat and anvil. Local chains fund them with ETH; the devnet,
 * `npm start` and the tests use them. Never use them on a real network.
 */

/** The public Hardhat/anvil development mnemonic: key #0 deploys, keys 1..N are the nodes. Never use on a real network. */
export const DEVNET_MNEMONIC = "test test test test test test test test test test test junk";

/** Dev account `index` (0 deploys and guards the devnet; 1..N are its nodes). */
export function devAccount(index: number): HDAccount {
  return mnemonicToAccount(DEVNET_MNEMONIC, { addressIndex: index });
}

/**
 * The private key of dev account `index`.
 *
 * @example
 * const account = privateKeyToAccount(devKey(1)); // the devnet's first node
 */
export function devKey(index: number): Hex {
  const key = devAccount(index).getHdKey().privateKey;
  if (key === null) throw new Error(`cannot derive dev key ${index}`);
  return toHex(key);
}
