import { describe, expect, it } from 'vitest';
import { AuditError } from '../../../src/audit/audit-errors.js';
import { readAuditQuery } from '../../../src/http/audit/audit-query.js';
import { decodePageToken, encodePageToken } from '../../../src/http/audit/page-token.js';

const NOW = Date.parse('2026-12-01T12:00:00Z');

/** The parameter a query is refused for, or undefined when it is read. */
function refused(query: Record<string, unknown>): string | undefined {
  try {
    readAuditQuery(query, NOW);
    return undefined;
  } catch (error) {
    if (error instanceof AuditError && error.kind === 'invalid_parameter') return error.parameter;
    throw error;
  }
}

describe('the audit API query', () => {
  it('reads times as RFC 3339 or as durations back from now', () => {
    expect(readAuditQuery({ since: '1h', until: '2026-12-01T13:30:00.5+01:00' }, NOW).filter).toEqual({
      since: NOW - 3_600_000,
      until: Date.parse('2026-12-01T12:30:00.500Z'),
    });
    expect(readAuditQuery({ since: '2024-02-29t00:00:00z' }, NOW).filter.since).toBe(Date.parse('2024-02-29T00:00:00Z'));
    expect(readAuditQuery({ since: '0' }, NOW).filter.since).toBe(NOW);
  });

  it('defaults the limit to 100 and takes the exact filters as given', () => {
    expect(readAuditQuery({}, NOW)).toEqual({ filter: {}, limit: 100 });
    expect(readAuditQuery({ action: 'a', principal: 'p', target: 't', namespace: 'n', outcome: 'denied', limit: '1000', account_id: 'acc' }, NOW)).toEqual({
      accountId: 'acc',
      filter: { action: 'a', principalId: 'p', target: 't', namespace: 'n', outcome: 'denied' },
      limit: 1000,
    });
  });

  it.each([
    [{ since: '2023-02-29T00:00:00Z' }, 'since'],
    [{ since: '2026-13-01T00:00:00Z' }, 'since'],
    [{ since: '2026-12-01 00:00:00Z' }, 'since'],
    [{ until: '7' }, 'until'],
    [{ since: '2026-12-01T12:00:00Z', until: '1h' }, 'since'],
    [{ outcome: 'Success' }, 'outcome'],
    [{ limit: '00000' }, 'limit'],
    [{ limit: '0' }, 'limit'],
    [{ namespace: '' }, 'namespace'],
    [{ target: ['a', 'b'] }, 'target'],
    [{ start: 'e30' }, 'start'],
    [{ page: '2' }, 'page'],
  ])('refuses %o naming %s', (query, parameter) => {
    expect(refused(query)).toBe(parameter);
  });

  it('round-trips its page tokens and decodes nothing else', () => {
    const cursor = { at: NOW, accountId: 'acc', seq: 7 };
    expect(decodePageToken(encodePageToken(cursor))).toEqual(cursor);
    expect(readAuditQuery({ start: encodePageToken(cursor) }, NOW).after).toEqual(cursor);
    for (const text of ['', '====', 'e30', Buffer.from('{"at":1,"accountId":"a","seq":1.5}').toString('base64url'), 'x'.repeat(600)]) {
      expect(decodePageToken(text)).toBeUndefined();
    }
  });
});
