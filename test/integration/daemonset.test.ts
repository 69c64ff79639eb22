// DaemonSets: one pod per matching node, bound by the scheduler through the metadata.name node
// affinity the controller sets; node labels, new nodes and template changes are followed, and
// deleting the DaemonSet removes its pods through their ownerReference. Each template is kept as a
// ControllerRevision, which kubectl rollout history and undo use.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const suffix = randomBytes(3).toString('hex');
const nodeName = (n: string) => `ds-${n}-${suffix}`;
const agentEnv = (n: string) => ({ WHARF_RUNTIME: 'simulated', WHARF_NODE_NAME: nodeName(n) });
let cluster: Cluster;
const kubectl = kubectlRunner(() => ({ cacheDir: join(mkdtempSync(join(tmpdir(), 'wharf-ds-')), 'cache'), kubeconfig: cluster.kubeconfig }));

test.before(async () => {
  cluster = await startCluster({ agents: ['a', 'b', 'c'].map(agentEnv) });
  await cluster.waitForNodes(['a', 'b', 'c'].map(nodeName));
});

test.after.always(async (t) => {
  if (process.env.WHARF_TEST_DEBUG) t.log(cluster?.dumpLogs());
  await cluster?.stop();
});

const DS = '/apis/apps/v1/namespaces/default/daemonsets';

function daemonSet(name: string, nodeSelector?: Record<string, string>, image = 'busybox:1') {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { nodeSelector, containers: [{ name: 'c', image, command: ['sleep', '3600'] }] } },
    },
  };
}

async function podsOf(name: string): Promise<any[]> {
  const res = await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${name}`);
  return (res.body.items ?? []).filter((p: any) => !p.metadata.deletionTimestamp);
}

/** Waits until the DaemonSet's live pods are bound exactly one per given node, and returns them. */
async function onePerNode(name: string, nodes: string[], check: (p: any) => boolean = () => true, timeoutMs = 30_000): Promise<any[]> {
  const want = nodes.map(nodeName).sort();
  return eventually(async () => {
    const pods = await podsOf(name);
    const bound = pods.map((p) => p.spec.nodeName).sort();
    return JSON.stringify(bound) === JSON.stringify(want) && pods.every(check) ? pods : undefined;
  }, { timeoutMs, message: `${name}: one pod on each of ${want}` });
}

test.serial('one pod per node, pinned with matchFields, status counts them', async (t) => {
  t.is((await cluster.api.post(DS, daemonSet('everywhere'))).status, 201);
  const pods = await onePerNode('everywhere', ['a', 'b', 'c']);
  for (const p of pods) {
    t.deepEqual(p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values, [p.spec.nodeName]);
    t.is(p.metadata.ownerReferences[0].kind, 'DaemonSet');
    t.truthy(p.metadata.labels['controller-revision-hash']);
  }
  const ds = await eventually(async () => {
    const d = (await cluster.api.get(`${DS}/everywhere`)).body;
    return d.status?.desiredNumberScheduled === 3 && d.status?.numberReady === 3 && d.status?.updatedNumberScheduled === 3 ? d : undefined;
  }, { timeoutMs: 30_000, message: 'status 3 ready' });
  t.is(ds.status.numberMisscheduled, 0);
  t.is(ds.spec.updateStrategy.rollingUpdate.maxUnavailable, 1);
});

test.serial('a template change rolls every pod', async (t) => {
  const before = new Set((await podsOf('everywhere')).map((p) => p.metadata.uid));
  const res = await cluster.api.patch(`${DS}/everywhere`, { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2', command: ['sleep', '3600'] }] } } } });
  t.is(res.status, 200);
  const pods = await onePerNode('everywhere', ['a', 'b', 'c'], (p) => p.spec.containers[0].image === 'busybox:2' && !before.has(p.metadata.uid), 60_000);
  t.is(pods.length, 3);
});

test.serial('each template is kept as a ControllerRevision: kubectl rollout history shows them, undo rolls back and renumbers; the revisions go with the DaemonSet', async (t) => {
  const { ok } = kubectlAssertions(kubectl);
  t.is((await cluster.api.post(DS, daemonSet('hist'))).status, 201);
  await onePerNode('hist', ['a', 'b', 'c']);
  t.is((await cluster.api.patch(`${DS}/hist`, { metadata: { annotations: { 'kubernetes.io/change-cause': 'image 2' } }, spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:2', command: ['sleep', '3600'] }] } } } })).status, 200);
  await onePerNode('hist', ['a', 'b', 'c'], (p) => p.spec.containers[0].image === 'busybox:2', 60_000);

  t.regex(await ok(t, 'rollout', 'history', 'daemonset/hist'), /^daemonset\.apps\/hist\s*\nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+image 2\n/);
  t.regex(await ok(t, 'rollout', 'history', 'daemonset/hist', '--revision=1'), /Image:\s+busybox:1\n/);
  const revisions = await ok(t, 'get', 'controllerrevisions', '-l', 'app=hist', '--sort-by=.revision');
  t.regex(revisions, /^NAME\s+CONTROLLER\s+REVISION\s+AGE\nhist-\w+\s+daemonset\.apps\/hist\s+1\s+\S+\nhist-\w+\s+daemonset\.apps\/hist\s+2\s+\S+\n$/);

  t.regex(await ok(t, 'rollout', 'undo', 'daemonset/hist'), /daemonset\.apps\/hist rolled back/);
  await onePerNode('hist', ['a', 'b', 'c'], (p) => p.spec.containers[0].image === 'busybox:1', 60_000);
  // The first template's revision is now the newest, as on Kubernetes: history shows 2 and 3.
  const after = await eventually(async () => {
    const out = (await kubectl(['rollout', 'history', 'daemonset/hist'])).stdout;
    return /\n2\s+image 2\n3\s+<none>\n/.test(out) ? out : undefined;
  }, { timeoutMs: 20_000, message: 'revision 1 renumbered to 3' });
  t.notRegex(after, /\n1\s/);
  t.regex(await ok(t, 'rollout', 'undo', 'daemonset/hist', '--to-revision=2'), /rolled back/);
  await onePerNode('hist', ['a', 'b', 'c'], (p) => p.spec.containers[0].image === 'busybox:2', 60_000);

  // Bad input, as Kubernetes answers it.
  const rev = (await cluster.api.get('/apis/apps/v1/namespaces/default/controllerrevisions?labelSelector=app%3Dhist')).body.items[0];
  const changed = await cluster.api.patch(`/apis/apps/v1/namespaces/default/controllerrevisions/${rev.metadata.name}`, { data: { spec: { template: { metadata: { labels: { x: 'y' } } } } } });
  t.is(changed.status, 422);
  t.regex(changed.body.message, /data: Invalid value: .*: field is immutable/);
  const noData = await cluster.api.post('/apis/apps/v1/namespaces/default/controllerrevisions', { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'bad' }, revision: -1 });
  t.is(noData.status, 422);
  t.regex(noData.body.message, /data: Required value: data is mandatory/);
  t.regex(noData.body.message, /revision: Invalid value: -1: must be greater than or equal to 0/);

  t.is((await cluster.api.delete(`${DS}/hist`)).status, 200);
  await eventually(async () => (await cluster.api.get('/apis/apps/v1/namespaces/default/controllerrevisions?labelSelector=app%3Dhist')).body.items.length === 0, { timeoutMs: 30_000, message: 'the revisions collected with their DaemonSet' });
});

test.serial('a nodeSelector limits the pods; labelling a node adds one there', async (t) => {
  await cluster.api.patch(`/api/v1/nodes/${nodeName('a')}`, { metadata: { labels: { role: 'edge' } } });
  t.is((await cluster.api.post(DS, daemonSet('edge', { role: 'edge' }))).status, 201);
  await onePerNode('edge', ['a']);
  await cluster.api.patch(`/api/v1/nodes/${nodeName('b')}`, { metadata: { labels: { role: 'edge' } } });
  await onePerNode('edge', ['a', 'b']);
  await cluster.api.patch(`/api/v1/nodes/${nodeName('a')}`, { metadata: { labels: { role: null } } });
  await onePerNode('edge', ['b']);
  t.pass();
});

test.serial('a new node gets a pod', async (t) => {
  cluster.start('node-agent', { WHARF_AGENT_PORT: '0', ...agentEnv('d') }, 'node-agent-d');
  await onePerNode('everywhere', ['a', 'b', 'c', 'd'], () => true, 40_000);
  t.pass();
});

test.serial('deleting the DaemonSet removes its pods', async (t) => {
  t.is((await cluster.api.delete(`${DS}/everywhere`)).status, 200);
  await eventually(async () => (await podsOf('everywhere')).length === 0, { timeoutMs: 30_000, message: 'pods gone' });
  t.pass();
});
