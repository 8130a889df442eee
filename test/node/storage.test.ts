import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";

import { CID } from "multiformats/cid";
import { create as createDigest } from "multiformats/hashes/digest";
import type { MultihashDigest } from "multiformats/hashes/interface";

import { encodeUpdate } from "../../node/src/codec/index.js";
import {
  computeCid,
  HeliaBlobStore,
  KuboBlobStore,
  StorageError,
} from "../../node/src/storage/index.js";
import { readBounded } from "../../node/src/storage/read-bounded.js";
import { SeededRandom } from "./fixtures/prng.js";

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<StorageError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof StorageError, `expected a StorageError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.ok((error.fix ?? "").length > 0, "the error says how to fix it");
    return error;
  }
  assert.fail(`expected ${code}, but it resolved`);
}

/** A TCP port that nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address && typeof address === "object");
  return address.port;
}

describe("storage: CIDs equal Kubo's", () => {
  it('"hello world\\n" gets the CIDs `ipfs add` prints (v0 and v1)', async () => {
    const bytes = new TextEncoder().encode("hello world\n");
    assert.equal(await computeCid(bytes, 0), "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
    // CIDv1 of a one-chunk file with raw leaves is the raw block itself: codec raw, sha2-256.
    assert.equal(
      await computeCid(bytes, 1),
      "bafkreifjjcie6lypi6ny7amxnfftagclbuxndqonfipmb64f2km2devei4",
    );
    assert.equal(await computeCid(bytes, 1), CID.createV1(0x55, sha256(bytes)).toString());
  });

  it("45,900,000 zero bytes (176 chunks, two DAG levels) get go-ipfs' CID from the js-ipfs-unixfs interop fixture", async () => {
    // ipfs-unixfs-importer's "go-ipfs interop" test imports this input with CIDv0, dag-pb leaves,
    // 256 KiB chunks and a balanced 174-link DAG and expects the CID go-ipfs produced.
    const zeros = new Uint8Array(45_900_000);
    assert.equal(await computeCid(zeros, 0), "QmRdPboiJQoZ5cdazR9a8vGqdJvWg6M5bfdtUSKNHpuscj");
  });

  it("a 300,000-byte input gets the CID of a DAG built by hand from the UnixFS and dag-pb specs", async () => {
    const bytes = new SeededRandom(1).bytes(300_000);
    assert.equal(await computeCid(bytes, 0), handBuiltCid(bytes, 0));
    assert.equal(await computeCid(bytes, 1), handBuiltCid(bytes, 1));
    assert.match(handBuiltCid(bytes, 0), /^Qm/);
    assert.match(handBuiltCid(bytes, 1), /^bafybei/);
  });
});

describe("storage: Helia peers over loopback TCP", () => {
  const stores: HeliaBlobStore[] = [];
  const folders: string[] = [];
  let alice: HeliaBlobStore;
  let bob: HeliaBlobStore;

  async function startStore(dataDir?: string): Promise<HeliaBlobStore> {
    const folder = dataDir ?? (await mkdtemp(join(tmpdir(), "protolearn-storage-")));
    if (!dataDir) folders.push(folder);
    const store = new HeliaBlobStore({ dataDir: folder });
    stores.push(store);
    await store.start();
    return store;
  }

  before(async () => {
    alice = await startStore();
    bob = await startStore();
    await bob.dial(alice.multiaddrs()[0]!);
  });

  after(async () => {
    await Promise.all(stores.map((store) => store.stop()));
    await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
  });

  it("listens on loopback only and exposes dialable multiaddrs with its peer id", () => {
    const addresses = alice.multiaddrs();
    assert.ok(addresses.length > 0);
    for (const address of addresses) {
      assert.match(address, /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//);
      assert.ok(address.endsWith(alice.peerId()));
    }
    assert.ok(bob.connectedPeers().includes(alice.peerId()));
  });

  it("a peer gets an encoded update by CID over bitswap, byte for byte", async () => {
    const { bytes } = encodeUpdate(new SeededRandom(2).gaussian(50_000), {
      modelId: `0x${"22".repeat(32)}`,
      round: 1,
      shapes: [[50_000]],
      density: 0.05,
    });
    const cid = await alice.put(bytes);
    assert.equal(cid, await computeCid(bytes, 0));
    const fetched = await bob.get(cid, { timeoutMs: 60_000, maxBytes: 1 << 20 });
    assert.deepEqual(fetched, bytes);
  });

  it("a multi-chunk blob (600 KB, 3 leaves) crosses intact", async () => {
    const bytes = new SeededRandom(3).bytes(600_000);
    const cid = await bob.put(bytes);
    assert.deepEqual(await alice.get(cid, { timeoutMs: 60_000, maxBytes: 600_000 }), bytes);
  });

  it("refuses a remote blob over maxBytes from its declared size", async () => {
    const bytes = new SeededRandom(4).bytes(400_000);
    const cid = await alice.put(bytes);
    const error = await rejectsWith(
      bob.get(cid, { timeoutMs: 60_000, maxBytes: 399_999 }),
      "STORAGE_TOO_LARGE",
    );
    assert.match(error.message, /400000 bytes, over the limit of 399999/);
  });

  it("refuses a local blob over maxBytes too", async () => {
    const cid = await alice.put(new Uint8Array(1000).fill(7));
    await rejectsWith(alice.get(cid, { timeoutMs: 10_000, maxBytes: 999 }), "STORAGE_TOO_LARGE");
    assert.equal((await alice.get(cid, { timeoutMs: 10_000, maxBytes: 1000 })).length, 1000);
  });

  it("times out on a CID nobody has", async () => {
    const unknown = await computeCid(new TextEncoder().encode("nobody stored this"), 0);
    const error = await rejectsWith(
      bob.get(unknown, { timeoutMs: 1500, maxBytes: 1 << 20 }),
      "STORAGE_TIMEOUT",
    );
    assert.match(error.message, /within 1500 ms/);
  });

  it("stops when the caller aborts", async () => {
    const unknown = await computeCid(new TextEncoder().encode("nor this"), 1);
    await rejectsWith(
      bob.get(unknown, { timeoutMs: 60_000, maxBytes: 100, signal: AbortSignal.abort() }),
      "STORAGE_ABORTED",
    );
  });

  it("rejects bad CIDs, bad limits, bad multiaddrs and unreachable peers", async () => {
    await rejectsWith(bob.get("not-a-cid", { timeoutMs: 1000, maxBytes: 100 }), "STORAGE_BAD_CID");
    const cid = await computeCid(new Uint8Array([1]), 0);
    await rejectsWith(bob.get(cid, { timeoutMs: 0, maxBytes: 100 }), "STORAGE_BAD_OPTIONS");
    await rejectsWith(bob.get(cid, { timeoutMs: 1000, maxBytes: 1.5 }), "STORAGE_BAD_OPTIONS");
    await rejectsWith(bob.dial("/not/a/multiaddr"), "STORAGE_BAD_OPTIONS");
    await rejectsWith(bob.dial(`/ip4/127.0.0.1/tcp/${await closedPort()}`), "STORAGE_DIAL_FAILED");
    assert.throws(
      () => new HeliaBlobStore({ dataDir: "" }),
      (error: unknown) => error instanceof StorageError && error.code === "STORAGE_BAD_OPTIONS",
    );
    assert.throws(
      () => new HeliaBlobStore({ dataDir: "/tmp/x", listen: ["127.0.0.1:4001"] }),
      (error: unknown) => error instanceof StorageError && error.code === "STORAGE_BAD_OPTIONS",
    );
  });

  it("keeps its blocks and its peer id across a restart", async () => {
    const folder = await mkdtemp(join(tmpdir(), "protolearn-storage-"));
    folders.push(folder);
    const first = await startStore(folder);
    const peerId = first.peerId();
    const bytes = new SeededRandom(5).bytes(10_000);
    const cid = await first.put(bytes);
    await first.stop();
    await rejectsWith(first.put(bytes), "STORAGE_NOT_STARTED");
    const second = await startStore(folder);
    assert.equal(second.peerId(), peerId);
    assert.deepEqual(await second.get(cid, { timeoutMs: 10_000, maxBytes: 10_000 }), bytes);
  });
});

describe("storage: bounded reads", () => {
  it("stops pulling chunks as soon as the total passes maxBytes", async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled++;
        yield new Uint8Array(1000);
      }
    }
    await rejectsWith(readBounded(endless(), 2500, "Qm…"), "STORAGE_TOO_LARGE");
    assert.equal(pulled, 3);
  });

  it("concatenates chunks up to exactly maxBytes", async () => {
    async function* chunks(): AsyncGenerator<Uint8Array> {
      yield new Uint8Array([1, 2]);
      yield new Uint8Array([3]);
    }
    assert.deepEqual(await readBounded(chunks(), 3, "Qm…"), new Uint8Array([1, 2, 3]));
  });
});

describe("storage: Kubo store (no daemon here)", () => {
  it("validates its options", () => {
    for (const url of ["", "not a url", "ftp://127.0.0.1:5001", "/ip4/127.0.0.1/tcp/5001"]) {
      assert.throws(
        () => new KuboBlobStore({ url }),
        (error: unknown) => error instanceof StorageError && error.code === "STORAGE_BAD_OPTIONS",
        url,
      );
    }
    assert.throws(
      () => new KuboBlobStore({ url: "http://127.0.0.1:5001", cidVersion: 2 as 0 }),
      (error: unknown) => error instanceof StorageError && error.code === "STORAGE_BAD_OPTIONS",
    );
  });

  it("refuses to work before start", async () => {
    const store = new KuboBlobStore({ url: "http://127.0.0.1:5001" });
    await rejectsWith(store.put(new Uint8Array([1])), "STORAGE_NOT_STARTED");
    await rejectsWith(
      store.get("QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o", {
        timeoutMs: 1000,
        maxBytes: 100,
      }),
      "STORAGE_NOT_STARTED",
    );
  });

  it("says the daemon is unreachable when nothing listens at the URL", async () => {
    const store = new KuboBlobStore({
      url: `http://127.0.0.1:${await closedPort()}`,
      connectTimeoutMs: 5000,
    });
    const error = await rejectsWith(store.start(), "STORAGE_UNREACHABLE");
    assert.match(error.fix ?? "", /ipfs daemon/);
  });
});

// --- An independent construction of Kubo's DAG from the specs, for the multi-chunk check. ---

function sha256(bytes: Uint8Array): MultihashDigest<0x12> {
  return createDigest(0x12 as const, createHash("sha256").update(bytes).digest());
}

function varint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 128) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

/** A protobuf length-delimited field. */
function field(number: number, bytes: Uint8Array): number[] {
  return [...varint((number << 3) | 2), ...varint(bytes.length), ...bytes];
}

/** A protobuf varint field. */
function varintField(number: number, value: number): number[] {
  return [...varint(number << 3), ...varint(value)];
}

/** UnixFS `Data` message of a file: Type = File (2), Data, filesize, blocksizes (unpacked). */
function unixfsFile(
  data: Uint8Array | undefined,
  fileSize: number,
  blockSizes: number[],
): Uint8Array {
  return new Uint8Array([
    ...varintField(1, 2),
    ...(data ? field(2, data) : []),
    ...varintField(3, fileSize),
    ...blockSizes.flatMap((size) => varintField(4, size)),
  ]);
}

/** dag-pb `PBNode`: links (Hash, Name = "", Tsize) first, then Data. */
function dagPbNode(links: Array<{ cid: CID; size: number }>, data: Uint8Array): Uint8Array {
  return new Uint8Array([
    ...links.flatMap(({ cid, size }) =>
      field(
        2,
        new Uint8Array([
          ...field(1, cid.bytes),
          ...field(2, new Uint8Array(0)),
          ...varintField(3, size),
        ]),
      ),
    ),
    ...field(1, data),
  ]);
}

/** Kubo's DAG for inputs of 2..174 chunks: one root over the leaves. */
function handBuiltCid(bytes: Uint8Array, version: 0 | 1): string {
  const chunkSize = 262_144;
  const leaves: Array<{ cid: CID; size: number; length: number }> = [];
  for (let start = 0; start < bytes.length; start += chunkSize) {
    const chunk = bytes.subarray(start, start + chunkSize);
    if (version === 1) {
      leaves.push({
        cid: CID.createV1(0x55, sha256(chunk)),
        size: chunk.length,
        length: chunk.length,
      });
    } else {
      const block = dagPbNode([], unixfsFile(chunk, chunk.length, []));
      leaves.push({ cid: CID.createV0(sha256(block)), size: block.length, length: chunk.length });
    }
  }
  assert.ok(leaves.length >= 2 && leaves.length <= 174);
  const root = dagPbNode(
    leaves,
    unixfsFile(
      undefined,
      bytes.length,
      leaves.map((leaf) => leaf.length),
    ),
  );
  return (version === 0 ? CID.createV0(sha256(root)) : CID.createV1(0x70, sha256(root))).toString();
}
