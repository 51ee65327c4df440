import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { parseDigest } from '../oci/digest.js';
import type { BlobEntry } from './blob-copy.js';
import { BackupError } from './errors.js';

/** Pages copied per backup step: all of them, so the copy is made inside one read transaction. */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies the live database at `livePath` into `to` with SQLite's online backup API, while servers
 * go on writing to it. Copying every page in one step holds one read transaction for the whole
 * copy (in WAL mode readers do not stop writers), so the copy is the database exactly as it was
 * at one instant, whatever commits meanwhile; it is then made a standalone file (no WAL beside it).
 */
export async function snapshotDatabase(livePath: string, to: string): Promise<void> {
  // Opened read-write only so SQLite may use the WAL's shared memory as the servers do; nothing is written.
  const live = new SqliteDatabase(livePath, { fileMustExist: true });
  try {
    live.pragma('busy_timeout = 5000');
    await live.backup(to, { progress: () => ALL_PAGES });
  } finally {
    live.close();
  }
  const copy = new SqliteDatabase(to, { fileMustExist: true });
  try {
    copy.pragma('journal_mode = DELETE');
    const check = copy.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw new BackupError(`the database copy fails SQLite's quick_check (${String(check)}): is ${livePath} damaged?`);
  } finally {
    copy.close();
  }
}

/** A blob row of a snapshot, and whether anything in the snapshot needs its bytes. */
export interface SnapshotBlob extends BlobEntry {
  /**
   * A repository links it or a manifest names it (or its row says it is in use): the snapshot is
   * broken without its bytes. The others are garbage in their grace, which the collector may
   * already be deleting.
   */
  needed: boolean;
}

export interface SnapshotCounts {
  namespaces: number;
  repositories: number;
  manifests: number;
  tags: number;
}

/** A database snapshot (or a backup's database), read without migrating it. */
export class Snapshot {
  private readonly db: Kysely<Database>;

  constructor(path: string, options: { readonly?: boolean } = {}) {
    const database = new SqliteDatabase(path, { fileMustExist: true, readonly: options.readonly ?? false });
    this.db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  }

  /** Every blob row, with the references the collector itself checks before it deletes one (Collector.removeBlob). */
  async blobs(): Promise<SnapshotBlob[]> {
    const rows = await this.db
      .selectFrom('blobs as b')
      .select((eb) => [
        'b.digest',
        'b.size',
        eb
          .or([
            eb('b.released_at', 'is', null),
            eb.exists(eb.selectFrom('repository_blobs as l').select('l.digest').whereRef('l.digest', '=', 'b.digest')),
            eb.exists(eb.selectFrom('manifest_references as m').select('m.reference_digest').whereRef('m.reference_digest', '=', 'b.digest')),
          ])
          .as('needed'),
      ])
      .orderBy('b.digest')
      .execute();
    return rows.map((row) => {
      const parsed = parseDigest(row.digest);
      if (!parsed.ok) throw new BackupError(`the database has a blob row with an invalid digest "${row.digest}" (${parsed.reason})`);
      return { digest: parsed.digest, size: Number(row.size), needed: Boolean(Number(row.needed)) };
    });
  }

  /** Drops the rows of unneeded blobs whose bytes are gone: what the collector's own commit would have done. */
  async dropGarbage(digests: readonly string[]): Promise<void> {
    for (let i = 0; i < digests.length; i += 200) {
      const batch = digests.slice(i, i + 200);
      await this.db.deleteFrom('blobs').where('digest', 'in', batch).where('released_at', 'is not', null).execute();
    }
  }

  async counts(): Promise<SnapshotCounts> {
    const count = async (table: 'namespaces' | 'repositories' | 'manifests' | 'tags') =>
      Number((await this.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    return { namespaces: await count('namespaces'), repositories: await count('repositories'), manifests: await count('manifests'), tags: await count('tags') };
  }

  /** The newest migration the database has had, which says which Berth wrote it. */
  async schema(): Promise<string | undefined> {
    const { rows } = await sql<{ name: string | null }>`select max(name) as name from kysely_migration`.execute(this.db);
    return rows[0]?.name ?? undefined;
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}
