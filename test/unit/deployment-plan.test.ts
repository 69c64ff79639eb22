import test from 'ava';
import {
  templateHash,
  stripHash,
  resolveIntOrPercent,
  surgeAndUnavailable,
  newReplicaSetTarget,
  oldReplicaSetTargets,
  proportionalScale,
  calculateStatus,
  msUntilDeadline,
  isComplete,
  byCreation,
  revisionOf,
  REVISION,
  MAX_REPLICAS,
  TEMPLATE_HASH,
} from '../../services/controller-manager/deployment/plan.ts';
import type { Condition, Deployment, PodTemplateSpec, ReplicaSet } from '../../shared/types.ts';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

const template = (image = 'nginx:1.25', labels: Record<string, string> = { app: 'web' }): PodTemplateSpec => ({
  metadata: { labels: { ...labels } },
  spec: { containers: [{ name: 'app', image, ports: [{ containerPort: 80 }] }], restartPolicy: 'Always' },
});

type Strategy = Deployment['spec']['strategy'];

function dep(replicas: number | undefined, strategy?: Strategy, extra: Partial<Deployment['spec']> = {}, status?: Deployment['status']): Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', generation: 1, uid: 'd-uid' },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: template(), strategy, progressDeadlineSeconds: 600, ...extra },
    ...(status ? { status } : {}),
  };
}

const rolling = (maxSurge?: number | string, maxUnavailable?: number | string): Strategy => ({ type: 'RollingUpdate', rollingUpdate: { maxSurge, maxUnavailable } });

let seq = 0;
function rs(name: string, replicas: number, available = replicas, opts: { created?: string; statusReplicas?: number; ready?: number; annotations?: Record<string, string> } = {}): ReplicaSet {
  seq++;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default', creationTimestamp: opts.created ?? new Date(Date.UTC(2024, 0, 1, 0, 0, seq)).toISOString(), annotations: opts.annotations },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: template() },
    status: { replicas: opts.statusReplicas ?? replicas, readyReplicas: opts.ready ?? available, availableReplicas: available },
  };
}

// ---------------------------------------------------------------------------------------------
// templateHash / stripHash
// ---------------------------------------------------------------------------------------------

test('templateHash is stable for equal templates', (t) => {
  t.is(templateHash(template()), templateHash(template()));
  t.is(templateHash(template(), 3), templateHash(template(), 3));
});

test('templateHash does not depend on key order', (t) => {
  const a: PodTemplateSpec = { metadata: { labels: { a: '1', b: '2' } }, spec: { restartPolicy: 'Always', containers: [{ name: 'c', image: 'i' }] } };
  const b: PodTemplateSpec = { spec: { containers: [{ image: 'i', name: 'c' }], restartPolicy: 'Always' }, metadata: { labels: { b: '2', a: '1' } } };
  t.is(templateHash(a), templateHash(b));
});

test('templateHash ignores the pod-template-hash label', (t) => {
  const withHash = template('nginx:1.25', { app: 'web', [TEMPLATE_HASH]: 'abcdef' });
  t.is(templateHash(withHash), templateHash(template()));
  const onlyHash: PodTemplateSpec = { metadata: { labels: { [TEMPLATE_HASH]: 'x' } }, spec: template().spec };
  const noLabels: PodTemplateSpec = { metadata: {}, spec: template().spec };
  t.is(templateHash(onlyHash), templateHash(noLabels));
});

test('templateHash ignores a null creationTimestamp in template metadata', (t) => {
  const tpl: any = template();
  tpl.metadata.creationTimestamp = null;
  t.is(templateHash(tpl), templateHash(template()));
});

test('templateHash changes with the template', (t) => {
  const base = templateHash(template());
  t.not(templateHash(template('nginx:1.26')), base);
  t.not(templateHash(template('nginx:1.25', { app: 'web', v: '2' })), base);
  const env = template();
  env.spec.containers[0].env = [{ name: 'A', value: '1' }];
  t.not(templateHash(env), base);
});

test('templateHash changes with collisionCount', (t) => {
  const h0 = templateHash(template());
  const h1 = templateHash(template(), 1);
  const h2 = templateHash(template(), 2);
  t.not(h0, h1);
  t.not(h1, h2);
  t.not(h0, h2);
  t.is(templateHash(template(), 0), h0);
});

test('templateHash uses only the safe alphabet and at most 10 characters', (t) => {
  const images = ['nginx:1.25', 'nginx:1.26', 'redis', 'busybox:1.36', 'a', 'b', 'c', 'postgres:16', 'x'.repeat(200), 'ünïcödé'];
  const seen = new Set<string>();
  for (const image of images) {
    for (const cc of [0, 1, 7]) {
      const h = templateHash(template(image), cc);
      t.regex(h, new RegExp(`^[${SAFE}]{1,10}$`), h);
      seen.add(h);
    }
  }
  t.is(seen.size, images.length * 3, 'distinct templates give distinct hashes');
});

test('templateHash and stripHash do not mutate the template', (t) => {
  const tpl = template('nginx', { app: 'web', [TEMPLATE_HASH]: 'zzz' });
  const copy = structuredClone(tpl);
  templateHash(tpl, 2);
  const stripped = stripHash(tpl);
  t.deepEqual(tpl, copy);
  t.deepEqual(stripped.metadata?.labels, { app: 'web' });
});

test('stripHash drops a labels map left empty', (t) => {
  const stripped = stripHash({ metadata: { labels: { [TEMPLATE_HASH]: 'x' } }, spec: { containers: [] } });
  t.false('labels' in (stripped.metadata ?? {}));
});

// ---------------------------------------------------------------------------------------------
// resolveIntOrPercent / surgeAndUnavailable
// ---------------------------------------------------------------------------------------------

const intOrPercent: [number | string | undefined, number, boolean, string, number][] = [
  [undefined, 10, true, '25%', 3], // 2.5 rounds up
  [undefined, 10, false, '25%', 2], // 2.5 rounds down
  ['25%', 4, true, '0', 1],
  ['25%', 4, false, '0', 1],
  ['25%', 1, true, '0', 1],
  ['25%', 1, false, '0', 0],
  ['33%', 10, true, '0', 4],
  ['33%', 10, false, '0', 3],
  ['50%', 5, true, '0', 3],
  ['50%', 5, false, '0', 2],
  ['100%', 7, true, '0', 7],
  ['100%', 7, false, '0', 7],
  ['0%', 10, true, '0', 0],
  ['10%', 0, true, '0', 0],
  [0, 10, true, '25%', 0],
  [2, 10, false, '25%', 2],
  [20, 3, true, '25%', 20], // ints are not clamped here
];

for (const [value, total, up, fallback, expected] of intOrPercent) {
  test(`resolveIntOrPercent(${JSON.stringify(value)}, ${total}, ${up ? 'up' : 'down'}) = ${expected}`, (t) => {
    t.is(resolveIntOrPercent(value, total, up, fallback), expected);
  });
}

const fenceposts: [string, number | undefined, Strategy, number, number][] = [
  ['defaults 25%/25% of 10', 10, undefined, 3, 2],
  ['defaults 25%/25% of 4', 4, undefined, 1, 1],
  ['defaults 25%/25% of 1', 1, undefined, 1, 0],
  ['replicas undefined defaults to 1', undefined, undefined, 1, 0],
  ['explicit ints', 6, rolling(1, 1), 1, 1],
  ['explicit percents', 10, rolling('30%', '30%'), 3, 3],
  ['surge 0 / unavailable 0 -> unavailable 1', 3, rolling(0, 0), 0, 1],
  ['surge 0% / unavailable 0% -> unavailable 1', 3, rolling('0%', '0%'), 0, 1],
  ['surge 10% of 3 rounds up to 1, unavailable 10% rounds down to 0', 3, rolling('10%', '10%'), 1, 0],
  ['unavailable larger than replicas is clamped', 5, rolling(1, 10), 1, 5],
  ['zero replicas', 0, rolling('25%', '25%'), 0, 0],
  ['only maxSurge given: maxUnavailable defaults 25%', 8, rolling(0, undefined), 0, 2],
  ['only maxUnavailable given: maxSurge defaults 25%', 8, rolling(undefined, 0), 2, 0],
];

for (const [name, replicas, strategy, surge, unavailable] of fenceposts) {
  test(`surgeAndUnavailable: ${name}`, (t) => {
    t.deepEqual(surgeAndUnavailable(dep(replicas, strategy)), { maxSurge: surge, maxUnavailable: unavailable });
  });
}

test('surgeAndUnavailable: Recreate never surges', (t) => {
  t.is(surgeAndUnavailable(dep(4, { type: 'Recreate' })).maxSurge, 0);
});

// ---------------------------------------------------------------------------------------------
// newReplicaSetTarget / oldReplicaSetTargets
// ---------------------------------------------------------------------------------------------

const newTargets: [string, number, Strategy, number, number, number][] = [
  // [name, replicas, strategy, old size, new size, expected new target]
  ['first step: one surge pod', 6, rolling(1, 1), 6, 0, 1],
  ['defaults on 10: surge 3', 10, undefined, 10, 0, 3],
  ['no room: total already at replicas+surge', 6, rolling(1, 1), 6, 1, 1],
  ['room after old scaled down', 6, rolling(1, 1), 4, 2, 3],
  ['never above replicas', 3, rolling(5, 0), 0, 1, 3],
  ['already complete', 6, rolling(1, 1), 0, 6, 6],
  ['scaled down deployment: new RS shrinks to replicas', 4, rolling(1, 1), 0, 6, 4],
  ['surge 0: cannot grow until old shrinks', 6, rolling(0, 1), 6, 0, 0],
  ['surge 0 after old shrank', 6, rolling(0, 1), 5, 0, 1],
];

for (const [name, replicas, strategy, oldSize, newSize, expected] of newTargets) {
  test(`newReplicaSetTarget: ${name}`, (t) => {
    const old = rs('old', oldSize);
    const nw = rs('new', newSize);
    t.is(newReplicaSetTarget(dep(replicas, strategy), [old, nw], nw), expected);
  });
}

test('oldReplicaSetTargets: no old replicas -> nothing to do', (t) => {
  const old = rs('old', 0);
  const nw = rs('new', 6);
  t.is(oldReplicaSetTargets(dep(6, rolling(1, 1)), [old, nw], [old], nw).size, 0);
});

test('oldReplicaSetTargets: first step scales old down by maxUnavailable', (t) => {
  const old = rs('old', 6);
  const nw = rs('new', 1, 0);
  t.deepEqual([...oldReplicaSetTargets(dep(6, rolling(1, 1)), [old, nw], [old], nw)], [['old', 5]]);
});

test('oldReplicaSetTargets: unavailable new pods block scale-down when maxUnavailable is 0', (t) => {
  const old = rs('old', 4);
  const nw = rs('new', 2, 0);
  t.is(oldReplicaSetTargets(dep(4, rolling(2, 0)), [old, nw], [old], nw).size, 0);
});

test('oldReplicaSetTargets: available new pods allow scale-down with maxUnavailable 0', (t) => {
  const old = rs('old', 4);
  const nw = rs('new', 2, 2);
  t.deepEqual([...oldReplicaSetTargets(dep(4, rolling(2, 0)), [old, nw], [old], nw)], [['old', 2]]);
});

test('oldReplicaSetTargets: unhealthy old replicas are removed first, even beyond availability budget', (t) => {
  // 3 replicas, maxUnavailable 1: old has 3 pods but only 1 available; new has 1 available.
  const old = rs('old', 3, 1);
  const nw = rs('new', 1, 1);
  const out = oldReplicaSetTargets(dep(3, rolling(1, 1)), [old, nw], [old], nw);
  // budget = 4 - 2 - 0 = 2 -> both unhealthy pods go; availability (2) allows no more.
  t.deepEqual([...out], [['old', 1]]);
});

test('oldReplicaSetTargets: oldest ReplicaSet is scaled down first', (t) => {
  const a = rs('a', 2, 2, { created: '2024-01-01T00:00:00Z' });
  const b = rs('b', 2, 2, { created: '2024-01-02T00:00:00Z' });
  const nw = rs('new', 0, 0, { created: '2024-01-03T00:00:00Z' });
  const out = oldReplicaSetTargets(dep(4, rolling(0, 2)), [b, a, nw], [b, a], nw);
  t.deepEqual([...out], [['a', 0]]);
});

test('oldReplicaSetTargets: never drops available below replicas - maxUnavailable', (t) => {
  const a = rs('a', 5, 5);
  const nw = rs('new', 3, 1);
  const d = dep(6, rolling(2, 1));
  const out = oldReplicaSetTargets(d, [a, nw], [a], nw);
  const newA = out.get('a') ?? 5;
  // available after: min(5, newA) + 1 >= 5
  t.true(Math.min(5, newA) + 1 >= 5, `a -> ${newA}`);
  t.is(newA, 4);
});

interface Sim {
  d: Deployment;
  old: ReplicaSet;
  nw: ReplicaSet;
}

/** One controller sync as Wharf's rollingUpdate does it: scale new up, then old down. */
function controllerStep({ d, old, nw }: Sim) {
  const all = [old, nw];
  const target = newReplicaSetTarget(d, all, nw);
  nw.spec.replicas = target;
  nw.status!.replicas = target;
  nw.status!.availableReplicas = Math.min(nw.status!.availableReplicas ?? 0, target);
  const targets = oldReplicaSetTargets(d, all, [old], nw);
  if (targets.has('old')) {
    const size = targets.get('old')!;
    old.spec.replicas = size;
    old.status!.replicas = size;
    // Scaling down kills the unavailable pods first (ReplicaSet deletion order).
    old.status!.availableReplicas = Math.min(old.status!.availableReplicas ?? 0, size);
  }
}

const sizes = (s: Sim) => ({ new: s.nw.spec.replicas!, old: s.old.spec.replicas! });

function walk(t: any, replicas: number, strategy: Strategy, becomeAvailable: (s: Sim) => void) {
  const d = dep(replicas, strategy);
  const { maxSurge, maxUnavailable } = surgeAndUnavailable(d);
  const s: Sim = { d, old: rs('old', replicas, replicas, { created: '2024-01-01T00:00:00Z' }), nw: rs('new', 0, 0, { created: '2024-01-02T00:00:00Z' }) };
  const steps: { new: number; old: number }[] = [];
  const check = (when: string) => {
    const total = s.old.spec.replicas! + s.nw.spec.replicas!;
    const available = s.old.status!.availableReplicas! + s.nw.status!.availableReplicas!;
    t.true(total <= replicas + maxSurge, `${when}: total ${total} > ${replicas}+${maxSurge} at ${JSON.stringify(sizes(s))}`);
    t.true(available >= replicas - maxUnavailable, `${when}: available ${available} < ${replicas}-${maxUnavailable} at ${JSON.stringify(sizes(s))}`);
  };
  for (let i = 0; i < 50; i++) {
    controllerStep(s);
    check(`after sync ${i}`);
    steps.push(sizes(s));
    if (s.nw.spec.replicas === replicas && s.old.spec.replicas === 0) break;
    becomeAvailable(s);
    check(`after pods became available ${i}`);
  }
  t.deepEqual(sizes(s), { new: replicas, old: 0 }, JSON.stringify(steps));
  return steps;
}

const allAvailable = (s: Sim) => {
  s.nw.status!.availableReplicas = s.nw.spec.replicas;
  s.old.status!.availableReplicas = s.old.spec.replicas;
};

test('rolling update of 6 replicas with maxSurge 1 / maxUnavailable 1, step by step', (t) => {
  const steps = walk(t, 6, rolling(1, 1), allAvailable);
  t.deepEqual(steps, [
    { new: 1, old: 5 },
    { new: 2, old: 4 },
    { new: 3, old: 3 },
    { new: 4, old: 2 },
    { new: 5, old: 1 },
    { new: 6, old: 0 },
  ]);
});

test('rolling update of 6 replicas, new pods become available one at a time', (t) => {
  walk(t, 6, rolling(1, 1), (s) => {
    s.nw.status!.availableReplicas = Math.min(s.nw.spec.replicas!, s.nw.status!.availableReplicas! + 1);
  });
});

const walks: [string, number, Strategy][] = [
  ['6 replicas, surge 1 / unavailable 0', 6, rolling(1, 0)],
  ['6 replicas, surge 0 / unavailable 1', 6, rolling(0, 1)],
  ['6 replicas, surge 2 / unavailable 2', 6, rolling(2, 2)],
  ['10 replicas, defaults 25%/25%', 10, undefined],
  ['3 replicas, surge 0 / unavailable 0 (-> 1)', 3, rolling(0, 0)],
  ['1 replica, defaults', 1, undefined],
  ['5 replicas, surge 100% / unavailable 0', 5, rolling('100%', 0)],
];

for (const [name, replicas, strategy] of walks) {
  test(`rolling update walk keeps bounds: ${name}`, (t) => {
    walk(t, replicas, strategy, allAvailable);
  });
}

// ---------------------------------------------------------------------------------------------
// proportionalScale
// ---------------------------------------------------------------------------------------------

test('proportionalScale: 10 -> 15 with RSs of 5 and 5 (maxSurge 0)', (t) => {
  const old = rs('old', 5, 5, { created: '2024-01-01T00:00:00Z' });
  const nw = rs('new', 5, 5, { created: '2024-01-02T00:00:00Z' });
  const out = proportionalScale(dep(15, rolling(0, 1)), [old, nw]);
  // +5: 2.5 each, the leftover goes to the newer of two equal ReplicaSets (ReplicaSetsBySizeNewer).
  t.deepEqual(Object.fromEntries(out), { new: 8, old: 7 });
});

test('proportionalScale: 10 -> 15 with RSs of 5 and 5 plus surge (maxSurge 2: 5 + 7)', (t) => {
  const old = rs('old', 5, 5, { created: '2024-01-01T00:00:00Z' });
  const nw = rs('new', 7, 0, { created: '2024-01-02T00:00:00Z' });
  const out = proportionalScale(dep(15, rolling(2, 0)), [old, nw]);
  // allowed 17, total 12: +5 -> new 10, old 7; total 17 = 15 + surge.
  t.deepEqual(Object.fromEntries(out), { new: 10, old: 7 });
  t.is(10 + 7, 15 + 2);
});

test('proportionalScale: 10 -> 15 with default 25% surge (5 + 8)', (t) => {
  const old = rs('old', 5, 5, { created: '2024-01-01T00:00:00Z' });
  const nw = rs('new', 8, 0, { created: '2024-01-02T00:00:00Z' });
  const out = proportionalScale(dep(15), [old, nw]);
  // maxSurge = ceil(3.75) = 4 -> allowed 19, +6 -> new 12, old 7.
  t.deepEqual(Object.fromEntries(out), { new: 12, old: 7 });
});

test('proportionalScale: 10 -> 5 with RSs of 5 and 5 (scale down, older first)', (t) => {
  const old = rs('old', 5, 5, { created: '2024-01-01T00:00:00Z' });
  const nw = rs('new', 5, 5, { created: '2024-01-02T00:00:00Z' });
  const out = proportionalScale(dep(5, rolling(0, 1)), [old, nw]);
  t.deepEqual(Object.fromEntries(out), { old: 2, new: 3 });
});

test('proportionalScale: nothing to do when total equals replicas + surge', (t) => {
  const old = rs('old', 4);
  const nw = rs('new', 3);
  t.is(proportionalScale(dep(6, rolling(1, 1)), [old, nw]).size, 0);
});

test('proportionalScale: unchanged ReplicaSets are left out of the result', (t) => {
  const big = rs('big', 9, 9, { created: '2024-01-01T00:00:00Z' });
  const small = rs('small', 1, 1, { created: '2024-01-02T00:00:00Z' });
  const out = proportionalScale(dep(11, rolling(0, 1)), [big, small]);
  // +1: floor(0.9) = 0 and floor(0.1) = 0; the leftover goes to the largest.
  t.deepEqual(Object.fromEntries(out), { big: 10 });
});

test('proportionalScale: the total always lands on replicas + maxSurge', (t) => {
  const cases: [number[], number, Strategy][] = [
    [[3, 4], 20, rolling(2, 0)],
    [[1, 1, 1], 10, rolling(0, 1)],
    [[7, 2, 1], 3, rolling(1, 1)],
    [[2, 8], 1, rolling(0, 1)],
  ];
  for (const [sizesIn, replicas, strategy] of cases) {
    const sets = sizesIn.map((n, i) => rs(`rs${i}`, n, n, { created: `2024-01-0${i + 1}T00:00:00Z` }));
    const d = dep(replicas, strategy);
    const out = proportionalScale(d, sets);
    const total = sets.reduce((s, x) => s + (out.get(x.metadata.name!) ?? x.spec.replicas!), 0);
    t.is(total, replicas + surgeAndUnavailable(d).maxSurge, JSON.stringify({ sizesIn, replicas, out: [...out] }));
    for (const [, v] of out) t.true(v >= 0);
  }
});

// Kubernetes' GetProportion rounds each ReplicaSet's share to the nearest integer
// (integer.RoundToInt32(size * newMax / oldMax) - size), taken in ReplicaSetsBySizeNewer order and
// capped by what is left; only the remainder goes to the largest ReplicaSet.
test('proportionalScale rounds each share to nearest like Kubernetes (6,2,2 scaled 10 -> 13)', (t) => {
  // BUG: shares are floored (floor(6*3/10)=1, floor(2*3/10)=0, 0) and the leftover 2 all goes to the
  // largest: {a: 9}. Kubernetes: a: round(7.8)=8 (+2), c (newest of the 2s): round(2.6)=3 (+1),
  // b: nothing left -> {a: 8, c: 3}.
  const ann = { [MAX_REPLICAS]: '10' };
  const a = rs('a', 6, 6, { created: '2024-01-01T00:00:00Z', annotations: ann });
  const b = rs('b', 2, 2, { created: '2024-01-02T00:00:00Z', annotations: ann });
  const c = rs('c', 2, 2, { created: '2024-01-03T00:00:00Z', annotations: ann });
  const out = proportionalScale(dep(13, rolling(0, 1)), [a, b, c]);
  t.deepEqual(Object.fromEntries(out), { a: 8, c: 3 });
});

test('proportionalScale to 0 replicas scales everything to 0 even with an integer maxSurge', (t) => {
  // BUG: allowed = replicas + maxSurge = 0 + 1, so one pod is kept. Kubernetes' scale() uses
  // allowedSize = 0 when spec.replicas is 0 (and getReplicaSetFraction returns -size).
  const old = rs('old', 3, 3, { created: '2024-01-01T00:00:00Z' });
  const nw = rs('new', 3, 3, { created: '2024-01-02T00:00:00Z' });
  const out = proportionalScale(dep(0, rolling(1, 0)), [old, nw]);
  t.deepEqual(Object.fromEntries(out), { old: 0, new: 0 });
});

// ---------------------------------------------------------------------------------------------
// calculateStatus / isComplete
// ---------------------------------------------------------------------------------------------

const NOW = '2024-06-01T12:00:00Z';
const ago = (s: number) => new Date(Date.parse(NOW) - s * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const cond = (s: ReturnType<typeof calculateStatus>, type: string) => s.conditions?.find((c) => c.type === type);
const progressingCond = (reason: string, secondsAgo: number, status: Condition['status'] = 'True'): Condition => ({
  type: 'Progressing',
  status,
  reason,
  message: 'x',
  lastUpdateTime: ago(secondsAgo),
  lastTransitionTime: ago(secondsAgo),
});

test('calculateStatus sums ReplicaSet statuses', (t) => {
  const d = dep(4, rolling(1, 1), {}, { collisionCount: 2 });
  d.metadata.generation = 7;
  const old = rs('old', 2, 2, { statusReplicas: 3, ready: 3 });
  const nw = rs('new', 3, 1, { ready: 2 });
  const s = calculateStatus({ d, all: [old, nw], newRS: nw, nowIso: NOW });
  t.is(s.observedGeneration, 7);
  t.is(s.replicas, 6);
  t.is(s.updatedReplicas, 3);
  t.is(s.readyReplicas, 5);
  t.is(s.availableReplicas, 3);
  t.is(s.collisionCount, 2);
});

test('calculateStatus without a new ReplicaSet reports updatedReplicas 0', (t) => {
  const s = calculateStatus({ d: dep(2), all: [rs('old', 2)], nowIso: NOW });
  t.is(s.updatedReplicas, 0);
});

const availability: [string, number, Strategy, number, 'True' | 'False', string][] = [
  ['all available', 4, rolling(1, 1), 4, 'True', 'MinimumReplicasAvailable'],
  ['one short with maxUnavailable 1', 4, rolling(1, 1), 3, 'True', 'MinimumReplicasAvailable'],
  ['two short with maxUnavailable 1', 4, rolling(1, 1), 2, 'False', 'MinimumReplicasUnavailable'],
  ['one short with maxUnavailable 0', 4, rolling(1, 0), 3, 'False', 'MinimumReplicasUnavailable'],
  ['none available, 1 replica (25% -> 0)', 1, undefined, 0, 'False', 'MinimumReplicasUnavailable'],
  ['zero replicas', 0, undefined, 0, 'True', 'MinimumReplicasAvailable'],
];

for (const [name, replicas, strategy, availableN, status, reason] of availability) {
  test(`calculateStatus Available condition: ${name}`, (t) => {
    const nw = rs('new', replicas, availableN);
    const s = calculateStatus({ d: dep(replicas, strategy), all: [nw], newRS: nw, nowIso: NOW });
    const c = cond(s, 'Available')!;
    t.is(c.status, status);
    t.is(c.reason, reason);
    t.is(c.message, status === 'True' ? 'Deployment has minimum availability.' : 'Deployment does not have minimum availability.');
    t.is(c.lastTransitionTime, NOW);
  });
}

test('calculateStatus keeps Available lastTransitionTime while the status holds', (t) => {
  const prev: Condition = { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: ago(100), lastTransitionTime: ago(100) };
  const nw = rs('new', 3, 3);
  const s = calculateStatus({ d: dep(3, rolling(1, 1), {}, { conditions: [prev] }), all: [nw], newRS: nw, nowIso: NOW });
  t.is(cond(s, 'Available')!.lastTransitionTime, ago(100));
});

test('calculateStatus: Available flips to False with a new transition time', (t) => {
  const prev: Condition = { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: ago(100), lastTransitionTime: ago(100) };
  const nw = rs('new', 3, 0);
  const s = calculateStatus({ d: dep(3, rolling(1, 0), {}, { conditions: [prev] }), all: [nw], newRS: nw, nowIso: NOW });
  t.is(cond(s, 'Available')!.status, 'False');
  t.is(cond(s, 'Available')!.lastTransitionTime, NOW);
});

test('calculateStatus: Progressing NewReplicaSetAvailable when the rollout is complete', (t) => {
  const nw = rs('web-abc', 3, 3);
  const old = rs('web-old', 0, 0);
  const d = dep(3, rolling(1, 1), {}, { conditions: [progressingCond('ReplicaSetUpdated', 30)], replicas: 4, updatedReplicas: 3, availableReplicas: 2 });
  const s = calculateStatus({ d, all: [old, nw], newRS: nw, nowIso: NOW });
  const p = cond(s, 'Progressing')!;
  t.is(p.status, 'True');
  t.is(p.reason, 'NewReplicaSetAvailable');
  t.is(p.message, 'ReplicaSet "web-abc" has successfully progressed.');
  t.is(p.lastTransitionTime, ago(30), 'status stayed True: transition time kept');
  t.true(isComplete(d, s));
});

test('calculateStatus: not complete while old pods remain', (t) => {
  const nw = rs('web-abc', 3, 3);
  const old = rs('web-old', 1, 1);
  const d = dep(3, rolling(1, 1));
  const s = calculateStatus({ d, all: [old, nw], newRS: nw, nowIso: NOW });
  t.false(isComplete(d, s));
  t.not(cond(s, 'Progressing')!.reason, 'NewReplicaSetAvailable');
});

test('isComplete requires observedGeneration to catch up', (t) => {
  const d = dep(2);
  d.metadata.generation = 5;
  t.false(isComplete(d, { replicas: 2, updatedReplicas: 2, availableReplicas: 2, observedGeneration: 4 }));
  t.true(isComplete(d, { replicas: 2, updatedReplicas: 2, availableReplicas: 2, observedGeneration: 5 }));
  t.false(isComplete(d, { replicas: 3, updatedReplicas: 2, availableReplicas: 2, observedGeneration: 5 }));
  t.false(isComplete(d, { replicas: 2, updatedReplicas: 2, availableReplicas: 1, observedGeneration: 5 }));
});

test('calculateStatus: NewReplicaSetCreated when the new ReplicaSet was just created', (t) => {
  const nw = rs('web-new', 1, 0);
  const old = rs('web-old', 3, 3);
  const s = calculateStatus({ d: dep(3, rolling(1, 1)), all: [old, nw], newRS: nw, nowIso: NOW, newRSCreated: true });
  const p = cond(s, 'Progressing')!;
  t.is(p.status, 'True');
  t.is(p.reason, 'NewReplicaSetCreated');
  t.is(p.message, 'Created new replica set "web-new"');
});

test('calculateStatus: ReplicaSetUpdated with a fresh lastUpdateTime when progress is made', (t) => {
  const nw = rs('web-new', 2, 1);
  const old = rs('web-old', 2, 2);
  const d = dep(3, rolling(1, 1), {}, { replicas: 4, updatedReplicas: 1, availableReplicas: 3, readyReplicas: 3, conditions: [progressingCond('ReplicaSetUpdated', 300)] });
  const s = calculateStatus({ d, all: [old, nw], newRS: nw, nowIso: NOW });
  const p = cond(s, 'Progressing')!;
  t.is(p.reason, 'ReplicaSetUpdated');
  t.is(p.message, 'ReplicaSet "web-new" is progressing.');
  t.is(p.lastUpdateTime, NOW);
  t.is(p.lastTransitionTime, ago(300));
});

test('calculateStatus: ProgressDeadlineExceeded after the deadline with no progress', (t) => {
  const nw = rs('web-new', 1, 0);
  const old = rs('web-old', 3, 3);
  const prev = { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: [progressingCond('ReplicaSetUpdated', 601)] };
  const s = calculateStatus({ d: dep(3, rolling(1, 0), { progressDeadlineSeconds: 600 }, prev), all: [old, nw], newRS: nw, nowIso: NOW });
  const p = cond(s, 'Progressing')!;
  t.is(p.status, 'False');
  t.is(p.reason, 'ProgressDeadlineExceeded');
  t.is(p.message, 'ReplicaSet "web-new" has timed out progressing.');
  t.is(p.lastTransitionTime, NOW);
});

test('calculateStatus: no timeout before the deadline', (t) => {
  const nw = rs('web-new', 1, 0);
  const old = rs('web-old', 3, 3);
  const prev = { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: [progressingCond('ReplicaSetUpdated', 599)] };
  const s = calculateStatus({ d: dep(3, rolling(1, 0), { progressDeadlineSeconds: 600 }, prev), all: [old, nw], newRS: nw, nowIso: NOW });
  const p = cond(s, 'Progressing')!;
  t.is(p.status, 'True');
  t.is(p.reason, 'ReplicaSetUpdated');
  t.is(p.lastUpdateTime, ago(599), 'no progress: lastUpdateTime unchanged');
});

test('calculateStatus: progress after a timeout clears ProgressDeadlineExceeded', (t) => {
  const nw = rs('web-new', 2, 1);
  const old = rs('web-old', 2, 2);
  const prev = { replicas: 4, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2, conditions: [progressingCond('ProgressDeadlineExceeded', 1000, 'False')] };
  const s = calculateStatus({ d: dep(3, rolling(1, 1), {}, prev), all: [old, nw], newRS: nw, nowIso: NOW });
  const p = cond(s, 'Progressing')!;
  t.is(p.status, 'True');
  t.is(p.reason, 'ReplicaSetUpdated');
  t.is(p.lastTransitionTime, NOW);
});

test('calculateStatus: ProgressDeadlineExceeded stays without progress', (t) => {
  const nw = rs('web-new', 1, 0);
  const old = rs('web-old', 3, 3);
  const prev = { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: [progressingCond('ProgressDeadlineExceeded', 5000, 'False')] };
  const s = calculateStatus({ d: dep(3, rolling(1, 0), {}, prev), all: [old, nw], newRS: nw, nowIso: NOW });
  const p = cond(s, 'Progressing')!;
  t.is(p.reason, 'ProgressDeadlineExceeded');
  t.is(p.lastTransitionTime, ago(5000));
});

test('calculateStatus: no deadline (max int32) never times out', (t) => {
  const nw = rs('web-new', 1, 0);
  const old = rs('web-old', 3, 3);
  const prev = { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: [progressingCond('ReplicaSetUpdated', 1e6)] };
  const s = calculateStatus({ d: dep(3, rolling(1, 0), { progressDeadlineSeconds: 2147483647 }, prev), all: [old, nw], newRS: nw, nowIso: NOW });
  t.not(cond(s, 'Progressing')?.reason, 'ProgressDeadlineExceeded');
});

test('calculateStatus: DeploymentPaused (Unknown) when paused', (t) => {
  const nw = rs('web-new', 1, 0);
  const old = rs('web-old', 3, 3);
  const s = calculateStatus({ d: dep(3, rolling(1, 1), { paused: true }, { conditions: [progressingCond('ReplicaSetUpdated', 10)] }), all: [old, nw], newRS: nw, nowIso: NOW });
  const p = cond(s, 'Progressing')!;
  t.is(p.status, 'Unknown');
  t.is(p.reason, 'DeploymentPaused');
  t.is(p.message, 'Deployment is paused');
});

test('calculateStatus: resuming reports DeploymentResumed', (t) => {
  const nw = rs('web-new', 1, 0);
  const old = rs('web-old', 3, 3);
  const prev = { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: [progressingCond('DeploymentPaused', 10, 'Unknown')] };
  const s = calculateStatus({ d: dep(3, rolling(1, 1), {}, prev), all: [old, nw], newRS: nw, nowIso: NOW });
  const p = cond(s, 'Progressing')!;
  t.is(p.reason, 'DeploymentResumed');
  t.is(p.message, 'Deployment is resumed');
});

test('calculateStatus: DeploymentResumed has status Unknown, as in Kubernetes', (t) => {
  // BUG: Kubernetes' checkPausedConditions sets Progressing=Unknown/DeploymentResumed
  // ("Deployment is resumed"); Wharf reports status True.
  const nw = rs('web-new', 1, 0);
  const old = rs('web-old', 3, 3);
  const prev = { replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: [progressingCond('DeploymentPaused', 10, 'Unknown')] };
  const s = calculateStatus({ d: dep(3, rolling(1, 1), {}, prev), all: [old, nw], newRS: nw, nowIso: NOW });
  t.is(cond(s, 'Progressing')!.status, 'Unknown');
});

test('calculateStatus: a completed rollout that loses a pod keeps NewReplicaSetAvailable (no timeout)', (t) => {
  // BUG: once complete, Kubernetes stops estimating progress (isCompleteDeployment: replicas ==
  // updatedReplicas and the Progressing reason is NewReplicaSetAvailable; DeploymentTimedOut also
  // returns false for that reason). Wharf measures the deadline from the NewReplicaSetAvailable
  // condition's lastUpdateTime (an hour ago) and flips a healthy, finished Deployment to
  // Progressing=False/ProgressDeadlineExceeded as soon as one pod becomes unavailable.
  const nw = rs('web-new', 3, 2);
  const prev = {
    observedGeneration: 1,
    replicas: 3,
    updatedReplicas: 3,
    readyReplicas: 3,
    availableReplicas: 3,
    conditions: [progressingCond('NewReplicaSetAvailable', 3600)],
  };
  const s = calculateStatus({ d: dep(3, rolling(1, 1), {}, prev), all: [nw], newRS: nw, nowIso: NOW });
  const p = cond(s, 'Progressing')!;
  t.is(p.status, 'True');
  t.is(p.reason, 'NewReplicaSetAvailable');
});

test('calculateStatus: Recreate needs every replica available to be Available', (t) => {
  // BUG: surgeAndUnavailable returns maxUnavailable = replicas for Recreate, so Available is always
  // True. Kubernetes' MaxUnavailable() is 0 for non-RollingUpdate strategies: with 0/3 available the
  // condition is Available=False/MinimumReplicasUnavailable.
  const nw = rs('web-new', 3, 0);
  const s = calculateStatus({ d: dep(3, { type: 'Recreate' }), all: [nw], newRS: nw, nowIso: NOW });
  t.is(cond(s, 'Available')!.status, 'False');
});

test('calculateStatus: unavailableReplicas when nothing is available', (t) => {
  const nw = rs('web-new', 3, 0);
  const s = calculateStatus({ d: dep(3), all: [nw], newRS: nw, nowIso: NOW });
  t.is(s.unavailableReplicas, 3);
});

test('calculateStatus: unavailableReplicas = sum of spec.replicas - available, as Kubernetes', (t) => {
  // BUG: Wharf uses max(spec.replicas of the Deployment, sum of status.replicas) - available.
  // Kubernetes: GetReplicaCountForReplicaSets(allRSs) (sum of RS spec.replicas) - available, floored at 0.
  // Mid-rollout: old spec 2 (3 pods still running, one terminating), new spec 2; 3 available -> 1.
  const old = rs('old', 2, 2, { statusReplicas: 3 });
  const nw = rs('new', 2, 1);
  const s = calculateStatus({ d: dep(3, rolling(1, 1)), all: [old, nw], newRS: nw, nowIso: NOW });
  t.is(s.unavailableReplicas, 1);
});

// ---------------------------------------------------------------------------------------------
// msUntilDeadline
// ---------------------------------------------------------------------------------------------

const nowMs = Date.parse(NOW);
const deadlineCases: [string, Deployment, number | undefined][] = [
  ['no progress deadline', dep(3, undefined, { progressDeadlineSeconds: undefined }, { conditions: [progressingCond('ReplicaSetUpdated', 10)] }), undefined],
  ['max int32 deadline', dep(3, undefined, { progressDeadlineSeconds: 2147483647 }, { conditions: [progressingCond('ReplicaSetUpdated', 10)] }), undefined],
  ['paused', dep(3, undefined, { paused: true }, { conditions: [progressingCond('ReplicaSetUpdated', 10)] }), undefined],
  ['no Progressing condition', dep(3), undefined],
  ['complete', dep(3, undefined, {}, { conditions: [progressingCond('NewReplicaSetAvailable', 10)] }), undefined],
  ['already timed out (status False)', dep(3, undefined, {}, { conditions: [progressingCond('ProgressDeadlineExceeded', 10, 'False')] }), undefined],
  ['updated 10s ago, 600s deadline', dep(3, undefined, {}, { conditions: [progressingCond('ReplicaSetUpdated', 10)] }), 590_000 + 100],
  ['just created', dep(3, undefined, { progressDeadlineSeconds: 30 }, { conditions: [progressingCond('NewReplicaSetCreated', 0)] }), 30_000 + 100],
  ['deadline already passed -> soon', dep(3, undefined, {}, { conditions: [progressingCond('ReplicaSetUpdated', 10_000)] }), 100],
];

for (const [name, d, expected] of deadlineCases) {
  test(`msUntilDeadline: ${name}`, (t) => {
    t.is(msUntilDeadline(d, nowMs), expected);
  });
}

// ---------------------------------------------------------------------------------------------
// byCreation / revisionOf
// ---------------------------------------------------------------------------------------------

test('byCreation orders oldest first, then by name', (t) => {
  const a = rs('a', 1, 1, { created: '2024-01-02T00:00:00Z' });
  const b = rs('b', 1, 1, { created: '2024-01-01T00:00:00Z' });
  const c = rs('c', 1, 1, { created: '2024-01-01T00:00:00Z' });
  t.deepEqual([a, c, b].sort(byCreation).map((x) => x.metadata.name), ['b', 'c', 'a']);
});

test('revisionOf reads the revision annotation', (t) => {
  t.is(revisionOf({ metadata: { annotations: { [REVISION]: '7' } } }), 7);
  t.is(revisionOf({ metadata: {} }), 0);
  t.is(revisionOf({ metadata: { annotations: { [REVISION]: 'junk' } } }), 0);
});

test('calculateStatus carries a ReplicaSet\'s ReplicaFailure over, the new one\'s first, and drops it when none has one', (t) => {
  const failure = (message: string): Condition => ({ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message, lastTransitionTime: ago(30) });
  const old = rs('old', 1);
  const nw = rs('new', 2, 0);
  old.status!.conditions = [failure('old one')];
  nw.status!.conditions = [failure('pods "new-x" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)')];
  const s = calculateStatus({ d: dep(2, rolling(1, 0)), all: [old, nw], newRS: nw, nowIso: NOW });
  t.deepEqual(cond(s, 'ReplicaFailure'), { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: nw.status!.conditions[0].message, lastUpdateTime: ago(30), lastTransitionTime: ago(30) });
  nw.status!.conditions = [];
  t.is(cond(calculateStatus({ d: dep(2, rolling(1, 0)), all: [old, nw], newRS: nw, nowIso: NOW }), 'ReplicaFailure')?.message, 'old one');
  old.status!.conditions = [];
  const d = dep(2, rolling(1, 0), {}, { conditions: [failure('gone')] });
  t.is(cond(calculateStatus({ d, all: [old, nw], newRS: nw, nowIso: NOW }), 'ReplicaFailure'), undefined);
});
