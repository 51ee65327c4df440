import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { IamContext } from './context.js';
import { ServerSecret, UnsealError } from './server-secret.js';

export interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
}

/**
 * The RS256 keys that sign IAM access tokens. The newest unretired key signs; every key retired
 * less than `keepRetiredSeconds` ago stays in the JWKS so tokens it signed still verify.
 */
/** What the private keys are sealed for (a key derived for this use only). */
const PURPOSE = 'signing-key';

/** The stored signing key cannot be opened with this node's secret. */
export class SigningKeyLockedError extends Error {}

/** How long a node keeps signing with the key it loaded before looking for a newer one. */
const SIGNER_CACHE_MS = 60_000;
/** How long a node trusts its copy of the public keys before reading them again. */
const VERIFIER_CACHE_MS = 30_000;

export class SigningKeys {
  private current: (SigningKey & { loadedAt: number }) | undefined;
  private published: { keys: ReturnType<typeof createLocalJWKSet>; kids: Set<string>; at: number } | undefined;

  constructor(
    private readonly ctx: IamContext,
    private readonly keepRetiredSeconds: number,
  ) {}

  /**
   * The key to sign with, created on first use and shared by every node through the database. A
   * rotation made elsewhere (another node, `berth keys rotate`) is picked up within a minute.
   */
  async signer(): Promise<SigningKey> {
    if (this.current && this.ctx.clock() - this.current.loadedAt < SIGNER_CACHE_MS) return this.current;
    let row = await this.newestActive();
    if (!row) {
      await this.rotate();
      row = await this.newestActive();
    }
    if (!row) throw new Error('no signing key could be created');
    const privateKey = this.current?.kid === row.kid ? this.current.privateKey : ((await importJWK(this.privateJwk(row), 'RS256')) as CryptoKey);
    this.current = { kid: row.kid, privateKey, loadedAt: this.ctx.clock() };
    return this.current;
  }

  /** Creates a new signing key and retires the others; their public halves stay published. */
  async rotate(): Promise<string> {
    const { privateKey, publicKey } = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true });
    const now = this.ctx.clock();
    // Date-like, as IBM's kids are, plus randomness so two nodes rotating at once cannot collide.
    const kid = `${new Date(now).toISOString().replace(/\D/g, '').slice(0, 14)}-${randomBytes(4).toString('hex')}`;
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
    await this.ctx.db.transaction().execute(async (trx) => {
      await trx.updateTable('signing_keys').set({ retired_at: now }).where('retired_at', 'is', null).execute();
      await trx
        .insertInto('signing_keys')
        .values({
          kid,
          private_jwk: this.ctx.secret.seal(JSON.stringify(await exportJWK(privateKey)), PURPOSE, kid),
          public_jwk: JSON.stringify(publicJwk),
          created_at: now,
          retired_at: null,
        })
        .execute();
    });
    this.current = undefined;
    return kid;
  }

  /** The JWKS: every key that signs now or signed a token that may still be valid. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const cutoff = this.ctx.clock() - this.keepRetiredSeconds * 1000;
    const rows = await this.ctx.db
      .selectFrom('signing_keys')
      .select('public_jwk')
      .where((eb) => eb.or([eb('retired_at', 'is', null), eb('retired_at', '>', cutoff)]))
      .orderBy('created_at', 'desc')
      .execute();
    return { keys: rows.map((row) => JSON.parse(row.public_jwk) as JWK) };
  }

  /**
   * The published keys as a verification key set, cached briefly; a token signed with a `kid` not in
   * the cached set (a rotation on another node) refreshes it at once.
   */
  async verificationKeys(token: string): Promise<ReturnType<typeof createLocalJWKSet>> {
    const kid = kidOf(token);
    const fresh = this.published && this.ctx.clock() - this.published.at < VERIFIER_CACHE_MS;
    if (!this.published || !fresh || (kid !== undefined && !this.published.kids.has(kid))) {
      const jwks = await this.jwks();
      this.published = { keys: createLocalJWKSet(jwks), kids: new Set(jwks.keys.map((k) => k.kid ?? '')), at: this.ctx.clock() };
    }
    return this.published.keys;
  }

  /**
   * Seals private keys stored in plain JWK (before they were sealed), and checks that this node's
   * secret opens the signing key: run at start, so a node with another BERTH_SECRET fails at once.
   */
  async sealStoredKeys(): Promise<void> {
    const rows = await this.ctx.db.selectFrom('signing_keys').select(['kid', 'private_jwk']).execute();
    for (const row of rows) {
      if (ServerSecret.isSealed(row.private_jwk)) continue;
      await this.ctx.db
        .updateTable('signing_keys')
        .set({ private_jwk: this.ctx.secret.seal(row.private_jwk, PURPOSE, row.kid) })
        .where('kid', '=', row.kid)
        .where('private_jwk', '=', row.private_jwk)
        .execute();
    }
    const active = await this.newestActive();
    if (active) this.privateJwk(active);
  }

  private privateJwk(row: { kid: string; private_jwk: string }): JWK {
    // A node may read a row another node has not sealed yet (during an upgrade).
    if (!ServerSecret.isSealed(row.private_jwk)) return JSON.parse(row.private_jwk) as JWK;
    try {
      return JSON.parse(this.ctx.secret.unseal(row.private_jwk, PURPOSE, row.kid)) as JWK;
    } catch (error) {
      if (!(error instanceof UnsealError)) throw error;
      throw new SigningKeyLockedError(`signing key ${row.kid} does not open under this node's secret: every node must have the same BERTH_SECRET as the one that made it`);
    }
  }

  private newestActive() {
    return this.ctx.db
      .selectFrom('signing_keys')
      .select(['kid', 'private_jwk'])
      .where('retired_at', 'is', null)
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
  }
}

function kidOf(token: string): string | undefined {
  try {
    const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString('utf8')) as { kid?: unknown };
    return typeof header.kid === 'string' ? header.kid : undefined;
  } catch {
    return undefined;
  }
}
