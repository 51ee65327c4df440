import { randomUUID } from 'node:crypto';
import { errors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { SigningKeys } from '../iam/signing-keys.js';

/** One entry of a registry token's `access` claim, as Docker's token spec writes it. */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/** What a verified registry token says; one object per token and node, shared by every request that presents it. */
export interface RegistryTokenClaims {
  iamId: string;
  accountId: string;
  /** The principal's name when issued (e-mail or service ID name), for the audit events of its requests. */
  name?: string;
  /** The token's own id (`jti`). */
  tokenId?: string;
  region: string;
  access: AccessEntry[];
  /** What the client asked for: an action asked for and not granted was refused, one not asked for may be asked again. */
  requested: AccessEntry[];
}

/** A valid token's claims, and whether it is past its expiry (only ever within the grace a caller asked for). */
export interface VerifiedRegistryToken {
  claims: Readonly<RegistryTokenClaims>;
  expired: boolean;
}

export interface IssuedRegistryToken {
  token: string;
  expiresIn: number;
  issuedAt: string;
}

/** `iss` of registry tokens: never the IAM issuer, so neither kind of token passes for the other. */
export const REGISTRY_ISSUER = 'berth-registry';

/**
 * Short-lived RS256 registry tokens, signed with IAM's keys (shared by every node through the
 * database) and verified offline on every request: signature, issuer, audience (the `service`),
 * region and expiry.
 */
/** Tokens whose signature one node has checked; clients use one token for many requests. */
const MAX_VERIFIED = 10_000;

interface VerifiedToken {
  service: string;
  claims: Readonly<RegistryTokenClaims>;
  expiresAt: number;
}

export class RegistryTokens {
  private readonly verified = new Map<string, VerifiedToken>();

  constructor(
    private readonly signingKeys: SigningKeys,
    private readonly lifetimeSeconds: number,
    private readonly clock: () => number,
  ) {}

  async issue(claims: { iamId: string; accountId: string; name?: string; region: string; service: string; access: AccessEntry[]; requested: AccessEntry[] }): Promise<IssuedRegistryToken> {
    const now = Math.floor(this.clock() / 1000);
    const { kid, privateKey } = await this.signingKeys.signer();
    const token = await new SignJWT({ access: claims.access, requested: claims.requested, account: claims.accountId, region: claims.region, ...(claims.name !== undefined ? { name: claims.name } : {}) })
      .setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' })
      .setIssuer(REGISTRY_ISSUER)
      .setSubject(claims.iamId)
      .setAudience(claims.service)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.lifetimeSeconds)
      .setJti(randomUUID())
      .sign(privateKey);
    return { token, expiresIn: this.lifetimeSeconds, issuedAt: new Date(now * 1000).toISOString() };
  }

  /**
   * The claims of a valid token for this service; undefined for anything else. A token up to
   * `graceSeconds` past its expiry still verifies, marked expired, so the caller can decide.
   */
  async verify(token: string, service: string, graceSeconds = 0): Promise<VerifiedRegistryToken | undefined> {
    // The signature is checked once per token and node; expiry on every request.
    let entry = this.verified.get(token);
    if (entry?.service !== service) {
      entry = await this.check(token, service, graceSeconds);
      if (!entry) return undefined;
      if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, entry);
    }
    const now = this.clock();
    if (entry.expiresAt + graceSeconds * 1000 <= now) return undefined;
    return { claims: entry.claims, expired: entry.expiresAt <= now };
  }

  private async check(token: string, service: string, graceSeconds: number): Promise<VerifiedToken | undefined> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.signingKeys.verificationKeys(token), {
        algorithms: ['RS256'],
        issuer: REGISTRY_ISSUER,
        audience: service,
        currentDate: new Date(this.clock()),
        clockTolerance: graceSeconds,
      }));
    } catch (error) {
      if (error instanceof errors.JOSEError) return undefined;
      throw error;
    }
    const { sub, jti, account, name, region, access, requested, exp } = payload as JWTPayload & { account?: unknown; name?: unknown; region?: unknown; access?: unknown; requested?: unknown };
    if (typeof sub !== 'string' || typeof account !== 'string' || typeof region !== 'string' || !Array.isArray(access) || !Array.isArray(requested) || typeof exp !== 'number') {
      return undefined;
    }
    return {
      service,
      claims: { iamId: sub, accountId: account, ...(typeof name === 'string' ? { name } : {}), ...(typeof jti === 'string' ? { tokenId: jti } : {}), region, access: access as AccessEntry[], requested: requested as AccessEntry[] },
      expiresAt: exp * 1000,
    };
  }
}
