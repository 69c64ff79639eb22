// ResourceQuota and LimitRange end to end, with a real redis-server, the API server, a controller
// manager and the real kubectl: `kubectl create quota` (a protobuf body), refusals in Kubernetes'
// words, quota charged exactly under concurrent creates (parallel clients, and a ReplicaSet's
// burst), usage given back when pods are deleted or finish, and a LimitRange's defaults landing
// in pod specs. No node agent runs: pods stay Pending, which is all quota needs.
import test, { type ExecutionContext } from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-quota-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ server: cluster.apiUrls[0], cacheDir: join(work, 'cache'), kubeconfig: join(work, 'none') }));
const { ok, fails } = kubectlAssertions(kubectl);

test.before(async () => {
  cluster = await startCluster({ schedulers: 0 });
});

test.after.always(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Each test its own namespace, so the tests of this file can run side by side. */
async function namespace(t: ExecutionContext, name: string): Promise<string> {
  const res = await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  t.is(res.status, 201, JSON.stringify(res.body));
  return name;
}

const podBody = (name: string, resources?: object, extra: object = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox', ...(resources ? { resources } : {}) }], ...extra },
});

const createPod = (ns: string, name: string, resources?: object, extra?: object) => cluster.api.post(`/api/v1/namespaces/${ns}/pods`, podBody(name, resources, extra));

async function quotaStatus(ns: string, name: string): Promise<any> {
  return (await cluster.api.get(`/api/v1/namespaces/${ns}/resourcequotas/${name}`)).body.status ?? {};
}

/** Waits until the controller has measured the quota and it reports `used` (as given). */
async function usedBecomes(ns: string, name: string, used: Record<string, string>, timeoutMs = 20_000): Promise<void> {
  let last: unknown;
  await eventually(async () => {
    const status = await quotaStatus(ns, name);
    last = status;
    return Object.entries(used).every(([k, v]) => status.used?.[k] === v);
  }, { timeoutMs, message: `quota ${ns}/${name} used ${JSON.stringify(used)}`, detail: () => `last status: ${JSON.stringify(last)}\n${cluster.dumpLogs()}` });
}

async function listPods(ns: string): Promise<any[]> {
  return (await cluster.api.get(`/api/v1/namespaces/${ns}/pods`)).body.items;
}

test('kubectl create quota sends protobuf; a third pod under pods=2 is refused as Kubernetes words it; describe and get show the usage; a deleted pod frees its share', async (t) => {
  const ns = await namespace(t, 'q-basic');
  t.is(await ok(t, 'create', 'quota', 'two', '--hard=cpu=1,pods=2', '-n', ns), 'resourcequota/two created\n');
  const stored = (await cluster.api.get(`/api/v1/namespaces/${ns}/resourcequotas/two`)).body;
  t.deepEqual(stored.spec, { hard: { cpu: '1', pods: '2' } });
  await usedBecomes(ns, 'two', { cpu: '0', pods: '0' });
  t.deepEqual((await quotaStatus(ns, 'two')).hard, { cpu: '1', pods: '2' });

  for (const name of ['a', 'b']) t.is((await createPod(ns, name, { requests: { cpu: '100m' } })).status, 201);
  const third = await createPod(ns, 'c', { requests: { cpu: '100m' } });
  t.is(third.status, 403);
  t.like(third.body, { kind: 'Status', reason: 'Forbidden', code: 403, message: 'pods "c" is forbidden: exceeded quota: two, requested: pods=1, used: pods=2, limited: pods=2', details: { name: 'c', kind: 'pods' } });
  // The same from kubectl, which prints the API's message.
  const refused = await fails(t, 'run', 'd', '--image=busybox', '--overrides={"spec":{"containers":[{"name":"d","image":"busybox","resources":{"requests":{"cpu":"100m"}}}]}}', '-n', ns);
  t.is(refused, 'Error from server (Forbidden): pods "d" is forbidden: exceeded quota: two, requested: pods=1, used: pods=2, limited: pods=2\n');
  // cpu is under quota: a pod that does not say how much it requests fails the quota.
  await ok(t, 'delete', 'pod', 'b', '-n', ns, '--wait=false');
  await usedBecomes(ns, 'two', { pods: '1', cpu: '100m' });
  const unstated = await createPod(ns, 'e');
  t.is(unstated.status, 403);
  t.is(unstated.body.message, 'pods "e" is forbidden: failed quota: two: must specify cpu for: c');

  t.is((await createPod(ns, 'f', { requests: { cpu: '950m' } })).status, 403, 'cpu 100m + 950m is over 1');
  const f = await createPod(ns, 'f', { requests: { cpu: '900m' } });
  t.is(f.status, 201, JSON.stringify(f.body));
  await usedBecomes(ns, 'two', { pods: '2', cpu: '1' });

  const described = await ok(t, 'describe', 'quota', 'two', '-n', ns);
  t.regex(described, /^Name:\s+two\nNamespace:\s+q-basic\nResource\s+Used\s+Hard\n-+\s+-+\s+-+\ncpu\s+1\s+1\npods\s+2\s+2\n$/m);
  const table = await ok(t, 'get', 'quota', '-n', ns);
  t.regex(table, /^NAME\s+AGE\s+REQUEST\s+LIMIT\ntwo\s+\S+\s+cpu: 1\/1, pods: 2\/2\s*\n$/);
  // kubectl describe namespace lists the quota too.
  t.regex(await ok(t, 'describe', 'namespace', ns), /Resource Quotas\n\s+Name:\s+two\n\s+Resource\s+Used\s+Hard\n[\s\S]*pods\s+2\s+2/);
});

test('20 pods created at once under pods=5: exactly 5 are admitted, and usage says 5', async (t) => {
  const ns = await namespace(t, 'q-race');
  t.is((await cluster.api.post(`/api/v1/namespaces/${ns}/resourcequotas`, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'five' }, spec: { hard: { pods: '5' } } })).status, 201);
  await usedBecomes(ns, 'five', { pods: '0' });
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => createPod(ns, `p${i}`)));
  const admitted = results.filter((r) => r.status === 201);
  const refused = results.filter((r) => r.status === 403);
  t.is(admitted.length, 5, results.map((r) => `${r.status} ${r.body.message ?? ''}`).join('\n'));
  t.is(refused.length, 15);
  for (const r of refused) t.regex(r.body.message, /^pods "p\d+" is forbidden: exceeded quota: five, requested: pods=1, used: pods=5, limited: pods=5$/);
  t.is((await listPods(ns)).length, 5);
  // The controller's recount agrees with the charges.
  await usedBecomes(ns, 'five', { pods: '5' });

  // A finished pod stops counting: its share is given back, and one more pod fits.
  const done = admitted[0].body;
  const finished = await cluster.api.put(`/api/v1/namespaces/${ns}/pods/${done.metadata.name}/status`, { ...done, status: { ...done.status, phase: 'Succeeded' } });
  t.is(finished.status, 200, JSON.stringify(finished.body));
  await usedBecomes(ns, 'five', { pods: '4' });
  t.is((await createPod(ns, 'late')).status, 201);
  t.is((await createPod(ns, 'later')).status, 403);
});

test('a Deployment of 5 replicas under pods=3 gets exactly 3 pods, and its ReplicaSet reports the refusal', async (t) => {
  const ns = await namespace(t, 'q-deploy');
  t.is(await ok(t, 'create', 'quota', 'three', '--hard=pods=3', '-n', ns), 'resourcequota/three created\n');
  await usedBecomes(ns, 'three', { pods: '0' });
  t.is(await ok(t, 'create', 'deployment', 'web', '--image=busybox', '--replicas=5', '-n', ns), 'deployment.apps/web created\n');
  const event = await eventually(async () => {
    const events = (await cluster.api.get(`/api/v1/namespaces/${ns}/events`)).body.items as any[];
    return events.find((e) => e.involvedObject?.kind === 'ReplicaSet' && e.reason === 'FailedCreate');
  }, { timeoutMs: 30_000, message: 'FailedCreate event', detail: cluster.dumpLogs });
  t.is(event.type, 'Warning');
  t.regex(event.message, /^Error creating: pods "web-[a-z0-9]+-[a-z0-9]{5}" is forbidden: exceeded quota: three, requested: pods=1, used: pods=3, limited: pods=3$/);
  // The ReplicaSet keeps retrying with back-off; the quota holds it at 3 however often it tries.
  await usedBecomes(ns, 'three', { pods: '3' });
  t.is((await listPods(ns)).length, 3);
  const rs = (await cluster.api.get(`/apis/apps/v1/namespaces/${ns}/replicasets`)).body.items[0];
  const failure = rs.status?.conditions?.find((c: any) => c.type === 'ReplicaFailure');
  // The ReplicaFailure condition is another part of this work's (h-psa); when it is there, it says why.
  if (failure) t.regex(failure.message, /exceeded quota: three/);
  else t.log('no ReplicaFailure condition on this branch: the FailedCreate event reports the refusal');

  // Raising the quota lets the ReplicaSet finish.
  t.is((await cluster.api.patch(`/api/v1/namespaces/${ns}/resourcequotas/three`, { spec: { hard: { pods: '5' } } })).status, 200);
  await eventually(async () => (await listPods(ns)).length === 5, { timeoutMs: 30_000, message: '5 pods once the quota allows them', detail: cluster.dumpLogs });
  await usedBecomes(ns, 'three', { pods: '5' });
});

test('a LimitRange gives containers its defaults (annotated, QoS computed after), refuses what exceeds max, and kubectl describes it', async (t) => {
  const ns = await namespace(t, 'q-limits');
  const manifest = join(work, 'limits.yaml');
  writeFileSync(manifest, `apiVersion: v1
kind: LimitRange
metadata:
  name: bounds
spec:
  limits:
  - type: Container
    max:
      cpu: 500m
      memory: 512Mi
    min:
      cpu: 50m
    default:
      cpu: 200m
      memory: 256Mi
    defaultRequest:
      cpu: 100m
      memory: 128Mi
  - type: Pod
    max:
      memory: 1Gi
`);
  t.is(await ok(t, 'apply', '-f', manifest, '-n', ns), 'limitrange/bounds created\n');

  t.is((await createPod(ns, 'plain')).status, 201);
  const plain = (await cluster.api.get(`/api/v1/namespaces/${ns}/pods/plain`)).body;
  t.deepEqual(plain.spec.containers[0].resources, { limits: { cpu: '200m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  t.is(plain.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c');
  t.is(plain.status.qosClass, 'Burstable', 'the QoS class follows the defaults');

  // A container with limits only gets requests equal to them (the API's own default), and no more.
  t.is((await createPod(ns, 'pinned', { limits: { cpu: '300m', memory: '300Mi' } })).status, 201);
  const pinned = (await cluster.api.get(`/api/v1/namespaces/${ns}/pods/pinned`)).body;
  t.deepEqual(pinned.spec.containers[0].resources, { limits: { cpu: '300m', memory: '300Mi' }, requests: { cpu: '300m', memory: '300Mi' } });
  t.is(pinned.metadata.annotations?.['kubernetes.io/limit-ranger'], undefined);
  t.is(pinned.status.qosClass, 'Guaranteed');

  const big = await createPod(ns, 'big', { limits: { cpu: '1' } });
  t.is(big.status, 403);
  t.like(big.body, { reason: 'Forbidden', message: 'pods "big" is forbidden: maximum cpu usage per Container is 500m, but limit is 1' });
  const tiny = await createPod(ns, 'tiny', { requests: { cpu: '10m' } });
  t.is(tiny.body.message, 'pods "tiny" is forbidden: minimum cpu usage per Container is 50m, but request is 10m');
  const wide = await cluster.api.post(`/api/v1/namespaces/${ns}/pods`, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'wide' },
    spec: { containers: ['a', 'b', 'c'].map((name) => ({ name, image: 'busybox', resources: { limits: { memory: '400Mi' } } })) },
  });
  t.is(wide.body.message, 'pods "wide" is forbidden: maximum memory usage per Pod is 1Gi, but limit is 1200Mi');
  // A default request above the container's own limit makes the pod invalid, as in Kubernetes.
  const clash = await createPod(ns, 'clash', { requests: { cpu: '300m' } });
  t.is(clash.status, 422);
  t.is(clash.body.message, 'Pod "clash" is invalid: spec.containers[0].resources.requests: Invalid value: "300m": must be less than or equal to cpu limit of 200m');

  // The same through a Deployment: the ReplicaSet's pods are admitted exactly like a user's.
  t.is(await ok(t, 'create', 'deployment', 'web', '--image=busybox', '-n', ns), 'deployment.apps/web created\n');
  const fromRs = await eventually(async () => (await listPods(ns)).find((p) => p.metadata.name.startsWith('web-')), { timeoutMs: 30_000, message: 'a pod of the Deployment' });
  t.is(fromRs.metadata.annotations['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container busybox; cpu, memory limit for container busybox');

  const described = await ok(t, 'describe', 'limits', 'bounds', '-n', ns);
  t.regex(described, /Type\s+Resource\s+Min\s+Max\s+Default Request\s+Default Limit\s+Max Limit\/Request Ratio/);
  t.regex(described, /Container\s+cpu\s+50m\s+500m\s+100m\s+200m\s+-/);
  t.regex(described, /Container\s+memory\s+-\s+512Mi\s+128Mi\s+256Mi\s+-/);
  t.regex(described, /Pod\s+memory\s+-\s+1Gi\s+-\s+-\s+-/);
  t.regex(await ok(t, 'get', 'limits', '-n', ns), /^NAME\s+CREATED AT\nbounds\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);

  const invalid = await cluster.api.post(`/api/v1/namespaces/${ns}/limitranges`, { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'bad' }, spec: { limits: [{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }] } });
  t.is(invalid.status, 422);
  t.regex(invalid.body.message, /^LimitRange "bad" is invalid: \[spec\.limits\[0\]\.min\[cpu\]: Invalid value: "2": min value 2 is greater than max value 1, /);
});

test('a LimitRange default satisfies a cpu quota; object counts and node ports are counted too', async (t) => {
  const ns = await namespace(t, 'q-counts');
  await cluster.api.post(`/api/v1/namespaces/${ns}/resourcequotas`, {
    apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'objects' },
    spec: { hard: { 'requests.cpu': '1', 'limits.memory': '1Gi', resourcequotas: '2', 'count/deployments.apps': '1', 'services.nodeports': '1' } },
  });
  // A quota counts itself among the namespace's quotas.
  await usedBecomes(ns, 'objects', { 'requests.cpu': '0', resourcequotas: '1', 'count/deployments.apps': '0', 'services.nodeports': '0' });
  t.is((await createPod(ns, 'bare')).body.message, 'pods "bare" is forbidden: failed quota: objects: must specify limits.memory for: c; requests.cpu for: c');
  await cluster.api.post(`/api/v1/namespaces/${ns}/limitranges`, { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'd' }, spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '256Mi' } }] } });
  t.is((await createPod(ns, 'defaulted')).status, 201);
  await usedBecomes(ns, 'objects', { 'requests.cpu': '500m', 'limits.memory': '256Mi' });

  const quotaNamed = (name: string) => ({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard: { 'count/jobs.batch': '10' } } });
  t.is((await cluster.api.post(`/api/v1/namespaces/${ns}/resourcequotas`, quotaNamed('second'))).status, 201);
  t.is((await cluster.api.post(`/api/v1/namespaces/${ns}/resourcequotas`, quotaNamed('third'))).body.message, 'resourcequotas "third" is forbidden: exceeded quota: objects, requested: resourcequotas=1, used: resourcequotas=2, limited: resourcequotas=2');
  t.is(await ok(t, 'create', 'deployment', 'one', '--image=busybox', '--replicas=0', '-n', ns), 'deployment.apps/one created\n');
  t.is(await fails(t, 'create', 'deployment', 'two', '--image=busybox', '--replicas=0', '-n', ns), 'error: failed to create deployment: deployments.apps "two" is forbidden: exceeded quota: objects, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1\n');
  const svc = (name: string, type: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type, ports: [{ port: 80 }], selector: { app: 'x' } } });
  t.is((await cluster.api.post(`/api/v1/namespaces/${ns}/services`, svc('np', 'NodePort'))).status, 201);
  const second = await cluster.api.post(`/api/v1/namespaces/${ns}/services`, svc('np2', 'NodePort'));
  t.is(second.body.message, 'services "np2" is forbidden: exceeded quota: objects, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1');
  // An update that takes a node port is charged too.
  t.is((await cluster.api.post(`/api/v1/namespaces/${ns}/services`, svc('cip', 'ClusterIP'))).status, 201);
  const toNodePort = await cluster.api.patch(`/api/v1/namespaces/${ns}/services/cip`, { spec: { type: 'NodePort' } });
  t.is(toNodePort.status, 403);
  t.regex(toNodePort.body.message, /exceeded quota: objects, requested: services.nodeports=1/);
  // Deleting the NodePort Service gives its node port back.
  t.is((await cluster.api.delete(`/api/v1/namespaces/${ns}/services/np`)).status, 200);
  await usedBecomes(ns, 'objects', { 'services.nodeports': '0' });
  t.is((await cluster.api.patch(`/api/v1/namespaces/${ns}/services/cip`, { spec: { type: 'NodePort' } })).status, 200);
});
