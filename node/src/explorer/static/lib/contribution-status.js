// A contribution's status and slashes, drawn alike on the round page and the node page.
import { badge, h } from "./dom.js";
import { learn, slashStatusTone } from "./format.js";
import { hash, txLink } from "./links.js";

/** "unrevealed" | "pending" | "accepted" | "rejected" */
export function contributionStatus(c) {
  if (c.reveal === null) return "unrevealed";
  if (c.accepted === null) return "pending";
  return c.accepted ? "accepted" : "rejected";
}

export function statusBadge(status) {
  return badge(
    status,
    status === "accepted" ? "ok" : status === "rejected" || status === "unrevealed" ? "bad" : "",
  );
}

/** The slashes of one contribution or vote: reason, amount, id, status, evidence, tx. */
export function slashCell(slashes) {
  if (slashes.length === 0) return "—";
  return slashes.map((sl) =>
    h(
      "div",
      { class: "slash" },
      h("div", {}, badge(sl.reason, "bad"), " ", badge(sl.status, slashStatusTone(sl.status))),
      h("div", {}, `${learn(sl.amount)} · #${sl.slashId}`),
      h("div", { class: "note" }, "evidence ", hash(sl.evidenceHash)),
      h("div", { class: "note" }, "tx ", txLink(sl.at)),
    ),
  );
}
