import type { IncomingHttpHeaders } from 'node:http';
import type { Origin } from '../audit/access-events.js';
import { ANONYMOUS, type Caller } from './access.js';

/** Turns a request's credentials into a caller; throws an AuthenticationError for bad credentials. */
export interface Authenticator {
  /**
   * `region` is the region whose registry the request reached (a registry token is only good
   * there); `origin` names the client's address (failed logins are counted against it) and the
   * request, for the audit trail.
   */
  authenticate(headers: IncomingHttpHeaders, region: string, origin: Origin): Promise<Caller>;
  /**
   * The Bearer challenge's realm and service when callers must log in (anonymous ones get a 401 on
   * `/v2/` and everywhere else); absent for a registry without authentication, where `/v2/` is 200.
   */
  readonly challenge?: { service: string; realmPath: string };
}

/** Accepts everyone as anonymous: a registry without IAM (tests of the OCI surface use it). */
export const anonymousOnly: Authenticator = {
  async authenticate() {
    return ANONYMOUS;
  },
};
