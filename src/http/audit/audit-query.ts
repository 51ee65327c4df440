import { auditErrors } from '../../audit/audit-errors.js';
import type { AuditQuery } from '../../audit/audit-reader.js';
import type { AuditFilter } from '../../audit/audit-log.js';
import type { Outcome } from '../../audit/chain.js';
import { parseDuration } from '../../config/durations.js';
import { decodePageToken } from './page-token.js';

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

const OUTCOMES: readonly Outcome[] = ['success', 'failure', 'denied'];

/** Query parameters that select by one field exactly, and the filter field each sets. */
const EXACT = { action: 'action', principal: 'principalId', target: 'target', namespace: 'namespace' } as const;

/** Every parameter the API reads; any other is refused, so a misspelt filter never widens a read silently. */
const PARAMETERS = new Set(['account_id', 'since', 'until', 'outcome', 'limit', 'start', ...Object.keys(EXACT)]);

/** RFC 3339 with a time zone; Date.parse then reads it (after the day is checked: it rolls Feb 30 over). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

const invalid = auditErrors.invalidParameter;

/** A point in time: an RFC 3339 timestamp, or a duration meaning that long before `now`. */
function instant(name: string, text: string, now: number): number {
  const ago = parseDuration(text);
  if (ago !== undefined) return now - ago;
  const upper = text.toUpperCase();
  const match = RFC3339.exec(upper);
  if (match) {
    const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const at = Date.parse(upper);
    if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && Number.isFinite(at)) return at;
  }
  throw invalid(name, `must be an RFC 3339 time such as 2026-12-01T09:00:00Z, or a duration back from now such as 30m, 1h or 7d; got "${text}"`);
}

function limitOf(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const limit = /^\d{1,4}$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= MAX_LIMIT)) throw invalid('limit', `must be a whole number from 1 to ${MAX_LIMIT}; got "${text}"`);
  return limit;
}

/** `GET /v1/audit/events`' query string as a read of the trail; throws naming the first bad parameter. */
export function readAuditQuery(raw: unknown, now: number): AuditQuery {
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries((raw ?? {}) as Record<string, unknown>)) {
    if (!PARAMETERS.has(name)) throw invalid(name, `is not known; the parameters are ${[...PARAMETERS].join(', ')}`);
    if (typeof value !== 'string') throw invalid(name, 'may be given once only');
    if (value === '') throw invalid(name, 'must not be empty');
    query[name] = value;
  }
  const filter: Omit<AuditFilter, 'accountId'> = {};
  if (query.since !== undefined) filter.since = instant('since', query.since, now);
  if (query.until !== undefined) filter.until = instant('until', query.until, now);
  if (filter.since !== undefined && filter.until !== undefined && filter.since > filter.until) throw invalid('since', 'must not be later than until');
  if (query.outcome !== undefined) {
    if (!(OUTCOMES as readonly string[]).includes(query.outcome)) throw invalid('outcome', `must be ${OUTCOMES.join(', ')}; got "${query.outcome}"`);
    filter.outcome = query.outcome as Outcome;
  }
  for (const [name, field] of Object.entries(EXACT)) if (query[name] !== undefined) filter[field] = query[name];
  const limit = limitOf(query.limit);
  let after;
  if (query.start !== undefined) {
    after = decodePageToken(query.start);
    if (!after) throw invalid('start', 'is not a page token this server issued');
  }
  return { ...(query.account_id !== undefined ? { accountId: query.account_id } : {}), filter, limit, ...(after ? { after } : {}) };
}
