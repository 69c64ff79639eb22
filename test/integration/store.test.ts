// The state store against a real redis-server: compare-and-set, one global resourceVersion,
// events appended atomically with writes, the owner index, and node accounting that no number of
// racing binders can overcommit.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { Store, InsufficientCapacityError } from '../../shared/store/store.ts';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../../shared/errors.ts';
import type { KubeObject, Node, Pod } from '../../shared/types.ts';
import { startRedis, type RedisHandle } from '../helpers/cluster.ts';

let redis: RedisHandle;
const connections: Redis[] = [];

function newStore(prefix: string): Store {
  const connection = new Redis(redis.url);
  connections.push(connection);
  return new Store(connection, new Keys(prefix));
}

/**
 * A store of a new cluster: its default namespace exists, as the API server makes it (admission
 * refuses objects of other namespaces), with its default ServiceAccount, as the controller manager
 * makes it (admission refuses pods without their ServiceAccount).
 */
async function newCluster(prefix: string): Promise<Store> {
  const store = newStore(prefix);
  await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  await store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' } });
  return store;
}

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });

const node = (name: string, pods: number, cpu = '4'): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  status: { allocatable: { cpu, memory: '8Gi', pods: String(pods) }, capacity: { cpu, memory: '8Gi', pods: String(pods) } },
});

const pod = (name: string, cpu = '100m'): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu, memory: '1Mi' } } }] },
  status: { phase: 'Pending' },
});

test.before(async () => {
  redis = await startRedis();
});

test.after.always(async () => {
  for (const c of connections) c.disconnect();
  await redis?.stop();
});

const prefix = () => `s${randomBytes(4).toString('hex')}`;

test('create assigns uid and a rising resourceVersion (no generation on a ConfigMap, as in Kubernetes); duplicates are AlreadyExists', async (t) => {
  const store = await newCluster(prefix());
  const a = await store.create('configmaps', cm('a'));
  const b = await store.create('configmaps', cm('b'));
  t.regex(a.metadata.uid!, /^[0-9a-f-]{36}$/);
  t.is(a.metadata.generation, undefined);
  t.true(Number(b.metadata.resourceVersion) > Number(a.metadata.resourceVersion));
  await t.throwsAsync(store.create('configmaps', cm('a')), { instanceOf: AlreadyExistsError });
  t.deepEqual((await store.get('configmaps', 'default', 'a'))?.metadata.uid, a.metadata.uid);
  const listed = await store.list('configmaps', 'default');
  t.deepEqual(listed.items.map((i) => i.metadata.name), ['a', 'b']);
  t.is(listed.resourceVersion, b.metadata.resourceVersion!);
});

test('a stale resourceVersion is a Conflict and changes nothing', async (t) => {
  const store = await newCluster(prefix());
  const v1 = await store.create('configmaps', cm('x', { n: '1' }));
  const v2 = await store.update('configmaps', { ...v1, data: { n: '2' } });
  await t.throwsAsync(store.update('configmaps', { ...v1, data: { n: 'stale' } }), { instanceOf: ConflictError });
  const current = await store.get('configmaps', 'default', 'x');
  t.is(current?.data.n, '2');
  t.is(current?.metadata.resourceVersion, v2.metadata.resourceVersion);
  await t.throwsAsync(store.update('configmaps', { ...cm('missing') }), { instanceOf: NotFoundError });
});

test.serial('writes issued in one turn of the event loop reach Redis together, not a read each', async (t) => {
  // Serial: Redis counts the reads of every client, and no other test of this file runs meanwhile.
  const store = await newCluster(prefix());
  await store.create('nodes', node('n1', 110, '32'));
  const pods = await Promise.all(Array.from({ length: 50 }, (_, i) => store.create('pods', pod(`together-${i}`))));
  const observer = new Redis(redis.url);
  connections.push(observer);
  const readsProcessed = async () => Number(/total_reads_processed:(\d+)/.exec(await observer.info('stats'))?.[1]);
  const before = await readsProcessed();
  const bound = await Promise.all(pods.map((p) => store.bindPod(p, 'n1')));
  const reads = (await readsProcessed()) - before;
  t.true(bound.every((p) => p.spec.nodeName === 'n1'));
  // Redis reads up to 16 KiB at a time: the 50 binds (about 2 KiB each) together take 7 or 8
  // reads, and the observer's INFO one; sent a write each, they took 50.
  t.true(reads <= 15, `${reads} reads for 50 binds`);
  t.is((await store.list<Pod>('pods', 'default')).items.filter((p) => p.spec.nodeName === 'n1').length, 50);
});

test('concurrent read-modify-writes from many clients lose no update', async (t) => {
  const p = prefix();
  await (await newCluster(p)).create('configmaps', cm('counter', { n: '0' }));
  const stores = Array.from({ length: 4 }, () => newStore(p));
  await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 4].guaranteedUpdate('configmaps', 'default', 'counter', (o) => {
    o.data.n = String(Number(o.data.n) + 1);
    return o;
  })));
  t.is((await stores[0].get('configmaps', 'default', 'counter'))?.data.n, '40');
});

test('every write appends its event to the kind stream, with the resourceVersion as its id', async (t) => {
  const store = await newCluster(prefix());
  const created = await store.create('configmaps', cm('e'));
  const updated = await store.update('configmaps', { ...created, data: { k: 'v' } });
  const deleted = await store.delete('configmaps', 'default', 'e');
  const events = await store.eventsAfter('configmaps', 0);
  t.deepEqual(events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
  t.deepEqual(events.map((e) => String(e.rv)), [created.metadata.resourceVersion, updated.metadata.resourceVersion, deleted.object.metadata.resourceVersion]);
  t.deepEqual(events.map((e) => e.object.metadata.resourceVersion), events.map((e) => String(e.rv)));
  t.deepEqual((await store.eventsAfter('configmaps', Number(created.metadata.resourceVersion))).map((e) => e.type), ['MODIFIED', 'DELETED']);
});

test('generation rises on spec changes only; status subresource writes only status', async (t) => {
  const store = await newCluster(prefix());
  const template = { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } };
  const d = await store.create('deployments', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'default' }, spec: { replicas: 1, selector: { matchLabels: { app: 'd' } }, template } } as KubeObject);
  const labelled = await store.update('deployments', { ...d, metadata: { ...d.metadata, labels: { a: 'b' } } });
  t.is(labelled.metadata.generation, 1);
  const scaled = await store.update('deployments', { ...labelled, spec: { ...labelled.spec, replicas: 2 }, status: { replicas: 9 } });
  t.is(scaled.metadata.generation, 2);
  t.deepEqual(scaled.status, {}, 'status is ignored through the main resource (a new Deployment starts with {})');
  const status = await store.update('deployments', { ...scaled, spec: { ...scaled.spec, replicas: 7 }, status: { replicas: 2 } }, { subresource: 'status' });
  t.is(status.status.replicas, 2);
  t.is(status.spec.replicas, 2, 'spec is ignored through the status subresource');
});

test('the owner index follows ownerReferences through create, update and delete', async (t) => {
  const store = await newCluster(prefix());
  const owner = await store.create('configmaps', cm('owner'));
  const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata.uid! };
  const dep: KubeObject = await store.create('configmaps', { ...cm('dep'), metadata: { name: 'dep', namespace: 'default', ownerReferences: [ref] } });
  t.deepEqual(await store.dependentsOf(owner.metadata.uid!), [{ resource: 'configmaps', namespace: 'default', name: 'dep' }]);
  t.deepEqual(await store.locateUid(dep.metadata.uid!), { resource: 'configmaps', namespace: 'default', name: 'dep' });
  await store.update('configmaps', { ...dep, metadata: { ...dep.metadata, ownerReferences: [] } });
  t.deepEqual(await store.dependentsOf(owner.metadata.uid!), []);
  await store.delete('configmaps', 'default', 'dep');
  t.is(await store.locateUid(dep.metadata.uid!), null);
});

test('racing binders never overcommit a node, and releases free room', async (t) => {
  const p = prefix();
  const setup = await newCluster(p);
  await setup.create('nodes', node('n1', 5));
  const pods = await Promise.all(Array.from({ length: 20 }, (_, i) => setup.create<Pod>('pods', pod(`p${i}`))));
  const binders = Array.from({ length: 4 }, () => newStore(p));
  const results = await Promise.allSettled(pods.map((x, i) => binders[i % 4].bindPod(x, 'n1')));
  const bound = results.filter((r) => r.status === 'fulfilled').length;
  t.is(bound, 5);
  t.true(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof InsufficientCapacityError));
  const usage = await connections[0].hgetall(new Keys(p).nodeUsage('n1'));
  t.is(usage['used.pods'], '5');
  t.is(usage['used.cpu'], '500');
  // Binding the same pod twice is refused by the resourceVersion check.
  const first = (results.findIndex((r) => r.status === 'fulfilled'));
  await t.throwsAsync(binders[0].bindPod(pods[first], 'n1'), { instanceOf: ConflictError });
  // A finished pod and a deleted pod give their room back; the scheduler can bind two more.
  const boundPods = (await setup.list<Pod>('pods', 'default')).items.filter((x) => x.spec.nodeName);
  await setup.guaranteedUpdate<Pod>('pods', 'default', boundPods[0].metadata.name!, (x) => ({ ...x, status: { phase: 'Succeeded' } }), { subresource: 'status' });
  await setup.delete('pods', 'default', boundPods[1].metadata.name!, { gracePeriodSeconds: 0 });
  const after = await connections[0].hgetall(new Keys(p).nodeUsage('n1'));
  t.is(after['used.pods'], '3');
  t.is(after['used.cpu'], '300');
  const unbound = (await setup.list<Pod>('pods', 'default')).items.filter((x) => !x.spec.nodeName).slice(0, 3);
  const more = await Promise.allSettled(unbound.map((x) => setup.bindPod(x, 'n1')));
  t.is(more.filter((r) => r.status === 'fulfilled').length, 2);
});

test('deleting a bound pod waits for its node (graceful); an unbound pod goes at once', async (t) => {
  const p = prefix();
  const store = await newCluster(p);
  await store.create('nodes', node('n1', 10));
  const unbound = await store.create<Pod>('pods', pod('loose'));
  t.true((await store.delete('pods', 'default', unbound.metadata.name!)).removed);
  const b = await store.bindPod(await store.create<Pod>('pods', pod('bound')), 'n1');
  const first = await store.delete('pods', 'default', b.metadata.name!);
  t.false(first.removed);
  t.truthy(first.object.metadata.deletionTimestamp);
  t.is(first.object.metadata.deletionGracePeriodSeconds, 30);
  const shorter = await store.delete('pods', 'default', b.metadata.name!, { gracePeriodSeconds: 5 });
  t.is(shorter.object.metadata.deletionGracePeriodSeconds, 5);
  const final = await store.delete('pods', 'default', b.metadata.name!, { gracePeriodSeconds: 0 });
  t.true(final.removed);
  t.is(await store.get('pods', 'default', 'bound'), null);
});

test('an object stored before a rule existed stays writable: an update is refused only for what it breaks itself', async (t) => {
  const p = prefix();
  const store = await newCluster(p);
  const kept = await store.create('configmaps', { ...cm('legacy', { ok: 'v' }), metadata: { name: 'legacy', namespace: 'default', finalizers: ['example.com/hold'] } });
  // As an older Wharf could have stored it: a key today's validation refuses.
  const stored = { ...kept, data: { 'bad key': 'v' } };
  await connections[0].hset(new Keys(p).objects('configmaps', 'default'), 'legacy', JSON.stringify(stored));
  const released = await store.guaranteedUpdate('configmaps', 'default', 'legacy', (c) => ({ ...c, metadata: { ...c.metadata, finalizers: [] } }));
  t.deepEqual(released.metadata.finalizers, [], 'its finalizer can be removed');
  await t.throwsAsync(store.guaranteedUpdate('configmaps', 'default', 'legacy', (c) => ({ ...c, data: { ...c.data, 'worse key': 'v' } })), { message: /data\[worse key\]/ });
});
