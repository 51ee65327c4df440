// Random blob files made at run time: streamed from disk during pushes so the
// harness never holds a layer in memory, and hashed once here.
import { createHash, randomFillSync } from "node:crypto";
import { statfsSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";

export interface BlobFile {
  path: string;
  size: number;
  digest: string; // sha256:<hex>
}

const CHUNK = 8 << 20;

export async function makeBlobFile(dir: string, name: string, size: number): Promise<BlobFile> {
  const path = join(dir, name);
  const hash = createHash("sha256");
  const buf = Buffer.allocUnsafe(CHUNK);
  const fh = await open(path, "w");
  try {
    for (let written = 0; written < size; ) {
      const n = Math.min(CHUNK, size - written);
      const part = buf.subarray(0, n);
      randomFillSync(part);
      hash.update(part);
      await fh.write(part, 0, n);
      written += n;
    }
    // Flush now, or background writeback of these files would compete with the timed pushes.
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { path, size, digest: `sha256:${hash.digest("hex")}` };
}

export async function makeBlobFiles(dir: string, prefix: string, count: number, size: number): Promise<BlobFile[]> {
  const out: BlobFile[] = [];
  for (let i = 0; i < count; i++) out.push(await makeBlobFile(dir, `${prefix}-${i}`, size));
  return out;
}

export function sha256(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function ensureDiskSpace(dir: string, bytes: number): void {
  const fs = statfsSync(dir);
  const free = fs.bavail * fs.bsize;
  if (free < bytes) {
    throw new Error(`need about ${(bytes / 2 ** 30).toFixed(1)} GiB free in ${dir}, have ${(free / 2 ** 30).toFixed(1)} GiB`);
  }
}
