// "/runs/<id>": live phase and deadlines, the loss / accuracy chart (bits per byte and next-byte
// accuracy for a language-model run), the round timeline, the parameters in force, governance
// changes, pauses and members.
import { getRun } from "../lib/api-client.js";
import { badge, card, h, render, setTitle, table } from "../lib/dom.js";
import { heldOut, heldOutLabel, learn, runStateTone, short, utc } from "../lib/format.js";
import { addressLink, blockLink, cidLink, contractLink, hash, txLink } from "../lib/links.js";
import { lossChart, updateLossChart } from "../lib/loss-chart.js";

const PARAM_LABELS = {
  modelId: "model id",
  innerSteps: "H (inner steps)",
  batchSize: "batch size",
  innerLrPpm: "inner lr (ppm)",
  outerLrPpm: "outer lr (ppm)",
  outerMomentumPpm: "outer momentum (ppm)",
  densityPpm: "density (ppm)",
  quantBits: "quantization bits",
  aggregation: "aggregation (0 trimmed mean, 1 median)",
  trimPpm: "trim (ppm)",
  clipMultiplePpm: "clip multiple (ppm)",
  checkpointEvery: "checkpoint every (rounds)",
  commitDuration: "commit phase (s)",
  revealDuration: "reveal phase (s)",
  scoreDuration: "score phase (s)",
  maxNodesPerRound: "max nodes per round",
  maxValidators: "max validators",
  minUpdates: "min accepted updates",
  acceptScorePpm: "accept score (ppm)",
  minTrainerStake: "min trainer stake",
  minValidatorStake: "min validator stake",
  invalidSlashBps: "invalid-update slash (bps)",
  noRevealSlashBps: "no-reveal slash (bps)",
  validatorSlashBps: "validator slash (bps)",
  validatorShareBps: "validator share (bps)",
  emissionPerRound: "emission per round",
};
const AMOUNT_PARAMS = new Set(["minTrainerStake", "minValidatorStake", "emissionPerRound"]);
const FAILURES = ["", "no validator votes", "no model majority", "too few accepted", "paused"];
/** While the explorer replays the model, the chart is refreshed this often. */
const REPLAY_POLL_MS = 1500;

function timelineRow(runId, r, metric) {
  const outcome = r.status === "failed" ? `failed: ${FAILURES[r.failure] || r.failure}` : r.status;
  return h(
    "tr",
    { dataset: { round: r.round } },
    h("td", {}, h("a", { href: `/runs/${runId}/rounds/${r.round}` }, `Round ${r.round}`)),
    h("td", {}, badge(outcome, r.status === "agreed" ? "ok" : r.status === "failed" ? "bad" : "")),
    h("td", { class: "num" }, r.commits),
    h("td", { class: "num" }, r.reveals),
    h("td", { class: "num" }, r.votes),
    h("td", { class: "num" }, r.accepted),
    h("td", { class: "num" }, r.slashes),
    h("td", { class: "num" }, heldOut(r.evalLoss, metric)),
    h("td", {}, hash(r.modelHash)),
    h("td", {}, r.opened ? blockLink(r.opened.block) : "—"),
    h("td", {}, txLink(r.closed)),
  );
}

function paramRows(params) {
  const names = [
    ...Object.keys(PARAM_LABELS).filter((k) => k in params),
    ...Object.keys(params).filter((k) => !(k in PARAM_LABELS)),
  ];
  return names.map((name) => {
    const value = params[name];
    return h(
      "tr",
      {},
      h("td", {}, PARAM_LABELS[name] || name),
      h(
        "td",
        { class: "mono" },
        AMOUNT_PARAMS.has(name) ? learn(value) : name === "modelId" ? hash(value) : String(value),
      ),
    );
  });
}

export async function runPage(runId) {
  setTitle(`Run ${runId}`);
  const run = await getRun(runId);
  const phase = run.phase;
  const timeline = [...run.timeline].reverse().map((r) => timelineRow(runId, r, run.evalMetric));
  const members = run.members.map((m) =>
    h(
      "tr",
      {},
      h("td", {}, addressLink(m.address)),
      h("td", {}, badge(m.role, m.role === "none" ? "muted" : "")),
      h("td", {}, txLink(m.events[0] && m.events[0].at)),
    ),
  );
  const changes = run.paramChanges.map((c) =>
    h(
      "tr",
      {},
      h("td", { class: "num" }, c.effectiveRound),
      h(
        "td",
        {},
        c.appliedRound === null ? badge("pending", "warn") : `applied in round ${c.appliedRound}`,
      ),
      h("td", {}, txLink(c.at)),
    ),
  );
  const switches = run.switches.map((w) =>
    h(
      "tr",
      {},
      h("td", {}, w.kind),
      h("td", { class: "num" }, w.round),
      h("td", {}, addressLink(w.account)),
      h("td", {}, txLink(w.at)),
    ),
  );
  render(
    h("div", { class: "crumbs" }, h("a", { href: "/" }, "Runs"), " / ", `Run ${runId}`),
    h("h1", {}, `Run ${runId}`, " ", badge(run.state, runStateTone(run.state))),
    h(
      "p",
      { class: "subtitle" },
      "Contract ",
      contractLink(run.address),
      " · model ",
      run.modelName || short(run.modelId),
      " · created ",
      txLink(run.created),
    ),
    h(
      "div",
      { class: "cards" },
      card("Current round", String(phase.round)),
      card("Phase", phase.phase, { id: "phase" }),
      card("Commits / reveals / votes", `${phase.commits} / ${phase.reveals} / ${phase.votes}`),
      card("Agreed rounds", String(run.agreedRounds)),
      card("Failed rounds", String(run.failedRounds)),
      card("Trainers / validators", `${run.trainers} / ${run.validators}`),
    ),
    h(
      "p",
      { class: "note" },
      `Deadlines of round ${phase.round}: commit ${utc(phase.commitDeadline)}, reveal ${utc(phase.revealDeadline)}, score ${utc(phase.scoreDeadline)} (chain time now ${utc(phase.chainTime)}). Current model `,
      hash(phase.modelHash),
      ".",
    ),
    h(
      "h2",
      {},
      run.evalMetric === "bits-per-byte"
        ? "Held-out bits per byte and next-byte accuracy per round"
        : "Held-out loss and accuracy per round",
    ),
    lossChart(run.chart),
    h("h2", {}, "Round timeline"),
    table(
      [
        "Round",
        "Outcome",
        { label: "Commits", class: "num" },
        { label: "Reveals", class: "num" },
        { label: "Votes", class: "num" },
        { label: "Accepted", class: "num" },
        { label: "Slashes", class: "num" },
        { label: heldOutLabel(run.evalMetric), class: "num" },
        "Agreed model",
        "Opened",
        "Closed in",
      ],
      timeline,
      { id: "timeline" },
    ),
    h("h2", {}, `Parameters in force (round ${phase.round})`),
    table(["Parameter", "Value"], paramRows(run.params), { id: "params" }),
    changes.length > 0
      ? [
          h("h3", {}, "Parameter changes by governance"),
          table([{ label: "From round", class: "num" }, "Status", "Set in"], changes),
        ]
      : null,
    switches.length > 0
      ? [
          h("h3", {}, "Pause / resume / halt"),
          table(["Action", { label: "Round", class: "num" }, "By", "Tx"], switches),
        ]
      : null,
    h("h2", {}, "Members"),
    members.length > 0
      ? table(["Node", "Role", "Joined in"], members, { id: "members" })
      : h("p", { class: "muted" }, "Nobody has joined this run yet."),
    h(
      "p",
      { class: "note" },
      "Initial model ",
      hash(run.initialModelHash),
      " at ",
      cidLink(run.initialModelCid),
      run.guardian ? [" · guardian ", addressLink(run.guardian)] : null,
    ),
  );
  if (run.chart.accuracy.status === "replaying")
    setTimeout(() => refreshChart(runId), REPLAY_POLL_MS);
}

/** While the replay runs, re-reads the run and puts the new accuracy points into the chart. */
async function refreshChart(runId) {
  const current = document.getElementById("loss-chart");
  if (!current || location.pathname.replace(/\/+$/, "") !== `/runs/${runId}`) return;
  try {
    const run = await getRun(runId);
    updateLossChart(current, run.chart);
    if (run.chart.accuracy.status === "replaying")
      setTimeout(() => refreshChart(runId), REPLAY_POLL_MS);
  } catch {
    setTimeout(() => refreshChart(runId), 2 * REPLAY_POLL_MS);
  }
}
