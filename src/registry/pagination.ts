/** One page of a lexically ordered list: at most `n` names after `last`, and whether more follow. */
export interface Page {
  items: string[];
  /** The `last` to ask for the next page with, when there is one. */
  next?: string;
}

export interface PageRequest {
  n: number;
  last?: string;
}

/** Turns `limit + 1` fetched rows into a page, so "is there more" costs no second query. */
export function toPage(rows: string[], n: number): Page {
  if (rows.length <= n) return { items: rows };
  const items = rows.slice(0, n);
  return { items, next: items[items.length - 1]! };
}
