import { ids, USER_REALM } from './ids.js';
import type { IamContext } from './context.js';

/** Who a credential stands for, with what a token says about them. */
export type Identity =
  | { kind: 'user'; iamId: string; accountId: string; name: string; email: string }
  | { kind: 'serviceid'; iamId: string; id: string; accountId: string; name: string };

export class Identities {
  constructor(private readonly ctx: IamContext) {}

  /** A new account with its owner user. */
  async createAccount(name: string, owner: { name: string; email: string }): Promise<{ accountId: string; ownerIamId: string }> {
    const accountId = ids.account();
    const ownerIamId = ids.user();
    const now = this.ctx.clock();
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values({ id: accountId, name, owner_iam_id: ownerIamId, created_at: now }).execute();
      await trx
        .insertInto('users')
        .values({ iam_id: ownerIamId, account_id: accountId, email: owner.email, name: owner.name, created_at: now })
        .execute();
    });
    return { accountId, ownerIamId };
  }

  /** A further user in an existing account. */
  async createUser(accountId: string, user: { name: string; email: string }): Promise<string> {
    const account = await this.ctx.db.selectFrom('accounts').select('id').where('id', '=', accountId).executeTakeFirst();
    if (!account) throw new Error(`no account ${accountId}`);
    const iamId = ids.user();
    await this.ctx.db
      .insertInto('users')
      .values({ iam_id: iamId, account_id: accountId, email: user.email, name: user.name, created_at: this.ctx.clock() })
      .execute();
    return iamId;
  }

  async hasAccounts(): Promise<boolean> {
    return (await this.ctx.db.selectFrom('accounts').select('id').limit(1).executeTakeFirst()) !== undefined;
  }

  /** The user or service ID behind an IAM ID, if it exists. */
  async find(iamId: string): Promise<Identity | undefined> {
    const user = await this.ctx.db.selectFrom('users').selectAll().where('iam_id', '=', iamId).executeTakeFirst();
    if (user) return { kind: 'user', iamId, accountId: user.account_id, name: user.name, email: user.email };
    const service = await this.ctx.db.selectFrom('service_ids').selectAll().where('iam_id', '=', iamId).executeTakeFirst();
    if (service) return { kind: 'serviceid', iamId, id: service.id, accountId: service.account_id, name: service.name };
    return undefined;
  }
}
