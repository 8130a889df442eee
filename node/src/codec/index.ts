export { CodecError, type CodecErrorCode } from "./codec-error.js";
export {
  DEFAULT_BITS,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_DENSITY,
  MAX_CHUNK_SIZE,
  MAX_PARAMETERS,
  SUPPORTED_BITS,
  UPDATE_FORMAT_VERSION,
  UPDATE_MAGIC,
  type QuantizationBits,
} from "./constants.js";
export { contentHash } from "./content-hash.js";
export {
  decodeUpdate,
  toDense,
  type DecodeExpectation,
  type DecodedUpdate,
} from "./decode-update.js";
export {
  encodeUpdate,
  type EncodeStats,
  type EncodeUpdateOptions,
  type EncodedUpdate,
} from "./encode-update.js";
export { modelIdFromName } from "./model-id.js";
export { quantizationLevels } from "./quantize.js";
export { topKCount } from "./top-k.js";
export {
  parameterCount,
  readUpdateBytes,
  readUpdateHeader,
  writeUpdateBytes,
  type TensorShape,
  type UpdateFields,
  type UpdateHeader,
} from "./update-format.js";
