import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { getAddress, isAddress, type Address } from "viem";
import { z } from "zod";
import { ProtolearnError } from "../errors.js";

/**
 * deployments/<network>.json: where the system lives on a chain. Written by the deploy
 * script, read (and validated) by every node, the CLI and the explorer.
 */

const address = z
  .string()
  .refine((value) => isAddress(value, { strict: false }), { message: "not a 20-byte hex address" })
  .transform((value) => getAddress(value));

export const deploymentSchema = z.object({
  network: z.string(),
  chainId: z.number().int().positive(),
  deploymentBlock: z.number().int().min(0),
  deployedAt: z.string(),
  contracts: z.object({
    LearnToken: address,
    RunTimelock: address,
    RunGovernor: address,
    StakeManager: address,
    TrainingRunImplementation: address,
    RunFactory: address,
  }),
  runs: z.array(z.object({ runId: z.number().int().positive(), address })),
});

export type Deployment = z.infer<typeof deploymentSchema>;

export class DeploymentError extends ProtolearnError {
  override name = "DeploymentError";
}

/** Reads and validates deployments/<network>.json. */
export async function loadDeployment(network: string, dir = "deployments"): Promise<Deployment> {
  const path = join(dir, `${network}.json`);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    throw new DeploymentError(`no deployment for network "${network}" (${path} is missing)`, {
      code: "DEPLOYMENT_MISSING",
      fix: `deploy first with \`protolearn deploy --network ${network}\`, or pick a deployed network with --network`,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DeploymentError(`${path} is not valid JSON`, {
      code: "DEPLOYMENT_INVALID",
      fix: `restore ${path} from git, or redeploy with \`protolearn deploy --network ${network}\``,
    });
  }
  const parsed = deploymentSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new DeploymentError(`${path} is malformed at ${issue?.path.join(".") ?? "?"}: ${issue?.message ?? "invalid"}`, {
      code: "DEPLOYMENT_INVALID",
      fix: `restore ${path} from git, or redeploy with \`protolearn deploy --network ${network}\``,
    });
  }
  return parsed.data;
}

/** The address of run `runId`, or an error naming the runs that exist. */
export function runAddress(deployment: Deployment, runId: number): Address {
  const run = deployment.runs.find((r) => r.runId === runId);
  if (run === undefined) {
    throw new DeploymentError(`run ${runId} is not in the ${deployment.network} deployment`, {
      code: "RUN_UNKNOWN",
      fix: `use one of the runs that exist there: ${deployment.runs.map((r) => r.runId).join(", ") || "none"}`,
    });
  }
  return run.address;
}
