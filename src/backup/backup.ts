import { chmod } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { formatDuration } from '../config/durations.js';
import { OWNER_KEY_FILE } from '../iam/bootstrap.js';
import { FsBlobStore } from '../storage/fs-blob-store.js';
import { COPY_WIDTH, copyBlob, eachLimited } from './blob-copy.js';
import { BackupError } from './errors.js';
import { claimEmptyFolder, copyPrivateFile, copyPrivateTree, discard, exists, fileSha256, syncFolder } from './folders.js';
import { blobFile, DATABASE_FILE, KEYS_DIR, SERVER_SECRET_FILE } from './layout.js';
import { BACKUP_FORMAT, writeManifest, type BackupManifest } from './manifest.js';
import { Snapshot, snapshotDatabase, type SnapshotBlob, type SnapshotCounts } from './snapshot.js';

export interface BackupOptions {
  /** The servers' data folder (SQLite database, blobs, keys). */
  dataDir: string;
  /** A new or empty folder for the backup. */
  to: string;
  berthVersion: string;
  /** The collector's grace (BERTH_GC_DELAY): how long blobs the snapshot references are sure to stay. */
  gcDelayMs: number;
}

export interface BackupResult {
  manifest: BackupManifest;
  /** Things the operator must know to restore it (printed, not failures). */
  notes: string[];
}

/**
 * A consistent backup of a running embedded Berth: the database as of one instant (SQLite's
 * online backup), the blobs that snapshot has, verified, the key files, then `backup.json`.
 *
 * Why the blobs the snapshot needs are still there when they are copied, although servers and
 * the collector go on: the snapshot is taken first, and a blob it needs is linked or named there.
 * The collector deletes a blob's bytes only once nothing links or names it and its `released_at`
 * is older than BERTH_GC_DELAY, checked again under the blob's lock (Collector.removeBlob). That
 * link can only go after the snapshot, so the bytes stay for at least BERTH_GC_DELAY (1 hour by
 * default) after it: a backup that copies within that finds them all. One that runs longer, or a
 * `berth gc --delay 0` meanwhile, may find one gone, and then fails rather than leave a hole.
 * Blobs the snapshot has rows for but nothing needs are garbage in their grace, which the
 * collector may delete at any moment (even just before the snapshot: it deletes the bytes inside
 * the transaction that then deletes the row); one found gone is left out and its row dropped from
 * the copy, as that transaction's commit would have. Blobs committed after the snapshot are not
 * in it, and upload sessions in flight are restored without their staged bytes (clients start
 * those uploads again).
 */
export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const dataDir = resolve(options.dataDir);
  const to = resolve(options.to);
  const livePath = join(dataDir, DATABASE_FILE);
  if (!(await exists(livePath))) {
    throw new BackupError(`no Berth database at ${livePath}: give the servers' data folder with --data (or BERTH_DATA)`);
  }
  const { created } = await claimEmptyFolder(to, '--to', 0o700);
  try {
    return await backUp(dataDir, to, livePath, options);
  } catch (error) {
    await discard(to, created);
    const message = error instanceof Error ? error.message : String(error);
    throw new BackupError(`${message}; nothing was kept in ${to}`);
  }
}

async function backUp(dataDir: string, to: string, livePath: string, options: BackupOptions): Promise<BackupResult> {
  const started = Date.now();
  const copyPath = join(to, DATABASE_FILE);
  await snapshotDatabase(livePath, copyPath);
  await chmod(copyPath, 0o600);

  const snapshot = new Snapshot(copyPath);
  let blobs: SnapshotBlob[];
  const collected = new Set<string>();
  let bytes = 0;
  let counts: SnapshotCounts;
  let schema: string | null;
  try {
    blobs = await snapshot.blobs();
    const live = new FsBlobStore(dataDir);
    await eachLimited(blobs, COPY_WIDTH, async (blob) => {
      const outcome = await copyBlob(live, blob, to, `the data folder ${dataDir}`);
      if (outcome === 'copied') {
        bytes += blob.size;
        return;
      }
      if (!blob.needed) {
        collected.add(blob.digest.value);
        return;
      }
      const took = Date.now() - started;
      const why =
        took >= options.gcDelayMs
          ? `the backup has taken ${formatDuration(took)}, longer than BERTH_GC_DELAY (${formatDuration(options.gcDelayMs)}), so the collector may have removed it: run the backup again`
          : 'it was removed outside Berth, or by berth gc with a --delay shorter than the backup took';
      throw new BackupError(`blob ${blob.digest.value} that the database references is missing from ${dataDir} (${why})`);
    });
    await snapshot.dropGarbage([...collected]);
    counts = await snapshot.counts();
    schema = (await snapshot.schema()) ?? null;
  } finally {
    await snapshot.close();
  }

  const files: string[] = [];
  if (await exists(join(dataDir, KEYS_DIR))) {
    files.push(...(await copyPrivateTree(join(dataDir, KEYS_DIR), join(to, KEYS_DIR))).map((file) => join(KEYS_DIR, file)));
  }
  if (await exists(join(dataDir, OWNER_KEY_FILE))) {
    await copyPrivateFile(join(dataDir, OWNER_KEY_FILE), join(to, OWNER_KEY_FILE));
    files.push(OWNER_KEY_FILE);
  }
  const secret = files.includes(SERVER_SECRET_FILE) ? 'file' : 'environment';

  // Every folder a blob went into, then the backup's own: durable before the manifest says it is complete.
  const folders = new Set<string>();
  for (const blob of blobs) {
    if (collected.has(blob.digest.value)) continue;
    for (let dir = dirname(blobFile(to, blob.digest)); dir.startsWith(`${to}/`); dir = dirname(dir)) folders.add(dir);
  }
  for (const dir of folders) await syncFolder(dir);
  await syncFolder(to);

  const database = await fileSha256(copyPath);
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    berthVersion: options.berthVersion,
    createdAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    source: dataDir,
    schema,
    database: { file: DATABASE_FILE, bytes: database.bytes, sha256: database.sha256 },
    counts,
    blobs: { count: blobs.length - collected.size, bytes, collected: collected.size },
    files,
    secret,
  };
  await writeManifest(to, manifest);
  await syncFolder(to);
  const notes =
    secret === 'environment'
      ? [`${join(dataDir, SERVER_SECRET_FILE)} does not exist, so the servers take their secret from BERTH_SECRET: a server on the restored folder needs the same BERTH_SECRET`]
      : [];
  return { manifest, notes };
}
