import { PreparedQuery } from '../db/prepared.js';
import { OciError } from '../oci/errors.js';
import { repositoryExists, type RegistryContext } from './context.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

/** A tag list's two pages, first and later, compiled once (src/db/prepared.ts). */
const firstTags = new PreparedQuery((db, p: { repository: string; limit: number }) =>
  db.selectFrom('tags').select('name').where('repository', '=', p.repository).orderBy('name').limit(p.limit),
);
const tagsAfter = new PreparedQuery((db, p: { repository: string; limit: number; last: string }) =>
  db.selectFrom('tags').select('name').where('repository', '=', p.repository).where('name', '>', p.last).orderBy('name').limit(p.limit),
);

export class Tags {
  constructor(private readonly ctx: RegistryContext) {}

  /** Tags in lexical (bytewise) order; an unknown repository is NAME_UNKNOWN. */
  async list(repository: string, page: PageRequest): Promise<Page> {
    if (page.n === 0) {
      if (!(await repositoryExists(this.ctx.db, repository))) throw nameUnknown(repository);
      return { items: [] };
    }
    const limit = page.n + 1;
    const found =
      page.last === undefined
        ? await firstTags.execute(this.ctx.db, { repository, limit })
        : await tagsAfter.execute(this.ctx.db, { repository, limit, last: page.last });
    const rows = found.map((r) => r.name);
    if (rows.length === 0 && !(await repositoryExists(this.ctx.db, repository))) throw nameUnknown(repository);
    return toPage(rows, page.n);
  }
}

export function nameUnknown(repository: string): OciError {
  return new OciError('NAME_UNKNOWN', { name: repository });
}
