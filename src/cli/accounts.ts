import type { Command } from 'commander';
import type { Iam } from '../iam/iam.js';
import { handOver } from './secrets.js';
import { storeConfig, storeOptions, type StoreFlags } from './store-config.js';

/** Runs `work` on IAM over the configured database (the operator's commands run beside the server). */
async function withIam<T>(flags: StoreFlags, work: (iam: Iam) => Promise<T>): Promise<T> {
  const { openIam } = await import('../server.js');
  const { iam, close } = await openIam(storeConfig(flags));
  try {
    return await work(iam);
  } finally {
    await close();
  }
}

/** The store's flags, and where the new API key goes. */
function keyOptions(command: Command): Command {
  return storeOptions(command).option('--file <path>', 'write the new API key to this file (0600) instead of printing it', undefined);
}

/** Operator commands: tenants (accounts) and their users, each with a first API key. */
export function registerAccounts(program: Command): void {
  const accounts = program.command('accounts').description('create accounts (tenants) on this Berth');
  keyOptions(
    accounts
      .command('create <name>')
      .description('create an account with its owner user and an API key for the owner')
      .requiredOption('--owner-email <email>', "the owner's e-mail")
      .option('--owner-name <name>', "the owner's name", 'owner'),
  )
    .addHelpText('after', '\nExample:\n  berth accounts create team-a --owner-email lead@example.com --file team-a.key\n')
    .action(async (name: string, flags: StoreFlags & { ownerEmail: string; ownerName: string; file?: string }) => {
      const out = await withIam(flags, async (iam) => {
        const { accountId, ownerIamId } = await iam.identities.createAccount(name, { name: flags.ownerName, email: flags.ownerEmail });
        const { secret } = await iam.apiKeys.create({ accountId, iamId: ownerIamId, name: 'owner', createdBy: ownerIamId });
        return [`account ${accountId}`, `owner ${ownerIamId}`, handOver(secret, flags.file)];
      });
      process.stdout.write(`${out.join('\n')}\n`);
    });

  const users = program.command('users').description('create users in an account');
  keyOptions(
    users
      .command('create <email>')
      .description('create a user in an account, with an API key for them')
      .requiredOption('--account <id>', 'the account id')
      .option('--name <name>', "the user's name"),
  )
    .addHelpText('after', '\nExample:\n  berth users create dev@example.com --account 2f2270abe5534c6c9ef97667b447b340\n')
    .action(async (email: string, flags: StoreFlags & { account: string; name?: string; file?: string }) => {
      const out = await withIam(flags, async (iam) => {
        const iamId = await iam.identities.createUser(flags.account, { name: flags.name ?? email, email });
        const { secret } = await iam.apiKeys.create({ accountId: flags.account, iamId, name: 'first key', createdBy: iamId });
        return [`user ${iamId}`, handOver(secret, flags.file)];
      });
      process.stdout.write(`${out.join('\n')}\n`);
    });
}
