// The API server against a real redis-server: Kubernetes' paths, verbs and shapes, the Status
// errors for bad input (and that a refused request changes nothing), resourceVersion
// compare-and-set, selectors, watches and their 410, finalizers and cascading deletion.
import test from 'ava';
import { Redis } from 'ioredis';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { storeSnapshot } from '../helpers/store-snapshot.ts';

let cluster: Cluster;
let redis: Redis;

const deployment = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, labels: { tier: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } },
    ...extra,
  },
});

const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';

/** Everything Wharf stores, to prove that refused requests leave it unchanged. */
const snapshot = () => storeSnapshot(redis, cluster.prefix);

test.before(async () => {
  // Only the API server: no controllers, so the store holds exactly what the tests write.
  cluster = await startCluster({ schedulers: 0, controllerManagers: 0, env: { WHARF_WATCH_HISTORY: '100' } });
  redis = new Redis(cluster.redis.url);
});

test.after.always(async () => {
  redis?.disconnect();
  await cluster?.stop();
});

test.serial('discovery and health', async (t) => {
  t.is((await cluster.api.get('/healthz')).body, 'ok');
  t.is((await cluster.api.get('/readyz')).status, 200);
  t.deepEqual((await cluster.api.get('/api')).body.versions, ['v1']);
  const groups = (await cluster.api.get('/apis')).body.groups.map((g: any) => g.name);
  t.true(groups.includes('apps'));
  const core = (await cluster.api.get('/api/v1')).body;
  const pods = core.resources.find((r: any) => r.name === 'pods');
  t.deepEqual(pods.shortNames, ['po']);
  t.true(pods.namespaced);
  const apps = (await cluster.api.get('/apis/apps/v1')).body;
  const scale = apps.resources.find((r: any) => r.name === 'deployments/scale');
  t.like(scale, { group: 'autoscaling', version: 'v1', kind: 'Scale' });
  t.like((await cluster.api.get('/version')).body, { major: '1', minor: '32' });
});

test.serial('create fills metadata and defaults; get, list, update and generation', async (t) => {
  const created = await cluster.api.post(DEPLOYMENTS, deployment('web'));
  t.is(created.status, 201, JSON.stringify(created.body));
  const d = created.body;
  t.regex(d.metadata.uid, /^[0-9a-f-]{36}$/);
  t.regex(d.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  t.is(d.metadata.generation, 1);
  t.is(d.metadata.namespace, 'default');
  t.like(d.spec, { revisionHistoryLimit: 10, progressDeadlineSeconds: 600 });
  t.like(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
  t.like(d.spec.template.spec, { restartPolicy: 'Always', terminationGracePeriodSeconds: 30 });
  t.is(d.spec.template.spec.containers[0].imagePullPolicy, 'IfNotPresent');

  const got = await cluster.api.get(`${DEPLOYMENTS}/web`);
  t.is(got.body.metadata.resourceVersion, d.metadata.resourceVersion);
  const list = await cluster.api.get(DEPLOYMENTS);
  t.is(list.body.kind, 'DeploymentList');
  t.is(list.body.items.length, 1);
  t.true(Number(list.body.metadata.resourceVersion) >= Number(d.metadata.resourceVersion));

  // A label change leaves generation alone; a spec change bumps it.
  const labelled = await cluster.api.patch(`${DEPLOYMENTS}/web`, { metadata: { labels: { extra: 'yes' } } });
  t.is(labelled.body.metadata.generation, 1);
  t.true(Number(labelled.body.metadata.resourceVersion) > Number(d.metadata.resourceVersion));
  const scaled = await cluster.api.patch(`${DEPLOYMENTS}/web`, { spec: { replicas: 4 } });
  t.is(scaled.body.metadata.generation, 2);
  t.is(scaled.body.spec.replicas, 4);

  // Status written through the main resource is ignored; through /status it is taken.
  const ignored = await cluster.api.patch(`${DEPLOYMENTS}/web`, { status: { replicas: 99 } });
  t.is(ignored.body.status?.replicas, undefined);
  const status = await cluster.api.patch(`${DEPLOYMENTS}/web/status`, { status: { replicas: 3 } });
  t.is(status.status, 200);
  t.is(status.body.status.replicas, 3);
  t.is(status.body.metadata.generation, 2);
});

test.serial('YAML bodies, JSON patch, strategic merge patch, scale subresource', async (t) => {
  const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: "1"\n`;
  const cm = await cluster.api.post('/api/v1/namespaces/default/configmaps', yaml, 'application/yaml');
  t.is(cm.status, 201);
  const jp = await cluster.api.patch('/api/v1/namespaces/default/configmaps/settings', [{ op: 'add', path: '/data/b', value: '2' }], 'application/json-patch+json');
  t.deepEqual(jp.body.data, { a: '1', b: '2' });
  const smp = await cluster.api.patch(`${DEPLOYMENTS}/web`, { spec: { template: { spec: { containers: [{ name: 'sidecar', image: 'busybox:1.36' }] } } } }, 'application/strategic-merge-patch+json');
  t.deepEqual(smp.body.spec.template.spec.containers.map((c: any) => c.name), ['c', 'sidecar']);
  const scale = await cluster.api.get(`${DEPLOYMENTS}/web/scale`);
  t.like(scale.body, { kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 4 }, status: { selector: 'app=web' } });
  const put = await cluster.api.put(`${DEPLOYMENTS}/web/scale`, { ...scale.body, spec: { replicas: 1 } });
  t.is(put.body.spec.replicas, 1);
  t.is((await cluster.api.get(`${DEPLOYMENTS}/web`)).body.spec.replicas, 1);
});

test.serial('bad input gets a Status with the right code and changes nothing', async (t) => {
  const before = await snapshot();
  const cases: [string, () => Promise<any>, number, string, string?][] = [
    ['malformed JSON', () => cluster.api.post(DEPLOYMENTS, '{"apiVersion": "apps/v1", "kind": '), 400, 'BadRequest'],
    ['malformed YAML', () => cluster.api.post(DEPLOYMENTS, 'apiVersion: apps/v1\nkind: [Deployment\n', 'application/yaml'), 400, 'BadRequest'],
    ['negative replicas', () => cluster.api.post(DEPLOYMENTS, deployment('bad', { replicas: -1 })), 422, 'Invalid', 'spec.replicas'],
    ['bad name', () => cluster.api.post(DEPLOYMENTS, { ...deployment('x'), metadata: { name: 'Bad_Name' } }), 422, 'Invalid', 'metadata.name'],
    ['missing image', () => cluster.api.post('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c' }] } }), 422, 'Invalid', 'spec.containers[0].image'],
    ['selector not matching template', () => cluster.api.post(DEPLOYMENTS, { ...deployment('mismatch'), spec: { ...deployment('mismatch').spec, selector: { matchLabels: { app: 'other' } } } }), 422, 'Invalid', 'spec.template.metadata.labels'],
    ['unknown kind path', () => cluster.api.get('/api/v1/namespaces/default/widgets'), 404, 'NotFound'],
    ['missing object', () => cluster.api.get(`${DEPLOYMENTS}/nope`), 404, 'NotFound'],
    ['missing namespace', () => cluster.api.post('/apis/apps/v1/namespaces/nowhere/deployments', deployment('x')), 404, 'NotFound'],
    ['duplicate create', () => cluster.api.post(DEPLOYMENTS, deployment('web')), 409, 'AlreadyExists'],
    ['stale update', async () => {
      const cur = (await cluster.api.get(`${DEPLOYMENTS}/web`)).body;
      return cluster.api.put(`${DEPLOYMENTS}/web`, { ...cur, metadata: { ...cur.metadata, resourceVersion: '1' }, spec: { ...cur.spec, replicas: 7 } });
    }, 409, 'Conflict'],
    ['body over 3 MiB', () => cluster.api.post('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'huge' }, data: { x: 'a'.repeat(3 * 1024 * 1024 + 10) } }), 413, 'RequestEntityTooLarge'],
    ['kind does not match the path', () => cluster.api.post(DEPLOYMENTS, { ...deployment('x'), kind: 'ReplicaSet' }), 400, 'BadRequest'],
    ['unknown field under Strict', () => cluster.api.request('POST', `${DEPLOYMENTS}?fieldValidation=Strict`, { ...deployment('strict'), spec: { ...deployment('strict').spec, replicaz: 3 } }), 400, 'BadRequest'],
    ['bad label selector', () => cluster.api.get(`${DEPLOYMENTS}?labelSelector=${encodeURIComponent('a in (b')}`), 400, 'BadRequest'],
    ['unsupported field selector', () => cluster.api.get('/api/v1/pods?fieldSelector=spec.foo%3Dx'), 400, 'BadRequest'],
    ['unsupported patch type', () => cluster.api.patch(`${DEPLOYMENTS}/web`, { spec: {} }, 'application/xml'), 415, 'UnsupportedMediaType'],
  ];
  for (const [what, call, code, reason, field] of cases) {
    const res = await call();
    t.is(res.status, code, `${what}: ${JSON.stringify(res.body).slice(0, 300)}`);
    t.like(res.body, { kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason }, what);
    t.truthy(res.body.message, what);
    if (field) t.true(res.body.details.causes.some((c: any) => c.field === field), `${what}: causes ${JSON.stringify(res.body.details?.causes)}`);
  }
  t.is(await snapshot(), before, 'no refused request changed the store');
  const invalid = await cluster.api.post(DEPLOYMENTS, deployment('bad', { replicas: -1 }));
  t.is(invalid.body.message, 'Deployment.apps "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0');
  t.is((await cluster.api.get(`${DEPLOYMENTS}/nope`)).body.message, 'deployments.apps "nope" not found');
});

test.serial('label and field selectors on list', async (t) => {
  for (const [name, labels] of [['a', { app: 'x', env: 'prod' }], ['b', { app: 'x', env: 'dev' }], ['c', { app: 'y' }]] as const) {
    await cluster.api.post('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `sel-${name}`, labels } });
  }
  const names = async (q: string) => ((await cluster.api.get(`/api/v1/namespaces/default/configmaps?${q}`)).body.items as any[]).map((i) => i.metadata.name).filter((n: string) => n.startsWith('sel-'));
  t.deepEqual(await names(`labelSelector=${encodeURIComponent('app=x')}`), ['sel-a', 'sel-b']);
  t.deepEqual(await names(`labelSelector=${encodeURIComponent('app=x,env!=dev')}`), ['sel-a']);
  t.deepEqual(await names(`labelSelector=${encodeURIComponent('env in (dev,prod)')}`), ['sel-a', 'sel-b']);
  t.deepEqual(await names(`labelSelector=${encodeURIComponent('!env')}`), ['sel-c']);
  t.deepEqual(await names(`labelSelector=${encodeURIComponent('env notin (prod)')}`), ['sel-b', 'sel-c']);
  t.deepEqual(await names(`fieldSelector=${encodeURIComponent('metadata.name=sel-b')}`), ['sel-b']);
  const all = (await cluster.api.get('/api/v1/configmaps')).body.items.length;
  t.true(all >= 3, 'cluster-wide list path');
  const page = await cluster.api.get('/api/v1/namespaces/default/configmaps?limit=2');
  t.is(page.body.items.length, 2);
  t.truthy(page.body.metadata.continue);
  const next = await cluster.api.get(`/api/v1/namespaces/default/configmaps?limit=2&continue=${encodeURIComponent(page.body.metadata.continue)}`);
  t.false(next.body.items.some((i: any) => page.body.items.some((p: any) => p.metadata.name === i.metadata.name)));
});

async function readWatch(path: string, until: (events: any[]) => boolean, timeoutMs = 5000): Promise<any[]> {
  return (await cluster.api.watch(path, until, timeoutMs)).events;
}

test.serial('watch: initial state, changes from a resourceVersion, selector transitions, 410 when too old', async (t) => {
  const cms = '/api/v1/namespaces/default/configmaps';
  const start = (await cluster.api.get(cms)).body.metadata.resourceVersion;
  // From a resourceVersion the watch reads the history after it: writes made before it connects are seen too.
  const pending = readWatch(`${cms}?watch=true&resourceVersion=${start}&labelSelector=watched%3Dyes`, (ev) => ev.length >= 3, 20_000);
  await cluster.api.post(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1', labels: { watched: 'yes' } }, data: { v: '1' } });
  await cluster.api.post(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w2', labels: { watched: 'no' } } });
  await cluster.api.patch(`${cms}/w1`, { data: { v: '2' } });
  await cluster.api.patch(`${cms}/w1`, { metadata: { labels: { watched: 'no' } } });
  const events = await pending;
  t.deepEqual(events.map((e) => `${e.type} ${e.object.metadata.name}`), ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
  t.is(events[1].object.data.v, '2');

  // Without a resourceVersion: the current objects first, as ADDED.
  const initial = await readWatch(`${cms}?watch=true&fieldSelector=metadata.name%3Dw2`, (ev) => ev.length >= 1);
  t.is(initial[0].type, 'ADDED');
  t.is(initial[0].object.metadata.name, 'w2');

  // A resourceVersion older than the retained history: an ERROR event with a 410 Expired Status.
  await redis.set(`${cluster.prefix}:compacted:configmaps`, String(Number(start) + 5));
  const expired = await readWatch(`${cms}?watch=true&resourceVersion=${start}`, (ev) => ev.length >= 1);
  t.is(expired[0].type, 'ERROR');
  t.like(expired[0].object, { kind: 'Status', code: 410, reason: 'Expired' });
  await redis.del(`${cluster.prefix}:compacted:configmaps`);
});

test.serial('watch history is compacted in Redis and old resourceVersions then answer 410', async (t) => {
  // This cluster keeps 100 events per kind (WHARF_WATCH_HISTORY): the write script trims the
  // stream and records how far it compacted, and watches from before that get 410.
  const cms = '/api/v1/namespaces/default/configmaps';
  const start = (await cluster.api.get(cms)).body.metadata.resourceVersion;
  await cluster.api.post(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'churn' }, data: { n: '0' } });
  for (let i = 1; i <= 400; i++) await cluster.api.patch(`${cms}/churn`, { data: { n: String(i) } });
  const length = await redis.xlen(`${cluster.prefix}:events:configmaps`);
  t.true(length < 400, `stream trimmed to ${length} entries`);
  const compacted = Number(await redis.get(`${cluster.prefix}:compacted:configmaps`));
  t.true(compacted > Number(start));
  const expired = await readWatch(`${cms}?watch=true&resourceVersion=${start}`, (ev) => ev.length >= 1);
  t.like(expired[0].object, { kind: 'Status', code: 410, reason: 'Expired' });
  const recent = await readWatch(`${cms}?watch=true&resourceVersion=${compacted}`, (ev) => ev.length >= 5);
  t.true(recent.length >= 5 && recent.every((e) => e.type === 'MODIFIED'));
});

test.serial('deletion: finalizers hold an object; foreground and orphan propagation set their finalizers', async (t) => {
  const cms = '/api/v1/namespaces/default/configmaps';
  await cluster.api.post(cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] } });
  const del = await cluster.api.delete(`${cms}/held`);
  t.is(del.status, 200);
  t.truthy(del.body.metadata.deletionTimestamp);
  t.is((await cluster.api.get(`${cms}/held`)).status, 200, 'still there while a finalizer remains');
  await cluster.api.patch(`${cms}/held`, { metadata: { finalizers: null } });
  t.is((await cluster.api.get(`${cms}/held`)).status, 404, 'gone once the last finalizer is removed');

  await cluster.api.post(DEPLOYMENTS, deployment('fg'));
  const fg = await cluster.api.delete(`${DEPLOYMENTS}/fg`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Foreground' });
  t.deepEqual(fg.body.metadata.finalizers, ['foregroundDeletion']);
  await cluster.api.post(DEPLOYMENTS, deployment('orph'));
  const orph = await cluster.api.delete(`${DEPLOYMENTS}/orph?propagationPolicy=Orphan`);
  t.deepEqual(orph.body.metadata.finalizers, ['orphan']);
  // As Kubernetes' ValidateDeleteOptions: 422 Invalid on DeleteOptions.
  const bad = await cluster.api.delete(`${DEPLOYMENTS}/web?propagationPolicy=Sometimes`);
  t.is(bad.status, 422);
});

test.serial('two API servers see the same state (the API server is stateless)', async (t) => {
  const port = (await import('../helpers/cluster.ts')).freePort;
  const p = await port();
  cluster.start('api', { WHARF_API_PORT: String(p) }, 'api-second');
  const second = cluster.client(`https://127.0.0.1:${p}`);
  await eventually(async () => (await second.get('/readyz')).status === 200, { timeoutMs: 15_000 });
  const created = await second.post('/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'via-second' } });
  t.is(created.status, 201);
  t.is((await cluster.api.get('/api/v1/namespaces/default/configmaps/via-second')).body.metadata.uid, created.body.metadata.uid);
});
