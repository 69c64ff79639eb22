// Pure decisions of the Job controller (batch/v1): how many pods to run, when the Job has
// succeeded or failed (backoffLimit, activeDeadlineSeconds), and the status to report.
import type { Condition, KubeObject, Pod } from '../../../shared/types.ts';

export interface JobSpec {
  completions?: number | null;
  parallelism?: number;
  backoffLimit?: number;
  activeDeadlineSeconds?: number;
  ttlSecondsAfterFinished?: number;
  suspend?: boolean;
  template: { spec: { restartPolicy?: string } };
}

export type Job = KubeObject & { spec: JobSpec };

export interface JobCounts {
  active: Pod[];
  succeeded: number;
  failed: number;
  ready: number;
}

function restarts(p: Pod): number {
  return (p.status?.containerStatuses ?? []).reduce((s, c) => s + (c.restartCount ?? 0), 0);
}

export function countPods(pods: Pod[]): JobCounts {
  const active = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata.deletionTimestamp);
  return {
    active,
    succeeded: pods.filter((p) => p.status?.phase === 'Succeeded').length,
    failed: pods.filter((p) => p.status?.phase === 'Failed').length,
    ready: active.filter((p) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length,
  };
}

export function finishedCondition(job: Job): Condition | undefined {
  return (job.status?.conditions ?? []).find((c: Condition) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

export type JobDecision =
  | { kind: 'finished' }
  | { kind: 'complete' }
  | { kind: 'fail'; reason: 'BackoffLimitExceeded' | 'DeadlineExceeded'; message: string }
  | { kind: 'run'; create: number; remove: number };

/**
 * What the Job needs now. With restartPolicy OnFailure a pod's container restarts count towards
 * backoffLimit, as in Kubernetes; with Never, each failed pod does.
 */
export function decide(job: Job, pods: Pod[], nowMs: number): JobDecision {
  if (finishedCondition(job)) return { kind: 'finished' };
  const counts = countPods(pods);
  const completions = job.spec.completions ?? 1;
  const parallelism = job.spec.parallelism ?? 1;
  if (counts.succeeded >= completions) return { kind: 'complete' };
  const backoffLimit = job.spec.backoffLimit ?? 6;
  const failures = counts.failed + (job.spec.template.spec.restartPolicy === 'OnFailure' ? counts.active.reduce((s, p) => s + restarts(p), 0) : 0);
  if (failures > backoffLimit) return { kind: 'fail', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
  const start = Date.parse(job.status?.startTime ?? '');
  if (job.spec.activeDeadlineSeconds !== undefined && start && nowMs - start >= job.spec.activeDeadlineSeconds * 1000) {
    return { kind: 'fail', reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
  }
  const wanted = job.spec.suspend ? 0 : Math.max(0, Math.min(parallelism, completions - counts.succeeded));
  const diff = wanted - counts.active.length;
  return { kind: 'run', create: Math.max(0, diff), remove: Math.max(0, -diff) };
}

export function condition(type: 'Complete' | 'Failed', nowIso: string, reason?: string, message?: string): Condition {
  return { type, status: 'True', lastProbeTime: nowIso, lastTransitionTime: nowIso, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
}

/** How long until a finished Job's TTL runs out (0: now), or undefined when it has none. */
export function ttlRemainingMs(job: Job, nowMs: number): number | undefined {
  const ttl = job.spec.ttlSecondsAfterFinished;
  const finished = finishedCondition(job);
  if (ttl === undefined || !finished) return undefined;
  const at = Date.parse(job.status?.completionTime ?? finished.lastTransitionTime ?? '');
  return Math.max(0, at + ttl * 1000 - nowMs);
}
