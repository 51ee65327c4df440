import type { Command } from 'commander';
import type { BackupManifest } from '../backup/manifest.js';
import { withExample, withOutput, type OutputFlags } from './commands/options.js';
import { CliError } from './errors.js';
import { formatOf, printJson } from './output.js';
import { storeConfig, type StoreFlags } from './store-config.js';

interface BackupFlags extends OutputFlags, StoreFlags {
  to: string;
}

interface RestoreFlags extends OutputFlags {
  from: string;
  data: string;
}

const RECIPE = '(see "Backup and restore" in README.md)';

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Domain failures of a backup or restore are the user's to act on: one line each. */
async function reported<T>(work: () => Promise<T>): Promise<T> {
  const { BackupError } = await import('../backup/errors.js');
  try {
    return await work();
  } catch (error) {
    if (error instanceof BackupError) throw new CliError(error.message);
    throw error;
  }
}

function note(lines: string[]): void {
  for (const line of lines) process.stderr.write(`note: ${line}\n`);
}

function backupSummary(manifest: BackupManifest, to: string): string {
  const { counts, blobs } = manifest;
  return (
    `Backed up ${plural(counts.namespaces, 'namespace')}, ${plural(counts.repositories, 'repository', 'repositories')}, ` +
    `${plural(counts.manifests, 'manifest')}, ${plural(counts.tags, 'tag')} and ${plural(blobs.count, 'blob')} (${blobs.bytes} bytes) ` +
    `to ${to} in ${manifest.durationMs} ms.`
  );
}

/**
 * `berth backup` and `berth restore`: a consistent copy of an embedded (SQLite, files) Berth taken
 * while its servers run, and a new data folder made from one. PostgreSQL and S3 deployments are
 * backed up with their own tools (the README's recipe).
 */
export function registerBackup(program: Command): void {
  withExample(
    withOutput(
      program
        .command('backup')
        .description('copy the database, blobs and keys of the data folder into a new folder (servers may keep running)')
        .requiredOption('--to <dir>', 'a new or empty folder for the backup')
        .option('--data <dir>', 'data folder (env BERTH_DATA)', undefined)
        .option('--database-url <url>', 'refused: PostgreSQL is backed up with pg_dump (env BERTH_DATABASE_URL)', undefined),
    ),
    'berth backup --data ./berth-data --to /backups/berth-2026-12-31',
  ).action(async (flags: BackupFlags) => {
    formatOf(flags);
    const config = storeConfig(flags);
    if (config.databaseUrl) {
      throw new CliError(`berth backup copies the embedded SQLite database, but BERTH_DATABASE_URL points at PostgreSQL: back it up with pg_dump and copy the blobs and BERTH_SECRET ${RECIPE}`);
    }
    if (config.storage.kind === 's3') {
      throw new CliError(`berth backup copies blobs from the data folder, but BERTH_STORAGE is s3: copy the bucket with your object store's tools, and the database and keys ${RECIPE}`);
    }
    const { createBackup } = await import('../backup/backup.js');
    const { manifest, notes } = await reported(() =>
      createBackup({ dataDir: config.dataDir, to: flags.to, berthVersion: program.version() ?? 'unknown', gcDelayMs: config.gc.delayMs }),
    );
    note(notes);
    if (formatOf(flags) === 'json') printJson(manifest);
    else process.stdout.write(`${backupSummary(manifest, flags.to)}\n`);
  });

  withExample(
    withOutput(
      program
        .command('restore')
        .description('make a new data folder from a backup; then run berth serve --data on it')
        .requiredOption('--from <dir>', 'a folder berth backup made')
        .requiredOption('--data <dir>', 'the new data folder: must not exist, or be empty'),
    ),
    'berth restore --from /backups/berth-2026-12-31 --data ./berth-data-restored',
  ).action(async (flags: RestoreFlags) => {
    formatOf(flags);
    const { restoreBackup } = await import('../backup/restore.js');
    const result = await reported(() => restoreBackup({ from: flags.from, to: flags.data }));
    note(result.notes);
    if (formatOf(flags) === 'json') {
      printJson({ from: flags.from, data: flags.data, blobs: result.blobs, bytes: result.bytes, backup: result.manifest });
      return;
    }
    process.stdout.write(
      `Restored the database, ${plural(result.blobs, 'blob')} (${result.bytes} bytes) and ${plural(result.manifest.files.length, 'key file')} ` +
        `backed up at ${result.manifest.createdAt} into ${flags.data}.\nServe it with: berth serve --data ${flags.data}\n`,
    );
  });
}
