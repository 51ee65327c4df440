import type { RegistryContext } from './context.js';
import { toPage, type Page, type PageRequest } from './pagination.js';

/**
 * Repositories that hold at least one manifest, in lexical order, filtered by what the caller may
 * see. With a key prefix (a region's `<region>/`), only repositories under it, named without it.
 */
export class Catalog {
  constructor(private readonly ctx: RegistryContext) {}

  async list(page: PageRequest, visible: (names: string[]) => Promise<Set<string>>, prefix = ''): Promise<Page> {
    if (page.n === 0) return { items: [] };
    const found: string[] = [];
    let after = page.last !== undefined ? prefix + page.last : undefined;
    // Filtering happens after the query, so keep fetching until the page is full or names run out.
    for (;;) {
      const batchSize = Math.max(page.n + 1, 100);
      let query = this.ctx.db
        .selectFrom('repositories as r')
        .select('r.name')
        .where(({ exists, selectFrom }) =>
          exists(selectFrom('manifests as m').select('m.digest').whereRef('m.repository', '=', 'r.name')),
        )
        .orderBy('r.name')
        .limit(batchSize);
      if (after !== undefined) query = query.where('r.name', '>', after);
      // Bytewise order on both databases: every key with the prefix sorts before prefix + U+FFFF.
      if (prefix !== '') query = query.where('r.name', '>=', prefix).where('r.name', '<', `${prefix}\uffff`);
      const keys = (await query.execute()).map((r) => r.name);
      const names = keys.map((key) => key.slice(prefix.length));
      const allowed = await visible(names);
      found.push(...names.filter((name) => allowed.has(name)));
      if (found.length > page.n || keys.length < batchSize) break;
      after = keys[keys.length - 1];
    }
    return toPage(found.slice(0, page.n + 1), page.n);
  }
}
