import { describe, expect, it } from 'vitest';
import { AuthenticatorChain, presentedCredential, type CredentialAuthenticator, type CredentialKind } from '../../../src/auth/authenticator-chain.js';
import { AuthenticationError } from '../../../src/auth/errors.js';

const jwt = (payload: object) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function authenticator(kind: CredentialKind, recognises: (header: ReturnType<typeof presentedCredential> & object) => boolean): CredentialAuthenticator {
  return { kind, recognises, authenticate: async () => ({ kind: 'principal', id: `by-${kind}` }) };
}

const chain = new AuthenticatorChain([
  authenticator('iam-token', (p) => p.scheme === 'bearer' && p.issuer === 'https://berth/identity'),
  authenticator('registry-token', (p) => p.scheme === 'bearer' && p.issuer === 'berth-registry'),
  authenticator('login', (p) => p.scheme === 'basic'),
]);
const arrival = { region: 'us-south', origin: { client: '127.0.0.1', requestId: 'r' } };

describe('authenticator chain', () => {
  it('reads Bearer (with its unverified issuer) and Basic; anything else is no credential', () => {
    expect(presentedCredential(`Bearer ${jwt({ iss: 'berth-registry' })}`)).toMatchObject({ scheme: 'bearer', issuer: 'berth-registry' });
    expect(presentedCredential('Bearer not.a-jwt')).toMatchObject({ scheme: 'bearer', issuer: undefined });
    expect(presentedCredential(basic('iamapikey', 'a:b'))).toEqual({ scheme: 'basic', username: 'iamapikey', password: 'a:b' });
    expect(presentedCredential('Basic bm9jb2xvbg==')).toBeUndefined();
    expect(presentedCredential('Digest x')).toBeUndefined();
  });

  it('no header is anonymous; the first authenticator that recognises the credential decides', async () => {
    await expect(chain.resolve(undefined, ['login'], arrival)).resolves.toEqual({ kind: 'anonymous' });
    await expect(chain.resolve(`Bearer ${jwt({ iss: 'berth-registry' })}`, ['registry-token', 'login'], arrival)).resolves.toMatchObject({ id: 'by-registry-token' });
    await expect(chain.resolve(basic('iamapikey', 'k'), ['registry-token', 'login'], arrival)).resolves.toMatchObject({ id: 'by-login' });
    await expect(chain.resolve(`Bearer ${jwt({ iss: 'https://berth/identity' })}`, ['iam-token'], arrival)).resolves.toMatchObject({ id: 'by-iam-token' });
  });

  it('a credential of a kind the surface does not take, or of no kind, is refused like a bad one, naming what to send', async () => {
    await expect(chain.resolve(`Bearer ${jwt({ iss: 'https://berth/identity' })}`, ['registry-token', 'login'], arrival)).rejects.toThrow(
      new AuthenticationError('send a registry token (Bearer) or iamapikey credentials (Basic)'),
    );
    await expect(chain.resolve(basic('iamapikey', 'k'), ['iam-token'], arrival)).rejects.toBeInstanceOf(AuthenticationError);
    await expect(chain.resolve(`Bearer ${jwt({ iss: 'someone-else' })}`, ['iam-token', 'registry-token'], arrival)).rejects.toBeInstanceOf(AuthenticationError);
    await expect(chain.resolve('Negotiate abc', ['login'], arrival)).rejects.toBeInstanceOf(AuthenticationError);
  });
});
