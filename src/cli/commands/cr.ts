import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { withExample, withOutput, type OutputFlags } from './options.js';
import { registerQuotaCommands } from './cr-quota.js';
import { registerTrashCommands } from './cr-trash.js';
import { formatBytes } from '../byte-size.js';
import { containersAuthFile, dockerConfigFile, writeAuthEntry } from '../client-auth.js';
import { formatTime } from '../date-time.js';
import { CliError } from '../errors.js';
import { request } from '../http.js';
import { confirm, formatOf, printEntity, printList } from '../output.js';
import { RegistryApi } from '../registry-api.js';
import { Session } from '../session/session.js';
import { setRegion } from './session.js';


interface RemoteImage {
  Id: string;
  Created: number;
  Size: number;
  RepoTags: string[];
  RepoDigests: string[];
}

const registryApi = async () => RegistryApi.of(Session.current());

function commandWorks(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore', timeout: 15_000 }).status === 0;
}

/**
 * `cr login`: a registry refresh token for the targeted region (minted from the session, usable
 * until it expires or its key goes), handed to the client as `iamrefresh` credentials: through
 * `docker login` when a Docker daemon answers, else written into the client's own credentials file.
 */
async function crLogin(client: 'docker' | 'podman'): Promise<void> {
  const session = Session.current();
  const registry = await session.registry();
  process.stdout.write(`Logging '${client}' in to '${registry.host}'...\n`);
  const basic = `Basic ${Buffer.from(`iamrefresh:${await session.refreshToken()}`).toString('base64')}`;
  const answer = await request<{ refresh_token?: string }>(`${registry.url}/oauth/token?service=registry&offline_token=true`, { headers: { authorization: basic } });
  const token = answer.body.refresh_token;
  if (!token) throw new CliError('the registry gave no refresh token for this session');
  if (client === 'docker' && commandWorks('docker', ['info'])) {
    const login = spawnSync('docker', ['login', '-u', 'iamrefresh', '--password-stdin', registry.host], { input: `${token}\n`, encoding: 'utf8', timeout: 60_000 });
    if (login.status !== 0) throw new CliError(`docker login failed: ${(login.stderr || login.stdout).trim().split('\n').pop()}`);
  } else {
    writeAuthEntry(client === 'docker' ? dockerConfigFile() : containersAuthFile(), registry.host, 'iamrefresh', token);
  }
  process.stdout.write(`Logged in to '${registry.host}'.\nOK\n`);
}

/** `berth cr …`: the targeted region's registry, as `ibmcloud cr` works it. */
export function registerCrCommands(program: Command): void {
  const cr = program.command('cr').description("work with the targeted region's registry: login, namespaces, images");

  withExample(cr.command('region-set <region>').description('target a region (its registry is where cr commands go)'), 'berth cr region-set eu-de').action(async (region: string) => {
    const session = Session.current();
    await setRegion(session, region);
    const target = await session.target();
    process.stdout.write(`The region is set to '${target.region}', the registry is '${target.registry}'.\nOK\n`);
  });

  withExample(withOutput(cr.command('region').description('show the targeted region and its registry')), 'berth cr region').action(async (flags: OutputFlags) => {
    formatOf(flags);
    // Local state, as `ibmcloud cr region` keeps it: shown with the server down too.
    const target = await Session.current().target();
    printEntity(flags, [['Region', target.region], ['Registry', target.registry]], target);
  });

  withExample(
    cr
      .command('login')
      .description("log the local docker or podman in to the targeted registry, as iamrefresh (no password on the command line)")
      .option('--client <client>', 'docker or podman (default: docker when it is installed, else podman)'),
    'berth cr login --client podman',
  ).action(async (flags: { client?: string }) => {
    const client = flags.client ?? (commandWorks('docker', ['--version']) ? 'docker' : 'podman');
    if (client !== 'docker' && client !== 'podman') throw new CliError(`--client must be docker or podman, got "${client}"`);
    await crLogin(client);
  });

  withExample(cr.command('namespace-add <namespace>').description('create a namespace in the targeted region'), 'berth cr namespace-add team-a').action(async (namespace: string) => {
    const api = await registryApi();
    await api.call(`/api/v1/namespaces/${encodeURIComponent(namespace)}`, { method: 'PUT' });
    process.stdout.write(`Added namespace '${namespace}' in region '${api.registry.region}'.\nOK\n`);
  });

  for (const name of ['namespace-list', 'namespaces']) {
    withExample(withOutput(cr.command(name).description('list your namespaces in the targeted region')), `berth cr ${name}`).action(async (flags: OutputFlags) => {
      formatOf(flags);
      const api = await registryApi();
      const namespaces = await api.call<string[]>('/api/v1/namespaces');
      printList(flags, [['Namespace', (ns: string) => ns]], namespaces, `No namespaces in region '${api.registry.region}'.`);
    });
  }

  withExample(cr.command('namespace-rm <namespace>').description('delete a namespace and every image in it').option('-f, --force', 'do not ask'), 'berth cr namespace-rm team-a -f').action(
    async (namespace: string, flags: { force?: boolean }) => {
      const api = await registryApi();
      await confirm(`Delete namespace '${namespace}' in region '${api.registry.region}' and every image in it?`, flags.force);
      await api.call(`/api/v1/namespaces/${encodeURIComponent(namespace)}`, { method: 'DELETE' });
      process.stdout.write(`Removed namespace '${namespace}'.\nOK\n`);
    },
  );

  withExample(
    withOutput(cr.command('images').alias('image-list').description('list your images').option('--restrict <namespace[/repo]>', 'only this namespace or repository')),
    'berth cr images --restrict team-a',
  ).action(async (flags: OutputFlags & { restrict?: string }) => {
    formatOf(flags);
    const api = await registryApi();
    const query = new URLSearchParams();
    if (flags.restrict !== undefined) {
      const [namespace, ...repo] = flags.restrict.split('/');
      query.set('namespace', namespace!);
      if (repo.length > 0) query.set('repository', flags.restrict);
    }
    const images = await api.call<RemoteImage[]>(`/api/v1/images${query.size > 0 ? `?${query}` : ''}`);
    const rows = images.flatMap((image) =>
      image.RepoTags.map((tag) => ({ repository: tag.slice(0, tag.lastIndexOf(':')), tag: tag.slice(tag.lastIndexOf(':') + 1), digest: image.RepoDigests[0]?.split('@')[1] ?? '', created: image.Created, size: image.Size })),
    );
    printList(
      flags,
      [
        ['Repository', (r: (typeof rows)[number]) => r.repository],
        ['Tag', (r: (typeof rows)[number]) => r.tag],
        ['Digest', (r: (typeof rows)[number]) => r.digest.slice(0, 19)],
        ['Created', (r: (typeof rows)[number]) => formatTime(r.created * 1000)],
        ['Size', (r: (typeof rows)[number]) => formatBytes(r.size)],
      ],
      rows,
      'No images.',
    );
  });

  withExample(cr.command('image-rm <image>').description('delete an image (by tag or digest) with every tag on it').option('-f, --force', 'do not ask'), 'berth cr image-rm team-a/app:1.0 -f').action(
    async (image: string, flags: { force?: boolean }) => {
      const api = await registryApi();
      const reference = api.fullReference(image);
      await confirm(`Delete image '${reference}' and every tag on it?`, flags.force);
      await api.call(`/api/v1/images/${encodeURIComponent(reference)}`, { method: 'DELETE' });
      process.stdout.write(`Deleted image '${reference}'.\nOK\n`);
    },
  );

  withExample(cr.command('image-tag <source> <target>').description('tag an image under another name (target: <repository>:<tag>)'), 'berth cr image-tag team-a/app:1.0 team-a/app:stable').action(
    async (source: string, target: string) => {
      const api = await registryApi();
      const query = new URLSearchParams({ fromimage: api.fullReference(source), toimage: api.fullReference(target) });
      await api.call(`/api/v1/images/tags?${query}`, { method: 'POST' });
      process.stdout.write(`Tagged '${api.fullReference(source)}' as '${api.fullReference(target)}'.\nOK\n`);
    },
  );

  registerTrashCommands(cr);
  registerQuotaCommands(cr);
}
