import { access, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startContainerd, type Containerd } from './containerd.js';
import { requireTool, run, runOk, startBackground, type BackgroundProcess, type RunOptions, type RunResult } from './run.js';

/**
 * A private Docker daemon (Debian's docker.io) on a private containerd: data, exec root, pid file
 * and socket in `dir`, vfs storage, no iptables and no bridge, so it needs and changes nothing of
 * the machine's. Loopback registries are insecure by default, so plain HTTP just works.
 */
export interface Dockerd {
  /** The docker CLI against this daemon, with `env` (DOCKER_CONFIG) on top. */
  docker(args: string[], options?: RunOptions): Promise<RunResult>;
  dockerOk(args: string[], options?: RunOptions): Promise<RunResult>;
  stop(): Promise<void>;
}

export async function startDockerd(dir: string, env: NodeJS.ProcessEnv, { startTimeoutMs = 60_000 } = {}): Promise<Dockerd> {
  requireTool('dockerd');
  requireTool('docker');
  await mkdir(dir, { recursive: true });
  const containerd: Containerd = await startContainerd(join(dir, 'ctrd'));
  const socket = join(dir, 'docker.sock');
  let daemon: BackgroundProcess | undefined;
  try {
    daemon = startBackground('dockerd', [
      '--data-root', join(dir, 'root'),
      '--exec-root', join(dir, 'exec'),
      '--pidfile', join(dir, 'docker.pid'),
      '-H', `unix://${socket}`,
      '--containerd', containerd.socket,
      '--iptables=false', '--ip6tables=false', '--bridge=none',
      '--storage-driver=vfs',
    ]);
    const cli = (args: string[], options: RunOptions = {}) => ({ args: ['-H', `unix://${socket}`, ...args], options: { ...options, env: { ...env, ...options.env } } });
    const deadline = Date.now() + startTimeoutMs;
    for (;;) {
      if (!daemon.running()) throw new Error(`dockerd exited while starting\n${daemon.output()}`);
      const ready = await access(socket).then(
        () => run('docker', cli(['version']).args, { env, timeoutMs: 10_000 }),
        () => undefined,
      );
      if (ready?.code === 0) break;
      if (Date.now() > deadline) throw new Error(`dockerd not ready after ${startTimeoutMs} ms\n${ready?.stderr ?? ''}\n--- dockerd\n${daemon.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const started = daemon;
    return {
      docker: (args, options) => {
        const call = cli(args, options);
        return run('docker', call.args, call.options);
      },
      dockerOk: (args, options) => {
        const call = cli(args, options);
        return runOk('docker', call.args, call.options);
      },
      async stop() {
        try {
          await started.stop(15_000);
        } finally {
          await containerd.stop();
        }
      },
    };
  } catch (error) {
    await daemon?.stop();
    await containerd.stop();
    throw error;
  }
}
