import { strict as assert } from "node:assert";
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import { launchBrowser } from "./helpers/finishedNetwork.js";

/**
 * The run page's chart module (static/lib/loss-chart.js) in a real browser for a language-model
 * run: the payload `runPayload` gives such a run (chart.metric "bits-per-byte", the on-chain
 * evalLoss being held-out bits per byte) is charted as bits per byte with next-byte accuracy,
 * and a classifier's payload is still charted as loss and accuracy. The full explorer against a
 * network (MNIST) is test/node/explorer.test.ts; this one needs no chain, so it takes seconds.
 */

const STATIC_DIR = fileURLToPath(new URL("../../node/src/explorer/static/", import.meta.url));
const require = createRequire(import.meta.url);
/** The chart's loss colour (static/lib/loss-chart.js), to find it on uPlot's canvas. */
const LOSS_RGB = [0x1f, 0x4e, 0x79];

/** A language-model run's chart: bits per byte of M_2..M_5 from ModelAgreed, next-byte accuracy replayed. */
const LM_CHART = {
  metric: "bits-per-byte",
  loss: [
    { round: 2, loss: 8.0312 },
    { round: 3, loss: 6.2104 },
    { round: 4, loss: 5.1877 },
    { round: 5, loss: 4.6021 },
  ],
  accuracy: {
    status: "done",
    note: null,
    points: [
      { round: 2, modelHash: "0x01", loss: 8.0312, accuracy: 0.004 },
      { round: 3, modelHash: "0x02", loss: 6.2104, accuracy: 0.12 },
      { round: 4, modelHash: "0x03", loss: 5.1877, accuracy: 0.17 },
      { round: 5, modelHash: "0x04", loss: 4.6021, accuracy: 0.19 },
    ],
  },
};
const CLASSIFIER_CHART = {
  metric: "loss",
  loss: [
    { round: 2, loss: 2.3456 },
    { round: 3, loss: 0.9 },
  ],
  accuracy: { status: "disabled", note: "the explorer has no IPFS peer: the chart shows the on-chain loss only", points: [] },
};

/** A page that renders one chart from the module the explorer serves. */
function page(chart: unknown): string {
  return `<!doctype html><html><head><meta charset="utf-8" />
<link rel="stylesheet" href="/assets/vendor/uplot.css" /><link rel="stylesheet" href="/assets/style.css" /></head>
<body><main id="main"></main><script type="module">
import { lossChart } from "/assets/lib/loss-chart.js";
document.getElementById("main").append(lossChart(${JSON.stringify(chart)}));
document.body.dataset.ready = "true";
</script></body></html>`;
}

describe("explorer chart of a language-model run", { timeout: 120_000 }, () => {
  let server: Server;
  let url: string;
  let browser: Browser;

  before(async () => {
    const files: Record<string, { file: string; type: string }> = {
      "/assets/lib/loss-chart.js": { file: join(STATIC_DIR, "lib/loss-chart.js"), type: "text/javascript" },
      "/assets/lib/dom.js": { file: join(STATIC_DIR, "lib/dom.js"), type: "text/javascript" },
      "/assets/style.css": { file: join(STATIC_DIR, "style.css"), type: "text/css" },
      "/assets/vendor/uplot.js": { file: require.resolve("uplot/dist/uPlot.esm.js"), type: "text/javascript" },
      "/assets/vendor/uplot.css": { file: require.resolve("uplot/dist/uPlot.min.css"), type: "text/css" },
    };
    server = createServer((req, res) => {
      const path = new URL(req.url ?? "/", "http://localhost").pathname;
      const chart = path === "/lm" ? LM_CHART : path === "/classifier" ? CLASSIFIER_CHART : undefined;
      if (chart !== undefined) {
        res.writeHead(200, { "content-type": "text/html; charset=utf-8" }).end(page(chart));
        return;
      }
      const asset = files[path];
      if (path === "/favicon.ico") {
        res.writeHead(204).end();
        return;
      }
      if (asset === undefined) {
        res.writeHead(404).end();
        return;
      }
      readFile(asset.file).then(
        (body) => res.writeHead(200, { "content-type": `${asset.type}; charset=utf-8` }).end(body),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => server?.close(() => resolve()));
  });

  async function open(path: string): Promise<Page> {
    const p = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    p.on("pageerror", (err) => errors.push(err.message));
    p.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
    });
    await p.goto(url + path);
    await p.waitForSelector("body[data-ready]");
    // uPlot draws once the chart's element has a width.
    await p.waitForSelector("#loss-chart canvas");
    assert.deepEqual(errors, []);
    return p;
  }

  it("charts held-out bits per byte per round and the replayed next-byte accuracy", async () => {
    const p = await open("/lm");
    const headings = await p.$$eval("#loss-chart table.chart-data th", (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(headings, ["Round", "Bits per byte", "Next-byte accuracy"]);
    const cells = await p.$$eval("#loss-chart td.bpb", (tds) =>
      tds.map((t) => ({ round: Number(t.getAttribute("data-round")), text: t.textContent, title: t.getAttribute("title") })),
    );
    assert.deepEqual(
      cells,
      LM_CHART.loss.map((p) => ({
        round: p.round,
        text: p.loss.toFixed(4),
        title: `round ${p.round}: held-out bits per byte ${p.loss.toFixed(4)}`,
      })),
    );
    const accuracy = await p.$$eval("#loss-chart td.acc", (tds) => tds.map((t) => t.getAttribute("title")));
    assert.deepEqual(accuracy[1], "round 3: next-byte accuracy 12.0 %");
    const labels = await p.$$eval("#loss-chart .u-legend .u-series .u-label", (ls) => ls.map((l) => l.textContent));
    assert.deepEqual(labels, ["round", "held-out bits per byte", "next-byte accuracy (replayed)"]);
    assert.match((await p.textContent("#loss-chart p.note")) ?? "", /bits per byte \(left axis; lower is better/);
    assert.equal(await p.getAttribute("#loss-chart .chart-plot", "aria-label"), "Held-out bits per byte and next-byte accuracy per round; the values are in the table below");
    // The bits-per-byte series is drawn on the canvas.
    const painted = await p.waitForFunction(
      `(() => {
        const c = document.querySelector("#loss-chart canvas");
        if (!c || c.width === 0) return null;
        const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) {
          if (d[i + 3] > 200 && Math.abs(d[i] - ${LOSS_RGB[0]}) + Math.abs(d[i + 1] - ${LOSS_RGB[1]}) + Math.abs(d[i + 2] - ${LOSS_RGB[2]}) < 24) n++;
        }
        return n > 20 ? n : null;
      })()`,
      null,
      { timeout: 10_000 },
    );
    assert.ok(await painted.jsonValue());
    await p.close();
  });

  it("still charts a classifier run as held-out loss and accuracy", async () => {
    const p = await open("/classifier");
    const headings = await p.$$eval("#loss-chart table.chart-data th", (ths) => ths.map((t) => t.textContent));
    assert.deepEqual(headings, ["Round", "Held-out loss", "Accuracy"]);
    assert.equal(await p.$$eval("#loss-chart td.bpb", (tds) => tds.length), 0);
    const titles = await p.$$eval("#loss-chart td.loss", (tds) => tds.map((t) => t.getAttribute("title")));
    assert.deepEqual(titles, ["round 2: held-out loss 2.3456", "round 3: held-out loss 0.9000"]);
    const labels = await p.$$eval("#loss-chart .u-legend .u-series .u-label", (ls) => ls.map((l) => l.textContent));
    assert.deepEqual(labels, ["round", "held-out loss", "accuracy (replayed)"]);
    await p.close();
  });
});
