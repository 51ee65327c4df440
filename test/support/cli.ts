import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, type RunOptions, type RunResult } from './run.js';
import { repoRoot } from './paths.js';

/**
 * The `berth` command as a user runs it: a subprocess with a home of its own (the session lives in
 * `$BERTH_HOME`, docker's config in `$DOCKER_CONFIG`, podman's in `$REGISTRY_AUTH_FILE`), so tests
 * never read or change the machine user's.
 */
export interface CliUser {
  home: string;
  env: NodeJS.ProcessEnv;
  berth(args: string[], options?: RunOptions): Promise<RunResult>;
  /** Runs `berth` and fails the test with its output unless it exits 0. */
  berthOk(args: string[], options?: RunOptions): Promise<RunResult>;
  helper(action: string, input: string): Promise<RunResult>;
}

/** `clients` puts the CLI beside a client sandbox: its auth files, and the sandbox's PATH and HOME. */
export async function cliUser(clients?: { env: NodeJS.ProcessEnv }): Promise<CliUser> {
  const home = await mkdtemp(join(tmpdir(), 'berth-cli-'));
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    DOCKER_CONFIG: join(home, '.docker'),
    REGISTRY_AUTH_FILE: join(home, 'auth.json'),
    ...clients?.env,
    BERTH_HOME: join(home, '.berth'),
    // No API key of the test run's environment leaks into the CLI.
    BERTH_APIKEY: '',
  };
  const berth = (args: string[], options: RunOptions = {}) =>
    run(process.execPath, [join(repoRoot, 'bin/berth.js'), ...args], { timeoutMs: 30_000, ...options, env: { ...env, ...options.env }, cwd: home });
  return {
    home,
    env,
    berth,
    async berthOk(args, options) {
      const result = await berth(args, options);
      if (result.code !== 0) throw new Error(`berth ${args.join(' ')} failed (${result.code})\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`);
      return result;
    },
    helper: (action, input) => run(process.execPath, [join(repoRoot, 'bin/docker-credential-berth.js'), action], { input, env, cwd: home, timeoutMs: 30_000 }),
  };
}

/** The one line a failing command prints: `berth: …`, with no stack trace. */
export function oneLineError(result: RunResult): string {
  const lines = result.stderr.trim().split('\n');
  if (result.code === 0 || lines.length !== 1 || !lines[0]!.startsWith('berth: ') || /\n\s+at /.test(result.stderr)) {
    throw new Error(`expected one "berth: …" line and a non-zero exit, got exit ${result.code}\n--- stderr\n${result.stderr}\n--- stdout\n${result.stdout}`);
  }
  return lines[0]!;
}
