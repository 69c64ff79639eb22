// What the registry of kinds gives every write, through the API server alone: Kubernetes' initial
// statuses, generations, generated Job selectors, write-only stringData, selectorless Services,
// protected system namespaces, events.k8s.io/v1, preconditions checked before validation, limits
// Kubernetes sets, and PUT /scale with exactly one winner per resourceVersion.
import test from 'ava';
import { startCluster, type Cluster } from '../helpers/cluster.ts';

let cluster: Cluster;

const NS = '/api/v1/namespaces/default';
const APPS = '/apis/apps/v1/namespaces/default';
const template = (app: string) => ({ metadata: { labels: { app } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } });

test.before(async () => {
  cluster = await startCluster({ schedulers: 0, controllerManagers: 0 });
});

test.after.always(async () => {
  await cluster?.stop();
});

test('create answers with Kubernetes\' initial status of each kind, whatever the client sent', async (t) => {
  const rs = await cluster.api.post(`${APPS}/replicasets`, { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'rs' }, spec: { replicas: 0, selector: { matchLabels: { app: 'rs' } }, template: template('rs') }, status: { replicas: 7 } });
  t.is(rs.status, 201, JSON.stringify(rs.body));
  t.deepEqual(rs.body.status, { replicas: 0 });
  const ds = await cluster.api.post(`${APPS}/daemonsets`, { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'ds' }, spec: { selector: { matchLabels: { app: 'ds' } }, template: template('ds') } });
  t.deepEqual(ds.body.status, { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 });
  t.is(ds.body.metadata.generation, 1);
  const changed = await cluster.api.patch(`${APPS}/daemonsets/ds`, { spec: { minReadySeconds: 5 } });
  t.is(changed.body.metadata.generation, 2, 'a DaemonSet counts spec changes');
  const pdb = await cluster.api.post('/apis/policy/v1/namespaces/default/poddisruptionbudgets', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'pdb' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'x' } } } });
  t.deepEqual(pdb.body.status, { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 });
  const deploy = await cluster.api.post(`${APPS}/deployments`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { selector: { matchLabels: { app: 'd' } }, template: template('d') }, status: { replicas: 3 } });
  t.deepEqual(deploy.body.status, {});
  const pod = await cluster.api.post(`${NS}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'guaranteed' }, spec: { containers: [{ name: 'c', image: 'busybox:1.36', resources: { limits: { cpu: '100m', memory: '16Mi' } } }] } });
  t.deepEqual(pod.body.status, { phase: 'Pending', qosClass: 'Guaranteed' });
});

test('a Job selects its own pods by a generated controller-uid selector and labels them with its name', async (t) => {
  const job = await cluster.api.post('/apis/batch/v1/namespaces/default/jobs', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'once' }, spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox:1.36' }] } } } });
  t.is(job.status, 201, JSON.stringify(job.body));
  const uid = job.body.metadata.uid;
  t.deepEqual(job.body.spec.selector, { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } });
  t.like(job.body.spec.template.metadata.labels, { 'batch.kubernetes.io/controller-uid': uid, 'controller-uid': uid, 'batch.kubernetes.io/job-name': 'once', 'job-name': 'once' });
});

test('Secret stringData is merged into data and never stored', async (t) => {
  const secret = await cluster.api.post(`${NS}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: Buffer.from('1').toString('base64') }, stringData: { b: 'two', a: 'one' } });
  t.is(secret.status, 201, JSON.stringify(secret.body));
  t.deepEqual(secret.body.data, { a: Buffer.from('one').toString('base64'), b: Buffer.from('two').toString('base64') });
  t.is(secret.body.stringData, undefined);
  const patched = await cluster.api.patch(`${NS}/secrets/s`, { stringData: { c: 'three' } });
  t.is(patched.body.data.c, Buffer.from('three').toString('base64'));
  t.is((await cluster.api.get(`${NS}/secrets/s`)).body.stringData, undefined);
});

test('the cluster\'s own namespaces may not be deleted; others may', async (t) => {
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    const refused = await cluster.api.delete(`/api/v1/namespaces/${name}`);
    t.is(refused.status, 403, name);
    t.is(refused.body.message, `namespaces "${name}" is forbidden: this namespace may not be deleted`);
    t.is((await cluster.api.get(`/api/v1/namespaces/${name}`)).body.metadata.deletionTimestamp, undefined);
  }
  await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } });
  t.is((await cluster.api.delete('/api/v1/namespaces/scratch')).status, 200);
});

test('events.k8s.io/v1 serves the same Events in its own field names', async (t) => {
  const EV1 = '/apis/events.k8s.io/v1/namespaces/default/events';
  const body = { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e1' }, eventTime: '2026-12-02T10:00:00.000000Z', action: 'Testing', reason: 'Tested', note: 'hello', type: 'Normal', reportingController: 'wharf.io/test', reportingInstance: 'test-1', regarding: { kind: 'Pod', namespace: 'default', name: 'p', apiVersion: 'v1' } };
  const created = await cluster.api.post(EV1, body);
  t.is(created.status, 201, JSON.stringify(created.body));
  t.like(created.body, { apiVersion: 'events.k8s.io/v1', kind: 'Event', note: 'hello', reportingController: 'wharf.io/test', regarding: { name: 'p' } });
  const core = (await cluster.api.get(`${NS}/events/e1`)).body;
  t.like(core, { apiVersion: 'v1', kind: 'Event', message: 'hello', reportingComponent: 'wharf.io/test', involvedObject: { name: 'p' }, eventTime: '2026-12-02T10:00:00.000000Z' });
  t.is(core.note, undefined);
  const listed = (await cluster.api.get(EV1)).body;
  t.is(listed.kind, 'EventList');
  t.is(listed.apiVersion, 'events.k8s.io/v1');
  t.true(listed.items.some((e: any) => e.metadata.name === 'e1' && e.note === 'hello'));
  const patched = await cluster.api.patch(`${EV1}/e1`, { note: 'changed' });
  t.is(patched.body.note, 'changed');
  t.is((await cluster.api.get(`${NS}/events/e1`)).body.message, 'changed');
  const incomplete = await cluster.api.post(EV1, { apiVersion: 'events.k8s.io/v1', kind: 'Event', metadata: { name: 'e2' }, note: 'x' });
  t.is(incomplete.status, 422);
  t.regex(incomplete.body.message, /eventTime: Required value/);
  const missing = await cluster.api.get(`${EV1}/nothing`);
  t.is(missing.status, 404);
  t.is(missing.body.message, 'events.events.k8s.io "nothing" not found');
  const groups = (await cluster.api.get('/apis')).body.groups.map((g: any) => g.name);
  t.true(groups.includes('events.k8s.io'));
});

test('a stale resourceVersion is a 409 even when the update is also invalid (preconditions come first)', async (t) => {
  const created = (await cluster.api.post(`${APPS}/deployments`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'pre' }, spec: { selector: { matchLabels: { app: 'pre' } }, template: template('pre') } })).body;
  await cluster.api.patch(`${APPS}/deployments/pre`, { metadata: { labels: { moved: 'on' } } });
  const stale = await cluster.api.put(`${APPS}/deployments/pre`, { ...created, spec: { ...created.spec, selector: { matchLabels: { app: 'other' } } } });
  t.is(stale.status, 409, JSON.stringify(stale.body));
});

test('limits Kubernetes sets are refused with a 422 naming the field', async (t) => {
  const refusals: [string, unknown, RegExp][] = [
    [`${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big' }, data: { a: 'x'.repeat(1024 * 1024 + 1) } }, /Too long: may not be more than 1048576 bytes/],
    [`${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'bin' }, binaryData: { a: 'not base64!' } }, /binaryData\[a\]: Invalid value: "<binary data>": must be base64-encoded/],
    [`${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'Upper-' } }, /metadata.generateName: Invalid value: "Upper-"/],
    [`${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'x'.repeat(300) } }, /metadata.generateName: Invalid value: .*must be no more than 253 characters/],
    ['/apis/coordination.k8s.io/v1/namespaces/default/leases', { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { leaseDurationSeconds: -1 } }, /spec.leaseDurationSeconds/],
    [`${APPS}/deployments`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'huge' }, spec: { replicas: 2 ** 31, selector: { matchLabels: { app: 'h' } }, template: template('h') } }, /spec.replicas: Invalid value: 2147483648: must be less than or equal to 2147483647/],
    [`${NS}/pods`, { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'escape' }, spec: { volumes: [{ name: 'v', emptyDir: {} }], containers: [{ name: 'c', image: 'busybox:1.36', volumeMounts: [{ name: 'v', mountPath: '/v', subPath: '../../..' }] }] } }, /subPath: Invalid value: "..\/..\/..": must not contain '..'/],
    [`${NS}/endpoints`, { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'lo' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }] }, /may not be in the loopback range/],
  ];
  for (const [path, body, message] of refusals) {
    const res = await cluster.api.post(path, body);
    t.is(res.status, 422, `${path}: ${JSON.stringify(res.body).slice(0, 300)}`);
    t.regex(res.body.message, message);
  }
});

test('of concurrent PUTs to /scale with one resourceVersion, exactly one wins', async (t) => {
  const created = (await cluster.api.post(`${APPS}/deployments`, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'scaled' }, spec: { replicas: 1, selector: { matchLabels: { app: 's' } }, template: template('s') } })).body;
  const scale = (await cluster.api.get(`${APPS}/deployments/scaled/scale`)).body;
  t.is(scale.metadata.resourceVersion, created.metadata.resourceVersion);
  const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => cluster.api.put(`${APPS}/deployments/scaled/scale`, { ...scale, spec: { replicas: i + 2 } })));
  const codes = answers.map((a) => a.status);
  t.is(codes.filter((c) => c === 200).length, 1, codes.join(','));
  t.is(codes.filter((c) => c === 409).length, 39);
  const after = (await cluster.api.get(`${APPS}/deployments/scaled`)).body;
  t.is(after.metadata.generation, 2, 'one change of the spec');
  t.is(after.spec.replicas, answers.find((a) => a.status === 200)!.body.spec.replicas);
});
