import { describe, expect, it } from 'vitest';
import { chainHash, GENESIS, verifyChain, type AuditFields, type ChainedEvent } from '../../../src/audit/chain.js';

function fields(action: string, at: number): AuditFields {
  return { at, action, outcome: 'success', reason: null, principalId: 'iam-ServiceId-1', principalName: 'builder', target: 'us.icr.io/ns/app:v1', namespace: 'ns', client: '10.0.0.1', requestId: `r-${at}` };
}

function chain(count: number): ChainedEvent[] {
  const events: ChainedEvent[] = [];
  let prevHash = GENESIS;
  for (let seq = 1; seq <= count; seq++) {
    const event = fields(seq % 2 ? 'container-registry.image.push' : 'container-registry.image.pull', 1000 + seq);
    const hash = chainHash('acct', seq, prevHash, event);
    events.push({ ...event, accountId: 'acct', seq, prevHash, hash });
    prevHash = hash;
  }
  return events;
}

async function* each<T>(items: T[]): AsyncIterable<T> {
  yield* items;
}

describe('the audit hash chain', () => {
  it('proves an untouched chain intact, and an empty one', async () => {
    await expect(verifyChain(each(chain(5)))).resolves.toEqual({ intact: true, events: 5 });
    await expect(verifyChain(each([]))).resolves.toEqual({ intact: true, events: 0 });
  });

  it('names the first broken event: a field changed, an event removed, events swapped, a chain restarted', async () => {
    const changed = chain(5);
    changed[2] = { ...changed[2]!, outcome: 'denied' };
    await expect(verifyChain(each(changed))).resolves.toMatchObject({ intact: false, seq: 3, why: 'its fields do not match its hash' });

    const removed = chain(5);
    removed.splice(1, 1);
    await expect(verifyChain(each(removed))).resolves.toMatchObject({ intact: false, seq: 2 });

    const swapped = chain(5);
    [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
    await expect(verifyChain(each(swapped))).resolves.toMatchObject({ intact: false, seq: 4 });

    // A forger who rehashes one event (but not the rest) is caught at the next.
    const rehashed = chain(5);
    const forged = { ...rehashed[1]!, target: 'us.icr.io/ns/other:v1' };
    forged.hash = chainHash('acct', 2, forged.prevHash, forged);
    rehashed[1] = forged;
    await expect(verifyChain(each(rehashed))).resolves.toMatchObject({ intact: false, seq: 3, why: 'it does not link to the event before it' });
  });

  it('binds each hash to its account: an event copied into another account\'s chain does not verify', async () => {
    const [first] = chain(1);
    await expect(verifyChain(each([{ ...first!, accountId: 'other' }]))).resolves.toMatchObject({ intact: false, seq: 1 });
  });

  it('starts from the anchor retention left: the first remaining event must follow it and link to it', async () => {
    const events = chain(5);
    const anchor = { seq: 2, hash: events[1]!.hash };
    await expect(verifyChain(each(events.slice(2)), anchor)).resolves.toEqual({ intact: true, events: 3 });
    // Everything removed: nothing left to check, nothing broken.
    await expect(verifyChain(each([]), { seq: 5, hash: events[4]!.hash })).resolves.toEqual({ intact: true, events: 0 });
    // One event more removed than the anchor says, or an anchor naming a hash no event had.
    await expect(verifyChain(each(events.slice(3)), anchor)).resolves.toEqual({ intact: false, seq: 3, why: 'event 3 is missing (found 4 next)' });
    await expect(verifyChain(each(events.slice(2)), { seq: 2, hash: events[0]!.hash })).resolves.toEqual({ intact: false, seq: 3, why: 'it does not link to the event before it' });
    // An event from behind the anchor is not where the remainder starts.
    await expect(verifyChain(each(events.slice(1)), anchor)).resolves.toMatchObject({ intact: false, seq: 3 });
  });
});
