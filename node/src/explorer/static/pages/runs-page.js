// "/": every run found from RunCreated, and the system's contracts.
import { getMeta, getRuns } from "../lib/api-client.js";
import { badge, h, render, setTitle, table } from "../lib/dom.js";
import { heldOut, runStateTone } from "../lib/format.js";
import { contractLink, hash, txLink } from "../lib/links.js";

export async function runsPage() {
  setTitle("Runs");
  const meta = getMeta();
  const { runs } = await getRuns();
  const rows = runs.map((r) =>
    h(
      "tr",
      { dataset: { run: r.runId } },
      h("td", {}, h("a", { href: `/runs/${r.runId}` }, `Run ${r.runId}`)),
      h("td", {}, contractLink(r.address)),
      h("td", {}, r.modelName || hash(r.modelId)),
      h("td", {}, badge(r.state, runStateTone(r.state))),
      h("td", { class: "num" }, r.currentRound),
      h("td", { class: "num" }, r.agreedRounds),
      h("td", { class: "num" }, r.failedRounds),
      h("td", { class: "num" }, r.lastAgreed ? heldOut(r.lastAgreed.evalLoss, r.evalMetric) : "—"),
      h("td", { class: "num" }, `${r.trainers} / ${r.validators}`),
      h("td", {}, txLink(r.created)),
    ),
  );
  const contracts = Object.entries(meta.contracts).map(([name, address]) =>
    h("tr", {}, h("td", {}, name), h("td", {}, contractLink(address))),
  );
  render(
    h("h1", {}, "Training runs"),
    h(
      "p",
      { class: "subtitle" },
      `${runs.length} run(s) on ${meta.chainName}. Deployed at block ${meta.deploymentBlock}.`,
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
