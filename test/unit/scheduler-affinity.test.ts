import test from 'ava';
import { decide, interPodAffinity, interPodAffinityPreference, nodeAffinityPreference, termMatches, type NodeInfo } from '../../services/scheduler/plugins.ts';
import type { Node, Pod } from '../../shared/types.ts';

function pod(name: string, labels: Record<string, string> = {}, spec: Record<string, any> = {}, nodeName?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels },
    spec: { containers: [{ name: 'c', image: 'x' }], ...(nodeName ? { nodeName } : {}), ...spec },
  };
}

function info(name: string, labels: Record<string, string> = {}, pods: Pod[] = []): NodeInfo {
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } },
    spec: {},
    status: { conditions: [{ type: 'Ready', status: 'True' }] },
  };
  return { node, allocatable: { cpuMillis: 4000, memoryBytes: 8 * 1024 ** 3, pods: 110 }, used: { cpuMillis: 0, memoryBytes: 0, pods: pods.length }, pods };
}

const web = { matchLabels: { app: 'web' } };
const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const antiWeb = (topologyKey = HOST) => ({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: web, topologyKey }] } } });
const fixed = () => () => 0.5;

// ---- preferred node affinity ----

const preferring = pod('p', {}, {
  affinity: {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 80, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
        { weight: 20, preference: { matchExpressions: [{ key: 'gpu', operator: 'Exists' }] } },
      ],
    },
  },
});

test('NodeAffinity score: sums the weights of the matching preferred terms, the best node scaled to 100', (t) => {
  const nodes = [info('ssd-gpu', { disk: 'ssd', gpu: '1' }), info('ssd', { disk: 'ssd' }), info('gpu', { gpu: '1' }), info('plain')];
  const raw = nodes.map((n) => nodeAffinityPreference.score(preferring, n));
  t.deepEqual(raw, [100, 80, 20, 0]);
  t.deepEqual(nodeAffinityPreference.normalize!([80, 20, 0]), [100, 25, 0]);
  t.deepEqual(nodeAffinityPreference.normalize!([0, 0]), [0, 0]);
});

test('decide: preferred node affinity outweighs a small difference in allocation', (t) => {
  const busy = info('ssd', { disk: 'ssd' });
  busy.used = { cpuMillis: 1000, memoryBytes: 1024 ** 3, pods: 10 };
  const d = decide(preferring, [info('plain'), busy], undefined, undefined, fixed());
  t.deepEqual(d.ranked, ['ssd', 'plain']);
});

// ---- required inter-pod affinity / anti-affinity ----

test('termMatches: nil selector matches nothing, namespaces default to the owner\'s, {} namespaceSelector means all', (t) => {
  const owner = pod('o');
  const other = { ...pod('w', { app: 'web' }), metadata: { name: 'w', namespace: 'other', labels: { app: 'web' } } };
  t.false(termMatches({ topologyKey: HOST }, owner, pod('w', { app: 'web' })));
  t.true(termMatches({ labelSelector: web, topologyKey: HOST }, owner, pod('w', { app: 'web' })));
  t.false(termMatches({ labelSelector: web, topologyKey: HOST }, owner, other));
  t.true(termMatches({ labelSelector: web, namespaces: ['other'], topologyKey: HOST }, owner, other));
  t.true(termMatches({ labelSelector: web, namespaceSelector: {}, topologyKey: HOST }, owner, other));
});

test('InterPodAffinity: required anti-affinity to app=web keeps the pod off nodes with an app=web pod', (t) => {
  const nodes = [info('a', {}, [pod('w1', { app: 'web' }, {}, 'a')]), info('b', {}, [pod('x', { app: 'db' }, {}, 'b')]), info('c')];
  const d = decide(pod('new', { app: 'web' }, antiWeb()), nodes, undefined, undefined, fixed());
  t.deepEqual(d.ranked.sort(), ['b', 'c']);
  t.is(d.reasons.get("node(s) didn't match pod anti-affinity rules"), 1);
});

test('InterPodAffinity: anti-affinity over a zone key excludes the whole zone; nodes without the key are not excluded', (t) => {
  const nodes = [info('a', { [ZONE]: 'z1' }, [pod('w1', { app: 'web' }, {}, 'a')]), info('b', { [ZONE]: 'z1' }), info('c', { [ZONE]: 'z2' }), info('d')];
  const d = decide(pod('new', {}, antiWeb(ZONE)), nodes, undefined, undefined, fixed());
  t.deepEqual(d.ranked.sort(), ['c', 'd']);
});

test('InterPodAffinity: an existing pod\'s required anti-affinity keeps a matching pod away (symmetry)', (t) => {
  const guard = pod('guard', { app: 'db' }, antiWeb(), 'a');
  const nodes = [info('a', {}, [guard]), info('b')];
  const s = interPodAffinity.preFilter!(pod('w', { app: 'web' }), nodes);
  t.deepEqual(interPodAffinity.filter(pod('w', { app: 'web' }), nodes[0], s), { fits: false, reason: "node(s) didn't satisfy existing pods anti-affinity rules", reasons: ["node(s) didn't satisfy existing pods anti-affinity rules"] });
  t.deepEqual(interPodAffinity.filter(pod('w', { app: 'web' }), nodes[1], s), { fits: true });
  // A pod the guard does not select is unaffected.
  const s2 = interPodAffinity.preFilter!(pod('d', { app: 'db' }), nodes);
  t.true(interPodAffinity.filter(pod('d', { app: 'db' }), nodes[0], s2).fits);
});

test('InterPodAffinity: required affinity goes where a selected pod runs (zone-wide); the first of a self-selecting group goes anywhere', (t) => {
  const aff = { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: web, topologyKey: ZONE }] } } };
  const nodes = [info('a', { [ZONE]: 'z1' }, [pod('w1', { app: 'web' }, {}, 'a')]), info('b', { [ZONE]: 'z1' }), info('c', { [ZONE]: 'z2' }), info('d')];
  t.deepEqual(decide(pod('cache', { app: 'cache' }, aff), nodes, undefined, undefined, fixed()).ranked.sort(), ['a', 'b']);
  const empty = [info('a', { [ZONE]: 'z1' }), info('b', { [ZONE]: 'z2' }), info('d')];
  t.deepEqual(decide(pod('cache', { app: 'cache' }, aff), empty, undefined, undefined, fixed()).ranked, []);
  t.deepEqual(decide(pod('w2', { app: 'web' }, aff), empty, undefined, undefined, fixed()).ranked.sort(), ['a', 'b']);
});

// ---- preferred inter-pod affinity ----

test('InterPodAffinity score: preferred anti-affinity ranks nodes without a matching pod first, min-max normalised', (t) => {
  const pref = { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 100, podAffinityTerm: { labelSelector: web, topologyKey: HOST } }] } } };
  const nodes = [info('a', {}, [pod('w1', { app: 'web' }, {}, 'a'), pod('w2', { app: 'web' }, {}, 'a')]), info('b', {}, [pod('w3', { app: 'web' }, {}, 'b')]), info('c')];
  const p = pod('new', { app: 'web' }, pref);
  const state = interPodAffinityPreference.preScore!(p, nodes, nodes);
  const raw = nodes.map((n) => interPodAffinityPreference.score(p, n, state));
  t.deepEqual(raw, [-200, -100, 0]);
  t.deepEqual(interPodAffinityPreference.normalize!(raw), [0, 50, 100]);
  t.deepEqual(decide(p, nodes, undefined, undefined, fixed()).ranked, ['c', 'b', 'a']);
});

test('InterPodAffinity score: an existing pod\'s preferred affinity attracts the pods it selects', (t) => {
  const likesWeb = pod('l', { app: 'cache' }, { affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { labelSelector: web, topologyKey: HOST } }] } } }, 'b');
  const nodes = [info('a'), info('b', {}, [likesWeb]), info('c')];
  t.is(decide(pod('w', { app: 'web' }), nodes, undefined, undefined, fixed()).ranked[0], 'b');
});
