import * as tf from "@tensorflow/tfjs-core";

import { ProtolearnError } from "../errors.js";

/**
 * The two optional packages the `webgpu` backend needs: TensorFlow.js's WebGPU backend and
 * Dawn's Node bindings, which provide `navigator.gpu` outside a browser. Both are
 * optionalDependencies and never imported statically.
 */
export const WEBGPU_PACKAGES = {
  backend: "@tensorflow/tfjs-backend-webgpu",
  dawn: "webgpu",
} as const;

/** The install command the fixes print (the versions of package.json's optionalDependencies). */
export const WEBGPU_INSTALL =
  "npm install --no-save webgpu@^0.6.2 @tensorflow/tfjs-backend-webgpu@^4.22.0";

/** Why the webgpu backend could not be made active, with the one thing to do about it. */
export interface WebGpuFailure {
  reason: string;
  fix: string;
}

/** The adapter the webgpu backend runs on. */
export interface WebGpuAdapter {
  /** e.g. `nvidia hopper (NVIDIA H200)`, from `GPUAdapter.info`. */
  description: string;
}

/** The parts of Dawn's `webgpu` package this module uses (its own types need @webgpu/types). */
interface DawnModule {
  create(options: string[]): DawnGpu;
  globals: Record<string, unknown>;
}
interface DawnGpu {
  requestAdapter(options?: { powerPreference?: "high-performance" | "low-power" }): Promise<{
    info?: { vendor?: string; architecture?: string; device?: string; description?: string };
  } | null>;
}

const NOT_INSTALLED_FIX = `install the optional packages: ${WEBGPU_INSTALL} (\`npm ci\` installs both unless optional dependencies are omitted), or pick --backend wasm`;
const NO_ADAPTER_FIX =
  "run on a machine with a GPU driver Dawn can use (Linux: Vulkan, i.e. the libvulkan1 loader and the GPU vendor's Vulkan driver — `vulkaninfo --summary` must list the GPU; macOS: Metal; Windows: D3D12), or pick --backend wasm";

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** True when `specifier` itself is missing (not a dependency of it, not its native binary). */
function isPackageMissing(error: unknown, specifier: string): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") &&
    errorText(error).includes(`'${specifier}'`)
  );
}

/** `navigator` as Node ≥ 21 provides it (a global without `gpu`), or a plain object before that. */
function navigatorObject(): Record<string, unknown> {
  const g = globalThis as unknown as { navigator?: Record<string, unknown> };
  if (g.navigator === undefined) {
    Object.defineProperty(globalThis, "navigator", {
      value: {},
      configurable: true,
      writable: true,
    });
  }
  return (globalThis as unknown as { navigator: Record<string, unknown> }).navigator;
}

let registeredAdapter: WebGpuAdapter | undefined;

/** The adapter {@link registerWebGpuBackend} registered the backend on, if it did. */
export function webGpuAdapter(): WebGpuAdapter | undefined {
  return registeredAdapter;
}

/**
 * Makes TensorFlow.js's `webgpu` backend available in Node: loads Dawn (`webgpu` package), asks it
 * for a high-performance adapter, installs `navigator.gpu` and the `GPU*` globals the backend
 * reads, then imports `@tensorflow/tfjs-backend-webgpu`, which registers the backend on import.
 * Returns the adapter, or why not and what to do (a missing package, a Dawn binary that does not
 * load on this platform, no GPU adapter). Idempotent once it has succeeded.
 *
 * `dawnOptions` go to Dawn's `create()`, e.g. `backend=vulkan` or `adapter=<name>` (the
 * `webgpu` package's README lists them).
 */
export async function registerWebGpuBackend(
  dawnOptions: readonly string[] = [],
): Promise<WebGpuAdapter | WebGpuFailure> {
  if (registeredAdapter !== undefined && tf.findBackendFactory("webgpu") !== null) {
    return registeredAdapter;
  }
  let dawn: DawnModule;
  const dawnSpecifier: string = WEBGPU_PACKAGES.dawn;
  try {
    // A string variable keeps tsc and bundlers from resolving the optional package statically.
    dawn = (await import(dawnSpecifier)) as DawnModule;
  } catch (error) {
    return isPackageMissing(error, dawnSpecifier)
      ? {
          reason: `the ${dawnSpecifier} package (Dawn, WebGPU for Node) is not installed`,
          fix: NOT_INSTALLED_FIX,
        }
      : {
          reason: `Dawn (the ${dawnSpecifier} package) failed to load on ${process.platform}-${process.arch}: ${errorText(error)}`,
          fix: `the package ships dawn.node for linux-x64, linux-arm64, darwin and win32 built against a recent C++ runtime (libstdc++); reinstall it (${WEBGPU_INSTALL}), update the system's C++ runtime, or pick --backend wasm`,
        };
  }
  let gpu: DawnGpu;
  let adapter: Awaited<ReturnType<DawnGpu["requestAdapter"]>>;
  try {
    gpu = dawn.create([...dawnOptions]);
    adapter = await gpu.requestAdapter({ powerPreference: "high-performance" });
  } catch (error) {
    return {
      reason: `Dawn could not look for a GPU adapter (options ${JSON.stringify(dawnOptions)}): ${errorText(error)}`,
      fix: NO_ADAPTER_FIX,
    };
  }
  if (adapter === null) {
    return {
      reason: `Dawn found no GPU adapter on this machine${process.platform === "linux" ? " (it looks for one through Vulkan; Dawn prints its own reason on stderr, e.g. that libvulkan.so.1 is missing)" : ""}`,
      fix: NO_ADAPTER_FIX,
    };
  }
  // The backend reads navigator.gpu when it is imported and uses the GPUBufferUsage /
  // GPUMapMode / GPUTextureUsage globals; Dawn provides both.
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) {
      Object.defineProperty(globalThis, name, { value, configurable: true, writable: true });
    }
  }
  Object.defineProperty(navigatorObject(), "gpu", {
    value: gpu,
    configurable: true,
    writable: true,
  });
  const backendSpecifier: string = WEBGPU_PACKAGES.backend;
  try {
    await import(backendSpecifier);
  } catch (error) {
    return isPackageMissing(error, backendSpecifier)
      ? { reason: `the ${backendSpecifier} package is not installed`, fix: NOT_INSTALLED_FIX }
      : {
          reason: `${backendSpecifier} failed to load: ${errorText(error)}`,
          fix: `reinstall it with the same version as @tensorflow/tfjs-core (${WEBGPU_INSTALL}), or pick --backend wasm`,
        };
  }
  if (tf.findBackendFactory("webgpu") === null) {
    return {
      reason: `${backendSpecifier} did not register a backend (it registers only where navigator.gpu exists when it is first imported)`,
      fix: "select the webgpu backend before anything else imports @tensorflow/tfjs-backend-webgpu, or pick --backend wasm",
    };
  }
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture]
    .filter((s) => s !== undefined && s !== "")
    .join(" ");
  const detail =
    info.description !== undefined && info.description !== "" ? info.description : info.device;
  registeredAdapter = {
    description: `${name === "" ? "unnamed adapter" : name}${detail !== undefined && detail !== "" ? ` (${detail})` : ""}`,
  };
  return registeredAdapter;
}

/**
 * Checks a freshly initialised backend on one product whose every value is exact in float32:
 * a `[64, 48]·[48, 32]` matMul of small dyadic numbers (operands above the webgpu backend's
 * 1,000-value threshold for handing small ops to the CPU, so the GPU computes it). A backend that
 * computes nothing (Dawn's `null` adapter) or computes wrongly is caught before any training
 * step; returns the reason, or `undefined` when the product is right.
 */
export async function checkMatMul(): Promise<string | undefined> {
  const m = 64;
  const k = 48;
  const n = 32;
  const a = Float32Array.from({ length: m * k }, (_, i) => ((i % 7) - 3) / 4);
  const b = Float32Array.from({ length: k * n }, (_, i) => ((i % 5) - 2) / 2);
  const expected = new Float32Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let t = 0; t < k; t++) s += (a[i * k + t] as number) * (b[t * n + j] as number);
      expected[i * n + j] = s;
    }
  }
  const product = tf.tidy(() => tf.matMul(tf.tensor2d(a, [m, k]), tf.tensor2d(b, [k, n])));
  let got: Float32Array;
  try {
    got = (await product.data()) as Float32Array;
  } finally {
    product.dispose();
  }
  let wrong = 0;
  let first = -1;
  for (let i = 0; i < expected.length; i++) {
    if (got[i] !== expected[i]) {
      wrong += 1;
      if (first < 0) first = i;
    }
  }
  if (got.length !== expected.length) {
    return `a ${m}×${k}·${k}×${n} test product came back with ${got.length} values instead of ${expected.length}`;
  }
  return wrong === 0
    ? undefined
    : `a ${m}×${k}·${k}×${n} test product (exact in float32) has ${wrong} of ${expected.length} values wrong, e.g. ${got[first]} instead of ${expected[first]}`;
}

/** What the webgpu backend's `readSync` needs and Node lacks. */
const SYNC_READ_MISSING = "OffscreenCanvas";

/**
 * The webgpu backend reads a GPU tensor synchronously (`dataSync`, `arraySync`) by drawing it
 * into an `OffscreenCanvas`, which Node does not have, so such a read fails with
 * `ReferenceError: OffscreenCanvas is not defined`. This wraps the active backend's `readSync`
 * so that the failure says what happened and what to do; reads of values the backend still holds
 * on the CPU keep working. Asynchronous reads (`await tensor.data()`) work on the GPU.
 */
export function explainSyncReads(backend: tf.KernelBackend): void {
  const target = backend as unknown as {
    readSync(dataId: unknown): unknown;
    __protolearnSync?: true;
  };
  if (target.__protolearnSync === true) return;
  const original = target.readSync.bind(backend);
  target.readSync = (dataId: unknown): unknown => {
    try {
      return original(dataId);
    } catch (error) {
      if (error instanceof ReferenceError && errorText(error).includes(SYNC_READ_MISSING)) {
        throw new ProtolearnError(
          "the webgpu backend cannot read a tensor synchronously under Node (dataSync needs OffscreenCanvas, which only browsers have)",
          {
            code: "BACKEND_SYNC_READ",
            fix: "this code path reads results synchronously; run it with --backend wasm (the inner loop, bench:train and the simulation's training read asynchronously and run on webgpu)",
            cause: error,
          },
        );
      }
      throw error;
    }
  };
  target.__protolearnSync = true;
}
