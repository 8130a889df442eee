import { createKeccak } from "hash-wasm";
import type { Hex } from "viem";

/**
 * keccak256 for large inputs: every node hashes the whole model (4 bytes per parameter) several
 * times a round, and viem's pure-JS keccak runs at ~18 MB/s (45 ms for the 814 kB MNIST model).
 * hash-wasm's WebAssembly keccak gives the same digest at ~300 MB/s (test/node/keccak.test.ts
 * checks equality with viem's, including the 136-byte rate boundaries). The hasher is created
 * once, when this module loads, so hashing stays synchronous.
 */
const hasher = await createKeccak(256);

/** keccak256 of `bytes` (Ethereum's Keccak-256, not SHA3-256), 0x-prefixed. */
export function keccak256Bytes(bytes: Uint8Array): Hex {
  return `0x${hasher.init().update(bytes).digest("hex")}`;
}
