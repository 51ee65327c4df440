import type { Command } from 'commander';
import { registerAccessCommands } from './iam-access.js';
import { registerIdentityCommands } from './iam-identities.js';

/** `berth iam …`: API keys, service IDs, policies, users and accounts, over the IAM APIs. */
export function registerIamCommands(program: Command): void {
  const iam = program.command('iam').description('manage API keys, service IDs, policies, users and accounts');
  registerIdentityCommands(iam);
  registerAccessCommands(iam);
}
