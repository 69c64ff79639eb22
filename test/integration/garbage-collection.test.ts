// Deletion propagation with the real controllers: Background removes the owner at once and its
// dependents after; Orphan keeps the dependents and drops their ownerReferences; Foreground keeps
// the owner (with deletionTimestamp) until its dependents are gone. Simulated nodes keep it quick.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';

let cluster: Cluster;
const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';

const deployment = (name: string) => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'sim:1' }], terminationGracePeriodSeconds: 0 } },
  },
});

async function podsOf(app: string): Promise<any[]> {
  return (await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items;
}

async function replicaSetsOf(app: string): Promise<any[]> {
  return (await cluster.api.get(`/apis/apps/v1/namespaces/default/replicasets?labelSelector=app%3D${app}`)).body.items;
}

async function deployAndWait(name: string) {
  t0(await cluster.api.post(DEPLOYMENTS, deployment(name)));
  await eventually(async () => (await podsOf(name)).filter((p) => p.status?.phase === 'Running').length === 2, { timeoutMs: 15_000, message: `${name} running` });
}

function t0(res: { status: number; body: unknown }) {
  if (res.status !== 201) throw new Error(JSON.stringify(res.body));
}

test.before(async () => {
  cluster = await startCluster({ agents: [{ WHARF_NODE_NAME: `gc-${randomBytes(3).toString('hex')}`, WHARF_RUNTIME: 'simulated' }] });
});

test.after.always(async () => {
  await cluster?.stop();
});

test.serial('Background (the default): the Deployment goes at once, its ReplicaSet and pods after', async (t) => {
  await deployAndWait('bg');
  const res = await cluster.api.delete(`${DEPLOYMENTS}/bg`);
  t.is(res.status, 200);
  t.is((await cluster.api.get(`${DEPLOYMENTS}/bg`)).status, 404);
  await eventually(async () => (await replicaSetsOf('bg')).length === 0 && (await podsOf('bg')).length === 0, { timeoutMs: 10_000, message: 'dependents collected' });
  t.pass();
});

test.serial('Orphan: ReplicaSet and pods stay, without the ownerReference', async (t) => {
  await deployAndWait('orph');
  const res = await cluster.api.delete(`${DEPLOYMENTS}/orph`, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Orphan' });
  t.is(res.status, 200);
  await eventually(async () => (await cluster.api.get(`${DEPLOYMENTS}/orph`)).status === 404, { timeoutMs: 10_000, message: 'owner gone' });
  const [rs] = await replicaSetsOf('orph');
  t.truthy(rs, 'the ReplicaSet survives');
  t.is(rs.metadata.ownerReferences, undefined);
  const pods = await podsOf('orph');
  t.is(pods.length, 2);
  t.true(pods.every((p) => p.metadata.ownerReferences?.[0]?.kind === 'ReplicaSet'), 'pods still belong to the ReplicaSet');
  // Clean up by deleting the ReplicaSet, which now owns its pods alone.
  await cluster.api.delete(`/apis/apps/v1/namespaces/default/replicasets/${rs.metadata.name}`);
  await eventually(async () => (await podsOf('orph')).length === 0, { timeoutMs: 10_000, message: 'pods collected with their ReplicaSet' });
});

test.serial('Foreground: the owner waits, marked for deletion, until its dependents are gone', async (t) => {
  await deployAndWait('fg');
  const res = await cluster.api.delete(`${DEPLOYMENTS}/fg?propagationPolicy=Foreground`);
  t.is(res.status, 200);
  t.truthy(res.body.metadata.deletionTimestamp);
  t.deepEqual(res.body.metadata.finalizers, ['foregroundDeletion']);
  // Every dependent disappears before the owner does.
  let ownerWentFirst = false;
  let ownerSeenWithoutDependents = false;
  await eventually(async () => {
    // Owner first: once it reads 404, any dependent still listed afterwards outlived it.
    const owner = await cluster.api.get(`${DEPLOYMENTS}/fg`);
    const dependents = (await replicaSetsOf('fg')).length + (await podsOf('fg')).length;
    if (owner.status === 200 && dependents === 0) ownerSeenWithoutDependents = true;
    if (owner.status === 404 && dependents > 0) ownerWentFirst = true;
    return owner.status === 404;
  }, { timeoutMs: 15_000, intervalMs: 20, message: 'foreground deletion finished' });
  t.false(ownerWentFirst, 'the owner was removed while dependents remained');
  t.is((await replicaSetsOf('fg')).length + (await podsOf('fg')).length, 0);
  t.log(`owner observed after its dependents were gone: ${ownerSeenWithoutDependents}`);
});

test.serial('deleting a namespace deletes what is in it, then the namespace', async (t) => {
  t0(await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'scratch' } }));
  t0(await cluster.api.post('/apis/apps/v1/namespaces/scratch/deployments', deployment('inns')));
  t0(await cluster.api.post('/api/v1/namespaces/scratch/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' } }));
  const del = await cluster.api.delete('/api/v1/namespaces/scratch');
  t.is(del.status, 200);
  t.is(del.body.status.phase, 'Terminating');
  const refused = await cluster.api.post('/api/v1/namespaces/scratch/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'late' } });
  t.is(refused.status, 403);
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/scratch')).status === 404, { timeoutMs: 15_000, message: 'namespace gone' });
  t.is((await cluster.api.get('/api/v1/namespaces/scratch/configmaps')).body.items.length, 0);
});
