import { mkdir, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { FsBlobStore } from '../storage/fs-blob-store.js';
import { COPY_WIDTH, copyBlob, eachLimited } from './blob-copy.js';
import { BackupError } from './errors.js';
import { claimEmptyFolder, copyPrivateFile, discard, exists, fileSha256, syncFolder } from './folders.js';
import { blobFile, DATABASE_FILE } from './layout.js';
import { readManifest, type BackupManifest } from './manifest.js';
import { Snapshot } from './snapshot.js';

export interface RestoreOptions {
  /** A complete backup folder (one with backup.json). */
  from: string;
  /** The new data folder: absent or empty. */
  to: string;
}

export interface RestoreResult {
  manifest: BackupManifest;
  blobs: number;
  bytes: number;
  notes: string[];
}

/**
 * Makes a data folder from a backup, checking everything on the way: the database against the
 * SHA-256 backup.json gives, every blob against its digest, every blob the database has present.
 * The key files come back readable by the owner alone. The database is put in place last: a
 * folder a failed restore left (if it could not even clean up) has none, so no server takes it
 * for a registry.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const from = resolve(options.from);
  const to = resolve(options.to);
  const manifest = await readManifest(from);
  const { created } = await claimEmptyFolder(to, '--data', 0o700);
  try {
    return await restore(from, to, manifest);
  } catch (error) {
    await discard(to, created);
    const message = error instanceof Error ? error.message : String(error);
    throw new BackupError(`${message}; nothing was kept in ${to}`);
  }
}

async function restore(from: string, to: string, manifest: BackupManifest): Promise<RestoreResult> {
  // Every folder something went into: synced before the database makes the folder a registry.
  const folders = new Set<string>();
  for (const file of manifest.files) {
    if (!(await exists(join(from, file)))) throw new BackupError(`${join(from, file)} is missing, though ${from}/backup.json lists it`);
    await mkdir(dirname(join(to, file)), { recursive: true, mode: 0o700 });
    await copyPrivateFile(join(from, file), join(to, file));
    folders.add(dirname(join(to, file)));
  }

  if (!(await exists(join(from, DATABASE_FILE)))) throw new BackupError(`${join(from, DATABASE_FILE)} is missing, though ${from}/backup.json lists it`);
  const incoming = join(to, `${DATABASE_FILE}.restoring`);
  await copyPrivateFile(join(from, DATABASE_FILE), incoming);
  const { sha256 } = await fileSha256(incoming);
  if (sha256 !== manifest.database.sha256) {
    throw new BackupError(`${join(from, DATABASE_FILE)} is not the database backup.json describes (its SHA-256 differs): the backup is damaged`);
  }

  const snapshot = new Snapshot(incoming, { readonly: true });
  let count = 0;
  let bytes = 0;
  try {
    const blobs = await snapshot.blobs();
    const backup = new FsBlobStore(from);
    await eachLimited(blobs, COPY_WIDTH, async (blob) => {
      if ((await copyBlob(backup, blob, to, `the backup ${from}`)) === 'missing') {
        throw new BackupError(`blob ${blob.digest.value} is missing from the backup ${from}, though its database has it: the backup is damaged`);
      }
      count += 1;
      bytes += blob.size;
      for (let dir = dirname(blobFile(to, blob.digest)); dir.startsWith(`${to}/`); dir = dirname(dir)) folders.add(dir);
    });
  } finally {
    await snapshot.close();
  }
  if (count !== manifest.blobs.count) {
    throw new BackupError(`the backup's database has ${count} blobs, but backup.json says ${manifest.blobs.count}: the backup is damaged`);
  }
  for (const dir of folders) await syncFolder(dir);

  await rename(incoming, join(to, DATABASE_FILE));
  await syncFolder(to);
  const notes =
    manifest.secret === 'environment'
      ? ['the backed-up servers took their secret from BERTH_SECRET: start the restored server with the same BERTH_SECRET, or its API keys will not work']
      : [];
  return { manifest, blobs: count, bytes, notes };
}
