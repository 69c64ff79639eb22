// ServiceAccount tokens in real containers: the node agent materialises the kube-api-access
// projected volume (a token bound to the pod, the cluster CA, the namespace) read-only at
// /var/run/secrets/kubernetes.io/serviceaccount, sets KUBERNETES_SERVICE_HOST/PORT from
// default/kubernetes, and an in-cluster client that uses nothing else reaches the API over HTTPS
// through the kubernetes Service, as RBAC allows it. automountServiceAccountToken: false mounts nothing.
// The API servers listen on every address here, so that the kubernetes Service's endpoint (the
// host's advertised address) answers the node's service proxy.
import test from 'ava';
import Docker from 'dockerode';
import { decodeJwt } from 'jose';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, execInContainer, removeDockerNode, runningContainerId, startDockerCluster } from '../helpers/docker-node.ts';

const docker = new Docker();
const node = dockerNode('sa-pods', { WHARF_AGENT_RESYNC: '2s' });
const NS = 'incluster';
const MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
let cluster: Cluster;

/** Runs a command in a running container of the pod (docker exec), returning its output and exit code. */
async function exec(podName: string, container: string, cmd: string[]): Promise<{ out: string; code: number }> {
  return execInContainer(await runningContainerId(podName, container, docker), cmd, docker);
}

async function running(name: string): Promise<any> {
  return eventually(async () => {
    const p = (await cluster.api.get(`/api/v1/namespaces/${NS}/pods/${name}`)).body;
    return p.status?.phase === 'Running' && p;
  }, { timeoutMs: 60_000, message: `${name} running`, detail: cluster.dumpLogs });
}

async function logsOf(name: string): Promise<string> {
  const res = await cluster.fetch(`${cluster.apiUrls[0]}/api/v1/namespaces/${NS}/pods/${name}/log`);
  return res.ok ? res.text() : '';
}

test.before(async () => {
  cluster = await startDockerCluster(node, ['busybox:latest', 'node:20'], { apiHost: '0.0.0.0' });
  if ((await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })).status !== 201) throw new Error('namespace');
  await eventually(async () => (await cluster.api.get(`/api/v1/namespaces/${NS}/serviceaccounts/default`)).status === 200, { message: 'default ServiceAccount' });
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
});

const sleeper = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name },
  spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox:latest', command: ['sleep', '3600'] }], ...spec },
});

test.serial('a pod has its token, the cluster CA and its namespace at /var/run/secrets/kubernetes.io/serviceaccount, read-only, and KUBERNETES_SERVICE_HOST/PORT', async (t) => {
  t.is((await cluster.api.post(`/api/v1/namespaces/${NS}/pods`, sleeper('reader'))).status, 201);
  const pod = await running('reader');
  t.is((await exec('reader', 'c', ['ls', MOUNT])).out.split(/\s+/).filter(Boolean).sort().join(' '), 'ca.crt namespace token');
  t.is((await exec('reader', 'c', ['cat', `${MOUNT}/namespace`])).out, NS);
  t.is((await exec('reader', 'c', ['cat', `${MOUNT}/ca.crt`])).out.trim(), cluster.credentials.ca!.trim());

  const token = (await exec('reader', 'c', ['cat', `${MOUNT}/token`])).out;
  const claims = decodeJwt(token) as any;
  t.is(claims.sub, `system:serviceaccount:${NS}:default`);
  t.is(claims.exp - claims.iat, 3607);
  t.deepEqual(claims['kubernetes.io'].pod, { name: 'reader', uid: pod.metadata.uid });
  t.is(claims['kubernetes.io'].node.name, node.name);
  const review = await cluster.api.as({ token }).post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  t.like(review.body.status.userInfo, { username: `system:serviceaccount:${NS}:default`, extra: { 'authentication.kubernetes.io/pod-name': ['reader'], 'authentication.kubernetes.io/pod-uid': [pod.metadata.uid] } });

  const write = await exec('reader', 'c', ['sh', '-c', `touch ${MOUNT}/x`]);
  t.not(write.code, 0, 'the volume is read-only');
  t.regex(write.out, /Read-only file system/);

  const svc = (await cluster.api.get('/api/v1/namespaces/default/services/kubernetes')).body;
  const env = new Map((await exec('reader', 'c', ['env'])).out.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const));
  t.is(env.get('KUBERNETES_SERVICE_HOST'), svc.spec.clusterIP);
  t.is(env.get('KUBERNETES_SERVICE_PORT'), '443');
  t.is(env.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
  t.is(env.get('KUBERNETES_PORT'), `tcp://${svc.spec.clusterIP}:443`);
  t.is(env.get('KUBERNETES_PORT_443_TCP'), `tcp://${svc.spec.clusterIP}:443`);
  t.is(env.get('KUBERNETES_PORT_443_TCP_PROTO'), 'tcp');
  t.is(env.get('KUBERNETES_PORT_443_TCP_PORT'), '443');
  t.is(env.get('KUBERNETES_PORT_443_TCP_ADDR'), svc.spec.clusterIP);

  // The token goes with the pod.
  t.is((await cluster.api.delete(`/api/v1/namespaces/${NS}/pods/reader`)).status, 200);
  await eventually(async () => (await cluster.api.get(`/api/v1/namespaces/${NS}/pods/reader`)).status === 404, { timeoutMs: 30_000, message: 'reader gone' });
  t.is((await cluster.api.as({ token }).post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' })).status, 401);
});

test.serial('automountServiceAccountToken: false mounts nothing; the Service variables are there all the same', async (t) => {
  t.is((await cluster.api.post(`/api/v1/namespaces/${NS}/pods`, sleeper('private', { automountServiceAccountToken: false }))).status, 201);
  await running('private');
  const ls = await exec('private', 'c', ['ls', MOUNT]);
  t.not(ls.code, 0);
  t.regex(ls.out, /No such file or directory/);
  t.regex((await exec('private', 'c', ['env'])).out, /^KUBERNETES_SERVICE_HOST=/m);
});

// What the official clients' in-cluster configuration does: the Service variables, the token and
// the CA, nothing else.
const IN_CLUSTER_CLIENT = `
const fs = require('fs'), https = require('https');
const dir = '${MOUNT}';
const host = process.env.KUBERNETES_SERVICE_HOST, port = process.env.KUBERNETES_SERVICE_PORT;
function call(method, path, body) {
  return new Promise((resolve) => {
    const req = https.request({ host, port, path, method, ca: fs.readFileSync(dir + '/ca.crt'),
      headers: { Authorization: 'Bearer ' + fs.readFileSync(dir + '/token', 'utf8'), 'Content-Type': 'application/json' } }, (res) => {
      let data = ''; res.on('data', (c) => data += c); res.on('end', () => resolve({ status: res.statusCode, body: data }));
    });
    req.on('error', (err) => resolve({ status: 0, body: err.message }));
    req.end(body);
  });
}
(async () => {
  const ns = fs.readFileSync(dir + '/namespace', 'utf8');
  for (;;) {
    const who = await call('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
    const pods = await call('GET', '/api/v1/namespaces/' + ns + '/pods');
    const secrets = await call('GET', '/api/v1/namespaces/default/secrets');
    let user, names;
    try { user = JSON.parse(who.body).status.userInfo.username; } catch { user = who.body; }
    try { names = JSON.parse(pods.body).items.map((p) => p.metadata.name); } catch { names = pods.body; }
    console.log(JSON.stringify({ who: who.status, user, pods: pods.status, names, secrets: secrets.status }));
    await new Promise((r) => setTimeout(r, 1000));
  }
})();
`;

test.serial('an in-cluster client with only the mounted token and CA reaches the API through the kubernetes Service over HTTPS', async (t) => {
  t.is((await cluster.api.post(`/api/v1/namespaces/${NS}/pods`, {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client' },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'node:20', command: ['node', '-e', IN_CLUSTER_CLIENT] }] },
  })).status, 201);
  await running('client');
  const lastReport = async () => {
    const lines = (await logsOf('client')).split('\n').filter((l) => l.startsWith('{'));
    return lines.length ? JSON.parse(lines.at(-1)!) : undefined;
  };
  const first = await eventually(async () => {
    const r = await lastReport();
    return r?.who === 201 && r;
  }, { timeoutMs: 60_000, message: 'the client authenticated through the kubernetes Service', detail: () => `${cluster.dumpLogs()}` });
  t.is(first.user, `system:serviceaccount:${NS}:default`);
  // The ServiceAccount may list its namespace's pods only once a RoleBinding allows it, and never
  // read another namespace's Secrets.
  await eventually(async () => (await lastReport())?.pods === 403, { message: 'forbidden before the RoleBinding' });
  t.is((await cluster.api.post(`/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`, {
    apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'client-view' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'default', namespace: NS }],
  })).status, 201);
  const listed = await eventually(async () => {
    const r = await lastReport();
    return r?.pods === 200 && r;
  }, { timeoutMs: 30_000, message: 'the client lists its pods' });
  t.true(listed.names.includes('client'));
  t.is(listed.secrets, 403);
});
