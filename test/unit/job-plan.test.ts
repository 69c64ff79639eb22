import test from 'ava';
import { decide, ttlRemainingMs, type Job } from '../../services/controller-manager/job/plan.ts';
import { scheduleTimes } from '../../services/controller-manager/cronjob/controller.ts';
import type { Pod } from '../../shared/types.ts';

const job = (spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): Job => ({
  apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { restartPolicy: 'Never' } }, ...spec }, status,
} as Job);
const pod = (phase: string, restarts = 0): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [] }, status: { phase: phase as any, containerStatuses: [{ name: 'c', restartCount: restarts, ready: false, image: '', state: {} }] },
});

test('runs up to parallelism pods, never more than the completions left', (t) => {
  t.deepEqual(decide(job({ completions: 5, parallelism: 2 }), [], 0), { kind: 'run', create: 2, remove: 0 });
  t.deepEqual(decide(job({ completions: 5, parallelism: 2 }), [pod('Succeeded'), pod('Succeeded'), pod('Succeeded'), pod('Succeeded'), pod('Running')], 0), { kind: 'run', create: 0, remove: 0 });
  t.deepEqual(decide(job({ completions: 5, parallelism: 3 }), [pod('Succeeded'), pod('Succeeded'), pod('Succeeded'), pod('Succeeded')], 0), { kind: 'run', create: 1, remove: 0 });
  t.deepEqual(decide(job({ suspend: true }), [pod('Running')], 0), { kind: 'run', create: 0, remove: 1 });
});

test('completes when enough pods succeeded; fails past backoffLimit or the deadline', (t) => {
  t.is(decide(job({ completions: 2 }), [pod('Succeeded'), pod('Succeeded')], 0).kind, 'complete');
  t.like(decide(job({ backoffLimit: 1 }), [pod('Failed'), pod('Failed')], 0), { kind: 'fail', reason: 'BackoffLimitExceeded' });
  t.is(decide(job({ backoffLimit: 1 }), [pod('Failed')], 0).kind, 'run');
  // OnFailure: restarts count as failures.
  const onFailure = job({ backoffLimit: 2, template: { spec: { restartPolicy: 'OnFailure' } } });
  t.like(decide(onFailure, [pod('Running', 3)], 0), { kind: 'fail', reason: 'BackoffLimitExceeded' });
  const started = job({ activeDeadlineSeconds: 10 }, { startTime: '2026-01-01T00:00:00Z' });
  t.is(decide(started, [pod('Running')], Date.parse('2026-01-01T00:00:09Z')).kind, 'run');
  t.like(decide(started, [pod('Running')], Date.parse('2026-01-01T00:00:10Z')), { kind: 'fail', reason: 'DeadlineExceeded' });
});

test('a finished Job stays finished; its TTL counts from completion', (t) => {
  const done = job({ ttlSecondsAfterFinished: 60 }, { completionTime: '2026-01-01T00:00:00Z', conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] });
  t.is(decide(done, [], 0).kind, 'finished');
  t.is(ttlRemainingMs(done, Date.parse('2026-01-01T00:00:30Z')), 30_000);
  t.is(ttlRemainingMs(done, Date.parse('2026-01-01T00:02:00Z')), 0);
  t.is(ttlRemainingMs(job(), 0), undefined);
});

test('cron schedule: the run due since the last one, and the next', (t) => {
  const nowMs = Date.parse('2026-01-01T10:07:30Z');
  const r = scheduleTimes('*/5 * * * *', 'UTC', Date.parse('2026-01-01T10:00:00Z'), nowMs);
  t.is(new Date(r.due!).toISOString(), '2026-01-01T10:05:00.000Z');
  t.is(new Date(r.next).toISOString(), '2026-01-01T10:10:00.000Z');
  t.is(scheduleTimes('*/5 * * * *', 'UTC', Date.parse('2026-01-01T10:05:00Z'), nowMs).due, undefined, 'already ran');
  t.throws(() => scheduleTimes('not a schedule', 'UTC', 0, nowMs));
});
