import { createRequire } from "node:module";
import path from "node:path";

import * as tf from "@tensorflow/tfjs-core";
import "@tensorflow/tfjs-backend-cpu";
import { getThreadsCount, setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import { z } from "zod";

import { ProtolearnError } from "../errors.js";
import { registerMatMulGradient } from "./matmul-gradient.js";
import { installHeapKernels } from "./heap-kernels.js";
import { installPlainMatMul } from "./plain-matmul.js";
import {
  checkMatMul,
  explainSyncReads,
  registerWebGpuBackend,
  WEBGPU_INSTALL,
  webGpuAdapter,
} from "./webgpu.js";

/** The backends `auto` tries, fastest first. */
export const BACKEND_CHOICES = ["node-gpu", "node", "wasm", "cpu"] as const;
/**
 * Backends used only when asked for by name: `webgpu` (TensorFlow.js's WebGPU backend on Dawn,
 * the `webgpu` npm package). Not in `auto`: it needs two optional packages and a GPU adapter, and
 * its float rounding differs from the CPU backends' (docs/training.md).
 */
export const OPT_IN_BACKENDS = ["webgpu"] as const;
/** One of {@link BACKEND_CHOICES} or {@link OPT_IN_BACKENDS}. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number] | (typeof OPT_IN_BACKENDS)[number];

/** Validates a `--backend` flag of the benchmarks and the simulation at the edge. */
export const backendOptionSchema = z.enum(["auto", ...BACKEND_CHOICES, ...OPT_IN_BACKENDS]);
/**
 * Validates the node's `backend` config value: every backend but `webgpu`. A validator scores
 * updates with synchronous reads, which the webgpu backend cannot do under Node
 * (docs/training.md), so the daemon refuses it at start rather than at its first score.
 */
export const nodeBackendOptionSchema = z.enum(["auto", ...BACKEND_CHOICES]);
/** `auto` (try each backend in order) or one forced backend. */
export type BackendOption = z.infer<typeof backendOptionSchema>;

/** What {@link selectBackend} settled on. */
export interface BackendSelection {
  /** The backend in use. */
  choice: BackendChoice;
  /** The name TensorFlow.js registered it under (`tensorflow`, `wasm`, `cpu`). */
  tfName: string;
  /** Worker threads the backend computes with (1 for wasm in Node, see docs/training.md). */
  threads: number;
  /** Whether the wasm backend runs its SIMD build; `undefined` for other backends. */
  simd: boolean | undefined;
  /**
   * Whether the backend's matMul kernels were wrapped to avoid transposed and batched operands
   * (`installPlainMatMul`; wasm only, see docs/training.md).
   */
  plainMatMul: boolean;
  /**
   * Whether the backend's Slice, SplitV, Sum and Transpose kernels were replaced by ones that skip its
   * slow paths (`installHeapKernels`; wasm only, see docs/training.md).
   */
  heapKernels: boolean;
  /** `webgpu`: the GPU adapter, e.g. `nvidia hopper (NVIDIA H200)`. */
  adapter?: string;
  /** Backends tried before this one and why each did not load (auto mode only). */
  skipped: { choice: BackendChoice; reason: string }[];
  /** One line for the start-up log, e.g. `backend: wasm (SIMD, 1 thread; skipped node-gpu: not installed, ...)`. */
  description: string;
}

/** Options of {@link selectBackend}. */
export interface SelectBackendOptions {
  /**
   * `auto` tries `node-gpu` → `node` → `wasm` → `cpu` and keeps the first that loads; any other
   * value forces that backend and fails if it cannot load.
   * @default "auto"
   */
  backend?: BackendOption;
  /** Receives the one-line description of the chosen backend; pass `console.log` to print it. */
  log?: (line: string) => void;
  /**
   * `webgpu` only: options for Dawn's `create()`, e.g. `["backend=vulkan"]` or
   * `["adapter=<name>"]` (the `webgpu` package's README lists them). @default []
   */
  dawnOptions?: readonly string[];
}

/** The two native bindings are optionalDependencies: absent on many machines, so never imported statically. */
const NATIVE_PACKAGES: Record<"node-gpu" | "node", string> = {
  "node-gpu": "@tensorflow/tfjs-node-gpu",
  node: "@tensorflow/tfjs-node",
};

const FIXES: Record<BackendChoice, string> = {
  webgpu: `install the optional packages: ${WEBGPU_INSTALL}, and run on a machine with a GPU, or pick --backend wasm`,
  "node-gpu":
    "install the optional package @tensorflow/tfjs-node-gpu (needs CUDA and cuDNN that match its prebuilt binary), or pick --backend auto",
  node: "install the optional package @tensorflow/tfjs-node (it downloads a prebuilt libtensorflow for your platform), or pick --backend auto",
  wasm: "reinstall @tensorflow/tfjs-backend-wasm so that its dist/*.wasm files exist, or pick --backend cpu",
  cpu: "reinstall @tensorflow/tfjs-backend-cpu",
};

let wasmPathsSet = false;

/** Points the wasm backend at its binaries inside node_modules, as plain file paths that Node's loader reads. */
function configureWasmPaths(): void {
  if (wasmPathsSet) return;
  const require = createRequire(import.meta.url);
  const packageJson = require.resolve("@tensorflow/tfjs-backend-wasm/package.json");
  // A directory prefix: the backend appends the file name of the build it picks
  // (tfjs-backend-wasm.wasm, -simd.wasm or -threaded-simd.wasm).
  setWasmPaths(path.join(path.dirname(packageJson), "dist") + path.sep);
  wasmPathsSet = true;
}

/** True when the package itself is missing (not one of its dependencies or its native binary). */
function isPackageMissing(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    errorText(error).includes(`'${specifier}'`)
  );
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

interface ProcessListeners {
  uncaughtException: NodeJS.UncaughtExceptionListener[];
  unhandledRejection: NodeJS.UnhandledRejectionListener[];
}

function processListeners(): ProcessListeners {
  return {
    uncaughtException: process.listeners("uncaughtException"),
    unhandledRejection: process.listeners("unhandledRejection"),
  };
}

/**
 * The Emscripten loader of the wasm backend installs `uncaughtException`/`unhandledRejection`
 * handlers that rethrow, so that any later crash of the node prints the loader's 30 kB minified
 * source line instead of the real stack. Removing them restores Node's own (equally fatal)
 * handling with a readable report.
 */
function removeListenersAddedSince(before: ProcessListeners): void {
  for (const listener of process.listeners("uncaughtException")) {
    if (!before.uncaughtException.includes(listener))
      process.removeListener("uncaughtException", listener);
  }
  for (const listener of process.listeners("unhandledRejection")) {
    if (!before.unhandledRejection.includes(listener))
      process.removeListener("unhandledRejection", listener);
  }
}

/** Why a backend did not load, and (where it is more specific than {@link FIXES}) what to do. */
interface BackendFailure {
  reason: string;
  fix?: string;
}

/** Tries to make `choice` the active backend; returns why it failed, or `undefined` on success. */
async function tryBackend(
  choice: BackendChoice,
  options: SelectBackendOptions,
): Promise<BackendFailure | undefined> {
  let tfName: string;
  let adapter: string | undefined;
  if (choice === "webgpu") {
    const registered = await registerWebGpuBackend(options.dawnOptions ?? []);
    if ("reason" in registered) return registered;
    adapter = registered.description;
    tfName = "webgpu";
  } else if (choice === "node-gpu" || choice === "node") {
    const specifier = NATIVE_PACKAGES[choice];
    try {
      // A string variable keeps bundlers and tsc from resolving the optional package statically.
      await import(specifier);
    } catch (error) {
      return {
        reason: isPackageMissing(error, specifier)
          ? "not installed"
          : `failed to load: ${errorText(error)}`,
      };
    }
    tfName = "tensorflow";
  } else {
    if (choice === "wasm") configureWasmPaths();
    tfName = choice;
  }
  const listenersBefore = processListeners();
  const previous = tf.getBackend();
  try {
    const ok = await tf.setBackend(tfName);
    if (!ok) return { reason: `TensorFlow.js could not initialise the ${tfName} backend` };
    await tf.ready();
  } catch (error) {
    return { reason: `failed to initialise: ${errorText(error)}` };
  } finally {
    removeListenersAddedSince(listenersBefore);
  }
  if (choice === "webgpu") {
    explainSyncReads(tf.backend());
    const wrong = await checkMatMul();
    if (wrong !== undefined) {
      // Leave the previous backend active, as every other failed selection does.
      if (previous !== undefined && previous !== tfName) await tf.setBackend(previous);
      return {
        reason: `the GPU adapter "${adapter ?? "?"}" does not compute correctly: ${wrong}`,
        fix: "update the GPU driver or pick another adapter (Dawn option adapter=<name>), or pick --backend wasm",
      };
    }
  }
  return undefined;
}

async function describe(
  choice: BackendChoice,
  skipped: BackendSelection["skipped"],
): Promise<BackendSelection> {
  let threads = 1;
  let simd: boolean | undefined;
  if (choice === "wasm") {
    threads = getThreadsCount();
    simd = Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT"));
  }
  const adapter = choice === "webgpu" ? webGpuAdapter()?.description : undefined;
  const details = [
    ...(adapter === undefined ? [] : [`adapter: ${adapter}`]),
    ...(simd === undefined ? [] : [simd ? "SIMD" : "no SIMD"]),
    ...(choice === "wasm" || choice === "cpu"
      ? [`${threads} thread${threads === 1 ? "" : "s"}`]
      : []),
    ...skipped.map((s) => `skipped ${s.choice}: ${s.reason}`),
  ];
  const description = `backend: ${choice}${details.length > 0 ? ` (${details.join("; ")})` : ""}`;
  const tfName = tf.getBackend();
  // Every model's autodiff goes through these; set them up once the backend is active.
  registerMatMulGradient();
  const plainMatMul = installPlainMatMul(tfName);
  const heapKernels = installHeapKernels(tfName);
  return {
    choice,
    tfName,
    threads,
    simd,
    plainMatMul,
    heapKernels,
    skipped,
    description,
    ...(adapter === undefined ? {} : { adapter }),
  };
}

/**
 * Chooses the TensorFlow.js backend the node trains on and makes it the active one.
 *
 * In `auto` mode the first of `node-gpu` → `node` → `wasm` → `cpu` that loads wins; the two
 * native packages are optional and skipped when absent. `webgpu` is used only when named (it
 * needs the optional `@tensorflow/tfjs-backend-webgpu` and `webgpu` packages and a GPU adapter,
 * and must compute a test product exactly). A forced backend that cannot load throws a
 * {@link ProtolearnError} (`BACKEND_UNAVAILABLE`) whose fix says what was missing and what to do.
 *
 * @example
 * const backend = await selectBackend({ backend: "auto", log: console.log });
 * // backend: wasm (SIMD; 1 thread; skipped node-gpu: not installed; skipped node: not installed)
 */
export async function selectBackend(options: SelectBackendOptions = {}): Promise<BackendSelection> {
  const parsed = backendOptionSchema.safeParse(options.backend ?? "auto");
  if (!parsed.success) {
    throw new ProtolearnError(`unknown backend ${JSON.stringify(options.backend)}`, {
      code: "BACKEND_UNKNOWN",
      fix: `use one of auto, ${[...BACKEND_CHOICES, ...OPT_IN_BACKENDS].join(", ")}`,
    });
  }
  const requested = parsed.data;
  let selection: BackendSelection;
  if (requested !== "auto") {
    const failure = await tryBackend(requested, options);
    if (failure !== undefined) {
      throw new ProtolearnError(`the ${requested} backend is unavailable: ${failure.reason}`, {
        code: "BACKEND_UNAVAILABLE",
        fix: failure.fix ?? FIXES[requested],
      });
    }
    selection = await describe(requested, []);
  } else {
    const skipped: BackendSelection["skipped"] = [];
    let chosen: BackendChoice | undefined;
    for (const choice of BACKEND_CHOICES) {
      const failure = await tryBackend(choice, options);
      if (failure === undefined) {
        chosen = choice;
        break;
      }
      skipped.push({ choice, reason: failure.reason });
    }
    if (chosen === undefined) {
      throw new ProtolearnError(
        `no TensorFlow.js backend could be loaded (${skipped.map((s) => `${s.choice}: ${s.reason}`).join("; ")})`,
        { code: "BACKEND_UNAVAILABLE", fix: FIXES.cpu },
      );
    }
    selection = await describe(chosen, skipped);
  }
  options.log?.(selection.description);
  return selection;
}
