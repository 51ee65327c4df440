#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { registerAccounts } from './accounts.js';
import { registerCrCommands } from './commands/cr.js';
import { registerIamCommands } from './commands/iam.js';
import { registerSession } from './commands/session.js';
import { registerKeys } from './keys.js';
import { registerServe } from './serve.js';

const program = new Command()
  .name('berth')
  .description('Berth: an OCI container registry with IAM access automation')
  .showHelpAfterError('(add --help for usage)')
  .exitOverride();
registerServe(program);
registerSession(program);
registerIamCommands(program);
registerCrCommands(program);
registerKeys(program);
registerAccounts(program);
// Every subcommand reports a bad flag as the top level does, without a stack.
const exitOverride = (command: Command) => {
  command.exitOverride();
  command.commands.forEach(exitOverride);
};
exitOverride(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const message = error instanceof ConfigError ? `invalid configuration: ${error.message}` : (error as Error).message;
  process.stderr.write(`berth: ${message.split('\n')[0]}\n`);
  process.exit(1);
}
