import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../src/config/config.js';
import { repoRoot } from '../../support/paths.js';

const folder = mkdtempSync(join(tmpdir(), 'berth-config-'));
let count = 0;
function file(text: string, extension = 'yaml'): string {
  const path = join(folder, `config-${count++}.${extension}`);
  writeFileSync(path, text);
  return path;
}

function refusal(config: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadConfig({ config }, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toMatch(/\n/);
    return (error as Error).message;
  }
  throw new Error('loadConfig accepted the config file');
}

describe('berth serve --config', () => {
  it('reads every kind of setting from YAML, paths relative to the file', () => {
    const path = file(['port: 5077', 'data: ./d', 'delete-enabled: false', 'audit-retention: 90d', 'trusted-proxies: [10.0.0.0/8, loopback]', 'regions:', '  - us-south', '  - {name: eu-de, port: 5078, host: de.reg.example}'].join('\n'));
    const config = loadConfig({ config: path }, {});
    expect(config).toMatchObject({ port: 5077, dataDir: join(folder, 'd'), configFile: path, trustedProxies: ['10.0.0.0/8', 'loopback'] });
    expect(config.registry.deleteEnabled).toBe(false);
    expect(config.audit.retentionMs).toBe(90 * 86_400_000);
    expect(config.regions).toEqual([{ name: 'us-south' }, { name: 'eu-de', port: 5078, host: 'de.reg.example' }]);
  });

  it('lets variables override the file, and flags override both; BERTH_CONFIG names the file too', () => {
    const path = file('port: 5077\nhost: 10.1.1.1\n');
    expect(loadConfig({}, { BERTH_CONFIG: path }).port).toBe(5077);
    expect(loadConfig({ config: path }, { BERTH_PORT: '6000' })).toMatchObject({ port: 6000, host: '10.1.1.1' });
    expect(loadConfig({ config: path, port: 7000 }, { BERTH_PORT: '6000' }).port).toBe(7000);
    // An empty variable is unset, so the file's value stands.
    expect(loadConfig({ config: path }, { BERTH_PORT: '' }).port).toBe(5077);
  });

  it('reads JSON when the file ends in .json', () => {
    expect(loadConfig({ config: file('{"port": 5099, "gc-interval": "0"}', 'json') }, {})).toMatchObject({ port: 5099, gc: { intervalMs: 0 } });
  });

  it.each([
    ['prot: 5000', /unknown setting "prot" in .*\(did you mean port\?\)/],
    ['colour: blue', /^unknown setting "colour" in \S+$/],
    ['port: 99999', /^port in \S+ must be a port number between 0 and 65535, got "99999"$/],
    ['port: [1, 2]', /^port in \S+ must be a single value, not a list$/],
    ['storage: {kind: s3}', /^storage in \S+ must be a single value, not a map$/],
    ['storage: s3', /^BERTH_S3_BUCKET must name the bucket when storage in \S+ is s3$/],
    ['regions: [{name: eu-de, zone: 1}]', /^regions in \S+, entry 1, has an unknown key "zone"/],
    ['- port', /must hold a map of settings/],
    ['port: [', /is not valid YAML/],
  ])('refuses %j in one line naming the key', (text, message) => {
    expect(refusal(file(text))).toMatch(message);
  });

  it('refuses bad JSON and a missing file, naming the file', () => {
    expect(refusal(file('{"port": 1,', 'json'))).toMatch(/config-\d+\.json is not valid JSON/);
    expect(refusal(join(folder, 'missing.yaml'))).toMatch(/cannot read the config file .*missing\.yaml: ENOENT/);
  });

  it('treats an empty file and an empty key as setting nothing', () => {
    expect(loadConfig({ config: file('') }, {}).port).toBe(5000);
    expect(loadConfig({ config: file('port:\n') }, {}).port).toBe(5000);
  });
});

describe('examples/', () => {
  const examples = readdirSync(join(repoRoot, 'examples')).filter((name) => /\.(ya?ml|json)$/.test(name));

  it('holds a config for each deployment shape', () => {
    expect(examples.sort()).toEqual(['cluster.json', 'embedded.yaml', 'regions.yaml', 'tls.yaml']);
  });

  it.each(examples)('%s loads', (name) => {
    const config = loadConfig({ config: join(repoRoot, 'examples', name) }, {});
    expect(config.configFile).toBe(join(repoRoot, 'examples', name));
    if (name === 'cluster.json') expect(config).toMatchObject({ databaseUrl: 'postgres://berth@db.internal:5432/berth', storage: { kind: 's3', s3: { bucket: 'berth-blobs', prefix: 'prod/' } } });
    if (name === 'regions.yaml') expect(config.regions.map((region) => region.name)).toEqual(['us-south', 'eu-de', 'eu-gb']);
    if (name === 'tls.yaml') expect(config.tls).toEqual({ certPath: '/etc/berth/tls/fullchain.pem', keyPath: '/etc/berth/tls/privkey.pem' });
  });
});
