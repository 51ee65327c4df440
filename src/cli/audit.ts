import type { Command } from 'commander';
import type { AuditFilter } from '../audit/audit-log.js';
import type { ChainedEvent, Outcome } from '../audit/chain.js';
import { eventJson } from '../audit/event-json.js';
import { parseDuration } from '../config/durations.js';
import { CliError } from './errors.js';
import { formatTime } from './date-time.js';
import { formatOf, printTable } from './output.js';
import { storeConfig, storeOptions, type StoreFlags } from './store-config.js';

interface VerifyFlags extends StoreFlags {
  account?: string;
}

interface EventsFlags extends VerifyFlags {
  since?: string;
  action?: string;
  outcome?: string;
  principal?: string;
  target?: string;
  namespace?: string;
  output?: string;
}

/** Events are read from the database in pages of this many, and printed as they come. */
const PAGE = 500;

function filterOf(flags: EventsFlags, now: number): AuditFilter {
  const filter: AuditFilter = {};
  if (flags.since !== undefined) {
    const ms = parseDuration(flags.since);
    if (ms === undefined) throw new CliError(`--since must be a duration such as 30m, 1h or 7d, got "${flags.since}"`);
    filter.since = now - ms;
  }
  if (flags.outcome !== undefined) {
    if (!['success', 'failure', 'denied'].includes(flags.outcome)) throw new CliError(`--outcome must be success, failure or denied, got "${flags.outcome}"`);
    filter.outcome = flags.outcome as Outcome;
  }
  if (flags.account !== undefined) filter.accountId = flags.account;
  if (flags.action !== undefined) filter.action = flags.action;
  if (flags.principal !== undefined) filter.principalId = flags.principal;
  if (flags.target !== undefined) filter.target = flags.target;
  if (flags.namespace !== undefined) filter.namespace = flags.namespace;
  return filter;
}

/** `berth audit verify`: proves each account's hash chain of audit events intact, or names the first broken event. */
export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the audit trail: every authentication, decision and change');
  storeOptions(audit.command('events').description('list audit events, oldest first; --output json prints one JSON object per line (an export)'))
    .option('--since <duration>', 'only the last 30m, 1h, 7d, …', undefined)
    .option('--account <id>', 'only this account', undefined)
    .option('--action <name>', 'only this action, e.g. container-registry.image.push', undefined)
    .option('--outcome <outcome>', 'success, failure or denied', undefined)
    .option('--principal <iam_id>', 'only this principal', undefined)
    .option('--target <target>', 'only this target, e.g. ns/app:v1', undefined)
    .option('--namespace <name>', 'only this namespace', undefined)
    .option('--output <format>', 'table or json (JSON lines)', undefined)
    .addHelpText('after', '\nExamples:\n  berth audit events --since 1h --data ./berth-data\n  berth audit events --action container-registry.image.push --output json > pushes.jsonl\n')
    .action(async (flags: EventsFlags) => {
      const format = formatOf(flags);
      const filter = filterOf(flags, Date.now());
      const { openAudit } = await import('../server.js');
      const { audit: log, close } = await openAudit(storeConfig(flags));
      try {
        const rows: ChainedEvent[] = [];
        let after: ChainedEvent | undefined;
        for (;;) {
          const page = await log.list(filter, PAGE, after && { at: after.at, accountId: after.accountId, seq: after.seq });
          if (format === 'json') for (const event of page) process.stdout.write(`${JSON.stringify(eventJson(event))}\n`);
          else rows.push(...page);
          if (page.length < PAGE) break;
          after = page[page.length - 1];
        }
        if (format === 'table') {
          printTable(
            [
              ['TIME', (event: ChainedEvent) => formatTime(event.at)],
              ['ACCOUNT', (event: ChainedEvent) => event.accountId],
              ['ACTION', (event: ChainedEvent) => event.action],
              ['OUTCOME', (event: ChainedEvent) => event.outcome],
              ['PRINCIPAL', (event: ChainedEvent) => event.principalName ?? event.principalId ?? '-'],
              ['TARGET', (event: ChainedEvent) => event.target ?? '-'],
              ['CLIENT', (event: ChainedEvent) => event.client ?? '-'],
              ['REASON', (event: ChainedEvent) => event.reason ?? ''],
            ],
            rows,
            'No audit events match.',
          );
        }
      } finally {
        await close();
      }
    });

  storeOptions(audit.command('verify').description('prove the hash chain of audit events intact (every account, or one); exits 1 at the first broken event'))
    .option('--account <id>', 'only this account', undefined)
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
