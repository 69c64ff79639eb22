import test from 'ava';
import { nodeShouldRun, planDaemonSet, daemonPodTemplate, targetNode, withDaemonTolerations, REVISION_HASH, revisionHash, scaled } from '../../services/controller-manager/daemonset/plan.ts';
import { nodeAffinity } from '../../services/scheduler/plugins.ts';
import type { DaemonSet, Node, Pod, Taint } from '../../shared/types.ts';

const NOW = Date.parse('2024-06-01T12:00:00Z');

function ds(o: { nodeSelector?: Record<string, string>; image?: string; maxUnavailable?: number | string; onDelete?: boolean } = {}): DaemonSet {
  return {
    apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'default', uid: 'ds-uid', generation: 2 },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: o.image ?? 'img:1' }], nodeSelector: o.nodeSelector } },
      updateStrategy: o.onDelete ? { type: 'OnDelete' } : { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: o.maxUnavailable ?? 1 } },
    },
  };
}

function node(name: string, labels: Record<string, string> = {}, taints: Taint[] = []): Node {
  return { apiVersion: 'v1', kind: 'Node', metadata: { name, labels }, spec: { taints } };
}

function pod(d: DaemonSet, nodeName: string, o: { name?: string; ready?: boolean; old?: boolean; phase?: string; created?: number; bound?: boolean } = {}): Pod {
  const t = daemonPodTemplate(o.old ? ds({ image: 'img:0' }) : d, nodeName);
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: o.name ?? `agent-${nodeName}`, namespace: 'default', uid: `uid-${o.name ?? nodeName}`, labels: t.metadata!.labels, creationTimestamp: new Date(NOW - (o.created ?? 100) * 1000).toISOString() },
    spec: { ...t.spec, nodeName: o.bound === false ? undefined : nodeName },
    status: { phase: (o.phase ?? 'Running') as any, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: new Date(NOW - 60_000).toISOString() }] },
  };
}

test('one pod for each node that lacks one, pinned by matchFields metadata.name', (t) => {
  const d = ds();
  const plan = planDaemonSet(d, [node('a'), node('b'), node('c')], [pod(d, 'b')], NOW);
  t.deepEqual(plan.create, ['a', 'c']);
  t.deepEqual(plan.delete, []);
  const tmpl = daemonPodTemplate(d, 'a');
  t.deepEqual(tmpl.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }]);
  t.is(tmpl.metadata!.labels![REVISION_HASH], revisionHash(d));
  t.is(tmpl.metadata!.labels!['pod-template-generation'], '2');
  t.is(targetNode({ metadata: {}, spec: tmpl.spec } as Pod), 'a');
  t.deepEqual(plan.status, { desiredNumberScheduled: 3, currentNumberScheduled: 1, numberMisscheduled: 0, numberReady: 1, numberAvailable: 1, numberUnavailable: 2, updatedNumberScheduled: 1, observedGeneration: 2 });
});

test('the scheduler binds a pinned pod only to its node', (t) => {
  const spec = daemonPodTemplate(ds(), 'a').spec;
  const info = (n: Node) => ({ node: n, allocatable: { cpuMillis: 0, memoryBytes: 0, pods: 0 }, used: { cpuMillis: 0, memoryBytes: 0, pods: 0 } });
  t.true(nodeAffinity.filter({ metadata: {}, spec } as Pod, info(node('a'))).fits);
  t.false(nodeAffinity.filter({ metadata: {}, spec } as Pod, info(node('b'))).fits);
});

test('nodeSelector limits the nodes; a pod on a node that no longer matches is deleted', (t) => {
  const d = ds({ nodeSelector: { role: 'edge' } });
  const plan = planDaemonSet(d, [node('a', { role: 'edge' }), node('b')], [pod(d, 'b')], NOW);
  t.deepEqual(plan.create, ['a']);
  t.deepEqual(plan.delete.map((p) => p.metadata.name), ['agent-b']);
  t.is(plan.status.desiredNumberScheduled, 1);
  t.is(plan.status.numberMisscheduled, 1);
});

test('taints: untolerated NoSchedule keeps new pods off but does not evict; NoExecute evicts; daemon tolerations apply', (t) => {
  const noSched = node('a', {}, [{ key: 'dedicated', effect: 'NoSchedule' }]);
  const noExec = node('b', {}, [{ key: 'dedicated', effect: 'NoExecute' }]);
  const template = ds().spec.template;
  t.deepEqual(nodeShouldRun(template, noSched), { shouldRun: false, shouldContinueRunning: true });
  t.deepEqual(nodeShouldRun(template, noExec), { shouldRun: false, shouldContinueRunning: false });
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    t.true(nodeShouldRun(template, node('x', {}, [{ key, effect: 'NoExecute' }])).shouldRun, key);
  }
  for (const key of ['disk-pressure', 'memory-pressure', 'pid-pressure', 'unschedulable']) {
    t.true(nodeShouldRun(template, node('x', {}, [{ key: `node.kubernetes.io/${key}`, effect: 'NoSchedule' }])).shouldRun, key);
  }
  t.true(nodeShouldRun(template, node('x', {}, [{ key: 'node.kubernetes.io/disk-pressure', effect: 'NoExecute' }])).shouldRun === false);
  const tol = withDaemonTolerations([{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }]);
  t.is(tol.length, 6);
  t.is(tol.find((x) => x.key === 'node.kubernetes.io/not-ready')!.tolerationSeconds, undefined);
  const d = ds();
  const plan = planDaemonSet(d, [noSched, noExec], [pod(d, 'a'), pod(d, 'b')], NOW);
  t.deepEqual(plan.delete.map((p) => p.metadata.name), ['agent-b']);
  t.deepEqual(plan.create, []);
  t.is(plan.status.numberMisscheduled, 2);
});

test('doubles on a node: the oldest stays; failed pods and pods of vanished nodes go', (t) => {
  const d = ds();
  const pods = [pod(d, 'a', { name: 'old', created: 500 }), pod(d, 'a', { name: 'new', created: 10 }), pod(d, 'b', { name: 'failed', phase: 'Failed' }), pod(d, 'gone', { name: 'ghost' })];
  const plan = planDaemonSet(d, [node('a'), node('b')], pods, NOW);
  t.deepEqual(plan.delete.map((p) => p.metadata.name).sort(), ['failed', 'ghost', 'new']);
  t.deepEqual(plan.create, ['b']);
});

test('an unbound pod counts for the node its affinity pins it to', (t) => {
  const d = ds();
  const plan = planDaemonSet(d, [node('a')], [pod(d, 'a', { bound: false, ready: false })], NOW);
  t.deepEqual(plan.create, []);
  t.deepEqual(plan.delete, []);
  t.is(plan.status.currentNumberScheduled, 1);
});

test('rolling update deletes old pods up to maxUnavailable, not-available old pods first', (t) => {
  const d = ds({ maxUnavailable: 1 });
  const nodes = [node('a'), node('b'), node('c')];
  let plan = planDaemonSet(d, nodes, nodes.map((n) => pod(d, n.metadata.name!, { old: true })), NOW);
  t.deepEqual(plan.delete.map((p) => p.metadata.name), ['agent-a']);
  t.is(plan.status.updatedNumberScheduled, 0);
  // a is being replaced (no pod yet): the budget is spent.
  plan = planDaemonSet(d, nodes, [pod(d, 'b', { old: true }), pod(d, 'c', { old: true })], NOW);
  t.deepEqual(plan.create, ['a']);
  t.deepEqual(plan.delete, []);
  // An old pod that is not ready costs nothing to replace.
  plan = planDaemonSet(d, nodes, [pod(d, 'a'), pod(d, 'b', { old: true, ready: false }), pod(d, 'c', { old: true })], NOW);
  t.deepEqual(plan.delete.map((p) => p.metadata.name), ['agent-b']);
  plan = planDaemonSet(ds({ maxUnavailable: '50%' }), nodes, nodes.map((n) => pod(d, n.metadata.name!, { old: true })), NOW);
  t.is(plan.delete.length, 2);
  plan = planDaemonSet(ds({ onDelete: true }), nodes, nodes.map((n) => pod(d, n.metadata.name!, { old: true })), NOW);
  t.is(plan.delete.length, 0);
});

test('scaled rounds percentages up', (t) => {
  t.is(scaled('10%', 3, 1), 1);
  t.is(scaled(2, 3, 1), 2);
  t.is(scaled(undefined, 3, 1), 1);
});
