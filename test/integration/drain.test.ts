// PodDisruptionBudgets with the real kubectl: cordon, a drain that evicts one pod at a time as the
// replacements become Ready elsewhere (kubectl retries the 429s), uncordon, and the Eviction
// subresource refusing what would break the budget.
import test from 'ava';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-drain-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig, timeout: 90_000 }));

test.before(async () => {
  cluster = await startCluster({
    agents: [
      { WHARF_RUNTIME: 'simulated', WHARF_NODE_NAME: 'node-a' },
      { WHARF_RUNTIME: 'simulated', WHARF_NODE_NAME: 'node-b' },
    ],
  });
  await cluster.waitForNodes(['node-a', 'node-b']);
});

test.after.always(async (t) => {
  if (process.env.WHARF_TEST_LOGS) t.log(cluster.dumpLogs());
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

const PODS = '/api/v1/namespaces/default/pods?labelSelector=app%3Dweb';
const PDB = '/apis/policy/v1/namespaces/default/poddisruptionbudgets/web';
const ready = (p: any) => !p.metadata.deletionTimestamp && (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

test.serial('drain evicts one pod at a time within the budget; cordon and uncordon', async (t) => {
  const manifest = join(work, 'web.yaml');
  writeFileSync(manifest, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 3
  selector: {matchLabels: {app: web}}
`);
  const applied = await kubectl(['apply', '-f', manifest]);
  t.is(applied.code, 0, applied.stderr);
  const pods = await eventually(async () => {
    const items = (await cluster.api.get(PODS)).body.items ?? [];
    return items.filter(ready).length === 4 && items;
  }, { timeoutMs: 30_000, message: '4 ready pods' });
  t.true(pods.some((p: any) => p.spec.nodeName === 'node-a'), 'some pods on node-a');
  await eventually(async () => (await cluster.api.get(PDB)).body.status?.disruptionsAllowed === 1, { timeoutMs: 15_000, message: 'pdb status' });
  const pdb = (await cluster.api.get(PDB)).body;
  t.like(pdb.status, { expectedPods: 4, currentHealthy: 4, desiredHealthy: 3, disruptionsAllowed: 1, observedGeneration: 1 });
  t.like(pdb.status.conditions[0], { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });

  const got = await kubectl(['get', 'pdb']);
  t.regex(got.stdout, /^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE\nweb\s+3\s+N\/A\s+1\s+\S+\n$/, got.stderr);

  const cordoned = await kubectl(['cordon', 'node-a']);
  t.is(cordoned.stdout, 'node/node-a cordoned\n', cordoned.stderr);
  t.true((await cluster.api.get('/api/v1/nodes/node-a')).body.spec.unschedulable);

  // Watch the ready count all through the drain.
  let minReady = 4;
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      const items = (await cluster.api.get(PODS)).body.items ?? [];
      minReady = Math.min(minReady, items.filter(ready).length);
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const drained = await kubectl(['drain', 'node-a', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=60s']);
  watching = false;
  await watcher;
  t.is(drained.code, 0, drained.stderr);
  // With two or more pods on node-a, the second waits for the first's replacement: a 429 retried.
  if (pods.filter((p: any) => p.spec.nodeName === 'node-a').length > 1) t.regex(drained.stderr, /will retry after 5s\): Cannot evict pod as it would violate the pod's disruption budget\./);
  t.regex(drained.stdout, /evicting pod default\/web-/);
  t.regex(drained.stdout, /node\/node-a drained/);
  t.true(minReady >= 3, `ready pods went down to ${minReady}`);
  const after = (await cluster.api.get(PODS)).body.items.filter((p: any) => !p.metadata.deletionTimestamp);
  t.false(after.some((p: any) => p.spec.nodeName === 'node-a'));

  const uncordoned = await kubectl(['uncordon', 'node-a']);
  t.is(uncordoned.stdout, 'node/node-a uncordoned\n', uncordoned.stderr);
  t.falsy((await cluster.api.get('/api/v1/nodes/node-a')).body.spec.unschedulable);
});

test.serial('an eviction that would break the budget is refused with 429', async (t) => {
  const patched = await cluster.api.patch(PDB, { spec: { minAvailable: 4 } });
  t.is(patched.status, 200);
  await eventually(async () => {
    const s = (await cluster.api.get(PDB)).body.status;
    return s?.observedGeneration === 2 && s.disruptionsAllowed === 0 && s.currentHealthy === 4;
  }, { timeoutMs: 20_000, message: 'budget with no disruption left' });
  const victim = (await cluster.api.get(PODS)).body.items.find(ready);
  const res = await cluster.api.post(`/api/v1/namespaces/default/pods/${victim.metadata.name}/eviction`, {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: victim.metadata.name, namespace: 'default' },
  });
  t.is(res.status, 429);
  t.is(res.body.reason, 'TooManyRequests');
  t.is(res.body.message, "Cannot evict pod as it would violate the pod's disruption budget.");
  t.like(res.body.details.causes[0], { reason: 'DisruptionBudget', message: 'The disruption budget web needs 4 healthy pods and has 4 currently' });
  t.is((await cluster.api.get(`/api/v1/namespaces/default/pods/${victim.metadata.name}`)).status, 200);
});

test.serial('an allowed eviction marks the pod DisruptionTarget (EvictionByEvictionAPI) before deleting it', async (t) => {
  // A finalizer keeps the evicted pod readable after its deletion.
  const created = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'held', finalizers: ['wharf.test/hold'] },
    spec: { containers: [{ name: 'c', image: 'nginx' }] },
  });
  t.is(created.status, 201);
  const res = await cluster.api.post('/api/v1/namespaces/default/pods/held/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'held', namespace: 'default' } });
  t.is(res.status, 201);
  const pod = (await cluster.api.get('/api/v1/namespaces/default/pods/held')).body;
  t.truthy(pod.metadata.deletionTimestamp);
  t.like((pod.status.conditions ?? []).find((c: any) => c.type === 'DisruptionTarget'), { status: 'True', reason: 'EvictionByEvictionAPI', message: 'Eviction API: evicting' });
  const released = await cluster.api.patch('/api/v1/namespaces/default/pods/held', { metadata: { finalizers: null } });
  t.is(released.status, 200);
});

test.serial('an eviction with preconditions: a stale resourceVersion is refused with 409 and changes nothing; the current one evicts', async (t) => {
  const created = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'guarded', finalizers: ['wharf.test/hold'] },
    // No scheduler takes it, so nothing but this test changes it (and its resourceVersion).
    spec: { schedulerName: 'no-such-scheduler', containers: [{ name: 'c', image: 'nginx' }] },
  });
  t.is(created.status, 201);
  const evict = (preconditions: object) => cluster.api.post('/api/v1/namespaces/default/pods/guarded/eviction', {
    apiVersion: 'policy/v1',
    kind: 'Eviction',
    metadata: { name: 'guarded', namespace: 'default' },
    deleteOptions: { preconditions },
  });

  const stale = await evict({ resourceVersion: '1' });
  t.is(stale.status, 409);
  t.is(stale.body.reason, 'Conflict');
  t.regex(stale.body.message, /Precondition failed: ResourceVersion in precondition: 1/);
  const untouched = (await cluster.api.get('/api/v1/namespaces/default/pods/guarded')).body;
  t.falsy(untouched.metadata.deletionTimestamp);
  t.falsy((untouched.status?.conditions ?? []).find((c: any) => c.type === 'DisruptionTarget'));

  const wrongUid = await evict({ uid: 'not-this-pod' });
  t.is(wrongUid.status, 409);

  // The DisruptionTarget write moves the resourceVersion on; the deletion must still go through.
  const res = await evict({ uid: untouched.metadata.uid, resourceVersion: untouched.metadata.resourceVersion });
  t.is(res.status, 201, JSON.stringify(res.body));
  const pod = (await cluster.api.get('/api/v1/namespaces/default/pods/guarded')).body;
  t.truthy(pod.metadata.deletionTimestamp);
  t.like((pod.status.conditions ?? []).find((c: any) => c.type === 'DisruptionTarget'), { status: 'True', reason: 'EvictionByEvictionAPI' });
  t.is((await cluster.api.patch('/api/v1/namespaces/default/pods/guarded', { metadata: { finalizers: null } })).status, 200);
});
