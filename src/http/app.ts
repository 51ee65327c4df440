import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Authorizer } from '../auth/authorize.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { BerthConfig } from '../config/config.js';
import type { Database } from '../db/schema.js';
import type { Iam } from '../iam/iam.js';
import type { Registry } from '../registry/registry.js';
import { registerDrain } from './drain.js';
import { registerHealth } from './health.js';
import { identityRoutes } from './iam/identity-routes.js';
import { policyRoutes } from './iam/policy-routes.js';
import { tokenRoutes } from './iam/token-routes.js';
import { registerMetrics } from './metrics.js';
import { registerRequestLog } from './request-log.js';
import { v2Plugin } from './v2/plugin.js';

export interface AppDependencies {
  config: BerthConfig;
  db: Kysely<Database>;
  registry: Registry;
  iam: Iam;
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** A pino destination; defaults to stdout. */
  logStream?: NodeJS.WritableStream;
}

export async function buildApp(deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: deps.config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["iam-apikey"]'],
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    },
    // Our own onResponse hook writes the one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    // Layers take as long as they take: no whole-request timeout, only the header timeout.
    requestTimeout: 0,
    connectionTimeout: 0,
    // Idle keep-alive sockets would hold a graceful shutdown open; in-flight requests still finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    routerOptions: { ignoreDuplicateSlashes: false },
  });
  registerDrain(app);
  registerRequestLog(app);
  registerMetrics(app);
  registerHealth(app, deps.db);
  await app.register(tokenRoutes, { iam: deps.iam, failuresPerMinute: deps.config.tokenFailuresPerMinute });
  await app.register(identityRoutes, { iam: deps.iam });
  await app.register(policyRoutes, { iam: deps.iam });
  await app.register(v2Plugin, {
    registry: deps.registry,
    authenticator: deps.authenticator,
    authorizer: deps.authorizer,
    config: deps.config,
  });
  return app;
}
