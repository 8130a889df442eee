import { strict as assert } from "node:assert";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../node/src/config/config.js";

async function tempFile(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "protolearn-config-"));
  const path = join(dir, "config.json");
  await writeFile(path, content);
  return path;
}

describe("config", () => {
  it("fills defaults when the file is absent", async () => {
    const config = await loadConfig({ path: "/nonexistent/config.json", env: {} });
    assert.equal(config.network, "localhost");
    assert.equal(config.role, "trainer");
    assert.equal(config.storage.kind, "helia");
  });

  it("layers file, then env vars, then overrides", async () => {
    const path = await tempFile(JSON.stringify({ network: "anvil", runId: 2, role: "validator" }));
    const config = await loadConfig({
      path,
      env: { PROTOLEARN_RUN_ID: "3", PROTOLEARN_LOG_FORMAT: "json" },
      overrides: { role: "both" },
    });
    assert.equal(config.network, "anvil");
    assert.equal(config.runId, 3);
    assert.equal(config.log.format, "json");
    assert.equal(config.role, "both");
  });

  it("names every bad key and the fix", async () => {
    const path = await tempFile(JSON.stringify({ role: "miner", rpcUrl: "not a url", surprise: 1 }));
    await assert.rejects(loadConfig({ path, env: {} }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /role/);
      assert.match(err.message, /rpcUrl/);
      assert.match(err.message, /surprise/);
      assert.match(err.fix ?? "", /correct these keys/);
      return true;
    });
  });

  it("rejects malformed JSON with the path and a fix", async () => {
    const path = await tempFile("{ nope");
    await assert.rejects(loadConfig({ path, env: {} }), /is not a JSON object/);
  });

  it("requires the file when asked", async () => {
    await assert.rejects(
      loadConfig({ path: "/nonexistent/c.json", env: {}, required: true }),
      (err: unknown) => err instanceof ConfigError && err.code === "CONFIG_MISSING" && /protolearn init/.test(err.fix ?? ""),
    );
  });
});
