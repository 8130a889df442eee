import type { IgnitionParameters } from "../deploy/deploy-system.js";
import { START_PROFILES, type StartModel } from "./start-options.js";

/**
 * The Ignition parameters of a devnet whose run #1 trains `model`: that model's run parameters
 * (`START_PROFILES[model].runParams`: its id, H, batch, learning rate and density, the phases
 * at their real-time defaults), under whatever `parameters` sets. A `runParams` object in
 * `parameters` overrides single fields, not the whole set.
 *
 * @example
 * modelRunParameters("byte-transformer-v1", { timelockDelay: 60n });
 * // { timelockDelay: 60n, runParams: { ...LM_RUN_PARAMS } }
 */
export function modelRunParameters(
  model: StartModel,
  parameters: IgnitionParameters = {},
): IgnitionParameters {
  const given = parameters.runParams;
  const overrides = typeof given === "object" && given !== null ? given : {};
  return { ...parameters, runParams: { ...START_PROFILES[model].runParams, ...overrides } };
}
