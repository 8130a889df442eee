export { AggregationError, type AggregationErrorCode } from "./aggregation-error.js";
export {
  aggregateUpdates,
  type AggregateOptions,
  type AggregateResult,
  type AggregatedNode,
  type NodeUpdate,
  trimCount,
} from "./aggregate-updates.js";
export {
  AGGREGATION_METHODS,
  DEFAULT_AGGREGATION_METHOD,
  DEFAULT_CLIP_MULTIPLE,
  DEFAULT_TRIM_FRACTION,
  type AggregationMethod,
} from "./constants.js";
export { medianNorm, updateNorm } from "./update-norm.js";
