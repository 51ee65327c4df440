import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectOciError, OciClient, randomBlob } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('catalog', () => {
  let server: TestServer;
  let oci: OciClient;
  // Bytewise order; nested names sort by their full path.
  const repositories = ['a', 'a-b', 'a/b', 'a/b/c', 'ab', 'b', 'b.c', 'z'];

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
    for (const name of [...repositories].reverse()) await oci.pushImage(name, 'v1');
    // A repository with blobs but no manifest is not listed.
    await oci.pushBlob('blobs-only', randomBlob(8));
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  it('lists repositories with manifests, sorted bytewise, without Link', async () => {
    const response = await oci.fetch('/v2/_catalog');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(response.headers.get('link')).toBeNull();
    expect(await response.json()).toEqual({ repositories });
  });

  it('pages with n and last, each page linking to the next', async () => {
    const first = await oci.fetch('/v2/_catalog?n=3');
    expect(await first.json()).toEqual({ repositories: ['a', 'a-b', 'a/b'] });
    expect(first.headers.get('link')).toBe('</v2/_catalog?n=3&last=a%2Fb>; rel="next"');

    const second = await oci.fetch('/v2/_catalog?n=3&last=a%2Fb');
    expect(await second.json()).toEqual({ repositories: ['a/b/c', 'ab', 'b'] });
    expect(second.headers.get('link')).toBe('</v2/_catalog?n=3&last=b>; rel="next"');

    const third = await oci.fetch('/v2/_catalog?n=3&last=b');
    expect(await third.json()).toEqual({ repositories: ['b.c', 'z'] });
    expect(third.headers.get('link')).toBeNull();
  });

  it('following Link visits every repository once', async () => {
    const seen: string[] = [];
    let next: string | undefined = '/v2/_catalog?n=2';
    while (next !== undefined) {
      const response = await oci.fetch(next);
      seen.push(...((await response.json()) as { repositories: string[] }).repositories);
      const link = response.headers.get('link');
      next = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)![1];
    }
    expect(seen).toEqual(repositories);
  });

  it('n=0 gives an empty list without Link', async () => {
    const response = await oci.fetch('/v2/_catalog?n=0');
    expect(response.status).toBe(200);
    expect(response.headers.get('link')).toBeNull();
    expect(await response.json()).toEqual({ repositories: [] });
  });

  it('last after every name gives an empty list', async () => {
    expect(await (await oci.fetch('/v2/_catalog?last=zz')).json()).toEqual({ repositories: [] });
  });

  it.each(['-1', 'x'])('n=%s is 400 PAGINATION_NUMBER_INVALID', async (n) => {
    await expectOciError(await oci.fetch(`/v2/_catalog?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
  });
});
