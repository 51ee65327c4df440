import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { CollectionReport } from '../registry/collector.js';

/** The collector's Prometheus metrics on this node: what its runs removed, how long they took, when one last succeeded. */
export function gcMetrics(registry: Registry) {
  const registers = [registry];
  const runs = new Counter({ name: 'berth_gc_runs_total', help: 'Garbage collection runs on this node, by outcome.', labelNames: ['outcome'], registers });
  const blobs = new Counter({ name: 'berth_gc_blobs_removed_total', help: 'Blobs the collector removed.', registers });
  const bytes = new Counter({ name: 'berth_gc_bytes_removed_total', help: 'Bytes of blobs the collector removed.', registers });
  const manifests = new Counter({ name: 'berth_gc_manifests_removed_total', help: 'Manifests removed with expired trash.', registers });
  const links = new Counter({ name: 'berth_gc_links_removed_total', help: 'Repository links to blobs no manifest named, removed after the grace.', registers });
  const uploads = new Counter({ name: 'berth_gc_uploads_purged_total', help: 'Idle upload sessions cancelled with their staged bytes.', registers });
  const duration = new Histogram({
    name: 'berth_gc_duration_seconds',
    help: 'How long garbage collection runs took.',
    buckets: [0.01, 0.1, 0.5, 1, 5, 30, 120, 600],
    registers,
  });
  const lastSuccess = new Gauge({ name: 'berth_gc_last_success_timestamp_seconds', help: 'When a garbage collection run last succeeded on this node (Unix time).', registers });
  return {
    succeeded(report: CollectionReport): void {
      runs.inc({ outcome: 'success' });
      blobs.inc(report.blobsRemoved);
      bytes.inc(report.bytesRemoved);
      manifests.inc(report.manifestsRemoved);
      links.inc(report.linksRemoved);
      uploads.inc(report.uploadsPurged);
      duration.observe(report.durationMs / 1000);
      lastSuccess.set(Date.now() / 1000);
    },
    failed(): void {
      runs.inc({ outcome: 'failure' });
    },
  };
}
