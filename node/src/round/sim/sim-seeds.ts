import { getAddress, keccak256, slice, stringToBytes, type Address, type Hex } from "viem";

/**
 * The seed of round `round` of a simulation: keccak256 of a label naming the simulation seed
 * and the round. On a real network `seed_r` comes from the chain (prevrandao and blockhash);
 * the simulation only needs it to be fixed by its own seed, so reruns are identical.
 */
export function simRoundSeed(simSeed: string, round: number): Hex {
  return keccak256(stringToBytes(`protolearn/sim/${simSeed}/round/${round}`));
}

/** The address of simulated node `index`: the last 20 bytes of a keccak256 label, checksummed. */
export function simNodeAddress(simSeed: string, index: number): Address {
  return getAddress(slice(keccak256(stringToBytes(`protolearn/sim/${simSeed}/node/${index}`)), 12));
}
