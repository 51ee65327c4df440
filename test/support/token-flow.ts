/** The parameters of a `WWW-Authenticate: Bearer …` challenge. */
export interface BearerChallenge {
  realm: string;
  service: string;
  scope?: string;
  error?: string;
}

/** Reads a Bearer challenge; undefined for a missing header or another scheme. */
export function parseChallenge(header: string | null): BearerChallenge | undefined {
  const match = header ? /^Bearer\s+(.*)$/i.exec(header) : null;
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const [, key, value] of match[1]!.matchAll(/(\w+)="([^"]*)"/g)) params[key!] = value!;
  return params as unknown as BearerChallenge;
}

/**
 * A client doing Docker token auth the way go-containerregistry and containerd do: it tries a
 * request with the token it holds (none at first); on a 401 Bearer challenge it asks the realm
 * (GET, Basic credentials) for exactly the challenged scopes and tries once more with that token.
 * `challenges` keeps every challenge met, in order.
 */
export class TokenClient {
  readonly challenges: BearerChallenge[] = [];
  private token: string | undefined;

  constructor(
    readonly baseUrl: string,
    private readonly credentials: string,
  ) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const first = await this.send(path, init);
    const challenge = first.status === 401 ? parseChallenge(first.headers.get('www-authenticate')) : undefined;
    if (!challenge) return first;
    this.challenges.push(challenge);
    const query = new URLSearchParams({ service: challenge.service });
    for (const scope of (challenge.scope ?? '').split(' ').filter((scope) => scope !== '')) query.append('scope', scope);
    const answer = await fetch(`${challenge.realm}?${query}`, { headers: { authorization: this.credentials } });
    if (answer.status !== 200) throw new Error(`the realm refused a token: ${answer.status} ${await answer.text()}`);
    this.token = ((await answer.json()) as { token: string }).token;
    return this.send(path, init);
  }

  private send(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.token !== undefined) headers.set('authorization', `Bearer ${this.token}`);
    return fetch(`${this.baseUrl}${path}`, { ...init, headers });
  }
}
