import { randomUUID } from 'node:crypto';
import type { RequestListener } from 'node:http';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { AccessEvents } from '../audit/access-events.js';
import type { AuthenticatorChain } from '../auth/authenticator-chain.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Authorizer } from '../auth/authorize.js';
import type { Authenticator } from '../auth/authenticate.js';
import type { RegistryLogin } from '../auth/login.js';
import type { BerthConfig } from '../config/config.js';
import type { Database } from '../db/schema.js';
import type { Iam } from '../iam/iam.js';
import type { RegionRegistry } from '../registry/regional.js';
import type { Registry } from '../registry/registry.js';
import { auditRoutes } from './audit/audit-routes.js';
import { managementRoutes } from './cr/management-routes.js';
import { registerBodyIdleTimeout } from './body-idle.js';
import { registerDrain } from './drain.js';
import { registerHealth } from './health.js';
import { identityRoutes } from './iam/identity-routes.js';
import { policyRoutes } from './iam/policy-routes.js';
import { tokenRoutes } from './iam/token-routes.js';
import { registerMetrics } from './metrics.js';
import { registerOpenApi } from './openapi/openapi-route.js';
import { recordServedRoutes } from './openapi/served-routes.js';
import { registerRegions } from './cr/region-routes.js';
import { notFoundPlugin, registerNulGuard } from './surfaces.js';
import { answerClientError, createLimitedServer } from './server-limits.js';
import type { TlsCertificate } from './tls.js';
import { oauthTokenRoutes } from './oauth/token-routes.js';
import { registerRequestLog } from './request-log.js';
import { registerSecurityContext } from './security.js';
import { v2Plugin } from './v2/plugin.js';

export interface AppDependencies {
  config: BerthConfig;
  db: Kysely<Database>;
  registry: Registry;
  registryOf(region: string): RegionRegistry;
  regionOf(request: FastifyRequest): string;
  /** A region's configured registry host, if any. */
  hostOf(region: string): string | undefined;
  /** The base URL clients reach a region's registry at, when one is configured. */
  publicUrlOf(region: string): string | undefined;
  /** Every region, with its registry host as the client of `request` writes it. */
  regionsFor(request: FastifyRequest): Array<{ name: string; registry: string }>;
  iam: Iam;
  login: RegistryLogin;
  authenticator: Authenticator;
  authorizer: Authorizer;
  /** The one chain every surface resolves callers through (the IAM, management and audit APIs here). */
  chain: AuthenticatorChain;
  /** Where logins, decisions and pulls go for the audit trail. */
  events?: AccessEvents;
  /** The audit trail, as `GET /v1/audit/events` reads it. */
  audit: AuditLog;
  /** A pino destination; defaults to stdout. */
  logStream?: NodeJS.WritableStream;
  /** HTTPS with this certificate; plain HTTP without. */
  tls?: TlsCertificate;
}

/** The app, and the request handler that further listeners (regions with ports of their own) hand requests to. */
export async function buildApp(deps: AppDependencies): Promise<{ app: FastifyInstance; handler: RequestListener; metrics: MetricsRegistry }> {
  let handler: RequestListener | undefined;
  const app = Fastify({
    logger: {
      level: deps.config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["iam-apikey"]'],
      ...(deps.logStream ? { stream: deps.logStream } : {}),
    },
    serverFactory: (listener) => {
      handler = listener;
      return createLimitedServer(listener, deps.config, { ownClientErrors: false, tls: deps.tls });
    },
    clientErrorHandler: answerClientError,
    // Unique across nodes: the id a client quotes (X-Request-Id, error bodies) finds the log line.
    genReqId: () => randomUUID(),
    // Our own onResponse hook writes the one line per request.
    logController: new LogController({ disableRequestLogging: true }),
    // Layers take as long as they take: no whole-request timeout, only the header timeout.
    requestTimeout: 0,
    connectionTimeout: 0,
    // Idle keep-alive sockets would hold a graceful shutdown open; in-flight requests still finish.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // Only the configured proxies' X-Forwarded-* decide request.ip, .protocol and .host (the
    // throttles, the log lines, the region and the URLs handed out); without any, nobody's do.
    trustProxy: deps.config.trustedProxies.length > 0 ? deps.config.trustedProxies : false,
    routerOptions: { ignoreDuplicateSlashes: false },
  });
  recordServedRoutes(app);
  registerDrain(app);
  registerSecurityContext(app);
  app.decorate('authenticators', deps.chain);
  registerBodyIdleTimeout(app, deps.config.bodyIdleSeconds);
  registerNulGuard(app);
  registerRequestLog(app);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  const metrics = registerMetrics(app);
  registerHealth(app, deps.db);
  registerOpenApi(app);
  registerRegions(app, deps.regionsFor);
  await app.register(tokenRoutes, { iam: deps.iam, failuresPerMinute: deps.config.tokenFailuresPerMinute, ...(deps.events ? { events: deps.events } : {}) });
  await app.register(identityRoutes, { iam: deps.iam });
  await app.register(policyRoutes, { iam: deps.iam });
  await app.register(auditRoutes, { iam: deps.iam, audit: deps.audit });
  await app.register(oauthTokenRoutes, { login: deps.login, regionOf: deps.regionOf });
  await app.register(managementRoutes, { iam: deps.iam, registry: deps.registry, registryOf: deps.registryOf, regionOf: deps.regionOf, hostOf: deps.hostOf });
  await app.register(v2Plugin, {
    registryOf: deps.registryOf,
    regionOf: deps.regionOf,
    publicUrlOf: deps.publicUrlOf,
    authenticator: deps.authenticator,
    authorizer: deps.authorizer,
    config: deps.config,
    ...(deps.events ? { events: deps.events } : {}),
  });
  await app.register(notFoundPlugin);
  return { app, handler: handler!, metrics };
}
