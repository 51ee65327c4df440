import type { Command } from 'commander';
import { CliError } from './errors.js';
import { storeConfig, type StoreFlags } from './store-config.js';

interface VerifyFlags extends StoreFlags {
  account?: string;
}

/** `berth audit verify`: proves each account's hash chain of audit events intact, or names the first broken event. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit trail: every authentication, decision and change');
  audit
    .command('verify')
    .description('prove the hash chain of audit events intact (every account, or one); exits 1 at the first broken event')
    .option('--account <id>', 'only this account', undefined)
    .option('--data <dir>', 'data folder (env BERTH_DATA)', undefined)
    .option('--database-url <url>', 'postgres:// URL (env BERTH_DATABASE_URL)', undefined)
    .addHelpText('after', '\nExample:\n  berth audit verify --data ./berth-data\n')
    .action(async (flags: VerifyFlags) => {
      const { openAudit } = await import('../server.js');
      const { audit: log, close } = await openAudit(storeConfig(flags));
      try {
        const accounts = flags.account !== undefined ? [flags.account] : await log.accounts();
        for (const account of accounts) {
          const verdict = await log.verify(account);
          if (!verdict.intact) throw new CliError(`account ${account}: the audit chain is broken at event ${verdict.seq}: ${verdict.why}`);
          process.stdout.write(`account ${account}: ${verdict.events} events, chain intact\n`);
        }
      } finally {
        await close();
      }
    });
}
