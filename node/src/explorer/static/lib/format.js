// Formatting of chain values: hashes, token amounts, scores, losses, times.

/** "0x6de82011…f1a2f3" → "0x6de820…a2f3": 8 characters, an ellipsis, the last `tail`. */
export function short(hex, tail = 4) {
  if (typeof hex !== "string") return "—";
  return hex.length > 8 + tail + 2 ? `${hex.slice(0, 8)}…${hex.slice(-tail)}` : hex;
}

/** A CID shortened: its first characters are the same for every CID of a kind, so keep more of its end. */
export function shortCid(cid) {
  return short(cid, 6);
}

/** "1234567" → "1,234,567" */
export function group(digits) {
  return String(digits).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** wei (decimal string) → "1,234.5678 LEARN"; `unit: false` leaves the unit off. */
export function learn(wei, unit = true) {
  if (wei === null || wei === undefined) return "—";
  const v = BigInt(wei);
  const whole = v / 10n ** 18n;
  const frac = (v % 10n ** 18n).toString().padStart(18, "0").slice(0, 4).replace(/0+$/, "");
  return `${group(whole.toString())}${frac ? "." + frac : ""}${unit ? " LEARN" : ""}`;
}

/** A score in parts per million, grouped. */
export function ppm(score) {
  return score === null || score === undefined ? "—" : group(String(score));
}

/** 1e9-scaled loss → "1.4895" */
export function loss(scaled) {
  return scaled === null || scaled === undefined ? "—" : (Number(scaled) / 1e9).toFixed(4);
}

/**
 * A run's 1e9-scaled held-out score in its unit: a language-model run (evalMetric
 * "bits-per-byte") attests bits per byte, "4.1234 bpb"; any other run a loss, "1.4895".
 */
export function heldOut(scaled, metric) {
  if (scaled === null || scaled === undefined) return "—";
  return metric === "bits-per-byte" ? `${loss(scaled)} bpb` : loss(scaled);
}

/** The column heading of a run's held-out score. */
export function heldOutLabel(metric) {
  return metric === "bits-per-byte" ? "Held-out bits per byte" : "Held-out loss";
}

/** unix seconds → "2026-11-29 22:01:09 UTC" */
export function utc(unix) {
  return new Date(Number(unix) * 1000)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, " UTC");
}

const SLASH_REASONS = ["None", "InvalidUpdate", "NoReveal", "ValidatorDisagreement"];

/** The StakeManager's SlashReason enum value → its name. */
export function slashReason(reason) {
  return SLASH_REASONS[reason] || String(reason);
}

/** Badge tone of a run's state. */
export function runStateTone(state) {
  return state === "active" ? "ok" : state === "halted" ? "bad" : "warn";
}

/** Badge tone of a slash's status. */
export function slashStatusTone(status) {
  return status === "reversed" ? "ok" : status === "escrowed" ? "warn" : "muted";
}
