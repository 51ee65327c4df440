import { resolve } from 'node:path';

/** The checkout's root folder, where bin/, dist/ and package.json are. */
export const repoRoot = resolve(import.meta.dirname, '../..');
