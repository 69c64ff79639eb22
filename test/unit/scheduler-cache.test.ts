import test from 'ava';
import { SchedulerCache } from '../../services/scheduler/cache.ts';
import { Scheduler } from '../../services/scheduler/scheduler.ts';
import { decide, podsWithAffinity } from '../../services/scheduler/plugins.ts';
import type { Store, StoredEvent } from '../../shared/store/store.ts';
import type { EventRecorder } from '../../shared/events.ts';
import { ConflictError } from '../../shared/errors.ts';
import type { Node, Pod } from '../../shared/types.ts';
import { nodeViewShard } from '../../shared/api/podutil.ts';

const node = (name: string, cpu = '4'): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name } },
  status: { allocatable: { cpu, memory: '8Gi', pods: '10' }, conditions: [{ type: 'Ready', status: 'True' }] },
});

function pod(name: string, opts: { node?: string; rv?: number; cpu?: string; phase?: string; priority?: number; anti?: boolean; nominated?: string } = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: String(opts.rv ?? 1) },
    spec: {
      containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: opts.cpu ?? '100m', memory: '64Mi' } } }],
      ...(opts.node ? { nodeName: opts.node } : {}),
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
      ...(opts.anti ? { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: {}, topologyKey: 'kubernetes.io/hostname' }] } } } : {}),
    },
    status: { phase: (opts.phase ?? 'Pending') as NonNullable<Pod['status']>['phase'], ...(opts.nominated ? { nominatedNodeName: opts.nominated } : {}) },
  };
}

const ev = (type: StoredEvent['type'], object: Pod | Node, rv = Number(object.metadata.resourceVersion ?? 1)): StoredEvent => ({ type, object, rv });
const usage = (c: SchedulerCache, name: string) => {
  const info = c.nodes().find((n) => n.node.metadata.name === name)!;
  return { cpu: info.used.cpuMillis, pods: info.used.pods, names: (info.pods ?? []).map((p) => p.metadata.name).sort() };
};

test('bound, non-terminal pods take room on their node; finishing or deletion gives it back', (t) => {
  const c = new SchedulerCache();
  c.replaceNodes([node('a'), node('b')]);
  c.replacePods([pod('p1', { node: 'a' }), pod('p2', { node: 'a', cpu: '1' }), pod('done', { node: 'a', phase: 'Succeeded' }), pod('pending')]);
  t.deepEqual(usage(c, 'a'), { cpu: 1100, pods: 2, names: ['p1', 'p2'] });
  c.applyPod(ev('MODIFIED', pod('p2', { node: 'a', cpu: '1', phase: 'Failed', rv: 5 })));
  t.deepEqual(usage(c, 'a'), { cpu: 100, pods: 1, names: ['p1'] });
  c.applyPod(ev('DELETED', pod('p1', { node: 'a', rv: 6 })));
  t.deepEqual(usage(c, 'a'), { cpu: 0, pods: 0, names: [] });
  t.deepEqual(c.nodes()[0].allocatable, { cpuMillis: 4000, memoryBytes: 8 * 1024 ** 3, pods: 10 });
});

test('an assumed decision counts at once; the stream replaying the older, unbound state does not undo it; the bind confirms it', (t) => {
  const c = new SchedulerCache();
  c.replaceNodes([node('a')]);
  const p = pod('p', { rv: 7 });
  c.assume(p, 'a');
  t.deepEqual(usage(c, 'a'), { cpu: 100, pods: 1, names: ['p'] });
  // The informer is behind the feed that handed out the pod: its ADDED (rv 7) comes after the decision.
  c.applyPod(ev('ADDED', p));
  t.is(usage(c, 'a').pods, 1);
  c.applyPod(ev('MODIFIED', pod('p', { node: 'a', rv: 9 })));
  t.deepEqual(usage(c, 'a'), { cpu: 100, pods: 1, names: ['p'] });
  // Confirmed: forgetting it now (a late failure report) changes nothing.
  c.forget(p);
  t.is(usage(c, 'a').pods, 1);
});

test('a failed bind is forgotten; a decision survives a relist that does not show it yet', (t) => {
  const c = new SchedulerCache();
  c.replaceNodes([node('a'), node('b')]);
  c.assume(pod('x', { rv: 3 }), 'a');
  c.assume(pod('y', { rv: 4 }), 'b');
  c.forget(pod('x', { rv: 3 }));
  t.is(usage(c, 'a').pods, 0);
  c.replacePods([pod('y', { rv: 4 }), pod('z', { node: 'a', rv: 5 })]);
  t.deepEqual(usage(c, 'b'), { cpu: 100, pods: 1, names: ['y'] });
  t.deepEqual(usage(c, 'a'), { cpu: 100, pods: 1, names: ['z'] });
});

test('a pod seen before its node is counted when the node arrives; a deleted node drops out of the list', (t) => {
  const c = new SchedulerCache();
  c.applyPod(ev('ADDED', pod('early', { node: 'late', rv: 2 })));
  t.is(c.nodes().length, 0);
  c.applyNode(ev('ADDED', node('late')));
  t.deepEqual(usage(c, 'late'), { cpu: 100, pods: 1, names: ['early'] });
  c.applyNode(ev('DELETED', node('late')));
  t.is(c.nodes().length, 0);
  c.applyNode(ev('ADDED', node('late')));
  t.is(usage(c, 'late').pods, 1);
});

test('node updates keep the pods and change allocatable', (t) => {
  const c = new SchedulerCache();
  c.replaceNodes([node('a')]);
  c.applyPod(ev('ADDED', pod('p', { node: 'a' })));
  c.applyNode(ev('MODIFIED', node('a', '8')));
  t.is(c.nodes()[0].allocatable.cpuMillis, 8000);
  t.is(usage(c, 'a').pods, 1);
  c.replaceNodes([node('b')]);
  t.deepEqual(c.nodes().map((n) => n.node.metadata.name), ['b']);
});

test('what preemption and anti-affinity need: lowest placed priority, required anti-affinity seen, nominated pods', (t) => {
  const c = new SchedulerCache();
  c.replaceNodes([node('a')]);
  t.is(c.lowestPriority(), Infinity);
  t.false(c.antiAffinitySeen);
  c.applyPod(ev('ADDED', pod('low', { node: 'a', priority: -5, rv: 2 })));
  c.applyPod(ev('ADDED', pod('guard', { node: 'a', priority: 10, anti: true, rv: 3 })));
  c.applyPod(ev('ADDED', pod('waiting', { nominated: 'a', priority: 100, rv: 4 })));
  t.is(c.lowestPriority(), -5);
  t.true(c.antiAffinitySeen);
  t.deepEqual(c.nominated().map((p) => p.metadata.name), ['waiting']);
  c.applyPod(ev('DELETED', pod('low', { node: 'a', priority: -5, rv: 5 })));
  c.applyPod(ev('DELETED', pod('guard', { node: 'a', priority: 10, anti: true, rv: 6 })));
  c.applyPod(ev('MODIFIED', pod('waiting', { node: 'a', priority: 100, rv: 7 })));
  t.is(c.lowestPriority(), 100);
  t.false(c.antiAffinitySeen);
  t.deepEqual(c.nominated(), []);
});

test('an older, unbound event of a pod the stream showed bound neither moves it nor, when its bind fails, drops it', (t) => {
  const c = new SchedulerCache();
  c.replaceNodes([node('a'), node('b')]);
  const stale = pod('p', { rv: 7 });
  // Bound on a by the retry path; the informer has seen it, the change feed is still behind.
  c.applyPod(ev('MODIFIED', pod('p', { node: 'a', rv: 9 })));
  t.true(c.isPlaced(stale));
  t.false(c.assume(stale, 'b'));
  t.deepEqual(usage(c, 'b'), { cpu: 0, pods: 0, names: [] });
  // The bind of such a decision fails with a conflict and is forgotten: the confirmed pod stays.
  c.forget(stale);
  t.deepEqual(usage(c, 'a'), { cpu: 100, pods: 1, names: ['p'] });
});

test('scheduleBatch skips a pod the cache knows as bound (no decision, no bind)', async (t) => {
  const c = new SchedulerCache();
  c.replaceNodes([node('a'), node('b')]);
  c.applyPod(ev('MODIFIED', pod('p', { node: 'a', rv: 9 })));
  const binds: string[] = [];
  const store = {
    bindPod: async (p: Pod) => {
      binds.push(p.metadata.name!);
      throw new ConflictError('pods', p.metadata.name!);
    },
  } as unknown as Store;
  const events = { normal: async () => undefined, warning: async () => undefined } as unknown as EventRecorder;
  const scheduler = new Scheduler(store, events, c, { retryUnschedulableMs: 30_000 });
  t.deepEqual(await scheduler.scheduleBatch([pod('p', { rv: 7 })]), []);
  t.deepEqual(binds, []);
  t.deepEqual(usage(c, 'a'), { cpu: 100, pods: 1, names: ['p'] });
});

test('a pod found unschedulable before leaves the unschedulable set once bound, by reconcile or by scheduleBatch', async (t) => {
  const c = new SchedulerCache();
  c.replaceNodes([node('a')]);
  const unschedulable = (name: string) => {
    const p = pod(name, { rv: 3 });
    p.status!.conditions = [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available' }];
    return p;
  };
  const removed: string[] = [];
  const store = {
    get: async (_r: string, _ns: string, name: string) => unschedulable(name),
    bindPod: async (p: Pod, nodeName: string) => ({ ...p, spec: { ...p.spec, nodeName } }),
    clearUnschedulable: async (keys: string[]) => {
      removed.push(...keys);
    },
  } as unknown as Store;
  const events = { normal: async () => undefined, warning: async () => undefined } as unknown as EventRecorder;
  const scheduler = new Scheduler(store, events, c, { retryUnschedulableMs: 30_000 });
  t.is(await scheduler.reconcile('default/r'), undefined);
  t.deepEqual(await scheduler.scheduleBatch([unschedulable('b'), pod('fresh', { rv: 4 })]), []);
  t.deepEqual(removed, ['default/r', 'default/b']);
  t.deepEqual(usage(c, 'a').names, ['b', 'fresh', 'r']);
});

test('the fast path catches up with the others\' placements only for pods placed relative to other pods (or with anti-affinity placed), the one-pod path always', async (t) => {
  const c = new SchedulerCache();
  c.replaceNodes([node('a'), node('b'), node('c')]);
  const store = {
    get: async (_r: string, _ns: string, name: string) => pod(name, { rv: 3 }),
    bindPod: async (p: Pod, nodeName: string) => ({ ...p, spec: { ...p.spec, nodeName } }),
    clearUnschedulable: async () => undefined,
  } as unknown as Store;
  const events = { normal: async () => undefined, warning: async () => undefined } as unknown as EventRecorder;
  // Another scheduler has placed a pod that keeps every other off its node; this cache sees it only when it catches up.
  let catchUps = 0;
  const currentPlacements = async () => {
    if (!catchUps++) c.applyPod(ev('ADDED', pod('theirs', { node: 'a', rv: 2, anti: true })));
  };
  const scheduler = new Scheduler(store, events, c, { retryUnschedulableMs: 30_000, currentPlacements });
  t.deepEqual(await scheduler.scheduleBatch([pod('plain', { rv: 3 })]), []);
  t.is(catchUps, 0, 'a pod placed by room alone is decided on the cache as it is (the bind re-checks room)');
  t.deepEqual(await scheduler.scheduleBatch([pod('mine', { rv: 3, anti: true })]), []);
  t.is(catchUps, 1);
  t.true(c.isPlaced(pod('mine')));
  t.false(usage(c, 'a').names.includes('mine'), 'decided after the other scheduler\'s pod was seen on a');
  // Now a placed pod keeps others away: every decision catches up first.
  await scheduler.scheduleBatch([pod('plain2', { rv: 3 })]);
  t.is(catchUps, 2);
  await scheduler.reconcile('default/retried');
  t.is(catchUps, 3);
  t.true(c.isPlaced(pod('retried')));
});

test('applyNode says when scheduling may decide differently: not for a heartbeat, yes for room, labels, taints, cordon, readiness, a node added or removed', (t) => {
  const c = new SchedulerCache();
  const base = () => node('a');
  t.true(c.applyNode(ev('ADDED', base())));
  const heartbeat = base();
  heartbeat.status!.conditions = [{ type: 'Ready', status: 'True', lastHeartbeatTime: '2030-01-01T00:00:00Z' }];
  t.false(c.applyNode(ev('MODIFIED', heartbeat)));
  t.false(c.applyNode(ev('MODIFIED', base())));
  const changes: [string, (n: Node) => void][] = [
    ['allocatable', (n) => (n.status!.allocatable = { ...n.status!.allocatable, cpu: '8' })],
    ['capacity', (n) => (n.status!.capacity = { cpu: '8' })],
    ['labels', (n) => (n.metadata.labels = { ...n.metadata.labels, zone: 'z1' })],
    ['taints', (n) => (n.spec = { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] })],
    ['cordon', (n) => (n.spec = { unschedulable: true })],
    ['readiness', (n) => (n.status!.conditions = [{ type: 'Ready', status: 'False' }])],
  ];
  for (const [what, change] of changes) {
    const n = base();
    change(n);
    t.true(c.applyNode(ev('MODIFIED', n)), what);
    t.true(c.applyNode(ev('MODIFIED', base())), `${what} back`);
  }
  // Label order is no change.
  const reordered = base();
  reordered.metadata.labels = { zone: 'z1', 'kubernetes.io/hostname': 'a' };
  t.true(c.applyNode(ev('MODIFIED', reordered)));
  t.false(c.applyNode(ev('MODIFIED', { ...reordered, metadata: { ...reordered.metadata, labels: { 'kubernetes.io/hostname': 'a', zone: 'z1' } } })));
  t.true(c.applyNode(ev('DELETED', base())));
  t.false(c.applyNode(ev('DELETED', base())));
});

test('the filters read what the cache took from each Node as it came (cordon, taints, readiness), as they read a NodeInfo made without it', (t) => {
  const c = new SchedulerCache();
  c.replaceNodes([node('a'), node('b')]);
  const decideHere = (p: Pod) => {
    const d = decide(p, c.nodes(), undefined, undefined, () => 0.5);
    // The same nodes without the cache's traits: derived from each Node as it is read.
    const plain = decide(p, c.nodes().map(({ traits: _, ...rest }) => rest), undefined, undefined, () => 0.5);
    t.deepEqual([...d.ranked].sort(), [...plain.ranked].sort());
    t.deepEqual([...d.reasons], [...plain.reasons]);
    return [...d.ranked].sort();
  };
  t.deepEqual(decideHere(pod('p')), ['a', 'b']);
  const cordoned = node('a');
  cordoned.spec = { unschedulable: true };
  c.applyNode(ev('MODIFIED', cordoned));
  t.deepEqual(decideHere(pod('p')), ['b']);
  const tainted = node('b');
  tainted.spec = { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] };
  c.applyNode(ev('MODIFIED', tainted));
  t.deepEqual(decideHere(pod('p')), []);
  const tolerating = pod('q');
  tolerating.spec.tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }];
  t.deepEqual(decideHere(tolerating), ['b']);
  c.applyNode(ev('MODIFIED', node('a')));
  const unready = node('b');
  unready.status!.conditions = [{ type: 'Ready', status: 'Unknown' }];
  c.applyNode(ev('MODIFIED', unready));
  t.deepEqual(decideHere(pod('p')), ['a']);
  const reasons = decide(pod('p'), c.nodes().filter((n) => n.node.metadata.name === 'b')).reasons;
  t.deepEqual([...reasons.keys()], ['node(s) had untolerated taint {node.kubernetes.io/unreachable: }']);
});

test('each node keeps its pods with inter-pod terms as pods are placed, replaced, finish and go, and when its Node comes after them', (t) => {
  const c = new SchedulerCache();
  const withTerms = (name: string) => (c.nodes().find((n) => n.node.metadata.name === name)!.podsWithAffinity?.pods ?? []).map((p) => p.metadata.name).sort();
  c.applyPod(ev('ADDED', pod('early-guard', { node: 'a', anti: true, rv: 1 })));
  c.replaceNodes([node('a'), node('b')]);
  t.deepEqual(withTerms('a'), ['early-guard']);
  c.applyPod(ev('ADDED', pod('plain', { node: 'a', rv: 2 })));
  c.applyPod(ev('ADDED', pod('guard', { node: 'a', anti: true, rv: 3 })));
  t.true(c.assume(pod('decided', { anti: true, rv: 4 }), 'b'));
  t.deepEqual(withTerms('a'), ['early-guard', 'guard']);
  t.deepEqual(withTerms('b'), ['decided']);
  const replaced = pod('guard', { node: 'a', anti: true, rv: 5 });
  c.applyPod(ev('MODIFIED', replaced));
  t.is(c.nodes()[0].podsWithAffinity!.pods.find((p) => p.metadata.name === 'guard'), replaced);
  c.applyPod(ev('MODIFIED', pod('early-guard', { node: 'a', anti: true, phase: 'Succeeded', rv: 6 })));
  c.applyPod(ev('DELETED', pod('plain', { node: 'a', rv: 7 })));
  c.forget(pod('decided', { anti: true, rv: 4 }));
  t.deepEqual(withTerms('a'), ['guard']);
  t.deepEqual(withTerms('b'), []);
  // A copy of the node with other pods (as preemption makes) does not take the kept list for its own.
  const a = c.nodes().find((n) => n.node.metadata.name === 'a')!;
  const other = pod('other-guard', { node: 'a', anti: true });
  t.deepEqual(podsWithAffinity({ ...a, pods: [other] }), [other]);
  t.deepEqual(podsWithAffinity(a).map((p) => p.metadata.name), ['guard']);
});

test('a nominated pod bound elsewhere leaves the common view stream as its node\'s shard adds it, in either order: it stays placed', (t) => {
  for (const order of ['added first', 'deleted first']) {
    const c = new SchedulerCache();
    c.replaceNodes([node('a'), node('b')]);
    const nominated = pod('p', { rv: 4, nominated: 'a' });
    c.applyPod(ev('ADDED', nominated));
    t.deepEqual(c.nominated().map((p) => p.metadata.name), ['p']);
    // One write, two streams: the same resourceVersion on both.
    const left = ev('DELETED', pod('p', { rv: 10, nominated: 'a' }));
    const entered = ev('ADDED', pod('p', { rv: 10, node: 'b' }));
    for (const e of order === 'added first' ? [entered, left] : [left, entered]) c.applyPod(e);
    t.deepEqual(usage(c, 'b'), { cpu: 100, pods: 1, names: ['p'] }, order);
    t.deepEqual(c.nominated(), [], order);
    // The common stream read late: the pod's older event there (nominated, before the bind) is old news.
    c.applyPod(ev('MODIFIED', pod('p', { rv: 6, nominated: 'a' })));
    t.deepEqual(usage(c, 'b'), { cpu: 100, pods: 1, names: ['p'] }, order);
    t.deepEqual(c.nominated(), [], order);
    // Its own deletion, naming its node, still frees the room.
    c.applyPod(ev('DELETED', pod('p', { rv: 12, node: 'b' })));
    t.is(usage(c, 'b').pods, 0, order);
  }
});

test('with shards of its own, the fast path places pods on their nodes alone; a pod that fits none of them takes the one-pod path', async (t) => {
  const c = new SchedulerCache();
  // A large cluster (more nodes than every pod is scored against): 150 nodes, 1 cpu each.
  c.replaceNodes(Array.from({ length: 150 }, (_, i) => node(`n-${i}`, '1')));
  const owned = new Set([nodeViewShard('n-0'), nodeViewShard('n-1')]);
  const ownNodes = c.nodes().filter((info) => owned.has(nodeViewShard(info.node.metadata.name!))).map((info) => info.node.metadata.name!);
  t.true(ownNodes.length > 1 && ownNodes.length < 30, `${ownNodes.length} nodes in two shards`);
  const bound: string[] = [];
  const store = {
    bindPod: async (p: Pod, nodeName: string) => {
      bound.push(nodeName);
      return { ...p, spec: { ...p.spec, nodeName } };
    },
    clearUnschedulable: async () => undefined,
  } as unknown as Store;
  const events = { normal: async () => undefined, warning: async () => undefined } as unknown as EventRecorder;
  const scheduler = new Scheduler(store, events, c, { retryUnschedulableMs: 30_000, ownedShards: () => owned });
  // Room for exactly one 1-cpu pod a node: the own nodes fill, the next pod is left to the one-pod path.
  const pods = Array.from({ length: ownNodes.length + 1 }, (_, i) => pod(`p-${i}`, { rv: 3, cpu: '1' }));
  const slow = await scheduler.scheduleBatch(pods);
  t.deepEqual([...bound].sort(), [...ownNodes].sort(), 'each own node took one pod, no other node any');
  t.is(slow.length, 1);
});
