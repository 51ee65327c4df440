import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig, type ConfigInput } from '../config/config.js';
import { describeConfig } from '../config/describe.js';
import { OWNER_KEY_FILE } from '../iam/bootstrap.js';
import { berthVersion } from '../version.js';
import { announceReady, isWorker, superviseWorkers } from './workers.js';

interface ServeFlags {
  config?: string;
  data?: string;
  port?: string;
  host?: string;
  databaseUrl?: string;
  logLevel?: string;
  workers?: string;
  gcInterval?: string;
  gcDelay?: string;
  auditRetention?: string;
  storage?: string;
  s3Endpoint?: string;
  s3Bucket?: string;
  s3Region?: string;
  s3Prefix?: string;
  tlsCert?: string;
  tlsKey?: string;
}

/** Printed once, to the terminal and never to the log: the only time the key exists in the clear. */
function announceOwnerKey(key: string, dataDir: string, url: string): void {
  const file = join(dataDir, OWNER_KEY_FILE);
  process.stderr.write(
    [
      '',
      'Berth created the account owner and an API key for it. This is the only time it is shown;',
      `it is also in ${file} (readable by you alone):`,
      '',
      `  ${key}`,
      '',
      'Exchange it for an IAM access token with:',
      `  curl -s ${url}/identity/token -d grant_type=urn:ibm:params:oauth:grant-type:apikey -d apikey="$(cat ${file})"`,
      '',
    ].join('\n'),
  );
}

/** `berth serve`: runs the registry until SIGTERM or SIGINT, then drains in-flight requests. */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the registry (SQLite and files in the data folder unless BERTH_DATABASE_URL is set)')
    .option('--config <file>', 'read settings from this YAML or JSON file; flags and BERTH_* variables override it (env BERTH_CONFIG)', undefined)
    .option('--data <dir>', 'data folder (env BERTH_DATA)', undefined)
    .option('--port <n>', 'listen port (env BERTH_PORT)', undefined)
    .option('--host <h>', 'listen address (env BERTH_HOST)', undefined)
    .option('--database-url <url>', 'postgres:// URL for metadata (env BERTH_DATABASE_URL)', undefined)
    .option('--workers <n>', 'server processes sharing the port: a number or auto, one per core (env BERTH_WORKERS, default 1)', undefined)
    .option('--log-level <level>', 'fatal|error|warn|info|debug|trace|silent (env BERTH_LOG_LEVEL)', undefined)
    .option('--gc-interval <duration>', 'how often garbage collection runs, 0 for only on demand (env BERTH_GC_INTERVAL)', undefined)
    .option('--gc-delay <duration>', 'grace before an unreferenced blob is collected (env BERTH_GC_DELAY)', undefined)
    .option('--audit-retention <duration>', 'remove audit events older than this, e.g. 90d; 0 keeps them forever (env BERTH_AUDIT_RETENTION)', undefined)
    .option('--storage <kind>', 'where blobs live: fs (the data folder) or s3 (env BERTH_STORAGE)', undefined)
    .option('--s3-endpoint <url>', 'S3-compatible endpoint, e.g. http://rgw:7480; unset for AWS (env BERTH_S3_ENDPOINT)', undefined)
    .option('--s3-bucket <name>', 'bucket for blobs (env BERTH_S3_BUCKET)', undefined)
    .option('--s3-region <name>', 'bucket region (env BERTH_S3_REGION, default us-east-1)', undefined)
    .option('--s3-prefix <prefix>', 'key prefix inside the bucket (env BERTH_S3_PREFIX)', undefined)
    .option('--tls-cert <file>', 'serve HTTPS with this PEM certificate chain; SIGHUP reloads it (env BERTH_TLS_CERT)', undefined)
    .option('--tls-key <file>', 'the PEM private key of --tls-cert (env BERTH_TLS_KEY)', undefined)
    .addHelpText('after', '\nExamples:\n  berth serve --data ./berth-data --port 5000\n  berth serve --config /etc/berth/berth.yaml\n')
    .action(async (flags: ServeFlags) => {
      // The flags carry ConfigInput's names; commander leaves the ones not given undefined.
      const input = Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined)) as ConfigInput;
      const config = loadConfig(input);
      if (config.workers > 1 && !isWorker()) return superviseWorkers(config.workers, config.logLevel);
      // The server is loaded only to serve: the other commands start without it.
      const { createBerth } = await import('../server.js');
      const berth = await createBerth(config);
      const { regions } = await berth.listen();
      const scheme = config.tls ? 'https' : 'http';
      const listeners = Object.entries(regions).map(([region, port]) => `${region} ${scheme}://${config.host}:${port}`);
      berth.app.log.info({ ...describeConfig(config, berthVersion()), listeners }, 'berth started');
      if (berth.ownerApiKey) announceOwnerKey(berth.ownerApiKey, config.dataDir, `${scheme}://${config.host}:${config.port}`);
      if (isWorker()) announceReady();
      // A renewed certificate is served to new connections; one that cannot be read leaves the old in place.
      process.on('SIGHUP', () => {
        try {
          if (berth.reloadTls()) berth.app.log.info('reloaded the TLS certificate');
        } catch (error) {
          berth.app.log.error({ err: error }, 'could not reload the TLS certificate; still serving the previous one');
        }
      });

      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        berth.app.log.info({ signal }, 'shutting down: finishing in-flight requests');
        const force = setTimeout(() => {
          berth.app.log.warn('grace period over; exiting with requests still open');
          process.exit(1);
        }, config.shutdownGraceSeconds * 1000);
        force.unref();
        berth.close().then(
          () => process.exit(0),
          (error: unknown) => {
            berth.app.log.error({ err: error }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      // A worker whose supervisor is gone (killed outright) must not serve on alone.
      if (isWorker()) process.on('disconnect', () => stop('supervisor gone'));
    });
}
