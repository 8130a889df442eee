// "/runs/<id>/rounds/<r>": M_r → M_{r+1}, seed, deadlines, the opening and closing
// transactions, the contribution table and the validators' votes.
import { getRound } from "../lib/api-client.js";
import { badge, h, kv, render, setTitle, table } from "../lib/dom.js";
import { learn, loss, ppm, utc } from "../lib/format.js";
import { slashCell } from "../lib/contribution-status.js";
import { addressLink, blockLink, full, hash, txLink } from "../lib/links.js";
import { contributionTable } from "./contribution-table.js";

function outcomeOf(r) {
  if (r.agreed)
    return [
      badge("agreed", "ok"),
      ` · ${r.agreed.acceptedUpdates} of ${r.reveals} updates accepted · held-out loss ${loss(r.agreed.evalLoss)} · emission ${learn(r.agreed.emission)}${r.agreed.emissionFailed ? " (mint failed)" : ""}`,
    ];
  if (r.failed)
    return [
      badge(`failed: ${r.failed.reason}`, "bad"),
      " · the model stays as it was, no emission",
    ];
  return [
    badge("open"),
    ` · ${r.commits} commits, ${r.reveals} reveals, ${r.validators.length} votes so far`,
  ];
}

function validatorRow(v) {
  return h(
    "tr",
    { class: "validator" },
    h("td", {}, addressLink(v.validator)),
    h("td", { class: "num" }, learn(v.weight)),
    h("td", {}, hash(v.modelHash)),
    h("td", { class: "num" }, loss(v.evalLoss)),
    h(
      "td",
      {},
      v.agreed === null ? "—" : badge(v.agreed ? "agreed" : "disagreed", v.agreed ? "ok" : "bad"),
    ),
    h("td", { class: "num" }, v.reward === null ? "—" : learn(v.reward)),
    h("td", { class: "slash-cell" }, slashCell(v.slashes)),
    h("td", {}, txLink(v.at)),
  );
}

export async function roundPage(runId, round) {
  setTitle(`Run ${runId} · round ${round}`);
  const r = await getRound(runId, round);
  const closed = r.agreed ? r.agreed.at : r.failed ? r.failed.at : null;
  render(
    h(
      "div",
      { class: "crumbs" },
      h("a", { href: "/" }, "Runs"),
      " / ",
      h("a", { href: `/runs/${runId}` }, `Run ${runId}`),
      " / ",
      `Round ${round}`,
    ),
    h("h1", {}, `Round ${round}`),
    h("p", { class: "subtitle", id: "round-outcome" }, outcomeOf(r)),
    h(
      "div",
      { class: "pager" },
      r.previous
        ? h("a", { href: `/runs/${runId}/rounds/${r.previous}` }, `← round ${r.previous}`)
        : null,
      r.next ? h("a", { href: `/runs/${runId}/rounds/${r.next}` }, `round ${r.next} →`) : null,
    ),
    h(
      "div",
      { class: "panel" },
      kv([
        [`Model M_${round} (trained from)`, full(r.openedModelHash)],
        [`Model M_${round + 1} (agreed)`, r.agreed ? full(r.agreed.modelHash) : "—"],
        ["Seed", full(r.seed)],
        [
          "Deadlines",
          r.deadlines
            ? `commit ${utc(r.deadlines.commit)} · reveal ${utc(r.deadlines.reveal)} · score ${utc(r.deadlines.score)}`
            : "—",
        ],
        ["Opened", r.openedAt ? [blockLink(r.openedAt.block), " ", txLink(r.openedAt)] : "—"],
        ["Closed", closed ? [blockLink(closed.block), " ", txLink(closed)] : "not yet"],
        ["Accept score", `${ppm(r.acceptScorePpm)} ppm`],
      ]),
    ),
    h("h2", {}, "Contributions"),
    contributionTable(runId, round, r.contributions),
    h(
      "p",
      { class: "note" },
      "Scores are parts per million, one per validator in vote order; the median is stake-weighted. Verify fetches the update by its CID through the explorer's IPFS peer and re-checks keccak256 of the bytes against the content hash on chain.",
    ),
    h("h2", {}, "Validators"),
    table(
      [
        "Validator",
        { label: "Weight", class: "num" },
        "Model hash",
        { label: "Held-out loss", class: "num" },
        "Consensus",
        { label: "Reward", class: "num" },
        "Slash",
        "Tx",
      ],
      r.validators.map(validatorRow),
      { id: "validators" },
    ),
  );
}
