import { readFile } from "node:fs/promises";
import { DeploymentError } from "../chain/deployment.js";
import type { IgnitionParameters } from "./deploy-system.js";

/** Ignition writes bigints as "123n" strings in parameter files; turn those back into bigints. */
function reviveBigints(value: unknown): unknown {
  if (typeof value === "string" && /^\d+n$/.test(value)) return BigInt(value.slice(0, -1));
  if (Array.isArray(value)) return value.map(reviveBigints);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, reviveBigints(v)]));
  }
  return value;
}

/**
 * Reads an Ignition parameters file: either `{ "Protolearn": { … } }` (Ignition's own format)
 * or the module's parameters directly. Bigints as "123n".
 *
 * @example
 * // params.json: { "Protolearn": { "timelockDelay": "600n" } }
 * const parameters = await readIgnitionParameters("params.json"); // { timelockDelay: 600n }
 */
export async function readIgnitionParameters(path: string): Promise<IgnitionParameters> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, "utf8"));
  } catch (err) {
    throw new DeploymentError(`cannot read the parameters file ${path} (${(err as Error).message.split("\n")[0]})`, {
      code: "DEPLOY_BAD_PARAMETERS",
      fix: 'give a JSON file such as { "Protolearn": { "timelockDelay": "600n" } }',
    });
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw new DeploymentError(`the parameters file ${path} is not a JSON object`, {
      code: "DEPLOY_BAD_PARAMETERS",
      fix: 'give a JSON file such as { "Protolearn": { "timelockDelay": "600n" } }',
    });
  }
  const inner = (json as Record<string, unknown>).Protolearn;
  const params = typeof inner === "object" && inner !== null ? inner : json;
  return reviveBigints(params) as IgnitionParameters;
}
