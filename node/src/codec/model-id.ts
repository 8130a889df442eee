import { keccak256, stringToBytes, type Hex } from "viem";

/**
 * A model id from a human-readable name: keccak256 of its UTF-8 bytes. Runs that name their
 * model by a string (e.g. "mnist-mlp-v1") put this bytes32 into every update header.
 */
export function modelIdFromName(name: string): Hex {
  return keccak256(stringToBytes(name));
}
