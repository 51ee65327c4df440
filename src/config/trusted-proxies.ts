import { isIP } from 'node:net';

/** The named ranges the proxy-address matcher knows (loopback: 127.0.0.1/8 and ::1). */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'];

/**
 * `BERTH_TRUSTED_PROXIES`: comma-separated addresses, CIDRs (`10.0.0.0/8`, `fd00::/8`) and named
 * ranges, whose `X-Forwarded-*` headers are believed. Empty means none. Checked here so a typo
 * stops the start with the setting's name instead of failing inside the HTTP server, and a `/0`
 * (every address, which would let any client pick its own) is refused. Throws a message naming
 * the bad entry.
 */
export function parseTrustedProxies(text: string, source: string, fail: (message: string) => Error): string[] {
  return text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '').map((entry) => {
    if (NAMED_RANGES.includes(entry.toLowerCase())) return entry.toLowerCase();
    const slash = entry.lastIndexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    if (family === 0) throw fail(`${source} entry "${entry}" must be an IP address, a CIDR (address/bits) or one of ${NAMED_RANGES.join(', ')}`);
    if (slash !== -1) {
      const bits = entry.slice(slash + 1);
      const max = family === 4 ? 32 : 128;
      if (!/^\d+$/.test(bits) || Number(bits) < 1 || Number(bits) > max) {
        throw fail(`${source} entry "${entry}" must have a prefix length from 1 to ${max}`);
      }
    }
    return entry;
  });
}
