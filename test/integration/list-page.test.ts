// Paged lists against a real redis-server: the object index gives every object exactly once in
// "namespace/name" byte order with the right remaining count, follows writes made between pages,
// and is built for data written before it existed without lists ever being wrong meanwhile.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { Store } from '../../shared/store/store.ts';
import { mustFindByPlural } from '../../shared/api/resources.ts';
import type { KubeObject } from '../../shared/types.ts';
import { isAlreadyExists } from '../../shared/errors.ts';
import { startRedis, type RedisHandle } from '../helpers/cluster.ts';

let redis: RedisHandle;
const connections: Redis[] = [];
// The store keeps its connection to itself; these tests look under it at the index keys.
const rawRedis = new Map<Store, Redis>();

function newStore(): Store {
  const connection = new Redis(redis.url);
  connections.push(connection);
  const store = new Store(connection, new Keys(`l${randomBytes(4).toString('hex')}`));
  rawRedis.set(store, connection);
  return store;
}

const cm = (namespace: string, name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data: {} });

/** Creates a ConfigMap, and its namespace first where it does not exist yet (admission refuses objects of a missing namespace). */
async function createConfigMap(store: Store, namespace: string, name: string): Promise<KubeObject> {
  if (!(await store.get('namespaces', undefined, namespace))) {
    await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } }).catch((err) => {
      if (!isAlreadyExists(err)) throw err;
    });
  }
  return store.create('configmaps', cm(namespace, name));
}
const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
const byteOrder = (keys: string[]) => [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

// '-' sorts before '/', so "a-b/..." comes before "a/...": the order a sort of whole keys gives (names may also hold '.').
const NAMESPACES = ['a', 'a-b', 'a-c', 'b'];
const NAMES = ['x', 'x-1', 'x.2', 'x0', 'y'];

async function seed(store: Store): Promise<string[]> {
  const keys: string[] = [];
  for (const ns of NAMESPACES) {
    for (const name of NAMES) keys.push(keyOf(await createConfigMap(store, ns, name)));
  }
  return byteOrder(keys);
}

interface Paged {
  keys: string[];
  remaining: number[];
}

async function pageThrough(store: Store, resource: string, namespace: string | undefined, limit: number, between?: (page: number) => Promise<void>): Promise<Paged> {
  const out: Paged = { keys: [], remaining: [] };
  let after = '';
  for (let page = 0; ; page++) {
    const p = await store.listPage(resource, namespace, after, limit);
    out.keys.push(...p.items.map(keyOf));
    out.remaining.push(p.remaining);
    if (p.remaining === 0) return out;
    after = p.lastKey;
    await between?.(page);
  }
}

/** What each page's remaining count must be when nothing changes between pages. */
function expectedRemaining(total: number, limit: number): number[] {
  const out: number[] = [];
  for (let seen = limit; ; seen += limit) {
    out.push(Math.max(0, total - seen));
    if (seen >= total) return out;
  }
}

/** Makes the store look as an older Wharf left it: objects, but no index and no marker. */
async function forgetIndex(store: Store, resource: string): Promise<void> {
  await rawRedis.get(store)!.del(store.keys.objectIndex(resource), store.keys.objectIndexBuilt(resource));
}

test.before(async () => {
  redis = await startRedis();
});

test.after.always(async () => {
  for (const c of connections) c.disconnect();
  await redis?.stop();
});

test('pages across namespaces and within one return every object once, in byte order, with the right remaining count', async (t) => {
  const store = newStore();
  t.deepEqual(await store.buildObjectIndex(), [], 'a new cluster has nothing to index');
  const all = await seed(store);
  for (const limit of [1, 3, 5, 7, 20, 100]) {
    const paged = await pageThrough(store, 'configmaps', undefined, limit);
    t.deepEqual(paged.keys, all, `all namespaces, limit ${limit}`);
    t.deepEqual(paged.remaining, expectedRemaining(all.length, limit), `all namespaces, limit ${limit}`);
    for (const ns of NAMESPACES) {
      const own = all.filter((k) => k.startsWith(`${ns}/`));
      const inOne = await pageThrough(store, 'configmaps', ns, limit);
      t.deepEqual(inOne.keys, own, `namespace ${ns}, limit ${limit}`);
      t.deepEqual(inOne.remaining, expectedRemaining(own.length, limit), `namespace ${ns}, limit ${limit}`);
    }
  }
  t.deepEqual((await store.listPage('configmaps', 'empty', '', 5)).items, []);
  t.is((await store.listPage('configmaps', 'a', 'a/y', 5)).items.length, 0, 'a continue key at the end of the namespace');
  t.deepEqual((await store.listPage('configmaps', 'b', 'a/x', 2)).items.map(keyOf), ['b/x', 'b/x-1'], 'a continue key before the namespace starts it');
  t.is((await store.listPage('configmaps', 'a', 'b/x', 5)).items.length, 0, 'a continue key past the namespace');
  // Any int64 is a limit a client may send (found by the API fuzz suite: the script got 9.2e18 and Redis refused it).
  for (const limit of [2 ** 31, 2 ** 53, Number(9223372036854775807n)]) {
    const page = await store.listPage('configmaps', undefined, '', limit);
    t.deepEqual(page.items.map(keyOf), all, `limit ${limit}: one page of everything`);
    t.is(page.remaining, 0);
  }
});

test('objects deleted between pages are gone, objects created ahead of the page are listed, none twice', async (t) => {
  const store = newStore();
  await store.buildObjectIndex();
  const all = await seed(store);
  const firstPage = all.slice(0, 4);
  // The page's own last key among them: the next page starts after a key that is gone.
  const removed = [firstPage[0], firstPage[3], 'b/x'];
  const created = ['a-b/w', 'a/a', 'c/new'];
  const paged = await pageThrough(store, 'configmaps', undefined, 4, async (page) => {
    if (page !== 0) return;
    for (const key of removed) await store.delete('configmaps', ...(key.split('/') as [string, string]));
    for (const key of created) await createConfigMap(store, ...(key.split('/') as [string, string]));
    // An update leaves the object where it was.
    await store.guaranteedUpdate('configmaps', 'b', 'y', (o) => ({ ...o, data: { changed: '1' } }));
  });
  const present = byteOrder([...all.filter((k) => !removed.includes(k)), ...created]);
  const later = present.filter((k) => Buffer.compare(Buffer.from(k), Buffer.from(firstPage[3])) > 0);
  t.deepEqual(paged.keys, [...firstPage, ...later]);
  t.false(paged.keys.includes('a-b/w'), 'created behind the page');
  t.true(paged.keys.includes('a/a') && paged.keys.includes('c/new') && !paged.keys.includes('b/x'));
  t.is(paged.remaining[1], later.length - 4, 'the count after a change counts what is there now');
});

test('cluster-scoped kinds page too', async (t) => {
  const store = newStore();
  await store.buildObjectIndex();
  const names = Array.from({ length: 11 }, (_, i) => `class-${String(i).padStart(2, '0')}`);
  for (const name of [...names].reverse()) {
    await store.create('priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value: 1 } as KubeObject);
  }
  const paged = await pageThrough(store, 'priorityclasses', undefined, 4);
  t.deepEqual(paged.keys, names.map((n) => `/${n}`));
  t.deepEqual(paged.remaining, [7, 3, 0]);
  t.is(await rawRedis.get(store)!.zcard(store.keys.objectIndex('priorityclasses')), 11);
  await store.delete('priorityclasses', undefined, 'class-03');
  t.deepEqual((await store.listPage('priorityclasses', undefined, '/class-01', 2)).items.map(keyOf), ['/class-02', '/class-04']);
});

test('data written before the index existed pages correctly before, during and after the backfill', async (t) => {
  const store = newStore();
  await store.buildObjectIndex();
  // More than a hash keeps compact (128), so the backfill really walks it in several chunks.
  const many = Array.from({ length: 300 }, (_, i) => `cm-${String(i).padStart(3, '0')}`);
  await Promise.all(many.map((name) => createConfigMap(store, 'big', name)));
  const seeded = await seed(store);
  await store.create('priorityclasses', { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name: 'old' }, value: 1 } as KubeObject);
  await forgetIndex(store, 'configmaps');
  await forgetIndex(store, 'priorityclasses');

  // Changes while nothing of the old data is indexed: a delete finds no index entry to remove.
  await store.delete('configmaps', 'b', 'y');
  await createConfigMap(store, 'b', 'z');
  let expected = byteOrder([...many.map((n) => `big/${n}`), ...seeded.filter((k) => k !== 'b/y'), 'b/z']);
  t.deepEqual((await pageThrough(store, 'configmaps', undefined, 50)).keys, expected, 'without the index, lists read the objects hashes');
  t.deepEqual((await pageThrough(store, 'configmaps', 'big', 64)).remaining, expectedRemaining(300, 64));

  // Two API servers backfilling at once, in small chunks, while objects are deleted.
  const otherConnection = new Redis(redis.url);
  connections.push(otherConnection);
  const other = new Store(otherConnection, store.keys);
  const gone = many.filter((_, i) => i % 7 === 0);
  const [first, second] = await Promise.all([
    store.buildObjectIndex([mustFindByPlural('configmaps')], 10),
    other.buildObjectIndex([mustFindByPlural('configmaps')], 10),
    (async () => { for (const name of gone) await store.delete('configmaps', 'big', name); })(),
  ]);
  t.true(first.includes('configmaps') || second.includes('configmaps'));
  expected = expected.filter((k) => !gone.some((name) => k === `big/${name}`));
  t.deepEqual(await rawRedis.get(store)!.zrange(store.keys.objectIndex('configmaps'), '0', '-1'), expected, 'the index holds exactly the objects there are');
  t.is(await rawRedis.get(store)!.exists(store.keys.objectIndexBuilt('priorityclasses')), 0, 'a kind not yet backfilled is still unmarked');
  t.deepEqual((await pageThrough(store, 'priorityclasses', undefined, 1)).keys, ['/old']);

  t.deepEqual(await store.buildObjectIndex(), ['priorityclasses']);
  t.deepEqual((await pageThrough(store, 'priorityclasses', undefined, 1)).keys, ['/old']);
  for (const limit of [1, 9, 64, 1000]) {
    const paged = await pageThrough(store, 'configmaps', undefined, limit);
    t.deepEqual(paged.keys, expected, `after the backfill, limit ${limit}`);
    t.deepEqual(paged.remaining, expectedRemaining(expected.length, limit));
  }
  t.deepEqual(await store.buildObjectIndex(), [], 'a second run has nothing to do');
});

test('the index keeps what a full read of the objects gives, page for page', async (t) => {
  const store = newStore();
  await store.buildObjectIndex();
  const keys = new Set<string>();
  // A fixed pseudo-random walk over 13 x 20 keys, so about a third of the steps delete.
  let seed = 7;
  const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let i = 0; i < 300; i++) {
    const ns = `ns-${next(13)}`;
    const name = `o-${next(20)}`;
    const key = `${ns}/${name}`;
    if (keys.has(key)) {
      await store.delete('configmaps', ns, name);
      keys.delete(key);
    } else {
      await createConfigMap(store, ns, name);
      keys.add(key);
    }
  }
  const indexed = await pageThrough(store, 'configmaps', undefined, 17);
  const indexedOne = await pageThrough(store, 'configmaps', 'ns-3', 5);
  await rawRedis.get(store)!.del(store.keys.objectIndexBuilt('configmaps'));
  t.deepEqual(indexed, await pageThrough(store, 'configmaps', undefined, 17));
  t.deepEqual(indexedOne, await pageThrough(store, 'configmaps', 'ns-3', 5));
  t.deepEqual(indexed.keys, byteOrder([...keys]));
  t.true(keys.size < 250, 'some objects were deleted');
});
