// DOM helpers shared by every page. Values from the chain or IPFS are always put in the page as
// text nodes or attributes (never as HTML), so a CID or a proposal description cannot inject
// markup.

/** h("a", { href: "/x", class: "c" }, "text", child): an element with attributes and children. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Appends children (nested arrays flattened, null / undefined / false dropped, the rest as text). */
export function append(el, children) {
  for (const child of [children].flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the page's content. */
export function render(...children) {
  const main = document.getElementById("main");
  main.replaceChildren();
  append(main, children);
}

/**
 * A table in its own frame. A header is a string or `{ label, class, title }`; `attrs` go on the
 * <table> (an id, a class).
 */
export function table(headers, rows, attrs) {
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
            typeof x === "string"
              ? h("th", { scope: "col" }, x)
              : h("th", { scope: "col", class: x.class, title: x.title }, x.label),
          ),
        ),
      ),
      h("tbody", {}, rows),
    ),
  );
}

export function card(label, value, attrs) {
  return h(
    "div",
    Object.assign({ class: "card" }, attrs || {}),
    h("div", { class: "label" }, label),
    h("div", { class: "value" }, value),
  );
}

/** A definition list of [key, value] pairs. */
export function kv(pairs) {
  return h(
    "dl",
    { class: "kv" },
    pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]),
  );
}

/** tone: "ok" | "bad" | "warn" | "muted" | "" */
export function badge(text, tone) {
  return h("span", { class: `badge ${tone || ""}`.trim() }, text);
}

export function setTitle(text) {
  document.title = `${text} · protolearn explorer`;
}

export function showError(err) {
  render(h("div", { class: "error", id: "error" }, String(err && err.message ? err.message : err)));
}
