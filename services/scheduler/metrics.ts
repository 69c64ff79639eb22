// kube-scheduler's own metrics (pkg/scheduler/metrics), under its names and labels: every attempt
// to schedule a pod counted and timed by result — scheduled, unschedulable (no node fits), error
// (the scheduler's own failure) — for the one profile Wharf runs.
import { Counter, Histogram } from 'prom-client';
import { threadCpuSeconds } from '../../shared/thread-cpu.ts';

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

/**
 * Wharf's own: the main thread's CPU by what it did, to tell more work from dearer work when
 * schedulers are added (bench/scheduling.ts reads it). decide: the fast path's filters, scores
 * and assumes; bind: preparing and sending its binds; follow: applying the placements the view
 * brings (the others' and its own) to the cache.
 */
export const schedulerCpu = new Counter({
  name: 'wharf_scheduler_cpu_seconds_total',
  help: "CPU seconds of the scheduler's main thread by phase (decide, bind, follow), with the count of pods or placements in wharf_scheduler_cpu_items_total.",
  labelNames: ['phase'] as const,
});

export const schedulerCpuItems = new Counter({
  name: 'wharf_scheduler_cpu_items_total',
  help: 'Pods decided or bound, or placements followed, by phase (see wharf_scheduler_cpu_seconds_total).',
  labelNames: ['phase'] as const,
});

/** With the decide phase's pods, the pods a burst brings: the fewer, the more each pays of a burst's fixed costs. */
export const schedulerBursts = new Counter({
  name: 'wharf_scheduler_bursts_total',
  help: 'Bursts of new pods decided on the fast path (wharf_scheduler_cpu_items_total{phase="decide"} over this: pods a burst).',
});

export type CpuPhase = 'decide' | 'bind' | 'follow';

/** Runs fn (synchronous) and counts the thread CPU it took against the phase, for items pods or placements. */
export function inCpuPhase<T>(phase: CpuPhase, items: number, fn: () => T): T {
  const started = threadCpuSeconds();
  try {
    return fn();
  } finally {
    if (started !== undefined) {
      schedulerCpu.inc({ phase }, Math.max(0, threadCpuSeconds()! - started));
      schedulerCpuItems.inc({ phase }, items);
    }
  }
}
