import { open, readFile, rename, mkdir } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Crash-safe file writes: write a temporary sibling, fsync it, rename it over the target, and
 * fsync the folder. After `kill -9` at any instant the target holds either the old or the new
 * bytes, never a torn mix. Every piece of node state that must survive a crash goes through here.
 */
export async function writeDurable(path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  const handle = await open(tmp, "w", 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), "r");
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

/** Reads a file, or returns undefined when it does not exist. */
export async function readIfExists(path: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
