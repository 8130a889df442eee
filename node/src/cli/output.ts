/**
 * Output of read commands: a readable table/lines by default, or exactly one JSON object with
 * `--json` (bigints as decimal strings) so scripts can consume it.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? v.toString() : v), 2);
}

export function printResult(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write((json ? toJson(value) : human()) + "\n");
}

/** A plain aligned text table. */
export function table(headers: string[], rows: (string | number | bigint)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? "").length)));
  const line = (row: string[]): string => row.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.slice(1).map(line)].join("\n");
}
