// The walking skeleton, end to end with real parts: a Deployment declared over HTTP runs as real
// Docker containers, heals itself, scales, survives an agent restart and is cleaned up.
import test from 'ava';
import Docker from 'dockerode';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';

const docker = new Docker();
const node = dockerNode('skeleton');
const NODE = node.name;
// As PID 1, node ignores SIGTERM unless it handles it; a well-behaved server exits on it.
const SERVER = "process.on('SIGTERM',()=>process.exit(0));require('http').createServer((q,s)=>s.end(require('os').hostname())).listen(3000)";

const seedYaml = (name: string, withCommand = true) => `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: 3
  selector:
    matchLabels:
      app: api
  template:
    metadata:
      labels:
        app: api
    spec:
      containers:
      - name: api
        image: node:20
        ports:
        - containerPort: 3000
${withCommand ? `        command: ["node", "-e", "${SERVER}"]\n` : ''}`;

let cluster: Cluster;

async function containersOf(podName?: string) {
  const list = await docker.listContainers({ all: true, filters: { label: [`io.wharf.node=${NODE}`] } });
  return list.filter((c) => !podName || c.Labels['io.wharf.pod.name'] === podName);
}

async function runningPods(selector = 'app=api') {
  const res = await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(selector)}`);
  return (res.body.items as any[]).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp && p.status.containerStatuses?.every((c: any) => c.ready));
}

async function answers(ip: string): Promise<string | undefined> {
  try {
    const res = await fetch(`http://${ip}:3000/`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? await res.text() : undefined;
  } catch {
    return undefined;
  }
}

async function waitForServingPods(count: number, timeoutMs: number) {
  return eventually(async () => {
    const pods = await runningPods();
    if (pods.length !== count) return undefined;
    const replies = await Promise.all(pods.map((p) => answers(p.status.podIP)));
    return replies.every(Boolean) ? pods : undefined;
  }, { timeoutMs, message: `${count} pods serving on :3000` });
}

test.before(async () => {
  cluster = await startDockerCluster(node, ['node:20', 'busybox:latest']);
});

test.after.always(async (t) => {
  if (cluster) {
    if (process.env.WHARF_TEST_DEBUG) t.log(cluster.dumpLogs());
    await cluster.stop();
  }
  await removeDockerNode(node, docker);
});

test.serial('the seed manifest as YAML runs 3 containers that answer on port 3000 within 10 s', async (t) => {
  const started = Date.now();
  const res = await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', seedYaml('api-server'), 'application/yaml');
  t.is(res.status, 201, JSON.stringify(res.body));
  t.is(res.body.spec.strategy.type, 'RollingUpdate');
  t.is(res.body.spec.template.spec.restartPolicy, 'Always');
  const pods = await waitForServingPods(3, 10_000);
  t.log(`3 pods serving after ${Date.now() - started} ms`);
  t.is(pods.length, 3);
  const apps = (await containersOf()).filter((c) => c.Labels['io.wharf.container.role'] === 'app' && c.State === 'running');
  t.is(apps.length, 3);
  for (const c of apps) {
    for (const label of ['io.wharf.pod.namespace', 'io.wharf.pod.name', 'io.wharf.pod.uid', 'io.wharf.container.name', 'io.wharf.node']) t.truthy(c.Labels[label], label);
  }
  const d = await eventually(async () => {
    const r = await cluster.api.get('/apis/apps/v1/namespaces/default/deployments/api-server');
    return r.body.status?.availableReplicas === 3 ? r.body : undefined;
  }, { timeoutMs: 5000, message: 'deployment status' });
  t.is(d.status.readyReplicas, 3);
  t.is(d.status.updatedReplicas, 3);
  t.is(d.status.observedGeneration, d.metadata.generation);
  t.truthy(d.status.conditions.find((c: any) => c.type === 'Available' && c.status === 'True'));
});

test.serial('a container killed with docker kill runs again within 5 s', async (t) => {
  const [victim] = (await containersOf()).filter((c) => c.Labels['io.wharf.container.role'] === 'app' && c.State === 'running');
  const podName = victim.Labels['io.wharf.pod.name'];
  await docker.getContainer(victim.Id).kill();
  const started = Date.now();
  const pod = await eventually(async () => {
    const p = (await cluster.api.get(`/api/v1/namespaces/default/pods/${podName}`)).body;
    const cs = p.status?.containerStatuses?.[0];
    return cs?.restartCount >= 1 && cs.ready && (await answers(p.status.podIP)) ? p : undefined;
  }, { timeoutMs: 5000, message: 'container restarted' });
  t.log(`restarted after ${Date.now() - started} ms`);
  t.is(pod.status.containerStatuses[0].lastState.terminated.exitCode, 137);
  t.is((await runningPods()).length, 3);
});

test.serial('a deleted pod is replaced by a new one with a new name and uid', async (t) => {
  const before = await runningPods();
  const victim = before[0];
  const del = await cluster.api.delete(`/api/v1/namespaces/default/pods/${victim.metadata.name}`);
  t.is(del.status, 200);
  const pods = await waitForServingPods(3, 15_000);
  t.false(pods.some((p: any) => p.metadata.name === victim.metadata.name || p.metadata.uid === victim.metadata.uid));
  await eventually(async () => (await containersOf(victim.metadata.name)).length === 0, { timeoutMs: 10_000, message: 'old containers removed' });
});

test.serial('scaling to 5 and back to 2 converges', async (t) => {
  let res = await cluster.api.patch('/apis/apps/v1/namespaces/default/deployments/api-server/scale', { spec: { replicas: 5 } });
  t.is(res.status, 200);
  t.is(res.body.kind, 'Scale');
  await waitForServingPods(5, 15_000);
  res = await cluster.api.patch('/apis/apps/v1/namespaces/default/deployments/api-server', { spec: { replicas: 2 } });
  t.is(res.status, 200);
  await waitForServingPods(2, 15_000);
  // Running ones: a restarted pod keeps its previous, exited container for `logs --previous`.
  await eventually(async () => (await containersOf()).filter((c) => c.Labels['io.wharf.container.role'] === 'app' && c.State === 'running').length === 2, { timeoutMs: 15_000, message: '2 running app containers' });
  t.pass();
});

test.serial('restarting the node agent leaves exactly the right containers running', async (t) => {
  const agent = cluster.services.find((s) => s.name === 'node-agent')!;
  const before = (await containersOf()).filter((c) => c.State === 'running').map((c) => c.Id).sort();
  await agent.kill('SIGKILL');
  // Change the world while the agent is away: one pod deleted.
  const [gone] = await runningPods();
  await cluster.api.delete(`/api/v1/namespaces/default/pods/${gone.metadata.name}?gracePeriodSeconds=0`);
  cluster.start('node-agent', { ...node.env, WHARF_AGENT_PORT: '0' }, 'node-agent-restarted');
  const pods = await waitForServingPods(2, 20_000);
  await eventually(async () => {
    const running = (await containersOf()).filter((c) => c.State === 'running');
    const uids = new Set(pods.map((p: any) => p.metadata.uid));
    // one container per live pod (a pod of one container needs no sandbox), nothing else
    return running.length === 2 && running.every((c) => uids.has(c.Labels['io.wharf.pod.uid']));
  }, { timeoutMs: 15_000, message: 'exactly 2 pods worth of containers' });
  const after = (await containersOf()).filter((c) => c.State === 'running').map((c) => c.Id);
  const kept = after.filter((id) => before.includes(id));
  t.is(kept.length, 1, 'the untouched pod kept its container (no duplicates, no restarts)');
});

test.serial('deleting the Deployment removes every pod and container within 10 s', async (t) => {
  const res = await cluster.api.delete('/apis/apps/v1/namespaces/default/deployments/api-server');
  t.is(res.status, 200);
  const started = Date.now();
  await eventually(async () => {
    const pods = (await cluster.api.get('/api/v1/namespaces/default/pods')).body.items;
    const rs = (await cluster.api.get('/apis/apps/v1/namespaces/default/replicasets')).body.items;
    return pods.length === 0 && rs.length === 0 && (await containersOf()).length === 0;
  }, { timeoutMs: 10_000, message: 'everything removed' });
  t.log(`cleaned up after ${Date.now() - started} ms`);
  t.pass();
});

test.serial('the seed manifest as JSON works the same', async (t) => {
  const { parse } = await import('yaml');
  const manifest = parse(seedYaml('api-json'));
  const res = await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', manifest);
  t.is(res.status, 201);
  await waitForServingPods(3, 10_000);
  await cluster.api.delete('/apis/apps/v1/namespaces/default/deployments/api-json');
  await eventually(async () => (await containersOf()).length === 0, { timeoutMs: 10_000, message: 'cleanup' });
  t.pass();
});

test.serial('the seed manifest exactly as written (no command) crash-loops with a rising restartCount', async (t) => {
  const res = await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', seedYaml('crashy', false), 'application/yaml');
  t.is(res.status, 201);
  const pods = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dapi')).body.items as any[];
    return items.length === 3 && items.every((p) => p.status?.containerStatuses?.[0]?.restartCount >= 2) ? items : undefined;
  }, { timeoutMs: 30_000, message: 'restartCount >= 2 on every pod' });
  const cs = pods[0].status.containerStatuses[0];
  t.is(cs.lastState.terminated.reason, 'Completed');
  t.is(cs.lastState.terminated.exitCode, 0);
  t.is(pods[0].status.phase, 'Running');
  const later = await eventually(async () => {
    const p = (await cluster.api.get(`/api/v1/namespaces/default/pods/${pods[0].metadata.name}`)).body;
    return p.status.containerStatuses[0].restartCount > cs.restartCount ? p : undefined;
  }, { timeoutMs: 20_000, message: 'restartCount keeps rising' });
  t.true(later.status.containerStatuses[0].restartCount > cs.restartCount);
  const waiting = await eventually(async () => {
    const p = (await cluster.api.get(`/api/v1/namespaces/default/pods/${pods[0].metadata.name}`)).body;
    return p.status.containerStatuses[0].state.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
  }, { timeoutMs: 20_000, intervalMs: 50, message: 'CrashLoopBackOff shown' });
  t.truthy(waiting);
  await cluster.api.delete('/apis/apps/v1/namespaces/default/deployments/crashy');
  await eventually(async () => (await containersOf()).length === 0, { timeoutMs: 15_000, message: 'cleanup' });
});

test.serial('an image that is absent and cannot be pulled shows ErrImagePull / ImagePullBackOff, and the agent keeps going', async (t) => {
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'no-image' },
    spec: { containers: [{ name: 'c', image: 'wharf-test/absent:1' }] },
  });
  t.is(res.status, 201);
  const reasons = new Set<string>();
  await eventually(async () => {
    const p = (await cluster.api.get('/api/v1/namespaces/default/pods/no-image')).body;
    const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
    if (waiting?.reason) reasons.add(waiting.reason);
    return reasons.has('ErrImagePull') && reasons.has('ImagePullBackOff') ? p : undefined;
  }, { timeoutMs: 20_000, intervalMs: 50, message: 'ErrImagePull then ImagePullBackOff' });
  const p = (await cluster.api.get('/api/v1/namespaces/default/pods/no-image')).body;
  t.is(p.status.phase, 'Pending');
  t.truthy(p.status.containerStatuses[0].state.waiting.message, 'the engine message is shown');
  const events = (await cluster.api.get('/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dno-image')).body.items as any[];
  t.true(events.some((e) => e.type === 'Warning' && e.reason === 'Failed' && e.message.includes('wharf-test/absent:1')));
  // The agent still serves other pods.
  const ok = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'after-missing', labels: { app: 'api' } },
    spec: { containers: [{ name: 'api', image: 'node:20', command: ['node', '-e', SERVER] }] },
  });
  t.is(ok.status, 201);
  await waitForServingPods(1, 10_000);
  await cluster.api.delete('/api/v1/namespaces/default/pods/no-image');
  await cluster.api.delete('/api/v1/namespaces/default/pods/after-missing');
});
