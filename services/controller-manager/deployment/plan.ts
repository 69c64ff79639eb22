// Pure rollout arithmetic of the Deployment controller, following Kubernetes' deployment util:
// template hashing, surge/unavailable rounding, how far to scale the new and old ReplicaSets in
// a rolling update, revisions, and the status and conditions to report.
import type { Condition, Deployment, ReplicaSet, PodTemplateSpec } from '../../../shared/types.ts';

export const REVISION = 'deployment.kubernetes.io/revision';
export const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';
export const TEMPLATE_HASH = 'pod-template-hash';

const SAFE = 'bcdfghjklmnpqrstvwxz2456789';

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as object).sort().filter((k) => (v as any)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as any)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** FNV-1a over the canonical template (and collisionCount), encoded with Kubernetes' safe alphabet. */
export function templateHash(template: PodTemplateSpec, collisionCount = 0): string {
  const text = canonical(stripHash(template)) + (collisionCount ? String(collisionCount) : '');
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    h ^= byte;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return [...String(h)].map((ch) => SAFE[ch.charCodeAt(0) % SAFE.length]).join('');
}

/**
 * The template without its pod-template-hash label, and without nulls and empty maps: what "the
 * same template" compares. Clients differ in how they spell "nothing" (kubectl's rollback sends
 * `creationTimestamp: null` and `resources: {}`), and none of that is a different template.
 */
export function stripHash(template: PodTemplateSpec): PodTemplateSpec {
  const t = structuredClone(template);
  if (t.metadata?.labels) delete t.metadata.labels[TEMPLATE_HASH];
  return (withoutEmpties(t) ?? {}) as PodTemplateSpec;
}

function withoutEmpties(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (Array.isArray(v)) return v.map((x) => withoutEmpties(x) ?? {});
  if (typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    const cleaned = withoutEmpties(x);
    if (cleaned !== undefined) out[k] = cleaned;
  }
  return Object.keys(out).length ? out : undefined;
}

/** An int, or a percentage of total rounded up (surge) or down (unavailable). */
export function resolveIntOrPercent(value: number | string | undefined, total: number, roundUp: boolean, fallback: string): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export function surgeAndUnavailable(d: Deployment): { maxSurge: number; maxUnavailable: number } {
  const replicas = d.spec.replicas ?? 1;
  // Kubernetes counts no surge and no unavailability outside rolling updates (and for 0 replicas).
  if (d.spec.strategy?.type === 'Recreate' || replicas === 0) return { maxSurge: 0, maxUnavailable: 0 };
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const maxSurge = resolveIntOrPercent(ru.maxSurge, replicas, true, '25%');
  let maxUnavailable = resolveIntOrPercent(ru.maxUnavailable, replicas, false, '25%');
  // Both zero would deadlock a rollout; Kubernetes allows one unavailable then.
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable: Math.min(maxUnavailable, replicas) };
}

const specReplicas = (rs: ReplicaSet) => rs.spec.replicas ?? 0;
const available = (rs: ReplicaSet) => rs.status?.availableReplicas ?? 0;

/** Target size of the new ReplicaSet for a rolling update step. */
export function newReplicaSetTarget(d: Deployment, all: ReplicaSet[], newRS: ReplicaSet): number {
  const replicas = d.spec.replicas ?? 1;
  const current = specReplicas(newRS);
  if (current >= replicas) return replicas;
  const { maxSurge } = surgeAndUnavailable(d);
  const total = all.reduce((s, rs) => s + specReplicas(rs), 0);
  const room = replicas + maxSurge - total;
  if (room <= 0) return current;
  return current + Math.min(room, replicas - current);
}

/**
 * New sizes for old ReplicaSets in a rolling update step (name -> replicas): first the pods that
 * are not available anyway, then available ones, oldest ReplicaSets first, never dropping the
 * available total below replicas - maxUnavailable.
 */
export function oldReplicaSetTargets(d: Deployment, all: ReplicaSet[], olds: ReplicaSet[], newRS: ReplicaSet): Map<string, number> {
  const out = new Map<string, number>();
  const oldTotal = olds.reduce((s, rs) => s + specReplicas(rs), 0);
  if (oldTotal === 0) return out;
  const replicas = d.spec.replicas ?? 1;
  const { maxUnavailable } = surgeAndUnavailable(d);
  const minAvailable = replicas - maxUnavailable;
  const allTotal = all.reduce((s, rs) => s + specReplicas(rs), 0);
  const newUnavailable = specReplicas(newRS) - available(newRS);
  let budget = allTotal - minAvailable - newUnavailable;
  if (budget <= 0) return out;
  const sorted = [...olds].sort(byCreation);
  const sizes = new Map(sorted.map((rs) => [rs.metadata.name!, specReplicas(rs)]));
  // Unhealthy replicas first: removing them costs no availability.
  for (const rs of sorted) {
    if (budget <= 0) break;
    const size = sizes.get(rs.metadata.name!)!;
    const unhealthy = Math.max(0, size - available(rs));
    const cut = Math.min(unhealthy, budget);
    if (cut > 0) {
      sizes.set(rs.metadata.name!, size - cut);
      budget -= cut;
    }
  }
  // Then available ones, as far as availability allows.
  const availableTotal = all.reduce((s, rs) => s + available(rs), 0);
  let cuttable = Math.min(budget, availableTotal - minAvailable);
  for (const rs of sorted) {
    if (cuttable <= 0) break;
    const size = sizes.get(rs.metadata.name!)!;
    const cut = Math.min(size, cuttable);
    sizes.set(rs.metadata.name!, size - cut);
    cuttable -= cut;
  }
  for (const rs of sorted) if (sizes.get(rs.metadata.name!) !== specReplicas(rs)) out.set(rs.metadata.name!, sizes.get(rs.metadata.name!)!);
  return out;
}

export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const t = (rs: ReplicaSet) => Date.parse(rs.metadata.creationTimestamp ?? '') || 0;
  return t(a) - t(b) || (a.metadata.name! < b.metadata.name! ? -1 : 1);
}

export function revisionOf(rs: { metadata: { annotations?: Record<string, string> } }): number {
  return Number(rs.metadata.annotations?.[REVISION] ?? 0) || 0;
}

/**
 * Proportional scaling (Kubernetes' scale()): when a Deployment is resized mid-rollout, spread the
 * difference across the ReplicaSets that have replicas, in proportion to their size, so a rollout
 * in progress keeps its ratio. Returns name -> new replicas.
 */
export function proportionalScale(d: Deployment, active: ReplicaSet[]): Map<string, number> {
  const out = new Map<string, number>();
  const { maxSurge } = surgeAndUnavailable(d);
  const replicas = d.spec.replicas ?? 1;
  const allowed = replicas === 0 ? 0 : replicas + maxSurge;
  const total = active.reduce((s, rs) => s + specReplicas(rs), 0);
  const toAdd = allowed - total;
  if (toAdd === 0 || total === 0) return out;
  const sorted = [...active].sort((a, b) => (toAdd > 0 ? specReplicas(b) - specReplicas(a) || byCreation(b, a) : specReplicas(b) - specReplicas(a) || byCreation(a, b)));
  let added = 0;
  for (const rs of sorted) {
    const size = specReplicas(rs);
    // Each ReplicaSet's share, rounded to the nearest whole pod (Kubernetes' getProportion).
    const share = Math.round((size * toAdd) / total);
    const proportion = toAdd > 0 ? Math.min(share, toAdd - added) : Math.max(share, toAdd - added);
    out.set(rs.metadata.name!, size + proportion);
    added += proportion;
  }
  // Leftovers go to the largest ReplicaSet (the first after sorting).
  if (added !== toAdd && sorted.length) {
    const first = sorted[0].metadata.name!;
    out.set(first, Math.max(0, out.get(first)! + (toAdd - added)));
  }
  for (const rs of active) if (out.get(rs.metadata.name!) === specReplicas(rs)) out.delete(rs.metadata.name!);
  return out;
}

export interface DeploymentStatusInput {
  d: Deployment;
  all: ReplicaSet[];
  newRS?: ReplicaSet;
  nowIso: string;
  newRSCreated?: boolean;
}

function setCondition(conditions: Condition[], c: Condition): Condition[] {
  const existing = conditions.find((x) => x.type === c.type);
  const merged: Condition = { ...c };
  if (existing && existing.status === c.status) {
    merged.lastTransitionTime = existing.lastTransitionTime;
    if (existing.reason === c.reason && existing.message === c.message) merged.lastUpdateTime = existing.lastUpdateTime ?? c.lastUpdateTime;
  }
  const out = conditions.filter((x) => x.type !== c.type);
  out.push(merged);
  return out.sort((a, b) => (a.type === 'Available' ? -1 : b.type === 'Available' ? 1 : 0));
}

export function isComplete(d: Deployment, status: NonNullable<Deployment['status']>): boolean {
  const replicas = d.spec.replicas ?? 1;
  return (status.updatedReplicas ?? 0) === replicas && (status.replicas ?? 0) === replicas && (status.availableReplicas ?? 0) === replicas && (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 1);
}

/** The Deployment's status and conditions, as Kubernetes computes them (syncRolloutStatus). */
export function calculateStatus({ d, all, newRS, nowIso, newRSCreated }: DeploymentStatusInput): NonNullable<Deployment['status']> {
  const replicas = d.spec.replicas ?? 1;
  const sum = (f: (rs: ReplicaSet) => number) => all.reduce((s, rs) => s + f(rs), 0);
  const status: NonNullable<Deployment['status']> = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: sum((rs) => rs.status?.replicas ?? 0),
    updatedReplicas: newRS?.status?.replicas ?? 0,
    readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
    availableReplicas: sum((rs) => rs.status?.availableReplicas ?? 0),
  };
  const specTotal = all.reduce((s, rs) => s + (rs.spec.replicas ?? 0), 0);
  status.unavailableReplicas = Math.max(0, specTotal - (status.availableReplicas ?? 0));
  if (d.status?.collisionCount) status.collisionCount = d.status.collisionCount;
  const { maxUnavailable } = surgeAndUnavailable(d);
  let conditions = [...(d.status?.conditions ?? [])];
  const minAvailable = (status.availableReplicas ?? 0) >= replicas - maxUnavailable;
  conditions = setCondition(conditions, minAvailable
    ? { type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable', message: 'Deployment has minimum availability.', lastUpdateTime: nowIso, lastTransitionTime: nowIso }
    : { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable', message: 'Deployment does not have minimum availability.', lastUpdateTime: nowIso, lastTransitionTime: nowIso });

  const rsName = newRS?.metadata.name ?? '';
  const previous = conditions.find((c) => c.type === 'Progressing');
  const progressing = (reason: string, message: string, s: Condition['status'] = 'True'): Condition => ({ type: 'Progressing', status: s, reason, message, lastUpdateTime: nowIso, lastTransitionTime: nowIso });
  if (d.spec.paused) {
    conditions = setCondition(conditions, progressing('DeploymentPaused', 'Deployment is paused', 'Unknown'));
  } else if (isComplete(d, status)) {
    conditions = setCondition(conditions, progressing('NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`));
  } else if (newRSCreated) {
    conditions = setCondition(conditions, progressing('NewReplicaSetCreated', `Created new replica set "${rsName}"`));
  } else if (previous?.reason === 'DeploymentPaused') {
    conditions = setCondition(conditions, progressing('DeploymentResumed', 'Deployment is resumed', 'Unknown'));
  } else {
    const prev = d.status ?? {};
    const madeProgress = (status.updatedReplicas ?? 0) !== (prev.updatedReplicas ?? 0) || (status.availableReplicas ?? 0) > (prev.availableReplicas ?? 0) || (status.replicas ?? 0) !== (prev.replicas ?? 0) || (status.readyReplicas ?? 0) > (prev.readyReplicas ?? 0);
    const deadline = d.spec.progressDeadlineSeconds;
    const since = Date.parse(previous?.lastUpdateTime ?? previous?.lastTransitionTime ?? nowIso);
    if (madeProgress || !previous) {
      conditions = setCondition(conditions, { ...progressing('ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`), lastUpdateTime: nowIso });
      // progress always refreshes lastUpdateTime, even with an unchanged reason
      conditions = conditions.map((c) => (c.type === 'Progressing' ? { ...c, lastUpdateTime: nowIso } : c));
    } else if (previous.reason !== 'ProgressDeadlineExceeded' && previous.reason !== 'NewReplicaSetAvailable' && deadline !== undefined && deadline !== 2147483647 && Date.parse(nowIso) - since > deadline * 1000) {
      conditions = setCondition(conditions, progressing('ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`, 'False'));
    }
  }
  // The ReplicaSets' failures to create or delete pods, the new one's first (getReplicaFailures).
  const failure = [newRS, ...all].flatMap((rs) => rs?.status?.conditions ?? []).find((c) => c.type === 'ReplicaFailure');
  conditions = failure
    ? setCondition(conditions, { type: 'ReplicaFailure', status: failure.status, lastUpdateTime: failure.lastTransitionTime, lastTransitionTime: failure.lastTransitionTime, reason: failure.reason, message: failure.message })
    : conditions.filter((c) => c.type !== 'ReplicaFailure');
  status.conditions = conditions;
  return status;
}

/** Milliseconds until the progress deadline would pass, if the rollout is still underway. */
export function msUntilDeadline(d: Deployment, nowMs: number): number | undefined {
  const deadline = d.spec.progressDeadlineSeconds;
  if (deadline === undefined || deadline === 2147483647 || d.spec.paused) return undefined;
  const c = (d.status?.conditions ?? []).find((x) => x.type === 'Progressing');
  if (!c || c.status !== 'True' || c.reason === 'NewReplicaSetAvailable') return undefined;
  const since = Date.parse(c.lastUpdateTime ?? c.lastTransitionTime ?? '');
  if (!since) return undefined;
  return Math.max(100, since + deadline * 1000 - nowMs + 100);
}
