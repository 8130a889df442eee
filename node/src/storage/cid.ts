import { importBytes, type ImporterOptions } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { CID } from "multiformats/cid";

import { KUBO_CHUNK_SIZE, KUBO_MAX_CHILDREN_PER_NODE, type CidVersion } from "./constants.js";
import { StorageError } from "./storage-error.js";

/** The importer settings that decide the CID. */
export type KuboImporterOptions = Pick<
  ImporterOptions,
  "cidVersion" | "rawLeaves" | "reduceSingleLeafToSelf" | "leafType" | "chunker" | "layout"
>;

/**
 * UnixFS import settings equal to Kubo's `ipfs add` (and `ipfs add --cid-version=1`): fixed
 * 256 KiB chunks, a balanced DAG of at most 174 links per node, dag-pb leaves for CIDv0 and raw
 * leaves for CIDv1, a single-chunk file stored in one block.
 */
export function kuboImporterOptions(cidVersion: CidVersion): KuboImporterOptions {
  return {
    cidVersion,
    rawLeaves: cidVersion === 1,
    reduceSingleLeafToSelf: true,
    leafType: "file",
    chunker: fixedSize({ chunkSize: KUBO_CHUNK_SIZE }),
    layout: balanced({ maxChildrenPerNode: KUBO_MAX_CHILDREN_PER_NODE }),
  };
}

/**
 * The CID Kubo would give `bytes`, computed locally without storing anything. Used to check a
 * daemon's answer and by tools that only need the address.
 */
export async function computeCid(bytes: Uint8Array, cidVersion: CidVersion): Promise<string> {
  const discard = { put: async (cid: CID): Promise<CID> => cid };
  const { cid } = await importBytes(bytes, discard, kuboImporterOptions(cidVersion));
  return cid.toString();
}

/** Parses a CID string from a peer or the chain; StorageError STORAGE_BAD_CID if it is not one. */
export function parseCid(value: string): CID {
  try {
    return CID.parse(value);
  } catch (error) {
    throw new StorageError(`${JSON.stringify(value.slice(0, 100))} is not a CID`, {
      code: "STORAGE_BAD_CID",
      fix: "pass the CID exactly as revealed on chain (Qm… for CIDv0, b… for CIDv1)",
      cause: error,
    });
  }
}
