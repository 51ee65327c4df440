import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Every committed blob file of a data folder, as `sha256:<hex>` → size (a test may walk the files; Berth never does). */
export async function blobFiles(dataDir: string): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  const root = join(dataDir, 'blobs');
  let algorithms: string[];
  try {
    algorithms = await readdir(root);
  } catch {
    return files;
  }
  for (const algorithm of algorithms) {
    for (const prefix of await readdir(join(root, algorithm))) {
      for (const hex of await readdir(join(root, algorithm, prefix))) {
        files.set(`${algorithm}:${hex}`, (await stat(join(root, algorithm, prefix, hex))).size);
      }
    }
  }
  return files;
}

/** Bytes of committed blobs in a data folder. */
export async function blobBytes(dataDir: string): Promise<number> {
  let total = 0;
  for (const size of (await blobFiles(dataDir)).values()) total += size;
  return total;
}

/** Staged upload files of a data folder. */
export async function uploadFiles(dataDir: string): Promise<string[]> {
  try {
    return await readdir(join(dataDir, 'uploads'));
  } catch {
    return [];
  }
}
