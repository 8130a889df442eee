import { strict as assert } from "node:assert";
import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import type { Browser, Page } from "playwright-core";
import type { Address } from "viem";
import { openAuditStore, type AuditStore } from "../../node/src/audit/index.js";
import { trainingRunAbi } from "../../node/src/chain/abis.js";
import { connectChain, type ChainContext } from "../../node/src/chain/client.js";
import { startExplorer, type RunningExplorer } from "../../node/src/explorer/server.js";
import { createLogger } from "../../node/src/observe/logger.js";
import {
  launchBrowser,
  startFinishedNetwork,
  type FinishedNetwork,
} from "./helpers/finishedNetwork.js";

/**
 * The explorer in a real browser (playwright-core driving Debian's chromium) against a network
 * with a registration round and two finished training rounds (helpers/finishedNetwork.ts): every page loads without script errors
 * and without horizontal overflow at 1280×800 and at a phone's width, the contribution table is
 * cross-checked against the chain's events, "verify" passes an honest update and fails the
 * liar's, the chart (uPlot, served from node_modules) draws loss and replayed accuracy, the
 * contribution table fits 1280 px without scrolling, only the explorer's own files are served,
 * and a restart reads the disk cache. Screenshots of every page go to test-artifacts/explorer/.
 */

const SHOTS = join("test-artifacts", "explorer");
const VIEWPORTS = [
  { name: "1280x800", width: 1280, height: 800 },
  { name: "390x800", width: 390, height: 800 },
] as const;
const STATIC_DIR = fileURLToPath(new URL("../../node/src/explorer/static/", import.meta.url));
/** The chart's series colours (static/lib/loss-chart.js), to find them on uPlot's canvas. */
const LOSS_RGB = [0x1f, 0x4e, 0x79];
const ACC_RGB = [0xd9, 0x82, 0x2b];

/**
 * How many pixels wider than its frame the contribution table is, and the page and its body
 * than the window (0 or less: no horizontal scrolling).
 */
async function contributionOverflow(
  page: Page,
): Promise<{ table: number; page: number; body: number }> {
  return page.evaluate(`(() => {
    const wrap = document.querySelector("#contributions").closest(".table-wrap");
    const de = document.documentElement;
    return {
      table: wrap.scrollWidth - wrap.clientWidth,
      page: de.scrollWidth - de.clientWidth,
      body: document.body.scrollWidth - document.body.clientWidth,
    };
  })()`);
}

/** Pixels of uPlot's canvas in #loss-chart close to each series colour ({} until it is drawn). */
function paintedPixels(): string {
  return `(() => {
    const c = document.querySelector("#loss-chart canvas");
    if (!c || c.width === 0) return {};
    const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    const near = (i, [r, g, b]) =>
      d[i + 3] > 200 && Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 24;
    let loss = 0;
    let acc = 0;
    for (let i = 0; i < d.length; i += 4) {
      if (near(i, ${JSON.stringify(LOSS_RGB)})) loss++;
      else if (near(i, ${JSON.stringify(ACC_RGB)})) acc++;
    }
    return { loss, acc };
  })()`;
}

describe("protolearn explorer", { timeout: 300_000 }, () => {
  let fx: FinishedNetwork;
  let chain: ChainContext;
  let ipfs: AuditStore;
  let explorer: RunningExplorer;
  let cacheDir: string;
  let browser: Browser;
  const logger = createLogger({ level: "error" });

  /** Opens `path` and waits until the page has rendered; fails on any script error. */
  async function open(
    path: string,
    viewport: { width: number; height: number } = VIEWPORTS[0],
  ): Promise<Page> {
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    page.on("pageerror", (err) => errors.push(err.message));
    page.on("console", (msg) => {
      if (msg.type() === "error") errors.push(msg.text());
    });
    await page.goto(explorer.url + path);
    await page.waitForSelector("body[data-ready]");
    assert.equal(
      await page.getAttribute("body", "data-ready"),
      "true",
      `${path}: ${await page.textContent("main")}`,
    );
    assert.deepEqual(errors, [], `${path} logged errors`);
    return page;
  }

  before(async () => {
    fx = await startFinishedNetwork({ port: 18732 });
    chain = await connectChain({ rpcUrl: fx.rpcUrl, deployment: fx.net.deployment, runId: 1 });
    ipfs = await openAuditStore({ kind: "helia", peers: fx.peers });
    cacheDir = await mkdtemp(join(tmpdir(), "protolearn-explorer-"));
    explorer = await startExplorer({
      chain,
      cacheDir,
      confirmations: 0,
      port: 0,
      store: ipfs.store,
      verifyTimeoutMs: 10_000,
      logger,
    });
    browser = await launchBrowser();
    await mkdir(SHOTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await explorer?.stop();
    await ipfs?.close();
    await fx?.stop();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });

  it("serves every page without script errors or horizontal overflow at 1280×800 and 390×800, and saves a screenshot of each", async () => {
    const pages = [
      { path: "/", name: "runs", heading: "Training runs" },
      { path: "/runs/1", name: "run", heading: "Run 1" },
      { path: "/runs/1/rounds/2", name: "round-2", heading: "Round 2" },
      { path: "/runs/1/rounds/3", name: "round-3", heading: "Round 3" },
      { path: `/nodes/${fx.ghost}`, name: "node-ghost", heading: fx.ghost },
      { path: `/nodes/${fx.honest[1]}`, name: "node-honest", heading: fx.honest[1] },
      { path: "/governance", name: "governance", heading: "Governance" },
    ];
    for (const viewport of VIEWPORTS) {
      for (const p of pages) {
        const page = await open(p.path, viewport);
        assert.match((await page.textContent("h1")) ?? "", new RegExp(p.heading));
        const overflow = Number(
          await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
          ),
        );
        assert.ok(
          overflow <= 0,
          `${p.path} at ${viewport.name} is ${overflow}px wider than the window`,
        );
        await page.screenshot({
          path: join(SHOTS, `${p.name}-${viewport.name}.png`),
          fullPage: true,
        });
        await page.close();
      }
    }
  });

  it("lists in each round's contribution table exactly the commits, reveals and outcomes the chain recorded", async () => {
    for (const round of [2, 3]) {
      const query = {
        address: fx.runAddress,
        abi: trainingRunAbi,
        args: { runId: 1n, round: BigInt(round) },
        fromBlock: 0n,
        strict: true,
      } as const;
      const [committed, revealed, scored] = await Promise.all([
        chain.publicClient.getContractEvents({ ...query, eventName: "Committed" }),
        chain.publicClient.getContractEvents({ ...query, eventName: "Revealed" }),
        chain.publicClient.getContractEvents({ ...query, eventName: "UpdateScored" }),
      ]);
      const page = await open(`/runs/1/rounds/${round}`);
      const rows = await page.$$eval("#contributions tbody tr", (trs) =>
        trs.map((tr) => ({
          node: tr.getAttribute("data-node"),
          status: tr.getAttribute("data-status"),
          index: tr.getAttribute("data-index"),
          cid: tr.querySelector("a.cid")?.getAttribute("title") ?? null,
          median: tr.querySelector("td.median")?.textContent ?? "",
        })),
      );
      assert.equal(rows.length, committed.length, `round ${round}: one row per commit`);
      assert.deepEqual(
        rows.filter((r) => r.index !== "").map((r) => [r.node, Number(r.index), r.cid]),
        revealed.map((e) => [e.args.node, Number(e.args.index), e.args.cid]),
      );
      for (const e of scored) {
        const row = rows.find((r) => r.node === e.args.node);
        assert.equal(row?.status, e.args.accepted ? "accepted" : "rejected");
        assert.equal(row?.median?.replace(/,/g, ""), String(e.args.medianScore));
      }
      const unrevealed = committed
        .filter((c) => !revealed.some((r) => r.args.node === c.args.node))
        .map((c) => c.args.node);
      assert.deepEqual(
        rows.filter((r) => r.status === "unrevealed").map((r) => r.node),
        unrevealed,
      );
      await page.close();
    }
  });

  it("fits each round's contribution table into a 1280×800 window without horizontal scrolling", async () => {
    for (const round of [2, 3]) {
      const page = await open(`/runs/1/rounds/${round}`);
      const overflow = await contributionOverflow(page);
      assert.ok(overflow.table <= 0, `round ${round}: the table scrolls by ${overflow.table}px`);
      assert.ok(overflow.page <= 0, `round ${round}: the page scrolls by ${overflow.page}px`);
      assert.ok(overflow.body <= 0, `round ${round}: the body scrolls by ${overflow.body}px`);
      // Shortened hashes and CIDs keep the full value as their title.
      const titles = await page.$$eval("#contributions tbody tr", (trs) =>
        trs.map((tr) =>
          [...tr.querySelectorAll(".mono")].map((el) => [
            el.textContent ?? "",
            el.getAttribute("title") ?? "",
          ]),
        ),
      );
      for (const [text, title] of titles.flat()) {
        if (text.includes("…")) {
          const [head, tail] = text.split("…") as [string, string];
          assert.ok(title.startsWith(head) && title.endsWith(tail), `${text} titled ${title}`);
        }
      }
      await page.close();
    }
  });

  it("filters the contribution table by status and by node", async () => {
    const page = await open("/runs/1/rounds/3");
    const visible = () =>
      page.$$eval("#contributions tbody tr", (trs) =>
        trs.filter((tr) => !tr.hasAttribute("hidden")).map((tr) => tr.getAttribute("data-node")),
      );
    await page.selectOption("#filter-status", "accepted");
    assert.deepEqual((await visible()).sort(), [...fx.honest].sort());
    await page.selectOption("#filter-status", "unrevealed");
    assert.deepEqual(await visible(), [fx.ghost]);
    await page.selectOption("#filter-status", "all");
    await page.fill("#filter-node", fx.liar.slice(2, 12).toLowerCase());
    assert.deepEqual(await visible(), [fx.liar]);
    assert.equal(await page.textContent("#filter-count"), "showing 1 of 4");
    await page.close();
  });

  it("verify re-fetches an honest update and finds its hash on chain, and reports the liar's bytes as a mismatch", async () => {
    const page = await open("/runs/1/rounds/2");
    const verify = async (node: Address): Promise<{ status: string | undefined; text: string }> => {
      const row = page.locator(`#contributions tr[data-node="${node}"]`);
      await row.locator("button.verify").click();
      const result = row.locator(".verify-result[data-status]");
      await result.waitFor({ timeout: 30_000 });
      return {
        status: (await result.getAttribute("data-status")) ?? undefined,
        text: (await result.textContent()) ?? "",
      };
    };
    const honest = await verify(fx.honest[0]);
    assert.equal(honest.status, "ok", honest.text);
    assert.match(honest.text, /hash matches the chain \([\d,]+ bytes, decodes\)/);
    const liar = await verify(fx.liar);
    assert.equal(liar.status, "hash-mismatch", liar.text);
    const actual = fx.liarReveals.get(2)?.actual ?? "";
    assert.match(liar.text, new RegExp(`hash to ${actual.slice(0, 8)}`));
    const overflow = await contributionOverflow(page);
    assert.ok(
      overflow.table <= 0 && overflow.page <= 0 && overflow.body <= 0,
      JSON.stringify(overflow),
    );
    await page.screenshot({ path: join(SHOTS, "round-2-verified-1280x800.png"), fullPage: true });
    await page.close();
  });

  it("charts the on-chain held-out loss of every agreed round and the accuracy it measures by replaying the model", async () => {
    const page = await open("/runs/1");
    await page.waitForFunction(
      'document.querySelectorAll("#loss-chart td.acc").length === 2',
      null,
      { timeout: 120_000 },
    );
    const lossRounds = await page.$$eval("#loss-chart td.loss", (cs) =>
      cs.map((c) => Number(c.getAttribute("data-round"))),
    );
    assert.deepEqual(lossRounds, [2, 3]);
    const accRounds = await page.$$eval("#loss-chart td.acc", (cs) =>
      cs.map((c) => Number(c.getAttribute("data-round"))),
    );
    assert.deepEqual(accRounds, [2, 3]);
    // uPlot drew both series on its canvas; its legend names the loss series once.
    const painted = await page.waitForFunction(
      `(() => { const p = ${paintedPixels()}; return p.loss > 20 && p.acc > 20 ? p : null; })()`,
      null,
      { timeout: 10_000 },
    );
    assert.ok(await painted.jsonValue());
    const labels = await page.$$eval("#loss-chart .u-legend .u-series .u-label", (ls) =>
      ls.map((l) => l.textContent),
    );
    assert.equal(labels.filter((l) => l === "held-out loss").length, 1);
    assert.deepEqual(labels, ["round", "held-out loss", "accuracy (replayed)"]);
    const agreed = await chain.publicClient.getContractEvents({
      address: fx.runAddress,
      abi: trainingRunAbi,
      eventName: "ModelAgreed",
      fromBlock: 0n,
      strict: true,
    });
    const titles = await page.$$eval("#loss-chart td.loss", (ts) =>
      ts.map((t) => t.getAttribute("title")),
    );
    assert.deepEqual(
      titles,
      agreed.map(
        (e) => `round ${e.args.round}: held-out loss ${(Number(e.args.evalLoss) / 1e9).toFixed(4)}`,
      ),
    );
    await page.screenshot({ path: join(SHOTS, "run-chart-1280x800.png"), fullPage: true });
    await page.close();
  });

  it("shows a node's stake, unbonding, rewards, slashes and the appeal governance granted", async () => {
    const ghost = await open(`/nodes/${fx.ghost}`);
    const slashes = await ghost.$$eval("#slashes tbody tr", (trs) =>
      trs.map((tr) => [
        tr.getAttribute("data-slash"),
        tr.getAttribute("data-status"),
        tr.querySelector("td.appeal a")?.getAttribute("href") ?? null,
      ]),
    );
    assert.deepEqual(
      slashes.map(([, status]) => status),
      ["escrowed", "reversed"],
    );
    assert.equal(slashes[1]?.[0], fx.reversedSlashId.toString());
    assert.match(slashes[1]?.[2] ?? "", /^\/governance#proposal-\d+$/);
    await ghost.close();
    const honestB = await open(`/nodes/${fx.honest[1]}`);
    assert.equal(await honestB.textContent("#unbonding .value"), "300 LEARN");
    assert.match((await honestB.textContent("#earned-1 .value")) ?? "", /^[1-9][\d,.]* LEARN$/);
    await honestB.close();
  });

  it("shows each proposal with its state, tally and votes for, against and abstain", async () => {
    const page = await open("/governance");
    const proposals = await page.$$eval("section.proposal", (ss) =>
      ss.map((s) => ({
        state: s.getAttribute("data-state"),
        kind: s.getAttribute("data-kind"),
        votes: [...s.querySelectorAll("tr.vote")].map((v) => v.getAttribute("data-support")),
      })),
    );
    assert.deepEqual(proposals, [
      { state: "Active", kind: "params", votes: ["for"] },
      { state: "Executed", kind: "reverse-slash", votes: ["for", "against", "abstain"] },
    ]);
    await page.close();
  });

  it("serves its page modules, styles and uPlot (from node_modules) with their content types, and no other file", async () => {
    const home = await (await fetch(`${explorer.url}/`)).text();
    assert.match(home, /<script type="module" src="\/assets\/app\.js"><\/script>/);
    assert.match(home, /<link rel="stylesheet" href="\/assets\/vendor\/uplot\.css" \/>/);
    const types: Record<string, string> = {
      js: "text/javascript; charset=utf-8",
      css: "text/css; charset=utf-8",
      svg: "image/svg+xml",
    };
    // Every file in static/ but the pages' shell is served, under its path, with its type.
    const files = (await readdir(STATIC_DIR, { recursive: true, withFileTypes: true }))
      .filter((e) => e.isFile() && e.name !== "index.html")
      .map((e) => relative(STATIC_DIR, join(e.parentPath, e.name)).split(sep).join("/"));
    assert.ok(files.includes("app.js") && files.some((f) => f.startsWith("pages/")), files.join());
    for (const file of files) {
      assert.match(file, /^[a-z0-9/-]+\.[a-z]+$/, `${file}: kebab-case`);
      const res = await fetch(`${explorer.url}/assets/${file}`);
      assert.equal(res.status, 200, file);
      assert.equal(res.headers.get("content-type"), types[file.split(".").pop() ?? ""], file);
      assert.deepEqual(
        Buffer.from(await res.arrayBuffer()),
        await readFile(join(STATIC_DIR, file)),
      );
    }
    // uPlot comes from node_modules, not from a CDN.
    const require = createRequire(import.meta.url);
    for (const [path, file, type] of [
      ["/assets/vendor/uplot.js", "uplot/dist/uPlot.esm.js", types.js],
      ["/assets/vendor/uplot.css", "uplot/dist/uPlot.min.css", types.css],
    ] as const) {
      const res = await fetch(explorer.url + path);
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get("content-type"), type, path);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), await readFile(require.resolve(file)));
    }
    for (const path of [
      "/assets/index.html",
      "/assets/missing.js",
      "/assets/App.js",
      "/assets/..%2fserver.ts",
      "/assets/lib%2f..%2f..%2fserver.ts",
      "/assets/%2e%2e/server.ts",
      "/assets/vendor/uPlot.esm.js",
      "/assets/vendor/../../../../package.json",
      "/assets/node_modules/uplot/package.json",
    ]) {
      const res = await fetch(explorer.url + path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(await res.text(), /startExplorer|"name": "protolearn"/, path);
    }
    const post = await fetch(`${explorer.url}/assets/app.js`, { method: "POST" });
    assert.equal(post.status, 404);
  });

  it("answers API errors with a status and a fix, and restarts from its disk cache without rescanning", async () => {
    const missing = await fetch(`${explorer.url}/api/runs/9`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { fix: string }).fix, /pick one of the runs found: 1/);
    const bad = await fetch(`${explorer.url}/api/verify`, {
      method: "POST",
      body: JSON.stringify({ runId: 1 }),
    });
    assert.equal(bad.status, 400);

    await explorer.index.sync();
    const before = {
      syncedTo: explorer.index.syncedTo,
      records: JSON.stringify(explorer.index.records),
    };
    await explorer.stop();
    explorer = await startExplorer({
      chain,
      cacheDir,
      confirmations: 0,
      port: 0,
      store: ipfs.store,
      verifyTimeoutMs: 10_000,
      logger,
    });
    assert.equal(explorer.index.fromCache, true);
    assert.equal(explorer.index.syncedTo, before.syncedTo);
    assert.equal(JSON.stringify(explorer.index.records), before.records);
  });
});
