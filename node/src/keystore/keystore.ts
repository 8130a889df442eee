import { createCipheriv, createDecipheriv, randomBytes, randomUUID, scrypt } from "node:crypto";
import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { bytesToHex, concat, hexToBytes, keccak256, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { z } from "zod";
import { ProtolearnError } from "../errors.js";

/**
 * Encrypted keystore in the Web3 Secret Storage v3 format (scrypt + aes-128-ctr + keccak256
 * MAC), the format geth, ethers and most wallets read, so an operator can import the key
 * elsewhere and nothing but the password unlocks it. The private key never appears on a
 * command line or in a config file.
 */

/** scrypt cost; 2^17 is the geth "standard" setting (~0.3 s, 128 MiB). */
export const DEFAULT_SCRYPT_N = 1 << 17;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const DKLEN = 32;

const keystoreSchema = z.object({
  version: z.literal(3),
  id: z.string(),
  address: z.string().regex(/^(0x)?[0-9a-fA-F]{40}$/),
  crypto: z.object({
    cipher: z.literal("aes-128-ctr"),
    ciphertext: z.string().regex(/^[0-9a-fA-F]{64}$/),
    cipherparams: z.object({ iv: z.string().regex(/^[0-9a-fA-F]{32}$/) }),
    kdf: z.literal("scrypt"),
    kdfparams: z.object({
      dklen: z.literal(32),
      n: z.number().int().min(2).max(1 << 20),
      r: z.number().int().min(1).max(16),
      p: z.number().int().min(1).max(4),
      salt: z.string().regex(/^[0-9a-fA-F]{2,128}$/),
    }),
    mac: z.string().regex(/^[0-9a-fA-F]{64}$/),
  }),
});
export type KeystoreJson = z.infer<typeof keystoreSchema>;

export class KeystoreError extends ProtolearnError {
  override name = "KeystoreError";
}

function deriveKey(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    // maxmem must cover 128 * N * r bytes, plus slack.
    scrypt(password, salt, DKLEN, { N: n, r, p, maxmem: 256 * n * r + (1 << 20) }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function macOf(derived: Buffer, ciphertext: Buffer): Hex {
  return keccak256(concat([derived.subarray(16, 32), ciphertext]));
}

/** Encrypts `privateKey` under `password`. */
export async function encryptKeystore(
  privateKey: Hex,
  password: string,
  options: { scryptN?: number } = {},
): Promise<KeystoreJson> {
  if (password.length < 8) {
    throw new KeystoreError("the keystore password is shorter than 8 characters", {
      code: "KEYSTORE_WEAK_PASSWORD",
      fix: "choose a password of at least 8 characters",
    });
  }
  const n = options.scryptN ?? DEFAULT_SCRYPT_N;
  const salt = randomBytes(32);
  const iv = randomBytes(16);
  const derived = await deriveKey(password, salt, n, SCRYPT_R, SCRYPT_P);
  const cipher = createCipheriv("aes-128-ctr", derived.subarray(0, 16), iv);
  const ciphertext = Buffer.concat([cipher.update(hexToBytes(privateKey)), cipher.final()]);
  const address = privateKeyToAccount(privateKey).address;
  return {
    version: 3,
    id: randomUUID(),
    address: address.slice(2).toLowerCase(),
    crypto: {
      cipher: "aes-128-ctr",
      ciphertext: ciphertext.toString("hex"),
      cipherparams: { iv: iv.toString("hex") },
      kdf: "scrypt",
      kdfparams: { dklen: DKLEN, n, r: SCRYPT_R, p: SCRYPT_P, salt: salt.toString("hex") },
      mac: macOf(derived, ciphertext).slice(2),
    },
  };
}

/** Decrypts a keystore; a wrong password fails with KEYSTORE_WRONG_PASSWORD and changes nothing. */
export async function decryptKeystore(json: unknown, password: string): Promise<PrivateKeyAccount> {
  // Some writers (ethers v6, older geth) spell the section "Crypto".
  const normalized =
    typeof json === "object" && json !== null && !("crypto" in json) && "Crypto" in json
      ? { ...json, crypto: (json as { Crypto: unknown }).Crypto }
      : json;
  const parsed = keystoreSchema.safeParse(normalized);
  if (!parsed.success) {
    throw new KeystoreError(
      `the keystore is not a valid v3 keystore (${parsed.error.issues[0]?.path.join(".") ?? "?"}: ${parsed.error.issues[0]?.message ?? "invalid"})`,
      { code: "KEYSTORE_MALFORMED", fix: "restore the keystore file from your backup or run `protolearn init` to make a new one" },
    );
  }
  const { crypto } = parsed.data;
  const kp = crypto.kdfparams;
  const derived = await deriveKey(password, Buffer.from(kp.salt, "hex"), kp.n, kp.r, kp.p);
  const ciphertext = Buffer.from(crypto.ciphertext, "hex");
  if (macOf(derived, ciphertext).slice(2).toLowerCase() !== crypto.mac.toLowerCase()) {
    throw new KeystoreError("the keystore password is wrong", {
      code: "KEYSTORE_WRONG_PASSWORD",
      fix: "enter the password you chose at `protolearn init` (or set PROTOLEARN_PASSWORD)",
    });
  }
  const decipher = createDecipheriv("aes-128-ctr", derived.subarray(0, 16), Buffer.from(crypto.cipherparams.iv, "hex"));
  const key = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const account = privateKeyToAccount(bytesToHex(key));
  if (account.address.slice(2).toLowerCase() !== parsed.data.address.replace(/^0x/, "").toLowerCase()) {
    throw new KeystoreError("the keystore's address does not match its key", {
      code: "KEYSTORE_MALFORMED",
      fix: "the file was edited or corrupted: restore it from your backup",
    });
  }
  return account;
}

/** Writes a keystore file with owner-only permissions. */
export async function writeKeystoreFile(path: string, keystore: KeystoreJson): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, JSON.stringify(keystore, null, 2) + "\n", { mode: 0o600, flag: "wx" }).catch((err: unknown) => {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") {
      throw new KeystoreError(`a keystore already exists at ${path}`, {
        code: "KEYSTORE_EXISTS",
        fix: "keep using it, or move it away first if you really want a new key",
      });
    }
    throw err;
  });
}

/** Reads and decrypts a keystore file. */
export async function loadKeystoreFile(path: string, password: string): Promise<PrivateKeyAccount> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new KeystoreError(`no keystore at ${path}`, {
      code: "KEYSTORE_MISSING",
      fix: "run `protolearn init` to create one, or point `keystore` in the config at yours",
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new KeystoreError(`the keystore at ${path} is not JSON`, {
      code: "KEYSTORE_MALFORMED",
      fix: "restore the keystore file from your backup",
    });
  }
  return decryptKeystore(json, password);
}
