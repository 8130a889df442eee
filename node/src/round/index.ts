export {
  decodeRoundUpdate,
  nextModel,
  type DecodeRoundUpdateOptions,
  type NextModelParameters,
  type NextModelResult,
  type RoundUpdate,
} from "./next-model.js";
export { RoundError, type RoundErrorCode } from "./round-error.js";
export {
  maxUpdateBytes,
  onChainRunParamsSchema,
  parseRoundRunParams,
  ROUND_PROTOCOL_CONSTANTS,
  roundParamsFromChain,
  roundDecodeRules,
  roundParamsToChain,
  roundRunParamsSchema,
  type OnChainRunParams,
  type RoundRunParams,
} from "./round-params.js";
export { trainUpdate, type TrainUpdateParameters, type TrainUpdateResult } from "./train-update.js";
