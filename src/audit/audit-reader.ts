import type { Authorization } from '../iam/authorization.js';
import type { Subject } from '../iam/authorize.js';
import type { AuditFilter, AuditLog } from './audit-log.js';
import { auditErrors } from './audit-errors.js';
import type { ChainedEvent } from './chain.js';

/** The action reading the trail needs; every role of `berth-audit` grants it (roles.ts). */
export const READ_AUDIT_EVENTS = 'berth-audit.event.read';

/** Where a page ended: `AuditLog.list` continues after it. */
export interface AuditCursor {
  at: number;
  accountId: string;
  seq: number;
}

/** What a caller asks for. The account is always the caller's own; `accountId` is only what it named. */
export interface AuditQuery {
  accountId?: string;
  filter: Omit<AuditFilter, 'accountId'>;
  limit: number;
  after?: AuditCursor;
}

export interface AuditPage {
  events: ChainedEvent[];
  /** Whether events may follow the last one given. */
  more: boolean;
}

/** Reading the audit trail on behalf of a principal: its own account's events only, if policy allows. */
export class AuditReader {
  constructor(
    private readonly log: AuditLog,
    private readonly authorization: Authorization,
  ) {}

  async read(principal: Subject, query: AuditQuery): Promise<AuditPage> {
    const { accountId } = principal;
    if (query.accountId !== undefined && query.accountId !== accountId) throw auditErrors.accountNotFound(query.accountId);
    (await this.authorization.for(principal)).require(READ_AUDIT_EVENTS, { accountId, serviceName: 'berth-audit' }, () => auditErrors.forbidden(READ_AUDIT_EVENTS, accountId));
    // A page token of another account would only position the read; refused so it never looks meaningful.
    if (query.after && query.after.accountId !== accountId) throw auditErrors.invalidParameter('start', 'is not a page of this account');
    // One more than asked: whether it came says whether a next page exists.
    const events = await this.log.list({ ...query.filter, accountId }, query.limit + 1, query.after);
    return { events: events.slice(0, query.limit), more: events.length > query.limit };
  }
}
