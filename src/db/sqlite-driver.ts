import type SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, SqliteDialect, type DatabaseConnection, type Driver, type QueryResult } from 'kysely';

/**
 * How long a statement waits for another process's write lock (another worker, another node on
 * the same file, `berth gc`). The connection has no busy timeout: SQLite's own wait sleeps the
 * thread, which stopped every request of a worker for 1 to 100 ms at a time whenever two workers
 * wrote at once; here the wait yields, and the lock is tried again as soon as it may be free.
 */
const BUSY_WAIT_MS = 5000;

/** The lock is held for well under a millisecond: try again on the next turn, then back off to a few ms. */
function lockPause(attempt: number): Promise<void> {
  if (attempt < 16) return new Promise((resolve) => setImmediate(resolve));
  return new Promise((resolve) => setTimeout(resolve, Math.min(attempt - 15, 5)));
}

/** The lock is taken; not SQLITE_BUSY_SNAPSHOT, which a retry cannot cure (the transaction read an older state). */
function isBusy(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_BUSY_RECOVERY';
}

/** Most distinct statements kept prepared; `IN (?, ?, …)` lists of many lengths could grow it unbounded. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * SQLite's one connection, handed to one query or transaction at a time in the order they asked.
 * Kysely's own driver woke every waiter at each release and let all but one wait again, which at
 * 16 concurrent requests cost more than the queries; it also prepared every statement on every
 * call. Statements are prepared once per distinct SQL text here (better-sqlite3's statements are
 * reusable).
 */
class QueuedSqliteDriver implements Driver {
  private readonly connection: DatabaseConnection;
  private busy = false;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly sqlite: SqliteDatabase.Database) {
    this.connection = new CachedStatementsConnection(sqlite);
  }

  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve(this.connection);
    }
    return new Promise((resolve) => this.waiting.push(() => resolve(this.connection)));
  }

  async releaseConnection(): Promise<void> {
    const next = this.waiting.shift();
    if (next) next();
    else this.busy = false;
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }

  async destroy(): Promise<void> {
    this.sqlite.close();
  }
}

class CachedStatementsConnection implements DatabaseConnection {
  private readonly statements = new Map<string, SqliteDatabase.Statement>();

  constructor(private readonly sqlite: SqliteDatabase.Database) {}

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.prepare(compiled.sql);
    const parameters = compiled.parameters as unknown[];
    for (let attempt = 0, deadline = 0; ; attempt++) {
      try {
        if (statement.reader) return { rows: statement.all(parameters) as R[] };
        const { changes, lastInsertRowid } = statement.run(parameters);
        return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
      } catch (error) {
        if (!isBusy(error)) throw error;
        deadline ||= Date.now() + BUSY_WAIT_MS;
        if (Date.now() > deadline) throw error;
        await lockPause(attempt);
      }
    }
  }

  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not used with SQLite');
  }

  private prepare(sql: string): SqliteDatabase.Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.sqlite.prepare(sql);
      if (this.statements.size >= STATEMENT_CACHE_SIZE) this.statements.delete(this.statements.keys().next().value!);
      this.statements.set(sql, statement);
    }
    return statement;
  }
}

/** Kysely's SQLite dialect (compiler, adapter, introspector) on the driver above. */
export class QueuedSqliteDialect extends SqliteDialect {
  constructor(private readonly sqlite: SqliteDatabase.Database) {
    super({ database: sqlite as never });
  }

  override createDriver(): Driver {
    return new QueuedSqliteDriver(this.sqlite);
  }
}
