export {
  DEFAULT_COSINE_THRESHOLD,
  DEFAULT_FETCH_CONCURRENCY,
  DEFAULT_JACCARD_THRESHOLD,
  DEFAULT_NORM_CAP,
  DESCENT_Z_MIN,
  HARM_MARGIN,
  SCORE_GAIN_FLOOR,
  SCORE_SCALE_PPM,
} from "./constants.js";
export {
  cosineSimilarity,
  duplicateOf,
  duplicateOfPublic,
  topKJaccard,
  topKOfDense,
  type DuplicateOptions,
  type PublicWork,
  type SparseUpdate,
} from "./duplicate-of.js";
export { DEFAULT_UPDATE_INDEX_ENTRIES, UpdateIndex, type IndexedUpdate } from "./update-index.js";
export {
  fetchCommittedBlob,
  FetchFailure,
  fetchUpdate,
  type FetchCommittedBlobParameters,
  type FetchCommittedBlobResult,
  type FetchFailureCode,
  type FetchFailureReason,
  type FetchUpdateParameters,
  type FetchUpdateResult,
} from "./fetch-update.js";
export {
  descentZ,
  relativeGain,
  scoreFromMeasurements,
  scoreUpdate,
  type LossPair,
  type ScoreGains,
  type ScoreMeasurements,
  type ScoreVerdict,
  type ScoreUpdateParameters,
  type UpdateScore,
} from "./score-update.js";
export { ValidateError, type ValidateErrorCode } from "./validate-error.js";
export {
  validateRound,
  type AcceptedUpdate,
  type RevealedUpdate,
  type RoundValidation,
  type UpdateVerdict,
  type ValidateRoundParameters,
  type ValidationCaps,
  type VerdictReason,
} from "./validate-round.js";
export {
  randomShard,
  validationBatches,
  validationSeed,
  type ValidationBatch,
  type ValidationBatchesParameters,
} from "./validation-batches.js";
