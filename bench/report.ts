// The comparison table, and the same rows as JSON for bench/results.json.
import { writeFileSync } from "node:fs";
import type { ServerName } from "./servers.js";

export type Cell = { value: number; detail?: Record<string, unknown> } | { error: string } | { skipped: string };

export interface Row {
  scenario: string;
  unit: string;
  cells: Partial<Record<ServerName, Cell>>;
}

const COLUMNS: ServerName[] = ["berth", "distribution", "ceiling"];

function show(cell: Cell | undefined): string {
  if (!cell) return "—";
  if ("value" in cell) return cell.value >= 100 ? cell.value.toFixed(0) : cell.value.toFixed(1);
  if ("error" in cell) return "error";
  return "skip";
}

function ratio(a: Cell | undefined, b: Cell | undefined): string {
  if (!a || !b || !("value" in a) || !("value" in b) || b.value === 0) return "—";
  return `${(a.value / b.value).toFixed(2)}×`;
}

/** Each row's cells as both tables print them: figures, then Berth's ratios. */
function bodyCells(rows: Row[]): string[][] {
  return rows.map((r) => [
    r.scenario,
    r.unit,
    ...COLUMNS.map((c) => show(r.cells[c])),
    ratio(r.cells.berth, r.cells.distribution),
    ratio(r.cells.berth, r.cells.ceiling),
  ]);
}

/** `ceilingLabel` renames the third column (the S3 mode puts the object store's own figures there). */
export function formatTable(rows: Row[], ceilingLabel = "ceiling"): string {
  const short = ceilingLabel === "ceiling" ? "ceil" : ceilingLabel;
  const header = ["scenario", "unit", "berth", "distribution", ceilingLabel, "berth/dist", `berth/${short}`];
  const body = bodyCells(rows);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const out = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
  const problems = rows.flatMap((r) =>
    COLUMNS.flatMap((c) => {
      const cell = r.cells[c];
      if (cell && "error" in cell) return [`  ${r.scenario} / ${c === "ceiling" ? ceilingLabel : c}: ${cell.error}`];
      return [];
    }),
  );
  if (problems.length > 0) out.push("", "errors:", ...problems);
  return out.join("\n");
}

/** The same table as Markdown, for pasting into a README. */
export function formatMarkdown(rows: Row[], ceilingLabel = "ceiling"): string {
  const short = ceilingLabel === "ceiling" ? "ceil" : ceilingLabel;
  const header = ["scenario", "unit", "Berth", "Distribution", ceilingLabel, "Berth/Dist", `Berth/${short}`];
  const body = bodyCells(rows);
  const line = (cells: string[]): string => `| ${cells.join(" | ")} |`;
  return [line(header), `|${header.map((_, i) => (i < 2 ? "---" : "--:")).join("|")}|`, ...body.map(line)].join("\n");
}

export function writeJson(path: string, meta: Record<string, unknown>, rows: Row[]): void {
  writeFileSync(path, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
}
