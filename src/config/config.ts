import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { parseDuration } from './durations.js';
import { DEFAULT_REGION, parseRegions, type RegionConfig } from './regions.js';
import { readConfigFile } from './config-file.js';
import { layeredSettings, type Setting, type SettingName } from './settings.js';
import { parseStorage, type StorageConfig, type StorageFlags } from './storage.js';
import { parseTrustedProxies } from './trusted-proxies.js';

/** IBM's Container Registry plans: Free has limits, Standard has none. */
export type PlanName = 'Free' | 'Standard';

/** Where the certificate chain and its private key are (PEM files). */
export interface TlsFiles {
  certPath: string;
  keyPath: string;
}

/** Every setting Berth reads, after flags, environment and defaults are merged and validated. */
export interface BerthConfig {
  /** The config file the settings were read from, if any (absolute). */
  configFile?: string;
  host: string;
  port: number;
  /** Folder for the embedded database, blobs and keys. */
  dataDir: string;
  /** `postgres://…` for PostgreSQL; absent means SQLite in `dataDir/berth.db`. */
  databaseUrl?: string;
  /** Where blobs live: the data folder, or an S3-compatible bucket. */
  storage: StorageConfig;
  /**
   * The base URL clients reach this server at (`BERTH_PUBLIC_URL`): the IAM token issuer, and the
   * realm and Location URLs of the main listener's default region, are built from it.
   */
  publicUrl?: string;
  /**
   * Proxies whose X-Forwarded-For, -Proto and -Host are believed (`BERTH_TRUSTED_PROXIES`). Empty
   * means none: the headers are ignored, so a client cannot choose the address it is throttled by.
   */
  trustedProxies: string[];
  /** The key API key secrets are hashed under (`BERTH_SECRET`); absent means a file in `dataDir/keys`. */
  secret?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  registry: {
    /** When false, DELETE on blobs, manifests and tags answers 405 UNSUPPORTED. */
    deleteEnabled: boolean;
    /** Advertised as OCI-Chunk-Min-Length when above zero. */
    chunkMinLength: number;
    maxManifestBytes: number;
    /** Largest `n` honoured on tag and catalog lists; larger requests are paged with a Link. */
    maxPageSize: number;
  };
  /** The registry's regions (at least one); IAM is global. */
  regions: RegionConfig[];
  /** How long a registry token from `/oauth/token` is valid. */
  registryTokenSeconds: number;
  /** Failed logins one client, or one secret, may make per minute before further failures are answered 429. */
  tokenFailuresPerMinute: number;
  /** How long an IAM refresh token stays valid (IBM's maximum is 72 hours). */
  refreshTokenHours: number;
  /** Upload sessions idle this long are cancelled and their staged bytes removed. */
  uploadIdleHours: number;
  /** HTTPS on every listener with this certificate and key (`--tls-cert`/`--tls-key`, `BERTH_TLS_CERT`/`BERTH_TLS_KEY`). */
  tls?: TlsFiles;
  /** Connections one listener holds at once (`BERTH_MAX_CONNECTIONS`), in each worker. */
  maxConnections: number;
  /**
   * Server processes on this machine (`BERTH_WORKERS`, `auto`: one per core). Each is a node of its
   * own over the same database and storage; one connection stays with one of them.
   */
  workers: number;
  /** A request body silent this long has its connection closed (`BERTH_BODY_IDLE_SECONDS`; 0: never). */
  bodyIdleSeconds: number;
  /** Seconds SIGTERM waits for in-flight requests before closing them. */
  shutdownGraceSeconds: number;
  gc: {
    /** How often the collector runs in the background; 0 means only on demand (`berth gc`). */
    intervalMs: number;
    /** How long an unreferenced blob or link is kept after the last reference to it went. */
    delayMs: number;
  };
  /** Days a deleted image stays in the trash; 0 means no trash (deleted images go at once). */
  trashDays: number;
  audit: {
    /** Audit events older than this are removed (`BERTH_AUDIT_RETENTION`); 0 keeps them forever. */
    retentionMs: number;
  };
  /** The plan an account starts on in a region. */
  defaultPlan: PlanName;
  /** Free space blob uploads leave on the data folder's disk, for the database and for deletes. */
  diskReserveBytes: number;
}

/** Settings given as flags (or by a caller in code); each wins over its variable and the config file. */
export interface ConfigInput extends StorageFlags {
  /** A YAML or JSON file of settings (`--config`, `BERTH_CONFIG`). */
  config?: string;
  host?: string;
  port?: string | number;
  data?: string;
  databaseUrl?: string;
  logLevel?: string;
  workers?: string;
  deleteEnabled?: boolean;
  gcInterval?: string;
  gcDelay?: string;
  auditRetention?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export { ConfigError };

/** Both files or neither: a certificate without its key (or the reverse) is a mistake, not plain HTTP. */
function parseTls(cert: Setting, key: Setting): TlsFiles | undefined {
  if (cert.value === undefined && key.value === undefined) return undefined;
  if (cert.value === undefined || cert.value === '') throw new ConfigError(`${key.source} is set but BERTH_TLS_CERT (--tls-cert) is not: give both, or neither for plain HTTP`);
  if (key.value === undefined || key.value === '') throw new ConfigError(`${cert.source} is set but BERTH_TLS_KEY (--tls-key) is not: give both, or neither for plain HTTP`);
  return { certPath: resolve(cert.value), keyPath: resolve(key.value) };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function parsePort({ value, source }: Setting, fallback: number): number {
  if (value === undefined) return fallback;
  // Digits only: Number() would also take '', ' ', '0x50' and '1e3'.
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${source} must be a port number between 0 and 65535, got "${value}"`);
  }
  return port;
}

function parseCount({ value, source }: Setting, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(`${source} must be a whole number, got "${value}"`);
  }
  return Number(value);
}

function parsePositive(setting: Setting, fallback: number): number {
  const count = parseCount(setting, fallback);
  if (count === 0) throw new ConfigError(`${setting.source} must be at least 1, got "${setting.value}"`);
  return count;
}

/** A count of processes, or `auto` for one per core this process may use. */
function parseWorkers({ value, source }: Setting): number {
  if (value === undefined) return 1;
  if (value.toLowerCase() === 'auto') return availableParallelism();
  const count = /^\d+$/.test(value) ? Number(value) : NaN;
  if (!(count >= 1 && count <= MAX_WORKERS)) throw new ConfigError(`${source} must be auto or a number from 1 to ${MAX_WORKERS}, got "${value}"`);
  return count;
}

const MAX_WORKERS = 64;

function parseDurationSetting({ value, source }: Setting, fallback: string): number {
  const ms = parseDuration(value ?? fallback);
  if (ms === undefined) throw new ConfigError(`${source} must be a duration such as 30s, 10m or 1h (or 0), got "${value}"`);
  return ms;
}

function parsePlan({ value, source }: Setting): PlanName {
  const text = (value ?? 'standard').toLowerCase();
  const plan = text === 'free' ? 'Free' : text === 'standard' ? 'Standard' : undefined;
  if (!plan) throw new ConfigError(`${source} must be free or standard, got "${value}"`);
  return plan;
}

function parseBoolean({ value, source }: Setting, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${source} must be true or false, got "${value}"`);
}

/** The flags as setting texts, by setting name (`databaseUrl` is `database-url`). */
function flagSettings(flags: ConfigInput): Partial<Record<SettingName, string>> {
  const settings: Partial<Record<SettingName, string>> = {};
  for (const [key, value] of Object.entries(flags)) {
    if (key === 'config' || value === undefined) continue;
    settings[key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`) as SettingName] = String(value);
  }
  return settings;
}

/** Flags win over `BERTH_*` environment variables, which win over the config file, which wins over defaults. */
export function loadConfig(flags: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): BerthConfig {
  const configPath = flags.config ?? (env.BERTH_CONFIG === '' ? undefined : env.BERTH_CONFIG);
  const file = configPath !== undefined ? readConfigFile(configPath) : undefined;
  const read = layeredSettings(flagSettings(flags), env, file);
  const logLevel = read('log-level');
  if (logLevel.value !== undefined && !(LOG_LEVELS as readonly string[]).includes(logLevel.value)) {
    throw new ConfigError(`${logLevel.source} must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel.value}"`);
  }
  const databaseUrl = read('database-url');
  if (databaseUrl.value !== undefined && databaseUrl.value !== '' && !/^postgres(ql)?:\/\//.test(databaseUrl.value)) {
    // The URL itself is not echoed: it may carry a password.
    throw new ConfigError(`${databaseUrl.source} must be a postgres:// URL (leave it unset for the embedded SQLite)`);
  }
  const fail = (message: string) => new ConfigError(message);
  const regions = read('regions');
  const proxies = read('trusted-proxies');
  const config: BerthConfig = {
    host: read('host').value ?? '127.0.0.1',
    port: parsePort(read('port'), 5000),
    dataDir: resolve(read('data').value ?? './berth-data'),
    storage: parseStorage(read, fail),
    logLevel: (logLevel.value ?? 'info') as BerthConfig['logLevel'],
    registry: {
      deleteEnabled: parseBoolean(read('delete-enabled'), true),
      chunkMinLength: 0,
      maxManifestBytes: 4 * 1024 * 1024,
      maxPageSize: 1000,
    },
    regions: parseRegions(regions.value ?? DEFAULT_REGION, regions.source, fail),
    trustedProxies: parseTrustedProxies(proxies.value ?? '', proxies.source, fail),
    registryTokenSeconds: 60 * parsePositive(read('registry-token-minutes'), 15),
    tokenFailuresPerMinute: 20,
    refreshTokenHours: parseCount(read('refresh-token-hours'), 72),
    uploadIdleHours: parseCount(read('upload-idle-hours'), 24),
    maxConnections: parsePositive(read('max-connections'), 10_000),
    workers: parseWorkers(read('workers')),
    bodyIdleSeconds: parseCount(read('body-idle-seconds'), 60),
    shutdownGraceSeconds: 30,
    gc: {
      intervalMs: parseDurationSetting(read('gc-interval'), '10m'),
      delayMs: parseDurationSetting(read('gc-delay'), '1h'),
    },
    trashDays: parseCount(read('trash-days'), 30),
    audit: { retentionMs: parseDurationSetting(read('audit-retention'), '0') },
    defaultPlan: parsePlan(read('default-plan')),
    diskReserveBytes: 1024 * 1024 * parseCount(read('disk-reserve-mb'), 100),
  };
  // On S3, chunks of at least a multipart part (5 MiB) go straight into parts instead of a staged tail.
  config.registry.chunkMinLength = parseCount(read('chunk-min-length'), config.storage.kind === 's3' ? 5 * 1024 * 1024 : 0);
  const clash = config.regions.find((region) => region.port !== undefined && region.port !== 0 && region.port === config.port);
  if (clash) throw new ConfigError(`${regions.source} gives region ${clash.name} port ${clash.port}, the main listener's; leave the port out to serve it there`);
  if (databaseUrl.value) config.databaseUrl = databaseUrl.value;
  const tls = parseTls(read('tls-cert'), read('tls-key'));
  if (tls) config.tls = tls;
  const publicUrl = read('public-url');
  if (publicUrl.value !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(publicUrl.value)) throw new ConfigError(`${publicUrl.source} must be an http(s) URL, got "${publicUrl.value}"`);
    config.publicUrl = publicUrl.value.replace(/\/+$/, '');
  }
  if (file) config.configFile = file.path;
  const secret = read('secret');
  if (secret.value !== undefined) {
    if (secret.value.length < 32) throw new ConfigError(`${secret.source} must be at least 32 characters`);
    config.secret = secret.value;
  }
  return config;
}
