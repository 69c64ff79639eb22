// The change feed against a real redis-server: replicas of a consumer share the events (each is
// handled once), a consumer that lagged past the stream's compaction is told to relist instead
// of silently skipping what was trimmed, and the entries of a consumer that died are taken over.
// A feed following several resources reads them all in one script call per pass, and a gap on
// one stream relists only that resource; one killed mid-relist leaves the gap to the next reader. An informer says when its cache holds what the stream holds.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { Store, type StoredEvent } from '../../shared/store/store.ts';
import { ChangeFeed } from '../../shared/store/changefeed.ts';
import { Informer } from '../../shared/store/informer.ts';
import { createLogger } from '../../shared/log.ts';
import type { KubeObject, Pod } from '../../shared/types.ts';
import { nodeViewShard } from '../../shared/api/podutil.ts';
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
/** A store whose default namespace exists, as the API server makes it (admission refuses objects of a missing namespace). */
async function clusterStore(store: Store): Promise<Store> {
  await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  return store;
}

const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: {} });
const secret = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data: {} });
const lease = (name: string): KubeObject => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'default' }, spec: {} } as KubeObject);

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
  const store = await clusterStore(new Store(connect(), keys));
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
  const store = await clusterStore(new Store(connect(), keys, 100));
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

test('a consumer killed while relisting after a gap leaves the gap to the next reader of its group', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys, 100));
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let first = true;
  let relisting = false;
  // Its first read is held while the stream is compacted past it; its relist then never ends,
  // as if the process died in the middle of it. Never stopped: stop() would wait on the relist.
  const dying = new ChangeFeed({
    keys, connection: connect(), group: 'g', consumer: 'dying', resources: ['configmaps'], log,
    handleBatch: async () => {
      if (first) {
        first = false;
        await held;
      }
    },
    onGap: async () => {
      if (!started) return; // start()'s relist of the new group
      relisting = true;
      await new Promise<void>(() => undefined);
    },
  });
  let started = false;
  await dying.start();
  started = true;
  await store.create('configmaps', cm('first'));
  await eventually(() => !first);
  for (let i = 0; i < 1000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => store.create('configmaps', cm(`c${i + j}`))));
  release();
  await eventually(() => relisting, { message: 'the first consumer found the gap' });

  const handled = new Set<string>();
  let gaps = 0;
  const next = feed(keys, 'next', async (_, events) => {
    for (const e of events) handled.add(e.object.metadata.name!);
  }, async () => {
    gaps++;
    for (const o of (await store.list('configmaps', 'default')).items) handled.add(o.metadata.name!);
  });
  await next.start(); // the group exists: no relist of its own at start
  await eventually(() => handled.size === 1001, { message: `${handled.size} of 1001 handled` });
  t.true(gaps >= 1, 'the next consumer found the gap the dying one left');
  await store.create('configmaps', cm('after'));
  await eventually(() => handled.has('after'), { message: 'events after the relist still arrive' });
});

test('entries a dead consumer read but never acknowledged are handled by another, on every stream it followed', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys));
  const resources = ['configmaps', 'secrets'];
  // Its handler never returns, so it never acknowledges; stop() would wait on it for ever.
  const dead = new ChangeFeed({ keys, connection: connect(), group: 'g', consumer: 'dead', resources, handleBatch: () => new Promise<void>(() => undefined), onGap: async () => undefined, log });
  await dead.start();
  await store.create('configmaps', cm('orphan'));
  await eventually(async () => Number((await connect().xpending(keys.stream('configmaps'), 'g'))[0]) === 1, { message: 'the dead consumer never read the configmap' });
  // The dead handler is stuck on the configmap: the secret's entry is read by the next consumer, so
  // leave a pending secret entry of its own too, as another dead consumer of the group would.
  await store.create('secrets', secret('orphan'));
  await connect().xreadgroup('GROUP', 'g', 'also-dead', 'COUNT', 10, 'STREAMS', keys.stream('secrets'), '>');
  void dead.stop();
  const handled: string[] = [];
  const alive = new ChangeFeed({
    keys, connection: connect(), group: 'g', consumer: 'alive', resources, log, claimIdleMs: 500, onGap: async () => undefined,
    handleBatch: async (resource, events) => void handled.push(...events.map((e) => `${resource}/${e.object.metadata.name}`)),
  });
  feeds.push(alive);
  await alive.start();
  await eventually(() => handled.length === 2, { timeoutMs: 15_000, message: 'the pending entries were not taken over' });
  t.deepEqual(handled.sort(), ['configmaps/orphan', 'secrets/orphan']);
});

test('consumers that died are removed from the group by the live ones, after their entries were taken over', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys));
  const stream = keys.stream('configmaps');
  const consumers = async () => ((await connect().xinfo('CONSUMERS', stream, 'g')) as unknown[][]).map((c) => String(c[1])).sort();
  const handled: string[] = [];
  const live = (name: string) => {
    const f = new ChangeFeed({
      keys, connection: connect(), group: 'g', consumer: name, resources: ['configmaps'], log, claimIdleMs: 500, consumerExpiryMs: 1_500, onGap: async () => undefined,
      handleBatch: async (_, events) => void handled.push(...events.map((e) => e.object.metadata.name!)),
    });
    feeds.push(f);
    return f;
  };
  // Two processes that died: one had read its events and acknowledged them, one read an entry
  // and never acknowledged it.
  const first = live('dead-idle');
  await first.start();
  await store.create('configmaps', cm('before'));
  await eventually(() => handled.includes('before'), { message: 'the first consumer handled its event' });
  await first.stop();
  await store.create('configmaps', cm('orphan'));
  await connect().xreadgroup('GROUP', 'g', 'dead-with-work', 'COUNT', 10, 'STREAMS', stream, '>');
  t.deepEqual(await consumers(), ['dead-idle', 'dead-with-work']);
  // Two live replicas, each removing what it finds dead.
  await live('b').start();
  await live('c').start();
  let last: string[] = [];
  // A live consumer with nothing to read is not seen by Redis (7.0 refreshes a consumer only when
  // it reads something), so one may be removed and come back with its next read: harmless, as
  // it has nothing pending. The dead never come back.
  await eventually(async () => (last = await consumers()).every((c) => !c.startsWith('dead-')), { timeoutMs: 20_000, message: 'the dead consumers were removed', detail: () => `consumers: ${last.join(', ')}` });
  t.deepEqual(handled, ['before', 'orphan'], 'the dead consumer\'s entry was handled once, before it was removed');
  await store.create('configmaps', cm('after'));
  await eventually(() => handled.includes('after'), { message: 'the group still works' });
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual(handled, ['before', 'orphan', 'after']);
});

test('a feed following several resources hands each resource its own events, one at a time and in order', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys));
  const seen = new Map<string, string[]>();
  const f = new ChangeFeed({
    keys, connection: connect(), group: 'g', consumer: 'one', resources: ['configmaps', 'secrets', 'leases'], log,
    handle: async (resource, event) => void seen.set(resource, [...(seen.get(resource) ?? []), `${event.object.kind}/${event.object.metadata.name}`]),
    onGap: async () => undefined,
  });
  feeds.push(f);
  await f.start();
  for (let i = 0; i < 30; i++) {
    await store.create('configmaps', cm(`c${i}`));
    await store.create('secrets', secret(`s${i}`));
    if (i % 3 === 0) await store.create('leases', lease(`l${i}`));
  }
  const want = {
    configmaps: Array.from({ length: 30 }, (_, i) => `ConfigMap/c${i}`),
    secrets: Array.from({ length: 30 }, (_, i) => `Secret/s${i}`),
    leases: Array.from({ length: 10 }, (_, i) => `Lease/l${i * 3}`),
  };
  await eventually(() => Object.entries(want).every(([r, names]) => (seen.get(r)?.length ?? 0) >= names.length), { message: JSON.stringify(Object.fromEntries([...seen].map(([r, n]) => [r, n.length]))) });
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual(Object.fromEntries(seen), want);
});

test('a gap on one of several streams relists only that resource; the others keep their events', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  // 100 events of history: the configmap writes below outrun it; the 20 secrets do not.
  const store = await clusterStore(new Store(connect(), keys, 100));
  const handled = new Map<string, Set<string>>([['configmaps', new Set()], ['secrets', new Set()]]);
  const gaps: string[] = [];
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let first = true;
  const f = new ChangeFeed({
    keys, connection: connect(), group: 'g', consumer: 'slow', resources: ['configmaps', 'secrets'], log,
    handleBatch: async (resource, events) => {
      if (first) {
        first = false;
        await held; // stuck on its first read while the streams move on
      }
      for (const e of events) handled.get(resource)!.add(e.object.metadata.name!);
    },
    onGap: async (resource) => {
      gaps.push(resource);
      for (const o of (await store.list(resource, 'default')).items) handled.get(resource)!.add(o.metadata.name!);
    },
  });
  feeds.push(f);
  await f.start();
  gaps.length = 0; // start() relists once per new group
  await store.create('configmaps', cm('first'));
  await eventually(() => !first);
  for (let i = 0; i < 20; i++) await store.create('secrets', secret(`s${i}`));
  for (let i = 0; i < 1000; i += 100) await Promise.all(Array.from({ length: 100 }, (_, j) => store.create('configmaps', cm(`c${i + j}`))));
  t.true(await store.compactedResourceVersion('configmaps') > 0, 'the configmaps stream was compacted');
  t.is(await store.compactedResourceVersion('secrets'), 0, 'the secrets stream was not');
  release();
  await eventually(() => handled.get('configmaps')!.size === 1001 && handled.get('secrets')!.size === 20, { message: `${handled.get('configmaps')!.size} of 1001 configmaps, ${handled.get('secrets')!.size} of 20 secrets` });
  t.true(gaps.includes('configmaps'));
  t.deepEqual(gaps.filter((r) => r !== 'configmaps'), [], 'only the compacted resource was relisted');
});

test('one read pass is one script call, however many resources the feed follows', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  const connection = connect();
  // The commands the feed's connection sends (the round trips it makes).
  const sent: string[] = [];
  const send = connection.sendCommand.bind(connection);
  connection.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    sent.push(command.name.toLowerCase());
    return (send as (...a: unknown[]) => unknown)(command, ...rest);
  }) as typeof connection.sendCommand;
  const f = new ChangeFeed({
    keys, connection, group: 'g', consumer: 'idle', resources: ['configmaps', 'secrets', 'leases', 'services', 'pods'], log,
    handleBatch: async () => undefined, onGap: async () => undefined,
  });
  feeds.push(f);
  await f.start();
  // Idle, each pass ends in an XREAD that blocks for 1 s: wait for two whole passes (however loaded the machine).
  await eventually(() => sent.filter((c) => c === 'xread').length >= 3, { timeoutMs: 20_000, message: 'three idle passes' });
  const reads = sent.filter((c) => c === 'evalsha' || c === 'eval' || c === 'xread');
  // Each pass is one EVALSHA, then the wait (ioredis retries with EVAL once if the script was not cached).
  const passes = reads.filter((c) => c !== 'eval').join(' ').split(' xread').map((s) => s.trim()).filter(Boolean);
  t.deepEqual(passes, passes.map(() => 'evalsha'), sent.join(' '));
});

test('an informer caught up holds every write made before the call, as a list made then would', async (t) => {
  const keys = new Keys(`inf-${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys, 10_000));
  await store.create('configmaps', cm('before-start'));
  const informer = new Informer({ store, resource: 'configmaps', connection: connect(), log });
  await informer.start();
  try {
    for (let round = 0; round < 5; round++) {
      await Promise.all(Array.from({ length: 3000 }, (_, i) => store.create('configmaps', cm(`r${round}-${i}`))));
      await store.delete('configmaps', 'default', `r${round}-0`);
      await informer.caughtUp();
      const listed = (await store.list('configmaps', 'default')).items.map((o) => o.metadata.name).sort();
      t.deepEqual(informer.list().map((o) => o.metadata.name).sort(), listed);
    }
  } finally {
    await informer.stop();
  }
});

test('an informer whose cursor falls behind the compaction mark lists again, and its cache then matches a list', async (t) => {
  const keys = new Keys(`inf-${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys, 10_000));
  const redis = connect();
  await store.create('configmaps', cm('kept'));
  await store.create('configmaps', cm('lost'));
  let lists = 0;
  const informer = new Informer({ store, resource: 'configmaps', connection: connect(), log, onRelist: () => lists++ });
  await informer.start();
  try {
    await informer.caughtUp();
    t.is(lists, 1);
    // What compaction does to a watcher behind it: a deletion it never reads (the object gone
    // without an event on the stream), and the mark past its cursor. The next event it reads
    // comes with the mark, and it must list instead of applying it.
    await redis.hdel(keys.objects('configmaps', 'default'), 'lost');
    await redis.set(keys.compacted('configmaps'), String(Number(await redis.get(keys.resourceVersion)) + 1));
    await store.create('configmaps', cm('after'));
    await eventually(() => lists === 2, { message: 'the informer listed again' });
    await informer.caughtUp();
    t.deepEqual(informer.list().map((o) => o.metadata.name).sort(), ['after', 'kept']);
  } finally {
    await informer.stop();
  }
});

test('a gathering informer brings a flow in batches, the first event at once; caughtUp ends the wait', async (t) => {
  const keys = new Keys(`inf-${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys, 10_000));
  const names = (informer: Informer) => informer.list().map((o) => o.metadata.name).sort();
  const informer = new Informer({ store, resource: 'configmaps', connection: connect(), log, gatherMs: 60_000 });
  await informer.start();
  try {
    const quiet = Date.now();
    await store.create('configmaps', cm('first'));
    await eventually(() => names(informer).includes('first'), { message: 'the first event after a quiet spell' });
    const firstMs = Date.now() - quiet;
    t.true(firstMs < 5_000, `the first event took ${firstMs} ms`);
    // The read after it waits out the gather: the next events are not read yet.
    await store.create('configmaps', cm('second'));
    await store.create('configmaps', cm('third'));
    await new Promise((r) => setTimeout(r, 500));
    t.deepEqual(names(informer), ['first']);
    const asked = Date.now();
    t.true(await informer.caughtUp(Date.now() + 10_000));
    t.true(Date.now() - asked < 5_000, `caught up after ${Date.now() - asked} ms`);
    t.deepEqual(names(informer), ['first', 'second', 'third']);
  } finally {
    await informer.stop();
  }
});

test('an informer that keeps no objects hands over the list and every event, and refuses list()', async (t) => {
  const keys = new Keys(`inf-${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys, 10_000));
  await store.create('configmaps', cm('listed'));
  const own = new Map<string, string | undefined>();
  const informer = new Informer({
    store,
    resource: 'configmaps',
    connection: connect(),
    log,
    keepObjects: false,
    onRelist: (items) => {
      own.clear();
      for (const o of items) own.set(o.metadata.name!, o.metadata.resourceVersion);
    },
    onEvents: (events) => {
      for (const ev of events) {
        if (ev.type === 'DELETED') own.delete(ev.object.metadata.name!);
        else own.set(ev.object.metadata.name!, ev.object.metadata.resourceVersion);
      }
    },
  });
  await informer.start();
  try {
    await store.create('configmaps', cm('added'));
    await store.delete('configmaps', 'default', 'listed');
    t.true(await informer.caughtUp(Date.now() + 10_000));
    const { items } = await store.list('configmaps', 'default');
    t.deepEqual([...own].sort(), items.map((o) => [o.metadata.name!, o.metadata.resourceVersion] as [string, string | undefined]).sort());
    t.throws(() => informer.list(), { message: /keeps no objects/ });
  } finally {
    await informer.stop();
  }
});

/**
 * Writes `count` ConfigMaps one at a time, `spacingMs` apart, after one that starts the trickle;
 * returns how long the first took to be seen, how many deliveries brought the rest, and how long
 * writing them took.
 */
async function trickle(store: Store, prefix: string, count: number, spacingMs: number, seen: Map<string, number>, deliveries: () => number) {
  const writtenAt = Date.now();
  await store.create('configmaps', cm(`${prefix}-first`));
  await eventually(() => seen.has(`${prefix}-first`), { message: 'the first event' });
  const firstMs = seen.get(`${prefix}-first`)! - writtenAt;
  const before = deliveries();
  const writing = Date.now();
  for (let i = 0; i < count; i++) {
    await store.create('configmaps', cm(`${prefix}-${i}`));
    await new Promise((r) => setTimeout(r, spacingMs));
  }
  const writeMs = Date.now() - writing;
  await eventually(() => Array.from({ length: count }, (_, i) => `${prefix}-${i}`).every((n) => seen.has(n)), { message: 'the trickle' });
  return { firstMs, deliveries: deliveries() - before, writeMs };
}

// Long enough that a loaded machine's first delivery comes well within it.
const GATHER_MS = 3000;

test('a gathering feed hands a trickle over in a burst or two, and the first event after a quiet spell at once', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys));
  const seen = new Map<string, number>();
  let batches = 0;
  const f = new ChangeFeed({
    keys, connection: connect(), group: 'g', consumer: 'gatherer', resources: ['configmaps'], log, gatherMs: GATHER_MS, onGap: async () => undefined,
    handleBatch: async (_, events) => {
      batches++;
      for (const e of events) seen.set(e.object.metadata.name!, Date.now());
    },
  });
  feeds.push(f);
  await f.start();
  // 10 writes 20 ms apart: each wait gathers what the writes made meanwhile, so the deliveries are
  // one per wait the writing spanned, and one more for a wait it straddled (10 without waiting).
  const { firstMs, deliveries, writeMs } = await trickle(store, 'g', 10, 20, seen, () => batches);
  t.true(firstMs < GATHER_MS, `the first event took ${firstMs} ms`);
  t.true(deliveries <= 2 + Math.floor(writeMs / GATHER_MS), `${deliveries} deliveries for 10 events written in ${writeMs} ms`);
});

test('a gathering feed reads a backlog on at once and waits after any pass that read less than in full', async (t) => {
  const keys = new Keys(`f${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys));
  const batches: { size: number; at: number }[] = [];
  const f = new ChangeFeed({
    keys, connection: connect(), group: 'g', consumer: 'gatherer', resources: ['configmaps'], log, gatherMs: GATHER_MS, onGap: async () => undefined,
    handleBatch: async (_, events) => void batches.push({ size: events.length, at: Date.now() }),
  });
  feeds.push(f);
  await f.start();
  const delivered = () => batches.reduce((sum, b) => sum + b.size, 0);
  await store.create('configmaps', cm('first'));
  await eventually(() => delivered() === 1, { message: 'the first event' });
  // Written while the feed waits after the first: two full reads (200 each) and a partial one of 80.
  for (let i = 0; i < 480; i += 60) await Promise.all(Array.from({ length: 60 }, (_, j) => store.create('configmaps', cm(`backlog-${i + j}`))));
  await eventually(() => delivered() === 481, { message: 'the backlog', timeoutMs: 4 * GATHER_MS });
  // The pass of 80 is followed by a wait, though 80 events are far from a trickle.
  await store.create('configmaps', cm('after'));
  await eventually(() => delivered() === 482, { message: 'the event after the backlog', timeoutMs: 4 * GATHER_MS });
  const sizes = batches.map((b) => b.size);
  const fullAt = batches.findIndex((b) => b.size === 200);
  t.true(fullAt > 0, `a full read among ${sizes.join(', ')}`);
  for (let i = 0; i + 1 < batches.length; i++) {
    const gap = batches[i + 1].at - batches[i].at;
    // A full read is followed at once; any other, only after the wait.
    if (batches[i].size === 200) t.true(gap < GATHER_MS / 2, `${gap} ms after a full read (${sizes.join(', ')})`);
    else t.true(gap >= GATHER_MS - 50, `${gap} ms after a read of ${batches[i].size} (${sizes.join(', ')})`);
  }
});

test('an informer of the pods\' sharded view reads the shards it follows as they change, the others when caught up; a view moving shards leaves one as it enters the other', async (t) => {
  const keys = new Keys(`inf-${randomBytes(3).toString('hex')}`);
  const store = await clusterStore(new Store(connect(), keys, 10_000));
  await store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' }, automountServiceAccountToken: false } as KubeObject);
  // Two nodes of different shards.
  const names = Array.from({ length: 40 }, (_, i) => `n-${i}`);
  const followedNode = names[0];
  const otherNode = names.find((n) => nodeViewShard(n) !== nodeViewShard(followedNode))!;
  for (const name of [followedNode, otherNode]) await store.create('nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name }, status: { allocatable: { cpu: '4', memory: '8Gi', pods: '10' } } } as KubeObject);
  const pod = (name: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'x' }] } }) as Pod;
  const informer = new Informer<Pod>({ store, resource: 'pods', view: true, connection: connect(), log });
  await informer.start();
  try {
    informer.follow([keys.viewOf('pods'), keys.viewOf('pods', String(nodeViewShard(followedNode)))]);
    const placed = () => new Map(informer.list().map((p) => [p.metadata.name, p.spec.nodeName ?? `nominated ${p.status?.nominatedNodeName}`]));
    await store.bindPod(await store.create('pods', pod('here')), followedNode);
    await store.bindPod(await store.create('pods', pod('there')), otherNode);
    // Nominated on the followed node (the common stream), then bound on the other one.
    const moving = await store.create('pods', pod('moving'));
    const nominated = await store.guaranteedUpdate<Pod>('pods', 'default', 'moving', (cur) => ({ ...cur, status: { ...cur.status, nominatedNodeName: followedNode } }), { subresource: 'status' });
    await eventually(async () => placed().get('here') === followedNode && placed().get('moving') === `nominated ${followedNode}`, { message: 'the followed shard and the common stream read as they change' });
    const bound = await store.bindPod(nominated, otherNode);
    await eventually(async () => !placed().has('moving'), { message: 'the nominated view left the common stream' });
    t.false(placed().has('there'), 'a placement on a shard not followed is not read as it happens');
    t.true(await informer.caughtUp());
    t.is(placed().get('there'), otherNode);
    t.is(placed().get('moving'), otherNode);
    const listed = (await store.listView<Pod>('pods')).items.map((p) => `${p.metadata.name} ${p.spec.nodeName}`).sort();
    t.deepEqual(informer.list().map((p) => `${p.metadata.name} ${p.spec.nodeName}`).sort(), listed);
    // One write, one resourceVersion, on both streams.
    const [[, leftFields]] = (await connect().xrange(keys.stream(keys.viewOf('pods')), bound.metadata.resourceVersion!, bound.metadata.resourceVersion!)) as [string, string[]][];
    const [[, enteredFields]] = (await connect().xrange(keys.stream(keys.viewOf('pods', String(nodeViewShard(otherNode)))), bound.metadata.resourceVersion!, bound.metadata.resourceVersion!)) as [string, string[]][];
    t.is(leftFields[1], 'DELETED');
    t.is(enteredFields[1], 'ADDED');
    // The other order: the new shard read as it changes, the common stream (nominated, then left) only when caught up.
    await store.bindPod(await store.create('pods', pod('before-following')), otherNode);
    t.false(placed().has('before-following'));
    informer.follow([keys.viewOf('pods', String(nodeViewShard(otherNode)))]);
    // Read when followed, not when the loop's blocking read on the old streams ends (5 s, nothing written there).
    await eventually(async () => placed().get('before-following') === otherNode, { message: 'what a newly followed shard holds is read at once', timeoutMs: 2_000 });
    // The loop's blocking read is still on the old streams: a placement there ends it, and the next read is on the new one.
    await store.bindPod(await store.create('pods', pod('wake')), followedNode);
    await eventually(async () => placed().get('wake') === followedNode, { message: 'the blocking read on the old streams ended' });
    await store.create('pods', pod('moving-late'));
    const nominatedLate = await store.guaranteedUpdate<Pod>('pods', 'default', 'moving-late', (cur) => ({ ...cur, status: { ...cur.status, nominatedNodeName: followedNode } }), { subresource: 'status' });
    await store.bindPod(nominatedLate, otherNode);
    await eventually(async () => placed().get('moving-late') === otherNode, { message: 'the new shard read as it changes' });
    t.true(await informer.caughtUp());
    t.is(placed().get('moving-late'), otherNode, 'the common stream\'s older events of the pod do not undo its placement');
  } finally {
    await informer.stop();
  }
});
