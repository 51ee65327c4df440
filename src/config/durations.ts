/** Units a duration setting may use, in milliseconds. */
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A duration as settings write it: a whole number with a unit (`30s`, `10m`, `1h`, `7d`, `250ms`),
 * or a bare `0`. Any other bare number is refused: `60` could mean seconds or minutes.
 * Returns milliseconds, or undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  if (text === '0') return 0;
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * UNITS[match[2]!]!;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** Milliseconds as the shortest exact duration text (`90s`, `1h`, `0`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0';
  for (const unit of ['d', 'h', 'm', 's']) if (ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  return `${ms}ms`;
}
