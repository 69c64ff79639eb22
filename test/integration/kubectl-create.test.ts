// Every `kubectl create` generator of the kinds Wharf serves, and `kubectl debug --copy-to`, end to
// end with the real kubectl. These commands go through kubectl's typed clients, which send the
// object as protobuf (services/api/protobuf.ts) and never retry as JSON: each test checks what was
// stored, in particular the explicit zeros that only a pointer field keeps (`--replicas=0`,
// `--min-available=0`, `--value=0`). An API server and a controller manager are enough: no pod
// has to run.
import test from 'ava';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-kubectl-create-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok } = kubectlAssertions(kubectl);

function file(name: string, content: string | Buffer): string {
  const path = join(work, name);
  writeFileSync(path, content);
  return path;
}

/** The stored object, as the API serves it. */
async function stored(path: string): Promise<any> {
  const res = await cluster.api.get(path);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

test.before(async () => {
  cluster = await startCluster({ schedulers: 0 });
});

test.after.always(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('create deployment: --replicas=0 stays 0, --replicas=3 --port=80 makes three pods, the empty strategy is defaulted, --dry-run=server stores nothing', async (t) => {
  t.is(await ok(t, 'create', 'deployment', 'zero', '--image=nginx:1', '--replicas=0'), 'deployment.apps/zero created\n');
  t.is(await ok(t, 'create', 'deployment', 'three', '--image=nginx:1', '--image=busybox:1', '--replicas=3', '--port=80'), 'deployment.apps/three created\n');
  t.is(await ok(t, 'create', 'deployment', 'one', '--image=nginx:1'), 'deployment.apps/one created\n');
  t.is(await ok(t, 'create', 'deployment', 'dry', '--image=nginx:1', '--dry-run=server', '-o', 'jsonpath={.spec.replicas}'), '1');
  t.is((await cluster.api.get('/apis/apps/v1/namespaces/default/deployments/dry')).status, 404);

  const zero = await stored('/apis/apps/v1/namespaces/default/deployments/zero');
  t.is(zero.spec.replicas, 0);
  const three = await stored('/apis/apps/v1/namespaces/default/deployments/three');
  t.is(three.spec.replicas, 3);
  t.deepEqual(three.spec.selector, { matchLabels: { app: 'three' } });
  t.deepEqual(three.spec.template.spec.containers.map((c: any) => [c.name, c.image, c.ports]), [
    ['nginx', 'nginx:1', [{ containerPort: 80, protocol: 'TCP' }]],
    ['busybox', 'busybox:1', undefined],
  ]);
  const one = await stored('/apis/apps/v1/namespaces/default/deployments/one');
  t.is(one.spec.replicas, 1);
  t.deepEqual(one.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });

  // The controller takes the replica counts as stored: no pod for zero, three for three.
  const pods = (app: string) => cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`).then((r) => r.body.items.length);
  await eventually(async () => (await pods('three')) === 3, { timeoutMs: 20_000, message: 'three pods of deployment three' });
  const zeroSet = await eventually(async () => (await cluster.api.get('/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3Dzero')).body.items[0], { timeoutMs: 20_000, message: 'the ReplicaSet of deployment zero' });
  t.is(zeroSet.spec.replicas, 0);
  t.is(await pods('zero'), 0);
});

test('an object sent as protobuf is stored as the same object sent as JSON', async (t) => {
  // kubectl prints as JSON what its generator builds; `create -f` sends that JSON.
  await ok(t, 'create', 'namespace', 'as-json');
  const json = await ok(t, 'create', 'deployment', 'same', '--image=nginx:1', '--replicas=2', '--port=8080', '--dry-run=client', '-o', 'json');
  await ok(t, 'create', '-n', 'as-json', '-f', file('same.json', json));
  await ok(t, 'create', 'deployment', 'same', '--image=nginx:1', '--replicas=2', '--port=8080');
  const fromProtobuf = await stored('/apis/apps/v1/namespaces/default/deployments/same');
  const fromJson = await stored('/apis/apps/v1/namespaces/as-json/deployments/same');
  t.deepEqual(fromProtobuf.spec, fromJson.spec);
  t.deepEqual(fromProtobuf.metadata.labels, fromJson.metadata.labels);
});

test('create job, cronjob, and job --from=cronjob/NAME, owned by the CronJob', async (t) => {
  t.is(await ok(t, 'create', 'job', 'pi', '--image=busybox:1', '--', 'echo', 'hi'), 'job.batch/pi created\n');
  t.is(await ok(t, 'create', 'cronjob', 'tick', '--image=busybox:1', '--schedule=0 0 1 1 *', '--restart=OnFailure', '--', 'date'), 'cronjob.batch/tick created\n');
  t.is(await ok(t, 'create', 'job', 'from-tick', '--from=cronjob/tick'), 'job.batch/from-tick created\n');

  const job = await stored('/apis/batch/v1/namespaces/default/jobs/pi');
  t.like(job.spec, { backoffLimit: 6, completions: 1, parallelism: 1 });
  t.like(job.spec.template.spec, { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'busybox:1', command: ['echo', 'hi'] }] });
  const cronjob = await stored('/apis/batch/v1/namespaces/default/cronjobs/tick');
  t.is(cronjob.spec.schedule, '0 0 1 1 *');
  t.like(cronjob.spec.jobTemplate.spec.template.spec, { restartPolicy: 'OnFailure', containers: [{ name: 'tick', command: ['date'] }] });
  const manual = await stored('/apis/batch/v1/namespaces/default/jobs/from-tick');
  t.deepEqual(manual.metadata.annotations, { 'cronjob.kubernetes.io/instantiate': 'manual' });
  t.deepEqual(manual.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cronjob.metadata.uid, controller: true }]);
  t.like(manual.spec.template.spec, { restartPolicy: 'OnFailure', containers: [{ name: 'tick', image: 'busybox:1', command: ['date'] }] });

  // The job controller creates the pods of both.
  for (const name of ['pi', 'from-tick']) {
    await eventually(async () => (await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=job-name%3D${name}`)).body.items.length === 1, { timeoutMs: 20_000, message: `the pod of job ${name}` });
  }
  t.pass();
});

test('create service clusterip (and headless), nodeport, loadbalancer, externalname', async (t) => {
  const [low, high] = cluster.env.WHARF_SERVICE_NODE_PORT_RANGE.split('-').map(Number);
  t.is(await ok(t, 'create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443'), 'service/web created\n');
  t.is(await ok(t, 'create', 'service', 'clusterip', 'headless', '--clusterip=None'), 'service/headless created\n');
  t.is(await ok(t, 'create', 'service', 'nodeport', 'np', '--tcp=80:8080', `--node-port=${high}`), 'service/np created\n');
  t.is(await ok(t, 'create', 'service', 'loadbalancer', 'lb', '--tcp=443:8443'), 'service/lb created\n');
  t.is(await ok(t, 'create', 'service', 'externalname', 'ext', '--external-name=example.com'), 'service/ext created\n');

  const web = await stored('/api/v1/namespaces/default/services/web');
  t.is(web.spec.type, 'ClusterIP');
  t.deepEqual(web.spec.selector, { app: 'web' });
  t.deepEqual(web.spec.ports, [
    { name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 },
    { name: '443', protocol: 'TCP', port: 443, targetPort: 443 },
  ]);
  t.regex(web.spec.clusterIP, /^\d+\.\d+\.\d+\.\d+$/);
  t.is((await stored('/api/v1/namespaces/default/services/headless')).spec.clusterIP, 'None');
  const np = await stored('/api/v1/namespaces/default/services/np');
  t.is(np.spec.type, 'NodePort');
  t.like(np.spec.ports[0], { port: 80, targetPort: 8080, nodePort: high });
  const lb = await stored('/api/v1/namespaces/default/services/lb');
  t.is(lb.spec.type, 'LoadBalancer');
  t.true(lb.spec.ports[0].nodePort >= low && lb.spec.ports[0].nodePort <= high, `nodePort ${lb.spec.ports[0].nodePort} in ${low}-${high}`);
  const ext = await stored('/api/v1/namespaces/default/services/ext');
  t.like(ext.spec, { type: 'ExternalName', externalName: 'example.com' });
  t.is(ext.spec.clusterIP, undefined);
});

test('create poddisruptionbudget with --min-available (0 too) and --max-unavailable', async (t) => {
  t.is(await ok(t, 'create', 'poddisruptionbudget', 'pdb-min', '--selector=app=web', '--min-available=1'), 'poddisruptionbudget.policy/pdb-min created\n');
  t.is(await ok(t, 'create', 'pdb', 'pdb-zero', '--selector=app=web', '--min-available=0'), 'poddisruptionbudget.policy/pdb-zero created\n');
  t.is(await ok(t, 'create', 'pdb', 'pdb-max', '--selector=app=web', '--max-unavailable=50%'), 'poddisruptionbudget.policy/pdb-max created\n');
  t.deepEqual((await stored('/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb-min')).spec, { minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
  t.deepEqual((await stored('/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb-zero')).spec, { minAvailable: 0, selector: { matchLabels: { app: 'web' } } });
  t.deepEqual((await stored('/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb-max')).spec, { maxUnavailable: '50%', selector: { matchLabels: { app: 'web' } } });
  // The disruption controller computes a status from what was stored.
  const status = await eventually(async () => {
    const pdb = await stored('/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb-min');
    return pdb.status?.observedGeneration === 1 && pdb.status;
  }, { timeoutMs: 20_000, message: 'the status of pdb-min' });
  t.is(status.desiredHealthy, 1);
});

test('create priorityclass, with a value of 0 too', async (t) => {
  t.is(await ok(t, 'create', 'priorityclass', 'high', '--value=1000', '--description=very important', '--preemption-policy=Never'), 'priorityclass.scheduling.k8s.io/high created\n');
  t.is(await ok(t, 'create', 'priorityclass', 'zero', '--value=0'), 'priorityclass.scheduling.k8s.io/zero created\n');
  t.like(await stored('/apis/scheduling.k8s.io/v1/priorityclasses/high'), { value: 1000, description: 'very important', preemptionPolicy: 'Never' });
  t.like(await stored('/apis/scheduling.k8s.io/v1/priorityclasses/zero'), { value: 0, preemptionPolicy: 'PreemptLowerPriority' });
});

test('create namespace', async (t) => {
  t.is(await ok(t, 'create', 'namespace', 'team'), 'namespace/team created\n');
  const ns = await stored('/api/v1/namespaces/team');
  t.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'team' });
  t.deepEqual(ns.status, { phase: 'Active' });
});

test('create configmap --from-literal and --from-file, text and binary', async (t) => {
  const text = file('greeting.txt', 'hello\n');
  const binary = file('blob.bin', Buffer.from([0x00, 0x01, 0x02, 0xff]));
  t.is(await ok(t, 'create', 'configmap', 'literal', '--from-literal=a=1', '--from-literal=empty='), 'configmap/literal created\n');
  t.is(await ok(t, 'create', 'configmap', 'files', `--from-file=${text}`, `--from-file=${binary}`), 'configmap/files created\n');
  t.deepEqual((await stored('/api/v1/namespaces/default/configmaps/literal')).data, { a: '1', empty: '' });
  const files = await stored('/api/v1/namespaces/default/configmaps/files');
  t.deepEqual(files.data, { 'greeting.txt': 'hello\n' });
  t.deepEqual(files.binaryData, { 'blob.bin': 'AAEC/w==' });
});

// A throwaway P-256 certificate and its key, made with openssl for this test: kubectl checks that
// they are a pair.
const TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBgTCCASegAwIBAgIUVVOKyKZ3BZWYFWCyif+Qmu9beJ8wCgYIKoZIzj0EAwIw
FTETMBEGA1UEAwwKd2hhcmYudGVzdDAgFw0yNjEyMDIxNzE4MjZaGA8yMTI2MTEw
ODE3MTgyNlowFTETMBEGA1UEAwwKd2hhcmYudGVzdDBZMBMGByqGSM49AgEGCCqG
SM49AwEHA0IABE6ZkyB3ecSwD3RqvYKNJiSfZHc8tbymcTVB6kGptmC2Jw1x4Ou8
RAXNnUVmzyDj5RwycO1/mhwUKp/0UmzKHfyjUzBRMB0GA1UdDgQWBBThN0AWR0d9
H/szVjcfaq8Sb+yvfzAfBgNVHSMEGDAWgBThN0AWR0d9H/szVjcfaq8Sb+yvfzAP
BgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIH/nc/6JEnlOfyoxvZJe
ZFK7gMg2oFx2WAgwiawEtIkhAiEA4x1huvLHhmvcRCOuvgS0fMEzrKfsgEXPmfrD
JcVd2VU=
-----END CERTIFICATE-----
`;
const TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg5sCbt9myDLD1wEJz
yoMGseUFfBn/i6ZIr2m9B/0sApWhRANCAAROmZMgd3nEsA90ar2CjSYkn2R3PLW8
pnE1QepBqbZgticNceDrvEQFzZ1FZs8g4+UcMnDtf5ocFCqf9FJsyh38
-----END PRIVATE KEY-----
`;

test('create secret generic, docker-registry and tls', async (t) => {
  const decoded = (data: Record<string, string>) => Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  t.is(await ok(t, 'create', 'secret', 'generic', 'plain', '--from-literal=password=p4ss', '--from-literal=empty='), 'secret/plain created\n');
  t.is(await ok(t, 'create', 'secret', 'docker-registry', 'registry', '--docker-server=registry.test', '--docker-username=u', '--docker-password=p', '--docker-email=u@registry.test'), 'secret/registry created\n');
  t.is(await ok(t, 'create', 'secret', 'tls', 'tls', `--cert=${file('tls.crt', TLS_CERT)}`, `--key=${file('tls.key', TLS_KEY)}`), 'secret/tls created\n');

  const plain = await stored('/api/v1/namespaces/default/secrets/plain');
  t.is(plain.type, 'Opaque');
  t.deepEqual(decoded(plain.data), { password: 'p4ss', empty: '' });
  const registry = await stored('/api/v1/namespaces/default/secrets/registry');
  t.is(registry.type, 'kubernetes.io/dockerconfigjson');
  const config = JSON.parse(decoded(registry.data)['.dockerconfigjson']);
  t.like(config.auths['registry.test'], { username: 'u', password: 'p', email: 'u@registry.test', auth: Buffer.from('u:p').toString('base64') });
  const tls = await stored('/api/v1/namespaces/default/secrets/tls');
  t.is(tls.type, 'kubernetes.io/tls');
  t.deepEqual(decoded(tls.data), { 'tls.crt': TLS_CERT, 'tls.key': TLS_KEY });
});

// A pod with much of what a PodSpec can hold, every value one that Go's JSON writes (no zero of
// an omitempty field), so that the copy kubectl sends back as protobuf must equal it.
const SOURCE_POD = `apiVersion: v1
kind: Pod
metadata:
  name: source
  labels: {app: source}
  annotations: {note: kept}
spec:
  terminationGracePeriodSeconds: 0
  automountServiceAccountToken: false
  nodeSelector: {disk: ssd}
  securityContext: {runAsUser: 0, runAsNonRoot: false, fsGroup: 2000, supplementalGroups: [1, 2]}
  tolerations:
  - {key: k, operator: Equal, value: v, effect: NoSchedule}
  - {key: t, operator: Exists, effect: NoExecute, tolerationSeconds: 0}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions: [{key: disk, operator: In, values: [ssd]}]
  topologySpreadConstraints:
  - {maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: source}}}
  containers:
  - name: app
    image: nginx:1
    ports: [{name: http, containerPort: 80}]
    env:
    - {name: PLAIN, value: v}
    - name: FROM_CM
      valueFrom: {configMapKeyRef: {name: cm, key: k, optional: true}}
    - name: LIMIT
      valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}
    resources:
      requests: {cpu: 100m, memory: 64Mi}
      limits: {cpu: "1", memory: 128Mi}
    volumeMounts: [{name: data, mountPath: /data}, {name: cfg, mountPath: /cfg, readOnly: true}]
    livenessProbe:
      httpGet: {path: /healthz, port: http}
      periodSeconds: 5
    readinessProbe:
      tcpSocket: {port: 80}
    lifecycle:
      preStop:
        exec: {command: [sh, -c, "sleep 1"]}
    securityContext: {allowPrivilegeEscalation: false, runAsUser: 0, capabilities: {drop: [ALL]}}
  volumes:
  - name: data
    emptyDir: {sizeLimit: 1Gi}
  - name: cfg
    configMap: {name: cm, defaultMode: 0644, optional: true}
`;

test('debug POD --copy-to: the copy is the pod with the debugging container added', async (t) => {
  await ok(t, 'create', '-f', file('source.yaml', SOURCE_POD));
  const r = await kubectl(['debug', 'source', '--copy-to=source-copy', '--image=busybox:latest', '--container=debugger']);
  t.is(r.code, 0, r.stderr);
  const source = await stored('/api/v1/namespaces/default/pods/source');
  const copy = await stored('/api/v1/namespaces/default/pods/source-copy');
  // kubectl keeps the annotations and (unless --keep-labels) drops the labels.
  t.deepEqual(copy.metadata.annotations, { note: 'kept' });
  t.is(copy.metadata.labels, undefined);
  const { containers: copied, ...copySpec } = copy.spec;
  const { containers: original, ...sourceSpec } = source.spec;
  t.deepEqual(copySpec, sourceSpec);
  t.deepEqual(copied[0], original[0]);
  t.like(copied[1], { name: 'debugger', image: 'busybox:latest', imagePullPolicy: 'Always' });
  t.is(copied.length, 2);
});
