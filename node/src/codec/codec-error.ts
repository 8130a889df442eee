import { ProtolearnError } from "../errors.js";

/**
 * Stable codes of every way an update can fail to encode or decode. A validator maps any
 * `CODEC_*` failure of a peer's update to "invalid" (score 0); `CODEC_BAD_OPTIONS` and
 * `CODEC_NON_FINITE_INPUT` are local mistakes of the encoding node.
 */
export type CodecErrorCode =
  | "CODEC_BAD_OPTIONS"
  | "CODEC_NON_FINITE_INPUT"
  | "CODEC_TOO_LARGE"
  | "CODEC_TRUNCATED"
  | "CODEC_BAD_MAGIC"
  | "CODEC_BAD_VERSION"
  | "CODEC_BAD_BITS"
  | "CODEC_BAD_RESERVED"
  | "CODEC_BAD_CHUNK_SIZE"
  | "CODEC_BAD_ROUND"
  | "CODEC_BAD_SHAPE"
  | "CODEC_MODEL_MISMATCH"
  | "CODEC_ROUND_MISMATCH"
  | "CODEC_SHAPE_MISMATCH"
  | "CODEC_PARAMS_MISMATCH"
  | "CODEC_K_TOO_LARGE"
  | "CODEC_BAD_SCALE"
  | "CODEC_BAD_VARINT"
  | "CODEC_INDEX_NOT_INCREASING"
  | "CODEC_INDEX_OUT_OF_RANGE"
  | "CODEC_BAD_VALUE"
  | "CODEC_BAD_PADDING"
  | "CODEC_TRAILING_BYTES";

/** A malformed update, or an encode request that cannot be satisfied. */
export class CodecError extends ProtolearnError {
  override name = "CodecError";
  declare readonly code: CodecErrorCode;

  constructor(message: string, options: { code: CodecErrorCode; fix?: string; cause?: unknown }) {
    super(message, options);
  }
}

/** The fix for every failure that comes from a peer's bytes rather than from this node. */
export const PEER_UPDATE_FIX =
  "the update is malformed or made for another model/round: score it invalid; if it is your own, re-encode it with encodeUpdate for the current model and round";
