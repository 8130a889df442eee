import { byteCorpusFromDocuments, createByteWindowDataset, type ByteWindowDataset } from "../../../node/src/data/byte-corpus.js";
import { loadSotuAddresses } from "../../../node/src/data/sotu.js";
import type { TransformerConfig } from "../../../node/src/model/transformer.js";

/** A byte transformer small enough for several training steps in a test (seconds on wasm). */
export const TINY: TransformerConfig = { layers: 1, dModel: 32, heads: 2, context: 16, mlpRatio: 4 };

/** A tiny corpus: the first 20 State of the Union addresses cut to 400 characters, every 10th held out. */
export function tinyDataset(context: number): ByteWindowDataset {
  const documents = loadSotuAddresses()
    .slice(0, 20)
    .map((a) => ({ key: `${a.year} ${a.name}`, text: a.text.slice(0, 400) }));
  return createByteWindowDataset(byteCorpusFromDocuments("sotu-tiny", documents, 10), context);
}
