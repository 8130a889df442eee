// protolearn explorer: the entry module. It loads the deployment's meta, draws the network line
// and hands the path to its page's module (imported when first needed). Plain browser ES
// modules, no framework, no request to anything but this server. body[data-ready] says when a
// page has rendered ("true") or failed ("error").
import { loadMeta } from "./lib/api-client.js";
import { h, render, setTitle, showError } from "./lib/dom.js";

/** path pattern → the page module and how to call its renderer. */
const ROUTES = [
  [/^\/$/, async () => (await import("./pages/runs-page.js")).runsPage()],
  [/^\/governance$/, async () => (await import("./pages/governance-page.js")).governancePage()],
  [/^\/runs\/(\d+)$/, async (m) => (await import("./pages/run-page.js")).runPage(Number(m[1]))],
  [
    /^\/runs\/(\d+)\/rounds\/(\d+)$/,
    async (m) => (await import("./pages/round-page.js")).roundPage(Number(m[1]), Number(m[2])),
  ],
  [
    /^\/nodes\/(0x[0-9a-fA-F]{40})$/,
    async (m) => (await import("./pages/node-page.js")).nodePage(m[1]),
  ],
];

function renderNetwork(meta) {
  const links = meta.blockExplorer
    ? ` · links: ${meta.blockExplorer.name}`
    : " · no block explorer";
  document.getElementById("network").textContent =
    `${meta.chainName} (chain ${meta.chainId}) · ${meta.network} · events to block ${meta.syncedTo}${links}`;
}

async function route() {
  const path = location.pathname.replace(/\/+$/, "") || "/";
  for (const [pattern, page] of ROUTES) {
    const m = pattern.exec(path);
    if (m) return page(m);
  }
  setTitle("Not found");
  render(h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "/" }, "Back to the runs")));
}

try {
  renderNetwork(await loadMeta());
  await route();
  document.body.dataset.ready = "true";
} catch (err) {
  showError(err);
  document.body.dataset.ready = "error";
}
