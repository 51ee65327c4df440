import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../src/http/request-log.js';

describe('redactUrl', () => {
  it('leaves a URL without a query untouched', () => {
    expect(redactUrl('/v2/library/ubuntu/manifests/latest')).toBe('/v2/library/ubuntu/manifests/latest');
  });

  it('leaves a query without secrets untouched, byte for byte', () => {
    const url = '/v2/a/blobs/uploads/?mount=sha256%3Aabc&from=b%2Fc';
    expect(redactUrl(url)).toBe(url);
  });

  it.each([
    'password',
    'Password',
    'PASSWORD',
    'passwd',
    'token',
    'access_token',
    'refresh_token',
    'apikey',
    'api_key',
    'apiKey',
    'secret',
    'client_secret',
    'code',
  ])('redacts the value of %s and keeps the other parameters', (key) => {
    const redacted = redactUrl(`/oauth/token?service=berth&${key}=hunter2&scope=repository%3Aa%3Apull`);
    expect(redacted).not.toContain('hunter2');
    const query = new URLSearchParams(redacted.slice(redacted.indexOf('?') + 1));
    expect(query.get(key)).toBe('[REDACTED]');
    expect(query.get('service')).toBe('berth');
    expect(query.get('scope')).toBe('repository:a:pull');
    expect(redacted.startsWith('/oauth/token?')).toBe(true);
  });

  it('redacts every occurrence of a repeated secret', () => {
    const redacted = redactUrl('/x?token=one&n=1&token=two');
    expect(redacted).not.toMatch(/one|two/);
    expect(new URLSearchParams(redacted.split('?')[1]).get('n')).toBe('1');
  });

  it('redacts a secret whose name is percent-encoded', () => {
    expect(redactUrl('/x?pass%77ord=hunter2')).not.toContain('hunter2');
  });

  it('keeps parameters whose names only contain a secret word', () => {
    const url = '/x?tokenizer=a&last=password&user=bob';
    expect(redactUrl(url)).toBe(url);
  });
});
