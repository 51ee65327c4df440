import type { FastifyBaseLogger } from 'fastify';
import type { AuditLog } from '../audit/audit-log.js';
import type { Job } from './runner.js';

/** How often retention runs: an hour late matters nothing against a retention of days. */
export const AUDIT_RETENTION_INTERVAL_MS = 60 * 60 * 1000;

/** Events removed between renewals of the job's lease, so a big first purge never lets it lapse. */
const PER_RENEWAL = 10_000;

/**
 * Removes audit events older than `retentionMs` (BERTH_AUDIT_RETENTION), each chain keeping the
 * anchor it verifies from. Retention 0 keeps every event: the job never runs.
 */
export function auditRetentionJob(audit: AuditLog, retentionMs: number, log: Pick<FastifyBaseLogger, 'info'>, clock: () => number = Date.now): Job {
  return {
    name: 'audit-retention',
    intervalMs: retentionMs > 0 ? AUDIT_RETENTION_INTERVAL_MS : 0,
    async run(renew) {
      const olderThan = clock() - retentionMs;
      let removed = 0;
      for (;;) {
        const count = await audit.prune(olderThan, PER_RENEWAL);
        removed += count;
        if (count < PER_RENEWAL) break;
        await renew();
      }
      if (removed > 0) log.info({ removed, olderThan: new Date(olderThan).toISOString() }, 'removed audit events past retention');
    },
  };
}
