import type { Command as CommandType } from 'commander';
import { berthVersion } from '../version.js';
import { Command } from './commander.js';

type Register = (program: CommandType) => void;

/** Top-level commands that one module registers, and how to load that module. */
interface CommandGroup {
  /** Each command's name and its line in `berth --help`. */
  commands: Record<string, string>;
  load(): Promise<Register>;
}

/**
 * Every top-level command. A run loads only the module of the command it runs, so that `berth
 * --help` and a short command do not pay for loading all the others; the rest appear as their
 * `--help` lines only.
 */
export const COMMAND_GROUPS: CommandGroup[] = [
  {
    commands: { serve: 'run the registry (SQLite and files in the data folder unless BERTH_DATABASE_URL is set)' },
    load: async () => (await import('./serve.js')).registerServe,
  },
  {
    commands: {
      login: 'log in to a Berth with an API key; keeps a refresh token (not the key) in ~/.berth/config.json (0600)',
      logout: 'forget the session (the refresh token stops being kept here)',
      target: 'show the account and region commands work in, or set the region',
    },
    load: async () => (await import('./commands/session.js')).registerSession,
  },
  {
    commands: { iam: 'manage API keys, service IDs, policies, users and accounts' },
    load: async () => (await import('./commands/iam.js')).registerIamCommands,
  },
  {
    commands: { cr: "work with the targeted region's registry: login, namespaces, images" },
    load: async () => (await import('./commands/cr.js')).registerCrCommands,
  },
  { commands: { keys: 'manage the keys that sign IAM access tokens' }, load: async () => (await import('./keys.js')).registerKeys },
  {
    commands: { audit: 'the audit trail: every authentication, decision and change' },
    load: async () => (await import('./audit.js')).registerAudit,
  },
  {
    commands: { gc: 'remove unreferenced blobs, expired trash and idle uploads now (servers may keep running)' },
    load: async () => (await import('./gc.js')).registerGc,
  },
  {
    commands: { accounts: 'create accounts (tenants) on this Berth', users: 'create users in an account' },
    load: async () => (await import('./accounts.js')).registerAccounts,
  },
  {
    commands: {
      backup: 'copy the database, blobs and keys of the data folder into a new folder (servers may keep running)',
      restore: 'make a new data folder from a backup; then run berth serve --data on it',
    },
    load: async () => (await import('./backup.js')).registerBackup,
  },
];

/** The top-level command `argv` runs (`berth help cr` runs cr's help), if it names one. */
function commandOf(argv: readonly string[]): string | undefined {
  const [first, second] = argv.filter((arg) => !arg.startsWith('-'));
  return first === 'help' ? second : first;
}

/**
 * Every `berth` command, fully loaded when `argv` is not given; for `argv`, only the group of the
 * command it runs. Errors and bad flags throw rather than exit, so main.ts reports them in one line.
 */
export async function buildProgram(argv?: readonly string[]): Promise<CommandType> {
  const program = new Command()
    .name('berth')
    .description('Berth: an OCI container registry with IAM access automation')
    .version(berthVersion(), '-v, --version', 'print the version')
    // Parse errors in one line like every other error: `berth: unknown option '--bogus'`.
    .configureOutput({ outputError: (message, write) => write(`berth: ${message.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`) });
  const wanted = argv === undefined ? undefined : commandOf(argv);
  for (const group of COMMAND_GROUPS) {
    if (argv === undefined || (wanted !== undefined && Object.hasOwn(group.commands, wanted))) (await group.load())(program);
    else for (const [name, summary] of Object.entries(group.commands)) program.command(name).description(summary);
  }
  const exitOverride = (command: CommandType) => {
    command.exitOverride();
    command.commands.forEach(exitOverride);
  };
  exitOverride(program);
  return program;
}
