import { Command } from 'commander';
import { registerAccounts } from './accounts.js';
import { registerCrCommands } from './commands/cr.js';
import { registerIamCommands } from './commands/iam.js';
import { registerSession } from './commands/session.js';
import { registerGc } from './gc.js';
import { registerAudit } from './audit.js';
import { registerKeys } from './keys.js';
import { registerServe } from './serve.js';

/** Every `berth` command. Errors and bad flags throw rather than exit, so main.ts reports them in one line. */
export function buildProgram(): Command {
  const program = new Command()
    .name('berth')
    .description('Berth: an OCI container registry with IAM access automation')
    .showHelpAfterError('(add --help for usage)');
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
