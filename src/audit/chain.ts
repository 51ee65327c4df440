import { createHash } from 'node:crypto';

/** What was decided or done: success, a refused credential or request, or a denial by policy. */
export type Outcome = 'success' | 'failure' | 'denied';

/** One audit event as recorded, without its place in the chain. */
export interface AuditFields {
  /** ms since the epoch. */
  at: number;
  /** Activity Tracker's event name where one exists: `container-registry.image.push`, `iam-identity.apikey.create`, … */
  action: string;
  outcome: Outcome;
  reason: string | null;
  /** The caller's iam_id and name, when known (a refused login may name nobody). */
  principalId: string | null;
  principalName: string | null;
  /** What the action was on: `us.icr.io/ns/app:v1`, an API key id, a policy id. */
  target: string | null;
  namespace: string | null;
  client: string | null;
  requestId: string | null;
}

/** An event in its account's chain: its number there, and the hashes that link it to the one before. */
export interface ChainedEvent extends AuditFields {
  accountId: string;
  seq: number;
  prevHash: string;
  hash: string;
}

/** What the first event of a chain links to. */
export const GENESIS = '0'.repeat(64);

/**
 * The hash of an event: SHA-256 over the previous hash and the event's fields in a fixed order,
 * so changing, removing or reordering any recorded event breaks every hash after it.
 */
export function chainHash(accountId: string, seq: number, prevHash: string, fields: AuditFields): string {
  const canonical = JSON.stringify([
    accountId,
    seq,
    prevHash,
    fields.at,
    fields.action,
    fields.outcome,
    fields.reason,
    fields.principalId,
    fields.principalName,
    fields.target,
    fields.namespace,
    fields.client,
    fields.requestId,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}

/** The verdict on a chain: intact (with its length), or the first event that does not fit. */
export type ChainVerdict = { intact: true; events: number } | { intact: false; seq: number; why: string };

/**
 * Where a chain's remaining events start: the number and hash of the last event retention removed
 * (0 and GENESIS while none has been). The first remaining event must follow it and link to it.
 */
export interface ChainAnchor {
  seq: number;
  hash: string;
}

export const NO_ANCHOR: ChainAnchor = { seq: 0, hash: GENESIS };

/** Why `event` cannot come next after `seq - 1` whose hash is `prevHash`; undefined when it fits. */
export function misfit(event: ChainedEvent, expectedSeq: number, prevHash: string): string | undefined {
  if (event.seq !== expectedSeq) return `event ${expectedSeq} is missing (found ${event.seq} next)`;
  if (event.prevHash !== prevHash) return 'it does not link to the event before it';
  if (chainHash(event.accountId, event.seq, event.prevHash, event) !== event.hash) return 'its fields do not match its hash';
  return undefined;
}

/**
 * Walks one account's remaining events in `seq` order from `anchor`; `events` yields them one by
 * one (a chain can be long). `events` in the verdict counts the events checked.
 */
export async function verifyChain(events: AsyncIterable<ChainedEvent>, anchor: ChainAnchor = NO_ANCHOR): Promise<ChainVerdict> {
  let expectedSeq = anchor.seq + 1;
  let prevHash = anchor.hash;
  for await (const event of events) {
    const why = misfit(event, expectedSeq, prevHash);
    if (why !== undefined) return { intact: false, seq: expectedSeq, why };
    prevHash = event.hash;
    expectedSeq += 1;
  }
  return { intact: true, events: expectedSeq - 1 - anchor.seq };
}
