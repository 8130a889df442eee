// Links to the block explorer (when the chain has one), to node pages here and to the IPFS
// gateway. Shortened hashes keep the full value as their title.
import { getMeta } from "./api-client.js";
import { h } from "./dom.js";
import { short, shortCid } from "./format.js";

/** `${blockExplorer}/${kind}/${value}`, or null when the chain has no block explorer. */
export function explorerUrl(kind, value) {
  const meta = getMeta();
  return meta.blockExplorer ? `${meta.blockExplorer.url}/${kind}/${value}` : null;
}

function external(url, attrs, text) {
  return h("a", Object.assign({ href: url, rel: "noreferrer", target: "_blank" }, attrs), text);
}

/** A transaction: its hash, linked to the block explorer when the chain has one. */
export function txLink(ref) {
  if (!ref) return "—";
  const url = explorerUrl("tx", ref.tx);
  const attrs = { class: "mono tx", title: ref.tx };
  return url ? external(url, attrs, short(ref.tx)) : h("span", attrs, short(ref.tx));
}

export function blockLink(block) {
  if (block === null || block === undefined) return "—";
  const url = explorerUrl("block", block);
  return url
    ? external(url, { class: "block" }, `#${block}`)
    : h("span", { class: "block" }, `#${block}`);
}

/** An address: to its page here when `internal`, plus ↗ to the block explorer. */
export function addressLink(address, internal = true) {
  if (!address) return "—";
  const url = explorerUrl("address", address);
  return h(
    "span",
    { class: "address" },
    internal
      ? h("a", { href: `/nodes/${address}`, class: "mono", title: address }, short(address))
      : h("span", { class: "mono", title: address }, short(address)),
    url
      ? external(url, { class: "ext", title: `${address} on ${getMeta().blockExplorer.name}` }, "↗")
      : null,
  );
}

export function contractLink(address) {
  return addressLink(address, false);
}

export function cidLink(cid) {
  if (!cid) return "—";
  return external(
    getMeta().gateway + encodeURIComponent(cid),
    { class: "mono cid", title: cid },
    shortCid(cid),
  );
}

/** A hash shortened, the full value as its title. */
export function hash(hex) {
  return hex ? h("span", { class: "mono hash", title: hex }, short(hex)) : "—";
}

/** A hash written out in full (detail panels, where an auditor copies it). */
export function full(hex) {
  return hex ? h("span", { class: "mono full" }, hex) : "—";
}
