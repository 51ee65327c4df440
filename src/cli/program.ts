import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerAccounts } from './accounts.js';
import { registerCrCommands } from './commands/cr.js';
import { registerIamCommands } from './commands/iam.js';
import { registerSession } from './commands/session.js';
import { registerGc } from './gc.js';
import { registerAudit } from './audit.js';
import { registerKeys } from './keys.js';
import { registerServe } from './serve.js';

/** The version in package.json, two folders up from src/cli and dist/cli alike. */
function packageVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Every `berth` command. Errors and bad flags throw rather than exit, so main.ts reports them in one line. */
export function buildProgram(): Command {
  const program = new Command()
    .name('berth')
    .description('Berth: an OCI container registry with IAM access automation')
    .version(packageVersion(), '-v, --version', 'print the version')
    // Parse errors in one line like every other error: `berth: unknown option '--bogus'`.
    .configureOutput({ outputError: (message, write) => write(`berth: ${message.replace(/^error: /, '').trim().replace(/\s*\n\s*/g, ' ')}\n`) });
  registerServe(program);
  registerSession(program);
  registerIamCommands(program);
  registerCrCommands(program);
  registerKeys(program);
  registerAudit(program);
  registerGc(program);
  registerAccounts(program);
  const exitOverride = (command: Command) => {
    command.exitOverride();
    command.commands.forEach(exitOverride);
  };
  exitOverride(program);
  return program;
}
