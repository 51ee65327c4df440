import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, resolve } from 'node:path';
import { ConfigError } from './config-error.js';
import { LIST_SETTINGS, PATH_SETTINGS, SETTING_NAMES, type SettingName } from './settings.js';

/** A config file's settings, each as the text a flag or variable would carry. */
export interface ConfigFile {
  path: string;
  values: Map<SettingName, string>;
}

/** The known name closest to a misspelt one, if it is a plausible typo (at most two edits). */
function closest(name: string): string | undefined {
  const distance = (a: string, b: string): number => {
    let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      const current = [i];
      for (let j = 1; j <= b.length; j++) current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
    return previous[b.length]!;
  };
  const [best] = SETTING_NAMES.map((known) => ({ known, d: distance(name, known) })).sort((x, y) => x.d - y.d);
  return best && best.d <= 2 ? best.known : undefined;
}

/** A region given as `{ name, port, host }` in a file, written the way BERTH_REGIONS writes it. */
function regionText(entry: Record<string, unknown>, where: string): string {
  const unknown = Object.keys(entry).find((key) => !['name', 'port', 'host'].includes(key));
  if (unknown !== undefined) throw new ConfigError(`${where} has an unknown key "${unknown}" (a region has name, port and host)`);
  if (typeof entry.name !== 'string') throw new ConfigError(`${where} needs a name`);
  const port = entry.port === undefined ? '' : `:${String(entry.port)}`;
  const host = entry.host === undefined ? '' : `=${String(entry.host)}`;
  return `${entry.name}${port}${host}`;
}

function scalarText(value: unknown, where: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new ConfigError(`${where} must be a single value, not ${Array.isArray(value) ? 'a list' : 'a map'}`);
}

function settingText(name: SettingName, value: unknown, path: string): string {
  const where = `${name} in ${path}`;
  if (!Array.isArray(value)) return scalarText(value, where);
  if (!LIST_SETTINGS.includes(name)) throw new ConfigError(`${where} must be a single value, not a list`);
  return value
    .map((entry, i) => (name === 'regions' && entry !== null && typeof entry === 'object' && !Array.isArray(entry)
      ? regionText(entry as Record<string, unknown>, `${where}, entry ${i + 1},`)
      : scalarText(entry, `${where}, entry ${i + 1},`)))
    .join(',');
}

function parse(text: string, path: string): unknown {
  try {
    if (extname(path).toLowerCase() === '.json') return JSON.parse(text);
    // Loaded only for a YAML file: most starts have no config file and need no YAML parser.
    const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
    return yaml.parse(text);
  } catch (error) {
    throw new ConfigError(`${path} is not valid ${extname(path).toLowerCase() === '.json' ? 'JSON' : 'YAML'}: ${(error as Error).message.split('\n')[0]}`);
  }
}

/**
 * Reads `--config FILE` (YAML, or JSON when it ends in .json): a map from setting names to values.
 * An unknown name or a value of the wrong shape fails here, naming it, before anything starts.
 */
export function readConfigFile(file: string): ConfigFile {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const document = parse(text, path);
  const values = new Map<SettingName, string>();
  if (document === null || document === undefined) return { path, values }; // an empty file sets nothing
  if (typeof document !== 'object' || Array.isArray(document)) throw new ConfigError(`${path} must hold a map of settings (name: value)`);
  for (const [key, value] of Object.entries(document as Record<string, unknown>)) {
    if (!(SETTING_NAMES as readonly string[]).includes(key)) {
      const suggestion = closest(key);
      throw new ConfigError(`unknown setting "${key}" in ${path}${suggestion ? ` (did you mean ${suggestion}?)` : ''}`);
    }
    const name = key as SettingName;
    if (value === null) continue; // `key:` with no value leaves the setting unset, as an empty variable does
    const text = settingText(name, value, path);
    values.set(name, PATH_SETTINGS.includes(name) && text !== '' ? resolve(dirname(path), text) : text);
  }
  return { path, values };
}
