import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError } from '../errors.js';

/** What `berth login` keeps: where, as whom, and a refresh token (never the API key unless asked). */
export interface CliConfig {
  url?: string;
  account?: string;
  iamId?: string;
  /** Who the session is, for people: a user's e-mail, or a service ID's name and ID (from the token). */
  subject?: Subject;
  region?: string;
  /** The targeted region's registry host, kept so showing the target needs no server. */
  registry?: string;
  refreshToken?: string;
  /** Only with `berth login --save-apikey`: lets a session outlive its refresh token. */
  apikey?: string;
  /** The last access token, reused until shortly before it expires (every command needs one). */
  accessToken?: string;
  accessTokenExpires?: number;
}

export type Subject = { kind: 'user'; email: string } | { kind: 'service_id'; id: string; name: string };

/** `$BERTH_HOME`, or `~/.berth`. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.BERTH_HOME && env.BERTH_HOME !== '' ? env.BERTH_HOME : join(homedir(), '.berth');
}

const file = () => join(configDir(), 'config.json');

export function readConfig(): CliConfig {
  try {
    return JSON.parse(readFileSync(file(), 'utf8')) as CliConfig;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new CliError(`cannot read ${file()}: ${(error as Error).message}`);
  }
}

/** Writes the whole file (mode 0600, in a 0700 folder), atomically: a reader never sees half of it. */
export function writeConfig(config: CliConfig): void {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  const temp = `${file()}.${process.pid}.tmp`;
  writeFileSync(temp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  renameSync(temp, file());
}

export function removeConfig(): void {
  rmSync(file(), { force: true });
}

const LOCK_WAIT_MS = 10_000;
const STALE_LOCK_MS = 30_000;

/**
 * Runs `work` holding `~/.berth/config.lock`, so two commands (a pull calling the credential
 * helper twice, say) do not both spend the single-use refresh token. A lock older than 30 s is
 * left over from a killed process and taken over.
 */
export async function withConfigLock<T>(work: () => Promise<T>): Promise<T> {
  mkdirSync(configDir(), { recursive: true, mode: 0o700 });
  const lock = join(configDir(), 'config.lock');
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      closeSync(openSync(lock, 'wx', 0o600));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const age = Date.now() - (statSafe(lock) ?? Date.now());
      if (age > STALE_LOCK_MS) rmSync(lock, { force: true });
      else if (Date.now() > deadline) throw new CliError(`${lock} is held by another berth command; remove it if none is running`);
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await work();
  } finally {
    rmSync(lock, { force: true });
  }
}

function statSafe(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}
