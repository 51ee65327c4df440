import { readFileSync } from 'node:fs';

let version: string | undefined;

/** Berth's version, from package.json one folder up from src/ and dist/ alike. */
export function berthVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
