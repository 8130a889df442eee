import { strict as assert } from "node:assert";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { encryptKeystoreJson, Wallet } from "ethers";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { decryptKeystore, encryptKeystore, KeystoreError, loadKeystoreFile, writeKeystoreFile } from "../../node/src/keystore/keystore.js";

const FAST = { scryptN: 1 << 12 };

/** Written by the hand-written scrypt/AES/MAC keystore code this project used before ethers (N = 2^12). */
const V1_FIXTURE = new URL("./fixtures/keystore-v1.json", import.meta.url);
const V1_PASSWORD = "protolearn fixture password";
const V1_ADDRESS = "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23";
const V1_KEY = "0x4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318";

describe("keystore", () => {
  it("opens a keystore file written by the previous (hand-written) implementation", async () => {
    const account = await loadKeystoreFile(V1_FIXTURE.pathname, V1_PASSWORD);
    assert.equal(account.address, V1_ADDRESS);
    const again = await decryptKeystore(JSON.parse(await readFile(V1_FIXTURE, "utf8")), V1_PASSWORD);
    assert.equal(again.address, privateKeyToAccount(V1_KEY).address);
  });

  it("round-trips a private key under its password", async () => {
    const key = generatePrivateKey();
    const ks = await encryptKeystore(key, "correct horse battery", FAST);
    const account = await decryptKeystore(ks, "correct horse battery");
    assert.equal(account.address, privateKeyToAccount(key).address);
  });

  it("is readable by an independent implementation (ethers)", async () => {
    const key = generatePrivateKey();
    const ks = await encryptKeystore(key, "correct horse battery", FAST);
    const wallet = await Wallet.fromEncryptedJson(JSON.stringify(ks), "correct horse battery");
    assert.equal(wallet.privateKey, key);
  });

  it("reads a keystore written by ethers", async () => {
    const wallet = Wallet.createRandom();
    const json = await encryptKeystoreJson(
      { address: wallet.address, privateKey: wallet.privateKey },
      "another password",
      { scrypt: { N: 1 << 12 } },
    );
    const account = await decryptKeystore(JSON.parse(json), "another password");
    assert.equal(account.address, wallet.address);
  });

  it("rejects a wrong password with a fix, for new files and for old ones", async () => {
    const ks = await encryptKeystore(generatePrivateKey(), "correct horse battery", FAST);
    const old = JSON.parse(await readFile(V1_FIXTURE, "utf8")) as unknown;
    for (const file of [ks, old]) {
      await assert.rejects(decryptKeystore(file, "wrong password!"), (err: unknown) => {
        assert.ok(err instanceof KeystoreError);
        assert.equal(err.code, "KEYSTORE_WRONG_PASSWORD");
        assert.match(err.message, /password is wrong/);
        assert.match(err.fix ?? "", /protolearn init|PROTOLEARN_PASSWORD/);
        return true;
      });
    }
  });

  it("writes the v3 layout with the scrypt cost asked for, and keeps a non-ASCII password working both ways", async () => {
    const key = generatePrivateKey();
    // "ﬁ" (U+FB01) changes under NFKC: the password is used as its raw UTF-8 bytes, like geth.
    const password = "paß ﬁle wörter";
    const ks = await encryptKeystore(key, password, FAST);
    assert.equal(ks.version, 3);
    assert.equal(ks.crypto.kdf, "scrypt");
    assert.deepEqual(
      { n: (ks.crypto.kdfparams as { n: number }).n, cipher: ks.crypto.cipher, address: ks.address },
      { n: 1 << 12, cipher: "aes-128-ctr", address: privateKeyToAccount(key).address.slice(2).toLowerCase() },
    );
    assert.equal((await decryptKeystore(ks, password)).address, privateKeyToAccount(key).address);
    // A file ethers wrote from the same password (it NFKC-normalizes) opens too.
    const wallet = new Wallet(key);
    const byEthers = await encryptKeystoreJson({ address: wallet.address, privateKey: key }, password, { scrypt: { N: 1 << 12 } });
    assert.equal((await decryptKeystore(JSON.parse(byEthers), password)).address, wallet.address);
    await assert.rejects(encryptKeystore(key, "long enough", { scryptN: 1000 }), /power of two/);
  });

  it("round-trips through a keystore file and refuses to overwrite it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "protolearn-keystore-"));
    try {
      const key = generatePrivateKey();
      const path = join(dir, "sub", "keystore.json");
      await writeKeystoreFile(path, await encryptKeystore(key, "correct horse battery", FAST));
      assert.equal((await stat(path)).mode & 0o777, 0o600);
      assert.equal((await loadKeystoreFile(path, "correct horse battery")).address, privateKeyToAccount(key).address);
      await assert.rejects(writeKeystoreFile(path, await encryptKeystore(key, "correct horse battery", FAST)), /already exists/);
      await assert.rejects(loadKeystoreFile(join(dir, "none.json"), "x"), /no keystore/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects a malformed keystore and a weak password", async () => {
    await assert.rejects(decryptKeystore({ version: 3 }, "whatever1"), /not a valid v3 keystore/);
    const old = JSON.parse(await readFile(V1_FIXTURE, "utf8")) as { crypto: { kdfparams: { n: number } } };
    old.crypto.kdfparams.n = 1 << 24; // an absurd cost is refused before any work
    await assert.rejects(decryptKeystore(old, V1_PASSWORD), /not a valid v3 keystore/);
    await assert.rejects(encryptKeystore(generatePrivateKey(), "short"), /shorter than 8/);
  });
});
