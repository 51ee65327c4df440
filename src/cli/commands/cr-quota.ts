import type { Command } from 'commander';
import { withExample, withOutput, type OutputFlags } from './options.js';
import { formatBytes, formatLimit } from '../byte-size.js';
import { CliError } from '../errors.js';
import { jsonBody } from '../http.js';
import { formatOf, printJson, printTable } from '../output.js';
import { RegistryApi } from '../registry-api.js';
import { Session } from '../session/session.js';

/** GET and PATCH /api/v1/quotas answer alike: bytes, -1 for no limit. */
interface QuotaAnswer {
  limit: { storage_bytes: number; traffic_bytes: number };
  usage: { storage_bytes: number; traffic_bytes: number };
}

const registryApi = async () => RegistryApi.of(Session.current());

/** The quota table, as `ibmcloud cr quota` lays it out; JSON is the server's answer unchanged, in bytes. */
function printQuota(flags: OutputFlags, quota: QuotaAnswer): void {
  if (formatOf(flags) === 'json') {
    printJson(quota);
    return;
  }
  const rows = [
    { name: 'Storage', limit: quota.limit.storage_bytes, used: quota.usage.storage_bytes },
    { name: 'Traffic', limit: quota.limit.traffic_bytes, used: quota.usage.traffic_bytes },
  ];
  printTable(
    [
      ['Quota', (r: (typeof rows)[number]) => r.name],
      ['Limit', (r: (typeof rows)[number]) => formatLimit(r.limit)],
      ['Used', (r: (typeof rows)[number]) => formatBytes(r.used)],
    ],
    rows,
  );
}

/** A `--storage`/`--traffic` value: whole megabytes, -1 for no quota, checked before the server sees it. */
function megabytes(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < -1) throw new CliError(`${flag} must be a whole number of megabytes, or -1 for no quota, got "${text}"`);
  return value;
}

/** `berth cr quota…` and `berth cr plan…`: the account's limits, usage and plan in the targeted region. */
export function registerQuotaCommands(cr: Command): void {
  withExample(
    withOutput(cr.command('quota').description("show the account's storage and pull-traffic (this month) quotas and usage in the targeted region")),
    'berth cr quota',
  ).action(async (flags: OutputFlags) => {
    formatOf(flags);
    const api = await registryApi();
    printQuota(flags, await api.call<QuotaAnswer>('/api/v1/quotas'));
  });

  withExample(
    cr
      .command('quota-set')
      .description("set the account's own quotas in the targeted region, in megabytes of 1,048,576 bytes (-1: none); a plan with limits caps them")
      .option('--storage <megabytes>', 'storage quota')
      .option('--traffic <megabytes>', 'pull-traffic quota a month'),
    'berth cr quota-set --storage 400 --traffic 2048',
  ).action(async (flags: { storage?: string; traffic?: string }) => {
    const storage = megabytes('--storage', flags.storage);
    const traffic = megabytes('--traffic', flags.traffic);
    if (storage === undefined && traffic === undefined) throw new CliError('give --storage, --traffic or both (megabytes, -1 for no quota)');
    const api = await registryApi();
    const quota = await api.call<QuotaAnswer>('/api/v1/quotas', {
      method: 'PATCH',
      ...jsonBody({ ...(storage !== undefined ? { storage_megabytes: storage } : {}), ...(traffic !== undefined ? { traffic_megabytes: traffic } : {}) }),
    });
    printQuota({}, quota);
    process.stdout.write('OK\n');
  });

  withExample(withOutput(cr.command('plan').description("show the account's registry plan in the targeted region")), 'berth cr plan').action(async (flags: OutputFlags) => {
    formatOf(flags);
    const api = await registryApi();
    const { plan } = await api.call<{ plan: string }>('/api/v1/plans');
    if (formatOf(flags) === 'json') printJson({ plan, region: api.registry.region });
    else process.stdout.write(`You are on the ${plan} plan in region '${api.registry.region}'.\n`);
  });

  withExample(
    cr.command('plan-upgrade [plan]').description('upgrade the account to a plan in the targeted region (default: standard); plans are never downgraded'),
    'berth cr plan-upgrade standard',
  ).action(async (plan: string | undefined) => {
    const api = await registryApi();
    const answer = await api.call<{ plan: string }>('/api/v1/plans', { method: 'PATCH', ...jsonBody({ plan: plan ?? 'Standard' }) });
    process.stdout.write(`You are now on the ${answer.plan} plan in region '${api.registry.region}'.\nOK\n`);
  });
}
