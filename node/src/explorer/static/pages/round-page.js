// "/runs/<id>/rounds/<r>": M_r (attested by the round's committee), seed, randomness, deadlines, the opening and closing
// transactions, the committee, the contribution table and the committee members' votes (seats,
// assigned updates, commit and reveal).
import { getRound } from "../lib/api-client.js";
import { badge, h, kv, render, setTitle, table } from "../lib/dom.js";
import { heldOut, heldOutLabel, learn, ppm, utc } from "../lib/format.js";
import { slashCell } from "../lib/contribution-status.js";
import { addressLink, blockLink, full, hash, txLink } from "../lib/links.js";
import { contributionTable } from "./contribution-table.js";

function outcomeOf(r) {
  if (r.agreed)
    return [
      badge("agreed", "ok"),
      ` · ${r.agreed.acceptedUpdates} of ${r.reveals} updates accepted · ${heldOutLabel(r.evalMetric).toLowerCase()} ${heldOut(r.agreed.evalLoss, r.evalMetric)} · emission ${learn(r.agreed.emission)}${r.agreed.emissionFailed ? " (mint failed)" : ""}`,
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

function validatorRow(v, metric) {
  return h(
    "tr",
    { class: "validator" },
    h("td", {}, addressLink(v.validator)),
    h("td", { class: "num seats" }, v.seats.length === 0 ? "—" : v.seats.join(", ")),
    h("td", { class: "assigned" }, v.assigned.length === 0 ? "—" : v.assigned.join(", ")),
    h("td", { class: "vote" }, v.commitment === null ? "no vote" : v.revealed ? badge("revealed", "ok") : badge("not revealed", "bad")),
    h("td", {}, v.modelHash === null ? "—" : hash(v.modelHash)),
    h("td", { class: "num" }, v.evalLoss === null ? "—" : heldOut(v.evalLoss, metric)),
    h(
      "td",
      {},
      v.agreed === null ? "—" : badge(v.agreed ? "agreed" : "disagreed", v.agreed ? "ok" : "bad"),
    ),
    h("td", { class: "num" }, v.reward === null ? "—" : learn(v.reward)),
    h("td", { class: "slash-cell" }, slashCell(v.slashes)),
    h("td", {}, v.at === null ? "—" : txLink(v.at)),
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
        [`Model M_${round} (trained from; the committee attests it)`, r.agreed ? full(r.agreed.modelHash) : r.status === "failed" ? "not attested (the round failed)" : "not attested yet"],
        ["Last agreed model when it opened", full(r.openedModelHash)],
        ["Seed", full(r.seed)],
        ["Randomness", r.randomness ? full(r.randomness) : "not fixed yet"],
        [
          "Committee",
          r.committee
            ? h("span", { id: "committee" }, r.committee.map((a, j) => [j > 0 ? " · " : "", `${j}: `, addressLink(a)]))
            : "not drawn yet",
        ],
        [
          "Deadlines",
          r.deadlines
            ? `commit ${utc(r.deadlines.commit)} · reveal ${utc(r.deadlines.reveal)} · vote commit ${utc(r.deadlines.score)} · vote reveal ${utc(r.deadlines.voteReveal)}`
            : "—",
        ],
        ["Settlement", r.settlement ? `${r.settlement.processed} of ${r.settlement.total} items` : "—"],
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
      "Scores are parts per million, one per scoring committee seat (k seats per update, drawn from the round's randomness); the median is over the seats whose holder revealed. Verify fetches the update by its CID through the explorer's IPFS peer and re-checks keccak256 of the bytes against the content hash on chain.",
    ),
    h("h2", {}, "Committee votes"),
    table(
      [
        "Validator",
        { label: "Seats", class: "num" },
        "Assigned updates",
        "Vote",
        "Model hash",
        { label: heldOutLabel(r.evalMetric), class: "num" },
        "Consensus",
        { label: "Reward", class: "num" },
        "Slash",
        "Tx",
      ],
      r.validators.map((v) => validatorRow(v, r.evalMetric)),
      { id: "validators" },
    ),
  );
}
