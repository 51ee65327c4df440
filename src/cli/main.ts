#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/config.js';
import { registerAccounts } from './accounts.js';
import { registerKeys } from './keys.js';
import { registerServe } from './serve.js';

const program = new Command()
  .name('berth')
  .description('Berth: an OCI container registry with IAM access automation')
  .exitOverride();
registerServe(program);
registerKeys(program);
registerAccounts(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  const message = error instanceof ConfigError ? `invalid configuration: ${error.message}` : (error as Error).message;
  process.stderr.write(`berth: ${message}\n`);
  process.exit(1);
}
