// ServiceAccounts end to end with the real kubectl: the `default` one in every namespace, `kubectl
// create serviceaccount|token` (protobuf bodies), tokens that authenticate as the ServiceAccount
// and stop doing so when they expire, name another audience, or outlive what they are bound to;
// the ServiceAccount admission of pods (refusal, the kube-api-access volume, automount), and the
// kube-root-ca.crt ConfigMap published from the cluster CA. No pod has to run: no node agent.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';
import { Store } from '../../shared/store/store.ts';
import { Keys } from '../../shared/keys.ts';
import { DEFAULT_ISSUER, ServiceAccountTokens } from '../../shared/auth/service-account-tokens.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-sa-'));
let cluster: Cluster;
let redis: Redis;
let store: Store;
let tokens: ServiceAccountTokens;

const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);

test.before(async () => {
  cluster = await startCluster({ schedulers: 0 });
  redis = new Redis(cluster.redis.url);
  store = new Store(redis, new Keys(cluster.prefix));
  // The cluster's own key, read back from Redis: tokens the test signs are the cluster's tokens.
  tokens = new ServiceAccountTokens(store, { issuer: DEFAULT_ISSUER, apiAudiences: [DEFAULT_ISSUER], maxExpirationSeconds: 0 });
  await tokens.init();
});

test.after.always(async () => {
  redis?.disconnect();
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function namespace(name: string): Promise<void> {
  const res = await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  if (res.status !== 201) throw new Error(`namespace ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  await eventually(async () => (await cluster.api.get(`/api/v1/namespaces/${name}/serviceaccounts/default`)).status === 200, { message: `${name}/default ServiceAccount`, detail: cluster.dumpLogs });
}

/**
 * A SelfSubjectReview with a bearer token (what every authenticated user may ask): the status code
 * says whether the token was taken, and 201's answer whom it stands for.
 */
async function whoami(token: string): Promise<{ status: number; user?: any; body: any }> {
  const res = await cluster.api.as({ token }).post('/apis/authentication.k8s.io/v1/selfsubjectreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  return { status: res.status, user: res.body?.status?.userInfo, body: res.body };
}

async function withToken(token: string): Promise<number> {
  return (await whoami(token)).status;
}

function pod(name: string, spec: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...spec } };
}

test('every namespace has a default ServiceAccount, made again when deleted; kubectl get sa prints its table', async (t) => {
  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    await eventually(async () => (await cluster.api.get(`/api/v1/namespaces/${ns}/serviceaccounts/default`)).status === 200, { message: `${ns}/default` });
  }
  await namespace('team-a');
  t.regex(await ok(t, 'get', 'sa', '-n', 'team-a'), /^NAME\s+SECRETS\s+AGE\ndefault\s+0\s+\S+\n$/);
  const before = (await cluster.api.get('/api/v1/namespaces/team-a/serviceaccounts/default')).body.metadata.uid;
  t.is(await ok(t, 'delete', 'serviceaccount', 'default', '-n', 'team-a'), 'serviceaccount "default" deleted\n');
  const after = await eventually(async () => {
    const res = await cluster.api.get('/api/v1/namespaces/team-a/serviceaccounts/default');
    return res.status === 200 && res.body.metadata.uid;
  }, { message: 'default made again' });
  t.not(after, before);
  // Discovery: kubectl finds the short name and the token subresource.
  const resources = (await cluster.api.get('/api/v1')).body.resources;
  t.like(resources.find((r: any) => r.name === 'serviceaccounts'), { kind: 'ServiceAccount', namespaced: true, shortNames: ['sa'] });
  t.deepEqual(resources.find((r: any) => r.name === 'serviceaccounts/token'), { name: 'serviceaccounts/token', singularName: '', namespaced: true, group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] });
});

test('kubectl create serviceaccount and create token: a JWT that authenticates as system:serviceaccount:NS:NAME', async (t) => {
  await namespace('robots');
  t.is(await ok(t, 'create', 'serviceaccount', 'robot', '-n', 'robots'), 'serviceaccount/robot created\n');
  const sa = (await cluster.api.get('/api/v1/namespaces/robots/serviceaccounts/robot')).body;
  const token = (await ok(t, 'create', 'token', 'robot', '-n', 'robots')).trim();
  const claims = decodeJwt(token) as any;
  t.is(claims.iss, DEFAULT_ISSUER);
  t.deepEqual(claims.aud, [DEFAULT_ISSUER]);
  t.is(claims.sub, 'system:serviceaccount:robots:robot');
  t.is(claims.exp - claims.iat, 3600);
  t.is(claims.nbf, claims.iat);
  t.regex(claims.jti, /^[0-9a-f-]{36}$/);
  t.deepEqual(claims['kubernetes.io'], { namespace: 'robots', serviceaccount: { name: 'robot', uid: sa.metadata.uid } });
  const header = decodeProtectedHeader(token);
  t.is(header.alg, 'RS256');
  t.regex(header.kid!, /^[A-Za-z0-9_-]{43}$/);
  // The public key is readable by every process; the signing key is kept in the private hash.
  t.regex((await store.serviceAccountVerificationKeys())!, /^-----BEGIN PUBLIC KEY-----/);
  t.regex((await store.serviceAccountSigningKey())!, /^-----BEGIN PRIVATE KEY-----/);

  t.like((await whoami(token)).user, { username: 'system:serviceaccount:robots:robot', uid: sa.metadata.uid, groups: ['system:serviceaccounts', 'system:serviceaccounts:robots', 'system:authenticated'] });
  t.is(await ok(t, 'auth', 'whoami', '--token', token, '-o', 'jsonpath={.status.userInfo.username}'), 'system:serviceaccount:robots:robot');
  t.deepEqual(await tokens.authenticator()(token), {
    username: 'system:serviceaccount:robots:robot',
    uid: sa.metadata.uid,
    groups: ['system:serviceaccounts', 'system:serviceaccounts:robots', 'system:authenticated'],
    extra: { 'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`] },
  });

  const longer = decodeJwt((await ok(t, 'create', 'token', 'robot', '-n', 'robots', '--duration', '2h')).trim());
  t.is(longer.exp! - longer.iat!, 7200);
  t.regex(await fails(t, 'create', 'token', 'robot', '-n', 'robots', '--duration', '5m'), /TokenRequest.authentication.k8s.io "" is invalid: spec.expirationSeconds: Invalid value: 300: may not specify a duration less than 10 minutes/);
  t.regex(await fails(t, 'create', 'token', 'ghost', '-n', 'robots'), /serviceaccounts "ghost" not found/);
});

test('a token is refused (401) once expired, for another audience, or once its ServiceAccount is gone, even if made again', async (t) => {
  await namespace('refusals');
  t.is(await ok(t, 'create', 'serviceaccount', 'temp', '-n', 'refusals'), 'serviceaccount/temp created\n');
  const sa = (await cluster.api.get('/api/v1/namespaces/refusals/serviceaccounts/temp')).body;
  const subject = { namespace: 'refusals', serviceAccount: { name: 'temp', uid: sa.metadata.uid } };

  const fresh = (await tokens.issue(subject, [DEFAULT_ISSUER], 600)).token;
  t.is(await withToken(fresh), 201);
  const expired = (await tokens.issue(subject, [DEFAULT_ISSUER], 600, Date.now() - 3_600_000)).token;
  t.is(await withToken(expired), 401);
  t.like((await whoami(expired)).body, { kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401, message: 'Unauthorized' });

  const vault = (await ok(t, 'create', 'token', 'temp', '-n', 'refusals', '--audience', 'vault')).trim();
  t.deepEqual(decodeJwt(vault).aud, ['vault']);
  t.is(await withToken(vault), 401, 'a token for another audience does not open the API');

  const tampered = `${fresh.slice(0, fresh.lastIndexOf('.'))}.${Buffer.from('forged').toString('base64url')}`;
  t.is(await withToken(tampered), 401);

  const old = (await ok(t, 'create', 'token', 'temp', '-n', 'refusals')).trim();
  t.is(await withToken(old), 201);
  await ok(t, 'delete', 'sa', 'temp', '-n', 'refusals');
  t.is(await withToken(old), 401, 'the ServiceAccount is gone');
  await ok(t, 'create', 'sa', 'temp', '-n', 'refusals');
  t.is(await withToken(old), 401, 'a new ServiceAccount of the same name has another uid');
  t.is(await withToken((await ok(t, 'create', 'token', 'temp', '-n', 'refusals')).trim()), 201);
});

test('a token bound to a pod names it and dies with it; binding is refused to a pod of another ServiceAccount or a stale uid', async (t) => {
  await namespace('bound');
  await ok(t, 'create', 'sa', 'worker', '-n', 'bound');
  t.is((await cluster.api.post('/api/v1/namespaces/bound/pods', pod('job-1', { serviceAccountName: 'worker' }))).status, 201);
  t.is((await cluster.api.post('/api/v1/namespaces/bound/pods', pod('other'))).status, 201);
  const p = (await cluster.api.get('/api/v1/namespaces/bound/pods/job-1')).body;
  const token = (await ok(t, 'create', 'token', 'worker', '-n', 'bound', '--bound-object-kind', 'Pod', '--bound-object-name', 'job-1')).trim();
  const claims = decodeJwt(token) as any;
  t.deepEqual(claims['kubernetes.io'].pod, { name: 'job-1', uid: p.metadata.uid });
  t.like(await tokens.authenticator()(token), { username: 'system:serviceaccount:bound:worker', extra: { 'authentication.kubernetes.io/pod-name': ['job-1'], 'authentication.kubernetes.io/pod-uid': [p.metadata.uid] } });
  t.is(await withToken(token), 201);

  t.regex(await fails(t, 'create', 'token', 'worker', '-n', 'bound', '--bound-object-kind', 'Pod', '--bound-object-name', 'other'), /cannot bind token for serviceaccount "worker" to pod running with different serviceaccount name\./);
  t.regex(await fails(t, 'create', 'token', 'worker', '-n', 'bound', '--bound-object-kind', 'Pod', '--bound-object-name', 'job-1', '--bound-object-uid', 'not-the-uid'),
    /Operation cannot be fulfilled on Pod "job-1": the UID in the bound object reference \(not-the-uid\) does not match the UID in record/);
  t.regex(await fails(t, 'create', 'token', 'worker', '-n', 'bound', '--bound-object-kind', 'Pod', '--bound-object-name', 'nowhere'), /pods "nowhere" not found/);

  // An unbound pod is deleted at once: the token goes with it.
  await ok(t, 'delete', 'pod', 'job-1', '-n', 'bound', '--wait=false');
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/bound/pods/job-1')).status === 404, { message: 'pod gone' });
  t.is(await withToken(token), 401);

  // Bound to a Secret, through the API with JSON: valid while the Secret lives.
  t.is((await cluster.api.post('/api/v1/namespaces/bound/secrets', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'lease' } })).status, 201);
  const res = await cluster.api.post('/api/v1/namespaces/bound/serviceaccounts/worker/token', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'lease' } } });
  t.is(res.status, 201);
  t.like(res.body, { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: { name: 'worker', namespace: 'bound' }, spec: { audiences: [DEFAULT_ISSUER], expirationSeconds: 3600, boundObjectRef: { kind: 'Secret', apiVersion: 'v1', name: 'lease' } } });
  t.is(Date.parse(res.body.status.expirationTimestamp) - Date.parse(res.body.metadata.creationTimestamp), 3_600_000);
  const secretToken = res.body.status.token;
  t.is(await withToken(secretToken), 201);
  await ok(t, 'delete', 'secret', 'lease', '-n', 'bound');
  t.is(await withToken(secretToken), 401);

  const deployment = await cluster.api.post('/api/v1/namespaces/bound/serviceaccounts/worker/token', { spec: { boundObjectRef: { kind: 'Deployment', apiVersion: 'apps/v1', name: 'x' } } });
  t.like(deployment.body, { code: 400, reason: 'BadRequest', message: 'cannot bind token to object of type apps/v1, Kind=Deployment' });
});

test('ServiceAccount admission: a pod runs as default unless it names another, which must exist; the token volume is mounted unless automount is off', async (t) => {
  await namespace('admission');
  const refused = await cluster.api.post('/api/v1/namespaces/admission/pods', pod('lost', { serviceAccountName: 'ghost' }));
  t.is(refused.status, 403);
  t.like(refused.body, { reason: 'Forbidden', message: 'pods "lost" is forbidden: error looking up service account admission/ghost: serviceaccount "ghost" not found' });
  t.regex(await fails(t, 'run', 'lost', '--image=busybox', '-n', 'admission', '--overrides', '{"spec":{"serviceAccountName":"ghost"}}'), /pods "lost" is forbidden: error looking up service account admission\/ghost: serviceaccount "ghost" not found/);

  const created = await cluster.api.post('/api/v1/namespaces/admission/pods', pod('plain', { initContainers: [{ name: 'init', image: 'busybox' }] }));
  t.is(created.status, 201);
  const spec = created.body.spec;
  t.is(spec.serviceAccountName, 'default');
  t.is(spec.serviceAccount, 'default');
  t.is(spec.volumes.length, 1);
  const volume = spec.volumes[0];
  t.regex(volume.name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  t.deepEqual(volume.projected, {
    sources: [
      { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
      { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
    ],
    defaultMode: 420,
  });
  for (const c of [...spec.initContainers, ...spec.containers]) t.deepEqual(c.volumeMounts, [{ name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);

  const off = await cluster.api.post('/api/v1/namespaces/admission/pods', pod('off', { automountServiceAccountToken: false }));
  t.is(off.status, 201);
  t.is(off.body.spec.volumes, undefined);
  t.is(off.body.spec.containers[0].volumeMounts, undefined);

  // The ServiceAccount's setting applies when the pod says nothing; the pod's own wins.
  t.is((await cluster.api.post('/api/v1/namespaces/admission/serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'quiet' }, automountServiceAccountToken: false, imagePullSecrets: [{ name: 'registry' }] })).status, 201);
  const quiet = (await cluster.api.post('/api/v1/namespaces/admission/pods', pod('quiet', { serviceAccountName: 'quiet' }))).body;
  t.is(quiet.spec.volumes, undefined);
  t.deepEqual(quiet.spec.imagePullSecrets, [{ name: 'registry' }]);
  const loud = (await cluster.api.post('/api/v1/namespaces/admission/pods', pod('loud', { serviceAccountName: 'quiet', automountServiceAccountToken: true }))).body;
  t.is(loud.spec.volumes.length, 1);

  // A container that mounts something of its own at the path keeps it.
  const own = (await cluster.api.post('/api/v1/namespaces/admission/pods', pod('own', {
    volumes: [{ name: 'mine', emptyDir: {} }],
    containers: [{ name: 'a', image: 'busybox', volumeMounts: [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }] }, { name: 'b', image: 'busybox' }],
  }))).body;
  t.deepEqual(own.spec.containers[0].volumeMounts, [{ name: 'mine', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }]);
  t.is(own.spec.containers[1].volumeMounts[0].name, own.spec.volumes[1].name);
});

test('a ReplicaSet whose ServiceAccount is missing makes no pods and says why; it makes them once the ServiceAccount exists', async (t) => {
  await namespace('rs');
  const rs = {
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { serviceAccountName: 'builder', containers: [{ name: 'c', image: 'busybox' }] } } },
  };
  t.is((await cluster.api.post('/apis/apps/v1/namespaces/rs/replicasets', rs)).status, 201);
  const event = await eventually(async () => ((await cluster.api.get('/api/v1/namespaces/rs/events')).body.items ?? []).find((e: any) => e.reason === 'FailedCreate'), { timeoutMs: 20_000, message: 'FailedCreate event' });
  // Wharf's controllers name their pods themselves (Kubernetes' use generateName, and say "web-").
  t.regex(event.message, /^Error creating: pods "web-[a-z0-9]{5}" is forbidden: error looking up service account rs\/builder: serviceaccount "builder" not found$/);
  t.is((await cluster.api.get('/api/v1/namespaces/rs/pods')).body.items.length, 0);
  await ok(t, 'create', 'sa', 'builder', '-n', 'rs');
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/rs/pods')).body.items.length === 2, { timeoutMs: 30_000, message: 'two pods' });
});

test('the root CA publisher keeps the cluster CA in kube-root-ca.crt in every namespace, and puts it back when edited', async (t) => {
  await namespace('ca');
  const pem = (await store.clusterCaCertificate())!;
  t.regex(pem, /^-----BEGIN CERTIFICATE-----/);
  t.is(pem.trim(), cluster.credentials.ca!.trim(), 'the CA clients trust');
  for (const ns of ['default', 'kube-system', 'ca']) {
    const cm = await eventually(async () => {
      const res = await cluster.api.get(`/api/v1/namespaces/${ns}/configmaps/kube-root-ca.crt`);
      return res.status === 200 && res.body;
    }, { timeoutMs: 20_000, message: `${ns}/kube-root-ca.crt` });
    t.deepEqual(cm.data, { 'ca.crt': pem });
    t.regex(cm.metadata.annotations['kubernetes.io/description'], /^Contains a CA bundle that can be used to verify the kube-apiserver/);
  }
  await ok(t, 'patch', 'configmap', 'kube-root-ca.crt', '-n', 'ca', '--type', 'merge', '-p', '{"data":{"ca.crt":"tampered","extra":"x"}}');
  await eventually(async () => JSON.stringify((await cluster.api.get('/api/v1/namespaces/ca/configmaps/kube-root-ca.crt')).body.data) === JSON.stringify({ 'ca.crt': pem }), { message: 'restored' });
  t.pass();
});
