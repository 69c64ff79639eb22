// The ServiceAccount admission of pods, the TokenRequest's reading and checks, the two
// controllers' decisions, and what a node agent does with tokens and Service variables: pure
// functions, no Redis.
import test from 'ava';
import type { KubeObject, Pod } from '../../shared/types.ts';
import { ForbiddenError } from '../../shared/errors.ts';
import {
  admissionName,
  admitPodServiceAccount,
  mountServiceAccountToken,
  shouldAutomount,
  tokenVolume,
} from '../../shared/auth/service-account-admission.ts';
import { readTokenRequest, tokenRequestErrors } from '../../services/api/token-request.ts';
import { podTokenRefusal, tokenProjections } from '../../services/api/pod-tokens.ts';
import { needsDefaultServiceAccount } from '../../services/controller-manager/serviceaccount/controller.ts';
import { DESCRIPTION, planRootCa } from '../../services/controller-manager/root-ca/controller.ts';
import { needsRefresh, PodTokens } from '../../services/node-agent/pod-tokens.ts';
import { serviceEnvVars, servicesForEnv } from '../../services/node-agent/service-env.ts';
import { downwardValue } from '../../services/node-agent/volumes.ts';

const MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';

function pod(spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'pod-uid', ...meta }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } } as Pod;
}

const sa = (extra: Record<string, unknown> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'ns', uid: 'sa-uid' }, ...extra });

function reader(objects: KubeObject[], calls: string[] = []) {
  return {
    async get(resource: string, namespace: string | undefined, name: string) {
      calls.push(`${resource}/${namespace}/${name}`);
      return objects.find((o) => o.metadata.namespace === namespace && o.metadata.name === name) ?? null;
    },
  };
}

test('the token volume is mounted read-only in every container and init container, once, named kube-api-access-xxxxx', (t) => {
  const p = pod({ initContainers: [{ name: 'i', image: 'i' }], containers: [{ name: 'a', image: 'i', volumeMounts: [{ name: 'data', mountPath: '/data' }] }, { name: 'b', image: 'i' }], volumes: [{ name: 'data', emptyDir: {} }] });
  mountServiceAccountToken(p.spec, 'b4x7z');
  t.deepEqual(p.spec.volumes, [{ name: 'data', emptyDir: {} }, tokenVolume('kube-api-access-b4x7z')]);
  const mount = { name: 'kube-api-access-b4x7z', readOnly: true, mountPath: MOUNT };
  t.deepEqual(p.spec.initContainers![0].volumeMounts, [mount]);
  t.deepEqual(p.spec.containers[0].volumeMounts, [{ name: 'data', mountPath: '/data' }, mount]);
  t.deepEqual(p.spec.containers[1].volumeMounts, [mount]);
  // Idempotent: a pod that has the volume keeps it, and nothing is mounted twice.
  const again = structuredClone(p);
  mountServiceAccountToken(again.spec, 'other');
  t.deepEqual(again, p);
  // A container with its own mount at the path keeps it; when every one has, no volume is added.
  const own = pod({ containers: [{ name: 'a', image: 'i', volumeMounts: [{ name: 'x', mountPath: MOUNT }] }], volumes: [{ name: 'x', emptyDir: {} }] });
  mountServiceAccountToken(own.spec, 'zzzzz');
  t.deepEqual(own.spec.volumes, [{ name: 'x', emptyDir: {} }]);
});

test('automount: the pod\'s setting wins, then the ServiceAccount\'s, else yes', (t) => {
  t.true(shouldAutomount(pod(), sa()));
  t.false(shouldAutomount(pod(), sa({ automountServiceAccountToken: false })));
  t.true(shouldAutomount(pod({ automountServiceAccountToken: true }), sa({ automountServiceAccountToken: false })));
  t.false(shouldAutomount(pod({ automountServiceAccountToken: false }), sa({ automountServiceAccountToken: true })));
});

test('admission names default, refuses a missing ServiceAccount as Kubernetes words it, and looks for default ten times', async (t) => {
  const p = pod();
  await admitPodServiceAccount(p, reader([sa({ imagePullSecrets: [{ name: 'reg' }] })]), async () => undefined);
  t.is(p.spec.serviceAccountName, 'default');
  t.is(p.spec.serviceAccount, 'default');
  t.deepEqual(p.spec.imagePullSecrets, [{ name: 'reg' }]);
  t.is(p.spec.volumes!.length, 1);

  const deprecated = pod({ serviceAccount: 'default' });
  await admitPodServiceAccount(deprecated, reader([sa()]), async () => undefined);
  t.is(deprecated.spec.serviceAccountName, 'default');

  const calls: string[] = [];
  const sleeps: number[] = [];
  const err = await t.throwsAsync(admitPodServiceAccount(pod({}, { name: 'web-b4x7z', generateName: 'web-' }), reader([], calls), async (ms) => void sleeps.push(ms)), { instanceOf: ForbiddenError });
  t.is(err!.message, 'pods "web-" is forbidden: error looking up service account ns/default: serviceaccount "default" not found');
  t.is(calls.length, 10);
  t.is(sleeps.length, 9);
  t.true(sleeps.every((ms) => ms >= 100 && ms < 200));

  const named: string[] = [];
  await t.throwsAsync(admitPodServiceAccount(pod({ serviceAccountName: 'ghost' }), reader([], named), async () => undefined), { message: 'pods "p" is forbidden: error looking up service account ns/ghost: serviceaccount "ghost" not found' });
  t.is(named.length, 1, 'only default is waited for');
});

test('admission errors name a generated pod by its prefix', (t) => {
  t.is(admissionName(pod({}, { name: 'web-b4x7z', generateName: 'web-' })), 'web-');
  t.is(admissionName(pod({}, { name: 'chosen', generateName: 'web-' })), 'chosen');
  t.is(admissionName(pod({}, { name: 'p' })), 'p');
});

test('TokenRequest: v1 defaults, name and namespace must be the path\'s, lifetime bounds', (t) => {
  t.deepEqual(readTokenRequest({}, 'ns', 'sa', 'Strict'), { spec: { audiences: [], expirationSeconds: 3600, boundObjectRef: undefined }, warnings: [] });
  t.deepEqual(readTokenRequest({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { audiences: ['a'], expirationSeconds: 7200, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p' } } }, 'ns', 'sa', 'Strict').spec,
    { audiences: ['a'], expirationSeconds: 7200, boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'p' } });
  t.throws(() => readTokenRequest({ metadata: { name: 'other' } }, 'ns', 'sa', 'Strict'), { message: 'TokenRequest.authentication.k8s.io "sa" is invalid: metadata.name: Invalid value: "other": must match the service account name if specified' });
  t.throws(() => readTokenRequest({ metadata: { namespace: 'x' } }, 'ns', 'sa', 'Strict'), { message: /metadata.namespace: Invalid value: "x": must match the service account namespace if specified/ });
  t.throws(() => readTokenRequest({ kind: 'Pod' }, 'ns', 'sa', 'Strict'), { message: /is not TokenRequest/ });
  t.throws(() => readTokenRequest({ spec: { expirationSeconds: 'soon' } }, 'ns', 'sa', 'Strict'), { message: /spec.expirationSeconds: Invalid value: "soon": must be of type integer/ });
  t.throws(() => readTokenRequest({ spec: { bogus: 1 } }, 'ns', 'sa', 'Strict'), { message: 'strict decoding error: unknown field "spec.bogus"' });
  t.deepEqual(readTokenRequest({ spec: { bogus: 1 } }, 'ns', 'sa', 'Warn').warnings, ['unknown field "spec.bogus"']);
  t.deepEqual(tokenRequestErrors(600), []);
  t.deepEqual(tokenRequestErrors(599).map((c) => c.message), ['Invalid value: 599: may not specify a duration less than 10 minutes']);
  t.deepEqual(tokenRequestErrors(2 ** 32 + 1).map((c) => c.message), [`Invalid value: ${2 ** 32 + 1}: may not specify a duration larger than 2^32 seconds`]);
});

test('a node gets a pod\'s token only for a pod bound to it, as its ServiceAccount, as one of its projections asks', (t) => {
  const bound = pod({ nodeName: 'n1', serviceAccountName: 'robot', volumes: [tokenVolume('kube-api-access-x'), { name: 'vault', projected: { sources: [{ serviceAccountToken: { audience: 'vault', path: 't' } }] } }] });
  t.deepEqual(tokenProjections(bound), [{ audience: '', expirationSeconds: 3607 }, { audience: 'vault', expirationSeconds: 3600 }]);
  const req = { id: 'r', node: 'n1', namespace: 'ns', pod: 'p', podUid: 'pod-uid', serviceAccount: 'robot', audience: '', expirationSeconds: 3607, requestedAtMs: 0 };
  t.is(podTokenRefusal(bound, req), undefined);
  t.is(podTokenRefusal(bound, { ...req, audience: 'vault', expirationSeconds: 3600 }), undefined);
  t.deepEqual(podTokenRefusal(null, req), { error: 'pods "p" not found', code: 404 });
  t.is(podTokenRefusal(bound, { ...req, podUid: 'old' })?.code, 404);
  t.deepEqual(podTokenRefusal(bound, { ...req, node: 'n2' }), { error: 'node "n2" requested a token bound to a pod scheduled on a different node', code: 403 });
  t.is(podTokenRefusal(bound, { ...req, serviceAccount: 'admin' })?.code, 403);
  t.regex(podTokenRefusal(bound, { ...req, audience: 'other' })!.error, /projects no token of audience "other"/);
  t.is(podTokenRefusal(bound, { ...req, expirationSeconds: 2 ** 32 })?.code, 403);
});

test('the controllers: a default ServiceAccount for each active namespace; kube-root-ca.crt once there is a CA, put back when changed', (t) => {
  const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ns' }, status: { phase: 'Active' } };
  t.true(needsDefaultServiceAccount(ns, null));
  t.false(needsDefaultServiceAccount(ns, sa()));
  t.false(needsDefaultServiceAccount({ ...ns, metadata: { name: 'ns', deletionTimestamp: '2026-01-01T00:00:00Z' } }, null));
  t.false(needsDefaultServiceAccount(null, null));

  t.deepEqual(planRootCa(ns, null, null), { action: 'wait' });
  const created = planRootCa(ns, null, 'PEM');
  t.deepEqual(created, { action: 'create', configMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kube-root-ca.crt', namespace: 'ns', annotations: { 'kubernetes.io/description': DESCRIPTION } }, data: { 'ca.crt': 'PEM' } } });
  const cm = (created as { configMap: KubeObject }).configMap;
  t.deepEqual(planRootCa(ns, cm, 'PEM'), { action: 'none' });
  t.deepEqual(planRootCa(ns, { ...cm, data: { 'ca.crt': 'OLD', extra: 'x' } }, 'PEM'), { action: 'update', data: { 'ca.crt': 'PEM' }, annotations: { 'kubernetes.io/description': DESCRIPTION } });
  t.deepEqual(planRootCa({ ...ns, status: { phase: 'Terminating' } }, null, 'PEM'), { action: 'none' });
});

test('the agent keeps a pod\'s token until 80% of its life has passed, then asks again', async (t) => {
  t.false(needsRefresh(0, 3_607_000, 2_885_000));
  t.true(needsRefresh(0, 3_607_000, 2_885_600));
  let now = 1_000_000;
  const asked: unknown[] = [];
  const tokens = new PodTokens(async (req) => {
    asked.push(req);
    return { token: `t${asked.length}`, expirationTimestamp: new Date(now + 3_607_000).toISOString() };
  }, () => now);
  const p = pod({ serviceAccountName: 'robot' });
  const projection = { expirationSeconds: 3607, path: 'token' };
  t.is(await tokens.token(p, projection), 't1');
  t.deepEqual(asked[0], { namespace: 'ns', pod: 'p', podUid: 'pod-uid', serviceAccount: 'robot', audience: '', expirationSeconds: 3607 });
  now += 2_800_000;
  t.is(await tokens.token(p, projection), 't1');
  now += 100_000;
  t.is(await tokens.token(p, projection), 't2');
  tokens.forget('pod-uid');
  t.is(await tokens.token(p, projection), 't3');
});

test('Service variables: default/kubernetes always, the namespace\'s Services unless enableServiceLinks is false', (t) => {
  const kubernetes = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP' }] } };
  const web = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'my-web', namespace: 'ns' }, spec: { clusterIP: '10.96.0.20', ports: [{ port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }] } };
  const headless = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'ns' }, spec: { clusterIP: 'None', ports: [{ port: 5432 }] } };
  const elsewhere = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'other', namespace: 'x' }, spec: { clusterIP: '10.96.0.30', ports: [{ port: 1 }] } };
  const all = [kubernetes, web, headless, elsewhere];
  t.deepEqual(servicesForEnv(all, 'ns', true).map((s) => s.metadata.name), ['kubernetes', 'my-web']);
  t.deepEqual(servicesForEnv(all, 'ns', false).map((s) => s.metadata.name), ['kubernetes']);
  t.deepEqual(serviceEnvVars([kubernetes]), [
    ['KUBERNETES_SERVICE_HOST', '10.96.0.1'],
    ['KUBERNETES_SERVICE_PORT', '443'],
    ['KUBERNETES_SERVICE_PORT_HTTPS', '443'],
    ['KUBERNETES_PORT', 'tcp://10.96.0.1:443'],
    ['KUBERNETES_PORT_443_TCP', 'tcp://10.96.0.1:443'],
    ['KUBERNETES_PORT_443_TCP_PROTO', 'tcp'],
    ['KUBERNETES_PORT_443_TCP_PORT', '443'],
    ['KUBERNETES_PORT_443_TCP_ADDR', '10.96.0.1'],
  ]);
  const vars = new Map(serviceEnvVars([web]));
  t.is(vars.get('MY_WEB_SERVICE_PORT'), '80');
  t.is(vars.get('MY_WEB_SERVICE_PORT_DNS'), '53');
  t.is(vars.get('MY_WEB_PORT'), 'tcp://10.96.0.20:80');
  t.is(vars.get('MY_WEB_PORT_53_UDP_PROTO'), 'udp');
});

test('downward API files: metadata fields, and labels and annotations as key="value" lines', (t) => {
  const p = pod({ containers: [{ name: 'c', image: 'i', resources: { limits: { memory: '64Mi' } } }] }, { labels: { b: '2', a: 'x"y' }, annotations: { note: 'hi' } });
  t.is(downwardValue(p, { path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }), 'ns');
  t.is(downwardValue(p, { path: 'uid', fieldRef: { fieldPath: 'metadata.uid' } }), 'pod-uid');
  t.is(downwardValue(p, { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }), 'a="x\\"y"\nb="2"');
  t.is(downwardValue(p, { path: 'a', fieldRef: { fieldPath: "metadata.annotations['note']" } }), 'hi');
  t.is(downwardValue(p, { path: 'm', resourceFieldRef: { containerName: 'c', resource: 'limits.memory' } }), '64Mi');
  t.throws(() => downwardValue(p, { path: 'x', fieldRef: { fieldPath: 'spec.nodeName' } }), { message: /unsupported fieldPath "spec.nodeName"/ });
});

test('a pod\'s token projection lasts 10 minutes to 2^32 seconds and has a relative path, as Kubernetes validates it', async (t) => {
  const { validateObject } = await import('../../shared/registry/admission.ts');
  const withProjection = (p: Record<string, unknown>) => pod({ volumes: [{ name: 't', projected: { sources: [{ serviceAccountToken: p }] } }] });
  const messages = (p: Record<string, unknown>) => validateObject('Pod', withProjection(p) as KubeObject).causes.map((c) => `${c.field}: ${c.message}`);
  t.deepEqual(messages({ path: 'token', expirationSeconds: 600 }), []);
  t.deepEqual(messages({ path: 'token', expirationSeconds: 60 }), ['spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes']);
  t.deepEqual(messages({ path: '../token' }), ['spec.volumes[0].projected.sources[0].serviceAccountToken.path: Invalid value: "../token": must not contain \'..\'']);
  t.deepEqual(messages({ path: '/token' }), ['spec.volumes[0].projected.sources[0].serviceAccountToken.path: Invalid value: "/token": must be a relative path']);
  t.deepEqual(messages({ audience: 'x', path: '' }), ['spec.volumes[0].projected.sources[0].serviceAccountToken.path: Required value']);
});
