import type { FastifyRequest } from 'fastify';
import { LEAK_ACTIONS, type ListSort } from '../../iam/api-keys.js';
import { identityErrors } from '../../iam/identity-errors.js';
import { FilterError, parseFilter, type FilterPredicate } from '../../iam/list-filter.js';

/** Identity API bodies are a few short fields; anything larger is not one. */
export const IDENTITY_BODY_LIMIT = 64 * 1024;

// Lengths match the columns, so an oversized value is a 400 here rather than a database error.
export const name = { type: 'string', minLength: 1, maxLength: 255 } as const;
export const email = { type: 'string', minLength: 3, maxLength: 255, pattern: '^[^\\s@]+@[^\\s@]+$' } as const;
const description = { type: 'string', maxLength: 1024 } as const;
const flag = { type: 'boolean' } as const;
// A passthrough key value: long enough to be a secret, printable, no spaces.
const apikeyValue = { type: 'string', minLength: 32, maxLength: 512, pattern: '^[\\x21-\\x7e]+$' } as const;
const expiresAt = { type: 'string', maxLength: 64 } as const;
const actionWhenLeaked = { type: 'string', enum: [...LEAK_ACTIONS] } as const;
const crns = { type: 'array', maxItems: 100, items: { type: 'string', minLength: 1, maxLength: 512 } } as const;
const listQuery = {
  pagesize: { type: 'integer', minimum: 1, maximum: 100 },
  pagetoken: { type: 'string', maxLength: 512 },
  sort: { type: 'string', enum: ['name', 'description', 'created_at', 'created_by'] },
  order: { type: 'string', enum: ['asc', 'desc'] },
  include_history: flag,
  filter: { type: 'string', maxLength: 1024 },
} as const;
const entityQuery = { type: 'object', properties: { include_history: flag, include_activity: flag, show_group_id: flag } } as const;

export const schemas = {
  createApiKey: {
    body: {
      type: 'object',
      required: ['name', 'iam_id'],
      properties: {
        name,
        description,
        iam_id: { type: 'string', minLength: 1, maxLength: 128 },
        account_id: { type: 'string', maxLength: 64 },
        apikey: apikeyValue,
        store_value: flag,
        support_sessions: flag,
        action_when_leaked: actionWhenLeaked,
        expires_at: expiresAt,
      },
    },
  },
  updateApiKey: {
    querystring: entityQuery,
    body: { type: 'object', properties: { name, description, expires_at: expiresAt, support_sessions: flag, action_when_leaked: actionWhenLeaked } },
  },
  getEntity: { querystring: entityQuery },
  listApiKeys: {
    querystring: {
      type: 'object',
      properties: {
        ...listQuery,
        account_id: { type: 'string' },
        iam_id: { type: 'string' },
        scope: { type: 'string', enum: ['entity', 'account'] },
        type: { type: 'string', enum: ['user', 'serviceid'] },
        group_id: { type: 'string' },
      },
    },
  },
  createServiceId: {
    body: {
      type: 'object',
      required: ['account_id', 'name'],
      properties: {
        account_id: { type: 'string', minLength: 1, maxLength: 64 },
        name,
        description,
        group_id: { type: 'string', maxLength: 128 },
        unique_instance_crns: crns,
        apikey: {
          type: 'object',
          required: ['name'],
          properties: { name, description, apikey: apikeyValue, store_value: flag, action_when_leaked: actionWhenLeaked, expires_at: expiresAt },
        },
      },
    },
  },
  updateServiceId: { querystring: entityQuery, body: { type: 'object', properties: { name, description, unique_instance_crns: crns } } },
  listServiceIds: {
    querystring: { type: 'object', properties: { ...listQuery, account_id: { type: 'string' }, name: { type: 'string' }, group_id: { type: 'string' }, show_group_id: flag } },
  },
};

/** The `filter` query parameter over the attributes an entity list can be filtered by (400 when malformed). */
export function readFilter(value: string | undefined): FilterPredicate | undefined {
  if (value === undefined || value === '') return undefined;
  try {
    return parseFilter(value, ['id', 'name', 'description', 'iam_id', 'created_by']);
  } catch (error) {
    if (error instanceof FilterError) throw identityErrors.invalid(error.message);
    throw error;
  }
}

/** `expires_at` as IBM writes it, with or without seconds: `2049-01-02T18:30+0000`, `...T18:30:00+0000`, or with `Z`. */
export function parseExpiresAt(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2})(:\d{2})?(Z|[+-]\d{2}:?\d{2})$/.exec(value);
  const zone = match?.[3] === 'Z' ? 'Z' : `${match?.[3]?.slice(0, 3)}:${match?.[3]?.slice(-2)}`;
  const ms = match ? Date.parse(`${match[1]}${match[2] ?? ':00'}${zone}`) : NaN;
  if (Number.isNaN(ms)) throw identityErrors.invalid(`expires_at "${value}" is not a time like 2049-01-02T18:30+0000`);
  return ms;
}

/** `Entity-Lock` / `Entity-Disable`: the strings "true" or "false", default false. */
export function flagHeader(request: FastifyRequest, header: string): boolean {
  const value = request.headers[header];
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  throw identityErrors.invalid(`header ${header} must be "true" or "false"`);
}

/** PUT needs the entity tag the client read, so it cannot overwrite a change it has not seen (428 without it). */
export function requireIfMatch(request: FastifyRequest): string {
  const value = request.headers['if-match'];
  if (!value) throw identityErrors.ifMatchRequired();
  return value;
}

export interface ListParams {
  pagesize?: number;
  pagetoken?: string;
  sort?: ListSort;
  order?: 'asc' | 'desc';
  account_id?: string;
}

/** A page token: where the next page starts, and in which account (a service ID list may name it only here). */
interface PageToken {
  offset: number;
  accountId?: string;
}

export function readPage(query: ListParams): { offset: number; limit: number; sort: ListSort; order: 'asc' | 'desc'; accountId?: string } {
  let token: PageToken = { offset: 0 };
  if (query.pagetoken !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(query.pagetoken, 'base64url').toString('utf8'));
    } catch {
      throw identityErrors.invalid('pagetoken is not one this server issued');
    }
    // Any JSON decodes (`null`, a number, an array): only an object with a whole offset is a token.
    const offset = (parsed as Partial<PageToken> | null)?.offset;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !Number.isSafeInteger(offset) || offset! < 0) {
      throw identityErrors.invalid('pagetoken is not one this server issued');
    }
    token = parsed as PageToken;
  }
  const accountId = query.account_id ?? (typeof token.accountId === 'string' ? token.accountId : undefined);
  return {
    offset: token.offset,
    limit: query.pagesize ?? 20,
    sort: query.sort ?? 'created_at',
    order: query.order ?? 'asc',
    ...(accountId !== undefined ? { accountId } : {}),
  };
}

/**
 * The list envelope. `first` and `next` are relative URLs repeating the request's query; clients read
 * `pagetoken` from `next`, which is left out on the last page.
 */
export function listEnvelope<T>(
  request: FastifyRequest,
  field: string,
  page: { offset: number; limit: number; accountId?: string },
  result: { items: T[]; more: boolean },
) {
  const path = request.url.split('?')[0]!;
  const query = new URLSearchParams(request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '');
  query.delete('pagetoken');
  const first = query.size > 0 ? `${path}?${query}` : path;
  const envelope: Record<string, unknown> = { offset: page.offset, limit: page.limit, first };
  if (result.more) {
    const token: PageToken = { offset: page.offset + page.limit, ...(page.accountId !== undefined ? { accountId: page.accountId } : {}) };
    query.set('pagetoken', Buffer.from(JSON.stringify(token)).toString('base64url'));
    envelope.next = `${path}?${query}`;
  }
  envelope[field] = result.items;
  return envelope;
}
