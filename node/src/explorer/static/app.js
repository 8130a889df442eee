// protolearn explorer: renders the pages from the explorer's JSON API. Plain browser JS, no
// framework, no external requests. Every value that comes from the chain or IPFS is put in the
// page as text (never as HTML), so a CID or a proposal description cannot inject markup.
"use strict";

const main = document.getElementById("main");
let META = null;

// ---------------------------------------------------------------- DOM helpers

/** h("a", { href: "/x", class: "c" }, "text", child) */
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) el.setAttribute(key, String(value));
  for (const child of children)
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

/** Replaces the page's content; nested arrays are flattened and empty entries dropped. */
function render(...children) {
  main.replaceChildren(
    ...children
      .flat(Infinity)
      .filter((c) => c !== null && c !== undefined && c !== false)
      .map((c) => (c instanceof Node ? c : document.createTextNode(String(c)))),
  );
}

function table(headers, rows, attrs) {
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      attrs || {},
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          headers.map((x) =>
            typeof x === "string" ? h("th", {}, x) : h("th", { class: x.class }, x.label),
          ),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

function card(label, value, attrs) {
  return h(
    "div",
    Object.assign({ class: "card" }, attrs || {}),
    h("div", { class: "label" }, label),
    h("div", { class: "value" }, value),
  );
}

function kv(pairs) {
  return h(
    "dl",
    { class: "kv" },
    pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

function badge(text, tone) {
  return h("span", { class: `badge ${tone || ""}` }, text);
}

// ---------------------------------------------------------------- formatting

function short(hex) {
  if (typeof hex !== "string") return "—";
  return hex.length > 14 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex;
}

function group(digits) {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** wei (decimal string) → "1,234.5678 LEARN" */
function learn(wei) {
  if (wei === null || wei === undefined) return "—";
  const v = BigInt(wei);
  const whole = v / 10n ** 18n;
  const frac = (v % 10n ** 18n).toString().padStart(18, "0").slice(0, 4).replace(/0+$/, "");
  return `${group(whole.toString())}${frac ? "." + frac : ""} LEARN`;
}

function ppm(score) {
  return score === null || score === undefined ? "—" : group(String(score));
}

/** 1e9-scaled loss → "1.4895" */
function loss(scaled) {
  return scaled === null || scaled === undefined ? "—" : (Number(scaled) / 1e9).toFixed(4);
}

function utc(unix) {
  return new Date(Number(unix) * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
}

// ---------------------------------------------------------------- links

function explorerUrl(kind, value) {
  return META && META.blockExplorer ? `${META.blockExplorer.url}/${kind}/${value}` : null;
}

/** A transaction: its hash, linked to the block explorer when the chain has one. */
function txLink(ref) {
  if (!ref) return "—";
  const url = explorerUrl("tx", ref.tx);
  const text = short(ref.tx);
  return url
    ? h(
        "a",
        { href: url, class: "mono tx", title: ref.tx, rel: "noreferrer", target: "_blank" },
        text,
      )
    : h("span", { class: "mono tx", title: ref.tx }, text);
}

function blockLink(block) {
  if (block === null || block === undefined) return "—";
  const url = explorerUrl("block", block);
  return url
    ? h("a", { href: url, class: "block", rel: "noreferrer", target: "_blank" }, `#${block}`)
    : h("span", { class: "block" }, `#${block}`);
}

/** An address: to its page here when `internal`, plus ↗ to the block explorer. */
function addressLink(address, internal = true) {
  if (!address) return "—";
  const url = explorerUrl("address", address);
  return h(
    "span",
    { class: "address" },
    internal
      ? h("a", { href: `/nodes/${address}`, class: "mono", title: address }, short(address))
      : h("span", { class: "mono", title: address }, short(address)),
    url
      ? h(
          "a",
          {
            href: url,
            class: "ext",
            title: `${address} on ${META.blockExplorer.name}`,
            rel: "noreferrer",
            target: "_blank",
          },
          "↗",
        )
      : null,
  );
}

function contractLink(address) {
  return addressLink(address, false);
}

function cidLink(cid) {
  if (!cid) return "—";
  return h(
    "a",
    {
      href: META.gateway + encodeURIComponent(cid),
      class: "mono cid",
      title: cid,
      rel: "noreferrer",
      target: "_blank",
    },
    short(cid),
  );
}

function hash(hex) {
  return hex ? h("span", { class: "mono", title: hex }, short(hex)) : "—";
}

/** A hash written out in full (detail panels, where an auditor copies it). */
function full(hex) {
  return hex ? h("span", { class: "mono full" }, hex) : "—";
}

// ---------------------------------------------------------------- data

async function api(path, init) {
  const res = await fetch(path, init);
  const body = await res.json();
  if (!res.ok) throw new Error(`${body.error}${body.fix ? " — " + body.fix : ""}`);
  return body;
}

function showError(err) {
  render(h("div", { class: "error", id: "error" }, String(err && err.message ? err.message : err)));
}

function setTitle(text) {
  document.title = `${text} · protolearn explorer`;
}

function renderNetwork() {
  const el = document.getElementById("network");
  const explorer = META.blockExplorer
    ? ` · links: ${META.blockExplorer.name}`
    : " · no block explorer";
  el.textContent = `${META.chainName} (chain ${META.chainId}) · ${META.network} · events to block ${META.syncedTo}${explorer}`;
}

// ---------------------------------------------------------------- pages

async function runsPage() {
  setTitle("Runs");
  const { runs } = await api("/api/runs");
  const rows = runs.map((r) =>
    h(
      "tr",
      { dataset: { run: r.runId } },
      h("td", {}, h("a", { href: `/runs/${r.runId}` }, `Run ${r.runId}`)),
      h("td", {}, contractLink(r.address)),
      h("td", {}, r.modelName || hash(r.modelId)),
      h(
        "td",
        {},
        badge(r.state, r.state === "active" ? "ok" : r.state === "halted" ? "bad" : "warn"),
      ),
      h("td", { class: "num" }, r.currentRound),
      h("td", { class: "num" }, r.agreedRounds),
      h("td", { class: "num" }, r.failedRounds),
      h("td", { class: "num" }, r.lastAgreed ? loss(r.lastAgreed.evalLoss) : "—"),
      h("td", { class: "num" }, `${r.trainers} / ${r.validators}`),
      h("td", {}, txLink(r.created)),
    ),
  );
  const contracts = Object.entries(META.contracts).map(([name, address]) =>
    h("tr", {}, h("td", {}, name), h("td", {}, contractLink(address))),
  );
  render(
    h("h1", {}, "Training runs"),
    h(
      "p",
      { class: "subtitle" },
      `${runs.length} run(s) on ${META.chainName}. Deployed at block ${META.deploymentBlock}.`,
    ),
    table(
      [
        "Run",
        "Contract",
        "Model",
        "State",
        { label: "Round", class: "num" },
        { label: "Agreed", class: "num" },
        { label: "Failed", class: "num" },
        { label: "Held-out loss", class: "num" },
        { label: "Trainers / validators", class: "num" },
        "Created",
      ],
      rows,
      { id: "runs-table" },
    ),
    h("h2", {}, "Contracts"),
    table(["Contract", "Address"], contracts),
  );
}

/** An inline SVG chart of held-out loss (on chain) and accuracy (replayed) per round. */
function lossChart(chart) {
  const W = 760;
  const H = 260;
  const pad = { l: 56, r: 56, t: 16, b: 36 };
  const loss = chart.loss;
  const acc = chart.accuracy.points;
  const rounds = [...loss.map((p) => p.round), ...acc.map((p) => p.round)];
  const box = h("div", { class: "chart-box", id: "loss-chart" });
  if (loss.length === 0) {
    box.append(
      h("p", { class: "muted" }, "No round has reached model agreement yet: nothing to chart."),
    );
    return box;
  }
  const minR = Math.min(...rounds);
  const maxR = Math.max(...rounds);
  const x = (r) =>
    pad.l +
    (maxR === minR ? (W - pad.l - pad.r) / 2 : ((r - minR) / (maxR - minR)) * (W - pad.l - pad.r));
  const lo = Math.min(...loss.map((p) => p.loss));
  const hi = Math.max(...loss.map((p) => p.loss));
  const span = hi - lo || Math.max(hi, 1) * 0.1;
  const yMin = Math.max(0, lo - span * 0.15);
  const yMax = hi + span * 0.15;
  const yL = (v) => pad.t + (1 - (v - yMin) / (yMax - yMin)) * (H - pad.t - pad.b);
  const yA = (v) => pad.t + (1 - v) * (H - pad.t - pad.b);
  const svg = s("svg", {
    viewBox: `0 0 ${W} ${H}`,
    role: "img",
    "aria-label": "Held-out loss and accuracy per round",
  });
  for (let i = 0; i <= 4; i++) {
    const v = yMin + ((yMax - yMin) * i) / 4;
    const y = yL(v);
    svg.append(s("line", { class: "grid", x1: pad.l, x2: W - pad.r, y1: y, y2: y }));
    svg.append(
      s("text", { class: "tick", x: pad.l - 8, y: y + 4, "text-anchor": "end" }, v.toFixed(3)),
    );
    svg.append(
      s(
        "text",
        { class: "tick", x: W - pad.r + 8, y: yA(i / 4) + 4, "text-anchor": "start" },
        `${i * 25}%`,
      ),
    );
  }
  svg.append(s("line", { class: "axis", x1: pad.l, x2: W - pad.r, y1: H - pad.b, y2: H - pad.b }));
  svg.append(s("line", { class: "axis", x1: pad.l, x2: pad.l, y1: pad.t, y2: H - pad.b }));
  svg.append(s("line", { class: "axis", x1: W - pad.r, x2: W - pad.r, y1: pad.t, y2: H - pad.b }));
  const step = Math.max(1, Math.ceil((maxR - minR + 1) / 12));
  for (let r = minR; r <= maxR; r += step) {
    svg.append(
      s("text", { class: "tick", x: x(r), y: H - pad.b + 16, "text-anchor": "middle" }, r),
    );
  }
  svg.append(
    s(
      "text",
      { class: "tick", x: (pad.l + W - pad.r) / 2, y: H - 4, "text-anchor": "middle" },
      "round",
    ),
  );
  svg.append(
    s("polyline", {
      class: "series-loss",
      points: loss.map((p) => `${x(p.round)},${yL(p.loss)}`).join(" "),
    }),
  );
  for (const p of loss) {
    const dot = s("circle", {
      class: "dot-loss",
      cx: x(p.round),
      cy: yL(p.loss),
      r: 3.5,
      "data-round": p.round,
    });
    dot.append(s("title", {}, `round ${p.round}: held-out loss ${p.loss.toFixed(4)}`));
    svg.append(dot);
  }
  if (acc.length > 0) {
    svg.append(
      s("polyline", {
        class: "series-acc",
        points: acc.map((p) => `${x(p.round)},${yA(p.accuracy)}`).join(" "),
      }),
    );
    for (const p of acc) {
      const dot = s("circle", {
        class: "dot-acc",
        cx: x(p.round),
        cy: yA(p.accuracy),
        r: 3.5,
        "data-round": p.round,
      });
      dot.append(s("title", {}, `round ${p.round}: accuracy ${(100 * p.accuracy).toFixed(1)} %`));
      svg.append(dot);
    }
  }
  box.append(
    svg,
    h(
      "div",
      { class: "legend" },
      h(
        "span",
        {},
        h("span", { class: "swatch loss" }),
        "held-out loss (left axis, attested on chain)",
      ),
      h(
        "span",
        {},
        h("span", { class: "swatch acc" }),
        "held-out accuracy (right axis, measured here by replaying the model)",
      ),
    ),
  );
  if (chart.accuracy.note)
    box.append(h("p", { class: "note", id: "accuracy-note" }, chart.accuracy.note));
  return box;
}

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

async function runPage(runId) {
  setTitle(`Run ${runId}`);
  const run = await api(`/api/runs/${runId}`);
  const phase = run.phase;
  const timeline = [...run.timeline]
    .reverse()
    .map((r) =>
      h(
        "tr",
        { dataset: { round: r.round } },
        h("td", {}, h("a", { href: `/runs/${runId}/rounds/${r.round}` }, `Round ${r.round}`)),
        h(
          "td",
          {},
          badge(
            r.status === "failed"
              ? `failed: ${["", "no validator votes", "no model majority", "too few accepted", "paused"][r.failure] || r.failure}`
              : r.status,
            r.status === "agreed" ? "ok" : r.status === "failed" ? "bad" : "",
          ),
        ),
        h("td", { class: "num" }, r.commits),
        h("td", { class: "num" }, r.reveals),
        h("td", { class: "num" }, r.votes),
        h("td", { class: "num" }, r.accepted),
        h("td", { class: "num" }, r.slashes),
        h("td", { class: "num" }, loss(r.evalLoss)),
        h("td", {}, hash(r.modelHash)),
        h("td", {}, r.opened ? blockLink(r.opened.block) : "—"),
        h("td", {}, txLink(r.closed)),
      ),
    );
  const paramNames = [
    ...Object.keys(PARAM_LABELS).filter((k) => k in run.params),
    ...Object.keys(run.params).filter((k) => !(k in PARAM_LABELS)),
  ];
  const params = paramNames
    .map((name) => [name, run.params[name]])
    .map(([name, value]) =>
      h(
        "tr",
        {},
        h("td", {}, PARAM_LABELS[name] || name),
        h(
          "td",
          { class: "mono" },
          AMOUNT_PARAMS.has(name) ? learn(value) : name === "modelId" ? hash(value) : String(value),
        ),
      ),
    );
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
    h(
      "h1",
      {},
      `Run ${runId}`,
      " ",
      badge(run.state, run.state === "active" ? "ok" : run.state === "halted" ? "bad" : "warn"),
    ),
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
    h("h2", {}, "Held-out loss and accuracy per round"),
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
        { label: "Held-out loss", class: "num" },
        "Agreed model",
        "Opened",
        "Closed in",
      ],
      timeline,
      { id: "timeline" },
    ),
    h("h2", {}, `Parameters in force (round ${phase.round})`),
    table(["Parameter", "Value"], params, { id: "params" }),
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
  if (run.chart.accuracy.status === "replaying") setTimeout(() => refreshChart(runId), 1500);
}

async function refreshChart(runId) {
  const current = document.getElementById("loss-chart");
  if (!current || location.pathname !== `/runs/${runId}`) return;
  try {
    const run = await api(`/api/runs/${runId}`);
    current.replaceWith(lossChart(run.chart));
    if (run.chart.accuracy.status === "replaying") setTimeout(() => refreshChart(runId), 1500);
  } catch {
    setTimeout(() => refreshChart(runId), 3000);
  }
}

function statusOf(c) {
  if (c.reveal === null) return "unrevealed";
  if (c.accepted === null) return "pending";
  return c.accepted ? "accepted" : "rejected";
}

function slashCell(slashes) {
  if (slashes.length === 0) return "—";
  return slashes.map((sl) =>
    h(
      "div",
      { class: "slash" },
      badge(sl.reason, "bad"),
      ` ${learn(sl.amount)} · #${sl.slashId} `,
      badge(
        sl.status,
        sl.status === "reversed" ? "ok" : sl.status === "escrowed" ? "warn" : "muted",
      ),
      h("div", { class: "note" }, "evidence ", hash(sl.evidenceHash), " · ", txLink(sl.at)),
    ),
  );
}

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
    result.textContent = "fetching…";
    try {
      const v = await api("/api/verify", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ runId, round, index: c.reveal.index }),
      });
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

async function roundPage(runId, round) {
  setTitle(`Run ${runId} · round ${round}`);
  const r = await api(`/api/runs/${runId}/rounds/${round}`);
  const rows = r.contributions.map((c) => {
    const status = statusOf(c);
    const tone =
      status === "accepted" ? "ok" : status === "rejected" || status === "unrevealed" ? "bad" : "";
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
      h("td", {}, c.reveal ? cidLink(c.reveal.cid) : h("span", { class: "muted" }, "not revealed")),
      h("td", {}, c.reveal ? hash(c.reveal.contentHash) : ["commitment ", hash(c.commitment)]),
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
      h("td", { class: "status" }, badge(status, tone)),
      h("td", { class: "num" }, c.reward === null ? "—" : learn(c.reward)),
      h("td", { class: "slash-cell" }, slashCell(c.slashes)),
      h("td", {}, c.reveal ? txLink(c.reveal.at) : txLink(c.committedAt)),
      h("td", { class: "verify-cell" }, verifyCell(runId, round, c)),
    );
  });
  const statusFilter = h(
    "select",
    { id: "filter-status" },
    ["all", "accepted", "rejected", "slashed", "unrevealed", "pending"].map((v) =>
      h("option", { value: v }, v),
    ),
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

  const validators = r.validators.map((v) =>
    h(
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
      h("td", {}, slashCell(v.slashes)),
      h("td", {}, txLink(v.at)),
    ),
  );
  const outcome = r.agreed
    ? [
        badge("agreed", "ok"),
        ` · ${r.agreed.acceptedUpdates} of ${r.reveals} updates accepted · held-out loss ${loss(r.agreed.evalLoss)} · emission ${learn(r.agreed.emission)}${r.agreed.emissionFailed ? " (mint failed)" : ""}`,
      ]
    : r.failed
      ? [badge(`failed: ${r.failed.reason}`, "bad"), " · the model stays as it was, no emission"]
      : [
          badge("open"),
          ` · ${r.commits} commits, ${r.reveals} reveals, ${r.validators.length} votes so far`,
        ];
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
    h("p", { class: "subtitle", id: "round-outcome" }, outcome),
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
        [
          "Closed",
          r.agreed
            ? [blockLink(r.agreed.at.block), " ", txLink(r.agreed.at)]
            : r.failed
              ? [blockLink(r.failed.at.block), " ", txLink(r.failed.at)]
              : "not yet",
        ],
        ["Accept score", `${ppm(r.acceptScorePpm)} ppm`],
      ]),
    ),
    h("h2", {}, "Contributions"),
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
        { label: "#", class: "num" },
        "Node",
        "CID",
        "Content hash",
        { label: "Samples", class: "num" },
        { label: "Scores (ppm)", class: "num" },
        { label: "Median", class: "num" },
        "Status",
        { label: "Reward", class: "num" },
        "Slash",
        "Tx",
        "Verify",
      ],
      rows,
      { id: "contributions" },
    ),
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
      validators,
      { id: "validators" },
    ),
  );
  applyFilters();
}

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
  "lock-shrunk": (e) => [learn(e.amount), `slash #${e.slashId}`],
  "unbonding-slashed": (e) => [
    learn(e.amount),
    `slash #${e.slashId} took it from request #${e.requestId}`,
  ],
  slashed: (e) => [
    `−${learn(e.amount)}`,
    `slash #${e.slashId} (${["None", "InvalidUpdate", "NoReveal", "ValidatorDisagreement"][e.reason] || e.reason}), held in escrow`,
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

async function nodePage(address) {
  setTitle(`Node ${short(address)}`);
  const n = await api(`/api/nodes/${address}`);
  const st = n.stake;
  const runs = n.runs.map((run) => {
    const contributions = run.contributions.map((c) =>
      h(
        "tr",
        { class: "contribution" },
        h("td", {}, h("a", { href: `/runs/${run.runId}/rounds/${c.round}` }, `Round ${c.round}`)),
        h("td", { class: "num" }, c.reveal ? c.reveal.index : "—"),
        h("td", {}, c.reveal ? cidLink(c.reveal.cid) : "not revealed"),
        h("td", { class: "num" }, ppm(c.medianScore)),
        h(
          "td",
          {},
          badge(
            statusOf(c),
            statusOf(c) === "accepted" ? "ok" : statusOf(c) === "pending" ? "" : "bad",
          ),
        ),
        h("td", { class: "num" }, c.reward === null ? "—" : learn(c.reward)),
        h("td", {}, slashCell(c.slashes)),
      ),
    );
    const votes = run.votes.map((v) =>
      h(
        "tr",
        {},
        h("td", {}, h("a", { href: `/runs/${run.runId}/rounds/${v.round}` }, `Round ${v.round}`)),
        h("td", { class: "num" }, learn(v.weight)),
        h("td", {}, hash(v.modelHash)),
        h("td", { class: "num" }, loss(v.evalLoss)),
        h(
          "td",
          {},
          v.agreed === null
            ? "—"
            : badge(v.agreed ? "agreed" : "disagreed", v.agreed ? "ok" : "bad"),
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
  });
  const slashes = n.slashes.map((sl) =>
    h(
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
      h(
        "td",
        {},
        badge(
          ["None", "InvalidUpdate", "NoReveal", "ValidatorDisagreement"][sl.reason] ||
            String(sl.reason),
          "bad",
        ),
      ),
      h("td", { class: "num" }, learn(sl.amount)),
      h("td", {}, hash(sl.evidenceHash)),
      h(
        "td",
        {},
        badge(
          sl.status,
          sl.status === "reversed" ? "ok" : sl.status === "escrowed" ? "warn" : "muted",
        ),
      ),
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
    ),
  );
  const entries = st.entries.map((e) =>
    h(
      "tr",
      {},
      h("td", { class: "num" }, `#${e.id}`),
      h("td", { class: "num" }, learn(e.amount)),
      h("td", {}, utc(e.releaseAt)),
    ),
  );
  const history = [...n.history].reverse().map((e) => {
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
  });
  render(
    h("div", { class: "crumbs" }, h("a", { href: "/" }, "Runs"), " / ", "Node"),
    h("h1", { class: "mono" }, n.address),
    explorerUrl("address", n.address)
      ? h(
          "p",
          { class: "subtitle" },
          h(
            "a",
            { href: explorerUrl("address", n.address), rel: "noreferrer", target: "_blank" },
            `View on ${META.blockExplorer.name} ↗`,
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
    runs,
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

const SUPPORT = ["against", "for", "abstain"];

async function governancePage() {
  setTitle("Governance");
  const g = await api("/api/governance");
  const proposals = [...g.proposals].reverse().map((p) => {
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
    const tone = {
      Executed: "ok",
      Succeeded: "ok",
      Queued: "warn",
      Active: "",
      Pending: "muted",
      Defeated: "bad",
      Canceled: "muted",
      Expired: "muted",
    }[p.state];
    const votes = p.votes.map((v) =>
      h(
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
      ),
    );
    return h(
      "section",
      {
        class: "panel proposal",
        id: `proposal-${p.id}`,
        dataset: { state: p.state, kind: p.kind },
      },
      h("h3", {}, badge(p.state, tone), " ", p.description),
      kv(
        [
          ["Proposal id", h("span", { class: "mono", title: p.id }, short(p.id))],
          ["Does", `${p.kind}: ${p.summary}`],
          ["Proposer", addressLink(p.proposer)],
          [
            "Votes",
            [
              `for ${learn(p.forVotes)} · against ${learn(p.againstVotes)} · abstain ${learn(p.abstainVotes)} · quorum ${learn(p.quorum)}`,
              bar,
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
  });
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

// ---------------------------------------------------------------- routing

async function route() {
  const path = location.pathname.replace(/\/+$/, "") || "/";
  let m;
  if (path === "/") return runsPage();
  if (path === "/governance") return governancePage();
  if ((m = /^\/runs\/(\d+)$/.exec(path))) return runPage(Number(m[1]));
  if ((m = /^\/runs\/(\d+)\/rounds\/(\d+)$/.exec(path)))
    return roundPage(Number(m[1]), Number(m[2]));
  if ((m = /^\/nodes\/(0x[0-9a-fA-F]{40})$/.exec(path))) return nodePage(m[1]);
  setTitle("Not found");
  render(h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/" }, "Back to the runs")));
}

(async () => {
  try {
    META = await api("/api/meta");
    renderNetwork();
    await route();
    document.body.dataset.ready = "true";
  } catch (err) {
    showError(err);
    document.body.dataset.ready = "error";
  }
})();
