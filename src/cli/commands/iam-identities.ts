import type { Command } from 'commander';
import { withExample, withOutput, type OutputFlags } from './options.js';
import { IamApi, type ApiKey, type ServiceId } from '../iam-api.js';
import { jsonBody } from '../http.js';
import { formatTime } from '../date-time.js';
import { confirm, formatOf, printEntity, printJson, printList } from '../output.js';
import { handOver } from '../secrets.js';
import { Session } from '../session/session.js';


const keyColumns: Array<[string, (key: ApiKey) => unknown]> = [
  ['Name', (k) => k.name],
  ['ID', (k) => k.id],
  ['Description', (k) => k.description ?? ''],
  ['Created', (k) => formatTime(k.created_at)],
  ['Locked', (k) => k.locked],
];
const serviceIdColumns: Array<[string, (sid: ServiceId) => unknown]> = [
  ['Name', (s) => s.name],
  ['ID', (s) => s.id],
  ['Description', (s) => s.description ?? ''],
  ['Created', (s) => formatTime(s.created_at)],
  ['Locked', (s) => s.locked],
];

function showKey(flags: OutputFlags, key: ApiKey): void {
  printEntity(flags, [['Name', key.name], ['ID', key.id], ['Description', key.description], ['Belongs to', key.iam_id], ['Created', formatTime(key.created_at)], ['Locked', key.locked], ['Disabled', key.disabled]], key);
}

/** A new key: its JSON (value included, for scripts) or the value once, or only the file it went to. */
function announceKey(flags: OutputFlags & { file?: string }, key: ApiKey): void {
  const told = handOver(key.apikey ?? '', flags.file);
  if (formatOf(flags) === 'json') {
    printJson(flags.file === undefined ? key : { ...key, apikey: undefined });
    return;
  }
  process.stdout.write(`API key ${key.name} (${key.id}) created.\n${told}\n`);
}

const api = () => new IamApi(Session.current());

/** `berth iam api-key…` and `berth iam service-id…`: the IAM Identity API, as `ibmcloud iam` does it. */
export function registerIdentityCommands(iam: Command): void {
  withExample(
    withOutput(
      iam
        .command('api-key-create <name>')
        .description('create an API key for yourself; the key is shown once (or written to --file, 0600)')
        .option('-d, --description <text>', 'what the key is for')
        .option('--file <path>', 'write the key alone to this file instead of printing it'),
    ),
    'berth iam api-key-create ci-key -d "for the pipeline" --file ci-key.txt',
  ).action(async (name: string, flags: OutputFlags & { description?: string; file?: string }) => {
    formatOf(flags);
    const session = Session.current();
    const key = await new IamApi(session).call<ApiKey>('/v1/apikeys', {
      method: 'POST',
      ...jsonBody({ name, iam_id: session.iamId, ...(flags.description !== undefined ? { description: flags.description } : {}) }),
    });
    announceKey(flags, key);
  });

  withExample(withOutput(iam.command('api-keys').description('list your API keys')), 'berth iam api-keys --output json').action(async (flags: OutputFlags) => {
    formatOf(flags);
    const session = Session.current();
    const keys = await new IamApi(session).all<ApiKey>(`/v1/apikeys?iam_id=${encodeURIComponent(session.iamId)}&pagesize=100`, 'apikeys');
    printList(flags, keyColumns, keys, 'No API keys.');
  });

  withExample(withOutput(iam.command('api-key <name>').description('show one of your API keys (by name or ID)')), 'berth iam api-key ci-key').action(
    async (name: string, flags: OutputFlags) => {
      formatOf(flags);
      showKey(flags, await api().apiKey(name));
    },
  );

  withExample(iam.command('api-key-delete <name>').description('delete one of your API keys').option('-f, --force', 'do not ask'), 'berth iam api-key-delete ci-key -f').action(
    async (name: string, flags: { force?: boolean }) => {
      const iamApi = api();
      const key = await iamApi.apiKey(name);
      await confirm(`Delete API key ${key.name} (${key.id})? Everything using it stops working.`, flags.force);
      await iamApi.call(`/v1/apikeys/${key.id}`, { method: 'DELETE' });
      process.stdout.write(`API key ${key.name} deleted.\n`);
    },
  );

  for (const [verb, method] of [['lock', 'POST'], ['unlock', 'DELETE']] as const) {
    withExample(iam.command(`api-key-${verb} <name>`).description(`${verb} one of your API keys (a locked key cannot be changed or deleted)`), `berth iam api-key-${verb} ci-key`).action(
      async (name: string) => {
        const iamApi = api();
        const key = await iamApi.apiKey(name);
        await iamApi.call(`/v1/apikeys/${key.id}/lock`, { method });
        process.stdout.write(`API key ${key.name} ${verb}ed.\n`);
      },
    );
  }

  withExample(
    withOutput(iam.command('service-id-create <name>').description('create a service ID (an identity for a program)').option('-d, --description <text>', 'what it is for')),
    'berth iam service-id-create builder -d "CI builds"',
  ).action(async (name: string, flags: OutputFlags & { description?: string }) => {
    formatOf(flags);
    const session = Session.current();
    const sid = await new IamApi(session).call<ServiceId>('/v1/serviceids', {
      method: 'POST',
      ...jsonBody({ account_id: session.account, name, ...(flags.description !== undefined ? { description: flags.description } : {}) }),
    });
    printEntity(flags, [['Name', sid.name], ['ID', sid.id], ['IAM ID', sid.iam_id], ['Description', sid.description]], sid);
  });

  withExample(withOutput(iam.command('service-ids').description("list the account's service IDs")), 'berth iam service-ids').action(async (flags: OutputFlags) => {
    formatOf(flags);
    const session = Session.current();
    const ids = await new IamApi(session).all<ServiceId>(`/v1/serviceids?account_id=${session.account}&pagesize=100`, 'serviceids');
    printList(flags, serviceIdColumns, ids, 'No service IDs.');
  });

  withExample(withOutput(iam.command('service-id <name>').description('show a service ID (by name or ID)')), 'berth iam service-id builder').action(
    async (name: string, flags: OutputFlags) => {
      formatOf(flags);
      const sid = await api().serviceId(name);
      printEntity(flags, [['Name', sid.name], ['ID', sid.id], ['IAM ID', sid.iam_id], ['Description', sid.description], ['Created', formatTime(sid.created_at)], ['Locked', sid.locked]], sid);
    },
  );

  withExample(iam.command('service-id-delete <name>').description('delete a service ID with its API keys and policies').option('-f, --force', 'do not ask'), 'berth iam service-id-delete builder -f').action(
    async (name: string, flags: { force?: boolean }) => {
      const iamApi = api();
      const sid = await iamApi.serviceId(name);
      await confirm(`Delete service ID ${sid.name} (${sid.id}), its API keys and its policies?`, flags.force);
      await iamApi.call(`/v1/serviceids/${sid.id}`, { method: 'DELETE' });
      process.stdout.write(`Service ID ${sid.name} deleted.\n`);
    },
  );

  withExample(
    withOutput(
      iam
        .command('service-api-key-create <name> <service-id>')
        .description("create an API key for a service ID; shown once (or written to --file, 0600)")
        .option('-d, --description <text>', 'what the key is for')
        .option('--file <path>', 'write the key alone to this file instead of printing it'),
    ),
    'berth iam service-api-key-create builder-key builder --file builder.key',
  ).action(async (name: string, serviceId: string, flags: OutputFlags & { description?: string; file?: string }) => {
    formatOf(flags);
    const iamApi = api();
    const sid = await iamApi.serviceId(serviceId);
    const key = await iamApi.call<ApiKey>('/v1/apikeys', {
      method: 'POST',
      ...jsonBody({ name, iam_id: sid.iam_id, ...(flags.description !== undefined ? { description: flags.description } : {}) }),
    });
    announceKey(flags, key);
  });

  withExample(withOutput(iam.command('service-api-keys <service-id>').description("list a service ID's API keys")), 'berth iam service-api-keys builder').action(
    async (serviceId: string, flags: OutputFlags) => {
      formatOf(flags);
      const iamApi = api();
      const sid = await iamApi.serviceId(serviceId);
      const keys = await iamApi.all<ApiKey>(`/v1/apikeys?iam_id=${encodeURIComponent(sid.iam_id)}&pagesize=100`, 'apikeys');
      printList(flags, keyColumns, keys, `Service ID ${sid.name} has no API keys.`);
    },
  );
}
