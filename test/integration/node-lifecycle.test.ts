// Node failure is a non-event: a node agent killed outright stops renewing its Lease; the node
// lifecycle controller marks the node Ready=Unknown and taints it unreachable, its pods are evicted
// when their (default) toleration runs out, and their ReplicaSet replaces them on the healthy node.
// The agent that comes back clears the taints by posting Ready again, and removes the containers
// of the pods that were moved meanwhile. Short settings: 4 s grace, 2 s toleration, 1 s heartbeat.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, startRedis, eventually, type Cluster } from '../helpers/cluster.ts';
import { connectRedis } from '../../shared/redis.ts';
import { Keys } from '../../shared/keys.ts';
import { Store } from '../../shared/store/store.ts';
import { DEFAULT_ADMISSION } from '../../shared/registry/admission.ts';
import { EventRecorder } from '../../shared/events.ts';
import { createLogger } from '../../shared/log.ts';
import { NodeAgent } from '../../services/node-agent/agent.ts';
import { SimulatedRuntime } from '../../services/node-agent/runtime/simulated.ts';
import type { Pod } from '../../shared/types.ts';

const suffix = randomBytes(3).toString('hex');
const NODE_A = `sim-a-${suffix}`;
const NODE_B = `sim-b-${suffix}`;
const agentEnv = (name: string) => ({ WHARF_RUNTIME: 'simulated', WHARF_NODE_NAME: name });
let cluster: Cluster;

test.before(async () => {
  cluster = await startCluster({
    agents: [agentEnv(NODE_A), agentEnv(NODE_B)],
    env: { WHARF_NODE_MONITOR_GRACE: '4s', WHARF_POD_EVICTION_TOLERATION: '2s', WHARF_HEARTBEAT: '1s' },
  });
  await cluster.waitForNodes([NODE_A, NODE_B]);
});

test.after.always(async (t) => {
  if (process.env.WHARF_TEST_DEBUG) t.log(cluster?.dumpLogs());
  await cluster?.stop();
});

const readyOf = (node: any) => (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
const getNode = async (name: string) => (await cluster.api.get(`/api/v1/nodes/${name}`)).body;
const podsOf = async (app: string): Promise<Pod[]> => (await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items ?? [];

test.serial('every node agent keeps a Lease in kube-node-lease, owned by its Node and renewed every heartbeat', async (t) => {
  const node = await getNode(NODE_A);
  const lease = await eventually(async () => {
    const res = await cluster.api.get(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE_A}`);
    return res.status === 200 ? res.body : undefined;
  }, { message: 'lease' });
  t.like(lease.spec, { holderIdentity: NODE_A, leaseDurationSeconds: 40 });
  t.regex(lease.spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  t.deepEqual(lease.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Node', name: NODE_A, uid: node.metadata.uid }]);
  await eventually(async () => {
    const again = (await cluster.api.get(`/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/${NODE_A}`)).body;
    return Date.parse(again.spec.renewTime) > Date.parse(lease.spec.renewTime);
  }, { timeoutMs: 5_000, message: 'a renewed lease' });
  t.pass();
});

test.serial('a killed node agent: Ready=Unknown, unreachable taints, its pods running on the other node within 15 s; back again, the taints go', async (t) => {
  const res = await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '500m', memory: '64Mi' } } }] },
      },
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  const before = await eventually(async () => {
    const pods = await podsOf('web');
    const running = pods.filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
    const nodes = new Set(running.map((p) => p.spec.nodeName));
    return running.length === 4 && nodes.has(NODE_A) && nodes.has(NODE_B) ? running : undefined;
  }, { timeoutMs: 30_000, intervalMs: 200, message: '4 running pods over both nodes' });
  const onA = before.filter((p) => p.spec.nodeName === NODE_A);
  t.true(onA.length >= 1);
  t.deepEqual(onA[0].spec.tolerations!.filter((x) => x.effect === 'NoExecute').map((x) => `${x.key}:${x.tolerationSeconds}`), ['node.kubernetes.io/not-ready:2', 'node.kubernetes.io/unreachable:2'], 'default tolerations from WHARF_POD_EVICTION_TOLERATION');

  const agentA = cluster.services.find((s) => s.name === 'node-agent' && s.logFile.includes('node-agent-0'))!;
  await agentA.kill('SIGKILL');
  const killedAt = Date.now();

  const silent = await eventually(async () => {
    const node = await getNode(NODE_A);
    const taints = (node.spec?.taints ?? []).filter((x: any) => x.key === 'node.kubernetes.io/unreachable');
    return readyOf(node)?.status === 'Unknown' && taints.length === 2 ? node : undefined;
  }, { timeoutMs: 15_000, intervalMs: 200, message: 'node Ready=Unknown and tainted' });
  t.like(readyOf(silent), { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
  for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) t.is(silent.status.conditions.find((c: any) => c.type === type).status, 'Unknown');
  const taints = silent.spec.taints.filter((x: any) => x.key === 'node.kubernetes.io/unreachable');
  t.deepEqual(taints.map((x: any) => x.effect).sort(), ['NoExecute', 'NoSchedule']);
  t.true(taints.every((x: any) => typeof x.timeAdded === 'string'));

  await eventually(async () => {
    const active = (await podsOf('web')).filter((p) => !p.metadata.deletionTimestamp);
    return active.length === 4 && active.every((p) => p.spec.nodeName === NODE_B && p.status?.phase === 'Running');
  }, { timeoutMs: Math.max(1, killedAt + 15_000 - Date.now()), intervalMs: 200, message: '4 pods running on the healthy node' });
  t.log(`pods running elsewhere ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);

  // The evicted pods are marked as Kubernetes marks them, and stay Terminating while their node is away.
  const evicted = (await podsOf('web')).filter((p) => onA.some((o) => o.metadata.uid === p.metadata.uid));
  t.is(evicted.length, onA.length);
  for (const p of evicted) {
    t.truthy(p.metadata.deletionTimestamp);
    t.like(p.status!.conditions!.find((c) => c.type === 'DisruptionTarget'), { status: 'True', reason: 'DeletionByTaintManager' });
    t.is(p.status!.conditions!.find((c) => c.type === 'Ready')?.status, 'False', 'its silent node no longer vouches for it');
  }
  const events = (await cluster.api.get('/api/v1/namespaces/default/events?fieldSelector=reason%3DTaintManagerEviction')).body.items as any[];
  t.true(onA.every((p) => events.some((e) => e.involvedObject.uid === p.metadata.uid && e.message === `Marking for deletion Pod default/${p.metadata.name}`)));

  // The agent comes back under the same name: Ready again, the taints go, the evicted pods finish.
  cluster.start('node-agent', { WHARF_AGENT_PORT: '0', ...agentEnv(NODE_A) }, 'node-agent-a-again');
  await eventually(async () => {
    const node = await getNode(NODE_A);
    return readyOf(node)?.status === 'True' && !(node.spec?.taints ?? []).some((x: any) => x.key === 'node.kubernetes.io/unreachable');
  }, { timeoutMs: 15_000, intervalMs: 200, message: 'node Ready again without the unreachable taints' });
  await eventually(async () => {
    const pods = await podsOf('web');
    return pods.length === 4 && pods.every((p) => p.spec.nodeName === NODE_B && !p.metadata.deletionTimestamp);
  }, { timeoutMs: 15_000, intervalMs: 200, message: 'the evicted pods gone' });
  t.pass();
});

test.serial('a pod bound to a node that does not exist is deleted once the grace period has passed', async (t) => {
  // Taken before the create: a slow answer must not count against the grace period.
  const created = Date.now();
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'orphan' },
    spec: { nodeName: `ghost-${suffix}`, containers: [{ name: 'c', image: 'sim:1' }] },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/default/pods/orphan')).status === 404, { timeoutMs: 15_000, intervalMs: 200, message: 'orphan deleted' });
  t.true(Date.now() - created >= 2_500, 'not before its grace period (4 s from a second-precision creation time)');
});

test('a node agent that comes back removes the containers of pods deleted, moved or replaced meanwhile', async (t) => {
  const redis = await startRedis();
  const connection = connectRedis(redis.url);
  // No controller manager makes ServiceAccounts here: pods are admitted without one.
  const store = new Store(connection, new Keys(`t${randomBytes(3).toString('hex')}`), undefined, { ...DEFAULT_ADMISSION, disabledPlugins: ['ServiceAccount'] });
  const log = createLogger('test', 'warn');
  const dataDir = mkdtempSync(join(tmpdir(), 'wharf-agent-'));
  const runtime = new SimulatedRuntime();
  const X = 'returning';
  let agent: NodeAgent | undefined;
  const connections = [connection];
  t.teardown(async () => {
    await agent?.stop();
    await runtime.close();
    for (const c of connections) c.disconnect();
    await redis.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  for (const name of ['default', 'kube-node-lease']) await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  const newPod = (name: string, nodeName: string) => store.create<Pod>('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName, containers: [{ name: 'c', image: 'sim:1' }] }, status: { phase: 'Pending' } });
  // What the runtime still runs from before, labelled for node X: a pod that stays, one that was
  // deleted, one that was moved to another node, one recreated under the same name, and one
  // evicted (deletionTimestamp set, its node away).
  const stays = await newPod('stays', X);
  const moved = await newPod('moved', 'elsewhere');
  const recreated = await newPod('recreated', X);
  const evicted = await newPod('evicted', X);
  await store.delete('pods', 'default', 'evicted');
  const leftovers = [
    { namespace: 'default', name: 'stays', uid: stays.metadata.uid! },
    { namespace: 'default', name: 'gone', uid: 'uid-of-a-deleted-pod' },
    { namespace: 'default', name: 'moved', uid: moved.metadata.uid! },
    { namespace: 'default', name: 'recreated', uid: 'uid-of-the-previous-recreated' },
    { namespace: 'default', name: 'evicted', uid: evicted.metadata.uid! },
  ];
  for (const p of leftovers) {
    const identity = { ...p, node: X };
    const sandbox = await runtime.ensureSandbox({ ...identity, hostname: p.name, ports: [] });
    await runtime.startContainer(identity, sandbox.id, { name: 'c', role: 'app', image: 'sim:1', imagePullPolicy: 'IfNotPresent', env: [], attempt: 0 });
  }
  t.is((await runtime.listContainers(X)).length, 10);

  agent = new NodeAgent({
    nodeName: X,
    store,
    runtime,
    events: new EventRecorder(store, 'kubelet', X, log),
    log,
    redis: connection,
    connect: () => {
      const c = connectRedis(redis.url);
      connections.push(c);
      return c;
    },
    backoff: { baseMs: 1_000, maxMs: 4_000, resetMs: 60_000 },
    heartbeatMs: 1_000,
    resyncMs: 2_000,
    concurrency: 4,
    maxPods: 110,
    dataDir,
  });
  await agent.start();

  const containers = await eventually(async () => {
    const list = await runtime.listContainers(X);
    const uids = new Set(list.map((c) => c.pod.uid));
    const expected = [stays.metadata.uid, recreated.metadata.uid];
    return uids.size === 2 && expected.every((u) => uids.has(u!)) && list.every((c) => c.state === 'running') ? list : undefined;
  }, { timeoutMs: 10_000, message: 'only the containers of pods bound here' });
  t.is(containers.filter((c) => c.pod.uid === stays.metadata.uid).length, 2, 'the pod that stays keeps its sandbox and container');
  await eventually(async () => (await store.get('pods', 'default', 'evicted')) === null, { timeoutMs: 10_000, message: 'the evicted pod finished' });
  t.truthy(await store.get('pods', 'default', 'moved'), 'a pod moved elsewhere is not touched');
});
