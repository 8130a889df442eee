import type { Hex } from "viem";
import { keccak256Bytes } from "../hashing/keccak.js";

/** The content hash of an encoded update: keccak256 over its bytes, as committed on chain. */
export function contentHash(bytes: Uint8Array): Hex {
  return keccak256Bytes(bytes);
}
