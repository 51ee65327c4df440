import type { Command } from 'commander';
import { formatDuration, parseDuration } from '../config/durations.js';
import type { CollectionReport } from '../registry/collector.js';
import { withExample, withOutput, type OutputFlags } from './commands/options.js';
import { CliError } from './errors.js';
import { formatOf, printJson } from './output.js';
import { storeConfig, storeOptions, type StoreFlags } from './store-config.js';

interface GcFlags extends OutputFlags, StoreFlags {
  dryRun?: boolean;
  delay?: string;
  wait: string;
}

/** How long a run's lease lasts between the collector's batches. */
const LEASE_MS = 60_000;

function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

function summary(report: CollectionReport): string {
  const verb = report.dryRun ? 'Would remove' : 'Removed';
  return (
    `${verb} ${plural(report.blobsRemoved, 'blob')} (${report.bytesRemoved} bytes), ${plural(report.linksRemoved, 'unreferenced link')}, ` +
    `${plural(report.trashExpired, 'expired trash entry', 'expired trash entries')}` +
    (report.dryRun ? '' : ` (${plural(report.manifestsRemoved, 'manifest')}), ${plural(report.uploadsPurged, 'idle upload')}`) +
    ` in ${report.durationMs} ms.`
  );
}

/**
 * `berth gc`: one collection now, against the same data folder or database as the servers and
 * while they run; it takes the collector's lease, so it waits while a server is collecting.
 */
export function registerGc(program: Command): void {
  withExample(
    withOutput(
      storeOptions(program.command('gc').description('remove unreferenced blobs, expired trash and idle uploads now (servers may keep running)'))
        .option('--dry-run', 'only print what would be removed')
        .option('--delay <duration>', 'grace for unreferenced blobs, e.g. 0, 30s, 1h (default BERTH_GC_DELAY)')
        .option('--wait <duration>', 'how long to wait while another node is collecting', '5m'),
    ),
    'berth gc --data ./berth-data --dry-run',
    'berth gc --data ./berth-data --delay 0',
  ).action(async (flags: GcFlags) => {
    formatOf(flags);
    const config = storeConfig(flags);
    const delayMs = flags.delay === undefined ? config.gc.delayMs : parseDuration(flags.delay);
    if (delayMs === undefined) throw new CliError(`--delay must be a duration such as 0, 30s or 1h, got "${flags.delay}"`);
    const waitMs = parseDuration(flags.wait);
    if (waitMs === undefined) throw new CliError(`--wait must be a duration such as 30s or 5m, got "${flags.wait}"`);

    const { openRegistry } = await import('../server.js');
    const { registry, leases, close } = await openRegistry(config);
    try {
      const deadline = Date.now() + waitMs;
      let report: CollectionReport | undefined;
      let told = false;
      for (;;) {
        report = await leases.run('gc', LEASE_MS, (renew) => registry.collector.run({ dryRun: flags.dryRun ?? false, delayMs, renew }));
        if (report !== undefined) break;
        if (Date.now() > deadline) throw new CliError(`another node has been collecting for over ${formatDuration(waitMs)}; try again later`);
        if (!told) process.stderr.write('Another node is collecting; waiting for it to finish...\n');
        told = true;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      if (formatOf(flags) === 'json') {
        printJson(report);
        return;
      }
      const lines = [summary(report), ...report.blobs.map((blob) => `  ${blob.digest}  ${blob.size} bytes`)];
      process.stdout.write(`${lines.join('\n')}\n`);
    } finally {
      await close();
    }
  });
}
