// The replica calculator, case by case as Kubernetes' replica_calculator_test.go exercises it:
// scale up and down on utilization and on average value, the 10% tolerance, unready, pending,
// failed and deleted pods, missing metrics (0% on scale-up, 100% on scale-down), the CPU
// initialization period, container metrics, and a pod without a request.
import test from 'ava';
import type { Pod } from '../../shared/types.ts';
import type { PodUsage } from '../../shared/resource-metrics.ts';
import {
  DEFAULT_CALCULATOR_SETTINGS, groupPods, podMetricsFrom, rawResourceReplicas, resourceReplicas, type PodMetrics, type ResourceInputs,
} from '../../services/controller-manager/hpa/replica-calculator.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
// Kubernetes' tests use a 2-minute CPU initialization period and a 10 s readiness delay.
const SETTINGS = { tolerance: 0.1, cpuInitializationPeriodMs: 120_000, initialReadinessDelayMs: 10_000 };
const LONG_AGO = NOW - 3_600_000;

interface PodOpts {
  ready?: 'True' | 'False';
  phase?: string;
  deleting?: boolean;
  startTime?: number;
  transition?: number;
  requests?: (string | undefined)[];
}

function pod(i: number, o: PodOpts = {}): Pod {
  const requests = o.requests ?? ['1'];
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace: 'default', labels: { app: 'web' }, ...(o.deleting ? { deletionTimestamp: iso(NOW) } : {}) },
    spec: { containers: requests.map((r, c) => ({ name: `c${c}`, image: 'busybox', resources: r === undefined ? {} : { requests: { cpu: r, memory: r } } })) },
    status: {
      phase: o.phase ?? 'Running',
      startTime: iso(o.startTime ?? LONG_AGO),
      conditions: [{ type: 'Ready', status: o.ready ?? 'True', lastTransitionTime: iso(o.transition ?? LONG_AGO + 5_000) }],
    },
  } as unknown as Pod;
}

/** Metrics in millicores, one per named pod, sampled a minute ago over a 30 s window. */
function metrics(levels: Record<string, number>, at = NOW - 1000): PodMetrics {
  return new Map(Object.entries(levels).map(([name, value]) => [name, { value, timestamp: at, windowMs: 30_000 }]));
}

function inputs(current: number, pods: Pod[], m: PodMetrics, resource = 'cpu', container = ''): ResourceInputs {
  return { currentReplicas: current, resource, container, pods, metrics: m, settings: SETTINGS, now: NOW };
}

test('scale up: 300m, 500m, 700m of 1 core at a 30% target is 50%, 5 replicas (TestReplicaCalcScaleUp)', (t) => {
  const pods = [0, 1, 2].map((i) => pod(i));
  t.deepEqual(resourceReplicas(inputs(3, pods, metrics({ p0: 300, p1: 500, p2: 700 })), 30), { replicas: 5, utilization: 50, rawUtilization: 500 });
});

test('scale down: 28% of a 50% target over 5 pods is 3 (TestReplicaCalcScaleDown)', (t) => {
  const pods = [0, 1, 2, 3, 4].map((i) => pod(i));
  t.deepEqual(resourceReplicas(inputs(5, pods, metrics({ p0: 100, p1: 300, p2: 500, p3: 250, p4: 250 })), 50), { replicas: 3, utilization: 28, rawUtilization: 280 });
});

test('within the 10% tolerance nothing changes: 102% of a 100% target (TestReplicaCalcTolerance)', (t) => {
  const pods = [pod(0, { requests: ['0.9'] }), pod(1, { requests: ['1.0'] }), pod(2, { requests: ['1.1'] })];
  t.deepEqual(resourceReplicas(inputs(3, pods, metrics({ p0: 1010, p1: 1030, p2: 1020 })), 100), { replicas: 3, utilization: 102, rawUtilization: 1020 });
  // The tolerance is configurable (Kubernetes' --horizontal-pod-autoscaler-tolerance).
  t.is(resourceReplicas({ ...inputs(3, pods, metrics({ p0: 1010, p1: 1030, p2: 1020 })), settings: { ...SETTINGS, tolerance: 0.01 } }, 100).replicas, 4);
});

test('an unready pod is left out, and counts as 0% when the rest would scale up (TestReplicaCalcScaleUpUnreadyLessScale)', (t) => {
  const pods = [pod(0, { ready: 'False' }), pod(1), pod(2)];
  // Ready pods: 1200m of 2 cores = 60%; with the unready one at 0: 40% of a 30% target, 4 of 3.
  t.deepEqual(resourceReplicas(inputs(3, pods, metrics({ p0: 300, p1: 500, p2: 700 })), 30), { replicas: 4, utilization: 60, rawUtilization: 600 });
});

test('unready pods that would turn a scale-up into a scale-down leave the count alone (TestReplicaCalcScaleUpUnreadyNoScale)', (t) => {
  const pods = [pod(0), pod(1, { ready: 'False' }), pod(2, { ready: 'False' })];
  t.deepEqual(resourceReplicas(inputs(3, pods, metrics({ p0: 400, p1: 500, p2: 700 })), 30), { replicas: 3, utilization: 40, rawUtilization: 400 });
});

test('failed and deleted pods are ignored (TestReplicaCalcScaleUpIgnoresFailedPods, ...DeletedPods)', (t) => {
  const pods = [pod(0), pod(1), pod(2, { phase: 'Failed', ready: 'False' }), pod(3, { deleting: true })];
  t.deepEqual(resourceReplicas(inputs(2, pods, metrics({ p0: 500, p1: 700, p2: 300, p3: 300 })), 30), { replicas: 4, utilization: 60, rawUtilization: 600 });
});

test('a pending pod counts as unready, on any resource', (t) => {
  const pods = [pod(0), pod(1, { phase: 'Pending' })];
  const g = groupPods(pods, metrics({ p0: 100 }), 'memory', SETTINGS, NOW);
  t.is(g.readyPodCount, 1);
  t.deepEqual([...g.unready], ['p1']);
  t.deepEqual([...g.missing], []);
});

test('missing metrics: 0% on a scale-up (TestReplicaCalcMissingMetricsScaleUp)', (t) => {
  const pods = [pod(0), pod(1)];
  // 2000m of 1 core is 200%; with the missing pod at 0: 100% of 50%, 4 replicas.
  t.deepEqual(resourceReplicas(inputs(2, pods, metrics({ p0: 2000 })), 50), { replicas: 4, utilization: 200, rawUtilization: 2000 });
});

test('missing metrics: 100% of the request on a scale-down, so it goes less far, or not at all (TestReplicaCalcMissingMetricsScaleDown)', (t) => {
  const pods = [0, 1, 2, 3].map((i) => pod(i));
  // Measured: 150m of 3 cores = 5% of 50%. With the missing pod at 1000m: 1150/4000 = 28%, 0.56 → 3 pods.
  t.deepEqual(resourceReplicas(inputs(4, pods, metrics({ p0: 50, p1: 50, p2: 50 })), 50), { replicas: 3, utilization: 5, rawUtilization: 50 });
  // A missing pod at 100% that turns the scale-down into a scale-up keeps the count.
  t.is(resourceReplicas(inputs(2, [pod(0), pod(1)], metrics({ p0: 400 })), 50).replicas, 2);
});

test('missing metrics with a target above 100%: a missing pod counts at the target, not at 100%', (t) => {
  const pods = [0, 1, 2].map((i) => pod(i));
  // Measured 100m+100m of 2 cores = 10% of 200%. Missing at 200%: 2200/3000 = 73%, 0.366 → 2.
  t.is(resourceReplicas(inputs(3, pods, metrics({ p0: 100, p1: 100 })), 200).replicas, 2);
});

test('no change at all when the only change is an equal ratio with missing metrics (TestReplicaCalcMissingMetricsNoChangeEq)', (t) => {
  t.is(resourceReplicas(inputs(2, [pod(0), pod(1)], metrics({ p0: 1000 })), 100).replicas, 2);
});

test('CPU initialization: a young pod measured before a full window since it became ready counts as unready', (t) => {
  const young = pod(1, { startTime: NOW - 60_000, transition: NOW - 20_000 });
  // Its sample ended 1 s ago with a 30 s window: it began before the pod was ready.
  const g = groupPods([pod(0), young], metrics({ p0: 500, p1: 900 }), 'cpu', SETTINGS, NOW);
  t.deepEqual([...g.unready], ['p1']);
  // A window after readiness: it counts.
  const settled = pod(1, { startTime: NOW - 100_000, transition: NOW - 60_000 });
  t.is(groupPods([pod(0), settled], metrics({ p0: 500, p1: 900 }), 'cpu', SETTINGS, NOW).readyPodCount, 2);
  // Memory has no initialization period.
  t.is(groupPods([pod(0), young], metrics({ p0: 500, p1: 900 }), 'memory', SETTINGS, NOW).readyPodCount, 2);
});

test('after the initialization period an unready pod counts only if it was ever ready (the initial readiness delay)', (t) => {
  // Never ready: turned False within 10 s of its start.
  const never = pod(0, { ready: 'False', startTime: LONG_AGO, transition: LONG_AGO + 5_000 });
  // Was ready, then turned False long after its start: its usage still counts.
  const wasReady = pod(1, { ready: 'False', startTime: LONG_AGO, transition: LONG_AGO + 600_000 });
  const g = groupPods([never, wasReady], metrics({ p0: 100, p1: 100 }), 'cpu', SETTINGS, NOW);
  t.deepEqual([...g.unready], ['p0']);
  t.is(g.readyPodCount, 1);
});

test('a pod without a request of the resource is an error naming it, as Kubernetes words it', (t) => {
  const pods = [pod(0), pod(1, { requests: [undefined] })];
  const err = t.throws(() => resourceReplicas(inputs(2, pods, metrics({ p0: 100, p1: 100 })), 50));
  t.is(err?.message, 'missing request for cpu in container c0 of Pod p1');
});

test('no pods, or no metrics of any counted pod, are errors', (t) => {
  t.is(t.throws(() => resourceReplicas(inputs(1, [], metrics({})), 50))?.message, 'no pods returned by selector while calculating replica count');
  t.is(t.throws(() => resourceReplicas(inputs(1, [pod(0, { ready: 'False' })], metrics({ p0: 5 })), 50))?.message, 'did not receive metrics for targeted pods (pods might be unready)');
});

test('average value: 250Mi of memory each against a 100Mi target, 3 pods to 8 (GetRawResourceReplicas)', (t) => {
  const mi = 1024 * 1024 * 1000; // milli-bytes
  const pods = [0, 1, 2].map((i) => pod(i));
  const m = metrics({ p0: 250 * mi, p1: 250 * mi, p2: 250 * mi });
  t.deepEqual(rawResourceReplicas(inputs(3, pods, m, 'memory'), 100 * mi), { replicas: 8, usage: 250 * mi });
  // Within tolerance of the target: unchanged.
  t.is(rawResourceReplicas(inputs(3, pods, metrics({ p0: 105 * mi, p1: 100 * mi, p2: 95 * mi }), 'memory'), 100 * mi).replicas, 3);
  // Missing metrics count as the target on a scale-down.
  t.is(rawResourceReplicas(inputs(4, [0, 1, 2, 3].map((i) => pod(i)), metrics({ p0: 10 * mi, p1: 10 * mi }), 'memory'), 100 * mi).replicas, 3);
});

test('samples become pod metrics: the sum of the containers, or one container; a pod lacking the container is missing', (t) => {
  const sample = (name: string, containers: [string, number, number][]): PodUsage => ({
    namespace: 'default', name, uid: name, node: 'n', timestamp: iso(NOW - 2000), windowSeconds: 15,
    containers: containers.map(([n, cpu, mem]) => ({ name: n, cpuNanoCores: cpu, memoryBytes: mem })),
  });
  const samples = [sample('a', [['app', 250_000_000, 1000], ['side', 1, 24]]), sample('b', [['side', 5_000_000, 10]])];
  const cpu = podMetricsFrom(samples, 'cpu');
  // 1 nanocore rounds up to 1m, as Quantity.MilliValue() does.
  t.is(cpu.get('a')!.value, 251);
  t.is(cpu.get('b')!.value, 5);
  t.is(cpu.get('a')!.windowMs, 15_000);
  t.is(podMetricsFrom(samples, 'memory').get('a')!.value, 1_024_000);
  const app = podMetricsFrom(samples, 'cpu', 'app');
  t.deepEqual([...app.keys()], ['a']);
  t.is(app.get('a')!.value, 250);
});

test('a container metric is measured against that container\'s request only', (t) => {
  const pods = [0, 1].map((i) => pod(i, { requests: ['500m', '2'] }));
  // c0 uses 400m of 500m each: 80% of a 40% target doubles the count.
  t.deepEqual(resourceReplicas(inputs(2, pods, metrics({ p0: 400, p1: 400 }), 'cpu', 'c0'), 40), { replicas: 4, utilization: 80, rawUtilization: 400 });
  t.is(DEFAULT_CALCULATOR_SETTINGS.tolerance, 0.1);
});
