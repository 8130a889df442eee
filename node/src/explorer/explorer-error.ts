import { ProtolearnError } from "../errors.js";

/** A request the explorer cannot answer (unknown run, round or page; no IPFS peer) or a server that cannot start. */
export class ExplorerError extends ProtolearnError {
  override name = "ExplorerError";
}
