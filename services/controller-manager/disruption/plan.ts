// The disruption controller's arithmetic, pure: from a PodDisruptionBudget, the pods it selects and
// their controllers' scale, the status that says how many voluntary disruptions are allowed now.
// (Kubernetes pkg/controller/disruption: getExpectedPodCount, countHealthyPods, updatePdbStatus.)
import type { KubeObject, Pod } from '../../../shared/types.ts';
import { isPodReady, isPodTerminal } from '../../../shared/api/podutil.ts';

/** How long an evicted pod that has not started terminating is still counted as disrupted. */
export const DELETION_TIMEOUT_MS = 2 * 60 * 1000;

/** An int-or-percent against a total: "50%" of 5 is 3, rounded up as intstr.GetScaledValueFromIntOrPercent(…, true). */
export function scaledValue(v: number | string, total: number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number.NaN;
  return Math.ceil((Number(m[1]) * total) / 100);
}

export interface BudgetCounts {
  expectedPods: number;
  desiredHealthy: number;
}

/**
 * Expected and desired healthy pods. An integer minAvailable counts the pods themselves; a
 * percentage or maxUnavailable counts what the pods' controllers want (their spec.replicas, a
 * pod without a known controller counting for itself).
 */
export function budgetCounts(pdb: KubeObject, pods: Pod[], replicasOf: (ownerKind: string, ownerName: string) => number | undefined): BudgetCounts {
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  const byScale = (): number => {
    const owners = new Map<string, number>();
    let loose = 0;
    for (const p of pods) {
      const ref = (p.metadata.ownerReferences ?? []).find((o) => o.controller);
      const replicas = ref ? replicasOf(ref.kind, ref.name) : undefined;
      if (ref && replicas !== undefined) owners.set(`${ref.kind}/${ref.name}`, replicas);
      else loose++;
    }
    return [...owners.values()].reduce((a, b) => a + b, loose);
  };
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const expectedPods = byScale();
    return { expectedPods, desiredHealthy: Math.max(0, expectedPods - scaledValue(maxUnavailable, expectedPods)) };
  }
  if (typeof minAvailable === 'string') {
    const expectedPods = byScale();
    return { expectedPods, desiredHealthy: scaledValue(minAvailable, expectedPods) };
  }
  return { expectedPods: pods.length, desiredHealthy: typeof minAvailable === 'number' ? minAvailable : 0 };
}

export interface PdbStatus {
  observedGeneration: number;
  disruptedPods?: Record<string, string>;
  disruptionsAllowed: number;
  currentHealthy: number;
  desiredHealthy: number;
  expectedPods: number;
  conditions: { type: string; status: string; reason: string; message: string; observedGeneration: number; lastTransitionTime: string }[];
}

/**
 * The budget's status now, and when it should be computed again (the oldest disrupted-pod entry
 * expiring), or undefined. Pods being deleted, terminal pods and recently evicted pods are not healthy.
 */
export function computeStatus(pdb: KubeObject, pods: Pod[], replicasOf: (kind: string, name: string) => number | undefined, nowMs: number): { status: PdbStatus; recheckAfterMs?: number } {
  const live = pods.filter((p) => !isPodTerminal(p));
  const byName = new Map(live.map((p) => [p.metadata.name!, p]));
  const disruptedPods: Record<string, string> = {};
  let recheckAfterMs: number | undefined;
  for (const [name, ts] of Object.entries<string>(pdb.status?.disruptedPods ?? {})) {
    const pod = byName.get(name);
    if (!pod || pod.metadata.deletionTimestamp) continue;
    const expiresIn = Date.parse(ts) + DELETION_TIMEOUT_MS - nowMs;
    if (expiresIn <= 0) continue;
    disruptedPods[name] = ts;
    recheckAfterMs = Math.min(recheckAfterMs ?? expiresIn, expiresIn);
  }
  const currentHealthy = live.filter((p) => !p.metadata.deletionTimestamp && !disruptedPods[p.metadata.name!] && isPodReady(p)).length;
  const { expectedPods, desiredHealthy } = budgetCounts(pdb, live, replicasOf);
  const disruptionsAllowed = expectedPods > 0 ? Math.max(0, currentHealthy - desiredHealthy) : 0;
  const generation = pdb.metadata.generation ?? 1;
  const allowed = disruptionsAllowed > 0;
  const old = (pdb.status?.conditions ?? []).find((c: any) => c.type === 'DisruptionAllowed');
  const conditionStatus = allowed ? 'True' : 'False';
  const condition = {
    type: 'DisruptionAllowed',
    status: conditionStatus,
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
    message: '',
    observedGeneration: generation,
    lastTransitionTime: old?.status === conditionStatus && old.lastTransitionTime ? old.lastTransitionTime : new Date(nowMs).toISOString().replace(/\.\d+Z$/, 'Z'),
  };
  const status: PdbStatus = { observedGeneration: generation, disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods, conditions: [condition] };
  if (Object.keys(disruptedPods).length) status.disruptedPods = disruptedPods;
  return { status, recheckAfterMs };
}
