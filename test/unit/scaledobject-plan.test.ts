// The ScaledObject's pure parts: KEDA's trigger metadata and validation, the cron window, the
// HPA-like replica calculation and behavior, and KEDA's activation / cooldown decisions.
import test from 'ava';
import { applyBehavior, boundsOf, decide, EMPTY_HISTORY, nextPollMs, replicasForCpu, replicasForExternal, type DecideInput, type TriggerResult } from '../../services/controller-manager/scaledobject/plan.ts';
import { cronWindow, parseTrigger, triggersAndAuthenticationsTypes } from '../../shared/keda/triggers.ts';
import { validateObject } from '../../shared/registry/admission.ts';
import type { KubeObject } from '../../shared/types.ts';

const so = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'worker', namespace: 'default' },
  spec: { scaleTargetRef: { name: 'worker' }, triggers: [{ type: 'redis', metadata: { address: 'redis:6379', listName: 'jobs' } }], ...spec },
});
const messages = (obj: KubeObject) => validateObject('ScaledObject', obj).causes.map((c) => `${c.field}: ${c.message}`);

test('redis trigger metadata: KEDA\'s names and defaults', (t) => {
  const p = parseTrigger({ type: 'redis', metadata: { address: '10.0.0.1:6380', listName: 'jobs' } }, 0);
  t.true(p.ok);
  if (!p.ok) return;
  t.like(p.config, { type: 'redis', listName: 'jobs', listLength: 5, activationListLength: 0, metricType: 'AverageValue', metricName: 's0-redis-jobs' });
  t.deepEqual((p.config as any).connection.address, '10.0.0.1:6380');
  const hp = parseTrigger({ type: 'redis', metadata: { host: 'redis.default', port: '6379', listName: 'a:b', listLength: '10', activationListLength: '2', databaseIndex: '3' } }, 2);
  t.true(hp.ok);
  if (hp.ok) t.like(hp.config, { listLength: 10, activationListLength: 2, metricName: 's2-redis-a-b', connection: { address: 'redis.default:6379', databaseIndex: 3 } } as any);
});

test('redis-streams: pending entries of a group, its lag when lagCount is set, the length without a group', (t) => {
  const pending = parseTrigger({ type: 'redis-streams', metadata: { address: 'r:6379', stream: 's', consumerGroup: 'g', pendingEntriesCount: '10' } }, 0);
  t.like(pending.ok && pending.config, { factor: 'pending', target: 10, metricName: 's0-redis-streams-s' } as any);
  const lag = parseTrigger({ type: 'redis-streams', metadata: { address: 'r:6379', stream: 's', consumerGroup: 'g', lagCount: '7' } }, 0);
  t.like(lag.ok && lag.config, { factor: 'lag', target: 7 } as any);
  const length = parseTrigger({ type: 'redis-streams', metadata: { address: 'r:6379', stream: 's' } }, 0);
  t.like(length.ok && length.config, { factor: 'length', target: 5 } as any);
});

test('validation: 422 causes naming the field, in KEDA\'s words', (t) => {
  t.deepEqual(messages(so({})), []);
  t.deepEqual(messages(so({ triggers: [{ type: 'kafka', metadata: {} }] })), ['spec.triggers[0].type: Unsupported value: "kafka": no scaler found for type: kafka']);
  t.deepEqual(messages(so({ triggers: [{ type: 'redis', metadata: { address: 'r:6379' } }] })), ['spec.triggers[0].metadata.listName: Required value: missing required parameter "listName" in [triggerMetadata]']);
  t.deepEqual(messages(so({ triggers: [{ type: 'redis', metadata: { listName: 'x' } }] })), ['spec.triggers[0].metadata.address: Required value: no addresses or hosts given. address should be a comma separated list of host:port or set the host/port values']);
  t.deepEqual(messages(so({ triggers: [{ type: 'redis', metadata: { address: 'r:6379', listName: 'x', listLength: 'five' } }] })), ['spec.triggers[0].metadata.listLength: Invalid value: "five": unable to set param "listLength" value "five": strconv.ParseInt: parsing "five": invalid syntax']);
  t.deepEqual(messages(so({ minReplicaCount: 5, maxReplicaCount: 2 })), ['spec: Invalid value: "object": minReplicaCount must be less than or equal to maxReplicaCount']);
  t.deepEqual(messages(so({ minReplicaCount: 1, idleReplicaCount: 1 })), ['spec.idleReplicaCount: Invalid value: 1: IdleReplicaCount=1 must be less than MinReplicaCount=1']);
  t.deepEqual(messages(so({ triggers: [{ type: 'cpu', metricType: 'Utilization', metadata: { value: '50' } }] })), ['spec.minReplicaCount: Invalid value: 0: scaledobject has only cpu/memory triggers AND minReplica is 0 (scale to zero doesn\'t work in this case)']);
  t.deepEqual(messages(so({ triggers: [{ type: 'cron', metadata: { timezone: 'Mars/Olympus', start: '0 8 * * *', end: '0 8 * * *', desiredReplicas: '3' } }] })), [
    'spec.triggers[0].metadata.end: Invalid value: "0 8 * * *": start and end can not have exactly same time input',
    'spec.triggers[0].metadata.timezone: Invalid value: "Mars/Olympus": unable to load timezone: unknown time zone Mars/Olympus',
  ]);
  t.deepEqual(messages(so({ triggers: [{ type: 'cron', metadata: { timezone: 'UTC', start: '0 8 * *', end: '0 9 * * *', desiredReplicas: '3' } }] })), ['spec.triggers[0].metadata.start: Invalid value: "0 8 * *": error parsing start schedule: expected exactly 5 fields, found 4: [0 8 * *]']);
  t.deepEqual(messages(so({ triggers: [{ type: 'redis', name: 'a', metadata: { address: 'r:1', listName: 'x' } }, { type: 'redis', name: 'a', metadata: { address: 'r:1', listName: 'y' } }] })), ['spec.triggers[1].name: Duplicate value: "a": triggerName "a" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique']);
  // Structural: triggers required, at least one; pollingInterval at least 1.
  t.deepEqual(messages(so({ triggers: [] })), ['spec.triggers: Invalid value: 0: spec.triggers in body should have at least 1 items']);
  t.deepEqual(messages(so({ pollingInterval: 0 })), ['spec.pollingInterval: Invalid value: 0: must be greater than or equal to 1']);
});

test('a TriggerAuthentication may give the connection parameters: deferred at admission, read at poll time', (t) => {
  const trigger = { type: 'redis', metadata: { listName: 'jobs' }, authenticationRef: { name: 'auth' } };
  t.deepEqual(messages(so({ triggers: [trigger] })), []);
  const p = parseTrigger(trigger, 0, { address: 'r:6380', password: 'pw' });
  t.like(p.ok && p.config, { connection: { address: 'r:6380', password: 'pw' } } as any);
  t.like(parseTrigger(trigger, 0, {}), { ok: false, problems: [{ field: 'metadata.address' }] } as any);
  // Metadata wins over the TriggerAuthentication; listName never comes from it.
  const both = parseTrigger({ ...trigger, metadata: { listName: 'jobs', address: 'm:1' } }, 0, { address: 'a:2', listName: 'other' });
  t.like(both.ok && both.config, { listName: 'jobs', connection: { address: 'm:1' } } as any);
});

test('the TRIGGERS and AUTHENTICATIONS columns list each type and reference once', (t) => {
  t.deepEqual(triggersAndAuthenticationsTypes([{ type: 'redis' }, { type: 'cron' }, { type: 'redis', authenticationRef: { name: 'a' } }]), { triggersTypes: 'redis,cron', authenticationsTypes: 'a' });
});

test('cron window: active between start and end, in the trigger\'s time zone, across midnight too', (t) => {
  const at = (iso: string) => Date.parse(iso);
  t.like(cronWindow('0 8 * * *', '0 18 * * *', 'UTC', at('2026-12-03T12:00:00Z')), { active: true, nextChangeMs: at('2026-12-03T18:00:00Z') });
  t.like(cronWindow('0 8 * * *', '0 18 * * *', 'UTC', at('2026-12-03T19:00:00Z')), { active: false, nextChangeMs: at('2026-12-04T08:00:00Z') });
  t.like(cronWindow('0 22 * * *', '0 6 * * *', 'UTC', at('2026-12-03T23:00:00Z')), { active: true, nextChangeMs: at('2026-12-04T06:00:00Z') });
  t.like(cronWindow('0 22 * * *', '0 6 * * *', 'UTC', at('2026-12-03T12:00:00Z')), { active: false });
  // 08:00-18:00 in New York is 13:00-23:00 UTC in December.
  t.like(cronWindow('0 8 * * *', '0 18 * * *', 'America/New_York', at('2026-12-03T12:00:00Z')), { active: false, nextChangeMs: at('2026-12-03T13:00:00Z') });
  t.like(cronWindow('0 8 * * *', '0 18 * * *', 'America/New_York', at('2026-12-03T14:00:00Z')), { active: true });
});

test('external metric replicas: AverageValue divides by the target, within 10% the count stands', (t) => {
  t.is(replicasForExternal(200, 5, 'AverageValue', 1), 40);
  t.is(replicasForExternal(0, 5, 'AverageValue', 3), 0);
  t.is(replicasForExternal(52, 5, 'AverageValue', 10), 10); // 4% off
  t.is(replicasForExternal(60, 5, 'AverageValue', 10), 12);
  t.is(replicasForExternal(20, 10, 'Value', 3), 6);
  t.is(replicasForExternal(10.5, 10, 'Value', 3), 3);
});

test('cpu replicas: utilization of the pods\' requests, or average cores per pod', (t) => {
  t.deepEqual(replicasForCpu([{ usageCores: 0.2, requestCores: 0.2 }, { usageCores: 0.2, requestCores: 0.2 }], 'Utilization', 50, 2), { replicas: 4 });
  t.deepEqual(replicasForCpu([{ usageCores: 0.1, requestCores: 0.2 }], 'Utilization', 50, 1), { replicas: 1 });
  t.deepEqual(replicasForCpu([{ usageCores: 1.5 }], 'AverageValue', 0.5, 1), { replicas: 3 });
  t.like(replicasForCpu([], 'Utilization', 50, 1), { error: 'unable to get metrics for resource cpu: no metrics returned from resource metrics API' } as any);
  t.like(replicasForCpu([{ usageCores: 0.1 }], 'Utilization', 50, 1), { error: 'failed to get cpu utilization: missing request for cpu' } as any);
});

test('behavior: default scale-up of 4 pods or 100% per 15 s; scale-down stabilized over 300 s', (t) => {
  const now = 1_000_000;
  t.is(applyBehavior(40, 1, 1, 100, undefined, EMPTY_HISTORY, now).replicas, 5); // max(1+4, 2*1)
  t.is(applyBehavior(40, 10, 1, 100, undefined, EMPTY_HISTORY, now).replicas, 20);
  t.is(applyBehavior(40, 10, 1, 15, undefined, EMPTY_HISTORY, now).replicas, 15);
  // A recommendation of 8 a minute ago holds a scale-down to 2.
  const history = { ...EMPTY_HISTORY, recommendations: [{ at: now - 60_000, replicas: 8 }] };
  t.is(applyBehavior(2, 10, 1, 100, undefined, history, now).replicas, 8);
  t.is(applyBehavior(2, 10, 1, 100, { scaleDown: { stabilizationWindowSeconds: 0 } }, history, now).replicas, 2);
  // Scaled up by 4 ten seconds ago: within the 15 s period the Pods policy allows 4 more from where it started.
  const ups = { ...EMPTY_HISTORY, scaleUps: [{ at: now - 10_000, delta: 4 }] };
  t.is(applyBehavior(40, 5, 1, 100, { scaleUp: { policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }] } }, ups, now).replicas, 5);
  t.is(applyBehavior(40, 5, 1, 100, { scaleUp: { selectPolicy: 'Disabled' } }, EMPTY_HISTORY, now).replicas, 5);
  // The recommendation is remembered.
  t.deepEqual(applyBehavior(3, 5, 1, 100, undefined, EMPTY_HISTORY, now).history.recommendations, [{ at: now, replicas: 3 }]);
});

const redis = (active: boolean, replicas: number): TriggerResult => ({ metricName: 's0-redis-jobs', type: 'redis', ok: true, active, replicas });
const failing: TriggerResult = { metricName: 's0-redis-jobs', type: 'redis', ok: false, error: 'connection to redis failed: dial tcp 127.0.0.1:1: connect: connection refused' };
const input = (over: Partial<DecideInput>): DecideInput => ({
  bounds: boundsOf({ pollingInterval: 1, cooldownPeriod: 10 }),
  current: 0,
  results: [redis(false, 0)],
  failures: {},
  createdAt: 0,
  history: EMPTY_HISTORY,
  now: 100_000,
  behavior: { scaleDown: { stabilizationWindowSeconds: 0 } },
  ...over,
});

test('activation: an active trigger scales from zero to max(min, 1) and marks the object active', (t) => {
  const d = decide(input({ results: [redis(true, 40)] }));
  t.like(d, { scaleTo: 1, cause: 'activate', markActive: true, activeTriggers: ['s0-redis-jobs'] });
  t.like(d.conditions[1], { type: 'Active', status: 'True', reason: 'ScalerActive' });
  t.like(decide(input({ results: [redis(true, 40)], bounds: boundsOf({ minReplicaCount: 3 }) })), { scaleTo: 3, cause: 'activate' });
  t.like(decide(input({ results: [redis(true, 40)], pauseScaleOut: true })), { scaleTo: undefined });
});

test('above one: the HPA step follows the metric within behavior and max', (t) => {
  t.like(decide(input({ current: 1, results: [redis(true, 40)] })), { scaleTo: 5, cause: 'hpa', markActive: true });
  t.like(decide(input({ current: 5, results: [redis(true, 40)], bounds: boundsOf({ maxReplicaCount: 8 }) })), { scaleTo: 8 });
  // Two triggers: the larger wins.
  t.like(decide(input({ current: 2, results: [redis(true, 2), { metricName: 's1-cron', type: 'cron', ok: true, active: true, replicas: 3 }] })), { scaleTo: 3 });
});

test('deactivation: back to min (or idle) only after cooldownPeriod since the last active poll', (t) => {
  const cooling = decide(input({ current: 3, lastActiveTime: 95_000 }));
  t.like(cooling.conditions[1], { type: 'Active', status: 'False', reason: 'ScalerCooldown' });
  // While cooling down the HPA still runs: metric 0 means hpa minimum 1.
  t.like(cooling, { scaleTo: 1, cause: 'hpa' });
  t.like(decide(input({ current: 1, lastActiveTime: 95_000 })), { scaleTo: undefined });
  t.like(decide(input({ current: 3, lastActiveTime: 80_000 })), { scaleTo: 0, cause: 'deactivate' });
  t.like(decide(input({ current: 3, lastActiveTime: 80_000, bounds: boundsOf({ minReplicaCount: 2, idleReplicaCount: 0, cooldownPeriod: 10 }) })), { scaleTo: 0, cause: 'deactivate' });
  // Never active: initialCooldownPeriod from creation.
  t.like(decide(input({ current: 3, createdAt: 99_000, bounds: boundsOf({ initialCooldownPeriod: 60 }) })), { cause: 'hpa' });
  t.like(decide(input({ current: 3, pauseScaleIn: true, lastActiveTime: 0 })), { scaleTo: undefined });
  // Below min without idle: up to min.
  t.like(decide(input({ current: 0, bounds: boundsOf({ minReplicaCount: 2 }) })), { scaleTo: 2, cause: 'min' });
});

test('a failing trigger: Ready False TriggerError, no scale; with another active, Ready Unknown and no scale down', (t) => {
  const d = decide(input({ current: 3, lastActiveTime: 0, results: [failing] }));
  t.is(d.scaleTo, undefined);
  t.like(d.conditions[0], { type: 'Ready', status: 'False', reason: 'TriggerError', message: 'Triggers defined in ScaledObject are not working correctly' });
  t.is(decide(input({ current: 0, results: [failing] })).scaleTo, undefined);
  const partial = decide(input({ current: 4, results: [failing, { metricName: 's1-cron', type: 'cron', ok: true, active: true, replicas: 1 }] }));
  t.like(partial.conditions[0], { status: 'Unknown', reason: 'PartialTriggerError' });
  t.is(partial.scaleTo, undefined);
});

test('fallback: past failureThreshold the fallback replicas apply', (t) => {
  const fallback = { failureThreshold: 2, replicas: 6 };
  t.like(decide(input({ current: 2, results: [failing], fallback, failures: { 's0-redis-jobs': 2 } })), { scaleTo: undefined, fallbackActive: false });
  const d = decide(input({ current: 2, results: [failing], fallback, failures: { 's0-redis-jobs': 3 } }));
  t.like(d, { scaleTo: 6, fallbackActive: true }); // up to 4 pods per 15 s from 2
  t.like(d.conditions[2], { type: 'Fallback', status: 'True', reason: 'FallbackExists' });
});

test('the next poll comes at the interval, or sooner when a window ends first', (t) => {
  const b = boundsOf({ pollingInterval: 30 });
  t.is(nextPollMs(b, 0, []), 30_000);
  t.is(nextPollMs(b, 0, [5_000, undefined, 60_000]), 5_000);
});
