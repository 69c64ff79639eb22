// The change feed against a real redis-server: replicas of a consumer share the events (each is
// handled once), a consumer that lagged past the stream's compaction is told to relist instead
// of silently skipping what was trimmed, and the entries of a consumer that died are taken over.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { Store, type StoredEvent } from '../../shared/store/store.ts';
import { ChangeFeed } from '../../shared/store/changefeed.ts';
import { createLogger } from '../../shared/log.ts';
import type { KubeObject } from '../../shared/types.ts';
import { eventually, startRedis, type RedisHandle } from '../helpers/cluster.ts';

let redis: RedisHandle;
const connections: Redis[] = [];
const feeds: ChangeFeed[] = [];
const log = createLogger('test', 'error');

const connect = () => {
  const c = new Redis(redis.url);
  connections.push(c);
  return c;
};
const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: {} });

function feed(keys: Keys, consumer: string, handle: (resource: string, events: StoredEvent[]) => Promise<void>, onGap: (resource: string) => Promise<void> = async () => undefined, claimIdleMs?: number): ChangeFeed {
  const f = new ChangeFeed({ keys, connection: connect(), group: 'g', consumer, resources: ['configmaps'], handleBatch: handle, onGap, log, claimIdleMs });
  feeds.push(f);
  return f;
}

test.before(async () => {
  redis = await startRedis();
});

test.after.always(async () => {
  await Promise.all(feeds.map((f) => f.stop()));
  for (const c of connections) c.disconnect();
  await redis?.stop();
});

test('two consumers of a group share the events: each is handled exactly once', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  const store = new Store(connect(), keys);
  const seen = new Map<string, number>();
  const count = async (_: string, events: StoredEvent[]) => {
    for (const e of events) seen.set(e.object.metadata.name!, (seen.get(e.object.metadata.name!) ?? 0) + 1);
  };
  await feed(keys, 'a', count).start();
  await feed(keys, 'b', count).start();
  for (let i = 0; i < 300; i += 50) await Promise.all(Array.from({ length: 50 }, (_, j) => store.create('configmaps', cm(`c${i + j}`))));
  await eventually(() => seen.size === 300, { message: `${seen.size} of 300 seen` });
  await new Promise((r) => setTimeout(r, 300));
  t.is(seen.size, 300);
  t.deepEqual([...seen.values()].filter((n) => n !== 1), []);
});

test('a consumer that lagged past compaction is told to relist; it never skips trimmed events silently', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  // 100 events of history: the writes below outrun it many times over.
  const store = new Store(connect(), keys, 100);
  const handled = new Set<string>();
  let gaps = 0;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let first = true;
  const f = feed(keys, 'slow', async (_, events) => {
    if (first) {
      first = false;
      await held; // stuck on its first read while the stream moves on
    }
    for (const e of events) handled.add(e.object.metadata.name!);
  }, async () => {
    gaps++;
    // What a relist gives: every object that exists now.
    for (const o of (await store.list('configmaps', 'default')).items) handled.add(o.metadata.name!);
  });
  await f.start();
  gaps = 0; // start() relists once for the new group
  await store.create('configmaps', cm('first'));
  await eventually(() => !first);
  for (let i = 0; i < 2000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => store.create('configmaps', cm(`c${i + j}`))));
  t.true(await store.compactedResourceVersion('configmaps') > 0, 'the stream was compacted');
  release();
  await eventually(() => handled.size === 2001, { message: `${handled.size} of 2001 handled` });
  t.true(gaps >= 1);
});

test('entries a dead consumer read but never acknowledged are handled by another', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  const store = new Store(connect(), keys);
  // Its handler never returns, so it never acknowledges; stop() would wait on it for ever.
  const dead = new ChangeFeed({ keys, connection: connect(), group: 'g', consumer: 'dead', resources: ['configmaps'], handleBatch: () => new Promise<void>(() => undefined), onGap: async () => undefined, log });
  await dead.start();
  await store.create('configmaps', cm('orphan'));
  await eventually(async () => Number((await connect().xpending(keys.stream('configmaps'), 'g'))[0]) === 1, { message: 'the dead consumer never read the entry' });
  void dead.stop();
  const handled: string[] = [];
  await feed(keys, 'alive', async (_, events) => void handled.push(...events.map((e) => e.object.metadata.name!)), undefined, 500).start();
  await eventually(() => handled.includes('orphan'), { timeoutMs: 15_000, message: 'the pending entry was not taken over' });
  t.deepEqual(handled, ['orphan']);
});
