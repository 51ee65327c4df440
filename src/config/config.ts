import { resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { parseDuration } from './durations.js';
import { DEFAULT_REGION, parseRegions, type RegionConfig } from './regions.js';
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
  /** Connections one listener holds at once (`BERTH_MAX_CONNECTIONS`). */
  maxConnections: number;
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

export interface ConfigInput extends StorageFlags {
  host?: string;
  port?: string | number;
  data?: string;
  databaseUrl?: string;
  logLevel?: string;
  deleteEnabled?: boolean;
  gcInterval?: string;
  gcDelay?: string;
  auditRetention?: string;
  tlsCert?: string;
  tlsKey?: string;
}

export { ConfigError };

/** Both files or neither: a certificate without its key (or the reverse) is a mistake, not plain HTTP. */
function parseTls(cert: string | undefined, key: string | undefined): TlsFiles | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || cert === '') throw new ConfigError('BERTH_TLS_KEY (--tls-key) is set but BERTH_TLS_CERT (--tls-cert) is not: give both, or neither for plain HTTP');
  if (key === undefined || key === '') throw new ConfigError('BERTH_TLS_CERT (--tls-cert) is set but BERTH_TLS_KEY (--tls-key) is not: give both, or neither for plain HTTP');
  return { certPath: resolve(cert), keyPath: resolve(key) };
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

function parsePort(value: string | number, setting: string): number {
  // Digits only: Number() would also take '', ' ', '0x50' and '1e3'.
  const port = typeof value === 'number' ? value : /^\d+$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(`${setting} must be a port number between 0 and 65535, got "${value}"`);
  }
  return port;
}

function parseCount(value: string, setting: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(`${setting} must be a whole number, got "${value}"`);
  }
  return Number(value);
}

function parsePositive(value: string, setting: string): number {
  const count = parseCount(value, setting);
  if (count === 0) throw new ConfigError(`${setting} must be at least 1, got "${value}"`);
  return count;
}

function parseDurationSetting(value: string, setting: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new ConfigError(`${setting} must be a duration such as 30s, 10m or 1h (or 0), got "${value}"`);
  return ms;
}

function parsePlan(value: string, setting: string): PlanName {
  const plan = value.toLowerCase() === 'free' ? 'Free' : value.toLowerCase() === 'standard' ? 'Standard' : undefined;
  if (!plan) throw new ConfigError(`${setting} must be free or standard, got "${value}"`);
  return plan;
}

function parseBoolean(value: string, setting: string): boolean {
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${setting} must be true or false, got "${value}"`);
}

/** Flags win over `BERTH_*` environment variables, which win over defaults. */
export function loadConfig(flags: ConfigInput = {}, env: NodeJS.ProcessEnv = process.env): BerthConfig {
  // An empty variable (`BERTH_PORT=`) means unset, as shells and compose files use it.
  const fromEnv = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
  const portSetting = flags.port !== undefined ? '--port' : 'BERTH_PORT';
  const logLevel = flags.logLevel ?? fromEnv('BERTH_LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    const setting = flags.logLevel !== undefined ? '--log-level' : 'BERTH_LOG_LEVEL';
    throw new ConfigError(`${setting} must be one of ${LOG_LEVELS.join(', ')}, got "${logLevel}"`);
  }
  const databaseUrl = flags.databaseUrl ?? fromEnv('BERTH_DATABASE_URL');
  if (databaseUrl !== undefined && databaseUrl !== '' && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    // The URL itself is not echoed: it may carry a password.
    const setting = flags.databaseUrl !== undefined ? '--database-url' : 'BERTH_DATABASE_URL';
    throw new ConfigError(`${setting} must be a postgres:// URL (leave it unset for the embedded SQLite)`);
  }
  const deleteEnabledText = fromEnv('BERTH_DELETE_ENABLED');
  const deleteEnabled =
    flags.deleteEnabled ?? (deleteEnabledText !== undefined ? parseBoolean(deleteEnabledText, 'BERTH_DELETE_ENABLED') : true);
  const config: BerthConfig = {
    host: flags.host ?? fromEnv('BERTH_HOST') ?? '127.0.0.1',
    port: parsePort(flags.port ?? fromEnv('BERTH_PORT') ?? 5000, portSetting),
    dataDir: resolve(flags.data ?? fromEnv('BERTH_DATA') ?? './berth-data'),
    storage: parseStorage(flags, fromEnv, (message) => new ConfigError(message)),
    logLevel: logLevel as BerthConfig['logLevel'],
    registry: {
      deleteEnabled,
      chunkMinLength: 0,
      maxManifestBytes: 4 * 1024 * 1024,
      maxPageSize: 1000,
    },
    regions: parseRegions(fromEnv('BERTH_REGIONS') ?? DEFAULT_REGION, (message) => new ConfigError(message)),
    trustedProxies: parseTrustedProxies(fromEnv('BERTH_TRUSTED_PROXIES') ?? '', (message) => new ConfigError(message)),
    registryTokenSeconds: 60 * parsePositive(fromEnv('BERTH_REGISTRY_TOKEN_MINUTES') ?? '15', 'BERTH_REGISTRY_TOKEN_MINUTES'),
    tokenFailuresPerMinute: 20,
    refreshTokenHours: parseCount(fromEnv('BERTH_REFRESH_TOKEN_HOURS') ?? '72', 'BERTH_REFRESH_TOKEN_HOURS'),
    uploadIdleHours: parseCount(fromEnv('BERTH_UPLOAD_IDLE_HOURS') ?? '24', 'BERTH_UPLOAD_IDLE_HOURS'),
    maxConnections: parsePositive(fromEnv('BERTH_MAX_CONNECTIONS') ?? '10000', 'BERTH_MAX_CONNECTIONS'),
    bodyIdleSeconds: parseCount(fromEnv('BERTH_BODY_IDLE_SECONDS') ?? '60', 'BERTH_BODY_IDLE_SECONDS'),
    shutdownGraceSeconds: 30,
    gc: {
      intervalMs: parseDurationSetting(flags.gcInterval ?? fromEnv('BERTH_GC_INTERVAL') ?? '10m', flags.gcInterval !== undefined ? '--gc-interval' : 'BERTH_GC_INTERVAL'),
      delayMs: parseDurationSetting(flags.gcDelay ?? fromEnv('BERTH_GC_DELAY') ?? '1h', flags.gcDelay !== undefined ? '--gc-delay' : 'BERTH_GC_DELAY'),
    },
    trashDays: parseCount(fromEnv('BERTH_TRASH_DAYS') ?? '30', 'BERTH_TRASH_DAYS'),
    audit: {
      retentionMs: parseDurationSetting(flags.auditRetention ?? fromEnv('BERTH_AUDIT_RETENTION') ?? '0', flags.auditRetention !== undefined ? '--audit-retention' : 'BERTH_AUDIT_RETENTION'),
    },
    defaultPlan: parsePlan(fromEnv('BERTH_DEFAULT_PLAN') ?? 'standard', 'BERTH_DEFAULT_PLAN'),
    diskReserveBytes: 1024 * 1024 * parseCount(fromEnv('BERTH_DISK_RESERVE_MB') ?? '100', 'BERTH_DISK_RESERVE_MB'),
  };
  // On S3, chunks of at least a multipart part (5 MiB) go straight into parts instead of a staged tail.
  config.registry.chunkMinLength = parseCount(
    fromEnv('BERTH_CHUNK_MIN_LENGTH') ?? (config.storage.kind === 's3' ? String(5 * 1024 * 1024) : '0'),
    'BERTH_CHUNK_MIN_LENGTH',
  );
  const clash = config.regions.find((region) => region.port !== undefined && region.port !== 0 && region.port === config.port);
  if (clash) throw new ConfigError(`BERTH_REGIONS gives region ${clash.name} port ${clash.port}, the main listener's; leave the port out to serve it there`);
  if (databaseUrl) config.databaseUrl = databaseUrl;
  const tls = parseTls(flags.tlsCert ?? fromEnv('BERTH_TLS_CERT'), flags.tlsKey ?? fromEnv('BERTH_TLS_KEY'));
  if (tls) config.tls = tls;
  const publicUrl = fromEnv('BERTH_PUBLIC_URL');
  if (publicUrl !== undefined) {
    if (!/^https?:\/\/[^/]+/.test(publicUrl)) throw new ConfigError(`BERTH_PUBLIC_URL must be an http(s) URL, got "${publicUrl}"`);
    config.publicUrl = publicUrl.replace(/\/+$/, '');
  }
  const secret = fromEnv('BERTH_SECRET');
  if (secret !== undefined) {
    if (secret.length < 32) throw new ConfigError('BERTH_SECRET must be at least 32 characters');
    config.secret = secret;
  }
  return config;
}
