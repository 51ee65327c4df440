import { access, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { requireTool, run, runOk, startBackground, type BackgroundProcess, type RunOptions, type RunResult } from './run.js';

/**
 * A private containerd (no CRI, no system paths): root, state, sockets and config in `dir`, so a
 * test neither needs nor touches the machine's containerd. Pull and push need no container runtime.
 */
export interface Containerd {
  socket: string;
  /** Where containerd keeps a blob it holds (its content store is plain files). */
  contentPath(digest: string): string;
  ctr(args: string[], options?: RunOptions): Promise<RunResult>;
  ctrOk(args: string[], options?: RunOptions): Promise<RunResult>;
  /** Kills containerd's process group (SIGTERM, then SIGKILL) and waits for it to exit. */
  stop(): Promise<void>;
}

export async function startContainerd(dir: string, { startTimeoutMs = 20_000 } = {}): Promise<Containerd> {
  requireTool('containerd');
  requireTool('ctr');
  const root = join(dir, 'root');
  const socket = join(dir, 'containerd.sock');
  await mkdir(dir, { recursive: true });
  const config = join(dir, 'containerd.toml');
  // TOML does not expand variables: the real paths go in. The opt plugin would otherwise use /opt/containerd.
  await writeFile(
    config,
    [
      'version = 2',
      `root = ${JSON.stringify(root)}`,
      `state = ${JSON.stringify(join(dir, 'state'))}`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = ${JSON.stringify(socket)}`,
      '[ttrpc]',
      `  address = ${JSON.stringify(`${socket}.ttrpc`)}`,
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = ${JSON.stringify(join(dir, 'opt'))}`,
      '',
    ].join('\n'),
  );

  const daemon: BackgroundProcess = startBackground('containerd', ['-c', config, '--log-level', 'warn']);
  const ctrArgs = (args: string[]) => ['-a', socket, ...args];
  const deadline = Date.now() + startTimeoutMs;
  let last = '';
  for (;;) {
    if (!daemon.running()) throw new Error(`containerd exited while starting\n${daemon.output()}`);
    const ready = await access(socket).then(
      () => run('ctr', ctrArgs(['version']), { timeoutMs: 5_000 }),
      () => undefined,
    );
    if (ready?.code === 0) break;
    if (ready) last = ready.stderr;
    if (Date.now() > deadline) {
      await daemon.stop();
      throw new Error(`containerd not ready after ${startTimeoutMs} ms\n${last}\n--- containerd\n${daemon.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  return {
    socket,
    contentPath: (digest) => {
      const [algorithm, hex] = digest.split(':');
      return join(root, 'io.containerd.content.v1.content', 'blobs', algorithm!, hex!);
    },
    ctr: (args, options) => run('ctr', ctrArgs(args), options),
    ctrOk: (args, options) => runOk('ctr', ctrArgs(args), options),
    stop: () => daemon.stop(),
  };
}
