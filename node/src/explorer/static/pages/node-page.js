// "/nodes/<address>": live stake and unbonding, per run the role, rewards, contributions and
// votes, every slash with its evidence and appeal, the full stake history.
import { getMeta, getNode } from "../lib/api-client.js";
import { badge, card, h, render, setTitle, table } from "../lib/dom.js";
import { learn, loss, ppm, short, slashReason, slashStatusTone, utc } from "../lib/format.js";
import { contributionStatus, slashCell, statusBadge } from "../lib/contribution-status.js";
import { blockLink, cidLink, contractLink, explorerUrl, hash, txLink } from "../lib/links.js";

/** Per stake event kind: [amount, detail]. */
const STAKE_EVENT_TEXT = {
  staked: (e) => [`+${learn(e.amount)}`, `bonded ${learn(e.bonded)}`],
  "unstake-requested": (e) => [
    learn(e.amount),
    `request #${e.requestId}, releases ${utc(e.releaseAt)}`,
  ],
  withdrawn: (e) => [learn(e.amount), `${e.entries} matured request(s)`],
  locked: (e) => [
    learn(e.amount),
    ["by run ", contractLink(e.run), `, now ${learn(e.lockedByRun)}`],
  ],
  unlocked: (e) => [
    learn(e.amount),
    ["by run ", contractLink(e.run), `, now ${learn(e.lockedByRun)}`],
  ],
  "lock-shrunk": (e) => [learn(e.amount), ["slash #", String(e.slashId), " took it from the lock of run ", contractLink(e.run)]],
  "lock-restored": (e) => [
    learn(e.amount),
    ["slash #", String(e.slashId), " reversed: back in the lock of run ", contractLink(e.run)],
  ],
  slashed: (e) => [
    `−${learn(e.amount)}`,
    `slash #${e.slashId} (${slashReason(e.reason)}), held in escrow`,
  ],
  "slash-reversed": (e) => [
    `+${learn(e.amount)}`,
    `slash #${e.slashId} reversed by governance (appeal granted)`,
  ],
  "slash-resolved": (e) => [
    learn(e.amount),
    `slash #${e.slashId} left escrow: ${e.burned ? "burned" : "sent to the treasury"}`,
  ],
};

function runSection(run) {
  const contributions = run.contributions.map((c) =>
    h(
      "tr",
      { class: "contribution" },
      h("td", {}, h("a", { href: `/runs/${run.runId}/rounds/${c.round}` }, `Round ${c.round}`)),
      h("td", { class: "num" }, c.reveal ? c.reveal.index : "—"),
      h("td", {}, c.reveal ? cidLink(c.reveal.cid) : "not revealed"),
      h("td", { class: "num" }, ppm(c.medianScore)),
      h("td", {}, statusBadge(contributionStatus(c))),
      h("td", { class: "num" }, c.reward === null ? "—" : learn(c.reward)),
      h("td", { class: "slash-cell" }, slashCell(c.slashes)),
    ),
  );
  const votes = run.votes.map((v) =>
    h(
      "tr",
      {},
      h("td", {}, h("a", { href: `/runs/${run.runId}/rounds/${v.round}` }, `Round ${v.round}`)),
      h("td", { class: "num" }, `${v.weight} seat(s)${v.assigned.length ? ` · updates ${v.assigned.join(", ")}` : ""}`),
      h("td", {}, v.modelHash === null ? (v.commitment === null ? "no vote" : "not revealed") : hash(v.modelHash)),
      h("td", { class: "num" }, v.evalLoss === null ? "—" : loss(v.evalLoss)),
      h(
        "td",
        {},
        v.agreed === null ? "—" : badge(v.agreed ? "agreed" : "disagreed", v.agreed ? "ok" : "bad"),
      ),
      h("td", { class: "num" }, v.reward === null ? "—" : learn(v.reward)),
    ),
  );
  const claims = run.claims.map((c) =>
    h("tr", {}, h("td", { class: "num" }, learn(c.amount)), h("td", {}, txLink(c.at))),
  );
  return h(
    "section",
    { class: "run-section", dataset: { run: run.runId } },
    h(
      "h2",
      {},
      h("a", { href: `/runs/${run.runId}` }, `Run ${run.runId}`),
      " ",
      badge(run.role, run.role === "none" ? "muted" : ""),
    ),
    h(
      "div",
      { class: "cards" },
      card("Rewards earned", learn(run.rewardsEarned), { id: `earned-${run.runId}` }),
      card("Accrued, unclaimed", learn(run.rewardsAccrued)),
      card("Claimed", learn(run.claimed)),
      card("Lock", run.lock === null ? "—" : learn(run.lock)),
      card("Eligible from", run.eligibleFrom === null ? "—" : `round ${run.eligibleFrom}`, { id: `eligible-${run.runId}` }),
    ),
    contributions.length > 0
      ? [
          h("h3", {}, "Contributions"),
          table(
            [
              "Round",
              { label: "#", class: "num" },
              "CID",
              { label: "Median", class: "num" },
              "Status",
              { label: "Reward", class: "num" },
              "Slash",
            ],
            contributions,
          ),
        ]
      : null,
    votes.length > 0
      ? [
          h("h3", {}, "Validator votes"),
          table(
            [
              "Round",
              { label: "Weight", class: "num" },
              "Model hash",
              { label: "Held-out loss", class: "num" },
              "Consensus",
              { label: "Reward", class: "num" },
            ],
            votes,
          ),
        ]
      : null,
    claims.length > 0
      ? [h("h3", {}, "Claims"), table([{ label: "Amount", class: "num" }, "Tx"], claims)]
      : null,
  );
}

function slashRow(sl) {
  return h(
    "tr",
    { class: "slash-row", dataset: { slash: sl.slashId, status: sl.status } },
    h("td", { class: "num" }, `#${sl.slashId}`),
    h(
      "td",
      {},
      h(
        "a",
        { href: `/runs/${sl.runId}/rounds/${sl.round}` },
        `run ${sl.runId} · round ${sl.round}`,
      ),
    ),
    h("td", {}, badge(slashReason(sl.reason), "bad")),
    h("td", { class: "num" }, learn(sl.amount)),
    h("td", {}, hash(sl.evidenceHash)),
    h("td", {}, badge(sl.status, slashStatusTone(sl.status))),
    h(
      "td",
      { class: "appeal" },
      sl.appeals.length === 0
        ? "—"
        : sl.appeals.map((id) =>
            h("div", {}, h("a", { href: `/governance#proposal-${id}` }, `proposal ${short(id)}`)),
          ),
      sl.reversed ? h("div", { class: "note" }, "reversed ", txLink(sl.reversed.at)) : null,
      sl.resolved
        ? h(
            "div",
            { class: "note" },
            sl.resolved.burned ? "burned " : "sent to treasury ",
            txLink(sl.resolved.at),
          )
        : null,
    ),
    h("td", {}, txLink(sl.at)),
  );
}

function historyRow(e) {
  const [amount, detail] = (STAKE_EVENT_TEXT[e.kind] || (() => ["", ""]))(e);
  return h(
    "tr",
    {},
    h("td", {}, e.kind),
    h("td", { class: "num" }, amount),
    h("td", {}, detail),
    h("td", {}, blockLink(e.at.block)),
    h("td", {}, txLink(e.at)),
  );
}

export async function nodePage(address) {
  setTitle(`Node ${short(address)}`);
  const n = await getNode(address);
  const st = n.stake;
  const entries = st.entries.map((e) =>
    h(
      "tr",
      {},
      h("td", { class: "num" }, `#${e.id}`),
      h("td", { class: "num" }, learn(e.amount)),
      h("td", {}, utc(e.releaseAt)),
    ),
  );
  const slashes = n.slashes.map(slashRow);
  const history = [...n.history].reverse().map(historyRow);
  const onExplorer = explorerUrl("address", n.address);
  render(
    h("div", { class: "crumbs" }, h("a", { href: "/" }, "Runs"), " / ", "Node"),
    h("h1", { class: "mono" }, n.address),
    onExplorer
      ? h(
          "p",
          { class: "subtitle" },
          h(
            "a",
            { href: onExplorer, rel: "noreferrer", target: "_blank" },
            `View on ${getMeta().blockExplorer.name} ↗`,
          ),
        )
      : null,
    h(
      "div",
      { class: "cards", id: "stake" },
      card("Bonded stake", learn(st.bonded), { id: "bonded" }),
      card("Locked by runs", learn(st.locked)),
      card("Free", learn(st.free)),
      card("Unbonding", learn(st.unbonding), { id: "unbonding" }),
      card("Withdrawable now", learn(st.withdrawable)),
      card("Wallet balance", learn(st.balance)),
    ),
    entries.length > 0
      ? [
          h("h3", {}, "Unbonding requests"),
          table(
            [{ label: "Request", class: "num" }, { label: "Amount", class: "num" }, "Releases at"],
            entries,
            { id: "unbonding-entries" },
          ),
        ]
      : null,
    n.runs.map(runSection),
    h("h2", {}, "Slashes and appeals"),
    slashes.length > 0
      ? table(
          [
            { label: "Slash", class: "num" },
            "Where",
            "Reason",
            { label: "Amount", class: "num" },
            "Evidence",
            "Status",
            "Appeal",
            "Tx",
          ],
          slashes,
          { id: "slashes" },
        )
      : h("p", { class: "muted" }, "Never slashed."),
    h("h2", {}, "Stake history"),
    history.length > 0
      ? table(["Event", { label: "Amount", class: "num" }, "Detail", "Block", "Tx"], history, {
          id: "stake-history",
        })
      : h("p", { class: "muted" }, "No stake events."),
  );
}
