import { arrayOf, integer, named, nullable, object, record, string } from '../openapi/schema.js';
import { MAX_LIMIT } from './audit-query.js';

// What GET /v1/audit/events reads and answers (audit-query.ts, audit/event-json.ts), for GET /openapi.json.

const time = string('an RFC 3339 time (2026-12-01T09:00:00Z) or a duration back from now (30m, 1h, 7d)');

export const auditQuerySchema = object({
  account_id: string('the caller’s own account (the default); any other answers 404'),
  since: time,
  until: time,
  outcome: { type: 'string', enum: ['success', 'failure', 'denied'] },
  action: string('exactly this action, e.g. container-registry.image.push'),
  principal: string('exactly this IAM ID'),
  target: string(),
  namespace: string(),
  limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT },
  start: string('the next.start of the page before'),
});

export const auditEventSchema = named(
  'AuditEvent',
  record({
    time: string(),
    account_id: string(),
    seq: integer('its place in the account’s hash chain'),
    action: string(),
    outcome: { type: 'string', enum: ['success', 'failure', 'denied'] },
    reason: nullable('string'),
    principal: record({ iam_id: nullable('string'), name: nullable('string') }),
    target: nullable('string'),
    namespace: nullable('string'),
    client: nullable('string'),
    request_id: nullable('string'),
    hash: string(),
  }),
);

export const auditPageSchema = named(
  'AuditEventPage',
  object({ events: arrayOf(auditEventSchema), limit: integer(), next: record({ start: string() }, 'left out on the last page') }, ['events', 'limit']),
);
