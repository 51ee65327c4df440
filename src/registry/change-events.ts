import type { Kysely } from 'kysely';
import type { Actor } from '../audit/actor.js';
import type { Database } from '../db/schema.js';
import type { RegistryContext } from './context.js';
import { namespaceOf, ownerOfRepository } from './namespaces.js';

/**
 * A change to a repository (`<region>/<namespace>/<name>` key), in the audit chain of the account
 * owning its namespace, inside the change's own transaction `trx`: the change and its event commit
 * together or not at all. `suffix` follows the name in the target (`:tag`, `@digest`).
 */
export async function recordRepositoryChange(ctx: RegistryContext, trx: Kysely<Database>, key: string, action: string, suffix: string, actor: Actor | undefined): Promise<void> {
  if (!actor || !ctx.audit) return;
  const owner = await ownerOfRepository(trx, key);
  if (!owner) return;
  const name = key.slice(owner.region.length + 1);
  await ctx.audit.append(trx, owner.accountId, { at: ctx.clock(), action, outcome: 'success', reason: null, target: `${name}${suffix}`, namespace: namespaceOf(name), ...actor });
}

/** A change to an account's registry settings in one region (quota, plan), in the change's transaction. */
export async function recordAccountChange(ctx: RegistryContext, trx: Kysely<Database>, accountId: string, region: string, action: string, reason: string, actor: Actor | undefined): Promise<void> {
  if (!actor || !ctx.audit) return;
  await ctx.audit.append(trx, accountId, { at: ctx.clock(), action, outcome: 'success', reason, target: `registry ${region}`, namespace: null, ...actor });
}
