import type { RequestListener, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyRequest } from 'fastify';
import type { RegionConfig } from '../config/regions.js';
import { createLimitedServer, type ServerLimits } from './server-limits.js';
import type { TlsCertificate } from './tls.js';

/**
 * Which region a request reached: a region with a listener of its own owns every request that
 * arrives there; on the main listener the Host the client sent chooses among the regions served
 * there, and the first of them answers the rest.
 */
export class RegionRouter {
  private readonly byPort = new Map<number, string>();
  private readonly mainRegions: RegionConfig[];

  constructor(private readonly regions: readonly RegionConfig[]) {
    const shared = regions.filter((region) => region.port === undefined);
    this.mainRegions = shared.length > 0 ? shared : [regions[0]!];
  }

  /** The region the main listener answers when the Host names none of its regions. */
  defaultRegion(): string {
    return this.mainRegions[0]!.name;
  }

  /** Records the port a region's own listener got (it may have asked for port 0). */
  bind(region: string, port: number): void {
    this.byPort.set(port, region);
  }

  regionOf(request: FastifyRequest): string {
    const own = this.byPort.get(request.raw.socket.localPort ?? -1);
    if (own !== undefined) return own;
    const host = request.host.toLowerCase();
    const hostname = request.hostname.toLowerCase();
    return (this.mainRegions.find((region) => region.host === host || region.host === hostname) ?? this.mainRegions[0]!).name;
  }

  /**
   * The registry host of a region as a client that reached `request` writes it: its configured
   * host, or this host with the region's own port, or this host.
   */
  registryHost(region: string, request: FastifyRequest): string {
    const config = this.regions.find((r) => r.name === region);
    if (config?.host !== undefined) return config.host;
    const port = [...this.byPort].find(([, name]) => name === region)?.[0];
    return port !== undefined ? `${request.hostname}:${port}` : request.host;
  }

  /** The regions that want a listener of their own. */
  ownListeners(): RegionConfig[] {
    return this.regions.filter((region) => region.port !== undefined);
  }

  names(): string[] {
    return this.regions.map((region) => region.name);
  }
}

/**
 * The extra listeners of regions with ports of their own: plain HTTP servers handing every request
 * to the same Fastify app. Closing stops accepting, lets requests in flight finish, and ends idle
 * keep-alive sockets.
 */
export class RegionListeners {
  private readonly servers: Server[] = [];

  constructor(
    private readonly router: RegionRouter,
    private readonly handler: RequestListener,
    private readonly limits: ServerLimits,
    private readonly tls: TlsCertificate | undefined,
  ) {}

  async listen(host: string): Promise<Record<string, number>> {
    const ports: Record<string, number> = {};
    for (const region of this.router.ownListeners()) {
      const server = createLimitedServer(this.handler, this.limits, { ownClientErrors: true, tls: this.tls });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(region.port, host, () => resolve());
      });
      const { port } = server.address() as AddressInfo;
      this.router.bind(region.name, port);
      ports[region.name] = port;
      this.servers.push(server);
    }
    return ports;
  }

  async close(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeIdleConnections();
          }),
      ),
    );
  }
}
