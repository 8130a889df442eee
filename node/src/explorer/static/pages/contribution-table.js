// The round page's contribution table: one row per commit (reveal index, node, CID and content
// hash, samples, every validator's score, the stake-weighted median, status, reward, slashes,
// transaction, Verify), with filters by status and by node. Laid out to fit 1280 px without
// scrolling: hashes and CIDs are shortened (full value in the title), the CID and the content
// hash share a cell, slashes and verify results wrap.
import { verifyReveal } from "../lib/api-client.js";
import { h, table } from "../lib/dom.js";
import { group, learn, ppm, short } from "../lib/format.js";
import { contributionStatus, slashCell, statusBadge } from "../lib/contribution-status.js";
import { addressLink, cidLink, hash, txLink } from "../lib/links.js";

const STATUSES = ["all", "accepted", "rejected", "slashed", "unrevealed", "pending"];

/** One short line per verify outcome; the full detail is the element's title. */
function verifyText(v) {
  switch (v.status) {
    case "ok":
      return `✓ hash matches the chain (${group(String(v.bytes))} bytes${v.checked === "hash+decode" ? ", decodes" : ""})`;
    case "hash-mismatch":
      return `✗ hash mismatch: the bytes at this CID hash to ${short(v.actualHash)}, the chain holds ${short(v.contentHash)}`;
    case "unreachable":
      return "✗ unreachable: no IPFS peer delivered this CID in time";
    case "oversize":
      return "✗ oversize: the blob is larger than the run allows";
    default:
      return `✗ ${v.status}: the bytes match the hash but are not a valid update`;
  }
}

function verifyCell(runId, round, c) {
  if (c.reveal === null) return "—";
  const result = h("span", { class: "verify-result", "aria-live": "polite" });
  const button = h(
    "button",
    {
      class: "verify",
      type: "button",
      title:
        "Fetch the update by its CID through the explorer's IPFS peer and re-check keccak256 against the chain",
    },
    "Verify",
  );
  button.addEventListener("click", async () => {
    button.disabled = true;
    result.className = "verify-result";
    delete result.dataset.status;
    result.textContent = "fetching…";
    try {
      const v = await verifyReveal(runId, round, c.reveal.index);
      result.dataset.status = v.status;
      result.className = `verify-result ${v.status === "ok" ? "ok" : "bad"}`;
      result.title = v.detail;
      result.textContent = verifyText(v);
    } catch (err) {
      result.dataset.status = "error";
      result.className = "verify-result bad";
      result.textContent = `✗ ${err.message}`;
    } finally {
      button.disabled = false;
    }
  });
  return [button, result];
}

/** The CID (linked to the gateway) over the content hash; the commitment when unrevealed. */
function updateCell(c) {
  if (c.reveal === null)
    return [
      h("div", { class: "muted" }, "not revealed"),
      h("div", { class: "note" }, "commitment ", hash(c.commitment)),
    ];
  return [
    h("div", {}, cidLink(c.reveal.cid)),
    h("div", { class: "note" }, "hash ", hash(c.reveal.contentHash)),
  ];
}

function contributionRow(runId, round, c) {
  const status = contributionStatus(c);
  return h(
    "tr",
    {
      class: "contribution",
      dataset: {
        node: c.node,
        status,
        slashed: c.slashes.length > 0 ? "yes" : "no",
        index: c.reveal ? c.reveal.index : "",
      },
    },
    h("td", { class: "num" }, c.reveal ? c.reveal.index : "—"),
    h("td", {}, addressLink(c.node)),
    h("td", { class: "update" }, updateCell(c)),
    h("td", { class: "num" }, c.reveal ? group(c.reveal.samples) : "—"),
    h(
      "td",
      { class: "num scores" },
      c.scores.length === 0
        ? "—"
        : c.scores.map((sc, i) =>
            h(
              "div",
              { title: `${sc.validator} (weight ${learn(sc.weight)})` },
              `${ppm(sc.scorePpm)}${c.scores.length > 1 ? ` · v${i + 1}` : ""}`,
            ),
          ),
    ),
    h("td", { class: "num median" }, ppm(c.medianScore)),
    h("td", { class: "status" }, statusBadge(status)),
    h("td", { class: "num reward" }, c.reward === null ? "—" : learn(c.reward, false)),
    h("td", { class: "slash-cell" }, slashCell(c.slashes)),
    h("td", {}, c.reveal ? txLink(c.reveal.at) : txLink(c.committedAt)),
    h("td", { class: "verify-cell" }, verifyCell(runId, round, c)),
  );
}

/** The filters and the table (#contributions) of a round's contributions. */
export function contributionTable(runId, round, contributions) {
  const rows = contributions.map((c) => contributionRow(runId, round, c));
  const statusFilter = h(
    "select",
    { id: "filter-status" },
    STATUSES.map((v) => h("option", { value: v }, v)),
  );
  const nodeFilter = h("input", {
    id: "filter-node",
    type: "search",
    placeholder: "filter by node address",
    autocomplete: "off",
  });
  const counter = h("span", { class: "muted", id: "filter-count" });
  const applyFilters = () => {
    const want = statusFilter.value;
    const text = nodeFilter.value.trim().toLowerCase();
    let shown = 0;
    for (const row of rows) {
      const okStatus =
        want === "all" ||
        (want === "slashed" ? row.dataset.slashed === "yes" : row.dataset.status === want);
      const okNode = text === "" || row.dataset.node.toLowerCase().includes(text);
      row.hidden = !(okStatus && okNode);
      if (!row.hidden) shown++;
    }
    counter.textContent = `showing ${shown} of ${rows.length}`;
  };
  statusFilter.addEventListener("change", applyFilters);
  nodeFilter.addEventListener("input", applyFilters);
  applyFilters();
  return [
    h(
      "div",
      { class: "filters" },
      h("label", { for: "filter-status" }, "Status"),
      statusFilter,
      h("label", { for: "filter-node" }, "Node"),
      nodeFilter,
      counter,
    ),
    table(
      [
        { label: "#", class: "num", title: "reveal index" },
        "Node",
        { label: "CID / content hash", class: "update" },
        { label: "Samples", class: "num" },
        { label: "Scores (ppm)", class: "num" },
        { label: "Median", class: "num" },
        "Status",
        { label: "Reward (LEARN)", class: "num" },
        "Slash",
        "Tx",
        "Verify",
      ],
      rows,
      { id: "contributions", class: "contributions" },
    ),
  ];
}
