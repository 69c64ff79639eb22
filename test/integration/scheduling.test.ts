// Scheduling over simulated nodes: required pod anti-affinity spreads replicas one per node, a
// topology spread constraint balances them, and a high-priority pod preempts a low-priority one.
import test from 'ava';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';

let cluster: Cluster;
const kubectl = kubectlRunner(() => ({ kubeconfig: cluster.kubeconfig, timeout: 30_000 }));
const NODES = ['a', 'b', 'c'];

test.before(async () => {
  cluster = await startCluster({
    agents: NODES.map((n) => ({ WHARF_RUNTIME: 'simulated', WHARF_NODE_NAME: n, WHARF_NODE_CPU_MILLIS: '1000' })),
  });
  await eventually(async () => (await cluster.api.get('/api/v1/nodes')).body.items?.filter((n: any) => (n.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True')).length === 3, {
    timeoutMs: 60_000,
    message: 'three ready nodes',
    detail: cluster.dumpLogs,
  });
});

test.after.always(async (t) => {
  if (process.env.WHARF_TEST_LOGS) t.log(cluster.dumpLogs());
  await cluster?.stop();
});

const deployment = (name: string, replicas: number, spec: Record<string, unknown>, cpu = '10m') => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu } } }], ...spec } },
  },
});

const podsOf = async (app: string): Promise<any[]> => (await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items.filter((p: any) => !p.metadata.deletionTimestamp);
const perNode = (pods: any[]) => NODES.map((n) => pods.filter((p) => p.spec.nodeName === n).length);

test.serial('required anti-affinity puts 3 replicas on 3 nodes and leaves a 4th Pending', async (t) => {
  const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'solo' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
  t.is((await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', deployment('solo', 4, anti))).status, 201);
  const pods = await eventually(async () => {
    const ps = await podsOf('solo');
    return ps.length === 4 && ps.filter((p) => p.spec.nodeName).length === 3 && ps.some((p) => (p.status?.conditions ?? []).some((c: any) => c.type === 'PodScheduled' && c.status === 'False')) ? ps : undefined;
  }, { timeoutMs: 30_000, message: '3 bound, 1 unschedulable' });
  t.deepEqual(perNode(pods), [1, 1, 1]);
  const pending = pods.find((p) => !p.spec.nodeName);
  const cond = pending.status.conditions.find((c: any) => c.type === 'PodScheduled');
  t.is(cond.reason, 'Unschedulable');
  t.regex(cond.message, /^0\/3 nodes are available: 3 node\(s\) didn't match pod anti-affinity rules\.$/);
  // Stays pending across retries.
  await new Promise((r) => setTimeout(r, 2000));
  t.is((await podsOf('solo')).filter((p) => p.spec.nodeName).length, 3);
  await cluster.api.delete('/apis/apps/v1/namespaces/default/deployments/solo');
  await eventually(async () => (await podsOf('solo')).length === 0, { timeoutMs: 30_000, message: 'solo pods gone' });
});

test.serial('a topology spread of 6 replicas over 3 nodes gives 2/2/2', async (t) => {
  const spread = { topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'spread' } } }] };
  t.is((await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', deployment('spread', 6, spread))).status, 201);
  const pods = await eventually(async () => {
    const ps = await podsOf('spread');
    return ps.length === 6 && ps.every((p) => p.spec.nodeName) ? ps : undefined;
  }, { timeoutMs: 30_000, message: '6 bound' });
  t.deepEqual(perNode(pods), [2, 2, 2]);
  await cluster.api.delete('/apis/apps/v1/namespaces/default/deployments/spread');
  await eventually(async () => (await podsOf('spread')).length === 0, { timeoutMs: 30_000, message: 'spread pods gone' });
});

test.serial('minDomains above the number of nodes: the global minimum counts as 0, so one replica a node and the rest Pending', async (t) => {
  // Kubernetes: with fewer eligible domains than minDomains, the skew is measured against 0.
  const spread = { topologySpreadConstraints: [{ maxSkew: 1, minDomains: 4, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'domains' } } }] };
  t.is((await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', deployment('domains', 5, spread))).status, 201);
  const pods = await eventually(async () => {
    const ps = await podsOf('domains');
    const unschedulable = ps.filter((p) => (p.status?.conditions ?? []).some((c: any) => c.type === 'PodScheduled' && c.reason === 'Unschedulable'));
    return ps.length === 5 && ps.filter((p) => p.spec.nodeName).length === 3 && unschedulable.length === 2 ? ps : undefined;
  }, { timeoutMs: 30_000, message: '3 bound, 2 unschedulable' });
  t.deepEqual(perNode(pods), [1, 1, 1]);
  const cond = pods.find((p) => !p.spec.nodeName).status.conditions.find((c: any) => c.type === 'PodScheduled');
  t.regex(cond.message, /^0\/3 nodes are available: 3 node\(s\) didn't match pod topology spread constraints\.$/);
  await cluster.api.delete('/apis/apps/v1/namespaces/default/deployments/domains');
  await eventually(async () => (await podsOf('domains')).length === 0, { timeoutMs: 30_000, message: 'domains pods gone' });
});

test.serial('PriorityClass: unknown class refused; a high-priority pod preempts a low-priority one on a full cluster', async (t) => {
  const pc = (name: string, value: number) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value });
  t.is((await cluster.api.post('/apis/scheduling.k8s.io/v1/priorityclasses', pc('low', 10))).status, 201);
  t.is((await cluster.api.post('/apis/scheduling.k8s.io/v1/priorityclasses', pc('high', 1000))).status, 201);
  const builtins = (await cluster.api.get('/apis/scheduling.k8s.io/v1/priorityclasses')).body.items.map((c: any) => c.metadata.name);
  t.true(builtins.includes('system-node-critical') && builtins.includes('system-cluster-critical'));

  const bad = await cluster.api.post('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'bad' }, spec: { priorityClassName: 'nope', containers: [{ name: 'c', image: 'nginx' }] } });
  t.is(bad.status, 403);
  t.is(bad.body.message, 'pods "bad" is forbidden: no PriorityClass with name nope was found');

  // Fill every node: 3 low-priority pods of 800m on 1000m nodes.
  t.is((await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', deployment('filler', 3, { priorityClassName: 'low' }, '800m'))).status, 201);
  const fillers = await eventually(async () => {
    const ps = await podsOf('filler');
    return ps.length === 3 && ps.every((p) => p.spec.nodeName) ? ps : undefined;
  }, { timeoutMs: 30_000, message: 'fillers bound' });
  t.deepEqual(perNode(fillers), [1, 1, 1]);
  t.is(fillers[0].spec.priority, 10);

  const vip = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'vip', labels: { app: 'vip' } }, spec: { priorityClassName: 'high', containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '500m' } } }] } };
  const created = await cluster.api.post('/api/v1/namespaces/default/pods', vip);
  t.is(created.status, 201);
  t.is(created.body.spec.priority, 1000);
  t.is(created.body.spec.preemptionPolicy, 'PreemptLowerPriority');
  const bound = await eventually(async () => {
    const p = (await cluster.api.get('/api/v1/namespaces/default/pods/vip')).body;
    return p.spec?.nodeName ? p : undefined;
  }, { timeoutMs: 45_000, message: 'vip bound' });
  const events = (await cluster.api.get('/api/v1/namespaces/default/events')).body.items;
  const preempted = events.filter((e: any) => e.reason === 'Preempted');
  t.is(preempted.length, 1);
  t.is(preempted[0].message, `Preempted by pod ${created.body.metadata.uid} on node ${bound.spec.nodeName}`);
  t.true(fillers.some((f) => f.metadata.name === preempted[0].involvedObject.name && f.spec.nodeName === bound.spec.nodeName));
  // The ReplicaSet's replacement for the victim fits nowhere and stays Pending (it may not preempt its equals).
  await new Promise((r) => setTimeout(r, 2000));
  const now = await podsOf('filler');
  t.is(now.filter((p) => p.spec.nodeName).length, 2);
});

test.serial('kubectl get priorityclasses prints NAME VALUE GLOBAL-DEFAULT AGE', async (t) => {
  const got = await kubectl(['get', 'pc']);
  if (got.code !== 0) throw new Error(got.stderr);
  const out = got.stdout;
  const lines = out.trim().split('\n').map((l) => l.split(/\s+/));
  t.deepEqual(lines[0], ['NAME', 'VALUE', 'GLOBAL-DEFAULT', 'AGE']);
  t.deepEqual(lines.slice(1).map((l) => l.slice(0, 3)), [
    ['high', '1000', 'false'],
    ['low', '10', 'false'],
    ['system-cluster-critical', '2000000000', 'false'],
    ['system-node-critical', '2000001000', 'false'],
  ]);
});
