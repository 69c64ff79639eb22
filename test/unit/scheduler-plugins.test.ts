import test from 'ava';
import { tolerates } from '../../shared/api/podutil.ts';
import {
  nodeReady,
  nodeUnschedulable,
  taintToleration,
  nodeAffinity,
  nodeResourcesFit,
  nodeName,
  leastAllocated,
  taintPreference,
  decide,
  unschedulableMessage,
  DEFAULT_FILTERS,
  type NodeInfo,
  type ScheduleDecision,
} from '../../services/scheduler/plugins.ts';
import type { Container, Node, Pod, Taint, Toleration } from '../../shared/types.ts';

const GI = 1024 ** 3;
const MI = 1024 ** 2;

interface NodeOpts {
  ready?: 'True' | 'False' | 'Unknown' | null; // null: no Ready condition at all
  unschedulable?: boolean;
  taints?: Taint[];
  labels?: Record<string, string>;
  cpu?: number;
  mem?: number;
  pods?: number;
  usedCpu?: number;
  usedMem?: number;
  usedPods?: number;
}

function info(name: string, o: NodeOpts = {}): NodeInfo {
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
    spec: { ...(o.unschedulable ? { unschedulable: true } : {}), ...(o.taints ? { taints: o.taints } : {}) },
    status: { conditions: o.ready === null ? [] : [{ type: 'Ready', status: o.ready ?? 'True' }] },
  };
  return {
    node,
    allocatable: { cpuMillis: o.cpu ?? 4000, memoryBytes: o.mem ?? 8 * GI, pods: o.pods ?? 110 },
    used: { cpuMillis: o.usedCpu ?? 0, memoryBytes: o.usedMem ?? 0, pods: o.usedPods ?? 0 },
  };
}

interface PodOpts {
  tolerations?: Toleration[];
  nodeSelector?: Record<string, string>;
  terms?: any[];
  requests?: Record<string, string>[];
  limits?: Record<string, string>[];
  init?: Record<string, string>[];
  nodeName?: string;
}

function pod(o: PodOpts = {}): Pod {
  const containers: Container[] = (o.requests ?? [{}]).map((r, i) => ({
    name: `c${i}`,
    image: 'x',
    resources: { requests: r, ...(o.limits?.[i] ? { limits: o.limits[i] } : {}) },
  }));
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: {
      containers,
      ...(o.init ? { initContainers: o.init.map((r, i) => ({ name: `i${i}`, image: 'x', resources: { requests: r } })) } : {}),
      ...(o.tolerations ? { tolerations: o.tolerations } : {}),
      ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
      ...(o.terms ? { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: o.terms } } } } : {}),
      ...(o.nodeName ? { nodeName: o.nodeName } : {}),
    },
  };
}

const FITS = { fits: true };
const no = (...reasons: string[]) => ({ fits: false, reason: reasons.join(', '), reasons });

// ---------------------------------------------------------------------------------------------
// tolerates (Kubernetes' Toleration.ToleratesTaint)
// ---------------------------------------------------------------------------------------------

const NS: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
const tolerationCases: [string, Toleration[] | undefined, Taint, boolean][] = [
  ['no tolerations', undefined, NS, false],
  ['empty tolerations', [], NS, false],
  ['Equal key/value/effect', [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }], NS, true],
  ['operator omitted means Equal', [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }], NS, true],
  ['Equal with other value', [{ key: 'dedicated', operator: 'Equal', value: 'cpu', effect: 'NoSchedule' }], NS, false],
  ['Equal without value vs taint with value', [{ key: 'dedicated', operator: 'Equal', effect: 'NoSchedule' }], NS, false],
  ['Equal without value vs taint without value', [{ key: 'k', operator: 'Equal' }], { key: 'k', effect: 'NoSchedule' }, true],
  ['Equal empty value vs taint without value', [{ key: 'k', operator: 'Equal', value: '' }], { key: 'k', effect: 'NoSchedule' }, true],
  ['other key', [{ key: 'other', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }], NS, false],
  ['Exists with key ignores value', [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }], NS, true],
  ['Exists with other key', [{ key: 'other', operator: 'Exists' }], NS, false],
  ['Exists without key tolerates everything', [{ operator: 'Exists' }], NS, true],
  ['Exists without key tolerates NoExecute too', [{ operator: 'Exists' }], { key: 'x', effect: 'NoExecute' }, true],
  ['Exists without key but with effect: same effect', [{ operator: 'Exists', effect: 'NoSchedule' }], NS, true],
  ['Exists without key but with effect: other effect', [{ operator: 'Exists', effect: 'NoExecute' }], NS, false],
  ['empty effect matches every effect', [{ key: 'dedicated', operator: 'Equal', value: 'gpu' }], { ...NS, effect: 'NoExecute' }, true],
  ['effect NoExecute does not tolerate NoSchedule', [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoExecute' }], NS, false],
  ['effect PreferNoSchedule does not tolerate NoSchedule', [{ key: 'dedicated', operator: 'Exists', effect: 'PreferNoSchedule' }], NS, false],
  ['any one matching toleration is enough', [{ key: 'a', operator: 'Exists' }, { key: 'dedicated', operator: 'Exists' }], NS, true],
];

for (const [name, tols, taint, expected] of tolerationCases) {
  test(`tolerates: ${name}`, (t) => {
    t.is(tolerates(tols, taint), expected);
  });
}

// ---------------------------------------------------------------------------------------------
// NodeReady
// ---------------------------------------------------------------------------------------------

const NOT_READY = 'node(s) had untolerated taint {node.kubernetes.io/not-ready: }';
const readyCases: [string, NodeOpts['ready'], object][] = [
  ['Ready=True fits', 'True', FITS],
  ['Ready=False', 'False', no(NOT_READY)],
  // An unreachable node (Ready=Unknown) carries the unreachable taint, as the node lifecycle controller sets it.
  ['Ready=Unknown', 'Unknown', no('node(s) had untolerated taint {node.kubernetes.io/unreachable: }')],
  ['no Ready condition', null, no(NOT_READY)],
];

for (const [name, ready, expected] of readyCases) {
  test(`NodeReady: ${name}`, (t) => {
    t.deepEqual(nodeReady.filter(pod(), info('n', { ready })), expected);
  });
}

test('NodeReady: a pod tolerating node.kubernetes.io/not-ready:NoSchedule may land on a not-ready node', (t) => {
  // BUG: in Kubernetes a not-ready node is expressed as the taint node.kubernetes.io/not-ready
  // (NoSchedule), checked by TaintToleration, so pods that tolerate it (e.g. `operator: Exists`,
  // as DaemonSet/system pods do) schedule there. Wharf's NodeReady filter ignores tolerations, while
  // its message claims an untolerated taint.
  const p = pod({ tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoSchedule' }] });
  t.deepEqual(nodeReady.filter(p, info('n', { ready: 'False' })), FITS);
});

// ---------------------------------------------------------------------------------------------
// NodeUnschedulable
// ---------------------------------------------------------------------------------------------

const UNSCHED = 'node(s) were unschedulable';
const unschedCases: [string, boolean, Toleration[] | undefined, object][] = [
  ['schedulable node', false, undefined, FITS],
  ['cordoned node', true, undefined, no(UNSCHED)],
  ['cordoned node, unrelated toleration', true, [{ key: 'other', operator: 'Exists' }], no(UNSCHED)],
  ['cordoned node, toleration of the unschedulable taint', true, [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }], FITS],
  ['cordoned node, toleration of the taint without effect', true, [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists' }], FITS],
  ['cordoned node, tolerate-everything', true, [{ operator: 'Exists' }], FITS],
  ['cordoned node, toleration with NoExecute effect only', true, [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoExecute' }], no(UNSCHED)],
];

for (const [name, unschedulable, tolerations, expected] of unschedCases) {
  test(`NodeUnschedulable: ${name}`, (t) => {
    t.deepEqual(nodeUnschedulable.filter(pod({ tolerations }), info('n', { unschedulable })), expected);
  });
}

// ---------------------------------------------------------------------------------------------
// TaintToleration
// ---------------------------------------------------------------------------------------------

const taintCases: [string, Taint[], Toleration[] | undefined, object][] = [
  ['no taints', [], undefined, FITS],
  ['NoSchedule untolerated', [NS], undefined, no('node(s) had untolerated taint {dedicated: gpu}')],
  ['NoSchedule tolerated', [NS], [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }], FITS],
  ['NoSchedule tolerated by Exists', [NS], [{ key: 'dedicated', operator: 'Exists' }], FITS],
  ['NoSchedule with wrong value', [NS], [{ key: 'dedicated', operator: 'Equal', value: 'tpu' }], no('node(s) had untolerated taint {dedicated: gpu}')],
  ['NoExecute untolerated', [{ key: 'evict', effect: 'NoExecute' }], undefined, no('node(s) had untolerated taint {evict: }')],
  ['NoExecute tolerated', [{ key: 'evict', effect: 'NoExecute' }], [{ key: 'evict', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 30 }], FITS],
  ['PreferNoSchedule untolerated still fits', [{ key: 'soft', value: 'x', effect: 'PreferNoSchedule' }], undefined, FITS],
  [
    'one of two taints untolerated',
    [NS, { key: 'zone', value: 'a', effect: 'NoSchedule' }],
    [{ key: 'dedicated', operator: 'Exists' }],
    no('node(s) had untolerated taint {zone: a}'),
  ],
  [
    'all taints tolerated',
    [NS, { key: 'zone', value: 'a', effect: 'NoSchedule' }, { key: 'soft', effect: 'PreferNoSchedule' }],
    [{ key: 'dedicated', operator: 'Exists' }, { key: 'zone', value: 'a' }],
    FITS,
  ],
];

for (const [name, taints, tolerations, expected] of taintCases) {
  test(`TaintToleration: ${name}`, (t) => {
    t.deepEqual(taintToleration.filter(pod({ tolerations }), info('n', { taints })), expected);
  });
}

// ---------------------------------------------------------------------------------------------
// NodeAffinity
// ---------------------------------------------------------------------------------------------

const AFF = "node(s) didn't match Pod's node affinity/selector";
const labels = { zone: 'a', disk: 'ssd', gen: '5', gpu: '' };
const expr = (key: string, operator: string, values?: string[]) => ({ matchExpressions: [{ key, operator, ...(values ? { values } : {}) }] });

const affinityCases: [string, PodOpts, boolean][] = [
  ['no constraints', {}, true],
  ['nodeSelector matches', { nodeSelector: { zone: 'a', disk: 'ssd' } }, true],
  ['nodeSelector value differs', { nodeSelector: { zone: 'b' } }, false],
  ['nodeSelector key missing', { nodeSelector: { rack: '1' } }, false],
  ['nodeSelector empty value matches empty label', { nodeSelector: { gpu: '' } }, true],
  ['In matches', { terms: [expr('zone', 'In', ['a', 'b'])] }, true],
  ['In does not match', { terms: [expr('zone', 'In', ['b', 'c'])] }, false],
  ['In on missing key', { terms: [expr('rack', 'In', ['1'])] }, false],
  ['NotIn matches', { terms: [expr('zone', 'NotIn', ['b'])] }, true],
  ['NotIn listed', { terms: [expr('zone', 'NotIn', ['a'])] }, false],
  ['NotIn on missing key matches', { terms: [expr('rack', 'NotIn', ['1'])] }, true],
  ['Exists', { terms: [expr('disk', 'Exists')] }, true],
  ['Exists on empty label', { terms: [expr('gpu', 'Exists')] }, true],
  ['Exists missing', { terms: [expr('rack', 'Exists')] }, false],
  ['DoesNotExist', { terms: [expr('rack', 'DoesNotExist')] }, true],
  ['DoesNotExist present', { terms: [expr('disk', 'DoesNotExist')] }, false],
  ['Gt true', { terms: [expr('gen', 'Gt', ['4'])] }, true],
  ['Gt equal is false', { terms: [expr('gen', 'Gt', ['5'])] }, false],
  ['Gt false', { terms: [expr('gen', 'Gt', ['6'])] }, false],
  ['Gt on missing key', { terms: [expr('rack', 'Gt', ['0'])] }, false],
  ['Gt on non-numeric label', { terms: [expr('disk', 'Gt', ['0'])] }, false],
  ['Lt true', { terms: [expr('gen', 'Lt', ['6'])] }, true],
  ['Lt false', { terms: [expr('gen', 'Lt', ['5'])] }, false],
  [
    'expressions in one term are ANDed (one fails)',
    { terms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'disk', operator: 'In', values: ['hdd'] }] }] },
    false,
  ],
  [
    'expressions in one term are ANDed (all hold)',
    { terms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }, { key: 'gen', operator: 'Gt', values: ['1'] }] }] },
    true,
  ],
  ['terms are ORed (second matches)', { terms: [expr('zone', 'In', ['z']), expr('disk', 'In', ['ssd'])] }, true],
  ['terms are ORed (none matches)', { terms: [expr('zone', 'In', ['z']), expr('disk', 'In', ['hdd'])] }, false],
  ['matchFields metadata.name In', { terms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] }, true],
  ['matchFields metadata.name In other', { terms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }] }, false],
  ['matchFields metadata.name NotIn', { terms: [{ matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }] }] }, false],
  ['nodeSelector and affinity must both hold', { nodeSelector: { zone: 'b' }, terms: [expr('disk', 'Exists')] }, false],
];

for (const [name, opts, fits] of affinityCases) {
  test(`NodeAffinity: ${name}`, (t) => {
    t.deepEqual(nodeAffinity.filter(pod(opts), info('n1', { labels })), fits ? FITS : no(AFF));
  });
}

test('NodeAffinity: an empty nodeSelectorTerm matches no node', (t) => {
  // BUG: Kubernetes: "A null or empty node selector term matches no objects" (nodeaffinity skips
  // empty terms, and with no usable term nothing matches). Wharf treats an empty term as
  // matching every node.
  t.deepEqual(nodeAffinity.filter(pod({ terms: [{}] }), info('n1', { labels })), no(AFF));
});

// ---------------------------------------------------------------------------------------------
// NodeResourcesFit (and podRequests)
// ---------------------------------------------------------------------------------------------

const fitCases: [string, PodOpts, NodeOpts, object][] = [
  ['nothing requested', {}, {}, FITS],
  ['cpu fits', { requests: [{ cpu: '500m' }] }, { cpu: 1000, usedCpu: 500 }, FITS],
  ['cpu fits exactly', { requests: [{ cpu: '1' }] }, { cpu: 2000, usedCpu: 1000 }, FITS],
  ['cpu short by 1m', { requests: [{ cpu: '501m' }] }, { cpu: 1000, usedCpu: 500 }, no('Insufficient cpu')],
  ['cpu summed over containers', { requests: [{ cpu: '600m' }, { cpu: '600m' }] }, { cpu: 1000 }, no('Insufficient cpu')],
  ['memory fits', { requests: [{ memory: '1Gi' }] }, { mem: 2 * GI, usedMem: GI }, FITS],
  ['memory short', { requests: [{ memory: '1Gi' }] }, { mem: 2 * GI, usedMem: GI + 1 }, no('Insufficient memory')],
  ['memory in Mi summed', { requests: [{ memory: '512Mi' }, { memory: '513Mi' }] }, { mem: GI }, no('Insufficient memory')],
  ['pods full', {}, { pods: 3, usedPods: 3 }, no('Too many pods')],
  ['last pod slot', {}, { pods: 3, usedPods: 2 }, FITS],
  ['too many pods and short of cpu: both reported, as Kubernetes does', { requests: [{ cpu: '10' }] }, { pods: 1, usedPods: 1, cpu: 1000 }, no('Too many pods', 'Insufficient cpu')],
  ['limits stand in for missing requests', { requests: [{}], limits: [{ cpu: '2' }] }, { cpu: 1000 }, no('Insufficient cpu')],
  ['explicit request wins over limit', { requests: [{ cpu: '100m' }], limits: [{ cpu: '2' }] }, { cpu: 1000 }, FITS],
  ['init container larger than the sum of containers', { requests: [{ cpu: '500m' }], init: [{ cpu: '3' }] }, { cpu: 2000 }, no('Insufficient cpu')],
  ['init container smaller than the sum', { requests: [{ cpu: '800m' }, { cpu: '800m' }], init: [{ cpu: '1' }] }, { cpu: 1600 }, FITS],
  ['init containers are not summed', { requests: [{}], init: [{ memory: '600Mi' }, { memory: '600Mi' }] }, { mem: GI }, FITS],
  ['init container memory too large', { requests: [{ memory: '100Mi' }], init: [{ memory: '2Gi' }] }, { mem: GI }, no('Insufficient memory')],
];

for (const [name, popts, nopts, expected] of fitCases) {
  test(`NodeResourcesFit: ${name}`, (t) => {
    t.deepEqual(nodeResourcesFit.filter(pod(popts), info('n', nopts)), expected);
  });
}

test('NodeResourcesFit: a pod requesting no cpu fits a node whose cpu is already overcommitted', (t) => {
  // BUG: Kubernetes' fitsRequest only checks a resource the pod requests (podRequest.MilliCPU > 0 &&
  // ...), and returns early for pods that request nothing; Wharf compares used + 0 > allocatable,
  // so a BestEffort pod is refused by a node whose allocatable dropped below what is in use.
  t.deepEqual(nodeResourcesFit.filter(pod(), info('n', { cpu: 1000, usedCpu: 1200, mem: GI, usedMem: 2 * GI })), FITS);
});

// ---------------------------------------------------------------------------------------------
// NodeName
// ---------------------------------------------------------------------------------------------

test('NodeName: no nodeName fits anywhere, a nodeName only its node', (t) => {
  t.deepEqual(nodeName.filter(pod(), info('n1')), FITS);
  t.deepEqual(nodeName.filter(pod({ nodeName: 'n1' }), info('n1')), FITS);
  t.deepEqual(nodeName.filter(pod({ nodeName: 'n2' }), info('n1')), no("node(s) didn't match the requested node name"));
});

// ---------------------------------------------------------------------------------------------
// Scores
// ---------------------------------------------------------------------------------------------

test('leastAllocated scores the free share after placing the pod', (t) => {
  const n = info('n', { cpu: 1000, mem: 1000 * MI, pods: 10 });
  // cpu (1000-500)/1000 = 50, memory 100, pods (10-1)/10 = 90 -> 80
  t.is(leastAllocated.score(pod({ requests: [{ cpu: '500m' }] }), n), 80);
  const full = info('n', { cpu: 1000, usedCpu: 1000, mem: 1000, usedMem: 1000, pods: 10, usedPods: 10 });
  t.is(leastAllocated.score(pod({ requests: [{ cpu: '500m' }] }), full), 0);
  t.is(leastAllocated.score(pod(), info('z', { cpu: 0, mem: 0, pods: 0 })), 0);
});

test('taintPreference: untolerated PreferNoSchedule taints lower the score', (t) => {
  const soft = (key: string): Taint => ({ key, effect: 'PreferNoSchedule' });
  t.is(taintPreference.score(pod(), info('n')), 100);
  t.is(taintPreference.score(pod(), info('n', { taints: [soft('a')] })), 50);
  t.is(taintPreference.score(pod(), info('n', { taints: [soft('a'), soft('b'), soft('c')] })), 0);
  t.is(taintPreference.score(pod({ tolerations: [{ key: 'a', operator: 'Exists' }] }), info('n', { taints: [soft('a')] })), 100);
  t.is(taintPreference.score(pod(), info('n', { taints: [NS] })), 100, 'NoSchedule taints are for the filter');
});

// ---------------------------------------------------------------------------------------------
// decide / unschedulableMessage
// ---------------------------------------------------------------------------------------------

const fixedRandom = () => {
  let i = 0;
  return () => (i++ % 10) / 10;
};

test('decide ranks feasible nodes by least allocated, best first', (t) => {
  const nodes = [
    info('busy', { usedCpu: 3000, usedMem: 6 * GI, usedPods: 50 }),
    info('idle', {}),
    info('half', { usedCpu: 2000, usedMem: 4 * GI, usedPods: 20 }),
  ];
  const d = decide(pod({ requests: [{ cpu: '100m', memory: '100Mi' }] }), nodes, DEFAULT_FILTERS, undefined, fixedRandom());
  t.deepEqual(d.ranked, ['idle', 'half', 'busy']);
  t.is(d.total, 3);
  t.is(d.reasons.size, 0);
});

test('decide: a PreferNoSchedule taint pushes an otherwise better node down', (t) => {
  const nodes = [info('tainted', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] }), info('clean', { usedCpu: 1000, usedMem: GI })];
  const d = decide(pod(), nodes, undefined, undefined, fixedRandom());
  t.deepEqual(d.ranked, ['clean', 'tainted']);
});

test('decide: equal scores are broken by the random tie-breaker', (t) => {
  const nodes = [info('a'), info('b'), info('c')];
  const reversed = [0.9, 0.5, 0.1];
  let i = 0;
  const d = decide(pod(), nodes, undefined, undefined, () => reversed[i++]);
  t.deepEqual(d.ranked, ['c', 'b', 'a']);
});

test('decide: infeasible nodes are counted by their first failing filter', (t) => {
  const nodes = [
    info('ok', {}),
    info('cordoned', { unschedulable: true, cpu: 10 }), // unschedulable is checked before resources
    info('tainted', { taints: [NS] }),
    info('small', { cpu: 100 }),
    info('notready', { ready: 'False' }),
    info('wrongzone', { labels: { zone: 'b' } }),
  ];
  const d = decide(pod({ requests: [{ cpu: '500m' }], terms: [expr('zone', 'NotIn', ['b'])] }), nodes, undefined, undefined, fixedRandom());
  t.deepEqual(d.ranked, ['ok']);
  t.deepEqual(Object.fromEntries(d.reasons), {
    'node(s) were unschedulable': 1,
    'node(s) had untolerated taint {dedicated: gpu}': 1,
    'Insufficient cpu': 1,
    [NOT_READY]: 1,
    [AFF]: 1,
  });
});

test('decide with no nodes', (t) => {
  const d = decide(pod(), []);
  t.deepEqual(d, { ranked: [], reasons: new Map(), total: 0 });
});

test('unschedulableMessage: the Kubernetes example', (t) => {
  const nodes = [info('a', { cpu: 100 }), info('b', { unschedulable: true }), info('c', { unschedulable: true })];
  const d = decide(pod({ requests: [{ cpu: '1' }] }), nodes);
  t.deepEqual(d.ranked, []);
  t.is(unschedulableMessage(d), '0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable.');
});

test('unschedulableMessage: one reason', (t) => {
  const d = decide(pod({ requests: [{ memory: '10Gi' }] }), [info('a'), info('b')]);
  t.is(unschedulableMessage(d), '0/2 nodes are available: 2 Insufficient memory.');
});

test('unschedulableMessage: no nodes at all', (t) => {
  t.is(unschedulableMessage({ ranked: [], reasons: new Map(), total: 0 }), 'no nodes available to schedule pods');
});

test('unschedulableMessage: taint and affinity reasons', (t) => {
  const d: ScheduleDecision = {
    ranked: [],
    total: 3,
    reasons: new Map([
      ["node(s) didn't match Pod's node affinity/selector", 1],
      ['node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }', 1],
      ['Too many pods', 1],
    ]),
  };
  t.is(
    unschedulableMessage(d),
    "0/3 nodes are available: 1 Too many pods, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }.",
  );
});

test('unschedulableMessage sorts the "<count> <reason>" strings, as Kubernetes FitError does', (t) => {
  // BUG: Kubernetes builds "<n> <reason>" strings and sort.Strings() them, so counts order first:
  // "1 node(s) were unschedulable, 2 Insufficient cpu". Wharf sorts by reason text alone and prints
  // "2 Insufficient cpu, 1 node(s) were unschedulable".
  const d: ScheduleDecision = { ranked: [], total: 3, reasons: new Map([['Insufficient cpu', 2], ['node(s) were unschedulable', 1]]) };
  t.is(unschedulableMessage(d), '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu.');
});

test('a node short of both cpu and memory is reported for both, as Kubernetes does', (t) => {
  // BUG: NodeResourcesFit returns only its first insufficient resource; Kubernetes' Fit filter
  // reports every insufficient resource of the node: "0/1 nodes are available: 1 Insufficient cpu,
  // 1 Insufficient memory."
  const d = decide(pod({ requests: [{ cpu: '8', memory: '64Gi' }] }), [info('a')]);
  t.is(unschedulableMessage(d), '0/1 nodes are available: 1 Insufficient cpu, 1 Insufficient memory.');
});
