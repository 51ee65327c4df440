import type { Kysely, Selectable } from 'kysely';
import type { AccountsTable, Database, UsersTable } from '../db/schema.js';
import { ids } from './ids.js';
import type { IamContext } from './context.js';

/** Who a credential stands for, with what a token says about them. */
export type Identity =
  | { kind: 'user'; iamId: string; accountId: string; name: string; email: string }
  | { kind: 'serviceid'; iamId: string; id: string; accountId: string; name: string };

export type AccountRecord = Selectable<AccountsTable>;
export type UserRecord = Selectable<UsersTable>;

export interface NewUser {
  name: string;
  email: string;
}

/** Accounts and their users. Service IDs live in service-ids.ts; both are "identities" to find(). */
export class Identities {
  constructor(private readonly ctx: IamContext) {}

  /** A new account with its owner user; `db` lets the caller make it part of a larger transaction. */
  async createAccount(
    name: string,
    owner: NewUser,
    options: { operator?: boolean; db?: Kysely<Database> } = {},
  ): Promise<{ accountId: string; ownerIamId: string }> {
    const accountId = ids.account();
    const ownerIamId = ids.user();
    const now = this.ctx.clock();
    const work = async (trx: Kysely<Database>) => {
      await trx
        .insertInto('accounts')
        .values({ id: accountId, name, owner_iam_id: ownerIamId, created_at: now, policy_version: 0, operator: options.operator ? 1 : 0 })
        .execute();
      await trx.insertInto('users').values(userRow(ownerIamId, accountId, owner, now)).execute();
    };
    if (options.db) await work(options.db);
    else await this.ctx.db.transaction().execute(work);
    return { accountId, ownerIamId };
  }

  /** A further user in an existing account (which must exist). */
  async createUser(accountId: string, user: NewUser, db: Kysely<Database> = this.ctx.db): Promise<string> {
    if (!(await this.account(accountId, db))) throw new Error(`no account ${accountId}`);
    const iamId = ids.user();
    await db.insertInto('users').values(userRow(iamId, accountId, user, this.ctx.clock())).execute();
    return iamId;
  }

  async account(id: string, db: Kysely<Database> = this.ctx.db): Promise<AccountRecord | undefined> {
    return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async accounts(): Promise<AccountRecord[]> {
    return this.ctx.db.selectFrom('accounts').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async user(iamId: string, db: Kysely<Database> = this.ctx.db): Promise<UserRecord | undefined> {
    return db.selectFrom('users').selectAll().where('iam_id', '=', iamId).executeTakeFirst();
  }

  /** An account's users, oldest first. */
  async users(accountId: string): Promise<UserRecord[]> {
    return this.ctx.db.selectFrom('users').selectAll().where('account_id', '=', accountId).orderBy('created_at').orderBy('iam_id').execute();
  }

  async updateUser(iamId: string, changes: Partial<Pick<UserRecord, 'name' | 'email' | 'state'>>, db: Kysely<Database> = this.ctx.db): Promise<void> {
    if (Object.keys(changes).length > 0) await db.updateTable('users').set(changes).where('iam_id', '=', iamId).execute();
  }

  /** The user or service ID behind an IAM ID, if it exists. */
  async find(iamId: string): Promise<Identity | undefined> {
    const user = await this.user(iamId);
    if (user) return { kind: 'user', iamId, accountId: user.account_id, name: user.name, email: user.email };
    const service = await this.ctx.db.selectFrom('service_ids').selectAll().where('iam_id', '=', iamId).executeTakeFirst();
    if (service) return { kind: 'serviceid', iamId, id: service.id, accountId: service.account_id, name: service.name };
    return undefined;
  }
}

function userRow(iamId: string, accountId: string, user: NewUser, now: number): UserRecord {
  return { iam_id: iamId, account_id: accountId, email: user.email, name: user.name, created_at: now, state: 'ACTIVE' };
}
