import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CliError } from './errors.js';

/** Where docker keeps registry credentials: `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`. */
export function dockerConfigFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG && env.DOCKER_CONFIG !== '' ? env.DOCKER_CONFIG : join(homedir(), '.docker'), 'config.json');
}

/** Where podman, skopeo and buildah keep them: `$REGISTRY_AUTH_FILE`, or `${XDG_RUNTIME_DIR:-/run}/containers/<uid>/auth.json`. */
export function containersAuthFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.REGISTRY_AUTH_FILE && env.REGISTRY_AUTH_FILE !== '') return env.REGISTRY_AUTH_FILE;
  if (env.XDG_RUNTIME_DIR && env.XDG_RUNTIME_DIR !== '') return join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json');
  return join('/run', 'containers', String(process.getuid?.() ?? 0), 'auth.json');
}

/**
 * Sets one registry's `auths` entry in a docker-style credentials file (both formats are the
 * same), keeping every other entry and setting of the file. Written 0600, atomically.
 */
export function writeAuthEntry(file: string, host: string, username: string, secret: string): void {
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new CliError(`cannot read ${file}: ${(error as Error).message}; fix or remove it`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) throw new CliError(`${file} is not a JSON object; fix or remove it`);
  const auths = typeof config.auths === 'object' && config.auths !== null ? (config.auths as Record<string, unknown>) : {};
  config.auths = { ...auths, [host]: { auth: Buffer.from(`${username}:${secret}`).toString('base64') } };
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
  renameSync(temp, file);
}
