import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool, run, runOk, type RunOptions, type RunResult } from './run.js';

/**
 * A private world for containers tooling (skopeo, podman, buildah, the docker CLI): auth file,
 * registries.conf, signature policy, docker config, temp files and podman/buildah storage all live
 * in one temp folder, so runs neither read nor
 * leave host-wide state that could change the next run. (One exception we cannot move with
 * skopeo 1.9: its blob-info cache in /var/lib/containers/cache, which only ever suggests mounts.)
 */
export interface ClientSandbox {
  dir: string;
  env: NodeJS.ProcessEnv;
  skopeo(args: string[], options?: RunOptions): Promise<RunResult>;
  skopeoOk(args: string[], options?: RunOptions): Promise<RunResult>;
  podman(args: string[], options?: RunOptions): Promise<RunResult>;
  podmanOk(args: string[], options?: RunOptions): Promise<RunResult>;
  /** buildah on its own vfs storage (not podman's) in this folder. */
  buildah(args: string[], options?: RunOptions): Promise<RunResult>;
  buildahOk(args: string[], options?: RunOptions): Promise<RunResult>;
  /** The docker CLI (client only) with DOCKER_CONFIG in this folder. */
  docker(args: string[], options?: RunOptions): Promise<RunResult>;
  dockerOk(args: string[], options?: RunOptions): Promise<RunResult>;
  cleanup(): Promise<void>;
}

export async function clientSandbox(): Promise<ClientSandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-e2e-'));
  const paths = {
    auth: join(dir, 'auth.json'),
    registries: join(dir, 'registries.conf'),
    storage: join(dir, 'storage.conf'),
    policy: join(dir, 'policy.json'),
    home: join(dir, 'home'),
    tmp: join(dir, 'tmp'),
    podmanRoot: join(dir, 'podman', 'root'),
    podmanRun: join(dir, 'podman', 'run'),
    podmanTmp: join(dir, 'podman', 'tmp'),
    networks: join(dir, 'podman', 'networks'),
    buildahRoot: join(dir, 'buildah', 'root'),
    buildahRun: join(dir, 'buildah', 'run'),
    docker: join(dir, 'docker'),
  };
  await Promise.all([paths.home, paths.tmp, paths.podmanRoot, paths.podmanRun, paths.podmanTmp, paths.networks, paths.buildahRoot, paths.buildahRun, paths.docker].map((p) => mkdir(p, { recursive: true })));
  await writeFile(paths.auth, JSON.stringify({ auths: {} }));
  // No search registries, no mirrors: every name in the tests is fully qualified.
  await writeFile(paths.registries, 'unqualified-search-registries = []\n');
  await writeFile(
    paths.storage,
    `[storage]\ndriver = "vfs"\ngraphroot = "${paths.podmanRoot}"\nrunroot = "${paths.podmanRun}"\n`,
  );
  await writeFile(paths.policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));

  const env: NodeJS.ProcessEnv = {
    REGISTRY_AUTH_FILE: paths.auth,
    DOCKER_CONFIG: paths.docker,
    HOME: paths.home,
    TMPDIR: paths.tmp,
    CONTAINERS_REGISTRIES_CONF: paths.registries,
    CONTAINERS_STORAGE_CONF: paths.storage,
  };
  const skopeoGlobal = ['--policy', paths.policy, '--registries-conf', paths.registries, '--tmpdir', paths.tmp];
  const podmanGlobal = [
    '--root', paths.podmanRoot,
    '--runroot', paths.podmanRun,
    '--storage-driver', 'vfs',
    '--tmpdir', paths.podmanTmp,
    '--events-backend', 'none',
    '--cgroup-manager', 'cgroupfs',
    '--network-config-dir', paths.networks,
  ];
  const buildahGlobal = ['--root', paths.buildahRoot, '--runroot', paths.buildahRun, '--storage-driver', 'vfs'];
  const withEnv = (options: RunOptions = {}): RunOptions => ({ ...options, env: { ...env, ...options.env } });

  return {
    dir,
    env,
    skopeo: (args, options) => {
      requireTool('skopeo');
      return run('skopeo', [...skopeoGlobal, ...args], withEnv(options));
    },
    skopeoOk: (args, options) => {
      requireTool('skopeo');
      return runOk('skopeo', [...skopeoGlobal, ...args], withEnv(options));
    },
    podman: (args, options) => {
      requireTool('podman');
      return run('podman', [...podmanGlobal, ...args], withEnv(options));
    },
    podmanOk: (args, options) => {
      requireTool('podman');
      return runOk('podman', [...podmanGlobal, ...args], withEnv(options));
    },
    buildah: (args, options) => {
      requireTool('buildah');
      return run('buildah', [...buildahGlobal, ...args], withEnv(options));
    },
    buildahOk: (args, options) => {
      requireTool('buildah');
      return runOk('buildah', [...buildahGlobal, ...args], withEnv(options));
    },
    docker: (args, options) => {
      requireTool('docker');
      return run('docker', args, withEnv(options));
    },
    dockerOk: (args, options) => {
      requireTool('docker');
      return runOk('docker', args, withEnv(options));
    },
    async cleanup() {
      // vfs layers can hold read-only folders; as root, rm -rf removes them regardless.
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    },
  };
}
