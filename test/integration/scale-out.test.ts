// The control plane scales out: two of each stateless component, all active, one Deployment of
// 100 replicas on simulated nodes with room for exactly 100. Killing a scheduler and a controller
// manager mid-way and starting new ones (a rolling restart) loses nothing; no pod is bound twice
// and no node is overcommitted.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';

const NODES = 4;
const PODS_PER_NODE = 25; // cpu 2500m per node at 100m a pod
const suffix = randomBytes(3).toString('hex');
let cluster: Cluster;

test.before(async () => {
  cluster = await startCluster({
    apiServers: 2,
    schedulers: 2,
    controllerManagers: 2,
    agents: [{
      WHARF_NODE_NAME: `sim-${suffix}`,
      WHARF_RUNTIME: 'simulated',
      WHARF_SIMULATED_NODES: String(NODES),
      WHARF_NODE_CPU_MILLIS: String(PODS_PER_NODE * 100),
      WHARF_NODE_MEMORY_BYTES: String(64 * 1024 ** 3),
      WHARF_NODE_MAX_PODS: '110',
    }],
  });
  await cluster.waitForNodes(Array.from({ length: NODES }, (_, i) => `sim-${suffix}-${i}`));
});

test.after.always(async (t) => {
  if (process.env.WHARF_TEST_DEBUG) t.log(cluster?.dumpLogs());
  await cluster?.stop();
});

test('100 replicas on room for exactly 100: each pod bound once, no node overcommitted, a rolling restart of a scheduler and a controller manager loses nothing', async (t) => {
  const res = await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'hundred' },
    spec: {
      replicas: 100,
      selector: { matchLabels: { app: 'hundred' } },
      template: {
        metadata: { labels: { app: 'hundred' } },
        spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
      },
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));

  // Both API servers serve the same state.
  const second = new (cluster.api.constructor as any)(cluster.apiUrls[1]);
  await eventually(async () => ((await second.get('/api/v1/namespaces/default/pods')).body.items?.length ?? 0) >= 20, { timeoutMs: 20_000, message: 'first pods via the second API server' });
  const scheduler = cluster.services.find((s) => s.name === 'scheduler')!;
  const manager = cluster.services.find((s) => s.name === 'controller-manager')!;
  await Promise.all([scheduler.kill('SIGKILL'), manager.kill('SIGKILL')]);
  // A rolling restart: a new one of each joins while the pods are still being placed.
  cluster.start('scheduler', {}, 'scheduler-restarted');
  cluster.start('controller-manager', {}, 'controller-manager-restarted');

  const pods = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dhundred')).body.items as any[];
    const running = items.filter((p) => p.status?.phase === 'Running');
    return items.length === 100 && running.length === 100 ? items : undefined;
  }, { timeoutMs: 90_000, intervalMs: 500, message: '100 running pods' });

  t.is(new Set(pods.map((p) => p.metadata.uid)).size, 100);
  const perNode = new Map<string, number>();
  for (const p of pods) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  t.is(perNode.size, NODES);
  for (const [node, count] of perNode) t.true(count <= PODS_PER_NODE, `${node} has ${count} pods`);

  // Each pod was bound exactly once: PodScheduled=True on every pod, and no pod has two Scheduled
  // events. (Events are best effort, as in Kubernetes: a scheduler killed between a batch of binds
  // and their events leaves those pods without one, and a batch may hold every pending pod, so the
  // count may fall short by a whole batch, never over.)
  t.true(pods.every((p) => p.status.conditions.some((c: any) => c.type === 'PodScheduled' && c.status === 'True')));
  const events = (await cluster.api.get('/api/v1/namespaces/default/events?fieldSelector=reason%3DScheduled')).body.items as any[];
  const boundUids = events.map((e) => e.involvedObject.uid);
  const podUids = new Set(pods.map((p) => p.metadata.uid));
  t.is(new Set(boundUids).size, boundUids.length, 'no pod scheduled twice');
  t.true(boundUids.every((u) => podUids.has(u)));
  t.log(`${boundUids.length} Scheduled events for 100 pods`);
  t.true(events.every((e) => (e.count ?? 1) === 1));

  // The node accounting in Redis agrees: every node exactly full, nothing charged twice.
  const redis = new Redis(cluster.redis.url);
  try {
    for (const node of perNode.keys()) {
      const usage = await redis.hgetall(`${cluster.prefix}:nodeusage:${node}`);
      t.is(Number(usage['used.pods']), perNode.get(node)!);
      t.true(Number(usage['used.cpu']) <= Number(usage['alloc.cpu']));
    }
  } finally {
    redis.disconnect();
  }

  // One more replica has no room: it stays Pending and says why.
  await cluster.api.patch('/apis/apps/v1/namespaces/default/deployments/hundred', { spec: { replicas: 101 } });
  const pending = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DPending')).body.items as any[];
    const p = items.find((x) => x.status?.conditions?.some((c: any) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'));
    return p;
  }, { timeoutMs: 20_000, message: 'an unschedulable pod' });
  const cond = pending.status.conditions.find((c: any) => c.type === 'PodScheduled');
  t.is(cond.status, 'False');
  t.regex(cond.message, /^0\/4 nodes are available: 4 Insufficient cpu\.$/);
  // The event is written after the pod's condition: wait for it.
  await eventually(async () => {
    const failed = (await cluster.api.get(`/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D${pending.metadata.name}`)).body.items as any[];
    return failed.some((e) => e.reason === 'FailedScheduling' && e.type === 'Warning');
  }, { timeoutMs: 10_000, message: 'a FailedScheduling Warning event' });
  t.pass();
});
