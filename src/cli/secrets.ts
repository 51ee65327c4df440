import { writeFileSync } from 'node:fs';

/**
 * A new API key, shown the one time it exists: printed, or with `--file` written alone on one line
 * to the file (0600) so it never reaches a terminal or a CI log.
 */
export function handOver(secret: string, file: string | undefined): string {
  if (file === undefined) return `API key (shown once, keep it safe): ${secret}`;
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return `API key written to ${file}`;
}
