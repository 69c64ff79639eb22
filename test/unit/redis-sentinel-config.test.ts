// Redis Sentinel and WAIT settings: parsed once by loadConfig, turned into ioredis options by
// shared/redis.ts (pure: no connection is made here).
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, ConfigError } from '../../shared/config.ts';
import { reconnectOnReadonly, redisTarget, targetOptions } from '../../shared/redis.ts';
import { storeFailure } from '../../shared/errors.ts';

test('without sentinels: one Redis at REDIS_URL, no WAIT', (t) => {
  const c = loadConfig({});
  t.is(c.common.redisSentinel, undefined);
  t.like(c.common, { redisWaitReplicas: 0, redisWaitTimeoutMs: 1000 });
  t.deepEqual(redisTarget(c.common), { url: 'redis://127.0.0.1:6379', sentinel: undefined });
  t.deepEqual(targetOptions(redisTarget(c.common)), {});
});

test('sentinels, master name, WAIT replicas and timeout', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-sentinel-config-'));
  writeFileSync(join(dir, 'pw'), 's3cret\n');
  writeFileSync(join(dir, 'spw'), 'sentinel-pw\n');
  const c = loadConfig({
    REDIS_URL: 'redis://wharf-api@ignored:6379/2',
    WHARF_REDIS_PASSWORD_FILE: join(dir, 'pw'),
    WHARF_REDIS_SENTINELS: 'redis-a:26379, 10.0.0.2:26380,[::1]:26381',
    WHARF_REDIS_MASTER_NAME: 'wharf',
    WHARF_REDIS_SENTINEL_PASSWORD_FILE: join(dir, 'spw'),
    WHARF_REDIS_WAIT_REPLICAS: '1',
    WHARF_REDIS_WAIT_TIMEOUT: '500ms',
  });
  t.deepEqual(c.common.redisSentinel, {
    sentinels: [{ host: 'redis-a', port: 26379 }, { host: '10.0.0.2', port: 26380 }, { host: '::1', port: 26381 }],
    masterName: 'wharf',
    sentinelUsername: undefined,
    sentinelPassword: 'sentinel-pw',
  });
  t.like(c.common, { redisWaitReplicas: 1, redisWaitTimeoutMs: 500 });
  // With sentinels a write waits for one replica unless told otherwise; 0 turns it off.
  t.is(loadConfig({ WHARF_REDIS_SENTINELS: 'a:1', WHARF_REDIS_MASTER_NAME: 'm' }).common.redisWaitReplicas, 1);
  t.is(loadConfig({ WHARF_REDIS_SENTINELS: 'a:1', WHARF_REDIS_MASTER_NAME: 'm', WHARF_REDIS_WAIT_REPLICAS: '0' }).common.redisWaitReplicas, 0);
  // The user, password and database come from REDIS_URL; the address from the sentinels.
  t.like(targetOptions(redisTarget(c.common)), { name: 'wharf', role: 'master', username: 'wharf-api', password: 's3cret', db: 2, sentinelPassword: 'sentinel-pw' });
});

test('bad sentinel settings are ConfigErrors naming the variable', (t) => {
  const bad = (env: Record<string, string>, variable: string, message: RegExp) => {
    const err = t.throws(() => loadConfig(env), { instanceOf: ConfigError });
    t.is(err!.variable, variable);
    t.regex(err!.message, message);
  };
  bad({ WHARF_REDIS_SENTINELS: 'redis-a' }, 'WHARF_REDIS_SENTINELS', /expected host:port,host:port,..., got "redis-a"/);
  bad({ WHARF_REDIS_SENTINELS: 'redis-a:0' }, 'WHARF_REDIS_SENTINELS', /got "redis-a:0"/);
  bad({ WHARF_REDIS_SENTINELS: 'redis-a:26379' }, 'WHARF_REDIS_MASTER_NAME', /needed with WHARF_REDIS_SENTINELS/);
  bad({ WHARF_REDIS_MASTER_NAME: 'wharf' }, 'WHARF_REDIS_MASTER_NAME', /needs WHARF_REDIS_SENTINELS/);
  bad({ WHARF_REDIS_SENTINELS: 'a:1', WHARF_REDIS_MASTER_NAME: 'm', WHARF_REDIS_SENTINEL_PASSWORD_FILE: '/nonexistent/pw' }, 'WHARF_REDIS_SENTINEL_PASSWORD_FILE', /cannot read/);
  bad({ WHARF_REDIS_WAIT_REPLICAS: '-1' }, 'WHARF_REDIS_WAIT_REPLICAS', /expected an integer from 0/);
  bad({ WHARF_REDIS_WAIT_TIMEOUT: '0' }, 'WHARF_REDIS_WAIT_TIMEOUT', /above 0/);
  // A WAIT as long as the API server's Redis timeout would fail as an unanswered Redis instead.
  bad({ WHARF_REDIS_WAIT_REPLICAS: '1', WHARF_REDIS_WAIT_TIMEOUT: '5s' }, 'WHARF_REDIS_WAIT_TIMEOUT', /shorter than WHARF_API_REDIS_TIMEOUT \(5000ms\)/);
  t.notThrows(() => loadConfig({ WHARF_REDIS_WAIT_REPLICAS: '1', WHARF_REDIS_WAIT_TIMEOUT: '5s', WHARF_API_REDIS_TIMEOUT: '10s' }));
});

test('a READONLY reply (a demoted primary) reconnects: re-sent where commands queue, failed (503) where they do not', (t) => {
  const readonly = new Error("READONLY You can't write against a read only replica.");
  t.is(reconnectOnReadonly(true)(readonly), 2);
  t.is(reconnectOnReadonly(false)(readonly), 1);
  t.is(reconnectOnReadonly(true)(new Error('WRONGTYPE Operation against a key holding the wrong kind of value')), false);
  t.is(storeFailure(readonly)?.code, 503);
  t.is(storeFailure(new Error('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no'))?.code, 503);
});
