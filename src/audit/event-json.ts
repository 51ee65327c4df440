import type { ChainedEvent } from './chain.js';

/** One event as JSON: the fields of the chain, named as `GET /v1/audit/events` and `berth audit events --output json` give them. */
export function eventJson(event: ChainedEvent): Record<string, unknown> {
  return {
    time: new Date(event.at).toISOString(),
    account_id: event.accountId,
    seq: event.seq,
    action: event.action,
    outcome: event.outcome,
    reason: event.reason,
    principal: { iam_id: event.principalId, name: event.principalName },
    target: event.target,
    namespace: event.namespace,
    client: event.client,
    request_id: event.requestId,
    hash: event.hash,
  };
}
