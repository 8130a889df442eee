import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { keccak256 } from "viem";
import { keccak256Bytes } from "../../node/src/hashing/keccak.js";
import { SeededRandom } from "./fixtures/prng.js";

describe("keccak256Bytes (WebAssembly) equals viem's keccak256", () => {
  it("on empty input, around the 136-byte rate boundaries and on a model-sized buffer", () => {
    const random = new SeededRandom(7);
    for (const size of [0, 1, 31, 32, 135, 136, 137, 271, 272, 273, 4096, 814_120]) {
      const bytes = random.bytes(size);
      assert.equal(keccak256Bytes(bytes), keccak256(bytes), `size ${size}`);
    }
  });

  it("is stateless between calls (each call starts a fresh hash)", () => {
    const a = new Uint8Array([1, 2, 3]);
    const first = keccak256Bytes(a);
    keccak256Bytes(new Uint8Array(1000));
    assert.equal(keccak256Bytes(a), first);
  });
});
