// Admission webhooks with the real kubectl: a validating webhook refusing a pod with a forbidden
// label, a mutating webhook adding one (JSONPatch), both AdmissionReview v1 over HTTPS to a URL
// served by this test with a certificate of its own CA (caBundle); failurePolicy Fail refuses a
// write while the webhook is down, Ignore lets it through; a controller's write is admitted too.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { eventually, startCluster, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';
import { generateCa, issueCertificate } from '../../shared/auth/pki.ts';
import { hostIPv4 } from '../../shared/util.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-webhooks-'));
let cluster: Cluster;
let server: Server;
let port = 0;
const reviews: any[] = [];
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);
const ca = generateCa('webhook-test-ca');
const serving = issueCertificate(ca, { commonName: 'webhook', usages: ['server'], ipAddresses: ['127.0.0.1'], dnsNames: ['policy.webhooks.svc'] });

function file(name: string, yaml: string): string {
  const path = join(work, name);
  writeFileSync(path, yaml);
  return path;
}

/** The webhook server: /validate refuses pods labelled forbidden=true; /mutate adds the label mutated=yes. */
function answer(path: string, review: any): any {
  const req = review.request;
  const labels = req.object?.metadata?.labels ?? {};
  if (path === '/validate' && req.operation === 'DELETE') {
    const allowed = req.oldObject?.metadata?.labels?.protected !== 'true';
    return { uid: req.uid, allowed, ...(allowed ? {} : { status: { code: 403, reason: 'Forbidden', message: 'protected pods are not deleted' } }) };
  }
  if (path === '/validate') {
    const allowed = labels.forbidden !== 'true';
    return { uid: req.uid, allowed, ...(allowed ? {} : { status: { code: 403, reason: 'Forbidden', message: 'the label forbidden=true is not allowed here' } }) };
  }
  const patch = req.object?.metadata?.labels
    ? [{ op: 'add', path: '/metadata/labels/mutated', value: 'yes' }]
    : [{ op: 'add', path: '/metadata/labels', value: { mutated: 'yes' } }];
  return { uid: req.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
}

function startWebhookServer(listenPort = 0): Promise<void> {
  server = createServer({ key: serving.key, cert: serving.cert }, (req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const review = JSON.parse(body);
      reviews.push({ path: req.url, review });
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: answer(req.url ?? '', review) }));
    });
  });
  // Every address: the Service test reaches it at the host's own (Endpoints refuse loopback).
  return new Promise((resolve) => server.listen(listenPort, '0.0.0.0', () => {
    port = (server.address() as AddressInfo).port;
    resolve();
  }));
}

const configs = (failurePolicy: string) => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: pod-policy
webhooks:
- name: forbidden-label.policy.example.com
  clientConfig:
    url: https://127.0.0.1:${port}/validate
    caBundle: ${Buffer.from(ca.cert).toString('base64')}
  rules:
  - {operations: [CREATE, UPDATE, DELETE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
  namespaceSelector:
    matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}]
  failurePolicy: ${failurePolicy}
  sideEffects: None
  timeoutSeconds: 5
  admissionReviewVersions: [v1]
---
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata:
  name: pod-labels
webhooks:
- name: add-label.policy.example.com
  clientConfig:
    url: https://127.0.0.1:${port}/mutate
    caBundle: ${Buffer.from(ca.cert).toString('base64')}
  rules:
  - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
  objectSelector:
    matchExpressions: [{key: skip-mutation, operator: DoesNotExist}]
  failurePolicy: ${failurePolicy}
  sideEffects: None
  reinvocationPolicy: IfNeeded
  admissionReviewVersions: [v1]
`;

const pod = (name: string, labels: Record<string, string>) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: ${JSON.stringify(labels)}
spec:
  containers: [{name: c, image: busybox:latest}]
`;

test.before(async () => {
  await startWebhookServer();
  cluster = await startCluster({ schedulers: 0, controllerManagers: 0 });
});

test.after.always(async () => {
  server?.close();
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.serial('a validating webhook refuses a pod with a forbidden label; a mutating webhook adds a label', async (t) => {
  const applied = await ok(t, 'apply', '-f', file('configs.yaml', configs('Fail')));
  t.is(applied, 'validatingwebhookconfiguration.admissionregistration.k8s.io/pod-policy created\nmutatingwebhookconfiguration.admissionregistration.k8s.io/pod-labels created\n');
  t.regex(await ok(t, 'get', 'validatingwebhookconfigurations'), /^NAME\s+WEBHOOKS\s+AGE\npod-policy\s+1\s+/);

  // The configurations reach the API server's dispatcher through its change feed: wait for the first review.
  const stored = await eventually(async () => {
    await kubectl(['delete', 'pod', 'probe', '--ignore-not-found', '--wait=false']);
    const r = await kubectl(['apply', '-f', file('probe.yaml', pod('probe', { app: 'probe' }))]);
    if (r.code !== 0) return undefined;
    const labels = JSON.parse((await kubectl(['get', 'pod', 'probe', '-o', 'jsonpath={.metadata.labels}'])).stdout);
    return labels.mutated === 'yes' ? labels : undefined;
  }, { timeoutMs: 10_000, message: 'the mutating webhook called' });
  t.deepEqual(stored, { app: 'probe', mutated: 'yes' });

  const refused = await fails(t, 'apply', '-f', file('bad.yaml', pod('bad', { forbidden: 'true' })));
  t.regex(refused, /admission webhook "forbidden-label\.policy\.example\.com" denied the request: the label forbidden=true is not allowed here/);
  await fails(t, 'get', 'pod', 'bad');

  // The review as Kubernetes sends it.
  const sent = reviews.find((r) => r.path === '/validate' && r.review.request.name === 'bad')!.review;
  t.is(sent.apiVersion, 'admission.k8s.io/v1');
  t.like(sent.request, { kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, operation: 'CREATE', namespace: 'default', dryRun: false, userInfo: { username: 'system:admin' } });
  // The mutation came first: the validating webhook saw its label.
  t.is(sent.request.object.metadata.labels.mutated, 'yes');

  // An update is validated too, and a delete (the webhook reads oldObject).
  t.regex(await fails(t, 'label', 'pod', 'probe', 'forbidden=true'), /denied the request/);
  await ok(t, 'label', 'pod', 'probe', 'protected=true');
  t.regex(await fails(t, 'delete', 'pod', 'probe', '--wait=false'), /admission webhook "forbidden-label\.policy\.example\.com" denied the request: protected pods are not deleted/);
  await ok(t, 'label', 'pod', 'probe', 'protected-');
  // The objectSelector: a pod labelled skip-mutation is left alone by the mutating webhook.
  await ok(t, 'apply', '-f', file('skip.yaml', pod('skip', { 'skip-mutation': 'x' })));
  t.is(await ok(t, 'get', 'pod', 'skip', '-o', 'jsonpath={.metadata.labels.mutated}'), '');
  // kube-system is outside the validating webhook's namespaceSelector.
  await ok(t, 'apply', '-n', 'kube-system', '-f', file('sys.yaml', pod('sys', { forbidden: 'true' })));
});

test.serial('failurePolicy: Fail refuses writes while the webhook is down, Ignore lets them through', async (t) => {
  await new Promise((resolve) => server.close(resolve));
  server.closeAllConnections();
  const down = await fails(t, 'apply', '-f', file('down.yaml', pod('down', { app: 'down' })));
  t.regex(down, /Internal error occurred: failed calling webhook "add-label\.policy\.example\.com": failed to call webhook: .*(ECONNREFUSED|connect)/);

  await ok(t, 'apply', '-f', file('configs-ignore.yaml', configs('Ignore')));
  await eventually(async () => (await kubectl(['apply', '-f', file('down.yaml', pod('down', { app: 'down' }))])).code === 0, { timeoutMs: 10_000, message: 'Ignore honoured' });
  t.is(await ok(t, 'get', 'pod', 'down', '-o', 'jsonpath={.metadata.labels.mutated}'), '', 'the webhook was skipped');
  await startWebhookServer(port);
});

test.serial('a webhook behind a Service: called at a ready endpoint, its certificate checked for <service>.<namespace>.svc', async (t) => {
  if (!hostIPv4()) return t.pass('no non-loopback IPv4 address on this machine for an Endpoints address');
  await ok(t, 'delete', 'validatingwebhookconfiguration', 'pod-policy');
  await ok(t, 'delete', 'mutatingwebhookconfiguration', 'pod-labels');
  // A Service without a selector and its Endpoints written by hand: the webhook server of this test.
  await ok(t, 'create', 'namespace', 'webhooks');
  await ok(t, 'apply', '-f', file('svc.yaml', `apiVersion: v1
kind: Service
metadata: {name: policy, namespace: webhooks}
spec:
  ports: [{name: https, port: 443, targetPort: ${port}}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: policy, namespace: webhooks}
subsets:
- addresses: [{ip: ${hostIPv4()}}]
  ports: [{name: https, port: ${port}}]
`));
  await ok(t, 'apply', '-f', file('svc-config.yaml', `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: by-service}
webhooks:
- name: forbidden-label.service.example.com
  clientConfig:
    service: {namespace: webhooks, name: policy, path: /validate}
    caBundle: ${Buffer.from(ca.cert).toString('base64')}
  rules: [{operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}]
  sideEffects: None
  admissionReviewVersions: [v1]
`));
  const refused = await eventually(async () => {
    const r = await kubectl(['apply', '-f', file('svc-bad.yaml', pod('svc-bad', { forbidden: 'true' }))]);
    if (r.code === 0) await kubectl(['delete', 'pod', 'svc-bad', '--wait=false']);
    return r.code !== 0 ? r.stderr : undefined;
  }, { timeoutMs: 10_000, message: 'the webhook behind the Service refuses' });
  t.regex(refused, /admission webhook "forbidden-label\.service\.example\.com" denied the request: the label forbidden=true is not allowed here/);
  await ok(t, 'apply', '-f', file('svc-good.yaml', pod('svc-good', { app: 'fine' })));
  await ok(t, 'delete', 'validatingwebhookconfiguration', 'by-service');
});

test.serial('a webhook configuration is validated as Kubernetes validates it', async (t) => {
  const bad = await fails(t, 'apply', '-f', file('bad-config.yaml', `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: bad}
webhooks:
- name: short
  clientConfig: {url: "http://example.com/x"}
  sideEffects: Some
  admissionReviewVersions: [v1beta1]
  timeoutSeconds: 60
`));
  for (const cause of [
    'webhooks[0].name: Invalid value: "short": should be a domain with at least three segments separated by dots',
    `webhooks[0].clientConfig.url: Invalid value: "http://example.com/x": 'https' is the only allowed URL scheme`,
    'webhooks[0].sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"',
    'webhooks[0].timeoutSeconds: Invalid value: 60: the timeout value must be between 1 and 30 seconds',
  ]) t.true(bad.includes(cause), `${cause}\nin\n${bad}`);
});
