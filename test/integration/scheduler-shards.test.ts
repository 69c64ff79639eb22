// Schedulers sharing a large cluster's nodes out (services/scheduler/shards.ts), against a real
// redis-server and real scheduler processes: nodes written straight into the store, as the
// scheduling bench does. Settled, each scheduler places the pods of its bursts on its own shards'
// nodes alone; at exactly the cluster's room, with one scheduler killed and another started mid-way,
// every pod is still bound once and no node overcommitted (the shards' pods that fit nowhere of their
// own go by the one-pod path, which weighs every node).
import test from 'ava';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { Store } from '../../shared/store/store.ts';
import { nodeViewShard } from '../../shared/api/podutil.ts';
import { ownedShards } from '../../services/scheduler/shards.ts';
import type { KubeObject, Node, Pod } from '../../shared/types.ts';
import { eventually, startRedis, startService, type RedisHandle, type ServiceHandle } from '../helpers/cluster.ts';

const NODES = 120;
const PODS_PER_NODE = 4;
const prefix = `sh${randomBytes(3).toString('hex')}`;
const keys = new Keys(prefix);
let redis: RedisHandle;
let connection: Redis;
let store: Store;
const schedulers: ServiceHandle[] = [];

const node = (name: string): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: {
    allocatable: { cpu: '32', memory: '256Gi', pods: String(PODS_PER_NODE) },
    capacity: { cpu: '32', memory: '256Gi', pods: String(PODS_PER_NODE) },
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString() }],
  },
});
const pod = (name: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
});
const startScheduler = (label: string) => {
  const s = startService('scheduler', { REDIS_URL: redis.urlFor('scheduler'), WHARF_KEY_PREFIX: prefix }, label);
  schedulers.push(s);
  return s;
};
/** Members' identities as the schedulers see them (hostname-pid). */
const identity = (s: ServiceHandle) => `${hostname()}-${s.child.pid}`;
async function createPods(from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i += 50) await Promise.all(Array.from({ length: Math.min(50, from + count - i) }, (_, j) => store.create('pods', pod(`p-${i + j}`))));
}
const bound = async () => (await store.list<Pod>('pods', 'default')).items.filter((p) => p.spec.nodeName);

test.before(async () => {
  redis = await startRedis({ prefix });
  connection = new Redis(redis.url);
  store = new Store(connection, keys, 10_000);
  await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  await store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' }, automountServiceAccountToken: false } as KubeObject);
  await Promise.all(Array.from({ length: NODES }, (_, i) => store.create('nodes', node(`node-${i}`))));
});

test.after.always(async (t) => {
  if (process.env.WHARF_TEST_DEBUG) for (const s of schedulers) t.log(s.logs());
  await Promise.all(schedulers.map((s) => s.kill()));
  connection?.disconnect();
  await redis?.stop();
});

test.serial('two schedulers settled: each binds the pods of its bursts on its own shards\' nodes only', async (t) => {
  const pair = [startScheduler('shard-scheduler-0'), startScheduler('shard-scheduler-1')];
  // Both see both: each has logged its own share (not "all").
  await eventually(async () => pair.every((s) => /"members":2,"shards":"\d/.test(s.logs())), { timeoutMs: 30_000, message: 'two members, shards dealt out' });
  await createPods(0, 200);
  await eventually(async () => (await bound()).length === 200, { timeoutMs: 30_000, message: '200 pods bound' });
  const members = pair.map(identity);
  const owned = new Map(members.map((m) => [m, ownedShards(members, m, NODES)!]));
  const scheduledEvents = async () => (await store.list<any>('events', 'default')).items.filter((e) => e.reason === 'Scheduled');
  // Each bind's event follows it.
  await eventually(async () => (await scheduledEvents()).length === 200, { timeoutMs: 10_000, message: '200 Scheduled events' });
  const events = await scheduledEvents();
  const byInstance = new Map(events.map((e) => [e.involvedObject.name, e.reportingInstance as string]));
  const strays: string[] = [];
  const perScheduler = new Map<string, number>();
  for (const p of await bound()) {
    const binder = byInstance.get(p.metadata.name!)!;
    perScheduler.set(binder, (perScheduler.get(binder) ?? 0) + 1);
    if (!owned.get(binder)?.has(nodeViewShard(p.spec.nodeName!))) strays.push(`${p.metadata.name} on ${p.spec.nodeName} by ${binder}`);
  }
  t.deepEqual(strays, []);
  t.is(perScheduler.size, 2, 'both schedulers bound pods');
});

test.serial('at exactly the cluster\'s room, a scheduler killed and another started mid-way: every pod bound once, no node overcommitted', async (t) => {
  const total = NODES * PODS_PER_NODE;
  const creating = createPods(200, total - 200);
  await eventually(async () => (await bound()).length >= 300, { timeoutMs: 30_000, message: '300 pods bound' });
  await schedulers[0].kill('SIGKILL');
  startScheduler('shard-scheduler-2');
  await creating;
  await eventually(async () => (await bound()).length === total, { timeoutMs: 90_000, message: `all ${total} pods bound` });
  const perNode = new Map<string, number>();
  for (const p of await bound()) perNode.set(p.spec.nodeName!, (perNode.get(p.spec.nodeName!) ?? 0) + 1);
  t.deepEqual([...perNode.values()].filter((n) => n !== PODS_PER_NODE), [], 'every node holds exactly its room');
  const scheduled = new Map<string, number>();
  for (const e of (await store.list<any>('events', 'default')).items) if (e.reason === 'Scheduled') scheduled.set(e.involvedObject.name, (scheduled.get(e.involvedObject.name) ?? 0) + (e.count ?? 1));
  // The killed scheduler may have bound a burst's pods without recording their events (events are
  // best effort, sent after the burst's binds): at most a feed pass (200 events) of them.
  t.true(scheduled.size >= total - 200, `${scheduled.size} Scheduled events`);
  t.deepEqual([...scheduled].filter(([, n]) => n > 1), [], 'no pod bound twice');
  for (let k = 0; k < NODES; k++) {
    const usage = await connection.hgetall(keys.nodeUsage(`node-${k}`));
    t.is(Number(usage['used.pods']), PODS_PER_NODE, `node-${k} charged its pods`);
  }
});
