import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type ConfigInput } from '../../src/config/config.js';

/** The ConfigError loadConfig throws for these inputs; fails the test when it does not throw one. */
function configError(flags: ConfigInput, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig(flags, env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('loadConfig accepted the settings');
}

describe('loadConfig defaults', () => {
  it('listens on 127.0.0.1:5000 with ./berth-data and SQLite', () => {
    const config = loadConfig({}, {});
    expect(config.host).toBe('127.0.0.1');
    expect(config.port).toBe(5000);
    expect(config.dataDir).toBe(resolve(process.cwd(), 'berth-data'));
    expect(config.databaseUrl).toBeUndefined();
    expect(config.logLevel).toBe('info');
    expect(config.registry.deleteEnabled).toBe(true);
    expect(config.registry.maxManifestBytes).toBe(4 * 1024 * 1024);
    expect(config.shutdownGraceSeconds).toBeGreaterThan(0);
  });

  it('reads the real environment when none is passed', () => {
    const saved = process.env.BERTH_PORT;
    process.env.BERTH_PORT = '5123';
    try {
      expect(loadConfig({}).port).toBe(5123);
    } finally {
      if (saved === undefined) delete process.env.BERTH_PORT;
      else process.env.BERTH_PORT = saved;
    }
  });
});

describe('loadConfig environment', () => {
  it('takes BERTH_HOST, BERTH_PORT, BERTH_DATA, BERTH_DATABASE_URL and BERTH_LOG_LEVEL', () => {
    const config = loadConfig(
      {},
      {
        BERTH_HOST: '0.0.0.0',
        BERTH_PORT: '6000',
        BERTH_DATA: '/var/lib/berth',
        BERTH_DATABASE_URL: 'postgres://berth@db:5432/berth',
        BERTH_LOG_LEVEL: 'warn',
      },
    );
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 6000,
      dataDir: '/var/lib/berth',
      databaseUrl: 'postgres://berth@db:5432/berth',
      logLevel: 'warn',
    });
  });

  it('resolves a relative BERTH_DATA against the working folder', () => {
    expect(loadConfig({}, { BERTH_DATA: 'data/here' }).dataDir).toBe(resolve(process.cwd(), 'data/here'));
  });

  it('accepts postgresql:// as well as postgres://', () => {
    expect(loadConfig({}, { BERTH_DATABASE_URL: 'postgresql://h/db' }).databaseUrl).toBe('postgresql://h/db');
  });

  it('reads BERTH_DELETE_ENABLED', () => {
    expect(loadConfig({}, { BERTH_DELETE_ENABLED: 'false' }).registry.deleteEnabled).toBe(false);
    expect(loadConfig({}, { BERTH_DELETE_ENABLED: 'yes' }).registry.deleteEnabled).toBe(true);
    expect(configError({}, { BERTH_DELETE_ENABLED: 'maybe' }).message).toContain('BERTH_DELETE_ENABLED');
  });

  it('reads BERTH_CHUNK_MIN_LENGTH (default 0: no minimum advertised)', () => {
    expect(loadConfig({}, {}).registry.chunkMinLength).toBe(0);
    expect(loadConfig({}, { BERTH_CHUNK_MIN_LENGTH: '5242880' }).registry.chunkMinLength).toBe(5242880);
    expect(configError({}, { BERTH_CHUNK_MIN_LENGTH: '5MB' }).message).toContain('BERTH_CHUNK_MIN_LENGTH');
  });

  it('reads BERTH_PUBLIC_URL (trailing slashes dropped) and BERTH_SECRET, refusing bad values', () => {
    expect(loadConfig({}, { BERTH_PUBLIC_URL: 'https://registry.example.com/' }).publicUrl).toBe('https://registry.example.com');
    expect(configError({}, { BERTH_PUBLIC_URL: 'registry.example.com' }).message).toContain('BERTH_PUBLIC_URL');
    expect(loadConfig({}, { BERTH_SECRET: 's'.repeat(32) }).secret).toBe('s'.repeat(32));
    expect(configError({}, { BERTH_SECRET: 'short' }).message).toContain('BERTH_SECRET');
    expect(loadConfig({}, {}).secret).toBeUndefined();
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({}, { BERTH_PORT: '', BERTH_HOST: '', BERTH_DATA: '', BERTH_DATABASE_URL: '', BERTH_LOG_LEVEL: '' });
    expect(config.port).toBe(5000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.dataDir).toBe(resolve(process.cwd(), 'berth-data'));
    expect(config.databaseUrl).toBeUndefined();
    expect(config.logLevel).toBe('info');
  });
});

describe('loadConfig flags', () => {
  const env = {
    BERTH_HOST: '0.0.0.0',
    BERTH_PORT: '6000',
    BERTH_DATA: '/from/env',
    BERTH_DATABASE_URL: 'postgres://env/db',
    BERTH_LOG_LEVEL: 'warn',
  };

  it('win over the environment', () => {
    const config = loadConfig(
      { host: '::1', port: '7000', data: '/from/flag', databaseUrl: 'postgres://flag/db', logLevel: 'debug', deleteEnabled: false },
      { ...env, BERTH_DELETE_ENABLED: 'true' },
    );
    expect(config).toMatchObject({
      host: '::1',
      port: 7000,
      dataDir: '/from/flag',
      databaseUrl: 'postgres://flag/db',
      logLevel: 'debug',
      registry: { deleteEnabled: false },
    });
  });

  it('accept a numeric port and port 0', () => {
    expect(loadConfig({ port: 8080 }, env).port).toBe(8080);
    expect(loadConfig({ port: 0 }, env).port).toBe(0);
    expect(loadConfig({ port: '65535' }, {}).port).toBe(65535);
  });
});

describe('loadConfig refusals name the setting', () => {
  it.each(['nope', '-1', '65536', '1.5', '', ' ', '0x50', '1e3', '80abc'])('refuses --port %j', (port) => {
    const error = configError({ port });
    expect(error.message).toContain('--port');
    expect(error.message).not.toMatch(/\n/);
  });

  it.each(['nope', '-1', '70000', '0x50'])('refuses BERTH_PORT=%j', (port) => {
    expect(configError({}, { BERTH_PORT: port }).message).toContain('BERTH_PORT');
  });

  it('refuses an unknown log level, naming flag or variable', () => {
    const fromFlag = configError({ logLevel: 'loud' });
    expect(fromFlag.message).toContain('--log-level');
    expect(fromFlag.message).toContain('loud');
    expect(configError({}, { BERTH_LOG_LEVEL: 'INFO' }).message).toContain('BERTH_LOG_LEVEL');
  });

  it.each(['mysql://h/db', 'sqlite:berth.db', 'http://h', 'postgres:/h/db', 'h:5432'])(
    'refuses the database URL %j',
    (url) => {
      expect(configError({}, { BERTH_DATABASE_URL: url }).message).toContain('BERTH_DATABASE_URL');
      expect(configError({ databaseUrl: url }).message).toContain('--database-url');
    },
  );

  it('does not echo a database URL, which may hold a password', () => {
    expect(configError({}, { BERTH_DATABASE_URL: 'mysql://root:hunter2@h/db' }).message).not.toContain('hunter2');
  });
});

describe('BERTH_WORKERS', () => {
  it('is one process unless set; auto is one per core; a number is that many', () => {
    expect(loadConfig({}, {}).workers).toBe(1);
    expect(loadConfig({}, { BERTH_WORKERS: 'auto' }).workers).toBe(availableParallelism());
    expect(loadConfig({}, { BERTH_WORKERS: '3' }).workers).toBe(3);
    expect(loadConfig({ workers: '2' }, { BERTH_WORKERS: '4' }).workers).toBe(2);
  });

  it.each(['0', '-1', '1.5', 'two', '65'])('refuses %j', (value) => {
    expect(configError({}, { BERTH_WORKERS: value }).message).toBe(`BERTH_WORKERS must be auto or a number from 1 to 64, got "${value}"`);
  });
});

describe('BERTH_REGIONS', () => {
  it('defaults to one region, us-south, on the main listener', () => {
    expect(loadConfig({}, {}).regions).toEqual([{ name: 'us-south' }]);
  });

  it('reads name[:port][=host] entries', () => {
    expect(loadConfig({}, { BERTH_REGIONS: 'us-south=us.reg.example, eu-de:5001,eu-gb:0=uk.reg.example:443' }).regions).toEqual([
      { name: 'us-south', host: 'us.reg.example' },
      { name: 'eu-de', port: 5001 },
      { name: 'eu-gb', port: 0, host: 'uk.reg.example:443' },
    ]);
  });

  it.each([
    ['US-South', 'BERTH_REGIONS entry'],
    ['a', 'BERTH_REGIONS entry'],
    ['us-south:99999', 'port above 65535'],
    ['us-south=bad host', 'invalid host'],
    ['us-south,us-south', 'twice'],
    ['a1:5001,b1:5001', 'same port'],
    [',', 'names no region'],
    ['us-south,eu-de:5000', "the main listener's"],
  ])('refuses %j', (value, message) => {
    expect(configError({}, { BERTH_REGIONS: value }).message).toContain(message);
  });

  it('takes BERTH_REGISTRY_TOKEN_MINUTES, in whole minutes', () => {
    expect(loadConfig({}, {}).registryTokenSeconds).toBe(900);
    expect(loadConfig({}, { BERTH_REGISTRY_TOKEN_MINUTES: '5' }).registryTokenSeconds).toBe(300);
    expect(configError({}, { BERTH_REGISTRY_TOKEN_MINUTES: '0' }).message).toContain('BERTH_REGISTRY_TOKEN_MINUTES');
    expect(configError({}, { BERTH_REGISTRY_TOKEN_MINUTES: 'soon' }).message).toContain('BERTH_REGISTRY_TOKEN_MINUTES');
  });
});

describe('BERTH_TRUSTED_PROXIES', () => {
  it('defaults to none', () => {
    expect(loadConfig({}, {}).trustedProxies).toEqual([]);
    expect(loadConfig({}, { BERTH_TRUSTED_PROXIES: '' }).trustedProxies).toEqual([]);
  });

  it('reads addresses, CIDRs and the named ranges, comma-separated', () => {
    expect(loadConfig({}, { BERTH_TRUSTED_PROXIES: '10.0.0.5, 10.1.0.0/16,fd00::/8 , ::1,Loopback,uniquelocal' }).trustedProxies).toEqual([
      '10.0.0.5',
      '10.1.0.0/16',
      'fd00::/8',
      '::1',
      'loopback',
      'uniquelocal',
    ]);
  });

  it.each(['proxy.example', '10.0.0', '10.0.0.0/33', 'fd00::/129', '10.0.0.0/0', '10.0.0.0/255.0.0.0', '10.0.0.0/', '*'])('refuses %j, naming the setting', (value) => {
    expect(configError({}, { BERTH_TRUSTED_PROXIES: value }).message).toMatch(/^BERTH_TRUSTED_PROXIES entry ".+" must/);
  });
});

describe('storage lifecycle settings', () => {
  it('default to a collection every 10 minutes with an hour of grace, 30 days of trash, the Standard plan and 100 MiB kept free', () => {
    const config = loadConfig({}, {});
    expect(config.gc).toEqual({ intervalMs: 600_000, delayMs: 3_600_000 });
    expect(config.trashDays).toBe(30);
    expect(config.defaultPlan).toBe('Standard');
    expect(config.diskReserveBytes).toBe(100 * 1024 * 1024);
  });

  it('read BERTH_GC_INTERVAL and BERTH_GC_DELAY as durations (0 allowed), flags first', () => {
    const env = { BERTH_GC_INTERVAL: '30s', BERTH_GC_DELAY: '0', BERTH_TRASH_DAYS: '0', BERTH_DEFAULT_PLAN: 'free', BERTH_DISK_RESERVE_MB: '8' };
    const config = loadConfig({}, env);
    expect(config.gc).toEqual({ intervalMs: 30_000, delayMs: 0 });
    expect(config.trashDays).toBe(0);
    expect(config.defaultPlan).toBe('Free');
    expect(config.diskReserveBytes).toBe(8 * 1024 * 1024);
    expect(loadConfig({ gcInterval: '0', gcDelay: '2h' }, env).gc).toEqual({ intervalMs: 0, delayMs: 7_200_000 });
  });

  it.each([
    [{}, { BERTH_GC_INTERVAL: '10' }, 'BERTH_GC_INTERVAL'],
    [{}, { BERTH_GC_DELAY: 'an hour' }, 'BERTH_GC_DELAY'],
    [{ gcDelay: '-1s' }, {}, '--gc-delay'],
    [{ gcInterval: '1.5m' }, {}, '--gc-interval'],
    [{}, { BERTH_TRASH_DAYS: '-1' }, 'BERTH_TRASH_DAYS'],
    [{}, { BERTH_DEFAULT_PLAN: 'gold' }, 'BERTH_DEFAULT_PLAN'],
    [{}, { BERTH_DISK_RESERVE_MB: 'lots' }, 'BERTH_DISK_RESERVE_MB'],
  ] as Array<[ConfigInput, NodeJS.ProcessEnv, string]>)('refuses %j %j, naming %s', (flags, env, setting) => {
    const error = configError(flags, env);
    expect(error.message.startsWith(setting)).toBe(true);
    expect(error.message).not.toMatch(/\n/);
  });
});

describe('audit retention setting', () => {
  it('keeps events forever unless BERTH_AUDIT_RETENTION (or --audit-retention, which wins) says otherwise', () => {
    expect(loadConfig({}, {}).audit).toEqual({ retentionMs: 0 });
    expect(loadConfig({}, { BERTH_AUDIT_RETENTION: '90d' }).audit).toEqual({ retentionMs: 90 * 86_400_000 });
    expect(loadConfig({ auditRetention: '12h' }, { BERTH_AUDIT_RETENTION: '90d' }).audit).toEqual({ retentionMs: 12 * 3_600_000 });
    expect(loadConfig({}, { BERTH_AUDIT_RETENTION: '' }).audit).toEqual({ retentionMs: 0 });
  });

  it.each([
    [{}, { BERTH_AUDIT_RETENTION: '90' }, 'BERTH_AUDIT_RETENTION'],
    [{}, { BERTH_AUDIT_RETENTION: 'forever' }, 'BERTH_AUDIT_RETENTION'],
    [{ auditRetention: '-1d' }, {}, '--audit-retention'],
  ] as Array<[ConfigInput, NodeJS.ProcessEnv, string]>)('refuses %j %j, naming %s', (flags, env, setting) => {
    const error = configError(flags, env);
    expect(error.message).toBe(`${setting} must be a duration such as 30s, 10m or 1h (or 0), got "${flags.auditRetention ?? env.BERTH_AUDIT_RETENTION}"`);
  });
});
