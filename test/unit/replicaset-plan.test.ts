import test from 'ava';
import {
  activePods,
  deletionOrder,
  podsToDelete,
  calculateStatus,
  nextAvailabilityCheckMs,
  slowStartBatches,
} from '../../services/controller-manager/replicaset/plan.ts';
import type { Pod, ReplicaSet } from '../../shared/types.ts';

const NOW_MS = Date.parse('2024-06-01T12:00:00Z');
const ago = (s: number) => new Date(NOW_MS - s * 1000).toISOString();

interface PodOpts {
  node?: string;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ready?: boolean;
  readySince?: number; // seconds ago
  restarts?: number[];
  created?: number; // seconds ago
  deleting?: boolean;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  noStatus?: boolean;
}

function pod(name: string, o: PodOpts = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      creationTimestamp: ago(o.created ?? 1000),
      labels: o.labels ?? { app: 'web', tier: 'fe' },
      ...(o.annotations ? { annotations: o.annotations } : {}),
      ...(o.deleting ? { deletionTimestamp: ago(0) } : {}),
    },
    spec: { containers: [{ name: 'app', image: 'x' }], ...(o.node === undefined ? { nodeName: 'node-1' } : o.node ? { nodeName: o.node } : {}) },
    ...(o.noStatus
      ? {}
      : {
          status: {
            phase: o.phase ?? 'Running',
            conditions: [{ type: 'Ready', status: o.ready ?? true ? 'True' : 'False', lastTransitionTime: ago(o.readySince ?? 500) }],
            containerStatuses: (o.restarts ?? [0]).map((r, i) => ({ name: `c${i}`, ready: o.ready ?? true, restartCount: r, image: 'x', state: {} })),
          },
        }),
  };
}

function rs(minReadySeconds?: number, generation = 3): ReplicaSet {
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-abc', namespace: 'default', generation },
    spec: {
      replicas: 3,
      ...(minReadySeconds !== undefined ? { minReadySeconds } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web', tier: 'fe' } }, spec: { containers: [{ name: 'app', image: 'x' }] } },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// activePods
// ---------------------------------------------------------------------------------------------

test('activePods drops finished and terminating pods', (t) => {
  const pods = [
    pod('running'),
    pod('pending', { phase: 'Pending', node: '' }),
    pod('unknown', { phase: 'Unknown' }),
    pod('nostatus', { noStatus: true }),
    pod('succeeded', { phase: 'Succeeded' }),
    pod('failed', { phase: 'Failed' }),
    pod('deleting', { deleting: true }),
    pod('deleting-pending', { phase: 'Pending', deleting: true }),
  ];
  t.deepEqual(activePods(pods).map((p) => p.metadata.name), ['running', 'pending', 'unknown', 'nostatus']);
});

test('activePods of nothing is nothing', (t) => {
  t.deepEqual(activePods([]), []);
});

// ---------------------------------------------------------------------------------------------
// deletionOrder / podsToDelete
// ---------------------------------------------------------------------------------------------

// [description, pod deleted first, pod deleted later]
const orderCases: [string, Pod, Pod][] = [
  ['unscheduled before scheduled', pod('a', { node: '', phase: 'Pending', ready: false }), pod('b', { phase: 'Pending', ready: false })],
  ['unscheduled before scheduled even if running state differs', pod('a', { node: '', phase: 'Running' }), pod('b', { phase: 'Pending', ready: false })],
  ['Pending before Unknown', pod('a', { phase: 'Pending', ready: false }), pod('b', { phase: 'Unknown', ready: false })],
  ['Unknown before Running', pod('a', { phase: 'Unknown', ready: false }), pod('b', { phase: 'Running', ready: false })],
  ['Pending before Running', pod('a', { phase: 'Pending', ready: false }), pod('b', { phase: 'Running', ready: true })],
  ['no status counts as Pending', pod('a', { noStatus: true }), pod('b', { phase: 'Unknown', ready: false })],
  ['not ready before ready', pod('a', { ready: false }), pod('b', { ready: true })],
  ['not ready before ready even when older and fewer restarts', pod('a', { ready: false, created: 9000, restarts: [0] }), pod('b', { ready: true, created: 10, restarts: [9] })],
  ['ready for less time before longer', pod('a', { readySince: 10 }), pod('b', { readySince: 1000 })],
  ['more restarts before fewer', pod('a', { restarts: [5] }), pod('b', { restarts: [1] })],
  ['restarts use the container with most restarts', pod('a', { restarts: [0, 7] }), pod('b', { restarts: [3, 3] })],
  ['more restarts before fewer, even if older', pod('a', { restarts: [2], created: 5000 }), pod('b', { restarts: [0], created: 10 })],
  ['newer before older', pod('a', { created: 10 }), pod('b', { created: 5000 })],
];

for (const [name, first, later] of orderCases) {
  test(`deletionOrder: ${name}`, (t) => {
    t.true(deletionOrder(first, later) < 0, 'first < later');
    t.true(deletionOrder(later, first) > 0, 'later > first');
    t.deepEqual(podsToDelete([later, first], 1).map((p) => p.metadata.name), [first.metadata.name]);
  });
}

test('deletionOrder: identical pods compare equal', (t) => {
  t.is(deletionOrder(pod('a'), pod('b')), 0);
});

test('podsToDelete ranks a mixed set in Kubernetes order', (t) => {
  const pods = [
    pod('ready-old', { created: 9000, readySince: 8000 }),
    pod('ready-new', { created: 100, readySince: 8000 }),
    pod('ready-recent', { created: 9000, readySince: 30 }),
    pod('ready-restarty', { created: 9000, readySince: 8000, restarts: [4] }),
    pod('running-not-ready', { ready: false }),
    pod('unknown', { phase: 'Unknown', ready: false }),
    pod('pending', { phase: 'Pending', ready: false }),
    pod('unscheduled', { node: '', phase: 'Pending', ready: false }),
  ];
  const shuffled = [pods[3], pods[0], pods[6], pods[2], pods[7], pods[1], pods[5], pods[4]];
  t.deepEqual(podsToDelete(shuffled, 8).map((p) => p.metadata.name), [
    'unscheduled',
    'pending',
    'unknown',
    'running-not-ready',
    'ready-recent',
    'ready-restarty',
    'ready-new',
    'ready-old',
  ]);
});

test('podsToDelete takes count pods, never negative, and does not reorder its input', (t) => {
  const pods = [pod('a', { created: 300 }), pod('b', { created: 200 }), pod('c', { created: 100 })];
  const names = pods.map((p) => p.metadata.name);
  t.deepEqual(podsToDelete(pods, 2).map((p) => p.metadata.name), ['c', 'b']);
  t.deepEqual(podsToDelete(pods, 0), []);
  t.deepEqual(podsToDelete(pods, -3), []);
  t.is(podsToDelete(pods, 10).length, 3);
  t.deepEqual(pods.map((p) => p.metadata.name), names);
});

test('podsToDelete honours controller.kubernetes.io/pod-deletion-cost (lower cost first)', (t) => {
  // BUG: Kubernetes (PodDeletionCost, on by default since v1.22) deletes pods with a lower
  // pod-deletion-cost annotation first, ranked right after readiness. Wharf ignores the annotation
  // and deletes the newer pod "precious" here instead of the older, cheaper "cheap".
  const precious = pod('precious', { created: 10, annotations: { 'controller.kubernetes.io/pod-deletion-cost': '100' } });
  const cheap = pod('cheap', { created: 5000, annotations: { 'controller.kubernetes.io/pod-deletion-cost': '-100' } });
  t.deepEqual(podsToDelete([precious, cheap], 1).map((p) => p.metadata.name), ['cheap']);
});

// ---------------------------------------------------------------------------------------------
// calculateStatus
// ---------------------------------------------------------------------------------------------

test('calculateStatus counts replicas, fully labelled, ready and available pods', (t) => {
  const pods = [
    pod('a'),
    pod('b', { labels: { app: 'web' } }), // matches the selector but not all template labels
    pod('c', { ready: false }),
    pod('d', { phase: 'Pending', ready: false, node: '' }),
  ];
  t.deepEqual(calculateStatus(rs(undefined, 7), pods, NOW_MS), {
    replicas: 4,
    fullyLabeledReplicas: 3,
    readyReplicas: 2,
    availableReplicas: 2,
    observedGeneration: 7,
  });
});

test('calculateStatus: extra labels still count as fully labelled', (t) => {
  const s = calculateStatus(rs(), [pod('a', { labels: { app: 'web', tier: 'fe', 'pod-template-hash': 'abc' } })], NOW_MS);
  t.is(s.fullyLabeledReplicas, 1);
});

const minReadyCases: [string, number | undefined, number, boolean][] = [
  ['minReadySeconds 0: ready is available', 0, 1, true],
  ['minReadySeconds unset: ready is available', undefined, 1, true],
  ['ready 5s, minReadySeconds 10: not yet available', 10, 5, false],
  ['ready 9s, minReadySeconds 10: not yet available', 10, 9, false],
  ['ready 11s, minReadySeconds 10: available', 10, 11, true],
  ['ready an hour, minReadySeconds 600: available', 600, 3600, true],
];

for (const [name, minReady, readyFor, available] of minReadyCases) {
  test(`calculateStatus availability: ${name}`, (t) => {
    const s = calculateStatus(rs(minReady), [pod('a', { readySince: readyFor })], NOW_MS);
    t.is(s.readyReplicas, 1);
    t.is(s.availableReplicas, available ? 1 : 0);
  });
}

test('calculateStatus: not-ready pods are never available', (t) => {
  const s = calculateStatus(rs(0), [pod('a', { ready: false, readySince: 3600 })], NOW_MS);
  t.is(s.availableReplicas, 0);
});

test('calculateStatus: observedGeneration defaults to 1', (t) => {
  const r = rs();
  delete r.metadata.generation;
  t.is(calculateStatus(r, [], NOW_MS).observedGeneration, 1);
});

// ---------------------------------------------------------------------------------------------
// nextAvailabilityCheckMs
// ---------------------------------------------------------------------------------------------

const checkCases: [string, number | undefined, Pod[], number | undefined][] = [
  ['no minReadySeconds', undefined, [pod('a', { readySince: 1 })], undefined],
  ['minReadySeconds 0', 0, [pod('a', { readySince: 1 })], undefined],
  ['all pods already available', 10, [pod('a', { readySince: 60 })], undefined],
  ['no ready pods', 10, [pod('a', { ready: false, readySince: 1 })], undefined],
  ['one pod 5s short', 10, [pod('a', { readySince: 5 })], 5000 + 50],
  ['soonest of several', 30, [pod('a', { readySince: 5 }), pod('b', { readySince: 20 }), pod('c', { readySince: 100 })], 10_000 + 50],
  ['at least 100ms', 10, [pod('a', { readySince: 9.99 })], 100],
  ['no pods', 10, [], undefined],
];

for (const [name, minReady, pods, expected] of checkCases) {
  test(`nextAvailabilityCheckMs: ${name}`, (t) => {
    t.is(nextAvailabilityCheckMs(rs(minReady), pods, NOW_MS), expected);
  });
}

test('nextAvailabilityCheckMs: after waiting the suggested delay the pod is available', (t) => {
  const r = rs(10);
  const pods = [pod('a', { readySince: 3 })];
  const wait = nextAvailabilityCheckMs(r, pods, NOW_MS)!;
  t.is(calculateStatus(r, pods, NOW_MS).availableReplicas, 0);
  t.is(calculateStatus(r, pods, NOW_MS + wait).availableReplicas, 1);
});

// ---------------------------------------------------------------------------------------------
// slowStartBatches
// ---------------------------------------------------------------------------------------------

const batches: [number, number | undefined, number[]][] = [
  [0, undefined, []],
  [1, undefined, [1]],
  [2, undefined, [1, 1]],
  [3, undefined, [1, 2]],
  [4, undefined, [1, 2, 1]],
  [7, undefined, [1, 2, 4]],
  [10, undefined, [1, 2, 4, 3]],
  [15, undefined, [1, 2, 4, 8]],
  [100, undefined, [1, 2, 4, 8, 16, 32, 37]],
  [12, 5, [5, 7]],
  [3, 5, [3]],
  [-2, undefined, []],
];

for (const [count, initial, expected] of batches) {
  test(`slowStartBatches(${count}${initial === undefined ? '' : `, ${initial}`}) = [${expected.join(',')}]`, (t) => {
    const out = initial === undefined ? slowStartBatches(count) : slowStartBatches(count, initial);
    t.deepEqual(out, expected);
    if (count > 0) t.is(out.reduce((a, b) => a + b, 0), count);
  });
}

test('a failure to create pods is the ReplicaFailure condition (FailedCreate), kept as first reported, removed once pods are managed again', (t) => {
  const message = 'pods "web-x" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volume "root")';
  const failed = calculateStatus(rs(), [], NOW_MS, { diff: -2, message });
  t.deepEqual(failed.conditions, [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message, lastTransitionTime: '2024-06-01T12:00:00Z' }]);
  const withFailure = { ...rs(), status: { replicas: 0, conditions: failed.conditions } };
  const again = calculateStatus(withFailure, [], NOW_MS + 60_000, { diff: -2, message: 'pods "web-y" is forbidden: ...' });
  t.deepEqual(again.conditions, failed.conditions, 'an existing failure condition is not rewritten');
  t.is(calculateStatus(withFailure, [], NOW_MS).conditions, undefined, 'removed (and omitted) when the pods are managed without error');
  t.is(calculateStatus(rs(), [], NOW_MS, { diff: 1, message: 'x' }).conditions?.[0].reason, 'FailedDelete');
});
