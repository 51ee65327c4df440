import type { Readable } from 'node:stream';
import type { BlobReader } from './blob-store.js';

/**
 * A BlobReader over a stream (an object store's response body): each read fills the caller's
 * buffer with what has arrived, waiting only when nothing has.
 */
export function streamReader(body: Readable): BlobReader {
  const chunks = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let pending: Buffer | undefined;
  let ended = false;
  return {
    async read(into) {
      let filled = 0;
      while (filled < into.length) {
        if (!pending || pending.length === 0) {
          if (ended || (filled > 0 && body.readableLength === 0)) break;
          const next = await chunks.next();
          if (next.done) {
            ended = true;
            break;
          }
          pending = next.value;
        }
        const n = pending.copy(into, filled);
        filled += n;
        pending = pending.subarray(n);
      }
      return filled;
    },
    async close() {
      body.destroy();
    },
  };
}
