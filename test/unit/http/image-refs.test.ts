import { describe, expect, it } from 'vitest';
import { parseImageRef } from '../../../src/http/cr/image-refs.js';
import { ManagementError } from '../../../src/registry/management-errors.js';

const HOSTS = ['us.registry.example', '127.0.0.1:5000'];
const D = `sha256:${'a'.repeat(64)}`;

describe('parseImageRef: full image references of the management API', () => {
  it.each<[string, string, string, unknown]>([
    ['us.registry.example/ns/app:1.0', 'ns/app', 'ns', { kind: 'tag', tag: '1.0' }],
    ['127.0.0.1:5000/ns/app/deep:v', 'ns/app/deep', 'ns', { kind: 'tag', tag: 'v' }],
    ['US.Registry.Example/ns/app', 'ns/app', 'ns', { kind: 'tag', tag: 'latest' }],
    ['ns/app:2', 'ns/app', 'ns', { kind: 'tag', tag: '2' }],
  ])('%s', (text, repository, namespace, reference) => {
    expect(parseImageRef(text, HOSTS)).toMatchObject({ text, repository, namespace, reference });
  });

  it('reads a digest reference', () => {
    const ref = parseImageRef(`127.0.0.1:5000/ns/app@${D}`, HOSTS);
    expect(ref.reference).toMatchObject({ kind: 'digest', digest: { value: D } });
  });

  it.each([
    ['other.example/ns/app:1', 'CRG0032E'],
    ['127.0.0.1:5001/ns/app:1', 'CRG0032E'],
    ['us.registry.example/app:1', 'CRG0031E'],
    ['us.registry.example/NS/app:1', 'CRG0031E'],
    ['us.registry.example/ns/app:bad tag', 'CRG0031E'],
    ['us.registry.example/ns/app@sha256:short', 'CRG0031E'],
  ])('refuses %j with %s', (text, code) => {
    try {
      parseImageRef(text, HOSTS);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ManagementError);
      expect((error as ManagementError).code).toBe(code);
    }
  });
});
