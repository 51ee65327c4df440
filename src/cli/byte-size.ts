const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/**
 * Bytes for people, in powers of 1024 with their IEC names ("512 B", "1.5 KiB", "500 MiB"): IBM
 * counts a quota megabyte as 1,048,576 bytes, so a limit set in megabytes reads back whole.
 */
export function formatBytes(bytes: number): string {
  let unit = 0;
  let value = bytes;
  // Move up while the rounded figure would reach 1024 (1023.96 KiB reads "1 MiB", not "1024 KiB").
  while (unit < UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024;
    unit++;
  }
  return `${Math.round(value * 10) / 10} ${UNITS[unit]}`;
}

/** A quota limit: bytes, or "Unlimited" for -1 (no limit). */
export function formatLimit(bytes: number): string {
  return bytes < 0 ? 'Unlimited' : formatBytes(bytes);
}
