// Many simulated nodes in one node-agent process (kwok-style): 200 nodes share one queue worker,
// one heartbeat timer and one pod list. They all register (marked as simulated) with Leases, their
// pods are reconciled by that process through the shared queue (Running, an IP each, Ready),
// deletions are carried out, the scheduler's sampling of 100 of the 200 nodes still finds the one
// node a pod can take, and when the process is killed the node lifecycle controller marks every
// one of its nodes Ready=Unknown.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';

const NODES = 200;
const PODS = 400;
const host = `simhost-${randomBytes(3).toString('hex')}`;
let cluster: Cluster;

test.before(async () => {
  cluster = await startCluster({
    agents: [{ WHARF_NODE_NAME: host, WHARF_RUNTIME: 'simulated', WHARF_SIMULATED_NODES: String(NODES) }],
    env: { WHARF_NODE_MONITOR_GRACE: '6s', WHARF_POD_EVICTION_TOLERATION: '300s', WHARF_HEARTBEAT: '1s' },
  });
});

test.after.always(async (t) => {
  if (process.env.WHARF_TEST_DEBUG) t.log(cluster?.dumpLogs());
  await cluster?.stop();
});

const readyOf = (o: any, type = 'Ready') => (o.status?.conditions ?? []).find((c: any) => c.type === type);

test.serial(`${NODES} simulated nodes in one process register, marked simulated, each with a Lease`, async (t) => {
  const nodes = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/nodes')).body.items as any[];
    return items?.length === NODES && items.every((n) => readyOf(n)?.status === 'True') ? items : undefined;
  }, { timeoutMs: 60_000, message: `${NODES} ready nodes` });
  t.true(nodes.every((n) => n.metadata.labels['wharf.io/runtime'] === 'simulated' && n.metadata.labels.type === 'kwok'));
  const leases = await eventually(async () => {
    const items = (await cluster.api.get('/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases')).body.items as any[];
    return items?.length === NODES ? items : undefined;
  }, { timeoutMs: 20_000, message: 'leases' });
  t.is(new Set(leases.map((l) => l.spec.holderIdentity)).size, NODES);
});

test.serial(`${PODS} pods over them go Running with an IP each and Ready, and are removed when deleted`, async (t) => {
  const res = await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'many' },
    spec: {
      replicas: PODS,
      selector: { matchLabels: { app: 'many' } },
      template: { metadata: { labels: { app: 'many' } }, spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] } },
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  const pods = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dmany')).body.items as any[];
    const ok = items?.filter((p) => p.status?.phase === 'Running' && p.status.podIP && readyOf(p)?.status === 'True');
    return ok?.length === PODS ? ok : undefined;
  }, { timeoutMs: 90_000, intervalMs: 500, message: `${PODS} running pods` });
  t.is(new Set(pods.map((p) => p.status.podIP)).size, PODS, 'pod IPs are unique');
  t.true(new Set(pods.map((p) => p.spec.nodeName)).size > NODES / 2, 'spread over the nodes');

  const scaled = await cluster.api.patch('/apis/apps/v1/namespaces/default/deployments/many', { spec: { replicas: 0 } });
  t.is(scaled.status, 200, JSON.stringify(scaled.body));
  await eventually(async () => ((await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dmany')).body.items?.length ?? -1) === 0,
    { timeoutMs: 60_000, intervalMs: 500, message: 'pods gone' });
  t.pass();
});

test.serial('with 200 nodes the scheduler samples 100 a pod, yet a pod only one node can take still lands there', async (t) => {
  // percentageOfNodesToScore: each decision looks at a window of half the nodes, so most of these
  // pods' one node is outside it; the scheduler must then look at every node, not give up.
  const targets = Array.from({ length: 20 }, (_, i) => `${host}-${i * 10 + 3}`);
  for (const [i, node] of targets.entries()) {
    const res = await cluster.api.post('/api/v1/namespaces/default/pods', {
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `pinned-${i}`, labels: { app: 'pinned' } },
      spec: { nodeSelector: { 'kubernetes.io/hostname': node }, containers: [{ name: 'c', image: 'sim:1' }] },
    });
    t.is(res.status, 201, JSON.stringify(res.body));
  }
  const pods = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dpinned')).body.items as any[];
    return items?.length === targets.length && items.every((p) => p.spec.nodeName) ? items : undefined;
  }, { timeoutMs: 30_000, message: 'pinned pods bound' });
  for (const p of pods) t.is(p.spec.nodeName, targets[Number(p.metadata.name.split('-')[1])], p.metadata.name);
  // At the first try: a retry after a sample without the node would have left a FailedScheduling.
  // The Scheduled event is written after the binding: wait for all of them, then look for failures.
  const events = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/namespaces/default/events')).body.items as any[];
    return items.filter((e) => e.reason === 'Scheduled' && e.involvedObject.name.startsWith('pinned-')).length === targets.length ? items : undefined;
  }, { timeoutMs: 10_000, message: 'a Scheduled event for each pinned pod' });
  t.deepEqual(events.filter((e) => e.reason === 'FailedScheduling' && e.involvedObject.name.startsWith('pinned-')).map((e) => e.message), []);
  for (const p of pods) await cluster.api.delete(`/api/v1/namespaces/default/pods/${p.metadata.name}`);
});

test.serial('the process killed, the lifecycle controller marks all its nodes Ready=Unknown', async (t) => {
  const agent = cluster.services.find((s) => s.name === 'node-agent')!;
  await agent.kill('SIGKILL');
  await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/nodes')).body.items as any[];
    return items.length === NODES && items.every((n) => readyOf(n)?.status === 'Unknown');
  }, { timeoutMs: 40_000, intervalMs: 500, message: 'all nodes Ready=Unknown' });
  t.pass();
});
