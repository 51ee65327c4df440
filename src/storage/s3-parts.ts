import { Readable } from 'node:stream';

/**
 * Multipart parts grow as an upload does: S3 allows 10,000 parts, so fixed small parts would cap
 * a blob at 10,000 × the part size. Each thousand parts the size grows by the base size (5 MiB
 * parts reach about 270 GiB), while small blobs keep small parts and memory stays low.
 */
export function partSizeAfter(base: number, partsSoFar: number): number {
  return base * (1 + Math.floor(partsSoFar / 1000));
}

/** Bytes as the request delivered them, not copied into one buffer: a part is sent from these. */
export interface PartBytes {
  chunks: Buffer[];
  length: number;
}

/** A fresh stream over the bytes each time: a part that failed is sent again from the start. */
export function partBody(part: PartBytes): Readable {
  return Readable.from(part.chunks, { objectMode: false });
}

/** Gathers chunks and cuts them into parts of exactly the size asked, without copying a byte. */
export class PartCutter {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly size: () => number) {}

  /** Bytes gathered and not yet taken. */
  get length(): number {
    return this.bytes;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.bytes += chunk.length;
  }

  /** The next whole part, or undefined until enough bytes have come. */
  take(): PartBytes | undefined {
    const size = this.size();
    if (this.bytes < size) return undefined;
    const chunks: Buffer[] = [];
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[0]!;
      const wanted = size - filled;
      if (chunk.length <= wanted) {
        chunks.push(chunk);
        this.chunks.shift();
        filled += chunk.length;
      } else {
        chunks.push(chunk.subarray(0, wanted));
        this.chunks[0] = chunk.subarray(wanted);
        filled = size;
      }
    }
    this.bytes -= size;
    return { chunks, length: size };
  }

  /** What is left, less than a part. */
  rest(): PartBytes {
    const rest = { chunks: this.chunks, length: this.bytes };
    this.chunks = [];
    this.bytes = 0;
    return rest;
  }
}

/**
 * A count shared by every request of a process: parts in flight hold their bytes in memory, so
 * their number across all uploads is bounded, whatever the number of concurrent pushes. A request
 * waiting for a slot stops reading its body, which slows its client down (TCP back-pressure).
 */
export class Slots {
  private used = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.used < this.limit) {
      this.used += 1;
      return;
    }
    // The slot is handed over by release(), so `used` stays counted for the waiter.
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used -= 1;
  }
}
