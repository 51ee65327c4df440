import { describe, expect, it } from 'vitest';
import { partBody, PartCutter, partSizeAfter, Slots } from '../../../src/storage/s3-parts.js';

async function bytesOf(stream: AsyncIterable<unknown>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('partSizeAfter', () => {
  it('grows by the base size every thousand parts', () => {
    expect(partSizeAfter(5, 0)).toBe(5);
    expect(partSizeAfter(5, 999)).toBe(5);
    expect(partSizeAfter(5, 1000)).toBe(10);
    expect(partSizeAfter(5, 2500)).toBe(15);
  });
});

describe('PartCutter', () => {
  it('cuts parts of exactly the size asked from chunks of any size, keeping the order of the bytes', async () => {
    const cutter = new PartCutter(() => 10);
    const input = Buffer.from('abcdefghijklmnopqrstuvwxyz0123456789');
    const parts: Buffer[] = [];
    for (const size of [3, 1, 9, 14, 2, 7]) {
      const start = parts.length * 10 + cutter.length;
      cutter.push(input.subarray(start, start + size));
      for (let part = cutter.take(); part; part = cutter.take()) {
        expect(part.length).toBe(10);
        parts.push(await bytesOf(partBody(part)));
      }
    }
    expect(parts.map(String)).toEqual(['abcdefghij', 'klmnopqrst', 'uvwxyz0123']);
    const rest = cutter.rest();
    expect(rest.length).toBe(6);
    expect(String(await bytesOf(partBody(rest)))).toBe('456789');
    expect(cutter.length).toBe(0);
  });

  it('copies no byte: a part is made of views of the chunks pushed', () => {
    const cutter = new PartCutter(() => 4);
    const chunk = Buffer.from('abcdef');
    cutter.push(chunk);
    const part = cutter.take()!;
    chunk[0] = 0x41; // a view sees the change; a copy would not
    expect(part.chunks.map((c) => c.buffer === chunk.buffer)).toEqual([true]);
    expect(String(part.chunks[0])).toBe('Abcd');
  });

  it('gives a fresh body each time, so a part that failed can be sent again', async () => {
    const cutter = new PartCutter(() => 3);
    cutter.push(Buffer.from('xyz'));
    const part = cutter.take()!;
    expect(String(await bytesOf(partBody(part)))).toBe('xyz');
    expect(String(await bytesOf(partBody(part)))).toBe('xyz');
  });
});

describe('Slots', () => {
  it('lets at most the limit through and hands each freed slot to the longest waiter', async () => {
    const slots = new Slots(2);
    const order: string[] = [];
    await slots.acquire();
    await slots.acquire();
    const third = slots.acquire().then(() => order.push('third'));
    const fourth = slots.acquire().then(() => order.push('fourth'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual([]);
    slots.release();
    await third;
    expect(order).toEqual(['third']);
    slots.release();
    await fourth;
    expect(order).toEqual(['third', 'fourth']);
    // Two held (third and fourth): a fifth waits until one is freed.
    let fifth = false;
    const waiting = slots.acquire().then(() => (fifth = true));
    await new Promise((resolve) => setImmediate(resolve));
    expect(fifth).toBe(false);
    slots.release();
    await waiting;
    expect(fifth).toBe(true);
  });
});
