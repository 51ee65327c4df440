import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { Command as CommandClass } from '../../../src/cli/commander.js';
import { buildProgram, COMMAND_GROUPS } from '../../../src/cli/program.js';

/** Every command a user can run, by its full name (`iam api-key-create`). */
function leaves(command: Command, prefix: string[] = []): Array<{ name: string; command: Command }> {
  return command.commands.flatMap((child) => {
    const path = [...prefix, child.name()];
    return child.commands.length > 0 ? leaves(child, path) : [{ name: path.join(' '), command: child }];
  });
}

function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

const commands = leaves(await buildProgram());

describe('berth --help', () => {
  it('has the commands the issue names', () => {
    const names = commands.map((c) => c.name);
    for (const expected of [
      'serve', 'login', 'logout', 'target',
      'iam api-key-create', 'iam api-keys', 'iam api-key', 'iam api-key-delete', 'iam api-key-lock', 'iam api-key-unlock',
      'iam service-id-create', 'iam service-ids', 'iam service-id', 'iam service-id-delete', 'iam service-api-key-create', 'iam service-api-keys',
      'iam service-policy-create', 'iam service-policies', 'iam user-policy-create', 'iam user-policies', 'iam policy-delete',
      'iam account-create', 'iam user-create',
      'cr region-set', 'cr region', 'cr login', 'cr namespace-add', 'cr namespace-list', 'cr namespace-rm', 'cr images', 'cr image-rm', 'cr image-tag',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(commands.map((c) => [c.name, c.command] as const))('%s has a description and an example', (_name, command) => {
    const help = helpOf(command);
    expect(command.description()).not.toBe('');
    expect(help).toMatch(/Examples?:\n {2}berth /);
  });
});

describe('berth --help without loading every command', () => {
  it.each(COMMAND_GROUPS.map((group) => [Object.keys(group.commands).join(', '), group] as const))(
    'the lines listed for %s are what its module registers',
    async (_names, group) => {
      const program = new CommandClass();
      (await group.load())(program);
      expect(Object.fromEntries(program.commands.map((command) => [command.name(), command.description()]))).toEqual(group.commands);
    },
  );

  it('lists every command with the same line whichever command runs', async () => {
    const lines = (program: Command) => program.commands.map((command) => [command.name(), command.description()]);
    const full = lines(await buildProgram());
    expect(lines(await buildProgram(['--help']))).toEqual(full);
    expect(lines(await buildProgram(['cr', 'images']))).toEqual(full);
  });
});
