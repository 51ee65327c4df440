import { join } from 'node:path';
import type { Digest } from '../oci/digest.js';

/**
 * What a data folder of the embedded default holds, and therefore what a backup holds: a backup
 * folder has the same layout, plus its manifest, so a restore is a verified copy back.
 */
export const DATABASE_FILE = 'berth.db';
/** The server secret (`keys/server-secret`, unless BERTH_SECRET is set), which API key hashes and sealed signing keys depend on. */
export const KEYS_DIR = 'keys';
export const SERVER_SECRET_FILE = join(KEYS_DIR, 'server-secret');
/** Written last: a backup folder without it did not finish. */
export const MANIFEST_FILE = 'backup.json';

/** Where a committed blob's bytes are under `root`: FsBlobStore's layout (`blobs/<algorithm>/<first two hex>/<hex>`). */
export function blobFile(root: string, digest: Digest): string {
  return join(root, 'blobs', digest.algorithm, digest.hex.slice(0, 2), digest.hex);
}
