// The client of the explorer's JSON API (docs/explorer.md, "JSON API"). Errors come back as
// {error, code, fix}; they are thrown as an Error whose message holds the error and the fix.

let meta = null;

async function request(path, init) {
  const res = await fetch(path, init);
  const body = await res.json();
  if (!res.ok) throw new Error(`${body.error}${body.fix ? " — " + body.fix : ""}`);
  return body;
}

/** GET /api/meta, kept for the links every page draws (block explorer, gateway). */
export async function loadMeta() {
  meta = await request("/api/meta");
  return meta;
}

/** The deployment's meta (loadMeta first). */
export function getMeta() {
  if (meta === null) throw new Error("the explorer's meta is not loaded yet");
  return meta;
}

export const getRuns = () => request("/api/runs");
export const getRun = (runId) => request(`/api/runs/${runId}`);
export const getRound = (runId, round) => request(`/api/runs/${runId}/rounds/${round}`);
export const getNode = (address) => request(`/api/nodes/${address}`);
export const getGovernance = () => request("/api/governance");

/** POST /api/verify: re-fetch a revealed update by its CID and re-check its hash. */
export function verifyReveal(runId, round, index) {
  return request("/api/verify", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ runId, round, index }),
  });
}
