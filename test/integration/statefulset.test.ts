// StatefulSets and persistent storage with the real kubectl on a real Docker node: redis:7 pods
// named redis-0, -1, -2, made in order (each once the one before is ready), each reachable from the
// others by its own DNS name through the headless Service, each with its own claim data-redis-N
// from the default local-path class (a directory on the node) that outlives the pod; scaled down
// from the highest ordinal, keeping or deleting the claims by the retention policy; a rolling
// update with a partition updates only the ordinals at or above it, and `kubectl rollout
// status|history|undo statefulset` work on the set's ControllerRevisions. A Deployment's claim is
// provisioned on its pod's node and, deleted while in use, stays Terminating until the pod is gone;
// then its directory is removed (Delete) or kept (Retain). Bad input is refused as Kubernetes
// refuses it.
import test from 'ava';
import Docker from 'dockerode';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const docker = new Docker();
const node = dockerNode('sts');
const work = mkdtempSync(join(tmpdir(), 'wharf-sts-'));
let cluster: Cluster;
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);

const MANIFEST = (image = 'redis:7') => `
apiVersion: v1
kind: Service
metadata: { name: redis }
spec:
  clusterIP: None
  selector: { app: redis }
  ports: [{ port: 6379 }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: redis }
spec:
  serviceName: redis
  replicas: 3
  selector: { matchLabels: { app: redis } }
  template:
    metadata: { labels: { app: redis } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: redis
        image: ${image}
        env: [{ name: MARK, value: first }]
        volumeMounts: [{ name: data, mountPath: /data }]
  volumeClaimTemplates:
  - metadata: { name: data }
    spec:
      accessModes: [ReadWriteOnce]
      resources: { requests: { storage: 1Gi } }
`;

async function claim(name: string): Promise<any> {
  const r = await cluster.api.get(`/api/v1/namespaces/default/persistentvolumeclaims/${name}`);
  return r.status === 200 ? r.body : undefined;
}
async function volume(name: string): Promise<any> {
  const r = await cluster.api.get(`/api/v1/persistentvolumes/${name}`);
  return r.status === 200 ? r.body : undefined;
}
const gone = async (path: string) => (await cluster.api.get(path)).status === 404;

async function pods(): Promise<any[]> {
  return (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dredis')).body.items;
}
const readySince = (p: any) => Date.parse(p.status.conditions.find((c: any) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime ?? '');

test.before(async () => {
  cluster = await startDockerCluster(node, ['redis:7']);
});

test.after.always(async () => {
  // The local-path directories the volumes left (Retain, or claims kept to the end) go with the cluster.
  const left = cluster ? ((await cluster.api.get('/api/v1/persistentvolumes').catch(() => undefined))?.body?.items ?? []) : [];
  await cluster?.stop();
  for (const pv of left) if (pv.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] === 'rancher.io/local-path') rmSync(pv.spec.hostPath.path, { recursive: true, force: true });
  await removeDockerNode(node, docker);
  rmSync(work, { recursive: true, force: true });
});

test.serial('pods come up in order, each made once the one before is ready, named and reachable by their own DNS names', async (t) => {
  const applied = await kubectl(['apply', '-f', '-'], { input: MANIFEST() });
  t.is(applied.code, 0, applied.stderr);
  t.regex(await ok(t, 'rollout', 'status', 'statefulset/redis', '--timeout=120s'), /partitioned roll out complete: 3 new pods have been updated/);
  const byName = Object.fromEntries((await pods()).map((p) => [p.metadata.name, p]));
  t.deepEqual(Object.keys(byName).sort(), ['redis-0', 'redis-1', 'redis-2']);
  for (const [before, after] of [['redis-0', 'redis-1'], ['redis-1', 'redis-2']]) {
    t.true(Date.parse(byName[after].metadata.creationTimestamp) >= Math.floor(readySince(byName[before]) / 1000) * 1000, `${after} made after ${before} was ready`);
  }
  t.like(byName['redis-1'], { spec: { hostname: 'redis-1', subdomain: 'redis' }, metadata: { labels: { 'statefulset.kubernetes.io/pod-name': 'redis-1', 'apps.kubernetes.io/pod-index': '1' } } });
  t.regex(await ok(t, 'get', 'statefulset', 'redis'), /^NAME\s+READY\s+AGE\nredis\s+3\/3\s+\S+\n$/);
  for (const name of ['redis-0', 'redis-2']) {
    const pong = await eventually(async () => {
      const r = await kubectl(['exec', 'redis-1', '--', 'redis-cli', '-h', `${name}.redis.default.svc.cluster.local`, 'PING']);
      return r.stdout === 'PONG\n' ? r.stdout : undefined;
    }, { timeoutMs: 20_000, message: `${name} answers by its DNS name` });
    t.is(pong, 'PONG\n');
  }
  const hostname = await ok(t, 'exec', 'redis-2', '--', 'hostname');
  t.is(hostname, 'redis-2\n');
  // Each ordinal has its own claim from the default class, provisioned on the node as a directory.
  for (const n of [0, 1, 2]) {
    const c = await claim(`data-redis-${n}`);
    t.like(c, { spec: { storageClassName: 'local-path' }, status: { phase: 'Bound', capacity: { storage: '1Gi' } }, metadata: { annotations: { 'volume.kubernetes.io/selected-node': node.name, 'pv.kubernetes.io/bind-completed': 'yes' } } });
    const pv = await volume(c.spec.volumeName);
    t.like(pv, { spec: { persistentVolumeReclaimPolicy: 'Delete', claimRef: { name: `data-redis-${n}` } }, status: { phase: 'Bound' } });
    t.deepEqual(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0], { key: 'kubernetes.io/hostname', operator: 'In', values: [node.name] });
    t.true(existsSync(pv.spec.hostPath.path), pv.spec.hostPath.path);
  }
  t.regex(await ok(t, 'get', 'pvc', 'data-redis-0'), /^NAME\s+STATUS\s+VOLUME\s+CAPACITY\s+ACCESS MODES\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+AGE\ndata-redis-0\s+Bound\s+pvc-\S+\s+1Gi\s+RWO\s+local-path\s+<unset>\s+\S+\n$/);
  t.regex(await ok(t, 'get', 'pv'), /^NAME\s+CAPACITY\s+ACCESS MODES\s+RECLAIM POLICY\s+STATUS\s+CLAIM\s+STORAGECLASS\s+VOLUMEATTRIBUTESCLASS\s+REASON\s+AGE\n(pvc-\S+\s+1Gi\s+RWO\s+Delete\s+Bound\s+default\/data-redis-\d\s+local-path\s+<unset>\s+\S+\n){3}$/);
  t.regex(await ok(t, 'get', 'sc'), /^NAME\s+PROVISIONER\s+RECLAIMPOLICY\s+VOLUMEBINDINGMODE\s+ALLOWVOLUMEEXPANSION\s+AGE\nlocal-path \(default\)\s+rancher\.io\/local-path\s+Delete\s+WaitForFirstConsumer\s+true\s+\S+\n$/);
});

test.serial('a key written to redis-0 survives its pod: the new redis-0 has the same claim and the key', async (t) => {
  await ok(t, 'exec', 'redis-0', '--', 'redis-cli', 'SET', 'greeting', 'hello');
  t.is(await ok(t, 'exec', 'redis-0', '--', 'redis-cli', 'SAVE'), 'OK\n');
  const before = (await pods()).find((p) => p.metadata.name === 'redis-0');
  await ok(t, 'delete', 'pod', 'redis-0');
  const after = await eventually(async () => {
    const p = (await pods()).find((x) => x.metadata.name === 'redis-0');
    return p && p.metadata.uid !== before.metadata.uid && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True') ? p : undefined;
  }, { timeoutMs: 60_000, message: 'a new redis-0 is ready', detail: () => cluster.dumpLogs() });
  t.deepEqual(after.spec.volumes.find((v: any) => v.name === 'data'), { name: 'data', persistentVolumeClaim: { claimName: 'data-redis-0' } });
  const value = await eventually(async () => {
    const r = await kubectl(['exec', 'redis-0', '--', 'redis-cli', 'GET', 'greeting']);
    return r.code === 0 && r.stdout !== '\n' ? r.stdout : undefined;
  }, { timeoutMs: 20_000, message: 'the key is read back' });
  t.is(value, 'hello\n');
});

test.serial('a rolling update with partition 2 updates only redis-2; rollout history and undo restore it', async (t) => {
  await ok(t, 'patch', 'statefulset', 'redis', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":2}}}}');
  await ok(t, 'set', 'env', 'statefulset/redis', 'MARK=second');
  const marks = async () => Object.fromEntries((await pods()).filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running').map((p) => [p.metadata.name, p.spec.containers[0].env[0].value]));
  await eventually(async () => JSON.stringify(await marks()) === JSON.stringify({ 'redis-0': 'first', 'redis-1': 'first', 'redis-2': 'second' }) || undefined, { timeoutMs: 60_000, message: 'only redis-2 updated', detail: () => cluster.dumpLogs() });
  t.regex(await ok(t, 'rollout', 'status', 'statefulset/redis', '--timeout=60s'), /partitioned roll out complete: 1 new pods have been updated/);
  const sts = (await cluster.api.get('/apis/apps/v1/namespaces/default/statefulsets/redis')).body;
  t.not(sts.status.currentRevision, sts.status.updateRevision, 'below the partition the pods keep the current revision');
  t.like(sts.status, { replicas: 3, currentReplicas: 2, updatedReplicas: 1 });
  t.regex(await ok(t, 'rollout', 'history', 'statefulset/redis'), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);

  t.regex(await ok(t, 'rollout', 'undo', 'statefulset/redis'), /statefulset\.apps\/redis rolled back/);
  await eventually(async () => JSON.stringify(await marks()) === JSON.stringify({ 'redis-0': 'first', 'redis-1': 'first', 'redis-2': 'first' }) || undefined, { timeoutMs: 60_000, message: 'redis-2 rolled back' });
  const after = await eventually(async () => {
    const s = (await cluster.api.get('/apis/apps/v1/namespaces/default/statefulsets/redis')).body;
    return s.status.currentRevision === s.status.updateRevision && s.status.updatedReplicas === 3 ? s : undefined;
  }, { timeoutMs: 30_000, message: 'one revision again' });
  t.is(after.status.currentRevision, sts.status.currentRevision, 'the first revision is current again');
  t.regex(await ok(t, 'rollout', 'history', 'statefulset/redis'), /\n2\s+<none>\n3\s+<none>\n\s*$/);
});

test.serial('scaling to 1 removes redis-2, then redis-1; kubectl scale goes through the scale subresource', async (t) => {
  const gone: string[] = [];
  await ok(t, 'scale', 'statefulset', 'redis', '--replicas=1');
  await eventually(async () => {
    const names = (await pods()).filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name);
    for (const n of ['redis-2', 'redis-1']) if (!names.includes(n) && !gone.includes(n)) gone.push(n);
    return names.length === 1 && names[0] === 'redis-0';
  }, { timeoutMs: 60_000, intervalMs: 50, message: 'scaled to 1' });
  t.deepEqual(gone, ['redis-2', 'redis-1']);
  const scale = (await cluster.api.get('/apis/apps/v1/namespaces/default/statefulsets/redis/scale')).body;
  t.like(scale, { kind: 'Scale', spec: { replicas: 1 }, status: { selector: 'app=redis' } });
  // whenScaled: Retain (the default) keeps the claims of the pods scaled away.
  t.like(await claim('data-redis-1'), { status: { phase: 'Bound' } });
  t.like(await claim('data-redis-2'), { status: { phase: 'Bound' } });
});

test.serial('with whenScaled: Delete, scaling down deletes the claims of the pods removed, their volumes and directories', async (t) => {
  await ok(t, 'patch', 'statefulset', 'redis', '-p', '{"spec":{"persistentVolumeClaimRetentionPolicy":{"whenScaled":"Delete"}}}');
  await ok(t, 'scale', 'statefulset', 'redis', '--replicas=2');
  t.regex(await ok(t, 'rollout', 'status', 'statefulset/redis', '--timeout=60s'), /roll out complete/);
  const kept = await claim('data-redis-1');
  t.truthy(kept, 'redis-1 came back to its claim');
  const pv = await volume(kept.spec.volumeName);
  await ok(t, 'scale', 'statefulset', 'redis', '--replicas=1');
  await eventually(async () => (await gone('/api/v1/namespaces/default/persistentvolumeclaims/data-redis-1')) || undefined, { timeoutMs: 60_000, message: 'data-redis-1 deleted with its pod', detail: () => cluster.dumpLogs() });
  await eventually(async () => (await gone(`/api/v1/persistentvolumes/${pv.metadata.name}`)) || undefined, { timeoutMs: 30_000, message: 'its volume deleted' });
  t.false(existsSync(pv.spec.hostPath.path), 'its directory removed');
  t.truthy(await claim('data-redis-2'), 'a claim with no pod to take it keeps (it was scaled away under Retain)');
});

const DEPLOYMENT = (name: string, claimName: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: c
        image: busybox:latest
        command: [sh, -c, 'echo kept > /data/file && sleep 3600']
        volumeMounts: [{ name: data, mountPath: /data }]
      volumes: [{ name: data, persistentVolumeClaim: { claimName: ${claimName} } }]
`;
const CLAIM = (name: string, cls?: string) => `
apiVersion: v1
kind: PersistentVolumeClaim
metadata: { name: ${name} }
spec:
  accessModes: [ReadWriteOnce]
  resources: { requests: { storage: 64Mi } }
${cls ? `  storageClassName: ${cls}\n` : ''}`;

/** Applies a claim and a Deployment using it; resolves the claim's volume once the pod runs. */
async function deploymentWithClaim(t: any, name: string, claimName: string, cls?: string): Promise<any> {
  const applied = await kubectl(['apply', '-f', '-'], { input: CLAIM(claimName, cls) + '---' + DEPLOYMENT(name, claimName) });
  t.is(applied.code, 0, applied.stderr);
  const running = await eventually(async () => {
    const items = (await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${name}`)).body.items;
    return items.find((p: any) => p.status.phase === 'Running');
  }, { timeoutMs: 60_000, message: `${name}'s pod runs`, detail: () => cluster.dumpLogs() });
  const c = await claim(claimName);
  t.is(c.status.phase, 'Bound');
  const pv = await volume(c.spec.volumeName);
  t.is(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0], running.spec.nodeName, 'provisioned on the pod\'s node');
  await eventually(async () => existsSync(join(pv.spec.hostPath.path, 'file')) || undefined, { timeoutMs: 20_000, message: 'the pod wrote its file' });
  return pv;
}

test.serial('a Deployment\'s claim from the default class: deleted while in use it stays Terminating until the pod is gone; then its directory is removed', async (t) => {
  const pv = await deploymentWithClaim(t, 'web', 'web-data');
  t.is(pv.spec.storageClassName, 'local-path');
  await ok(t, 'delete', 'pvc', 'web-data', '--wait=false');
  t.regex(await ok(t, 'get', 'pvc', 'web-data'), /web-data\s+Terminating\s+pvc-/);
  t.like(await claim('web-data'), { metadata: { finalizers: ['kubernetes.io/pvc-protection'] } });
  // Watched for 2 s: the pod keeps its claim while it runs (the controller decides within milliseconds of the delete).
  await new Promise((r) => setTimeout(r, 2000));
  t.truthy(await claim('web-data'), 'still there while the pod runs');
  t.true(existsSync(pv.spec.hostPath.path));
  await ok(t, 'delete', 'deployment', 'web');
  await eventually(async () => (await gone('/api/v1/namespaces/default/persistentvolumeclaims/web-data')) || undefined, { timeoutMs: 60_000, message: 'the claim goes once the pod is gone', detail: () => cluster.dumpLogs() });
  await eventually(async () => (await gone(`/api/v1/persistentvolumes/${pv.metadata.name}`)) || undefined, { timeoutMs: 30_000, message: 'the volume is deleted (Delete)' });
  t.false(existsSync(pv.spec.hostPath.path), 'and its directory removed');
});

test.serial('with a Retain class the released volume and its directory are kept', async (t) => {
  const applied = await kubectl(['apply', '-f', '-'], { input: `
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: { name: local-retain }
provisioner: rancher.io/local-path
reclaimPolicy: Retain
volumeBindingMode: WaitForFirstConsumer
` });
  t.is(applied.code, 0, applied.stderr);
  const pv = await deploymentWithClaim(t, 'keep', 'keep-data', 'local-retain');
  await ok(t, 'delete', 'deployment', 'keep');
  await ok(t, 'delete', 'pvc', 'keep-data');
  const released = await eventually(async () => {
    const v = await volume(pv.metadata.name);
    return v?.status.phase === 'Released' ? v : undefined;
  }, { timeoutMs: 30_000, message: 'the volume is Released' });
  t.is(released.spec.persistentVolumeReclaimPolicy, 'Retain');
  t.is(readFileSync(join(pv.spec.hostPath.path, 'file'), 'utf8'), 'kept\n');
  t.regex(await ok(t, 'get', 'pv', pv.metadata.name), /Retain\s+Released\s+default\/keep-data\s+local-retain/);
});

test.serial('a bound claim of a class that allows expansion grows: the claim and its volume record the new size', async (t) => {
  await ok(t, 'patch', 'pvc', 'data-redis-0', '-p', '{"spec":{"resources":{"requests":{"storage":"2Gi"}}}}');
  const grown = await eventually(async () => {
    const c = await claim('data-redis-0');
    return c?.status.capacity?.storage === '2Gi' ? c : undefined;
  }, { timeoutMs: 20_000, message: 'the claim records 2Gi' });
  t.is((await volume(grown.spec.volumeName)).spec.capacity.storage, '2Gi');
  t.regex(await ok(t, 'get', 'pvc', 'data-redis-0'), /data-redis-0\s+Bound\s+pvc-\S+\s+2Gi\s+RWO\s+local-path/);
});

test.serial('static volumes bind by class, size and access modes; a claim of a class that does not exist stays Pending with an event; shrinking is refused', async (t) => {
  const small = { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'static-small' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], storageClassName: '', hostPath: { path: join(work, 'small') } } };
  const big = { ...small, metadata: { name: 'static-big' }, spec: { ...small.spec, capacity: { storage: '5Gi' }, hostPath: { path: join(work, 'big') } } };
  for (const v of [small, big]) t.is((await cluster.api.post('/api/v1/persistentvolumes', v)).status, 201);
  const pvc = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'static' }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', resources: { requests: { storage: '2Gi' } } } };
  t.is((await cluster.api.post('/api/v1/namespaces/default/persistentvolumeclaims', pvc)).status, 201);
  const bound = await eventually(async () => {
    const c = await claim('static');
    return c?.status.phase === 'Bound' ? c : undefined;
  }, { timeoutMs: 20_000, message: 'the static claim is bound' });
  t.is(bound.spec.volumeName, 'static-big', 'the smallest volume that fits');
  t.like(await volume('static-big'), { spec: { claimRef: { name: 'static', namespace: 'default' } }, status: { phase: 'Bound' } });
  t.like(await volume('static-small'), { status: { phase: 'Available' } });

  const shrink = await cluster.api.patch('/api/v1/namespaces/default/persistentvolumeclaims/static', { spec: { resources: { requests: { storage: '1Gi' } } } });
  t.is(shrink.status, 422);
  t.regex(shrink.body.message, /spec\.resources\.requests\.storage: Forbidden: field can not be less than previous value/);
  t.regex(await fails(t, 'patch', 'pvc', 'static', '-p', '{"spec":{"resources":{"requests":{"storage":"3Gi"}}}}'), /only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize/);
  // A volume in use is not deleted from under its claim: it waits, Terminating, for the claim to go.
  await ok(t, 'delete', 'pv', 'static-big', '--wait=false');
  t.regex(await ok(t, 'get', 'pv', 'static-big'), /static-big\s+5Gi\s+RWO\s+Retain\s+Terminating\s+default\/static/);
  await ok(t, 'delete', 'pvc', 'static');
  await eventually(async () => (await gone('/api/v1/persistentvolumes/static-big')) || undefined, { timeoutMs: 20_000, message: 'the volume goes once its claim is gone' });

  t.is((await cluster.api.post('/api/v1/namespaces/default/persistentvolumeclaims', { ...pvc, metadata: { name: 'nowhere' }, spec: { ...pvc.spec, storageClassName: 'gold' } })).status, 201);
  const event = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/namespaces/default/events')).body.items.filter((e: any) => e.involvedObject.name === 'nowhere');
    return items.find((e: any) => e.reason === 'ProvisioningFailed');
  }, { timeoutMs: 20_000, message: 'a ProvisioningFailed event' });
  t.is(event.message, 'storageclass.storage.k8s.io "gold" not found');
  t.is((await claim('nowhere')).status.phase, 'Pending');
});

test.serial('bad input is refused in Kubernetes\' words', async (t) => {
  const immutable = await cluster.api.patch('/apis/apps/v1/namespaces/default/statefulsets/redis', { spec: { serviceName: 'other' } });
  t.is(immutable.status, 422);
  t.regex(immutable.body.message, /spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden/);
  const bad = await cluster.api.post('/apis/apps/v1/namespaces/default/statefulsets', {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'bad' },
    spec: { podManagementPolicy: 'Sometimes', selector: { matchLabels: { app: 'bad' } }, updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } }, template: { metadata: { labels: { app: 'other' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'redis:7' }] } } },
  });
  t.is(bad.status, 422);
  t.regex(bad.body.message, /spec\.podManagementPolicy: Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel'/);
  t.regex(bad.body.message, /spec\.updateStrategy\.rollingUpdate: Invalid value: .*: only allowed for updateStrategy 'RollingUpdate'/);
  t.regex(bad.body.message, /spec\.template\.metadata\.labels: Invalid value: .*`selector` does not match template `labels`/);
  t.regex(bad.body.message, /spec\.template\.spec\.restartPolicy: Unsupported value: "Never": supported values: "Always"/);
  // Claim templates are validated as claims.
  const claims = await cluster.api.post('/apis/apps/v1/namespaces/default/statefulsets', {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'claims' },
    spec: { selector: { matchLabels: { app: 'c' } }, template: { metadata: { labels: { app: 'c' } }, spec: { containers: [{ name: 'c', image: 'redis:7' }] } }, volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Gi' } } } }] },
  });
  t.is(claims.status, 422);
  t.regex(claims.body.message, /spec\.volumeClaimTemplates\[0\]\.spec\.accessModes: Required value: at least 1 access mode is required/);
  t.regex(await fails(t, 'scale', 'statefulset', 'redis', '--replicas=-1'), /--replicas=COUNT|replicas|invalid/);
});
