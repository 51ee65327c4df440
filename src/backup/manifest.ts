import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupError } from './errors.js';
import { MANIFEST_FILE } from './layout.js';
import type { SnapshotCounts } from './snapshot.js';

/** The format of backup folders this Berth writes and reads. */
export const BACKUP_FORMAT = 1;

/** `backup.json`: what a complete backup holds; written last, so its presence says the rest is there. */
export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  berthVersion: string;
  /** ISO 8601, when the database snapshot was taken: the instant the backup shows. */
  createdAt: string;
  durationMs: number;
  /** The data folder it was made from. */
  source: string;
  /** The newest database migration it has. */
  schema: string | null;
  database: { file: string; bytes: number; sha256: string };
  counts: SnapshotCounts;
  blobs: {
    count: number;
    bytes: number;
    /** Unreferenced blobs the collector removed before they could be copied (their rows are dropped too). */
    collected: number;
  };
  /** The key files copied, relative to the folder (`keys/server-secret`, `owner-apikey`). */
  files: string[];
  /**
   * Where the servers' secret was: in `keys/server-secret` (copied), or in BERTH_SECRET, which a
   * restored server must be given again.
   */
  secret: 'file' | 'environment';
}

/** Writes the manifest under a temporary name, syncs it and renames it into place: it is whole or absent. */
export async function writeManifest(dir: string, manifest: BackupManifest): Promise<void> {
  const path = join(dir, MANIFEST_FILE);
  const partial = `${path}.partial`;
  const handle = await open(partial, 'wx', 0o600);
  try {
    await handle.writeFile(`${JSON.stringify(manifest, null, 2)}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(partial, path);
}

/** The files a backup may list: the owner's key file, and files under keys/. */
const KEY_FILE = /^(owner-apikey|keys(\/[A-Za-z0-9._-]+)+)$/;

/** The manifest of the backup in `dir`; a BackupError when there is none (an unfinished backup) or it is not one this Berth reads. */
export async function readManifest(dir: string): Promise<BackupManifest> {
  const path = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new BackupError(`${dir} is not a complete backup: it has no ${MANIFEST_FILE} (a backup that did not finish, or not a backup folder)`);
    }
    throw error;
  }
  let manifest: Partial<BackupManifest>;
  try {
    manifest = JSON.parse(text) as Partial<BackupManifest>;
  } catch {
    throw new BackupError(`${path} is not valid JSON`);
  }
  if (manifest.format !== BACKUP_FORMAT) {
    throw new BackupError(`${path} has backup format ${String(manifest.format)}; this Berth reads format ${BACKUP_FORMAT}`);
  }
  if (typeof manifest.database?.sha256 !== 'string' || typeof manifest.blobs?.count !== 'number' || !Array.isArray(manifest.files)) {
    throw new BackupError(`${path} lacks the database, blobs or files it must list`);
  }
  // Restore writes these paths into the new folder: nothing may reach outside it.
  const stray = manifest.files.find((file) => typeof file !== 'string' || !KEY_FILE.test(file) || file.split('/').includes('..'));
  if (stray !== undefined) throw new BackupError(`${path} lists ${JSON.stringify(stray)}, which is not a key file of a data folder`);
  return manifest as BackupManifest;
}
