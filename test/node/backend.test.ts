import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, it } from "node:test";

import * as tf from "@tensorflow/tfjs-core";

import { ProtolearnError } from "../../node/src/errors.js";
import { selectBackend } from "../../node/src/train/backend.js";
import { explainSyncReads, WEBGPU_PACKAGES } from "../../node/src/train/webgpu.js";

function installed(specifier: string): boolean {
  try {
    createRequire(import.meta.url).resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

function processHandlerCount(): number {
  return process.listenerCount("uncaughtException") + process.listenerCount("unhandledRejection");
}

const nativeGpu = installed("@tensorflow/tfjs-node-gpu");
const nativeCpu = installed("@tensorflow/tfjs-node");

describe("backend selection", () => {
  it("auto picks the first backend that loads and says which ones it skipped", async (t) => {
    if (nativeGpu || nativeCpu)
      t.skip("a native TensorFlow binding is installed here, so auto does not fall back to wasm");
    const lines: string[] = [];
    const handlersBefore = processHandlerCount();
    const selection = await selectBackend({ log: (line) => lines.push(line) });
    // This is the process's first wasm initialisation: its loader installs rethrowing
    // uncaughtException/unhandledRejection handlers, which selectBackend removes again.
    assert.equal(processHandlerCount(), handlersBefore);
    assert.equal(selection.choice, "wasm");
    assert.equal(tf.getBackend(), "wasm");
    assert.deepEqual(
      selection.skipped.map((s) => [s.choice, s.reason]),
      [
        ["node-gpu", "not installed"],
        ["node", "not installed"],
      ],
    );
    assert.equal(selection.threads, 1, "the wasm backend is single-threaded in Node");
    assert.deepEqual(lines, [selection.description]);
    assert.match(
      selection.description,
      /^backend: wasm \((no )?SIMD; 1 thread; skipped node-gpu: not installed; skipped node: not installed\)$/,
    );
  });

  for (const [choice, pkg, present] of [
    ["node-gpu", "@tensorflow/tfjs-node-gpu", nativeGpu],
    ["node", "@tensorflow/tfjs-node", nativeCpu],
  ] as const) {
    it(`forcing ${choice} without ${pkg} fails with an error that says what to install`, async (t) => {
      if (present) t.skip(`${pkg} is installed here`);
      const active = tf.getBackend();
      await assert.rejects(selectBackend({ backend: choice }), (error: unknown) => {
        assert.ok(error instanceof ProtolearnError);
        assert.equal(error.code, "BACKEND_UNAVAILABLE");
        assert.equal(error.message, `the ${choice} backend is unavailable: not installed`);
        assert.ok(error.fix?.includes(pkg), error.fix);
        assert.ok(error.fix?.includes("--backend auto"), error.fix);
        return true;
      });
      assert.equal(tf.getBackend(), active, "a failed selection leaves the active backend alone");
    });
  }

  it("forcing cpu or wasm switches to it, and matMul agrees between them", async () => {
    const a = Float32Array.from({ length: 12 }, (_, i) => (i - 5) / 4);
    const b = Float32Array.from({ length: 12 }, (_, i) => (7 - i) / 8);
    const products: Float32Array[] = [];
    for (const backend of ["cpu", "wasm"] as const) {
      const selection = await selectBackend({ backend });
      assert.equal(selection.choice, backend);
      assert.equal(tf.getBackend(), backend);
      assert.deepEqual(selection.skipped, []);
      products.push(
        tf.tidy(
          () =>
            tf.matMul(tf.tensor2d(a, [3, 4]), tf.tensor2d(b, [4, 3])).dataSync() as Float32Array,
        ),
      );
    }
    // Small dyadic values: both backends compute these products exactly.
    assert.deepEqual(products[0], products[1]);
  });

  it("refuses an unknown backend name with the list of valid ones", async () => {
    await assert.rejects(
      selectBackend({ backend: "tpu" as "cpu" }),
      (error: unknown) =>
        error instanceof ProtolearnError &&
        error.code === "BACKEND_UNKNOWN" &&
        error.fix === "use one of auto, node-gpu, node, wasm, cpu, webgpu",
    );
  });
});

describe("the webgpu backend (optional packages, GPU adapter)", () => {
  const packages = installed(WEBGPU_PACKAGES.dawn) && installed(WEBGPU_PACKAGES.backend);

  it("is never tried by auto", async (t) => {
    if (nativeGpu || nativeCpu) t.skip("a native TensorFlow binding is installed here");
    const selection = await selectBackend({});
    assert.ok(!selection.skipped.some((s) => s.choice === "webgpu"));
    assert.equal(selection.choice, "wasm");
  });

  it("forcing it where it cannot run fails with what was wrong and how to fix it", async (t) => {
    await selectBackend({ backend: "wasm" });
    let selected: Awaited<ReturnType<typeof selectBackend>> | undefined;
    let failure: unknown;
    try {
      selected = await selectBackend({ backend: "webgpu" });
    } catch (error) {
      failure = error;
    }
    if (selected !== undefined) {
      // A machine with a working GPU adapter: then it must be active and compute right.
      assert.equal(selected.choice, "webgpu");
      assert.equal(tf.getBackend(), "webgpu");
      assert.ok(selected.adapter !== undefined && selected.description.includes(selected.adapter));
      await selectBackend({ backend: "wasm" });
      t.skip(`a GPU adapter is present here (${selected.adapter}); the refusal is not exercised`);
      return;
    }
    assert.ok(failure instanceof ProtolearnError, String(failure));
    assert.equal(failure.code, "BACKEND_UNAVAILABLE");
    if (!packages) {
      assert.match(
        failure.message,
        /^the webgpu backend is unavailable: the .* package .*is not installed$/,
      );
      assert.ok(failure.fix?.includes("npm install --no-save webgpu@"), failure.fix);
    } else {
      // Installed, but this machine has no GPU adapter (or one that computes wrongly).
      assert.match(
        failure.message,
        /^the webgpu backend is unavailable: (Dawn found no GPU adapter on this machine|the GPU adapter .* does not compute correctly)/,
      );
      assert.ok(failure.fix?.includes("Vulkan") || failure.fix?.includes("driver"), failure.fix);
    }
    assert.ok(failure.fix?.includes("--backend wasm"), failure.fix);
    assert.equal(tf.getBackend(), "wasm", "a failed selection leaves the active backend alone");
  });

  it("refuses an adapter that does not compute the exact test product (Dawn's null adapter)", async (t) => {
    if (!packages) t.skip("the optional webgpu packages are not installed here");
    else {
      await selectBackend({ backend: "wasm" });
      await assert.rejects(
        selectBackend({ backend: "webgpu", dawnOptions: ["backend=null"] }),
        (error: unknown) => {
          assert.ok(error instanceof ProtolearnError);
          assert.equal(error.code, "BACKEND_UNAVAILABLE");
          assert.match(error.message, /does not compute correctly: a 64×48·48×32 test product/);
          assert.ok(error.fix?.includes("--backend wasm"), error.fix);
          return true;
        },
      );
      assert.equal(tf.getBackend(), "wasm");
    }
  });

  it("turns the backend's failing synchronous read under Node into an error that says what to do", () => {
    const fake = {
      readSync(dataId: unknown): unknown {
        if (dataId === "on-cpu") return new Float32Array([1, 2]);
        throw new ReferenceError("OffscreenCanvas is not defined");
      },
    };
    explainSyncReads(fake as unknown as tf.KernelBackend);
    assert.deepEqual(fake.readSync("on-cpu"), new Float32Array([1, 2]));
    assert.throws(
      () => fake.readSync("on-gpu"),
      (error: unknown) =>
        error instanceof ProtolearnError &&
        error.code === "BACKEND_SYNC_READ" &&
        error.fix?.includes("--backend wasm") === true,
    );
  });
});
