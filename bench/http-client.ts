// A small keep-alive HTTP client for the scenarios: it resolves relative
// Location headers, refuses any host but loopback, streams bodies from files,
// and answers auth challenges once per repository.
import { Agent, request, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { basicHeader, parseChallenge, type Credentials } from "./auth.js";

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface SendOptions {
  headers?: Record<string, string>;
  /** A Buffer, or a factory so the body can be sent again after an auth challenge. */
  body?: Buffer | (() => Readable);
  /** Consumes a 2xx response body as a stream (e.g. hashing a pulled blob). */
  sink?: (res: IncomingMessage) => Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);
const MAX_COLLECT = 4 << 20;
const IDLE_TIMEOUT_MS = 60_000;

export function assertLoopback(url: URL): URL {
  if (url.protocol !== "http:" || !LOOPBACK.has(url.hostname)) {
    throw new Error(`refusing to contact ${url.href}: the benchmark only talks to loopback`);
  }
  return url;
}

export function repoOf(path: string): string | undefined {
  return /^\/v2\/(.+?)\/(?:blobs|manifests|tags)\//.exec(path)?.[1];
}

export class RegistryClient {
  readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  private readonly auth = new Map<string, string>(); // repository ("" = any) -> Authorization
  credentials: Credentials | undefined;

  constructor(readonly baseUrl: string, credentials?: Credentials) {
    this.credentials = credentials;
  }

  url(target: string): URL {
    return assertLoopback(new URL(target, this.baseUrl));
  }

  /** The Authorization header this client would send for a path, if any. */
  authorizationFor(path: string): string | undefined {
    return this.auth.get(repoOf(path) ?? "") ?? this.auth.get("");
  }

  async send(method: string, target: string, opts: SendOptions = {}): Promise<Reply> {
    const url = this.url(target);
    let reply = await this.perform(method, url, opts);
    if (reply.status === 401 && (await this.answerChallenge(url, reply))) {
      reply = await this.perform(method, url, opts);
    }
    return reply;
  }

  close(): void {
    this.agent.destroy();
  }

  private perform(method: string, url: URL, opts: SendOptions): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers };
    const authz = this.authorizationFor(url.pathname);
    if (authz && !headers.authorization) headers.authorization = authz;
    if (Buffer.isBuffer(opts.body)) headers["content-length"] = String(opts.body.length);
    else if (!opts.body && (method === "PUT" || method === "POST" || method === "PATCH")) {
      headers["content-length"] ??= "0";
    }
    return new Promise<Reply>((resolve, reject) => {
      const req = request(url, { method, headers, agent: this.agent }, (res) => {
        const status = res.statusCode ?? 0;
        const consume = opts.sink && status >= 200 && status < 300 ? opts.sink(res).then(() => Buffer.alloc(0)) : collect(res);
        consume.then((body) => resolve({ status, headers: res.headers, body }), reject);
      });
      req.on("error", reject);
      // A server that stops answering must fail the scenario, not hang the run.
      req.setTimeout(IDLE_TIMEOUT_MS, () => req.destroy(new Error(`no data for ${IDLE_TIMEOUT_MS / 1000}s`)));
      if (Buffer.isBuffer(opts.body)) req.end(opts.body);
      else if (opts.body) {
        const src = opts.body();
        src.on("error", (err) => req.destroy(err));
        src.pipe(req);
      } else req.end();
    });
  }

  private async answerChallenge(url: URL, reply: Reply): Promise<boolean> {
    const challenge = parseChallenge(reply.headers["www-authenticate"]);
    if (!challenge) return false;
    const repo = repoOf(url.pathname) ?? "";
    if (challenge.scheme === "basic") {
      if (!this.credentials) return false;
      this.auth.set("", basicHeader(this.credentials));
      return true;
    }
    const realm = challenge.params.realm;
    if (!realm) return false;
    const tokenUrl = this.url(realm);
    if (challenge.params.service) tokenUrl.searchParams.set("service", challenge.params.service);
    const scope = challenge.params.scope ?? (repo ? `repository:${repo}:pull,push` : undefined);
    if (scope) tokenUrl.searchParams.set("scope", scope);
    const headers: Record<string, string> = {};
    if (this.credentials) headers.authorization = basicHeader(this.credentials);
    const res = await this.perform("GET", tokenUrl, { headers });
    if (res.status !== 200) return false;
    const json = JSON.parse(res.body.toString("utf8")) as { token?: string; access_token?: string };
    const token = json.token ?? json.access_token;
    if (!token) return false;
    this.auth.set(repo, `Bearer ${token}`);
    return true;
  }
}

async function collect(res: IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    if (size < MAX_COLLECT) parts.push(chunk);
    size += chunk.length;
  }
  return Buffer.concat(parts);
}
