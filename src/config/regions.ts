/**
 * Regions: each has its own registry (namespaces, images, quotas); IAM is global. A region is
 * served on the main listener or on a listener of its own, and clients reach it at a host of its
 * own (the registry domain image references are written with).
 */
export interface RegionConfig {
  /** The name policies use in their `region` attribute (`us-south`, `eu-de`, …). */
  name: string;
  /** A listener of its own; absent means the main listener (selected there by `host`, or by default). */
  port?: number;
  /** The registry host clients write, e.g. `de.registry.example` or `127.0.0.1:5001`. */
  host?: string;
}

export const DEFAULT_REGION = 'us-south';

const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
const HOST = /^[a-z0-9.-]+(:\d{1,5})?$/i;

/**
 * `BERTH_REGIONS`: comma-separated `name[:port][=host]`. `us-south,eu-de:5001` serves us-south on
 * the main port and eu-de on 5001; `us-south=us.reg.example,eu-gb=uk.reg.example` serves both on
 * the main port, told apart by the Host clients send. The first region on the main listener is the
 * default there. Throws a message naming the bad entry and `source`, where the text came from.
 */
export function parseRegions(text: string, source: string, fail: (message: string) => Error): RegionConfig[] {
  const regions = text.split(',').map((entry) => entry.trim()).filter((entry) => entry !== '').map((entry) => {
    const match = /^([^:=]+)(?::(\d+))?(?:=(.+))?$/.exec(entry);
    if (!match || !NAME.test(match[1]!)) throw fail(`${source} entry "${entry}" must be name[:port][=host], the name 2-32 lowercase letters, digits and dashes`);
    const region: RegionConfig = { name: match[1]! };
    if (match[2] !== undefined) {
      const port = Number(match[2]);
      if (port > 65535) throw fail(`${source} entry "${entry}" has a port above 65535`);
      region.port = port;
    }
    if (match[3] !== undefined) {
      if (!HOST.test(match[3])) throw fail(`${source} entry "${entry}" has an invalid host "${match[3]}"`);
      region.host = match[3].toLowerCase();
    }
    return region;
  });
  if (regions.length === 0) throw fail(`${source} names no region`);
  const names = new Set(regions.map((region) => region.name));
  if (names.size !== regions.length) throw fail(`${source} names a region twice`);
  const ports = regions.flatMap((region) => (region.port !== undefined && region.port !== 0 ? [region.port] : []));
  if (new Set(ports).size !== ports.length) throw fail(`${source} gives two regions the same port`);
  return regions;
}
