import type { Access, Caller } from './access.js';

/**
 * The one authorization seam of the registry: every /v2 request asks it which of the actions it
 * needs are granted. It answers with the granted subset, never with an error, so a caller cannot
 * tell a forbidden repository from a missing one by how the question is answered.
 */
export interface Authorizer {
  authorize(caller: Caller, access: Access): Promise<ReadonlySet<string>>;
}

/** Grants everything to everyone: the registry before IAM. */
export const allowAll: Authorizer = {
  async authorize(_caller, access) {
    return new Set<string>(access.actions);
  },
};
