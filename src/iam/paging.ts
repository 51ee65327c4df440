/** One page of an already filtered, ordered list, and whether more follow. */
export function pageOf<T>(items: readonly T[], offset: number, limit: number): { records: T[]; more: boolean } {
  return { records: items.slice(offset, offset + limit), more: items.length > offset + limit };
}
