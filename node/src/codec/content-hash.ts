import { keccak256, type Hex } from "viem";

/** The content hash of an encoded update: keccak256 over its bytes, as committed on chain. */
export function contentHash(bytes: Uint8Array): Hex {
  return keccak256(bytes);
}
