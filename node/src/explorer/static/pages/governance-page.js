// "/governance": every proposal with its decoded actions, state, tally against the quorum,
// voting window, transactions and votes.
import { getGovernance } from "../lib/api-client.js";
import { badge, h, kv, render, setTitle, table } from "../lib/dom.js";
import { learn, short, utc } from "../lib/format.js";
import { addressLink, blockLink, contractLink, txLink } from "../lib/links.js";

/** GovernorCountingSimple's support values. */
const SUPPORT = ["against", "for", "abstain"];
const STATE_TONE = {
  Executed: "ok",
  Succeeded: "ok",
  Queued: "warn",
  Active: "",
  Pending: "muted",
  Defeated: "bad",
  Canceled: "muted",
  Expired: "muted",
};

/** For / against / abstain as shares of one bar. */
function tallyBar(p) {
  const total = BigInt(p.forVotes) + BigInt(p.againstVotes) + BigInt(p.abstainVotes);
  const pct = (v) => (total === 0n ? 0 : Number((BigInt(v) * 10000n) / total) / 100);
  const bar = h("div", { class: "bar" });
  for (const [cls, v] of [
    ["for", p.forVotes],
    ["against", p.againstVotes],
    ["abstain", p.abstainVotes],
  ]) {
    const part = h("span", { class: cls });
    part.style.width = `${pct(v)}%`;
    bar.append(part);
  }
  return bar;
}

function voteRow(v) {
  return h(
    "tr",
    { class: "vote", dataset: { support: SUPPORT[v.support] } },
    h("td", {}, addressLink(v.voter)),
    h(
      "td",
      {},
      badge(
        SUPPORT[v.support] || String(v.support),
        v.support === 1 ? "ok" : v.support === 0 ? "bad" : "muted",
      ),
    ),
    h("td", { class: "num" }, learn(v.weight)),
    h("td", { class: "wrap" }, v.reason || "—"),
    h("td", {}, txLink(v.at)),
  );
}

function proposalSection(p) {
  const votes = p.votes.map(voteRow);
  return h(
    "section",
    {
      class: "panel proposal",
      id: `proposal-${p.id}`,
      dataset: { state: p.state, kind: p.kind },
    },
    h("h3", {}, badge(p.state, STATE_TONE[p.state]), " ", p.description),
    kv(
      [
        ["Proposal id", h("span", { class: "mono", title: p.id }, short(p.id))],
        ["Does", `${p.kind}: ${p.summary}`],
        ["Proposer", addressLink(p.proposer)],
        [
          "Votes",
          [
            `for ${learn(p.forVotes)} · against ${learn(p.againstVotes)} · abstain ${learn(p.abstainVotes)} · quorum ${learn(p.quorum)}`,
            tallyBar(p),
          ],
        ],
        ["Voting", ["blocks ", blockLink(p.voteStart), " – ", blockLink(p.voteEnd)]],
        ["Created", txLink(p.created)],
        [
          "Queued",
          p.queued ? [txLink(p.queued.at), ` · executable from ${utc(p.queued.eta)}`] : "—",
        ],
        ["Executed", p.executed ? txLink(p.executed) : "—"],
        p.canceled ? ["Canceled", txLink(p.canceled)] : null,
      ].filter(Boolean),
    ),
    votes.length > 0
      ? table(["Voter", "Vote", { label: "Weight", class: "num" }, "Reason", "Tx"], votes)
      : h("p", { class: "note" }, "No votes yet."),
  );
}

export async function governancePage() {
  setTitle("Governance");
  const g = await getGovernance();
  const proposals = [...g.proposals].reverse().map(proposalSection);
  render(
    h("h1", {}, "Governance"),
    h(
      "p",
      { class: "subtitle" },
      "Governor ",
      contractLink(g.governor),
      " · timelock ",
      contractLink(g.timelock),
      ` · ${g.proposals.length} proposal(s)`,
    ),
    proposals.length > 0 ? proposals : h("p", { class: "muted" }, "No proposals yet."),
  );
  if (location.hash)
    document.getElementById(decodeURIComponent(location.hash.slice(1)))?.scrollIntoView();
}
