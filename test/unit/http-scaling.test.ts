// Scale to zero on HTTP traffic, the pure parts: KEDA's defaults of an HTTPScaledObject, its
// validation, the traffic aggregation over nodes, KEDA's request rate, the replica decision, and
// what a node's proxy counts and reports.
import test from 'ava';
import type { KubeObject } from '../../shared/types.ts';
import { aggregateTraffic, httpScaling, parseGoDurationMs, requestRate, type ServiceTraffic } from '../../shared/http-scaling.ts';
import { httpScaledObjectErrors, httpScaledObjectStrategy } from '../../shared/registry/kinds/httpscaledobject.ts';
import { decideReplicas, setCondition, targetStatus, type ScaleInput } from '../../services/controller-manager/http-scaler/plan.ts';
import { TrafficCounters } from '../../services/node-agent/proxy/traffic.ts';
import { planListeners } from '../../services/node-agent/proxy/plan.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const httpso = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'http.keda.sh/v1alpha1', kind: 'HTTPScaledObject', metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { name: 'web', service: 'web', port: 80 }, ...spec } });
const fields = (errs: { field?: string }[]) => errs.map((e) => e.field);

// ---- the kind ----

test('KEDA\'s defaults: min 0, max 100, scaledownPeriod 300 s, concurrency 100, Deployment apps/v1', (t) => {
  const s = httpScaling(httpso({}));
  t.like(s, { service: 'web', targetName: 'web', targetKind: 'Deployment', targetApiVersion: 'apps/v1', minReplicas: 0, maxReplicas: 100, scaledownPeriodMs: 300_000, initialCooldownMs: 0 });
  t.deepEqual(s.metric, { type: 'concurrency', targetValue: 100 });
  t.deepEqual(httpScaling(httpso({ targetPendingRequests: 7 })).metric, { type: 'concurrency', targetValue: 7 }, 'the deprecated field still counts');
  t.deepEqual(httpScaling(httpso({ targetPendingRequests: 7, scalingMetric: { concurrency: { targetValue: 3 } } })).metric, { type: 'concurrency', targetValue: 3 });
  t.deepEqual(httpScaling(httpso({ scalingMetric: { requestRate: { targetValue: 5, window: '30s', granularity: '2s' } } })).metric, { type: 'requestRate', targetValue: 5, windowMs: 30_000, granularityMs: 2000 });
});

test('the CRD\'s stored defaults: targetValue 100, window 1m, granularity 1s, failover timeout 30', (t) => {
  const o = httpso({ scalingMetric: { requestRate: {} }, coldStartTimeoutFailoverRef: { service: 'fallback', port: 80 } });
  httpScaledObjectStrategy.defaults(o, {} as any);
  t.deepEqual((o.spec as any).scalingMetric.requestRate, { targetValue: 100, window: '1m', granularity: '1s' });
  t.is((o.spec as any).coldStartTimeoutFailoverRef.timeoutSeconds, 30);
  t.is((o.spec as any).replicas, undefined, 'min and max are run-time defaults, as in KEDA: not stored');
});

test('Go durations parse as time.ParseDuration does', (t) => {
  t.is(parseGoDurationMs('1m'), 60_000);
  t.is(parseGoDurationMs('1h30m'), 5_400_000);
  t.is(parseGoDurationMs('1.5s'), 1500);
  t.is(parseGoDurationMs('250ms'), 250);
  t.is(parseGoDurationMs('0'), 0);
  for (const bad of ['', '1', 'm', '1x', '1m 2s', 5]) t.is(parseGoDurationMs(bad), undefined, String(bad));
});

test('validation names the field: the CRD\'s port rule, bounds, mutually exclusive metrics, durations, the target kind', (t) => {
  t.deepEqual(httpScaledObjectErrors(httpso({}).spec), []);
  const both = httpScaledObjectErrors({ scaleTargetRef: { name: 'web', service: 'web', port: 80, portName: 'http' } });
  t.deepEqual(fields(both), ['spec.scaleTargetRef']);
  t.is(both[0].message, 'Invalid value: "object": must define either the \'portName\' or the \'port\'');
  t.deepEqual(fields(httpScaledObjectErrors({ scaleTargetRef: { name: 'web', service: 'web' } })), ['spec.scaleTargetRef']);
  t.deepEqual(fields(httpScaledObjectErrors({ scaleTargetRef: { service: 'web', port: 80 } })), ['spec.scaleTargetRef.name']);
  t.deepEqual(fields(httpScaledObjectErrors({ scaleTargetRef: { name: 'web', service: 'web', port: 80, kind: 'StatefulSet' } })), ['spec.scaleTargetRef.kind']);
  t.deepEqual(fields(httpScaledObjectErrors({ ...httpso({}).spec, replicas: { min: -1 } })), ['spec.replicas.min']);
  t.deepEqual(fields(httpScaledObjectErrors({ ...httpso({}).spec, replicas: { min: 5, max: 2 } })), ['spec.replicas.min']);
  t.deepEqual(fields(httpScaledObjectErrors({ ...httpso({}).spec, replicas: { min: 200 } })), ['spec.replicas.min'], 'above the default max of 100');
  t.deepEqual(fields(httpScaledObjectErrors({ ...httpso({}).spec, replicas: { max: 0 } })), ['spec.replicas.max']);
  t.deepEqual(fields(httpScaledObjectErrors({ ...httpso({}).spec, scaledownPeriod: -1 })), ['spec.scaledownPeriod']);
  t.deepEqual(fields(httpScaledObjectErrors({ ...httpso({}).spec, scalingMetric: { concurrency: { targetValue: 0 } } })), ['spec.scalingMetric.concurrency.targetValue']);
  t.deepEqual(fields(httpScaledObjectErrors({ ...httpso({}).spec, scalingMetric: { concurrency: {}, requestRate: {} } })), ['spec.scalingMetric.requestRate']);
  t.deepEqual(fields(httpScaledObjectErrors({ ...httpso({}).spec, scalingMetric: { requestRate: { window: 'soon', granularity: '1s' } } })), ['spec.scalingMetric.requestRate.window']);
  t.deepEqual(fields(httpScaledObjectErrors({ ...httpso({}).spec, scalingMetric: { requestRate: { window: '1s', granularity: '1m' } } })), ['spec.scalingMetric.requestRate.granularity']);
});

test('status: the workload as apiVersion/Kind/name and the Service as name:port; conditions keep their transition time', (t) => {
  const o = httpso({});
  t.deepEqual(targetStatus(httpScaling(o), o), { targetWorkload: 'apps/v1/Deployment/web', targetService: 'web:80' });
  const first = setCondition(undefined, { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'm' }, '2026-01-01T00:00:00Z');
  const same = setCondition(first, { type: 'Ready', status: 'True', reason: 'Reconciled', message: 'm2' }, '2026-01-02T00:00:00Z');
  t.is(same[0].lastTransitionTime, '2026-01-01T00:00:00Z');
  const flipped = setCondition(same, { type: 'Ready', status: 'False', reason: 'FailedGetScale', message: 'x' }, '2026-01-03T00:00:00Z');
  t.is(flipped[0].lastTransitionTime, '2026-01-03T00:00:00Z');
  t.is(flipped.length, 1);
});

// ---- traffic ----

test('traffic sums fresh node reports; a stale report keeps only its last activity', (t) => {
  const agg = aggregateTraffic({
    since: String(NOW - 10_000),
    'n:a': JSON.stringify({ at: NOW - 500, inFlight: 3, held: 1, lastActive: NOW - 500 }),
    'n:b': JSON.stringify({ at: NOW - 800, inFlight: 2, held: 0, lastActive: NOW - 900 }),
    'n:dead': JSON.stringify({ at: NOW - 60_000, inFlight: 50, held: 5, lastActive: NOW - 60_000 }),
    'n:junk': '{',
    [`s:${Math.floor(NOW / 1000) - 1}`]: '4',
    [`s:${Math.floor(NOW / 1000)}`]: '2',
  }, NOW, 3000);
  t.is(agg.inFlight, 5);
  t.is(agg.held, 1);
  t.is(agg.nodes, 2);
  t.is(agg.lastActive, NOW - 500);
  t.is(agg.since, NOW - 10_000);
  t.is(agg.opened.size, 2);
});

test('request rate: KEDA\'s average per granularity bucket over the window, over the part that exists when younger', (t) => {
  const sec = Math.floor(NOW / 1000);
  const opened = new Map([[sec, 10], [sec - 1, 10], [sec - 30, 10], [sec - 120, 1000]]);
  t.is(requestRate(opened, NOW, 60_000, 1000), 0.5, '30 connections over 60 one-second buckets; older ones out of the window');
  t.is(requestRate(opened, NOW, 60_000, 2000), 1, 'per 2-second bucket');
  t.is(requestRate(new Map([[sec, 10]]), NOW, 60_000, 1000, NOW - 1000), 5, 'a record 2 s old: averaged over 2 buckets');
  t.is(requestRate(new Map(), NOW, 60_000, 1000), 0);
});

// ---- the decision ----

const traffic = (t: Partial<ServiceTraffic> = {}): ServiceTraffic => ({ inFlight: 0, held: 0, lastActive: 0, opened: new Map(), nodes: 1, ...t });
const input = (o: Partial<ScaleInput> & { spec?: Record<string, unknown> } = {}): ScaleInput => ({
  scaling: httpScaling(httpso({ scaledownPeriod: 30, ...o.spec })),
  traffic: traffic(),
  currentReplicas: 0,
  createdAt: NOW - 3_600_000,
  now: NOW,
  recent: [],
  ...o,
});

test('a held connection wakes a Deployment at zero to max(1, min)', (t) => {
  t.is(decideReplicas(input({ traffic: traffic({ held: 1 }) })).desired, 1);
  t.is(decideReplicas(input({ traffic: traffic({ held: 20 }) })).desired, 1, '20 connections, target 100: one pod');
  t.is(decideReplicas(input({ traffic: traffic({ held: 1 }), spec: { replicas: { min: 0, max: 10 }, scalingMetric: { concurrency: { targetValue: 5 } } } })).desired, 1);
  t.is(decideReplicas(input({ traffic: traffic({ held: 1 }), spec: { replicas: { min: 2 } } })).desired, 2);
});

test('at zero with no demand it stays at zero, even with a recent rate (no flapping after a scale-down)', (t) => {
  const sec = Math.floor(NOW / 1000);
  t.is(decideReplicas(input()).desired, 0);
  t.is(decideReplicas(input({ traffic: traffic({ lastActive: NOW - 1000, opened: new Map([[sec, 50]]) }), spec: { scalingMetric: { requestRate: { targetValue: 1 } } } })).desired, 0);
  t.is(decideReplicas(input({ spec: { replicas: { min: 3 } } })).desired, 3, 'min above zero is kept');
});

test('above one: concurrency per pod (ceil(total / target)), clamped to max', (t) => {
  const spec = { replicas: { max: 4 }, scalingMetric: { concurrency: { targetValue: 10 } } };
  t.is(decideReplicas(input({ currentReplicas: 1, traffic: traffic({ inFlight: 25, lastActive: NOW }), spec })).desired, 3);
  t.is(decideReplicas(input({ currentReplicas: 1, traffic: traffic({ inFlight: 25, held: 10, lastActive: NOW }), spec })).desired, 4);
  t.is(decideReplicas(input({ currentReplicas: 1, traffic: traffic({ inFlight: 1000, lastActive: NOW }), spec })).desired, 4, 'never above max');
});

test('above one: request rate when configured', (t) => {
  const sec = Math.floor(NOW / 1000);
  const opened = new Map(Array.from({ length: 10 }, (_, i) => [sec - i, 30] as [number, number]));
  const d = decideReplicas(input({ currentReplicas: 1, traffic: traffic({ lastActive: NOW, opened, since: NOW - 600_000 }), spec: { scalingMetric: { requestRate: { targetValue: 2, window: '10s', granularity: '1s' } } } }));
  t.is(d.metricValue, 30);
  t.is(d.desired, 15);
});

test('scale-down waits for scaledownPeriod without any connection on any node; in-flight connections keep the pod', (t) => {
  t.is(decideReplicas(input({ currentReplicas: 1, traffic: traffic({ lastActive: NOW - 29_000 }) })).desired, 1, 'quiet for 29 s of 30');
  const d = decideReplicas(input({ currentReplicas: 1, traffic: traffic({ lastActive: NOW - 29_000 }) }));
  t.is(d.idleInMs, 1000, 'the reconcile comes back when the period ends');
  t.is(decideReplicas(input({ currentReplicas: 1, traffic: traffic({ lastActive: NOW - 31_000 }) })).desired, 0);
  t.is(decideReplicas(input({ currentReplicas: 1, traffic: traffic({ inFlight: 1, lastActive: NOW - 600_000 }) })).desired, 1, 'a long connection in flight');
  t.is(decideReplicas(input({ currentReplicas: 2, traffic: traffic({ lastActive: NOW - 31_000 }), spec: { replicas: { min: 1 } } })).desired, 1, 'down to min, not zero');
});

test('a new HTTPScaledObject counts its idle period from its creation, and initialCooldownPeriod holds zero off', (t) => {
  t.is(decideReplicas(input({ currentReplicas: 2, createdAt: NOW - 10_000 })).desired, 1, 'running, no traffic yet: kept at one for the period');
  t.is(decideReplicas(input({ currentReplicas: 2, createdAt: NOW - 40_000 })).desired, 0);
  t.is(decideReplicas(input({ currentReplicas: 1, createdAt: NOW - 40_000, spec: { initialCooldownPeriod: 60 } })).desired, 1);
});

test('between non-zero sizes: up at once, down only to the highest recommendation of the period', (t) => {
  const spec = { scalingMetric: { concurrency: { targetValue: 10 } } };
  t.is(decideReplicas(input({ currentReplicas: 2, traffic: traffic({ inFlight: 50, lastActive: NOW }), spec, recent: [2, 2] })).desired, 5);
  t.is(decideReplicas(input({ currentReplicas: 5, traffic: traffic({ inFlight: 5, lastActive: NOW }), spec, recent: [5, 3, 1] })).desired, 5);
  t.is(decideReplicas(input({ currentReplicas: 5, traffic: traffic({ inFlight: 5, lastActive: NOW }), spec, recent: [3, 1] })).desired, 3);
  t.is(decideReplicas(input({ currentReplicas: 5, traffic: traffic({ inFlight: 5, lastActive: NOW }), spec, recent: [9] })).desired, 5, 'never above the current size by stabilization');
});

// ---- the proxy's side ----

test('a node\'s counters: held, relayed, closed, opened per second; idle Services are reported once', (t) => {
  const demands: string[] = [];
  const c = new TrafficCounters((s) => demands.push(s));
  c.accepted('default/web', NOW);
  c.hold('default/web', NOW);
  c.accepted('default/web', NOW);
  c.hold('default/web', NOW);
  t.deepEqual(demands, ['default/web'], 'a burst is one signal');
  c.unhold('default/web', NOW);
  t.like(c.current('default/web', NOW), { held: 1, inFlight: 0, lastActive: NOW });
  c.unhold('default/web', NOW + 10);
  c.relayed('default/web', NOW + 10);
  c.accepted('default/web', NOW + 1500);
  c.relayed('default/web', NOW + 1500);
  const [snap] = c.snapshot(NOW + 2000);
  t.like(snap.report, { inFlight: 2, held: 0, lastActive: NOW + 2000 });
  t.deepEqual([...snap.opened.values()].reduce((a, b) => a + b, 0), 3);
  c.closed('default/web', NOW + 3000);
  c.closed('default/web', NOW + 3100);
  const [last] = c.snapshot(NOW + 4000);
  t.like(last.report, { inFlight: 0, held: 0, lastActive: NOW + 3100 });
  t.is(last.opened.size, 0, 'opened counts are reported once');
  t.deepEqual(c.snapshot(NOW + 5000), [], 'idle and reported: nothing more to say');
});

test('the proxy plan marks TCP listeners of a scaled Service for the activator, and only those', (t) => {
  const svc = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { type: 'NodePort', clusterIP: `10.43.0.${name.length}`, ports: [{ name: 'http', port: 80, nodePort: 30000 + name.length }, { name: 'dns', port: 53, protocol: 'UDP' }] } });
  const specs = planListeners([svc('web'), svc('other')], [], { nodeAddresses: [], reservedIps: new Set(), activatable: new Set(['default/web']) });
  const marked = specs.filter((s) => s.activate).map((s) => s.id).sort();
  t.deepEqual(marked, ['TCP/0.0.0.0:30003', 'TCP/10.43.0.3:80']);
});
