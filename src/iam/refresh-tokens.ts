import { randomBytes } from 'node:crypto';
import type { IamContext } from './context.js';
import { IamError } from './errors.js';

export interface RefreshSession {
  iamId: string;
  apiKeyId: string;
  clientId: string;
}

const invalid = () => new IamError(400, 'BXNIM0407E', 'Provided refresh token is invalid.');
const expired = () => new IamError(400, 'BXNIM0408E', 'Provided refresh token is expired.');

/**
 * Opaque refresh tokens, kept as HMACs. Each use replaces the token with a new one (rotation), and a
 * token is only as good as the API key that started its session: once that key is deleted,
 * disabled or expired, its refresh tokens stop working at once, on every node.
 */
export class RefreshTokens {
  constructor(
    private readonly ctx: IamContext,
    private readonly lifetimeMs: number,
  ) {}

  async issue(session: RefreshSession): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    const now = this.ctx.clock();
    await this.ctx.db
      .insertInto('refresh_tokens')
      .values({
        token_hash: this.ctx.secret.hash(token),
        iam_id: session.iamId,
        api_key_id: session.apiKeyId,
        client_id: session.clientId,
        created_at: now,
        expires_at: now + this.lifetimeMs,
      })
      .execute();
    return token;
  }

  /** Uses up a refresh token presented by `clientId`; the session it belonged to, if still valid. */
  async redeem(token: string, clientId: string): Promise<RefreshSession> {
    const { row, hash } = await this.lookup(token, [clientId]);
    // Deleting first makes a token single-use even when two requests race with it.
    const deleted = await this.ctx.db.deleteFrom('refresh_tokens').where('token_hash', '=', hash).executeTakeFirst();
    if (deleted.numDeletedRows === 0n) throw invalid();
    if (row.expires_at <= this.ctx.clock()) throw expired();
    return { iamId: row.iam_id, apiKeyId: row.api_key_id, clientId: row.client_id };
  }

  /**
   * The session of a refresh token, leaving the token in place: registry clients store the
   * password they logged in with (`iamrefresh`) or the identity token they were given, and present
   * it again for every token, so those stay good until they expire or their key goes.
   */
  async check(token: string, clientIds: readonly string[]): Promise<RefreshSession> {
    const { row } = await this.lookup(token, clientIds);
    if (row.expires_at <= this.ctx.clock()) throw expired();
    return { iamId: row.iam_id, apiKeyId: row.api_key_id, clientId: row.client_id };
  }

  /** The token's row when it belongs to one of `clientIds` and its API key may still authenticate. */
  private async lookup(token: string, clientIds: readonly string[]) {
    const hash = this.ctx.secret.hash(token);
    const now = this.ctx.clock();
    const row = await this.ctx.db
      .selectFrom('refresh_tokens as r')
      .innerJoin('api_keys as k', 'k.id', 'r.api_key_id')
      .select(['r.iam_id', 'r.api_key_id', 'r.client_id', 'r.expires_at', 'k.disabled', 'k.expires_at as key_expires_at'])
      .where('r.token_hash', '=', hash)
      .executeTakeFirst();
    // A token of another client, or of a key gone, disabled or expired, is as good as none.
    if (!row || !clientIds.includes(row.client_id) || row.disabled || (row.key_expires_at !== null && row.key_expires_at <= now)) {
      throw invalid();
    }
    return { row, hash };
  }

  /** Drops expired tokens; a housekeeping call, not needed for correctness. */
  async purgeExpired(): Promise<void> {
    await this.ctx.db.deleteFrom('refresh_tokens').where('expires_at', '<=', this.ctx.clock()).execute();
  }
}
