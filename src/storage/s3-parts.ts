/**
 * Multipart parts grow as an upload does: S3 allows 10,000 parts, so fixed small parts would cap
 * a blob at 10,000 × the part size. Each thousand parts the size grows by the base size (5 MiB
 * parts reach about 270 GiB), while small blobs keep small parts and memory stays low.
 */
export function partSizeAfter(base: number, partsSoFar: number): number {
  return base * (1 + Math.floor(partsSoFar / 1000));
}

/** Gathers chunks and cuts them into parts of exactly the size asked, copying each byte once. */
export class PartCutter {
  private chunks: Buffer[] = [];
  private bytes = 0;

  constructor(private readonly size: () => number) {}

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    this.bytes += chunk.length;
  }

  /** The next whole part, or undefined until enough bytes have come. */
  take(): Buffer | undefined {
    const size = this.size();
    if (this.bytes < size) return undefined;
    const part = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[0]!;
      const n = chunk.copy(part, filled, 0, Math.min(chunk.length, size - filled));
      filled += n;
      if (n === chunk.length) this.chunks.shift();
      else this.chunks[0] = chunk.subarray(n);
    }
    this.bytes -= size;
    return part;
  }

  /** What is left, less than a part. */
  rest(): Buffer {
    const rest = Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    return rest;
  }
}
