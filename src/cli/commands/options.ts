import type { Command } from 'commander';

export type OutputFlags = { output?: string };

/** `--output table|json` on a command that prints something. */
export const withOutput = (command: Command): Command => command.option('--output <format>', 'table or json', 'table');

/** The example every command's `--help` ends with. */
export const withExample = (command: Command, ...lines: string[]): Command =>
  command.addHelpText('after', `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((line) => `  ${line}`).join('\n')}\n`);
