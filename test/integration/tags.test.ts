import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectOciError, MT, OciClient, randomBlob, repoName } from '../support/oci-client.js';
import { startTestServer, type TestServer } from '../support/server.js';

describe('tags list', () => {
  let server: TestServer;
  let oci: OciClient;
  const name = repoName('tags');
  // Bytewise order: digits < upper case < '_' < lower case.
  const sorted = ['1.0', '10', '2', 'Latest', 'V2', '_under', 'a', 'a-b', 'a.b', 'a_b', 'b', 'latest'];

  beforeAll(async () => {
    server = await startTestServer();
    oci = new OciClient(server.url);
    const image = await oci.pushImage(name);
    // Pushed out of order, so an unsorted store would show.
    for (const tag of [...sorted].reverse()) await oci.pushManifest(name, tag, image.bytes, MT.ociManifest);
  });
  afterEach(async () => expect(await server.serverErrors()).toEqual([]));
  afterAll(async () => server.close());

  async function list(query = ''): Promise<Response> {
    return oci.fetch(`/v2/${name}/tags/list${query}`);
  }

  it('lists every tag, sorted bytewise, without Link', async () => {
    const response = await list();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json\b/);
    expect(response.headers.get('link')).toBeNull();
    expect(await response.json()).toEqual({ name, tags: sorted });
  });

  it('pages with n and last, each page linking to the next', async () => {
    const seen: string[] = [];
    let next: string | undefined = `/v2/${name}/tags/list?n=5`;
    const links: string[] = [];
    while (next !== undefined) {
      const response = await oci.fetch(next);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { name: string; tags: string[] };
      expect(body.name).toBe(name);
      expect(body.tags.length).toBeLessThanOrEqual(5);
      seen.push(...body.tags);
      const link = response.headers.get('link');
      next = link === null ? undefined : /^<([^>]+)>; rel="next"$/.exec(link)![1];
      if (link !== null) links.push(link);
    }
    expect(seen).toEqual(sorted);
    expect(links).toEqual([
      `</v2/${name}/tags/list?n=5&last=V2>; rel="next"`,
      `</v2/${name}/tags/list?n=5&last=a_b>; rel="next"`,
    ]);
  });

  it('a page that ends exactly at the last tag has no Link', async () => {
    const response = await list(`?n=${sorted.length}`);
    expect(response.headers.get('link')).toBeNull();
    expect(((await response.json()) as { tags: string[] }).tags).toEqual(sorted);
  });

  it('last alone lists what follows it', async () => {
    const response = await list('?last=a_b');
    expect(await response.json()).toEqual({ name, tags: ['b', 'latest'] });
    expect(response.headers.get('link')).toBeNull();
  });

  it('last need not be an existing tag', async () => {
    const response = await list('?n=2&last=Z');
    expect(await response.json()).toEqual({ name, tags: ['_under', 'a'] });
    expect(response.headers.get('link')).toBe(`</v2/${name}/tags/list?n=2&last=a>; rel="next"`);
  });

  it('last after every tag gives an empty list', async () => {
    const response = await list('?last=zzz');
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name, tags: [] });
  });

  it('n=0 gives an empty list without Link', async () => {
    const response = await list('?n=0');
    expect(response.status).toBe(200);
    expect(response.headers.get('link')).toBeNull();
    expect(await response.json()).toEqual({ name, tags: [] });
  });

  it.each(['-1', 'abc', '1.5', '1e3'])('n=%s is 400 PAGINATION_NUMBER_INVALID', async (n) => {
    await expectOciError(await list(`?n=${n}`), 400, 'PAGINATION_NUMBER_INVALID');
  });

  it('an unknown repository is 404 NAME_UNKNOWN', async () => {
    await expectOciError(await oci.fetch(`/v2/${repoName('nobody')}/tags/list`), 404, 'NAME_UNKNOWN');
    await expectOciError(await oci.fetch(`/v2/${repoName('nobody')}/tags/list?n=0`), 404, 'NAME_UNKNOWN');
  });

  it('a repository with manifests but no tags lists none', async () => {
    const untagged = repoName('untagged');
    await oci.pushImage(untagged);
    const response = await oci.fetch(`/v2/${untagged}/tags/list`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ name: untagged, tags: [] });
  });

  it('a nested repository name is listed under its full name', async () => {
    const nested = `${repoName('org')}/sub/app`;
    await oci.pushImage(nested, 'v1');
    const response = await oci.fetch(`/v2/${nested}/tags/list`);
    expect(await response.json()).toEqual({ name: nested, tags: ['v1'] });
  });

  it('a fresh tag shows up at once', async () => {
    const other = repoName('fresh');
    await oci.pushBlob(other, randomBlob(4));
    await oci.pushImage(other, 'only');
    expect(await (await oci.fetch(`/v2/${other}/tags/list`)).json()).toEqual({ name: other, tags: ['only'] });
  });
});
