// StatefulSets with the real kubectl on a real Docker node: redis:7 pods named redis-0, -1, -2,
// made in order (each once the one before is ready), each reachable from the others by its own
// DNS name through the headless Service; scaled down from the highest ordinal; a rolling update
// with a partition updates only the ordinals at or above it, and `kubectl rollout
// status|history|undo statefulset` work on the set's ControllerRevisions; bad input is refused as
// Kubernetes refuses it.
import test from 'ava';
import Docker from 'dockerode';
import { mkdtempSync, rmSync } from 'node:fs';
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
`;

async function pods(): Promise<any[]> {
  return (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dredis')).body.items;
}
const readySince = (p: any) => Date.parse(p.status.conditions.find((c: any) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime ?? '');

test.before(async () => {
  cluster = await startDockerCluster(node, ['redis:7']);
});

test.after.always(async () => {
  await cluster?.stop();
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
