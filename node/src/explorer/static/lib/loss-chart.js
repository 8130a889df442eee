// The run page's chart: held-out loss per round (on chain, ModelAgreed.evalLoss) on the left
// axis and accuracy (measured by the explorer replaying the model) on the right, drawn with
// uPlot (served by the explorer from node_modules, like every other file here). Under the plot a
// table holds every value as text: for screen readers, for copying, and for the tests.
// A language-model run (chart.metric "bits-per-byte") attests held-out bits per byte as its
// evalLoss: the left axis is then bits per byte and the right one next-byte accuracy.
import uPlot from "../vendor/uplot.js";
import { h } from "./dom.js";

const LOSS_COLOR = "#1f4e79";
const ACC_COLOR = "#d9822b";
const HEIGHT = 260;

/** One uPlot and its ResizeObserver per chart element, so an update reuses the plot. */
const plots = new WeakMap();

/** The words of the chart for `chart.metric`: a classifier's loss, or a language model's bits per byte. */
export function chartLabels(chart) {
  return chart.metric === "bits-per-byte"
    ? {
        series: "held-out bits per byte",
        column: "Bits per byte",
        cellClass: "num loss bpb",
        accuracy: "next-byte accuracy",
        accuracyColumn: "Next-byte accuracy",
        aria: "Held-out bits per byte and next-byte accuracy per round; the values are in the table below",
        legend:
          "Held-out bits per byte (left axis; lower is better, 8 is a uniform guess) is attested on chain by the validators; next-byte accuracy (right axis, dashed) is measured here by replaying the model through every agreed round.",
      }
    : {
        series: "held-out loss",
        column: "Held-out loss",
        cellClass: "num loss",
        accuracy: "accuracy",
        accuracyColumn: "Accuracy",
        aria: "Held-out loss and accuracy per round; the values are in the table below",
        legend:
          "Held-out loss (left axis) is attested on chain by the validators; accuracy (right axis, dashed) is measured here by replaying the model through every agreed round.",
      };
}

function seriesData(chart) {
  const loss = new Map(chart.loss.map((p) => [p.round, p.loss]));
  const acc = new Map(chart.accuracy.points.map((p) => [p.round, p.accuracy]));
  const rounds = [...new Set([...loss.keys(), ...acc.keys()])].sort((a, b) => a - b);
  return [rounds, rounds.map((r) => loss.get(r) ?? null), rounds.map((r) => acc.get(r) ?? null)];
}

const lossTitle = (labels, round, v) => `round ${round}: ${labels.series} ${v.toFixed(4)}`;
const accTitle = (labels, round, v) => `round ${round}: ${labels.accuracy} ${(100 * v).toFixed(1)} %`;

/** The values as a table: one row per round, each cell titled with its full sentence. */
function valuesTable(chart) {
  const labels = chartLabels(chart);
  const [rounds, loss, acc] = seriesData(chart);
  return h(
    "details",
    { class: "chart-values" },
    h("summary", {}, `Values (${rounds.length} round${rounds.length === 1 ? "" : "s"})`),
    h(
      "table",
      { class: "chart-data" },
      h(
        "thead",
        {},
        h(
          "tr",
          {},
          h("th", { scope: "col", class: "num" }, "Round"),
          h("th", { scope: "col", class: "num" }, labels.column),
          h("th", { scope: "col", class: "num" }, labels.accuracyColumn),
        ),
      ),
      h(
        "tbody",
        {},
        rounds.map((round, i) =>
          h(
            "tr",
            { dataset: { round } },
            h("td", { class: "num" }, round),
            loss[i] === null
              ? h("td", { class: "num muted" }, "—")
              : h(
                  "td",
                  { class: labels.cellClass, dataset: { round }, title: lossTitle(labels, round, loss[i]) },
                  loss[i].toFixed(4),
                ),
            acc[i] === null
              ? h("td", { class: "num muted" }, "—")
              : h(
                  "td",
                  { class: "num acc", dataset: { round }, title: accTitle(labels, round, acc[i]) },
                  `${(100 * acc[i]).toFixed(1)} %`,
                ),
          ),
        ),
      ),
    ),
  );
}

function legendText(chart) {
  return [
    h("p", { class: "note" }, chartLabels(chart).legend),
    chart.accuracy.note
      ? h("p", { class: "note", id: "accuracy-note" }, chart.accuracy.note)
      : null,
  ];
}

/** Loss axis range: the data ±15 % of its span (or of its value when flat), never below 0. */
function lossRange(_u, min, max) {
  if (min === null || max === null) return [0, 1];
  const span = max - min || Math.max(Math.abs(max), 1) * 0.1;
  return [Math.max(0, min - span * 0.15), max + span * 0.15];
}

function plotOptions(width, labels) {
  const axis = { stroke: "#5b6675", grid: { stroke: "#e8ebef", width: 1 }, ticks: { show: false } };
  return {
    width,
    height: HEIGHT,
    scales: {
      x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] },
      loss: { range: lossRange },
      acc: { range: [0, 1] },
    },
    axes: [
      {
        ...axis,
        label: "round",
        size: 28,
        labelSize: 20,
        incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000],
        values: (_u, splits) => splits.map((v) => String(v)),
      },
      {
        ...axis,
        scale: "loss",
        label: labels.series,
        size: 60,
        values: (_u, splits) => splits.map((v) => v.toFixed(3)),
      },
      {
        ...axis,
        scale: "acc",
        side: 1,
        label: labels.accuracy,
        size: 56,
        grid: { show: false },
        values: (_u, splits) => splits.map((v) => `${Math.round(v * 100)}%`),
      },
    ],
    series: [
      { label: "round", value: (_u, v) => (v === null || v === undefined ? "—" : String(v)) },
      {
        label: labels.series,
        scale: "loss",
        stroke: LOSS_COLOR,
        width: 2,
        points: { show: true, size: 7, fill: LOSS_COLOR, stroke: LOSS_COLOR },
        value: (_u, v) => (v === null || v === undefined ? "—" : v.toFixed(4)),
      },
      {
        label: `${labels.accuracy} (replayed)`,
        scale: "acc",
        stroke: ACC_COLOR,
        width: 2,
        dash: [6, 4],
        points: { show: true, size: 7, fill: ACC_COLOR, stroke: ACC_COLOR },
        value: (_u, v) => (v === null || v === undefined ? "—" : `${(100 * v).toFixed(1)} %`),
      },
    ],
    cursor: { drag: { x: false, y: false }, points: { size: 9 } },
    legend: { live: true },
  };
}

/**
 * The chart element (#loss-chart). The plot is created once the element is laid out (it needs a
 * width) and follows the element's width afterwards.
 */
export function lossChart(chart) {
  const box = h("div", { class: "chart-box", id: "loss-chart" });
  if (chart.loss.length === 0) {
    box.append(
      h("p", { class: "muted" }, "No round has reached model agreement yet: nothing to chart."),
    );
    return box;
  }
  const host = h("div", {
    class: "chart-plot",
    role: "img",
    "aria-label": chartLabels(chart).aria,
  });
  const state = { plot: null, data: seriesData(chart), labels: chartLabels(chart), observer: null, host };
  state.observer = new ResizeObserver(() => {
    const width = Math.floor(host.clientWidth);
    if (width <= 0) return;
    if (state.plot === null) state.plot = new uPlot(plotOptions(width, state.labels), state.data, host);
    else if (state.plot.width !== width) state.plot.setSize({ width, height: HEIGHT });
  });
  state.observer.observe(host);
  plots.set(box, state);
  box.append(host, ...legendText(chart).filter(Boolean), valuesTable(chart));
  return box;
}

/**
 * Puts new values into a chart made by lossChart: the plot keeps its element (no flicker while
 * the replay adds accuracy points); the notes and the table are redrawn, the table keeping its
 * open / closed state.
 */
export function updateLossChart(box, chart) {
  const state = plots.get(box);
  if (!state || chart.loss.length === 0) {
    disposeLossChart(box);
    box.replaceWith(lossChart(chart));
    return;
  }
  state.data = seriesData(chart);
  if (state.plot !== null) state.plot.setData(state.data);
  const open = box.querySelector("details.chart-values")?.open ?? false;
  const values = valuesTable(chart);
  values.open = open;
  box.replaceChildren(state.host, ...legendText(chart).filter(Boolean), values);
}

/** Stops following the element's width and frees the plot. */
export function disposeLossChart(box) {
  const state = plots.get(box);
  if (!state) return;
  state.observer.disconnect();
  state.plot?.destroy();
  plots.delete(box);
}
