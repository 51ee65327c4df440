import { loadConfig, type BerthConfig, type ConfigInput } from '../config/config.js';

/** Where an operator command finds the servers' data: the flags it shares with `serve`. */
export interface StoreFlags {
  data?: string;
  databaseUrl?: string;
}

/** The configuration of an operator command run beside the servers: their data folder and database, and no log. */
export function storeConfig(flags: StoreFlags): BerthConfig {
  const input: ConfigInput = { logLevel: 'silent' };
  if (flags.data !== undefined) input.data = flags.data;
  if (flags.databaseUrl !== undefined) input.databaseUrl = flags.databaseUrl;
  return loadConfig(input);
}
