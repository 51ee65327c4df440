import { createInterface } from 'node:readline/promises';
import { CliError } from './errors.js';

export type Format = 'table' | 'json';

/** `--output json` for scripts, tables for people. */
export function formatOf(flags: { output?: string }): Format {
  const format = (flags.output ?? 'table').toLowerCase();
  if (format !== 'table' && format !== 'json') throw new CliError(`--output must be table or json, got "${flags.output}"`);
  return format;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Columns padded to their widest cell; an empty list says so instead of printing a bare header. */
export function printTable(columns: Array<[header: string, cell: (row: never) => unknown]>, rows: readonly unknown[], empty = 'Nothing to list.'): void {
  if (rows.length === 0) {
    process.stdout.write(`${empty}\n`);
    return;
  }
  const cells = rows.map((row) => columns.map(([, cell]) => String(cell(row as never) ?? '')));
  const widths = columns.map(([header], i) => Math.max(header.length, ...cells.map((line) => line[i]!.length)));
  const line = (values: string[]) => values.map((value, i) => (i === values.length - 1 ? value : value.padEnd(widths[i]!))).join('   ');
  process.stdout.write(`${[line(columns.map(([header]) => header)), ...cells.map(line)].join('\n')}\n`);
}

/** Either the JSON or the table of the same rows. */
export function printList(flags: { output?: string }, columns: Array<[string, (row: never) => unknown]>, rows: readonly unknown[], empty?: string): void {
  if (formatOf(flags) === 'json') printJson(rows);
  else printTable(columns, rows, empty);
}

/** Name: value lines for one entity, or its JSON. */
export function printEntity(flags: { output?: string }, fields: Array<[string, unknown]>, json: unknown): void {
  if (formatOf(flags) === 'json') {
    printJson(json);
    return;
  }
  const width = Math.max(...fields.map(([name]) => name.length));
  process.stdout.write(`${fields.filter(([, value]) => value !== undefined).map(([name, value]) => `${name.padEnd(width)}   ${String(value)}`).join('\n')}\n`);
}

/**
 * Asks before a destructive command unless `-f` was given. Without a terminal to ask on, it
 * refuses: a script must say `-f`.
 */
export async function confirm(question: string, force: boolean | undefined): Promise<void> {
  if (force) return;
  if (!process.stdin.isTTY) throw new CliError(`${question} Refusing without confirmation; add -f to do it without asking.`);
  const prompt = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await prompt.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') throw new CliError('cancelled');
  } finally {
    prompt.close();
  }
}
