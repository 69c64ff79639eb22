import test from 'ava';
import { withDisruptionTarget } from '../../shared/api/podutil.ts';
import {
  TAINT_NOT_READY,
  TAINT_UNREACHABLE,
  earliest,
  evictionTimeMs,
  lastHeardMs,
  planNodeHealth,
  planOrphans,
  planPods,
  planTaints,
  podNotReady,
  podsConcerned,
  toleratesTaint,
} from '../../services/controller-manager/node-lifecycle/plan.ts';
import { podFromTemplate } from '../../services/controller-manager/pods.ts';
import { addDefaultTolerations } from '../../shared/api/defaults.ts';
import { applyDefaults } from '../../shared/registry/admission.ts';
import { loadConfig } from '../../shared/config.ts';
import { nodeReady, taintToleration } from '../../services/scheduler/plugins.ts';
import type { Condition, KubeObject, Node, Pod, Taint, Toleration } from '../../shared/types.ts';

const T0 = Date.parse('2026-03-01T10:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const GRACE = 50_000;

function agentConditions(heartbeatMs: number, ready: Condition['status'] = 'True'): Condition[] {
  const c = (type: string, status: Condition['status'], reason: string) => ({ type, status, reason, message: 'm', lastHeartbeatTime: iso(heartbeatMs), lastTransitionTime: iso(T0 - 3_600_000) });
  return [c('MemoryPressure', 'False', 'KubeletHasSufficientMemory'), c('DiskPressure', 'False', 'KubeletHasNoDiskPressure'), c('PIDPressure', 'False', 'KubeletHasSufficientPID'), c('Ready', ready, 'KubeletReady')];
}

function node(o: { heartbeatMs?: number; ready?: Condition['status']; conditions?: Condition[]; taints?: Taint[]; created?: number } = {}): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', uid: 'node-uid', creationTimestamp: iso(o.created ?? T0 - 3_600_000) },
    spec: o.taints ? { taints: o.taints } : {},
    status: { conditions: o.conditions ?? agentConditions(o.heartbeatMs ?? T0, o.ready) },
  };
}

const lease = (renewMs: number): KubeObject => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: 'n1', namespace: 'kube-node-lease' },
  spec: { holderIdentity: 'n1', leaseDurationSeconds: 40, renewTime: new Date(renewMs).toISOString().replace('Z', '000Z') },
});

const DEFAULT_TOLERATIONS: Toleration[] = [
  { key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

function pod(name: string, o: { tolerations?: Toleration[]; node?: string; deleting?: boolean; ready?: boolean; phase?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, ...(o.deleting ? { deletionTimestamp: iso(T0) } : {}) },
    spec: { nodeName: o.node ?? 'n1', containers: [{ name: 'c', image: 'x' }], tolerations: o.tolerations ?? DEFAULT_TOLERATIONS },
    status: { phase: (o.phase ?? 'Running') as any, conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

const unreachable = (addedMs: number): Taint[] => [
  { key: TAINT_UNREACHABLE, effect: 'NoSchedule', timeAdded: iso(addedMs) },
  { key: TAINT_UNREACHABLE, effect: 'NoExecute', timeAdded: iso(addedMs) },
];

// ---- grace arithmetic ---------------------------------------------------------------------------

test('last heard: the newer of the Lease renewTime and the Ready heartbeat; the creation time when neither', (t) => {
  t.is(lastHeardMs(node({ heartbeatMs: T0 }), lease(T0 + 7_250)), T0 + 7_250, 'lease newer (microsecond renewTime parsed)');
  t.is(lastHeardMs(node({ heartbeatMs: T0 + 9_000 }), lease(T0)), T0 + 9_000, 'node heartbeat newer');
  t.is(lastHeardMs(node({ heartbeatMs: T0 }), null), T0, 'no lease');
  t.is(lastHeardMs(node({ conditions: [], created: T0 - 5_000 }), null), T0 - 5_000, 'never posted: from creation');
});

test('within the grace period the node is left alone and looked at again when it runs out', (t) => {
  const n = node({ heartbeatMs: T0 - 20_000 });
  t.deepEqual(planNodeHealth(n, lease(T0 - 10_000), T0, GRACE), { expiresInMs: 40_000 });
  t.deepEqual(planNodeHealth(n, lease(T0 - 10_000), T0 + 39_999, GRACE), { expiresInMs: 1 });
  t.is(planNodeHealth(n, lease(T0 - 10_000), T0 + 40_000, GRACE).expiresInMs, undefined, 'at the deadline it has run out');
});

test('past the grace period the agent\'s conditions go Unknown, keeping their heartbeat', (t) => {
  const n = node({ heartbeatMs: T0 });
  n.status!.conditions!.push({ type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated' });
  const now = T0 + GRACE + 1_000;
  const h = planNodeHealth(n, lease(T0), now, GRACE);
  t.is(h.expiresInMs, undefined);
  const byType = Object.fromEntries(h.conditions!.map((c) => [c.type, c]));
  for (const type of ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure']) {
    t.like(byType[type], { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastHeartbeatTime: iso(T0), lastTransitionTime: iso(now) }, type);
  }
  t.like(byType.NetworkUnavailable, { status: 'False', reason: 'RouteCreated' }, 'conditions the agent does not post are kept');
  t.deepEqual(h.conditions!.map((c) => c.type), n.status!.conditions!.map((c) => c.type), 'order kept');

  // Level-triggered: once Unknown, there is nothing more to write.
  const marked = structuredClone(n);
  marked.status!.conditions = h.conditions;
  t.deepEqual(planNodeHealth(marked, lease(T0), now + 60_000, GRACE), {});
});

test('a node that never posted its conditions gets them Unknown (NodeStatusNeverUpdated) after the grace from its creation', (t) => {
  const n = node({ conditions: [], created: T0 });
  t.deepEqual(planNodeHealth(n, null, T0 + 10_000, GRACE), { expiresInMs: 40_000 });
  const h = planNodeHealth(n, null, T0 + GRACE, GRACE);
  t.is(h.conditions!.length, 4);
  t.like(h.conditions!.find((c) => c.type === 'Ready'), { status: 'Unknown', reason: 'NodeStatusNeverUpdated', message: 'Kubelet never posted node status.', lastHeartbeatTime: iso(T0) });
});

test('a fresh heartbeat after Unknown: the node is healthy again as soon as its agent posts (the controller does not write Ready=True)', (t) => {
  const n = node({ heartbeatMs: T0, ready: 'Unknown' });
  t.deepEqual(planNodeHealth(n, lease(T0 + 100_000), T0 + 100_500, GRACE), { expiresInMs: 49_500 });
});

// ---- taints -------------------------------------------------------------------------------------

test('Ready=Unknown: unreachable NoSchedule and NoExecute taints with timeAdded; other taints kept', (t) => {
  const other: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
  const taints = planTaints(node({ ready: 'Unknown', taints: [other] }), T0);
  t.deepEqual(taints, [other, ...unreachable(T0)]);
  t.is(planTaints(node({ ready: 'Unknown', taints: taints! }), T0 + 30_000), undefined, 'nothing to change: timeAdded is kept');
});

test('Ready=False: not-ready taints, swapped for unreachable ones and back', (t) => {
  t.deepEqual(planTaints(node({ ready: 'False' }), T0), [
    { key: TAINT_NOT_READY, effect: 'NoSchedule', timeAdded: iso(T0) },
    { key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: iso(T0) },
  ]);
  t.deepEqual(planTaints(node({ ready: 'False', taints: unreachable(T0) }), T0 + 5_000), [
    { key: TAINT_NOT_READY, effect: 'NoSchedule', timeAdded: iso(T0 + 5_000) },
    { key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: iso(T0 + 5_000) },
  ]);
});

test('Ready=True again: the controller\'s taints go, everything else stays', (t) => {
  const keep: Taint[] = [{ key: 'dedicated', effect: 'NoExecute', timeAdded: iso(T0) }, { key: TAINT_UNREACHABLE, effect: 'PreferNoSchedule' }];
  t.deepEqual(planTaints(node({ ready: 'True', taints: [...unreachable(T0), ...keep] }), T0 + 1), keep);
  t.deepEqual(planTaints(node({ ready: 'True', taints: unreachable(T0) }), T0 + 1), []);
  t.is(planTaints(node({ ready: 'True' }), T0), undefined);
});

test('a NoExecute taint added without timeAdded gets one, so its toleration period has a start', (t) => {
  t.deepEqual(planTaints(node({ taints: [{ key: 'maintenance', effect: 'NoExecute' }, { key: 'x', effect: 'NoSchedule' }] }), T0), [
    { key: 'maintenance', effect: 'NoExecute', timeAdded: iso(T0) },
    { key: 'x', effect: 'NoSchedule' },
  ]);
});

test('the scheduler keeps new pods off a node with the unreachable NoSchedule taint, even with the default tolerations', (t) => {
  const p = pod('new', { node: '' });
  const tainted = node({ ready: 'Unknown', taints: unreachable(T0) });
  const info = { node: tainted, allocatable: { cpuMillis: 4000, memoryBytes: 8e9, pods: 110 }, used: { cpuMillis: 0, memoryBytes: 0, pods: 0 } };
  t.false(taintToleration.filter(p, info).fits);
  t.false(nodeReady.filter(p, info).fits);
  const healthy = { ...info, node: node({ ready: 'True' }) };
  t.true(taintToleration.filter(p, healthy).fits);
});

// ---- which pods to evict, and when ----------------------------------------------------------------

test('tolerations match taints as Kubernetes\' ToleratesTaint', (t) => {
  const taint: Taint = { key: 'k', value: 'v', effect: 'NoExecute' };
  t.true(toleratesTaint({ operator: 'Exists' }, taint), 'empty key with Exists: everything');
  t.true(toleratesTaint({ key: 'k', operator: 'Exists' }, taint));
  t.true(toleratesTaint({ key: 'k', value: 'v' }, taint), 'operator defaults to Equal');
  t.false(toleratesTaint({ key: 'k', value: 'w', operator: 'Equal' }, taint));
  t.false(toleratesTaint({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint));
  t.true(toleratesTaint({ key: 'k', operator: 'Exists', effect: '' }, taint), 'empty effect: every effect');
  t.false(toleratesTaint({ key: 'other', operator: 'Exists' }, taint));
});

test('eviction time: at once when a NoExecute taint is not tolerated, timeAdded + tolerationSeconds, or never', (t) => {
  const taints = unreachable(T0);
  t.is(evictionTimeMs(pod('p', { tolerations: [] }), taints, T0), -Infinity);
  t.is(evictionTimeMs(pod('p', { tolerations: [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoSchedule' }] }), taints, T0), -Infinity, 'NoSchedule toleration does not cover NoExecute');
  t.is(evictionTimeMs(pod('p'), taints, T0 + 10_000), T0 + 300_000, 'from timeAdded, not from now');
  t.is(evictionTimeMs(pod('p', { tolerations: [{ key: TAINT_UNREACHABLE, operator: 'Exists' }] }), taints, T0), Infinity, 'no tolerationSeconds: forever');
  t.is(evictionTimeMs(pod('p', { tolerations: [{ operator: 'Exists' }] }), taints, T0), Infinity);
  t.is(evictionTimeMs(pod('p', { tolerations: [{ key: TAINT_UNREACHABLE, operator: 'Exists', tolerationSeconds: -5 }] }), taints, T0), T0, 'negative: at once');
  t.is(evictionTimeMs(pod('p', { tolerations: [] }), [{ key: 'soft', effect: 'NoSchedule' }], T0), Infinity, 'only NoExecute taints evict');
});

test('eviction time: the first matching toleration of each taint counts, and the earliest taint wins', (t) => {
  const taints: Taint[] = [
    { key: 'a', effect: 'NoExecute', timeAdded: iso(T0) },
    { key: 'b', effect: 'NoExecute', timeAdded: iso(T0 + 60_000) },
  ];
  const tolerations: Toleration[] = [
    { key: 'a', operator: 'Exists', tolerationSeconds: 120 },
    { operator: 'Exists', tolerationSeconds: 30 },
    { key: 'b', operator: 'Exists' },
  ];
  // a: 120 s from T0; b: first match is the wildcard, 30 s from T0+60 s.
  t.is(evictionTimeMs(pod('p', { tolerations }), taints, T0), T0 + 90_000);
});

test('planPods: which pods go now, which later (requeue for the earliest), which never', (t) => {
  const n = node({ ready: 'Unknown', taints: unreachable(T0) });
  const pods = [
    pod('intolerant', { tolerations: [] }),
    pod('defaults'),
    pod('short', { tolerations: [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 }] }),
    pod('forever', { tolerations: [{ operator: 'Exists' }] }),
    pod('leaving', { tolerations: [], deleting: true }),
    pod('elsewhere', { tolerations: [], node: 'n2' }),
  ];
  const at10 = planPods(n, pods, T0 + 10_000);
  t.deepEqual(at10.evict.map((p) => p.metadata.name), ['intolerant']);
  t.is(at10.requeueAfterMs, 50_000, 'the 60 s toleration runs out first');
  t.deepEqual(at10.markNotReady.map((p) => p.metadata.name), ['defaults', 'short', 'forever'], 'a silent node\'s pods are no longer Ready');

  const at60 = planPods(n, pods, T0 + 60_000);
  t.deepEqual(at60.evict.map((p) => p.metadata.name), ['intolerant', 'short']);
  t.is(at60.requeueAfterMs, 240_000);

  const at300 = planPods(n, pods, T0 + 300_000);
  t.deepEqual(at300.evict.map((p) => p.metadata.name), ['intolerant', 'defaults', 'short']);
  t.is(at300.requeueAfterMs, undefined, 'what is left tolerates forever');
});

test('planPods: pods of a node that is only Ready=False (agent alive) are evicted but not marked NotReady', (t) => {
  const n = node({ ready: 'False', taints: [{ key: TAINT_NOT_READY, effect: 'NoExecute', timeAdded: iso(T0) }] });
  const plan = planPods(n, [pod('a'), pod('b', { tolerations: [] })], T0 + 1_000);
  t.deepEqual(plan.evict.map((p) => p.metadata.name), ['b']);
  t.deepEqual(plan.markNotReady, []);
  t.is(plan.requeueAfterMs, 299_000);
});

test('pods matter on a silent node or one with NoExecute taints, not on a healthy one', (t) => {
  t.false(podsConcerned(node({})));
  t.false(podsConcerned(node({ taints: [{ key: 'x', effect: 'NoSchedule' }] })));
  t.true(podsConcerned(node({ taints: [{ key: 'x', effect: 'NoExecute' }] })));
  t.true(podsConcerned(node({ ready: 'Unknown' })));
});

test('podNotReady flips Ready only, and only when it was True', (t) => {
  const c = podNotReady(pod('a'), T0)!;
  t.like(c.find((x) => x.type === 'Ready'), { status: 'False', lastTransitionTime: iso(T0) });
  t.like(c.find((x) => x.type === 'PodScheduled'), { status: 'True' });
  t.is(podNotReady(pod('b', { ready: false }), T0), undefined);
});

test('orphans: the pods bound to the missing node, once they are older than the grace period', (t) => {
  const aged = (p: Pod, createdMs: number) => ({ ...p, metadata: { ...p.metadata, creationTimestamp: iso(createdMs) } });
  const pods = [aged(pod('old'), T0 - 3_600_000), aged(pod('other-node', { node: 'n2' }), T0 - 3_600_000), aged(pod('leaving', { deleting: true }), T0 - 60_000), aged(pod('new'), T0 - 10_000)];
  const plan = planOrphans('n1', pods, T0, GRACE);
  t.deepEqual(plan.delete.map((p) => p.metadata.name), ['old', 'leaving'], 'terminating ones too: nobody is left to finish them');
  t.is(plan.requeueAfterMs, 40_000, 'a pod bound to a node that has yet to register waits');
  t.deepEqual(planOrphans('n1', pods, T0 + 40_000, GRACE).delete.map((p) => p.metadata.name), ['old', 'leaving', 'new']);
});

test('DisruptionTarget marks why a pod goes', (t) => {
  const c = withDisruptionTarget(pod('a'), 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint', T0);
  t.deepEqual(c.at(-1), { type: 'DisruptionTarget', status: 'True', reason: 'DeletionByTaintManager', message: 'Taint manager: deleting due to NoExecute taint', lastTransitionTime: iso(T0) });
  t.is(c.filter((x) => x.type === 'DisruptionTarget').length, 1);
  t.is(withDisruptionTarget({ ...pod('a'), status: { conditions: c } } as Pod, 'DeletionByPodGC', 'm', T0).filter((x) => x.type === 'DisruptionTarget').length, 1);
});

test('requeue: the earliest of the grace and toleration deadlines', (t) => {
  t.is(earliest(undefined, undefined), undefined);
  t.is(earliest(40_000, undefined), 40_000);
  t.is(earliest(40_000, 2_000), 2_000);
  t.is(earliest(Infinity, 5), 5);
  t.is(earliest(-3), 0);
});

test('a silent node, step by step: Unknown after the grace, tainted, its pods evicted when their toleration runs out', (t) => {
  const grace = 4_000;
  const tol = 2;
  const tolerations: Toleration[] = DEFAULT_TOLERATIONS.map((x) => ({ ...x, tolerationSeconds: tol }));
  let n = node({ heartbeatMs: T0 });
  const l = lease(T0 + 500);
  const pods = [pod('a', { tolerations }), pod('b', { tolerations })];

  // Just after the last heartbeat: look again when the grace runs out.
  let h = planNodeHealth(n, l, T0 + 1_000, grace);
  t.deepEqual(h, { expiresInMs: 3_500 });
  t.is(planTaints(n, T0 + 1_000), undefined);
  t.false(podsConcerned(n));

  // The grace ran out: Unknown, tainted; the pods tolerate it for 2 s more.
  const t1 = T0 + 4_500;
  h = planNodeHealth(n, l, t1, grace);
  n = { ...n, status: { ...n.status, conditions: h.conditions } };
  n = { ...n, spec: { taints: planTaints(n, t1) } };
  t.deepEqual(n.spec!.taints!.map((x) => `${x.key}:${x.effect}`), [`${TAINT_UNREACHABLE}:NoSchedule`, `${TAINT_UNREACHABLE}:NoExecute`]);
  let p = planPods(n, pods, t1);
  t.deepEqual(p.evict, []);
  // timeAdded has second precision (T0+4 s): the toleration ends at T0+6 s.
  t.is(p.requeueAfterMs, 1_500);
  p = planPods(n, pods, T0 + 6_000);
  t.deepEqual(p.evict.map((x) => x.metadata.name), ['a', 'b']);
});

// ---- DefaultTolerationSeconds and configuration --------------------------------------------------

test('DefaultTolerationSeconds: every pod tolerates not-ready and unreachable for 300 s unless it says otherwise', (t) => {
  const p = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } as KubeObject;
  applyDefaults('Pod', p);
  t.deepEqual(p.spec.tolerations, DEFAULT_TOLERATIONS);
  applyDefaults('Pod', p);
  t.is(p.spec.tolerations.length, 2, 'idempotent');

  const own = { tolerations: [{ key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 6000 }, { key: 'x', operator: 'Exists', effect: 'NoSchedule' }] };
  addDefaultTolerations(own, 300);
  t.deepEqual(own.tolerations.map((x: any) => `${x.key}:${x.tolerationSeconds}`), [`${TAINT_UNREACHABLE}:6000`, 'x:undefined', `${TAINT_NOT_READY}:300`]);

  const all = { tolerations: [{ operator: 'Exists' }] };
  addDefaultTolerations(all, 300);
  t.is(all.tolerations.length, 1, 'a toleration of every taint covers both');

  const bad = { tolerations: 'nope' };
  addDefaultTolerations(bad, 300);
  t.is(bad.tolerations, 'nope', 'left for validation to refuse');
});

test('pods a controller creates from a template get the default tolerations from the Pod strategy, the template does not change', (t) => {
  const rs = {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web', namespace: 'default', uid: 'rs-uid' },
    spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x:1' }] } } },
  };
  const p = podFromTemplate(rs as any, 'ReplicaSet', 'apps/v1');
  // The store admits a controller's pod as any client's (shared/registry/kinds/pod.ts).
  applyDefaults('Pod', p);
  t.deepEqual(p.spec.tolerations!.map((x) => x.key), [TAINT_NOT_READY, TAINT_UNREACHABLE]);
  t.is((rs.spec.template.spec as any).tolerations, undefined);
});

test('configuration: node monitor grace and pod eviction toleration', (t) => {
  t.is(loadConfig({}).controller.nodeMonitorGraceMs, 50_000);
  t.is(loadConfig({}).admission.podEvictionTolerationSeconds, 300);
  const c = loadConfig({ WHARF_NODE_MONITOR_GRACE: '4s', WHARF_POD_EVICTION_TOLERATION: '2s' });
  t.is(c.controller.nodeMonitorGraceMs, 4_000);
  t.is(c.admission.podEvictionTolerationSeconds, 2);
  t.is(loadConfig({ WHARF_POD_EVICTION_TOLERATION: '1500ms' }).admission.podEvictionTolerationSeconds, 2, 'whole seconds, rounded up');
  t.throws(() => loadConfig({ WHARF_NODE_MONITOR_GRACE: 'soon' }), { message: /WHARF_NODE_MONITOR_GRACE/ });
});
