import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, sql, type Migration } from 'kysely';
import type pgTypes from 'pg';
import { OwnSchemaPostgresDialect } from './own-schema-dialect.js';
import { QueuedSqliteDialect } from './sqlite-driver.js';
import type { Database } from './schema.js';
import { registryMigration } from './migrations/0001-registry.js';
import { iamMigration } from './migrations/0002-iam.js';
import { refreshTokensMigration } from './migrations/0003-refresh-tokens.js';
import { policiesMigration } from './migrations/0004-policies.js';
import { iamAdministrationMigration } from './migrations/0005-iam-administration.js';
import { regionsMigration } from './migrations/0006-regions-namespaces.js';
import { storageLifecycleMigration } from './migrations/0007-storage-lifecycle.js';
import { sharedUploadsMigration } from './migrations/0008-shared-uploads.js';
import { auditMigration } from './migrations/0009-audit.js';
import { auditAnchorMigration } from './migrations/0010-audit-anchor.js';

export type Dialect = 'sqlite' | 'postgres';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** `postgres://…`; absent means SQLite at `sqlitePath`. */
  url?: string;
  sqlitePath: string;
  /** PostgreSQL schema to use (created when missing); lets tests share one database. */
  schema?: string;
  /** The region repositories from before regions existed move to. */
  defaultRegion: string;
}

const PG_INT8 = 20;

function openSqlite(path: string): { db: Kysely<Database>; sqlite: SqliteDatabase.Database } {
  const sqlite = new SqliteDatabase(path);
  sqlite.pragma('journal_mode = WAL');
  // WAL + NORMAL is durable across process crashes; only power loss can drop the last commits.
  sqlite.pragma('synchronous = NORMAL');
  // No busy timeout: the driver waits for another process's write lock without sleeping the thread.
  sqlite.pragma('busy_timeout = 0');
  sqlite.pragma('foreign_keys = ON');
  return { db: new Kysely<Database>({ dialect: new QueuedSqliteDialect(sqlite) }), sqlite };
}

async function openPostgres(url: string, schema: string | undefined): Promise<Kysely<Database>> {
  // Loaded only here: an embedded (SQLite) registry keeps the driver out of its heap, which every
  // major GC has to mark.
  const { default: pg } = (await import('pg')) as { default: typeof pgTypes };
  if (schema !== undefined) {
    if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid PostgreSQL schema name ${schema}`);
    const setup = new pg.Client({ connectionString: url });
    await setup.connect();
    try {
      try {
        await setup.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      } catch (error) {
        // Two nodes creating it at once: IF NOT EXISTS does not stop the loser's unique violation.
        if ((error as { code?: string }).code !== '23505') throw error;
      }
    } finally {
      await setup.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    ...(schema !== undefined ? { options: `-c search_path=${schema}` } : {}),
    // Sizes and times are int8; every value Berth stores fits a JS number exactly.
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === PG_INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
    },
  });
  return new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool }) });
}

function migrations(dialect: Dialect, defaultRegion: string): Record<string, Migration> {
  return {
    '0001-registry': registryMigration(dialect),
    '0002-iam': iamMigration(),
    '0003-refresh-tokens': refreshTokensMigration(),
    '0004-policies': policiesMigration(),
    '0005-iam-administration': iamAdministrationMigration(),
    '0006-regions-namespaces': regionsMigration(dialect, defaultRegion),
    '0007-storage-lifecycle': storageLifecycleMigration(dialect),
    '0008-shared-uploads': sharedUploadsMigration(),
    '0009-audit': auditMigration(),
    '0010-audit-anchor': auditAnchorMigration(),
  };
}

/** The schema unqualified names resolve to (the connection's search_path), if any exists. */
async function currentSchema(db: Kysely<Database>): Promise<string | undefined> {
  const { rows } = await sql<{ name: string | null }>`select current_schema() as name`.execute(db);
  return rows[0]?.name ?? undefined;
}

const MIGRATION_LOCK_WAIT_MS = 30_000;

/**
 * BEGIN IMMEDIATE, waiting for another holder of the write lock without blocking the event loop
 * (the connection has no busy timeout; see the driver).
 */
async function beginImmediate(sqlite: SqliteDatabase.Database): Promise<void> {
  const deadline = Date.now() + MIGRATION_LOCK_WAIT_MS;
  for (;;) {
    try {
      sqlite.exec('BEGIN IMMEDIATE');
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** Opens the metadata database and brings its schema up to date. */
export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  const dialect: Dialect = options.url ? 'postgres' : 'sqlite';
  if (dialect === 'sqlite') mkdirSync(join(options.sqlitePath, '..'), { recursive: true });
  const sqlite = options.url ? undefined : openSqlite(options.sqlitePath);
  const db = sqlite ? sqlite.db : await openPostgres(options.url!, options.schema);
  // Unless told a schema, Kysely's "do my migration tables exist?" looks in every schema it can
  // see, so another schema's tables (a second Berth on the same database) hide missing ones here.
  const migrationTableSchema = dialect === 'postgres' ? await currentSchema(db) : undefined;
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations(dialect, options.defaultRegion) },
    ...(migrationTableSchema !== undefined ? { migrationTableSchema } : {}),
  });
  // Kysely takes no migration lock on SQLite, so two processes starting on a new file would both
  // migrate it. One IMMEDIATE transaction around the whole run takes SQLite's write lock first:
  // the second process waits, then finds everything done. (PostgreSQL: Kysely's advisory lock.)
  if (sqlite) await beginImmediate(sqlite.sqlite);
  const { error } = await migrator.migrateToLatest();
  if (sqlite?.sqlite.inTransaction) sqlite.sqlite.exec(error ? 'ROLLBACK' : 'COMMIT');
  if (error) {
    await db.destroy();
    throw error instanceof Error ? error : new Error(String(error));
  }
  return { db, dialect, close: () => db.destroy() };
}
