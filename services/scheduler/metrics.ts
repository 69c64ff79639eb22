// kube-scheduler's own metrics (pkg/scheduler/metrics), under its names and labels: every attempt
// to schedule a pod counted and timed by result — scheduled, unschedulable (no node fits), error
// (the scheduler's own failure) — for the one profile Wharf runs.
import { Counter, Histogram } from 'prom-client';

export type AttemptResult = 'scheduled' | 'unschedulable' | 'error';

export const scheduleAttempts = new Counter({
  name: 'scheduler_schedule_attempts_total',
  help: "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem.",
  labelNames: ['result', 'profile'] as const,
});

export const schedulingAttemptDuration = new Histogram({
  name: 'scheduler_scheduling_attempt_duration_seconds',
  help: 'Scheduling attempt latency in seconds (scheduling algorithm + binding)',
  labelNames: ['result', 'profile'] as const,
  buckets: Array.from({ length: 15 }, (_, i) => 0.001 * 2 ** i), // ExponentialBuckets(0.001, 2, 15)
});

/** Counts and times one attempt of the profile (the scheduler name) that began at startedMs (performance.now()). */
export function observeAttempt(profile: string, result: AttemptResult, startedMs: number, now = performance.now()): void {
  const labels = { result, profile };
  scheduleAttempts.inc(labels);
  schedulingAttemptDuration.observe(labels, Math.max(0, now - startedMs) / 1000);
}
