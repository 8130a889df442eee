import { readFile, writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { decryptKeystoreJson, encryptKeystoreJson, isError } from "ethers";
import { getAddress, isAddress, type Address, type Hex } from "viem";
import { privateKeyToAccount, type PrivateKeyAccount } from "viem/accounts";
import { z } from "zod";
import { ProtolearnError } from "../errors.js";

/**
 * Encrypted keystore in the Web3 Secret Storage v3 format (scrypt + aes-128-ctr + keccak256
 * MAC), the format geth, ethers and most wallets read, so an operator can import the key
 * elsewhere and nothing but the password unlocks it. The private key never appears on a
 * command line or in a config file.
 *
 * The cryptography is ethers' (`encryptKeystoreJson` / `decryptKeystoreJson`); this module only
 * checks the file's shape first (so a damaged file or an absurd scrypt cost gets a clear error
 * before any work), passes the password as its raw UTF-8 bytes (as geth and the keystores this
 * project wrote before do), and turns ethers' errors into ones that say what to do.
 */

/** scrypt cost; 2^17 is the geth "standard" setting (~0.4 s, 128 MiB). */
export const DEFAULT_SCRYPT_N = 1 << 17;

const hex = (bytes: number) => z.string().regex(new RegExp(`^(0x)?[0-9a-fA-F]{${bytes * 2}}$`));

const keystoreSchema = z.object({
  version: z.literal(3),
  id: z.string(),
  address: z.string().regex(/^(0x)?[0-9a-fA-F]{40}$/),
  crypto: z.object({
    cipher: z.literal("aes-128-ctr"),
    ciphertext: hex(32),
    cipherparams: z.object({ iv: hex(16) }),
    kdf: z.enum(["scrypt", "pbkdf2"]),
    kdfparams: z.union([
      z.object({
        dklen: z.literal(32),
        // Bounded so a hostile or damaged file cannot make the node allocate gigabytes.
        n: z.number().int().min(2).max(1 << 20),
        r: z.number().int().min(1).max(16),
        p: z.number().int().min(1).max(4),
        salt: z.string().regex(/^(0x)?[0-9a-fA-F]{2,128}$/),
      }),
      z.object({
        dklen: z.literal(32),
        c: z.number().int().min(1).max(10_000_000),
        prf: z.enum(["hmac-sha256", "hmac-sha512"]),
        salt: z.string().regex(/^(0x)?[0-9a-fA-F]{2,128}$/),
      }),
    ]),
    mac: hex(32),
  }),
});
export type KeystoreJson = z.infer<typeof keystoreSchema>;

export class KeystoreError extends ProtolearnError {
  override name = "KeystoreError";
}

const WRONG_PASSWORD_FIX = "enter the password you chose at `protolearn init` (or set PROTOLEARN_PASSWORD)";

/** The password as raw UTF-8 bytes: what geth and the earlier protolearn keystores derive from. */
function passwordBytes(password: string): Uint8Array {
  return new TextEncoder().encode(password);
}

/** Encrypts `privateKey` under `password`. `scryptN` (a power of two) trades unlock time for safety; tests use 2^12. */
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
  if (!Number.isSafeInteger(n) || n < 2 || n > 1 << 20 || (n & (n - 1)) !== 0) {
    throw new KeystoreError(`scrypt N = ${n} is not a power of two between 2 and 2^20`, {
      code: "KEYSTORE_BAD_PARAMS",
      fix: `use the default (${DEFAULT_SCRYPT_N}) or another power of two`,
    });
  }
  const address = privateKeyToAccount(privateKey).address;
  const text = await encryptKeystoreJson({ address, privateKey }, passwordBytes(password), { scrypt: { N: n } });
  // ethers spells the section "Crypto"; the v3 definition and geth use "crypto".
  const { Crypto, ...rest } = JSON.parse(text) as { Crypto: unknown } & Record<string, unknown>;
  return keystoreSchema.parse({ ...rest, crypto: Crypto });
}

/** Decrypts a keystore; a wrong password fails with KEYSTORE_WRONG_PASSWORD and changes nothing. */
export async function decryptKeystore(json: unknown, password: string): Promise<PrivateKeyAccount> {
  // Some writers (ethers v6, older geth) spell the section "Crypto".
  const normalized =
    typeof json === "object" && json !== null && !("crypto" in json) && "Crypto" in json
      ? (({ Crypto, ...rest }) => ({ ...rest, crypto: Crypto }))(json as { Crypto: unknown })
      : json;
  const parsed = keystoreSchema.safeParse(normalized);
  if (!parsed.success) {
    throw new KeystoreError(
      `the keystore is not a valid v3 keystore (${parsed.error.issues[0]?.path.join(".") ?? "?"}: ${parsed.error.issues[0]?.message ?? "invalid"})`,
      { code: "KEYSTORE_MALFORMED", fix: "restore the keystore file from your backup or run `protolearn init` to make a new one" },
    );
  }
  const text = JSON.stringify(normalized);
  // Raw UTF-8 first (geth, earlier protolearn); then ethers' own NFKC-normalized form, for a
  // file ethers wrote from a password that normalization changes.
  const candidates: (Uint8Array | string)[] = [passwordBytes(password)];
  if (password.normalize("NFKC") !== password) candidates.push(password);
  let decrypted: { address: string; privateKey: string } | undefined;
  for (const candidate of candidates) {
    try {
      decrypted = await decryptKeystoreJson(text, candidate);
      break;
    } catch (err) {
      if (isError(err, "INVALID_ARGUMENT") && err.argument === "password") continue;
      if (isError(err, "INVALID_ARGUMENT") && err.argument === "address") {
        throw new KeystoreError("the keystore's address does not match its key", {
          code: "KEYSTORE_MALFORMED",
          fix: "the file was edited or corrupted: restore it from your backup",
        });
      }
      throw new KeystoreError(`the keystore cannot be decrypted: ${err instanceof Error ? err.message : String(err)}`, {
        code: "KEYSTORE_MALFORMED",
        fix: "restore the keystore file from your backup or run `protolearn init` to make a new one",
      });
    }
  }
  if (decrypted === undefined) {
    throw new KeystoreError("the keystore password is wrong", { code: "KEYSTORE_WRONG_PASSWORD", fix: WRONG_PASSWORD_FIX });
  }
  return privateKeyToAccount(decrypted.privateKey as Hex);
}

/** The address a v3 keystore declares, without decrypting it; undefined when there is no keystore. */
export async function keystoreAddress(path: string): Promise<Address | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as { address?: unknown };
    const raw =
      typeof parsed.address === "string"
        ? parsed.address.startsWith("0x")
          ? parsed.address
          : `0x${parsed.address}`
        : "";
    return isAddress(raw, { strict: false }) ? getAddress(raw) : undefined;
  } catch {
    return undefined;
  }
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
