import type { Access, Caller } from './access.js';

/**
 * The one authorization seam of the registry: every /v2 request asks it which of the actions it
 * needs are granted. It answers with the granted subset, never with an error, so a caller cannot
 * tell a forbidden repository from a missing one by how the question is answered.
 */
export interface Authorizer {
  /** What this request's credentials grant (a registry token: what it lists). */
  authorize(caller: Caller, access: Access, region: string): Promise<ReadonlySet<string>>;
  /**
   * What the caller's policies grant now, whatever its token lists: for listing the catalog, and
   * for finishing an upload it opened after its token expired. Defaults to `authorize`.
   */
  current?(caller: Caller, access: Access, region: string): Promise<ReadonlySet<string>>;
  /** Of these repositories, the ones the caller may pull by its policies now (the catalog asks for many at once). */
  pullable?(caller: Caller, names: readonly string[], region: string): Promise<Set<string>>;
}

/** Grants everything to everyone: a registry without IAM (tests of the OCI surface use it). */
export const allowAll: Authorizer = {
  async authorize(_caller, access) {
    return new Set<string>(access.actions);
  },
};
