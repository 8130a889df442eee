import { strict as assert } from "node:assert";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { ABI_FILE, renderAbis } from "../../scripts/gen-abi.js";

describe("generated ABIs", () => {
  it("match the compiled artifacts (regenerate with `npx tsx scripts/gen-abi.ts` after a contract change)", async () => {
    assert.equal(await readFile(ABI_FILE, "utf8"), await renderAbis());
  });
});
