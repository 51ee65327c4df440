import { OciError } from '../oci/errors.js';
import { repositoryExists, type RegistryContext } from './context.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

export class Tags {
  constructor(private readonly ctx: RegistryContext) {}

  /** Tags in lexical (bytewise) order; an unknown repository is NAME_UNKNOWN. */
  async list(repository: string, page: PageRequest): Promise<Page> {
    if (page.n === 0) {
      if (!(await repositoryExists(this.ctx.db, repository))) throw nameUnknown(repository);
      return { items: [] };
    }
    let query = this.ctx.db
      .selectFrom('tags')
      .select('name')
      .where('repository', '=', repository)
      .orderBy('name')
      .limit(page.n + 1);
    if (page.last !== undefined) query = query.where('name', '>', page.last);
    const rows = (await query.execute()).map((r) => r.name);
    if (rows.length === 0 && !(await repositoryExists(this.ctx.db, repository))) throw nameUnknown(repository);
    return toPage(rows, page.n);
  }
}

export function nameUnknown(repository: string): OciError {
  return new OciError('NAME_UNKNOWN', { name: repository });
}
