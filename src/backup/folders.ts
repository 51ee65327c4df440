import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { chmod, copyFile, mkdir, open, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { BackupError } from './errors.js';

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Makes `dir` ready to be written into: created when missing (with `mode`), used as it is when it
 * is an empty folder, refused otherwise, so nothing already there is mixed into or overwritten.
 * Answers whether it created the folder (a failed run then removes it whole).
 */
export async function claimEmptyFolder(dir: string, flag: string, mode: number): Promise<{ created: boolean }> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (isMissing(error)) {
      await mkdir(dir, { recursive: true, mode });
      return { created: true };
    }
    if ((error as NodeJS.ErrnoException).code === 'ENOTDIR') throw new BackupError(`${flag} ${dir} is a file, not a folder`);
    throw error;
  }
  if (names.length > 0) throw new BackupError(`${flag} ${dir} is not empty: give a new or empty folder`);
  return { created: false };
}

/** Whether `path` exists (as anything). */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

/** Flushes a folder's entries to disk, so the files created in it survive a power loss. */
export async function syncFolder(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Copies the regular files under `from` into `to` (created as needed), readable by the owner
 * alone: folders 0700 and files 0600, as Berth makes its key files. Answers the paths copied,
 * relative to `from`.
 */
export async function copyPrivateTree(from: string, to: string, relative = ''): Promise<string[]> {
  await mkdir(to, { recursive: true, mode: 0o700 });
  await chmod(to, 0o700);
  const copied: string[] = [];
  for (const entry of await readdir(from, { withFileTypes: true })) {
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) {
      copied.push(...(await copyPrivateTree(source, target, join(relative, entry.name))));
    } else if (entry.isFile()) {
      await copyPrivateFile(source, target);
      copied.push(join(relative, entry.name));
    }
  }
  await syncFolder(to);
  return copied;
}

/** Copies one file, 0600, durably. */
export async function copyPrivateFile(from: string, to: string): Promise<void> {
  await copyFile(from, to, constants.COPYFILE_EXCL);
  await chmod(to, 0o600);
  const handle = await open(to, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** The SHA-256 (hex) and size of a file, read as a stream. */
export async function fileSha256(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const handle = await open(path, constants.O_RDONLY);
  try {
    for await (const chunk of handle.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false }) as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
    }
  } finally {
    await handle.close();
  }
  return { sha256: hash.digest('hex'), bytes };
}

/** Removes what a failed run wrote into `dir`: the folder itself when the run created it, else what is in it. */
export async function discard(dir: string, created: boolean): Promise<void> {
  if (created) {
    await rm(dir, { recursive: true, force: true });
    return;
  }
  for (const name of await readdir(dir).catch(() => [])) await rm(join(dir, name), { recursive: true, force: true });
}
