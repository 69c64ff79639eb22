// Admission webhooks as operators run them, with the real kubectl: the webhook server is a
// Deployment's pod (node:20, its code from a ConfigMap, its TLS key and certificate from a Secret)
// behind a Service with a selector, and the configurations name that Service (clientConfig.service
// with a caBundle). A validating webhook refuses a pod with a forbidden label, a mutating webhook
// adds a label, also to the pods a Deployment's ReplicaSet creates; the API server calls the pod at
// its IP and container port, named by the endpoints controller. Scaled to nothing, the webhook is
// down: failurePolicy Fail refuses writes (users' and controllers') in Kubernetes' words, Ignore
// lets them through; scaled back, it answers again.
import test, { type ExecutionContext } from 'ava';
import Docker from 'dockerode';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';
import { generateCa, issueCertificate } from '../../shared/auth/pki.ts';

const docker = new Docker();
const node = dockerNode('webhooks');
const work = mkdtempSync(join(tmpdir(), 'wharf-webhooks-'));
let cluster: Cluster;
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);
const ca = generateCa('webhook-test-ca');
// The name the API server checks the certificate against: <service>.<namespace>.svc.
const serving = issueCertificate(ca, { commonName: 'policy.webhooks.svc', usages: ['server'], dnsNames: ['policy.webhooks.svc'] });
const CA_BUNDLE = Buffer.from(ca.cert).toString('base64');

function file(name: string, content: string): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

/**
 * The webhook server, run by node in the pod. /validate refuses pods labelled forbidden=true, and
 * the deletion of pods labelled protected=true; /mutate adds the label mutated=yes. Each review is
 * a line of its log, with the address the call arrived at and the name the caller asked for (SNI).
 * A GET is the readiness probe, over HTTPS too (the kubelet does not verify the certificate).
 */
const SERVER = `
const https = require('https'), fs = require('fs');
const refuse = (uid, message) => ({ uid, allowed: false, status: { code: 403, reason: 'Forbidden', message } });
function answer(path, req) {
  const labels = (req.object && req.object.metadata.labels) || {};
  if (path === '/validate' && req.operation === 'DELETE') {
    return (req.oldObject.metadata.labels || {}).protected === 'true' ? refuse(req.uid, 'protected pods are not deleted') : { uid: req.uid, allowed: true };
  }
  if (path === '/validate') return labels.forbidden === 'true' ? refuse(req.uid, 'the label forbidden=true is not allowed here') : { uid: req.uid, allowed: true };
  const patch = req.object.metadata.labels
    ? [{ op: 'add', path: '/metadata/labels/mutated', value: 'yes' }]
    : [{ op: 'add', path: '/metadata/labels', value: { mutated: 'yes' } }];
  return { uid: req.uid, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
}
const server = https.createServer({ key: fs.readFileSync('/tls/tls.key'), cert: fs.readFileSync('/tls/tls.crt') }, (req, res) => {
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (req.method === 'GET') return res.end('ok'); // the readiness probe
    const review = JSON.parse(body);
    console.log(JSON.stringify({ path: req.url, servername: req.socket.servername, local: req.socket.localAddress + ':' + req.socket.localPort, request: review.request }));
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: answer(req.url.split('?')[0], review.request) }));
  });
});
server.listen(8443, '0.0.0.0');
process.on('SIGTERM', () => process.exit(0));
`;

const WEBHOOK_WORKLOAD = `apiVersion: apps/v1
kind: Deployment
metadata: {name: policy, namespace: webhooks}
spec:
  replicas: 1
  selector: {matchLabels: {app: policy}}
  template:
    metadata: {labels: {app: policy}}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: server
        image: node:20
        command: [node, /app/server.js]
        ports: [{name: webhook, containerPort: 8443}]
        readinessProbe: {httpGet: {scheme: HTTPS, path: /healthz, port: webhook}, periodSeconds: 1}
        volumeMounts:
        - {name: code, mountPath: /app}
        - {name: tls, mountPath: /tls, readOnly: true}
      volumes:
      - {name: code, configMap: {name: policy-server}}
      - {name: tls, secret: {secretName: policy-tls}}
---
apiVersion: v1
kind: Service
metadata: {name: policy, namespace: webhooks}
spec:
  selector: {app: policy}
  ports: [{name: https, port: 443, targetPort: webhook}]
`;

// Neither webhook sees its own namespace: the webhook's pods must be admitted while it is down, or
// it could never come back (Kubernetes' advice for webhooks that run in the cluster).
const NOT_OWN_NAMESPACE = 'matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system, webhooks]}]';

const configs = (failurePolicy: string) => `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: pod-policy
webhooks:
- name: forbidden-label.policy.example.com
  clientConfig:
    service: {namespace: webhooks, name: policy, path: /validate, port: 443}
    caBundle: ${CA_BUNDLE}
  rules:
  - {operations: [CREATE, UPDATE, DELETE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
  namespaceSelector:
    ${NOT_OWN_NAMESPACE}
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
    service: {namespace: webhooks, name: policy, path: /mutate}
    caBundle: ${CA_BUNDLE}
  rules:
  - {operations: [CREATE], apiGroups: [""], apiVersions: [v1], resources: [pods]}
  namespaceSelector:
    ${NOT_OWN_NAMESPACE}
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
  terminationGracePeriodSeconds: 0
  containers: [{name: c, image: busybox:latest, command: [sleep, "3600"]}]
`;

/** The ready addresses of the webhook Service's Endpoints, as the endpoints controller wrote them. */
async function readyEndpoints(): Promise<{ ip: string; port: number; pod: string }[]> {
  const ep = (await cluster.api.get('/api/v1/namespaces/webhooks/endpoints/policy')).body;
  return (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => ({ ip: a.ip, port: s.ports[0].port, pod: a.targetRef.name })));
}

/** Waits until the webhook Service has `count` ready endpoints (the pods' readiness is the signal). */
function endpointsReady(count: number) {
  return eventually(async () => {
    const ready = await readyEndpoints();
    return ready.length === count ? ready : undefined;
  }, { timeoutMs: 30_000, message: `${count} ready endpoints of webhooks/policy` });
}

/** The reviews the webhook pod received, from its log. */
async function reviewsOf(podName: string): Promise<{ path: string; servername: string; local: string; request: any }[]> {
  const res = await cluster.fetch(`${cluster.apiUrls[0]}/api/v1/namespaces/webhooks/pods/${podName}/log`);
  return (await res.text()).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

async function labelsOf(name: string): Promise<Record<string, string>> {
  return (await cluster.api.get(`/api/v1/namespaces/default/pods/${name}`)).body.metadata?.labels ?? {};
}

async function podsOf(app: string): Promise<any[]> {
  return (await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items;
}

async function scaleWebhook(t: ExecutionContext, replicas: number) {
  await ok(t, 'scale', 'deployment', 'policy', '-n', 'webhooks', `--replicas=${replicas}`);
  return endpointsReady(replicas);
}

test.before(async () => {
  cluster = await startDockerCluster(node, ['node:20', 'busybox:latest']);
  const run = async (args: string[]) => {
    const r = await kubectl(args);
    if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr}`);
  };
  await run(['create', 'namespace', 'webhooks']);
  await run(['create', 'secret', 'tls', 'policy-tls', '-n', 'webhooks', `--cert=${file('tls.crt', serving.cert)}`, `--key=${file('tls.key', serving.key)}`]);
  await run(['create', 'configmap', 'policy-server', '-n', 'webhooks', `--from-file=server.js=${file('server.js', SERVER)}`]);
  await run(['apply', '-f', file('webhook.yaml', WEBHOOK_WORKLOAD)]);
  await endpointsReady(1);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
  rmSync(work, { recursive: true, force: true });
});

test.serial('webhooks served from a pod behind a Service: a forbidden label refused, a label added', async (t) => {
  const applied = await ok(t, 'apply', '-f', file('configs.yaml', configs('Fail')));
  t.is(applied, 'validatingwebhookconfiguration.admissionregistration.k8s.io/pod-policy created\nmutatingwebhookconfiguration.admissionregistration.k8s.io/pod-labels created\n');
  t.regex(await ok(t, 'get', 'validatingwebhookconfigurations'), /^NAME\s+WEBHOOKS\s+AGE\npod-policy\s+1\s+/);

  // The configurations reach the API server's dispatcher through its change feed: the first pod
  // created after that carries the mutating webhook's label.
  const stored = await eventually(async () => {
    await kubectl(['delete', 'pod', 'probe', '--ignore-not-found', '--wait=false']);
    if ((await kubectl(['apply', '-f', file('probe.yaml', pod('probe', { app: 'probe' }))])).code !== 0) return undefined;
    const labels = await labelsOf('probe');
    return labels.mutated === 'yes' ? labels : undefined;
  }, { timeoutMs: 10_000, message: 'the mutating webhook called' });
  t.deepEqual(stored, { app: 'probe', mutated: 'yes' });

  const refused = await fails(t, 'apply', '-f', file('bad.yaml', pod('bad', { forbidden: 'true' })));
  t.regex(refused, /Error from server \(Forbidden\): error when creating ".*bad\.yaml": admission webhook "forbidden-label\.policy\.example\.com" denied the request: the label forbidden=true is not allowed here/);
  await fails(t, 'get', 'pod', 'bad');

  // The call went to the webhook pod's IP and container port (the Service's targetPort by name,
  // resolved by the endpoints controller), asking for the Service's name.
  const [endpoint] = await readyEndpoints();
  const webhookPod = (await cluster.api.get(`/api/v1/namespaces/webhooks/pods/${endpoint.pod}`)).body;
  t.is(endpoint.ip, webhookPod.status.podIP);
  t.is(endpoint.port, 8443);
  const sent = (await reviewsOf(endpoint.pod)).find((r) => r.path.startsWith('/validate') && r.request.name === 'bad')!;
  t.like(sent, { path: '/validate?timeout=5s', servername: 'policy.webhooks.svc', local: `${webhookPod.status.podIP}:8443` });
  // The review as Kubernetes sends it.
  t.like(sent.request, { kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' }, operation: 'CREATE', namespace: 'default', dryRun: false, userInfo: { username: 'system:admin' } });
  // The mutation came first: the validating webhook saw its label.
  t.is(sent.request.object.metadata.labels.mutated, 'yes');

  // An update is validated too, and a delete (the webhook reads oldObject).
  t.regex(await fails(t, 'label', 'pod', 'probe', 'forbidden=true'), /admission webhook "forbidden-label\.policy\.example\.com" denied the request/);
  await ok(t, 'label', 'pod', 'probe', 'protected=true');
  t.regex(await fails(t, 'delete', 'pod', 'probe', '--wait=false'), /admission webhook "forbidden-label\.policy\.example\.com" denied the request: protected pods are not deleted/);
  await ok(t, 'label', 'pod', 'probe', 'protected-');
  // The objectSelector: a pod labelled skip-mutation is left alone by the mutating webhook.
  await ok(t, 'apply', '-f', file('skip.yaml', pod('skip', { 'skip-mutation': 'x' })));
  t.false('mutated' in (await labelsOf('skip')));
  // kube-system is outside the validating webhook's namespaceSelector.
  await ok(t, 'apply', '-n', 'kube-system', '-f', file('sys.yaml', pod('sys', { forbidden: 'true' })));
});

test.serial('the pods a Deployment\'s ReplicaSet creates go through the mutating webhook', async (t) => {
  await ok(t, 'create', 'deployment', 'web', '--image=busybox:latest', '--replicas=2', '--', 'sleep', '3600');
  const pods = await eventually(async () => {
    const items = await podsOf('web');
    return items.length === 2 ? items : undefined;
  }, { timeoutMs: 15_000, message: 'the ReplicaSet\'s two pods' });
  for (const p of pods) t.like(p.metadata.labels, { app: 'web', mutated: 'yes' }, p.metadata.name);
});

test.serial('a node agent\'s own writes are admitted: its Lease renewal reaches a webhook', async (t) => {
  // Ignore, and deleted at the end: a Lease that cannot be renewed would take the node down.
  await ok(t, 'apply', '-f', file('leases.yaml', `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: lease-audit}
webhooks:
- name: leases.policy.example.com
  clientConfig:
    service: {namespace: webhooks, name: policy, path: /validate}
    caBundle: ${CA_BUNDLE}
  rules: [{operations: [UPDATE], apiGroups: [coordination.k8s.io], apiVersions: [v1], resources: [leases]}]
  objectSelector: {}
  failurePolicy: Ignore
  sideEffects: None
  admissionReviewVersions: [v1]
`));
  const [endpoint] = await readyEndpoints();
  // The agent renews every heartbeat (2 s here): the first renewal after the configuration arrives.
  const renewal = await eventually(async () => (await reviewsOf(endpoint.pod)).find((r) => r.request.resource.resource === 'leases' && r.request.name === node.name), { timeoutMs: 15_000, message: 'the node agent\'s Lease renewal reviewed' });
  t.like(renewal.request, { kind: { group: 'coordination.k8s.io', kind: 'Lease' }, namespace: 'kube-node-lease', operation: 'UPDATE' });
  await ok(t, 'delete', 'validatingwebhookconfiguration', 'lease-audit');
});

test.serial('the webhook scaled to nothing: failurePolicy Fail refuses writes, Ignore lets them through', async (t) => {
  await scaleWebhook(t, 0);
  // No ready endpoint: the dispatcher has nowhere to call, and says so as Kubernetes does.
  const down = await fails(t, 'apply', '-f', file('down.yaml', pod('down', { app: 'down' })));
  t.regex(down, /Error from server \(InternalError\): error when creating ".*down\.yaml": Internal error occurred: failed calling webhook "add-label\.policy\.example\.com": failed to call webhook: Post "https:\/\/policy\.webhooks\.svc:443\/mutate\?timeout=10s": no endpoints available for service "policy"/);
  await fails(t, 'get', 'pod', 'down');
  // A controller's write is refused alike: the ReplicaSet reports it as FailedCreate.
  await ok(t, 'scale', 'deployment', 'web', '--replicas=3');
  const failedCreate = await eventually(async () => {
    const events = (await cluster.api.get('/api/v1/namespaces/default/events?fieldSelector=reason%3DFailedCreate')).body.items as any[];
    return events.find((e) => e.involvedObject.kind === 'ReplicaSet');
  }, { timeoutMs: 15_000, message: 'the ReplicaSet\'s FailedCreate event' });
  t.regex(failedCreate.message, /^Error creating: Internal error occurred: failed calling webhook "add-label\.policy\.example\.com": failed to call webhook: Post "https:\/\/policy\.webhooks\.svc:443\/mutate\?timeout=10s": no endpoints available for service "policy"$/);
  t.is((await podsOf('web')).length, 2);

  // Ignore: the webhooks are skipped, the user's pod and the ReplicaSet's third are admitted unlabelled.
  await ok(t, 'apply', '-f', file('configs-ignore.yaml', configs('Ignore')));
  await eventually(async () => (await kubectl(['apply', '-f', file('down.yaml', pod('down', { app: 'down' }))])).code === 0, { timeoutMs: 10_000, message: 'Ignore honoured' });
  t.deepEqual(await labelsOf('down'), { app: 'down' });
  const web = await eventually(async () => {
    const items = await podsOf('web');
    return items.length === 3 ? items : undefined;
  }, { timeoutMs: 15_000, message: 'the ReplicaSet\'s third pod' });
  t.is(web.filter((p) => p.metadata.labels.mutated === 'yes').length, 2);

  // Back with Fail and a ready endpoint again: pods are labelled once more.
  await ok(t, 'apply', '-f', file('configs.yaml', configs('Fail')));
  const [endpoint] = await scaleWebhook(t, 1);
  t.is(endpoint.port, 8443);
  await ok(t, 'apply', '-f', file('back.yaml', pod('back', { app: 'back' })));
  t.deepEqual(await labelsOf('back'), { app: 'back', mutated: 'yes' });
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
