import type { Command } from 'commander';
import { loadConfig, type BerthConfig, type ConfigInput } from '../config/config.js';

/** Where an operator command finds the servers' data: the flags it shares with `serve`. */
export interface StoreFlags {
  config?: string;
  data?: string;
  databaseUrl?: string;
}

/** Adds the flags of StoreFlags: an operator command reads the servers' config file, or is told the folder and database. */
export function storeOptions(command: Command): Command {
  return command
    .option('--config <file>', "the servers' config file, YAML or JSON (env BERTH_CONFIG)", undefined)
    .option('--data <dir>', 'data folder (env BERTH_DATA)', undefined)
    .option('--database-url <url>', 'postgres:// URL (env BERTH_DATABASE_URL)', undefined);
}

/** The configuration of an operator command run beside the servers: their data folder and database, and no log. */
export function storeConfig(flags: StoreFlags): BerthConfig {
  const input: ConfigInput = { logLevel: 'silent' };
  if (flags.config !== undefined) input.config = flags.config;
  if (flags.data !== undefined) input.data = flags.data;
  if (flags.databaseUrl !== undefined) input.databaseUrl = flags.databaseUrl;
  return loadConfig(input);
}
