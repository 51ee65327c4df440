import { join } from 'node:path';
import type { BerthConfig } from './config.js';

/** A database URL without its password (and without any other query secret): safe for a log line. */
function databaseOf(config: BerthConfig): string {
  if (!config.databaseUrl) return `sqlite ${join(config.dataDir, 'berth.db')}`;
  try {
    const url = new URL(config.databaseUrl);
    return `postgresql ${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}${url.pathname}`;
  } catch {
    return 'postgresql';
  }
}

function storageOf(config: BerthConfig): string {
  if (config.storage.kind === 'fs') return `fs ${join(config.dataDir, 'blobs')}`;
  const { s3 } = config.storage;
  return `s3 ${s3.bucket}/${s3.prefix} at ${s3.endpoint ?? `AWS ${s3.region}`}`;
}

/**
 * What one start runs on, for the start-up log line: an operator reading the log should not have to
 * guess which version, folder, database or bucket a node used. Never a secret.
 */
export function describeConfig(config: BerthConfig, version: string): Record<string, unknown> {
  return {
    version,
    ...(config.configFile ? { config: config.configFile } : {}),
    data: config.dataDir,
    database: databaseOf(config),
    storage: storageOf(config),
    ...(config.workers > 1 ? { workers: config.workers } : {}),
  };
}
