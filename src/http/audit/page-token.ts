import type { AuditCursor } from '../../audit/audit-reader.js';

/** Far beyond any token this server issues; a longer `start` is not decoded at all. */
const MAX_TOKEN = 512;

/** The `start` a client passes back for the next page: where the last page ended, opaque to it. */
export function encodePageToken(cursor: AuditCursor): string {
  return Buffer.from(JSON.stringify({ at: cursor.at, accountId: cursor.accountId, seq: cursor.seq })).toString('base64url');
}

/** The cursor in a `start`, or undefined for anything this server could not have issued. */
export function decodePageToken(text: string): AuditCursor | undefined {
  // Node's base64url decoder skips characters it does not know; only the alphabet gets that far.
  if (text.length === 0 || text.length > MAX_TOKEN || !/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const { at, accountId, seq } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(at) || typeof accountId !== 'string' || accountId.length === 0 || !Number.isSafeInteger(seq) || (seq as number) < 1) return undefined;
  return { at: at as number, accountId, seq: seq as number };
}
