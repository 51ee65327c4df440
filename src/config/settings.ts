import type { ConfigFile } from './config-file.js';

/**
 * Every setting, by the name a config file uses. The flag is `--<name>` and the environment
 * variable `BERTH_<NAME>` (upper case, `-` as `_`), so one name is all a reader needs.
 */
export const SETTING_NAMES = [
  'host',
  'port',
  'data',
  'database-url',
  'log-level',
  'storage',
  's3-endpoint',
  's3-bucket',
  's3-region',
  's3-prefix',
  's3-path-style',
  's3-redirect',
  'regions',
  'public-url',
  'trusted-proxies',
  'secret',
  'tls-cert',
  'tls-key',
  'delete-enabled',
  'chunk-min-length',
  'registry-token-minutes',
  'refresh-token-hours',
  'upload-idle-hours',
  'max-connections',
  'workers',
  'body-idle-seconds',
  'gc-interval',
  'gc-delay',
  'trash-days',
  'audit-retention',
  'default-plan',
  'disk-reserve-mb',
] as const;

export type SettingName = (typeof SETTING_NAMES)[number];

/** Settings that hold a list: a config file may give them as an array, the others as one value. */
export const LIST_SETTINGS: readonly SettingName[] = ['regions', 'trusted-proxies'];

/** Settings that name a file or folder: relative ones in a config file are relative to that file. */
export const PATH_SETTINGS: readonly SettingName[] = ['data', 'tls-cert', 'tls-key'];

export function envName(name: SettingName): string {
  return `BERTH_${name.toUpperCase().replaceAll('-', '_')}`;
}

/** A setting's value and where it came from, named as the user wrote it (for messages). */
export interface Setting {
  value: string | undefined;
  /** `--port`, `BERTH_PORT` or `port in /etc/berth/berth.yaml`; the variable when nothing set it. */
  source: string;
}

export type Read = (name: SettingName) => Setting;

/** Flags win over `BERTH_*` variables, which win over the config file. */
export function layeredSettings(flags: Partial<Record<SettingName, string>>, env: NodeJS.ProcessEnv, file?: ConfigFile): Read {
  return (name) => {
    const flag = flags[name];
    if (flag !== undefined) return { value: flag, source: `--${name}` };
    // An empty variable (`BERTH_PORT=`) means unset, as shells and compose files use it.
    const variable = env[envName(name)];
    if (variable !== undefined && variable !== '') return { value: variable, source: envName(name) };
    const fromFile = file?.values.get(name);
    if (fromFile !== undefined) return { value: fromFile, source: `${name} in ${file!.path}` };
    return { value: undefined, source: envName(name) };
  };
}
