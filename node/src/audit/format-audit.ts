import { formatUnits } from "viem";
import type { AuditedContribution, AuditedRound, AuditReport } from "./audit-report.js";
import { EVAL_LOSS_SCALE } from "./constants.js";
import type { SlashView } from "./round-audit.js";

/**
 * The audit report as text for a terminal: one block per round, one line group per
 * contribution, full addresses, CIDs and hashes (an auditor copies them into other tools), and
 * the findings last so they are what the reader sees when the output ends.
 */

function learn(wei: string | null): string {
  return wei === null ? "-" : `${formatUnits(BigInt(wei), 18)} LEARN`;
}

function loss(scaled: string): string {
  return (Number(scaled) / EVAL_LOSS_SCALE).toFixed(6);
}

function slashText(s: SlashView): string {
  return `slashed ${s.reason} ${learn(s.amount)} (slash #${s.slashId}, ${s.status}, evidence ${s.evidenceHash ?? "unknown"})`;
}

function contributionLines(c: AuditedContribution): string[] {
  const lines: string[] = [];
  if (c.reveal === null) {
    lines.push(`  no reveal · ${c.node} · commit #${c.commitIndex} ${c.commitment}`);
    for (const s of c.slashes) lines.push(`    ${slashText(s)}`);
    return lines;
  }
  const state = c.accepted === null ? "not finalized" : c.accepted ? "accepted" : "rejected";
  const median = c.medianScore === null ? "" : ` · median ${c.medianScore} ppm`;
  lines.push(
    `  update ${c.reveal.index} · ${c.node} · ${state}${median} · reward ${learn(c.reward)}`,
  );
  lines.push(
    `    cid ${c.reveal.cid} · content hash ${c.reveal.contentHash} · ${c.reveal.samples} samples · commit #${c.commitIndex}`,
  );
  if (c.scorerSeats.length > 0) {
    const got = c.scores.map((s) => `seat ${s.seat} ${s.validator} ${s.scorePpm}`).join(", ");
    lines.push(`    scorer seats ${c.scorerSeats.join(", ")}${c.scorers === null ? "" : ` (${c.scorers} revealed)`}: ${got || "no revealed score"}`);
  }
  for (const s of c.slashes) lines.push(`    ${slashText(s)}`);
  if (c.verify !== undefined) {
    lines.push(
      `    verify: ${c.verify.status === "ok" ? "ok" : c.verify.status.toUpperCase()} — ${c.verify.detail}`,
    );
  }
  if (c.rescore !== undefined) {
    const against =
      c.medianScore === null ? "round not finalized" : `on-chain median ${c.medianScore}`;
    lines.push(`    rescore: ${c.rescore.scorePpm} ppm (${c.rescore.reason}), ${against}`);
  }
  return lines;
}

function roundLines(r: AuditedRound): string[] {
  const head = [`round ${r.round}`, r.status];
  if (r.agreed !== null) {
    head.push(
      `committee agreed M_${r.round} = ${r.agreed.modelHash}`,
      `its held-out loss ${loss(r.agreed.evalLoss)}`,
      `${r.agreed.acceptedUpdates} of ${r.reveals} updates accepted`,
      `emission ${learn(r.agreed.emission)}${r.agreed.emissionFailed ? " (mint failed)" : ""}`,
    );
  } else if (r.failed !== null) {
    head.push(`failed: ${r.failed.reason}`, `M_${r.round + 1} = M_${r.round} (its updates are not applied)`);
  } else {
    head.push(
      `last agreed model ${r.openedModelHash ?? "?"}`,
      `${r.commits} commits, ${r.reveals} reveals, ${r.validators.length} votes so far`,
    );
  }
  const lines = [head.join(" · ")];
  if (r.seed !== null)
    lines.push(`  seed ${r.seed}${r.paramsApplied ? " · new parameters from this round" : ""}`);
  if (r.randomness !== null) lines.push(`  randomness ${r.randomness}`);
  if (r.committee !== null) lines.push(`  committee (seat: holder): ${r.committee.map((a, j) => `${j}: ${a}`).join(", ")}`);
  for (const c of r.contributions) lines.push(...contributionLines(c));
  for (const v of r.validators) {
    const settled = v.agreed === null ? "not settled" : v.agreed ? "agreed" : "disagreed";
    const vote =
      v.commitment === null
        ? "no vote committed"
        : v.revealed
          ? `vote ${v.commitment} revealed: model ${v.modelHash ?? "?"} · loss ${v.evalLoss === null ? "-" : loss(v.evalLoss)}`
          : `vote ${v.commitment} NOT revealed`;
    lines.push(
      `  validator ${v.validator} · seats ${v.seats.join(", ") || "none"} (weight ${v.weight}) · assigned updates ${v.assigned.join(", ") || "none"} · ${vote} · ${settled} · reward ${learn(v.reward)}`,
    );
    for (const s of v.slashes) lines.push(`    ${slashText(s)}`);
  }
  if (r.replay !== undefined) {
    lines.push(
      `  replay: M_${r.round} replayed from the earlier rounds' accepted sets ${r.replay.modelHashMatches ? "matches" : "DOES NOT match"} · held-out loss ${loss(r.replay.evalLoss)} · accuracy ${(100 * r.replay.accuracy).toFixed(1)} %`,
    );
  }
  if (r.expectedModel !== undefined) {
    lines.push(
      `  P9: M_${r.round} = ${r.expectedModel.modelHash}; attested another hash: ${r.expectedModel.wrong.length === 0 ? "nobody" : r.expectedModel.wrong.join(", ")}`,
    );
  }
  return lines;
}

/** The report as text. */
export function formatAudit(report: AuditReport): string {
  const checks = [
    report.checks.verify ? "verify" : "",
    report.checks.rescore ? "rescore" : "",
  ].filter(Boolean);
  const filters = [
    report.filters.round === null ? "" : `round ${report.filters.round}`,
    report.filters.node === null ? "" : `node ${report.filters.node}`,
  ].filter(Boolean);
  const lines = [
    `audit of run ${report.runId} on ${report.network} (chain ${report.chainId}), contract ${report.run}, events of blocks ${report.blocks.from}–${report.blocks.to}`,
    `model ${report.modelId} · checks: ${checks.length > 0 ? checks.join(", ") : "chain records only (add --verify / --rescore)"}${filters.length > 0 ? ` · only ${filters.join(", ")}` : ""}`,
  ];
  for (const round of report.rounds) lines.push("", ...roundLines(round));
  lines.push("");
  if (report.findings.length === 0) {
    lines.push(
      report.checks.verify
        ? "findings: none — every checked claim holds"
        : "findings: none (nothing was re-checked off chain)",
    );
  } else {
    lines.push(`findings (${report.findings.length}):`);
    for (const f of report.findings) {
      const what =
        f.index === null
          ? `round ${f.round}`
          : `round ${f.round} update ${f.index} ${f.node ?? ""}`;
      lines.push(`  ${what} ${f.kind.toUpperCase()}: ${f.detail} (on chain: ${f.onChain})`);
    }
  }
  return lines.join("\n");
}
