import test from 'ava';
import { decide, podTopologySpread, podTopologySpreadPreference, taintToleration, type NodeInfo } from '../../services/scheduler/plugins.ts';
import type { Node, Pod } from '../../shared/types.ts';

function pod(name: string, labels: Record<string, string> = {}, spec: Record<string, any> = {}, nodeName?: string): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels }, spec: { containers: [{ name: 'c', image: 'x' }], ...(nodeName ? { nodeName } : {}), ...spec } };
}

function info(name: string, labels: Record<string, string> = {}, webPods = 0): NodeInfo {
  const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  const pods = Array.from({ length: webPods }, (_, i) => pod(`${name}-w${i}`, { app: 'web' }, {}, name));
  return { node, allocatable: { cpuMillis: 4000, memoryBytes: 8 * 1024 ** 3, pods: 110 }, used: { cpuMillis: 0, memoryBytes: 0, pods: webPods }, pods };
}

const HOST = 'kubernetes.io/hostname';
const ZONE = 'topology.kubernetes.io/zone';
const spread = (topologyKey: string, maxSkew = 1, whenUnsatisfiable = 'DoNotSchedule', extra: object = {}) =>
  pod('new', { app: 'web' }, { topologySpreadConstraints: [{ maxSkew, topologyKey, whenUnsatisfiable, labelSelector: { matchLabels: { app: 'web' } }, ...extra }] });
const fixed = () => 0.5;
const feasible = (p: Pod, nodes: NodeInfo[]) => decide(p, nodes, [podTopologySpread], [], fixed).ranked.sort();

test('PodTopologySpread: maxSkew 1 over hostnames allows only the least loaded nodes', (t) => {
  t.deepEqual(feasible(spread(HOST), [info('a', {}, 1), info('b', {}, 0), info('c', {}, 1)]), ['b']);
  t.deepEqual(feasible(spread(HOST), [info('a', {}, 1), info('b', {}, 1), info('c', {}, 1)]), ['a', 'b', 'c']);
  t.deepEqual(feasible(spread(HOST, 2), [info('a', {}, 2), info('b', {}, 1), info('c', {}, 0)]), ['b', 'c']);
});

test('PodTopologySpread: zones count every node of the zone; nodes without the key are skipped and do not fit', (t) => {
  const nodes = [info('a', { [ZONE]: 'z1' }, 1), info('b', { [ZONE]: 'z1' }, 0), info('c', { [ZONE]: 'z2' }, 0), info('d', {}, 0)];
  t.deepEqual(feasible(spread(ZONE), nodes), ['c']);
  const d = decide(spread(ZONE), nodes, [podTopologySpread], [], fixed);
  t.is(d.reasons.get("node(s) didn't match pod topology spread constraints (missing required label)"), 1);
  t.is(d.reasons.get("node(s) didn't match pod topology spread constraints"), 2);
});

test('PodTopologySpread: pods the selector does not match, other namespaces and terminating pods are not counted', (t) => {
  const a = info('a');
  a.pods = [pod('db', { app: 'db' }, {}, 'a'), { ...pod('o', { app: 'web' }, {}, 'a'), metadata: { name: 'o', namespace: 'other', labels: { app: 'web' } } }, { ...pod('t', { app: 'web' }, {}, 'a'), metadata: { name: 't', namespace: 'default', labels: { app: 'web' }, deletionTimestamp: 'x' } }];
  t.deepEqual(feasible(spread(HOST), [a, info('b')]), ['a', 'b']);
});

test('PodTopologySpread: only nodes the pod\'s nodeSelector allows are domains', (t) => {
  const p = spread(HOST);
  p.spec.nodeSelector = { pool: 'x' };
  // c (empty) is outside the pool, so the minimum is 1 (a) and b with 1 pod may take another.
  const nodes = [info('a', { pool: 'x' }, 1), info('b', { pool: 'x' }, 1), info('c')];
  t.deepEqual(feasible(p, nodes), ['a', 'b', 'c']);
});

test('PodTopologySpread: minDomains above the number of domains makes the global minimum 0', (t) => {
  const nodes = [info('a', { [ZONE]: 'z1' }, 1), info('b', { [ZONE]: 'z2' }, 1)];
  t.deepEqual(feasible(spread(ZONE), nodes), ['a', 'b']);
  t.deepEqual(feasible(spread(ZONE, 1, 'DoNotSchedule', { minDomains: 3 }), nodes), []);
});

test('PodTopologySpread: ScheduleAnyway never filters but ranks the emptier domain first', (t) => {
  const p = spread(HOST, 1, 'ScheduleAnyway');
  const nodes = [info('a', {}, 3), info('b', {}, 1), info('c', {}, 2)];
  t.deepEqual(feasible(p, nodes), ['a', 'b', 'c']);
  t.deepEqual(decide(p, nodes, [podTopologySpread], [podTopologySpreadPreference], fixed).ranked, ['b', 'c', 'a']);
  const state = podTopologySpreadPreference.preScore!(p, nodes, nodes);
  const scores = podTopologySpreadPreference.normalize!(nodes.map((n) => podTopologySpreadPreference.score(p, n, state)));
  t.is(scores[1], 100);
  t.true(scores[2] > scores[0]);
});

test('decide: spreading 6 replicas over 3 hosts one at a time gives 2/2/2', (t) => {
  const nodes = [info('a'), info('b'), info('c')];
  for (let i = 0; i < 6; i++) {
    const p = spread(HOST);
    p.metadata.name = `r${i}`;
    const [best] = decide(p, nodes, undefined, undefined, fixed).ranked;
    const n = nodes.find((x) => x.node.metadata.name === best)!;
    // A new array, as the cache does (plugins cache what they derive per pods array).
    n.pods = [...n.pods!, { ...p, spec: { ...p.spec, nodeName: best } }];
    n.used.pods++;
  }
  t.deepEqual(nodes.map((n) => n.pods!.length), [2, 2, 2]);
});

test('PodTopologySpread: nodeTaintsPolicy Honor leaves out the domains of nodes whose taints the pod does not tolerate', (t) => {
  // b is lost (unreachable, tainted) with its pods gone: Ignore (the default) counts its empty
  // domain and holds the replacements back; Honor spreads them over the nodes left.
  const lost = info('b', {}, 0);
  lost.node.spec = { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }] };
  const nodes = () => [info('a', {}, 2), lost, info('c', {}, 2)];
  t.deepEqual(feasible(spread(HOST), nodes()), ['b']);
  t.deepEqual(decide(spread(HOST, 1, 'DoNotSchedule', { nodeTaintsPolicy: 'Honor' }), nodes(), [taintToleration, podTopologySpread], [], fixed).ranked.sort(), ['a', 'c']);
});
