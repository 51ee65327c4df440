import { createHash } from 'node:crypto';

/** IBM's `<version>-<hex>` entity tag. Derived from id and version, so it changes on every write. */
export function entityTag(id: string, version: number): string {
  return `${version}-${createHash('sha256').update(`${id}:${version}`).digest('hex').slice(0, 32)}`;
}

/** Whether an If-Match value names this version: `*`, or the tag itself (quoted or weak forms tolerated). */
export function ifMatchAccepts(ifMatch: string, id: string, version: number): boolean {
  const value = ifMatch.trim();
  if (value === '*') return true;
  const bare = value.replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
  return bare === entityTag(id, version);
}
