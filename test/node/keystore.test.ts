import { strict as assert } from "node:assert";
import { describe, it } from "node:test";
import { encryptKeystoreJson, Wallet } from "ethers";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { decryptKeystore, encryptKeystore, KeystoreError } from "../../node/src/keystore/keystore.js";

const FAST = { scryptN: 1 << 12 };

describe("keystore", () => {
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
