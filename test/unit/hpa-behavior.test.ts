// The HPA controller's normalization and one whole sync, as Kubernetes' horizontal_test.go checks
// them: stabilization windows over the recommendation history, Pods/Percent policies with
// selectPolicy Max/Min/Disabled over the recent scale events, the legacy limits without a
// behavior, min/max clamping, and the status, conditions and events of a sync.
import test from 'ava';
import type { KubeObject, Pod } from '../../shared/types.ts';
import type { PodUsage } from '../../shared/resource-metrics.ts';
import { defaultScaleDownRules, defaultScaleUpRules } from '../../shared/api/autoscaling.ts';
import {
  convertWithBehaviorRate, convertWithRules, emptyHistory, normalize, scaleDownLimit, scaleUpLimit, stabilizeRecommendation, stabilizeWithBehaviors, storeScaleEvent, trimHistory, type History,
} from '../../services/controller-manager/hpa/behavior.ts';
import { failedGetScale, failedRescale, planSync, type SyncInputs } from '../../services/controller-manager/hpa/plan.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const ago = (s: number) => NOW - s * 1000;
const history = (h: Partial<History>): History => ({ ...emptyHistory(), ...h });
const up = defaultScaleUpRules();
const down = { ...defaultScaleDownRules(), stabilizationWindowSeconds: 300 };

test('default scale-up: 4 pods or 100% every 15 s, whichever is more', (t) => {
  t.is(scaleUpLimit(1, emptyHistory(), up, NOW), 5);
  t.is(scaleUpLimit(10, emptyHistory(), up, NOW), 20);
  // 1 → 5 ten seconds ago: the period started at 1, so 5 is still the most.
  const h = history({ scaleUpEvents: [{ change: 4, at: ago(10) }] });
  t.is(scaleUpLimit(5, h, up, NOW), 5);
  // Twenty seconds ago it is outside the 15 s period.
  t.is(scaleUpLimit(5, history({ scaleUpEvents: [{ change: 4, at: ago(20) }] }), up, NOW), 10);
});

test('selectPolicy Min picks the smallest change, Disabled none', (t) => {
  t.is(scaleUpLimit(10, emptyHistory(), { ...up, selectPolicy: 'Min' }, NOW), 14);
  t.is(scaleUpLimit(10, emptyHistory(), { ...up, selectPolicy: 'Disabled' }, NOW), 10);
  const twoPolicies = { selectPolicy: 'Max' as const, policies: [{ type: 'Pods' as const, value: 2, periodSeconds: 60 }, { type: 'Percent' as const, value: 10, periodSeconds: 60 }] };
  // Scale-down Max: the biggest change (fewest replicas): 100 - 10% = 90 vs 100 - 2 = 98.
  t.is(scaleDownLimit(100, emptyHistory(), twoPolicies, NOW), 90);
  t.is(scaleDownLimit(100, emptyHistory(), { ...twoPolicies, selectPolicy: 'Min' }, NOW), 98);
  // Percent rounds toward zero on the way down: 5 - 50% = 2.
  t.is(scaleDownLimit(5, emptyHistory(), { policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }] }, NOW), 2);
  // A recent scale-down counts against the period: 100 → 90 thirty seconds ago, 10% of 100 again is 90.
  t.is(scaleDownLimit(90, history({ scaleDownEvents: [{ change: 10, at: ago(30) }] }), twoPolicies, NOW), 90);
});

test('rate limits and min/max: ScaleUpLimit, TooManyReplicas, ScaleDownLimit, TooFewReplicas, DesiredWithinRange', (t) => {
  const args = { scaleUp: up, scaleDown: down, minReplicas: 2, maxReplicas: 8, current: 1, desired: 10 };
  t.like(convertWithBehaviorRate(args, emptyHistory(), NOW), { replicas: 5, reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' });
  t.like(convertWithBehaviorRate({ ...args, current: 6 }, emptyHistory(), NOW), { replicas: 8, reason: 'TooManyReplicas' });
  t.like(convertWithBehaviorRate({ ...args, current: 6, desired: 1 }, emptyHistory(), NOW), { replicas: 2, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' });
  const slow = { ...down, policies: [{ type: 'Pods' as const, value: 1, periodSeconds: 60 }] };
  t.like(convertWithBehaviorRate({ ...args, scaleDown: slow, current: 6, desired: 2 }, emptyHistory(), NOW), { replicas: 5, reason: 'ScaleDownLimit' });
  t.like(convertWithBehaviorRate({ ...args, current: 4, desired: 6 }, emptyHistory(), NOW), { replicas: 6, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' });
});

test('without a behavior: at most double or 4, and the highest recommendation of the downscale window', (t) => {
  t.like(convertWithRules(3, 10, 1, 20), { replicas: 6, reason: 'ScaleUpLimit' });
  t.like(convertWithRules(1, 10, 1, 20), { replicas: 4, reason: 'ScaleUpLimit' });
  t.like(convertWithRules(3, 10, 1, 5), { replicas: 5, reason: 'TooManyReplicas' });
  const h = history({ recommendations: [{ replicas: 6, at: ago(100) }, { replicas: 9, at: ago(400) }] });
  t.is(stabilizeRecommendation(h, 2, 300_000, NOW), 6);
  // The old sample's slot is reused for the new recommendation.
  t.deepEqual(h.recommendations, [{ replicas: 6, at: ago(100) }, { replicas: 2, at: NOW }]);
});

test('stabilization with a behavior: the lowest recent recommendation up, the highest down', (t) => {
  const h = history({ recommendations: [{ replicas: 4, at: ago(30) }, { replicas: 7, at: ago(200) }] });
  // Scale-down to 2 within a 300 s window that saw 7: held at the current 5 (7 > 5, so the current count).
  t.like(stabilizeWithBehaviors(structuredClone(h), 5, 2, 0, 300, NOW), { replicas: 5, reason: 'ScaleDownStabilized' });
  // With a 60 s window only 4 counts.
  t.like(stabilizeWithBehaviors(structuredClone(h), 5, 2, 0, 60, NOW), { replicas: 4 });
  // A scale-up window of 60 s that saw 4: a jump to 9 goes only as far as the current 5.
  t.like(stabilizeWithBehaviors(structuredClone(h), 5, 9, 60, 0, NOW), { replicas: 5, reason: 'ScaleUpStabilized' });
  t.like(stabilizeWithBehaviors(structuredClone(h), 3, 9, 60, 0, NOW), { replicas: 4 });
});

test('normalize: conditions as Kubernetes sets them; an unset scale-down window is the controller\'s', (t) => {
  const h = history({ recommendations: [{ replicas: 5, at: ago(100) }] });
  const r = normalize(h, { minReplicas: 1, maxReplicas: 10, current: 5, desired: 1 }, { scaleUp: up, scaleDown: defaultScaleDownRules() }, 300_000, NOW);
  t.is(r.replicas, 5);
  t.deepEqual(r.conditions, [
    { type: 'AbleToScale', status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' },
    { type: 'ScalingLimited', status: 'False', reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' },
  ]);
  // A short controller window lets it go down at once.
  const quick = normalize(history({ recommendations: [{ replicas: 5, at: ago(100) }] }), { minReplicas: 1, maxReplicas: 10, current: 5, desired: 1 }, { scaleUp: up, scaleDown: defaultScaleDownRules() }, 10_000, NOW);
  t.is(quick.replicas, 1);
  t.like(quick.conditions[0], { reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
});

test('scale events: recorded only with a behavior, outdated slots reused, history trimmed to what matters', (t) => {
  const h = emptyHistory();
  storeScaleEvent(h, undefined, 1, 5, NOW);
  t.deepEqual(h.scaleUpEvents, []);
  storeScaleEvent(h, { scaleUp: up }, 1, 5, ago(100));
  storeScaleEvent(h, { scaleUp: up }, 5, 9, NOW);
  t.deepEqual(h.scaleUpEvents, [{ change: 4, at: NOW, outdated: false }]);
  storeScaleEvent(h, { scaleDown: down }, 9, 3, NOW);
  t.deepEqual(h.scaleDownEvents, [{ change: 6, at: NOW, outdated: false }]);
  const trimmed = trimHistory(history({ recommendations: [{ replicas: 3, at: ago(1000) }, { replicas: 4, at: ago(2000) }], scaleUpEvents: [{ change: 1, at: ago(1000) }] }), 60_000, NOW);
  t.deepEqual(trimmed, { recommendations: [{ replicas: 3, at: ago(1000) }], scaleUpEvents: [], scaleDownEvents: [] });
});

// ---- one sync ------------------------------------------------------------------------------

function hpa(spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default', uid: 'hpa-uid' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 10,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      ...spec,
    },
    ...(status ? { status } : {}),
  } as KubeObject;
}

function pod(name: string, labels = { app: 'web' }): Pod {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels },
    spec: { containers: [{ name: 'app', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
    status: { phase: 'Running', startTime: new Date(ago(3600)).toISOString(), conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date(ago(3500)).toISOString() }] },
  } as unknown as Pod;
}

function usage(name: string, millicores: number): PodUsage {
  return { namespace: 'default', name, uid: name, node: 'n1', timestamp: new Date(ago(2)).toISOString(), windowSeconds: 10, containers: [{ name: 'app', cpuNanoCores: millicores * 1e6, memoryBytes: 1 }] };
}

function sync(over: Partial<SyncInputs> = {}): SyncInputs {
  return {
    hpa: hpa(), scale: { specReplicas: 1, statusReplicas: 1, selector: 'app=web' },
    pods: [pod('a'), pod('other', { app: 'db' })], samples: [usage('a', 90), usage('other', 1000)],
    history: emptyHistory(), settings: { tolerance: 0.1, cpuInitializationPeriodMs: 300_000, initialReadinessDelayMs: 30_000, downscaleStabilizationMs: 300_000 }, now: NOW,
    ...over,
  };
}

test('a sync that scales up: the new size, the reason, the status, the conditions and SuccessfulRescale', (t) => {
  const plan = planSync(sync());
  // 90m of 100m is 90% of a 50% target: 2 pods (the db pod is not selected).
  t.deepEqual(plan.rescale, { from: 1, to: 2, reason: 'cpu resource utilization (percentage of request) above target' });
  t.deepEqual(plan.events, [{ type: 'Normal', reason: 'SuccessfulRescale', message: 'New size: 2; reason: cpu resource utilization (percentage of request) above target' }]);
  t.like(plan.status, { currentReplicas: 1, desiredReplicas: 2, lastScaleTime: '2026-06-01T12:00:00Z' });
  t.deepEqual(plan.status.currentMetrics, [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '90m' } } }]);
  const byType = Object.fromEntries(plan.status.conditions.map((c: any) => [c.type, [c.status, c.reason, c.message]]));
  t.deepEqual(byType, {
    AbleToScale: ['True', 'SucceededRescale', 'the HPA controller was able to update the target scale to 2'],
    ScalingActive: ['True', 'ValidMetricFound', 'the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)'],
    ScalingLimited: ['False', 'DesiredWithinRange', 'the desired count is within the acceptable range'],
  });
  // The first sync remembers the current size, then its own recommendation.
  t.deepEqual(plan.history!.recommendations, [{ replicas: 1, at: NOW }, { replicas: 2, at: NOW }]);
  // A failed scale update: FailedRescale, AbleToScale False, the size unchanged in status.
  const failed = failedRescale(sync(), plan, 'boom');
  t.deepEqual(failed.events, [{ type: 'Warning', reason: 'FailedRescale', message: 'New size: 2; reason: cpu resource utilization (percentage of request) above target; error: boom' }]);
  t.like(failed.status.conditions.find((c: any) => c.type === 'AbleToScale'), { status: 'False', reason: 'FailedUpdateScale', message: 'the HPA controller was unable to update the target scale: boom' });
  t.is(failed.status.currentReplicas, 1);
});

test('no metrics: FailedGetResourceMetric and FailedComputeMetricsReplicas, ScalingActive False, nothing scaled', (t) => {
  const plan = planSync(sync({ samples: [] }));
  t.is(plan.rescale, undefined);
  const inner = 'failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API';
  t.deepEqual(plan.events, [
    { type: 'Warning', reason: 'FailedGetResourceMetric', message: inner },
    { type: 'Warning', reason: 'FailedComputeMetricsReplicas', message: `invalid metrics (1 invalid out of 1), first error is: ${inner}` },
  ]);
  t.like(plan.status.conditions.find((c: any) => c.type === 'ScalingActive'), { status: 'False', reason: 'FailedGetResourceMetric', message: `the HPA was unable to compute the replica count: ${inner}` });
  t.deepEqual(plan.status.currentMetrics, [{ type: '' }]);
});

test('a pod without a CPU request: FailedGetResourceMetric naming the container', (t) => {
  const bare = pod('a');
  bare.spec.containers[0].resources = {};
  const plan = planSync(sync({ pods: [bare] }));
  t.is(plan.events[0].message, 'failed to get cpu utilization: missing request for cpu in container app of Pod a');
});

test('outside min/max, or at zero: the reasons Kubernetes gives', (t) => {
  t.deepEqual(planSync(sync({ scale: { specReplicas: 12, statusReplicas: 12, selector: 'app=web' } })).rescale, { from: 12, to: 10, reason: 'Current number of replicas above Spec.MaxReplicas' });
  t.deepEqual(planSync(sync({ hpa: hpa({ minReplicas: 3 }) })).rescale, { from: 1, to: 3, reason: 'Current number of replicas below Spec.MinReplicas' });
  const zero = planSync(sync({ scale: { specReplicas: 0, statusReplicas: 0, selector: 'app=web' } }));
  t.is(zero.rescale, undefined);
  t.like(zero.status, { currentReplicas: 0, desiredReplicas: 0 });
  t.like(zero.status.conditions.find((c: any) => c.type === 'ScalingActive'), { status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
});

test('scaling down follows the behavior: with a 0 s window all the way, in one step', (t) => {
  const inputs = sync({
    hpa: hpa({ behavior: { scaleDown: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] }, scaleUp: up } }),
    scale: { specReplicas: 4, statusReplicas: 4, selector: 'app=web' },
    pods: ['a', 'b', 'c', 'd'].map((n) => pod(n)),
    samples: ['a', 'b', 'c', 'd'].map((n) => usage(n, 5)),
    history: history({ recommendations: [{ replicas: 4, at: ago(30) }] }),
  });
  const plan = planSync(inputs);
  t.deepEqual(plan.rescale, { from: 4, to: 1, reason: 'All metrics below target' });
  t.deepEqual(plan.history!.scaleDownEvents, [{ change: 3, at: NOW, outdated: false }]);
});

test('a target whose scale cannot be read: FailedGetScale condition and event', (t) => {
  const plan = failedGetScale(hpa(), 'deployments.apps "web" not found', NOW);
  t.deepEqual(plan.events, [{ type: 'Warning', reason: 'FailedGetScale', message: 'deployments.apps "web" not found' }]);
  t.deepEqual(plan.status.conditions, [{ type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: 'the HPA controller was unable to get the target\'s current scale: deployments.apps "web" not found', lastTransitionTime: '2026-06-01T12:00:00Z' }]);
  t.is(plan.history, undefined);
});

test('a scale without a selector: SelectorRequired, InvalidSelector', (t) => {
  const plan = planSync(sync({ scale: { specReplicas: 1, statusReplicas: 1, selector: '' } }));
  t.deepEqual(plan.events.map((e) => e.reason), ['SelectorRequired', 'FailedComputeMetricsReplicas']);
  t.like(plan.status.conditions.find((c: any) => c.type === 'ScalingActive'), { reason: 'InvalidSelector', message: "the HPA target's scale is missing a selector" });
});
