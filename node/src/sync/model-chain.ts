import type { Address, Hex } from "viem";
import { ProtolearnError } from "../errors.js";
import type { Model } from "../model/model.js";
import { nextModel, type RoundRunParams, type RoundUpdate } from "../round/index.js";

/**
 * The model chain of rounds v2 with lagged attestation (docs/validation.md, "Committees and
 * blind votes"; P8 of protocol-v2): the one statement of which model each round uses and what the
 * chain's model events mean. Every reader of models — model sync (trainers, validators), the
 * audit's replay, the explorer's replayed accuracy, the `npm start` report — goes through
 * {@link ModelSync} (node/src/sync/model-sync.ts), which applies exactly these steps:
 *
 *   M_1     = the genesis model (the run's initialModelHash)
 *   M_{r+1} = nextModel(M_r, the updates of round r with UpdateScored.accepted)   if round r succeeded (ModelAgreed(r))
 *           = M_r                                                                 if round r failed (RoundFailed(r))
 *
 * Round r's trainers train from M_r. Round r's committee attests M_r, which every node computes
 * from public data (round r − 1's accepted set is on chain before round r opens), so a
 * committee member scores only the updates assigned to its seats and runs no accept test on
 * the others. `ModelAgreed(runId, r, modelHash, evalLoss, …)` means "round r's committee agreed
 * that hash(M_r) = modelHash" and evalLoss is M_r's held-out loss (1e9-scaled).
 * `RoundOpened(r).modelHash` is only the last agreed hash (M_{r'} of the last round r' < r that
 * succeeded), not the model round r trains from.
 *
 * A node checks hash(M_r) against ModelAgreed(r) once round r settles and only then builds
 * M_{r+1} from it: a mismatch stops it ({@link ModelDivergedError}), because it would train on a
 * model nobody else holds.
 */

export class ModelDivergedError extends ProtolearnError {
  override name = "ModelDivergedError";
}

/** A model of the chain: M_round, with the outer momentum that goes with it. */
export interface ChainModel {
  round: number;
  hash: Hex;
  params: Float32Array;
  momentum: Float32Array | undefined;
}

/** How a settled round ended, as far as the model chain cares. */
export type SettledRound =
  | { kind: "agreed"; modelHash: Hex; accepted: readonly Address[] }
  | { kind: "failed" };

/**
 * Checks M_r against round r's outcome: an agreed round must have attested hash(M_r). A failed
 * round attests nothing. Throws {@link ModelDivergedError} on a mismatch.
 */
export function verifyAttested(held: ChainModel, outcome: SettledRound): void {
  if (outcome.kind !== "agreed") return;
  if (outcome.modelHash.toLowerCase() !== held.hash.toLowerCase()) {
    throw new ModelDivergedError(
      `this node computed M_${held.round} = ${held.hash} but round ${held.round}'s committee agreed on ${outcome.modelHash}`,
      {
        code: "MODEL_DIVERGED",
        fix: "stop training on this node; check that it runs the same protolearn version as the validators, then resync from a fresh data folder",
      },
    );
  }
}

/** Whether building M_{r+1} needs round r's accepted updates (fetched by the caller). */
export function needsUpdates(outcome: SettledRound): boolean {
  return outcome.kind === "agreed" && outcome.accepted.length > 0;
}

/** Inputs of {@link advanceModel}. */
export interface AdvanceModelParameters {
  model: Model;
  /** M_r, already checked with {@link verifyAttested}. */
  held: ChainModel;
  outcome: SettledRound;
  /** Round r's accepted updates (content hashes checked), when {@link needsUpdates}; else empty. */
  updates: readonly RoundUpdate[];
  /** Round r's parameters. */
  params: RoundRunParams;
}

/**
 * M_{r+1} from M_r and round r's outcome (the rule in the file comment). `changed` says whether
 * the parameters moved (the caller keeps M_r as the previous model for P6 when they did).
 */
export function advanceModel(input: AdvanceModelParameters): { next: ChainModel; changed: boolean } {
  const { model, held, outcome, updates, params } = input;
  const r = held.round;
  if (!needsUpdates(outcome)) return { next: { ...held, round: r + 1 }, changed: false };
  const next = nextModel({ model, globalParams: held.params, momentum: held.momentum, updates, params, round: r });
  return {
    next: { round: r + 1, hash: next.modelHash, params: next.params, momentum: next.momentum },
    changed: next.modelHash.toLowerCase() !== held.hash.toLowerCase(),
  };
}
