import { OciError } from '../../oci/errors.js';
import type { Page, PageRequest } from '../../registry/pagination.js';

/** `n` and `last` of a list request; without `n`, the largest page the config allows. */
export function pageRequest(query: URLSearchParams, maxPageSize: number): PageRequest {
  const nText = query.get('n');
  let n = maxPageSize;
  if (nText !== null && nText !== '') {
    if (!/^\d+$/.test(nText)) throw new OciError('PAGINATION_NUMBER_INVALID', { n: nText }, { message: 'n must be a non-negative integer' });
    n = Math.min(Number(nText), maxPageSize);
  }
  const last = query.get('last');
  return last !== null && last !== '' ? { n, last } : { n };
}

/** The RFC 5988 `Link` header that points at the next page, when there is one. */
export function nextLink(path: string, page: Page, request: PageRequest): string | undefined {
  if (page.next === undefined) return undefined;
  const query = new URLSearchParams({ n: String(request.n), last: page.next });
  return `<${path}?${query.toString()}>; rel="next"`;
}
