import { PostgresAdapter, sql, type Compilable, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import type { Dialect } from './database.js';
import type { Database } from './schema.js';

/** Stands in for a named parameter while a query is compiled; found again among the compiled parameters. */
class Slot {
  /** A numeric name stands for an array index: params may be an array (a multi-row insert). */
  readonly key: string | number;
  constructor(name: string) {
    this.key = /^\d+$/.test(name) ? Number(name) : name;
  }
}

interface Compiled {
  template: CompiledQuery;
  /** Per compiled parameter: the named value to bind there, or the constant the builder put there. */
  bindings: Array<{ key: string | number } | { value: unknown }>;
}

/**
 * A query built and compiled once per SQL dialect, then run with new values bound each time: on
 * the hottest read paths (a manifest GET, a tag list) Kysely's builder and compiler cost more than
 * the database's own work. `build` receives stand-ins for the named parameters (or, for an array,
 * its indexes) and must use each as a plain value (no `in` lists, whose length changes the SQL:
 * `inJsonArray` takes a list as one parameter instead), and the dialect it compiles for.
 */
export class PreparedQuery<P extends object, R> {
  private readonly byAdapter = new WeakMap<object, Compiled>();

  constructor(private readonly build: (db: Kysely<Database>, params: P, dialect: Dialect) => Compilable<R>) {}

  /** The rows, run on `db` (a database or a transaction of it). */
  async execute(db: Kysely<Database>, params: P): Promise<R[]> {
    const { template, bindings } = this.compiled(db);
    const named = params as Record<string | number, unknown>;
    const parameters = bindings.map((binding) => ('key' in binding ? named[binding.key] : binding.value));
    const result = await db.executeQuery<R>({ ...template, parameters });
    return result.rows;
  }

  async executeTakeFirst(db: Kysely<Database>, params: P): Promise<R | undefined> {
    return (await this.execute(db, params))[0];
  }

  private compiled(db: Kysely<Database>): Compiled {
    // A transaction shares its database's adapter, so both find the same compiled form.
    const adapter = db.getExecutor().adapter;
    let compiled = this.byAdapter.get(adapter);
    if (compiled === undefined) {
      const slots = new Proxy({} as P, { get: (_target, name) => new Slot(String(name)) });
      const template = this.build(db, slots, adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite').compile();
      const bindings = template.parameters.map((value) => (value instanceof Slot ? { key: value.key } : { value }));
      compiled = { template, bindings };
      this.byAdapter.set(adapter, compiled);
    }
    return compiled;
  }
}

/**
 * `column IN (…)` over the strings of one JSON array parameter (`JSON.stringify(list)` when run):
 * one SQL text for a list of any length, so the query is prepared once, and no parameter limit.
 */
export function inJsonArray(column: string, json: unknown, dialect: Dialect): RawBuilder<boolean> {
  return dialect === 'postgres'
    ? sql<boolean>`${sql.ref(column)} in (select jsonb_array_elements_text(${json}::jsonb))`
    : sql<boolean>`${sql.ref(column)} in (select value from json_each(${json}))`;
}
