import type { Command } from 'commander';
import { withExample, withOutput, type OutputFlags } from './options.js';
import { CliError } from '../errors.js';
import { jsonBody } from '../http.js';
import { IamApi, type ApiKey, type Policy, type User } from '../iam-api.js';
import { confirm, formatOf, printEntity, printJson, printList } from '../output.js';
import { handOver } from '../secrets.js';
import { Session } from '../session/session.js';

interface PolicyFlags extends OutputFlags {
  roles: string;
  serviceName: string;
  region?: string;
  resourceType?: string;
  resource?: string;
}


/** The flags of `ibmcloud iam service-policy-create` that Berth's policies understand. */
function policyFlags(command: Command): Command {
  return withOutput(
    command
      .requiredOption('--roles <roles>', 'comma-separated role names (Reader, Writer, Manager, Viewer, Operator, Editor, Administrator) or CRNs')
      .requiredOption('--service-name <name>', 'the service, e.g. container-registry')
      .option('--region <region>', 'grant in this region only')
      .option('--resource-type <type>', 'e.g. namespace')
      .option('--resource <name>', 'e.g. the namespace'),
  );
}

const policyColumns: Array<[string, (policy: Policy) => unknown]> = [
  ['ID', (p) => p.id],
  ['Roles', (p) => p.roles.map((r) => r.display_name ?? r.role_id).join(', ')],
  ['Resource', (p) => p.resources[0]?.attributes.filter((a) => a.name !== 'accountId').map((a) => `${a.name}=${a.value}`).join(' ')],
];

async function createPolicy(iamApi: IamApi, iamId: string, flags: PolicyFlags): Promise<void> {
  formatOf(flags);
  if ((flags.resourceType === undefined) !== (flags.resource === undefined)) throw new CliError('--resource-type and --resource go together');
  const roles = await iamApi.roleCrns(flags.roles.split(',').map((r) => r.trim()).filter((r) => r !== ''), flags.serviceName);
  const policy = await iamApi.createPolicy(iamId, roles, {
    serviceName: flags.serviceName,
    ...(flags.region !== undefined ? { region: flags.region } : {}),
    ...(flags.resourceType !== undefined ? { resourceType: flags.resourceType, resource: flags.resource! } : {}),
  });
  printEntity(flags, [['Policy ID', policy.id], ['Subject', iamId], ...(policyColumns.slice(1).map(([name, cell]) => [name, cell(policy)]) as Array<[string, unknown]>)], policy);
}

const api = () => new IamApi(Session.current());

/** Policies (`iam service-policy-create`…) and the account's people (`iam account-create`, `iam user-create`). */
export function registerAccessCommands(iam: Command): void {
  // The same two commands for service IDs and for users; only how the subject is found differs.
  const subjects = [
    {
      kind: 'service',
      arg: '<service-id>',
      who: 'a service ID',
      find: async (iamApi: IamApi, name: string) => (await iamApi.serviceId(name)).iam_id,
      examples: ['berth iam service-policy-create builder --roles Writer --service-name container-registry --resource-type namespace --resource team-a', 'berth iam service-policies builder'],
    },
    {
      kind: 'user',
      arg: '<user>',
      who: 'a user (by e-mail or IAM ID)',
      find: async (iamApi: IamApi, name: string) => (await iamApi.user(name)).iam_id,
      examples: ['berth iam user-policy-create dev@example.com --roles Reader --service-name container-registry', 'berth iam user-policies dev@example.com'],
    },
  ];
  for (const subject of subjects) {
    withExample(
      policyFlags(iam.command(`${subject.kind}-policy-create ${subject.arg}`).description(`give ${subject.who} roles on a service, a region or one resource`)),
      subject.examples[0]!,
    ).action(async (name: string, flags: PolicyFlags) => {
      const iamApi = api();
      await createPolicy(iamApi, await subject.find(iamApi, name), flags);
    });

    withExample(withOutput(iam.command(`${subject.kind}-policies ${subject.arg}`).description(`list the policies of ${subject.who}`)), subject.examples[1]!).action(
      async (name: string, flags: OutputFlags) => {
        formatOf(flags);
        const iamApi = api();
        printList(flags, policyColumns, await iamApi.policiesOf(await subject.find(iamApi, name)), 'No policies.');
      },
    );
  }

  withExample(iam.command('policy-delete <id>').description('delete a policy').option('-f, --force', 'do not ask'), 'berth iam policy-delete 0f4c… -f').action(
    async (id: string, flags: { force?: boolean }) => {
      const iamApi = api();
      await iamApi.call(`/v1/policies/${encodeURIComponent(id)}`);
      await confirm(`Delete policy ${id}? What it grants stops at once.`, flags.force);
      await iamApi.call(`/v1/policies/${encodeURIComponent(id)}`, { method: 'DELETE' });
      process.stdout.write(`Policy ${id} deleted.\n`);
    },
  );

  withExample(
    withOutput(
      iam
        .command('user-create <email>')
        .description('add a user to the account, with a first API key for them (shown once, or written to --file)')
        .option('--name <name>', "the user's name")
        .option('--file <path>', 'write the key alone to this file instead of printing it'),
    ),
    'berth iam user-create dev@example.com --file dev.key',
  ).action(async (email: string, flags: OutputFlags & { name?: string; file?: string }) => {
    formatOf(flags);
    const session = Session.current();
    const iamApi = new IamApi(session);
    const invited = await iamApi.call<{ resources: Array<{ id: string }> }>(`/v2/accounts/${session.account}/users`, { method: 'POST', ...jsonBody({ users: [{ email }] }) });
    const iamId = invited.resources[0]!.id;
    if (flags.name !== undefined) {
      const [firstname, ...rest] = flags.name.split(' ');
      await iamApi.call(`/v2/accounts/${session.account}/users/${iamId}`, { method: 'PATCH', ...jsonBody({ firstname, ...(rest.length ? { lastname: rest.join(' ') } : {}) }) });
    }
    const key = await iamApi.call<ApiKey>('/v1/apikeys', { method: 'POST', ...jsonBody({ name: `${email} key`, iam_id: iamId }) });
    const told = handOver(key.apikey!, flags.file);
    if (formatOf(flags) === 'json') printJson({ iam_id: iamId, email, apikey: flags.file === undefined ? key.apikey : undefined });
    else process.stdout.write(`User ${email} (${iamId}) added.\n${told}\n`);
  });

  withExample(withOutput(iam.command('users').description("list the account's users")), 'berth iam users').action(async (flags: OutputFlags) => {
    formatOf(flags);
    const session = Session.current();
    const { resources = [] } = await new IamApi(session).call<{ resources?: User[] }>(`/v2/accounts/${session.account}/users?limit=100`);
    printList(flags, [['E-mail', (u: User) => u.email], ['IAM ID', (u: User) => u.iam_id], ['State', (u: User) => u.state]], resources);
  });

  withExample(
    withOutput(
      iam
        .command('account-create <name>')
        .description("create an account (operator only), with its owner and the owner's first API key")
        .requiredOption('--owner-email <email>', "the owner's e-mail")
        .option('--owner-name <name>', "the owner's name")
        .option('--file <path>', "write the owner's key alone to this file instead of printing it"),
    ),
    'berth iam account-create team-b --owner-email lead@team-b.example --file team-b.key',
  ).action(async (name: string, flags: OutputFlags & { ownerEmail: string; ownerName?: string; file?: string }) => {
    formatOf(flags);
    const account = await api().call<{ id: string; name: string; owner_iam_id: string; owner_apikey: ApiKey }>('/v1/accounts', {
      method: 'POST',
      ...jsonBody({ name, owner_email: flags.ownerEmail, ...(flags.ownerName !== undefined ? { owner_name: flags.ownerName } : {}) }),
    });
    const told = handOver(account.owner_apikey.apikey!, flags.file);
    if (formatOf(flags) === 'json') printJson({ ...account, owner_apikey: { ...account.owner_apikey, apikey: flags.file === undefined ? account.owner_apikey.apikey : undefined } });
    else process.stdout.write(`Account ${account.name} (${account.id}) created, owner ${account.owner_iam_id}.\n${told}\n`);
  });

  withExample(withOutput(iam.command('accounts').description('list the accounts you can see (the operator sees all)')), 'berth iam accounts').action(async (flags: OutputFlags) => {
    formatOf(flags);
    const { accounts } = await api().call<{ accounts: Array<{ id: string; name: string; owner_iam_id: string; operator: boolean }> }>('/v1/accounts');
    printList(flags, [['Name', (a: (typeof accounts)[number]) => a.name], ['ID', (a: (typeof accounts)[number]) => a.id], ['Owner', (a: (typeof accounts)[number]) => a.owner_iam_id]], accounts);
  });
}
