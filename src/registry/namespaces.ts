import type { Kysely, Selectable } from 'kysely';
import type { Actor } from '../audit/actor.js';
import { PreparedQuery } from '../db/prepared.js';
import type { Database, NamespacesTable } from '../db/schema.js';
import { writeTransaction } from '../db/transactions.js';
import { releaseUnlinked } from './blobs.js';
import { keyStartsWith, type RegistryContext } from './context.js';
import { managementErrors } from './management-errors.js';
import type { Quotas } from './quotas.js';
import type { Uploads } from './uploads.js';

export type NamespaceRecord = Selectable<NamespacesTable>;

/** IBM's limit of namespaces per account in one region. */
export const MAX_NAMESPACES_PER_ACCOUNT = 100;

/**
 * IBM's namespace rule: 4 to 30 lowercase letters, digits, `-` and `_`, starting and ending with a
 * letter or digit. It must also be one path component of an OCI repository name, whose grammar
 * allows `_` and `-` only between letters and digits (no `_-` or `___`).
 */
export function namespaceNameProblem(name: string): string | undefined {
  if (name.length < 4 || name.length > 30) return 'a namespace name has 4 to 30 characters';
  if (!/^[a-z0-9][a-z0-9_-]*[a-z0-9]$/.test(name)) {
    return 'a namespace name has lowercase letters, digits, - and _, and starts and ends with a letter or digit';
  }
  if (!/^[a-z0-9]+(?:(?:_|__|-+)[a-z0-9]+)*$/.test(name)) return 'a namespace name cannot run _ and - together, or three _ in a row';
  return undefined;
}

/** The namespace a repository name is in: its first path component. */
export function namespaceOf(repository: string): string {
  const slash = repository.indexOf('/');
  return slash === -1 ? repository : repository.slice(0, slash);
}

const namespaceOwner = new PreparedQuery((db, p: { region: string; name: string }) =>
  db.selectFrom('namespaces').select('account_id').where('region', '=', p.region).where('name', '=', p.name),
);

/** The account that owns a repository key (`<region>/<namespace>/…`), when its namespace has one. */
export async function ownerOfRepository(db: Kysely<Database>, repository: string): Promise<{ accountId: string; region: string } | undefined> {
  const slash = repository.indexOf('/');
  if (slash === -1) return undefined;
  const region = repository.slice(0, slash);
  const namespace = await namespaceOwner.executeTakeFirst(db, { region, name: namespaceOf(repository.slice(slash + 1)) });
  return namespace && { accountId: namespace.account_id, region };
}

/** Namespaces: unique per region across all accounts, owned by one account. */
export class Namespaces {
  constructor(
    private readonly ctx: RegistryContext,
    private readonly uploads: Uploads,
    private readonly quotas: Quotas,
  ) {}

  async get(region: string, name: string): Promise<NamespaceRecord | undefined> {
    return this.ctx.db.selectFrom('namespaces').selectAll().where('region', '=', region).where('name', '=', name).executeTakeFirst();
  }

  async list(region: string, accountId: string): Promise<NamespaceRecord[]> {
    return this.ctx.db.selectFrom('namespaces').selectAll().where('region', '=', region).where('account_id', '=', accountId).orderBy('name').execute();
  }

  /**
   * Creates the namespace for the account; `false` when the account owns it already. A name taken
   * by another account is a conflict: names are unique per region, as in IBM, so this much is
   * known to everyone who tries the name.
   */
  async create(region: string, name: string, accountId: string, resourceGroup?: string, actor?: Actor): Promise<boolean> {
    const problem = namespaceNameProblem(name);
    if (problem) throw managementErrors.invalidNamespace(name, problem);
    const existing = await this.get(region, name);
    if (existing) {
      if (existing.account_id === accountId) return false;
      throw managementErrors.namespaceTaken(name, region);
    }
    const count = (await this.list(region, accountId)).length;
    if (count >= MAX_NAMESPACES_PER_ACCOUNT) throw managementErrors.namespaceLimit(region);
    const now = this.ctx.clock();
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        await trx
          .insertInto('namespaces')
          .values({ region, name, account_id: accountId, resource_group: resourceGroup ?? null, created_at: now, updated_at: now })
          .execute();
        // The account's plan in the region is settled when it first has something there.
        await this.quotas.ensure(trx, accountId, region);
        if (actor) await this.recordChange(trx, accountId, 'container-registry.namespace.create', name, actor, now);
      });
    } catch (error) {
      // Two creations racing: the primary key lets one in; the other is told as if it came second.
      const winner = await this.get(region, name);
      if (!winner) throw error;
      if (winner.account_id === accountId) return false;
      throw managementErrors.namespaceTaken(name, region);
    }
    return true;
  }

  async assign(region: string, name: string, resourceGroup: string): Promise<void> {
    await this.ctx.db
      .updateTable('namespaces')
      .set({ resource_group: resourceGroup, updated_at: this.ctx.clock() })
      .where('region', '=', region)
      .where('name', '=', name)
      .execute();
  }

  /**
   * Deletes the namespace and everything in it, as IBM does: every repository under it with its
   * manifests, tags, trash, blob links and open uploads. Blob bytes no other repository links are
   * then the collector's, after its grace.
   */
  async delete(region: string, name: string, actor?: Actor): Promise<void> {
    const under = `${region}/${name}/`;
    const uploads = await this.ctx.db.selectFrom('uploads').select(['id', 'repository']).where(keyStartsWith('repository', under)).execute();
    for (const upload of uploads) await this.uploads.cancel(upload.repository, upload.id).catch(() => undefined);
    await writeTransaction(this.ctx.db, this.ctx.dialect, async (trx) => {
      const linked = await trx.selectFrom('repository_blobs').select('digest').distinct().where(keyStartsWith('repository', under)).execute();
      for (const table of ['manifests', 'trash', 'manifest_references', 'tags', 'repository_blobs', 'uploads'] as const) {
        await trx.deleteFrom(table).where(keyStartsWith('repository', under)).execute();
      }
      await releaseUnlinked(trx, linked.map((row) => row.digest), this.ctx.clock());
      await trx.deleteFrom('repositories').where(keyStartsWith('name', under)).execute();
      const owner = await trx.selectFrom('namespaces').select('account_id').where('region', '=', region).where('name', '=', name).executeTakeFirst();
      if (!owner) throw managementErrors.namespaceUnknown(name);
      await trx.deleteFrom('namespaces').where('region', '=', region).where('name', '=', name).execute();
      if (actor) await this.recordChange(trx, owner.account_id, 'container-registry.namespace.delete', name, actor, this.ctx.clock());
    });
  }

  /** A change to a namespace, in the audit chain of its account, inside the change's transaction. */
  private async recordChange(trx: Kysely<Database>, accountId: string, action: string, name: string, actor: Actor, at: number): Promise<void> {
    await this.ctx.audit?.append(trx, accountId, { at, action, outcome: 'success', reason: null, target: name, namespace: name, ...actor });
  }
}
