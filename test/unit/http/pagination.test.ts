import { describe, expect, it } from 'vitest';
import { nextLink, pageRequest } from '../../../src/http/v2/pagination.js';
import { OciError } from '../../../src/oci/errors.js';
import { toPage } from '../../../src/registry/pagination.js';

const query = (text: string) => new URLSearchParams(text);

describe('pageRequest', () => {
  it('asks for the largest allowed page without n', () => {
    expect(pageRequest(query(''), 1000)).toEqual({ n: 1000 });
    expect(pageRequest(query('n='), 1000)).toEqual({ n: 1000 });
  });

  it('honours n up to the limit and clamps above it', () => {
    expect(pageRequest(query('n=10'), 1000)).toEqual({ n: 10 });
    expect(pageRequest(query('n=0'), 1000)).toEqual({ n: 0 });
    expect(pageRequest(query('n=1000'), 1000)).toEqual({ n: 1000 });
    expect(pageRequest(query('n=1001'), 1000)).toEqual({ n: 1000 });
    expect(pageRequest(query('n=99999999999999999999999'), 50)).toEqual({ n: 50 });
  });

  it('passes last on, and leaves an empty last out', () => {
    expect(pageRequest(query('n=2&last=b%2Fc'), 1000)).toEqual({ n: 2, last: 'b/c' });
    expect(pageRequest(query('last='), 1000)).toEqual({ n: 1000 });
  });

  it.each(['-1', 'abc', '1.5', '1e3', ' 5', '0x10'])('refuses n=%j with PAGINATION_NUMBER_INVALID', (n) => {
    let caught: unknown;
    try {
      pageRequest(query(`n=${encodeURIComponent(n)}`), 1000);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(OciError);
    expect((caught as OciError).code).toBe('PAGINATION_NUMBER_INVALID');
    expect((caught as OciError).status).toBe(400);
  });
});

describe('nextLink', () => {
  it('is undefined on the last page', () => {
    expect(nextLink('/v2/a/tags/list', { items: ['x'] }, { n: 5 })).toBeUndefined();
  });

  it('points at the next page with the same n and the last item', () => {
    const link = nextLink('/v2/a/b/tags/list', { items: ['1.0', '1.1'], next: '1.1' }, { n: 2 });
    expect(link).toBe('</v2/a/b/tags/list?n=2&last=1.1>; rel="next"');
  });

  it('escapes last so the link stays one URL', () => {
    const link = nextLink('/v2/_catalog', { items: ['a/b c&d'], next: 'a/b c&d' }, { n: 1 })!;
    const url = new URL(/^<([^>]+)>; rel="next"$/.exec(link)![1]!, 'http://registry.invalid');
    expect(url.pathname).toBe('/v2/_catalog');
    expect(url.searchParams.get('n')).toBe('1');
    expect(url.searchParams.get('last')).toBe('a/b c&d');
  });

  it('chains with toPage: n+1 rows make a page of n and a link', () => {
    const request = { n: 2 };
    const page = toPage(['a', 'b', 'c'], request.n);
    expect(page).toEqual({ items: ['a', 'b'], next: 'b' });
    expect(nextLink('/v2/_catalog', page, request)).toBe('</v2/_catalog?n=2&last=b>; rel="next"');
    expect(toPage(['a', 'b'], 2)).toEqual({ items: ['a', 'b'] });
  });
});
