import test from 'ava';
import type { KubeObject, Pod } from '../../shared/types.ts';
import { budgetCounts, computeStatus, scaledValue } from '../../services/controller-manager/disruption/plan.ts';
import { evictionVerdict, VIOLATES_BUDGET } from '../../shared/api/disruption.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');

function pdb(spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject {
  return { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'web', namespace: 'default', generation: 1 }, spec: { selector: { matchLabels: { app: 'web' } }, ...spec }, ...(status ? { status } : {}) } as KubeObject;
}

function pod(name: string, opts: { ready?: boolean; phase?: string; owner?: string; deleting?: boolean } = {}): Pod {
  const { ready = true, phase = 'Running', owner = 'web-rs' } = opts;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      labels: { app: 'web' },
      ownerReferences: owner ? [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: 'u1', controller: true }] : [],
      ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
    },
    spec: { containers: [] },
    status: { phase, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  } as unknown as Pod;
}

const replicas = (n: number) => (kind: string) => (kind === 'ReplicaSet' ? n : undefined);

test('percentages scale rounding up', (t) => {
  t.is(scaledValue('50%', 5), 3);
  t.is(scaledValue('10%', 4), 1);
  t.is(scaledValue(2, 10), 2);
});

test('integer minAvailable counts the pods; percentages and maxUnavailable count the controller scale', (t) => {
  const pods = [pod('a'), pod('b'), pod('c')];
  t.deepEqual(budgetCounts(pdb({ minAvailable: 2 }), pods, replicas(4)), { expectedPods: 3, desiredHealthy: 2 });
  t.deepEqual(budgetCounts(pdb({ minAvailable: '50%' }), pods, replicas(5)), { expectedPods: 5, desiredHealthy: 3 });
  t.deepEqual(budgetCounts(pdb({ maxUnavailable: 1 }), pods, replicas(4)), { expectedPods: 4, desiredHealthy: 3 });
  t.deepEqual(budgetCounts(pdb({ maxUnavailable: '25%' }), [pod('x', { owner: '' })], replicas(4)), { expectedPods: 1, desiredHealthy: 0 });
});

test('status: healthy pods over the desired are allowed disruptions', (t) => {
  const { status } = computeStatus(pdb({ minAvailable: 3 }), [pod('a'), pod('b'), pod('c'), pod('d')], replicas(4), NOW);
  t.like(status, { expectedPods: 4, currentHealthy: 4, desiredHealthy: 3, disruptionsAllowed: 1, observedGeneration: 1 });
  t.like(status.conditions[0], { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' });
});

test('status: unready, deleting and recently disrupted pods are not healthy; none allowed below the budget', (t) => {
  const budget = pdb({ minAvailable: 3 }, { disruptedPods: { d: new Date(NOW - 1000).toISOString(), gone: new Date(NOW).toISOString() } });
  const { status, recheckAfterMs } = computeStatus(budget, [pod('a'), pod('b', { ready: false }), pod('c', { deleting: true }), pod('d')], replicas(4), NOW);
  t.like(status, { currentHealthy: 1, disruptionsAllowed: 0 });
  t.deepEqual(Object.keys(status.disruptedPods ?? {}), ['d']);
  t.is(recheckAfterMs, 2 * 60 * 1000 - 1000);
  t.like(status.conditions[0], { status: 'False', reason: 'InsufficientPods' });
});

test('status: an expired disrupted-pod entry is dropped', (t) => {
  const budget = pdb({ minAvailable: 1 }, { disruptedPods: { a: new Date(NOW - 3 * 60 * 1000).toISOString() } });
  const { status, recheckAfterMs } = computeStatus(budget, [pod('a')], replicas(1), NOW);
  t.is(status.disruptedPods, undefined);
  t.is(status.currentHealthy, 1);
  t.is(recheckAfterMs, undefined);
});

test('eviction: a budget with no disruption left refuses a healthy pod with the Kubernetes message', (t) => {
  const v = evictionVerdict(pdb({ minAvailable: 3 }, { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 3, desiredHealthy: 3 }), pod('a'));
  t.deepEqual(v, { allow: false, code: 429, message: VIOLATES_BUDGET, cause: { reason: 'DisruptionBudget', message: 'The disruption budget web needs 3 healthy pods and has 3 currently' } });
});

test('eviction: allowed disruptions are spent; pending pods go freely; unready pods go while the budget holds', (t) => {
  t.deepEqual(evictionVerdict(pdb({ minAvailable: 3 }, { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 4, desiredHealthy: 3 }), pod('a')), { allow: true, decrement: true });
  const full = pdb({ minAvailable: 3 }, { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 3, desiredHealthy: 3 });
  t.deepEqual(evictionVerdict(full, pod('p', { phase: 'Pending' })), { allow: true, decrement: false });
  t.deepEqual(evictionVerdict(full, pod('u', { ready: false })), { allow: true, decrement: false });
  const short = pdb({ minAvailable: 3 }, { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 2, desiredHealthy: 3 });
  t.false(evictionVerdict(short, pod('u', { ready: false })).allow);
  t.deepEqual(evictionVerdict(pdb({ minAvailable: 3, unhealthyPodEvictionPolicy: 'AlwaysAllow' }, short.status), pod('u', { ready: false })), { allow: true, decrement: false });
});

test('eviction: a budget not yet processed refuses', (t) => {
  const v = evictionVerdict(pdb({ minAvailable: 1 }), pod('a'));
  t.like(v, { allow: false, code: 429 });
});
