import { bytesToHex, isHex, size, type Hex } from "viem";

import { ValidateError } from "./validate-error.js";

/** A bytes32 given as hex or bytes, as hex; ValidateError if it is not 32 bytes. */
export function bytes32Hex(value: Hex | Uint8Array, what: string): Hex {
  const hex = value instanceof Uint8Array ? bytesToHex(value) : value;
  if (!isHex(hex, { strict: true }) || size(hex) !== 32) {
    throw new ValidateError(`${what} ${String(hex).slice(0, 80)} is not 32 bytes`, {
      code: "VALIDATE_BAD_INPUT",
      fix: `pass ${what} as the bytes32 read from the TrainingRun contract`,
    });
  }
  return hex.toLowerCase() as Hex;
}
