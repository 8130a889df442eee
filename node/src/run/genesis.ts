import type { Hex } from "viem";
import { modelHash, serializeModel } from "../model/hash.js";
import type { Model } from "../model/model.js";
import { initParams } from "../model/params.js";
import { computeCid } from "../storage/cid.js";
import { DEFAULT_CID_VERSION } from "../storage/constants.js";

/**
 * A run's round-1 model: the model's seeded initialisation. The seed is derived from the
 * model id alone, so anyone recomputes the genesis parameters locally and checks them against
 * the initial model hash the run recorded on-chain — no download, nothing to trust. Its CID
 * (of the canonical serialization, Kubo-compatible) is computed offline too, so the deployer
 * needs no IPFS node; any node may `put` the same bytes later and get the same CID.
 */
export function genesisSeed(modelId: string): string {
  return `protolearn:genesis:${modelId}`;
}

export interface GenesisModel {
  params: Float32Array;
  hash: Hex;
  bytes: Uint8Array;
  cid: string;
}

export async function genesisModel(model: Model): Promise<GenesisModel> {
  const params = initParams(model.spec, genesisSeed(model.spec.id));
  const bytes = serializeModel(model.spec, params);
  return { params, hash: modelHash(model.spec, params), bytes, cid: await computeCid(bytes, DEFAULT_CID_VERSION) };
}
