import { request } from './http.js';
import type { Session } from './session/session.js';

/** The management API of the targeted region's registry, as the CLI uses it. */
export class RegistryApi {
  constructor(
    private readonly session: Session,
    readonly registry: { region: string; host: string; url: string },
  ) {}

  static async of(session: Session): Promise<RegistryApi> {
    return new RegistryApi(session, await session.registry());
  }

  async call<T>(path: string, init: RequestInit = {}): Promise<T> {
    const headers = { ...(await this.session.bearer()), account: this.session.account, ...(init.headers as Record<string, string> | undefined) };
    return (await request<T>(`${this.registry.url}${path}`, { ...init, headers })).body;
  }

  /** An image reference with this registry's host in front when it has none. */
  fullReference(image: string): string {
    const first = image.split('/')[0]!;
    return first.includes('.') || first.includes(':') || first === 'localhost' ? image : `${this.registry.host}/${image}`;
  }
}
