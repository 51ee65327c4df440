import { createRequire } from 'node:module';

/**
 * commander through `require`: it is a CommonJS package, and importing it as ESM makes Node scan its
 * source for exports first, which doubled its share of every `berth` start (measured: 7–11 ms by
 * require, 14–22 ms by import).
 */
const commander = createRequire(import.meta.url)('commander') as typeof import('commander');

export const { Command, CommanderError } = commander;
