import type { IncomingHttpHeaders } from 'node:http';
import { ANONYMOUS, type Caller } from './access.js';

/** Turns a request's credentials into a caller; throws an OciError UNAUTHORIZED for bad credentials. */
export interface Authenticator {
  authenticate(headers: IncomingHttpHeaders): Promise<Caller>;
}

/** Accepts everyone as anonymous: the registry before IAM. */
export const anonymousOnly: Authenticator = {
  async authenticate() {
    return ANONYMOUS;
  },
};
