import test from 'ava';
import { mayPreempt, selectVictims, victimsOn } from '../../services/scheduler/preemption.ts';
import type { NodeInfo } from '../../services/scheduler/plugins.ts';
import type { Node, Pod } from '../../shared/types.ts';

function pod(name: string, cpu: number, priority: number, extra: Partial<Pod['spec']> = {}, labels: Record<string, string> = {}): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', labels, creationTimestamp: `2026-01-01T00:00:${String(name.length).padStart(2, '0')}Z` },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: `${cpu}m` } } }], priority, ...extra },
  };
}

function info(name: string, pods: Pod[], cpu = 1000, labels: Record<string, string> = {}): NodeInfo {
  const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  const usedCpu = pods.reduce((s, p) => s + parseInt(p.spec.containers[0].resources!.requests!.cpu as string), 0);
  return { node, allocatable: { cpuMillis: cpu, memoryBytes: 8 * 1024 ** 3, pods: 110 }, used: { cpuMillis: usedCpu, memoryBytes: 0, pods: pods.length }, pods: pods.map((p) => ({ ...p, spec: { ...p.spec, nodeName: name } })) };
}

const names = (ps: Pod[] | undefined) => ps?.map((p) => p.metadata.name);

test('victimsOn: only lower-priority pods, the fewest and lowest first', (t) => {
  const nodes = [info('a', [pod('low1', 300, 1), pod('low2', 300, 2), pod('mid', 300, 5)])];
  t.deepEqual(names(victimsOn(pod('hi', 300, 10), nodes, 0)), ['low1']);
  t.deepEqual(names(victimsOn(pod('hi', 600, 10), nodes, 0)), ['low2', 'low1']);
  // Equal or higher priority pods are never victims.
  t.is(victimsOn(pod('hi', 300, 1), nodes, 0), undefined);
  t.is(victimsOn(pod('hi', 1200, 10), nodes, 0), undefined);
});

test('selectVictims: prefers the node whose most important victim is least important, then fewer victims', (t) => {
  const nodes = [info('a', [pod('a-mid', 1000, 5)]), info('b', [pod('b-low1', 500, 1), pod('b-low2', 500, 1)]), info('c', [pod('c-low', 1000, 1)])];
  const plan = selectVictims(pod('hi', 800, 10), nodes);
  t.is(plan?.node, 'c');
  t.deepEqual(names(plan?.victims), ['c-low']);
});

test('selectVictims: other filters still apply (a node the pod may not go to is no candidate)', (t) => {
  const nodes = [info('a', [pod('low', 1000, 1)], 1000, { disk: 'hdd' }), info('b', [pod('low-b', 1000, 1)], 1000, { disk: 'ssd' })];
  const plan = selectVictims(pod('hi', 800, 10, { nodeSelector: { disk: 'ssd' } }), nodes);
  t.is(plan?.node, 'b');
});

test('selectVictims: evicting a pod that the preemptor\'s anti-affinity rejects makes it fit', (t) => {
  const anti = { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'kubernetes.io/hostname' }] } } };
  const nodes = [info('a', [pod('w-low', 10, 1, {}, { app: 'web' })]), info('b', [pod('w-high', 10, 100, {}, { app: 'web' })])];
  const plan = selectVictims(pod('hi', 10, 10, anti, { app: 'web' }), nodes);
  t.is(plan?.node, 'a');
  t.deepEqual(names(plan?.victims), ['w-low']);
});

test('preemptionPolicy Never, and a nominated node still freeing room, mean no preemption', (t) => {
  const nodes = [info('a', [pod('low', 1000, 1)])];
  t.is(selectVictims(pod('hi', 500, 10, { preemptionPolicy: 'Never' }), nodes), undefined);
  const waiting = pod('hi', 500, 10);
  waiting.status = { nominatedNodeName: 'a' };
  const going = info('a', [{ ...pod('low', 1000, 1), metadata: { name: 'low', namespace: 'default', deletionTimestamp: '2026-01-01T00:00:00Z' } }]);
  t.false(mayPreempt(waiting, [going]));
  t.true(mayPreempt(waiting, nodes));
});

test('withNominated: a pod waiting on its nominated node keeps the room from lower-priority pods only', async (t) => {
  const { withNominated } = await import('../../services/scheduler/preemption.ts');
  const nodes = [info('a', [pod('x', 500, 1)])];
  const waiting = { ...pod('vip', 500, 100), metadata: { name: 'vip', namespace: 'default', uid: 'u-vip' }, status: { nominatedNodeName: 'a' } };
  t.is(withNominated(pod('low', 100, 1), nodes, [waiting])[0].used.cpuMillis, 1000);
  t.is(withNominated(pod('higher', 100, 200), nodes, [waiting])[0].used.cpuMillis, 500);
  t.is(withNominated(waiting, nodes, [waiting])[0].used.cpuMillis, 500);
});
