// The official JavaScript client (@kubernetes/client-node) against Wharf: list, an informer
// (list + watch) that sees add / update / delete, create, merge patch and delete.
import test from 'ava';
import * as k8s from '@kubernetes/client-node';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';

let cluster: Cluster;
let kc: k8s.KubeConfig;

test.before(async () => {
  cluster = await startCluster({ agents: [{ WHARF_NODE_NAME: 'cn-node', WHARF_RUNTIME: 'simulated' }] });
  // The cluster CA trusted (no skipTLSVerify) and the admin token, as a user's kubeconfig holds them.
  kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'wharf', server: cluster.apiUrls[0], caData: Buffer.from(cluster.ca).toString('base64') }],
    users: [{ name: 'admin', token: cluster.adminToken }],
    contexts: [{ name: 'wharf', cluster: 'wharf', user: 'admin', namespace: 'default' }],
    currentContext: 'wharf',
  });
});

test.after.always(async () => {
  await cluster?.stop();
});

test.serial('list nodes and namespaces', async (t) => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const nodes = await eventually(async () => {
    const list = await core.listNode();
    return list.items.length === 1 ? list : undefined;
  }, { timeoutMs: 15_000, message: 'node registered' });
  t.is(nodes.items[0].metadata?.name, 'cn-node');
  t.truthy(nodes.metadata?.resourceVersion);
  const namespaces = await core.listNamespace();
  t.deepEqual(namespaces.items.map((n) => n.metadata?.name).sort(), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);
  const version = await kc.makeApiClient(k8s.VersionApi).getCode();
  t.is(version.major, '1');
});

test.serial('an informer sees add, update and delete; create, merge patch, delete', async (t) => {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'before' }, data: { a: '1' } } });
  const seen: string[] = [];
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
  informer.on('add', (o: k8s.V1ConfigMap) => seen.push(`add ${o.metadata?.name} ${JSON.stringify(o.data ?? {})}`));
  informer.on('update', (o: k8s.V1ConfigMap) => seen.push(`update ${o.metadata?.name} ${JSON.stringify(o.data ?? {})}`));
  informer.on('delete', (o: k8s.V1ConfigMap) => seen.push(`delete ${o.metadata?.name}`));
  const errors: unknown[] = [];
  informer.on('error', (err: unknown) => errors.push(err));
  await informer.start();
  try {
    await eventually(() => seen.includes('add before {"a":"1"}'), { message: 'the listed object' });

    const created = await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'cn', labels: { app: 'cn' } }, data: { a: '1' } } });
    t.truthy(created.metadata?.uid);
    t.is(created.metadata?.namespace, 'default');
    const patched = await core.patchNamespacedConfigMap(
      { namespace: 'default', name: 'cn', body: { data: { b: '2' }, metadata: { labels: { app: null } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    t.deepEqual(patched.data, { a: '1', b: '2' });
    t.deepEqual(patched.metadata?.labels ?? {}, {});
    const listed = await core.listNamespacedConfigMap({ namespace: 'default', labelSelector: 'app=cn' });
    t.is(listed.items.length, 0);
    await core.deleteNamespacedConfigMap({ namespace: 'default', name: 'cn' });
    const missing = await core.readNamespacedConfigMap({ namespace: 'default', name: 'cn' }).then(() => undefined, (err) => err);
    t.is(missing?.code, 404);
    t.is(JSON.parse(missing.body).reason, 'NotFound');

    await eventually(() => seen.includes('delete cn'), { message: 'delete event' });
    t.deepEqual(seen.filter((s) => s.includes(' cn')), ['add cn {"a":"1"}', 'update cn {"a":"1","b":"2"}', 'delete cn']);
    t.is(informer.list('default').map((o) => o.metadata?.name).join(','), 'before,kube-root-ca.crt');
    t.deepEqual(errors, []);
  } finally {
    await informer.stop();
  }
});

test.serial('create and patch a Deployment through AppsV1Api', async (t) => {
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const created = await apps.createNamespacedDeployment({
    namespace: 'default',
    body: {
      metadata: { name: 'cn-web' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'cn-web' } },
        template: { metadata: { labels: { app: 'cn-web' } }, spec: { containers: [{ name: 'web', image: 'busybox' }] } },
      },
    },
  });
  t.is(created.metadata?.generation, 1);
  const patched = await apps.patchNamespacedDeployment(
    { namespace: 'default', name: 'cn-web', body: { spec: { replicas: 2 } } },
    k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  );
  t.is(patched.spec?.replicas, 2);
  await eventually(async () => (await apps.readNamespacedDeployment({ namespace: 'default', name: 'cn-web' })).status?.availableReplicas === 2, { timeoutMs: 20_000, message: 'two replicas available' });
  const conflict = await apps.createNamespacedDeployment({ namespace: 'default', body: created }).then(() => undefined, (err) => err);
  t.is(conflict?.code, 409);
  await apps.deleteNamespacedDeployment({ namespace: 'default', name: 'cn-web', propagationPolicy: 'Foreground' });
  await eventually(async () => (await apps.listNamespacedDeployment({ namespace: 'default' })).items.length === 0, { timeoutMs: 15_000, message: 'deployment gone' });
  t.pass();
});

test.serial('the cluster\'s kubeconfig file works as loaded; without the token the client gets 401, with another CA it refuses the server', async (t) => {
  const fromFile = new k8s.KubeConfig();
  fromFile.loadFromFile(cluster.kubeconfig);
  const who = await fromFile.makeApiClient(k8s.AuthenticationV1Api).createSelfSubjectReview({ body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' } });
  t.is(who.status?.userInfo?.username, 'system:admin');
  t.true((await fromFile.makeApiClient(k8s.CoreV1Api).listNamespace()).items.some((n) => n.metadata?.name === 'default'));

  const anonymous = new k8s.KubeConfig();
  anonymous.loadFromOptions({
    clusters: [{ name: 'wharf', server: cluster.apiUrls[0], caData: Buffer.from(cluster.ca).toString('base64') }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'wharf', cluster: 'wharf', user: 'nobody' }],
    currentContext: 'wharf',
  });
  const refused = await anonymous.makeApiClient(k8s.CoreV1Api).listNamespace().then(() => undefined, (err) => err);
  t.is(refused?.code, 401);

  const untrusting = new k8s.KubeConfig();
  untrusting.loadFromOptions({
    clusters: [{ name: 'wharf', server: cluster.apiUrls[0] }],
    users: [{ name: 'admin', token: cluster.adminToken }],
    contexts: [{ name: 'wharf', cluster: 'wharf', user: 'admin' }],
    currentContext: 'wharf',
  });
  const tls = await untrusting.makeApiClient(k8s.CoreV1Api).listNamespace().then(() => undefined, (err) => err);
  t.regex(String(tls?.message ?? tls), /certificate/i);
});
