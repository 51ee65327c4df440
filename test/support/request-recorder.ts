import type { TestServer } from './server.js';

export interface RecordedRequest {
  method: string;
  url: string;
  status: number;
  /** The request's Content-Length, absent for a chunked (streamed) body. */
  contentLength?: string;
}

/**
 * Records every request the test server answers (method, raw URL, status), so a test can prove
 * how a client did something: e.g. that a blob was mounted, not uploaded again. `requests` holds
 * what came since the last `clear()`, `all` everything.
 */
export interface RequestRecorder {
  requests: RecordedRequest[];
  all: RecordedRequest[];
  clear(): void;
}

export function recordRequests(server: TestServer): RequestRecorder {
  const recorder: RequestRecorder = {
    requests: [],
    all: [],
    clear: () => void recorder.requests.splice(0),
  };
  server.berth.app.server.on('request', (req, res) => {
    // 'close' also fires for a response cut short, which 'finish' would miss.
    res.on('close', () => {
      const entry: RecordedRequest = { method: req.method ?? '', url: req.url ?? '', status: res.statusCode };
      if (req.headers['content-length'] !== undefined) entry.contentLength = req.headers['content-length'];
      recorder.requests.push(entry);
      recorder.all.push(entry);
    });
  });
  return recorder;
}

/** Requests answered with a 5xx: a client must never be able to cause one. */
export function serverErrors(requests: RecordedRequest[]): RecordedRequest[] {
  return requests.filter((r) => r.status >= 500);
}

/** Cross-repository mount requests (`POST …/blobs/uploads/?mount=<digest>&from=…`) into `repository`. */
export function mountsOf(requests: RecordedRequest[], repository: string, digest: string): Array<RecordedRequest & { from: string | null }> {
  return requests
    .filter((r) => r.method === 'POST' && r.url.startsWith(`/v2/${repository}/blobs/uploads/?`))
    .map((r) => ({ ...r, query: new URLSearchParams(r.url.slice(r.url.indexOf('?') + 1)) }))
    .filter(({ query }) => query.get('mount') === digest)
    .map(({ query, ...r }) => ({ ...r, from: query.get('from') }));
}
