// Schedulers and controller managers as replicas: what one replica does for all is done once, not
// once by each. The controller managers' periodic full resync, which lists every object they
// follow, is run by one replica a period (the first to take the period's turn in Redis); the
// schedulers' start-up sweep of the pending pods by one a minute, the others relying on the
// change feed's group, which holds every pod not yet decided.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { Store } from '../../shared/store/store.ts';
import type { Node, Pod } from '../../shared/types.ts';
import { startRedis, startService, eventually, type RedisHandle, type ServiceHandle } from '../helpers/cluster.ts';

let redis: RedisHandle;
const managers: ServiceHandle[] = [];
const schedulers: ServiceHandle[] = [];
const connections: Redis[] = [];

test.before(async () => {
  redis = await startRedis();
});

test.after.always(async () => {
  await Promise.all([...managers, ...schedulers].map((m) => m.kill('SIGKILL')));
  for (const c of connections) c.disconnect();
  await redis?.stop();
});

/** The resync passes a manager's debug log shows so far, and how many of them were its turn. */
function turns(manager: ServiceHandle): { passes: number; mine: number } {
  const lines = manager.logs().split('\n').filter((l) => l.includes('"msg":"resync turn"'));
  return { passes: lines.length, mine: lines.filter((l) => l.includes('"mine":true')).length };
}

test('two controller managers resync once a period between them, not once each', async (t) => {
  const env = { REDIS_URL: redis.url, WHARF_KEY_PREFIX: `cr${randomBytes(3).toString('hex')}`, WHARF_LOG_LEVEL: 'debug', WHARF_CONTROLLER_RESYNC: '1s' };
  for (let i = 0; i < 2; i++) managers.push(startService('controller-manager', env, `replica-${i}`));
  await eventually(() => managers.every((m) => m.logs().includes('controller manager started')), { timeoutMs: 60_000, message: 'both managers started' });
  const start = managers.map(turns);
  // Six periods' worth of passes in each replica (12 in all), however loaded the machine.
  await eventually(() => managers.every((m, i) => turns(m).passes - start[i].passes >= 6), { timeoutMs: 60_000, intervalMs: 200, message: 'six passes in each replica' });
  const passes = managers.map((m, i) => turns(m).passes - start[i].passes);
  const resyncs = managers.map((m, i) => turns(m).mine - start[i].mine);
  const total = resyncs.reduce((a, b) => a + b, 0);
  t.log(`passes ${passes.join(' + ')}, resyncs run ${resyncs.join(' + ')}`);
  // Each period's turn goes to one replica: about half the passes resync, never all of them.
  t.true(total >= 4, `${total} resyncs in ${passes.join(' + ')} passes`);
  t.true(total <= Math.ceil((passes[0] + passes[1]) * 0.7), `${total} resyncs in ${passes.join(' + ')} passes`);
});

/** A cluster of its own for the schedulers: a key prefix with the default namespace and account, and Ready nodes. */
async function schedulingCluster(prefixStart: string, nodes: string[]): Promise<{ prefix: string; connection: Redis; store: Store }> {
  const prefix = `${prefixStart}${randomBytes(3).toString('hex')}`;
  const connection = new Redis(redis.url);
  connections.push(connection);
  const store = new Store(connection, new Keys(prefix));
  await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  await store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' }, automountServiceAccountToken: false } as any);
  for (const name of nodes) {
    await store.create<Node>('nodes', {
      apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      status: { allocatable: { cpu: '4', memory: '8Gi', pods: '110' }, capacity: { cpu: '4', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
    } as Node);
  }
  return { prefix, connection, store };
}

test('pods created while no scheduler runs are bound by the next ones through the feed; the start-up sweep runs once, not in each', async (t) => {
  const { prefix, connection, store } = await schedulingCluster('sw', ['n0', 'n1']);
  const env = { REDIS_URL: redis.url, WHARF_KEY_PREFIX: prefix };
  const sweeps = (s: ServiceHandle) => s.logs().split('\n').filter((l) => l.includes('start-up sweep')).length;
  // The first scheduler makes the feed's group (relisting, which is no sweep); it dies.
  const first = startService('scheduler', env, 'scheduler-first');
  schedulers.push(first);
  await eventually(() => first.logs().includes('scheduler started'), { timeoutMs: 60_000, message: 'the first scheduler started' });
  await first.kill('SIGKILL');
  const pod = (name: string): Pod => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
  } as Pod);
  /** Creates 20 pods while no scheduler runs, starts two, and returns them once every pod is bound. */
  const round = async (label: string): Promise<ServiceHandle[]> => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => store.create('pods', pod(`${label}-${i}`))));
    const started = [0, 1].map((i) => startService('scheduler', env, `scheduler-${label}-${i}`));
    schedulers.push(...started);
    await eventually(async () => {
      const { items } = await store.list<Pod>('pods', 'default');
      return items.length && items.every((p) => p.spec.nodeName);
    }, { timeoutMs: 60_000, message: `the ${label} pods bound` });
    return started;
  };
  const second = await round('second');
  await eventually(() => second.every((s) => s.logs().includes('scheduler started')), { timeoutMs: 60_000, message: 'both started' });
  t.deepEqual(second.map(sweeps).sort(), [0, 1], 'one of the two swept');
  await Promise.all(second.map((s) => s.kill('SIGKILL')));
  // Within the minute the sweep's turn lasts: neither sweeps, and the feed's group still brings every pod.
  const third = await round('third');
  await eventually(() => third.every((s) => s.logs().includes('scheduler started')), { timeoutMs: 60_000, message: 'both started' });
  t.deepEqual(third.map(sweeps), [0, 0]);
  const { items } = await store.list<Pod>('pods', 'default');
  t.is(items.length, 40);
  const perNode = new Map<string, number>();
  for (const p of items) perNode.set(p.spec.nodeName!, (perNode.get(p.spec.nodeName!) ?? 0) + 1);
  const charged = await Promise.all(['n0', 'n1'].map(async (n) => Number(await connection.hget(`${prefix}:nodeusage:${n}`, 'used.pods'))));
  t.deepEqual(charged, ['n0', 'n1'].map((n) => perNode.get(n) ?? 0), 'each pod charged once, to its node');
});

test('a scheduler run with WHARF_SCHEDULER_PODS=follow takes no pods: those waiting while it runs are bound by the next one that takes pods', async (t) => {
  const { prefix, store } = await schedulingCluster('fo', ['n0']);
  const env = { REDIS_URL: redis.url, WHARF_KEY_PREFIX: prefix };
  const follower = startService('scheduler', { ...env, WHARF_SCHEDULER_PODS: 'follow' }, 'scheduler-follower');
  schedulers.push(follower);
  await eventually(() => follower.logs().includes('scheduler started'), { timeoutMs: 60_000, message: 'the follower started' });
  t.true(follower.logs().includes('"takesPods":false'));
  await Promise.all(Array.from({ length: 10 }, (_, i) => store.create('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${i}`, namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'sim:1' }] } } as Pod)));
  const taker = startService('scheduler', env, 'scheduler-taker');
  schedulers.push(taker);
  await eventually(async () => (await store.list<Pod>('pods', 'default')).items.every((p) => p.spec.nodeName), { timeoutMs: 60_000, message: 'the pods bound' });
  // Each bind's Scheduled event is written after it.
  const scheduledEvents = async () => (await store.list<any>('events', 'default')).items.filter((e) => e.reason === 'Scheduled');
  await eventually(async () => (await scheduledEvents()).length >= 10, { timeoutMs: 30_000, message: 'ten Scheduled events' });
  const scheduled = await scheduledEvents();
  t.is(scheduled.length, 10);
  t.deepEqual([...new Set(scheduled.map((e) => e.reportingInstance.split('-').pop()))], [String(taker.child.pid)], 'every bind the taker\'s');
});
