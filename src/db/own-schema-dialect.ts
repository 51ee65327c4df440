import { PostgresDialect, sql, type DatabaseIntrospector, type Kysely, type TableMetadata } from 'kysely';

/**
 * PostgreSQL, with an introspector that lists the tables of the connection's own schema only.
 * Kysely's own reads every column of every schema the connection can see and looks each one up
 * again by name (pg_get_serial_sequence), so a column renamed or a table dropped in another
 * schema meanwhile (another Berth sharing the database, migrating or changing its schema) failed
 * this one's start. The migrator, its only user here, asks just which tables exist.
 */
export class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    const kyselys = super.createIntrospector(db);
    return {
      getSchemas: () => kyselys.getSchemas(),
      getMetadata: async (options) => ({ tables: await this.ownTables(db, options?.withInternalKyselyTables ?? false) }),
      getTables: (options) => this.ownTables(db, options?.withInternalKyselyTables ?? false),
    };
  }

  private async ownTables(db: Kysely<any>, withKyselyTables: boolean): Promise<TableMetadata[]> {
    const { rows } = await sql<{ schema: string; name: string; is_view: boolean }>`
      select table_schema as schema, table_name as name, table_type = 'VIEW' as is_view
      from information_schema.tables where table_schema = current_schema()`.execute(db);
    return rows
      .filter((row) => withKyselyTables || !row.name.startsWith('kysely_'))
      .map((row) => ({ schema: row.schema, name: row.name, isView: row.is_view, columns: [] }));
  }
}
