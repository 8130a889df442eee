import { strict as assert } from "node:assert";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { encryptKeystoreJson, Wallet } from "ethers";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { decryptKeystore, encryptKeystore, KeystoreError, loadKeystoreFile } from "../../node/src/keystore/keystore.js";

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

  it("rejects a wrong password with a fix", async () => {
    const ks = await encryptKeystore(generatePrivateKey(), "correct horse battery", FAST);
    await assert.rejects(decryptKeystore(ks, "wrong password!"), (err: unknown) => {
      assert.ok(err instanceof KeystoreError);
      assert.equal(err.code, "KEYSTORE_WRONG_PASSWORD");
      assert.ok(err.fix);
      return true;
    });
  });

  it("rejects a malformed keystore and a weak password", async () => {
    await assert.rejects(decryptKeystore({ version: 3 }, "whatever1"), /not a valid v3 keystore/);
    await assert.rejects(encryptKeystore(generatePrivateKey(), "short"), /shorter than 8/);
  });
});
