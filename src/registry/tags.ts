import { sql } from 'kysely';
import { PreparedQuery } from '../db/prepared.js';
import { OciError } from '../oci/errors.js';
import { repositoryExists, type RegistryContext } from './context.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

/**
 * A page of tag names as one string, newline-separated (the tag grammar has no newline), in
 * bytewise order: the database returns one value, not a row per tag, which halves the cost of a
 * list of a hundred. Compiled once per dialect (src/db/prepared.ts), the first page and later ones apart.
 */
function pageQuery(after: boolean) {
  return new PreparedQuery((db, p: { repository: string; limit: number; last: string }, dialect) => {
    const joined = dialect === 'postgres' ? sql<string | null>`string_agg("name", chr(10) order by "name")` : sql<string | null>`group_concat("name", char(10) order by "name")`;
    let page = db.selectFrom('tags').select('name').where('repository', '=', p.repository);
    if (after) page = page.where('name', '>', p.last);
    return db.selectFrom(page.orderBy('name').limit(p.limit).as('page')).select(joined.as('names'));
  });
}
const firstPage = pageQuery(false);
const laterPage = pageQuery(true);

export class Tags {
  constructor(private readonly ctx: RegistryContext) {}

  /** Tags in lexical (bytewise) order; an unknown repository is NAME_UNKNOWN. */
  async list(repository: string, page: PageRequest): Promise<Page> {
    if (page.n === 0) {
      if (!(await repositoryExists(this.ctx.db, repository))) throw nameUnknown(repository);
      return { items: [] };
    }
    const limit = page.n + 1;
    const found = await (page.last === undefined ? firstPage : laterPage).executeTakeFirst(this.ctx.db, { repository, limit, last: page.last ?? '' });
    const rows = found?.names ? found.names.split('\n') : [];
    if (rows.length === 0 && !(await repositoryExists(this.ctx.db, repository))) throw nameUnknown(repository);
    return toPage(rows, page.n);
  }
}

export function nameUnknown(repository: string): OciError {
  return new OciError('NAME_UNKNOWN', { name: repository });
}
