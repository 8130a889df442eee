/**
 * Bytes a data-parallel (DDP) node sends in one round of `innerSteps` optimizer steps when it
 * ships its dense float32 gradient once per step: `innerSteps × parameterCount × 4`.
 *
 * This is the smallest DDP accounting (docs/simulation.md, "Byte accounting"): a ring
 * all-reduce sends `2 (N − 1) / N` times as much per node (1.75× for N = 8), a parameter server
 * the same once up and once down. Using the smallest figure makes the compression ratio that
 * the simulation reports a lower bound.
 */
export function ddpBytesPerNodePerRound(parameterCount: number, innerSteps: number): number {
  return innerSteps * parameterCount * 4;
}

/** Bytes one node sends per round under a ring all-reduce of float32 gradients among `nodes` nodes. */
export function ringAllReduceBytesPerNodePerRound(
  parameterCount: number,
  innerSteps: number,
  nodes: number,
): number {
  return nodes <= 1 ? 0 : (innerSteps * parameterCount * 4 * 2 * (nodes - 1)) / nodes;
}
