// Pure decisions of the ReplicaSet controller: which pods count, which to delete first, and the
// status to report. No I/O here, so every rule has a unit test.
import type { Condition, Pod, ReplicaSet } from '../../../shared/types.ts';
import { isPodAvailable, isPodReady } from '../../../shared/api/podutil.ts';
import { selectorMatches } from '../../../shared/api/selectors.ts';

/** Pods that count towards replicas: not finished and not on their way out. */
export function activePods(pods: Pod[]): Pod[] {
  return pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed' && !p.metadata.deletionTimestamp);
}

const PHASE_RANK: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function restarts(p: Pod): number {
  return Math.max(0, ...(p.status?.containerStatuses ?? []).map((c) => c.restartCount ?? 0));
}

function readySince(p: Pod): number {
  const c = (p.status?.conditions ?? []).find((x) => x.type === 'Ready' && x.status === 'True');
  return c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : 0;
}

/**
 * Orders pods so the cheapest to lose come first, as Kubernetes' ActivePods ranking does:
 * unscheduled before scheduled, pending before running, not ready before ready, ready for less
 * time before longer, more restarts before fewer, newer before older.
 */
export function deletionOrder(a: Pod, b: Pod): number {
  const scheduled = (p: Pod) => (p.spec.nodeName ? 1 : 0);
  if (scheduled(a) !== scheduled(b)) return scheduled(a) - scheduled(b);
  const phase = (p: Pod) => PHASE_RANK[p.status?.phase ?? 'Pending'] ?? 0;
  if (phase(a) !== phase(b)) return phase(a) - phase(b);
  const ready = (p: Pod) => (isPodReady(p) ? 1 : 0);
  if (ready(a) !== ready(b)) return ready(a) - ready(b);
  // controller.kubernetes.io/pod-deletion-cost: cheaper pods go first.
  const cost = (p: Pod) => Number(p.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0) || 0;
  if (cost(a) !== cost(b)) return cost(a) - cost(b);
  if (ready(a) && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
  if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
  const created = (p: Pod) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;
  return created(b) - created(a);
}

export function podsToDelete(active: Pod[], count: number): Pod[] {
  return [...active].sort(deletionOrder).slice(0, Math.max(0, count));
}

export interface ReplicaSetStatus {
  replicas: number;
  fullyLabeledReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  observedGeneration: number;
  /** Absent when empty (omitempty): only ReplicaFailure is ever set. */
  conditions?: Condition[];
}

/** Why this reconcile could not create or delete the pods it wanted: the message of the first error. */
export interface ManageReplicasError {
  /** Whether the ReplicaSet had fewer pods than it wants (FailedCreate) or more (FailedDelete). */
  diff: number;
  message: string;
}

/**
 * The status a reconcile reports, as Kubernetes' calculateStatus: the counts, and a ReplicaFailure
 * condition set when creating or deleting pods failed (kept as first written while failures go on)
 * and removed once a reconcile manages its pods without error.
 */
export function calculateStatus(rs: ReplicaSet, active: Pod[], nowMs = Date.now(), failure?: ManageReplicasError): ReplicaSetStatus {
  const templateLabels = rs.spec.template.metadata?.labels ?? {};
  const minReady = rs.spec.minReadySeconds ?? 0;
  const status: ReplicaSetStatus = {
    replicas: active.length,
    fullyLabeledReplicas: active.filter((p) => selectorMatches({ matchLabels: templateLabels }, p.metadata.labels)).length,
    readyReplicas: active.filter(isPodReady).length,
    availableReplicas: active.filter((p) => isPodAvailable(p, minReady, nowMs)).length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  let conditions = [...(rs.status?.conditions ?? [])];
  const existing = conditions.find((c) => c.type === 'ReplicaFailure');
  if (failure && !existing) {
    const reason = failure.diff < 0 ? 'FailedCreate' : failure.diff > 0 ? 'FailedDelete' : '';
    conditions.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: new Date(nowMs).toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(reason ? { reason } : {}), message: failure.message });
  } else if (!failure && existing) {
    conditions = conditions.filter((c) => c.type !== 'ReplicaFailure');
  }
  if (conditions.length) status.conditions = conditions;
  return status;
}

/**
 * When a ready pod becomes available only after minReadySeconds, the controller must look again
 * then: the delay until the soonest such pod turns available, or undefined.
 */
export function nextAvailabilityCheckMs(rs: ReplicaSet, active: Pod[], nowMs = Date.now()): number | undefined {
  const minReady = rs.spec.minReadySeconds ?? 0;
  if (!minReady) return undefined;
  let soonest: number | undefined;
  for (const p of active) {
    if (!isPodReady(p) || isPodAvailable(p, minReady, nowMs)) continue;
    const due = readySince(p) + minReady * 1000 - nowMs;
    soonest = soonest === undefined ? due : Math.min(soonest, due);
  }
  return soonest === undefined ? undefined : Math.max(100, soonest + 50);
}

/** Slow-start batch sizes for creating `count` objects: 1, 2, 4, ... (Kubernetes' slowStartBatch). */
export function slowStartBatches(count: number, initial = 1): number[] {
  const out: number[] = [];
  let remaining = count;
  let size = Math.min(initial, remaining);
  while (remaining > 0) {
    out.push(size);
    remaining -= size;
    size = Math.min(size * 2, remaining);
  }
  return out;
}
