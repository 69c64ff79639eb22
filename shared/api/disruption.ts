// PodDisruptionBudgets as both the eviction subresource (API server) and the disruption controller
// read them: which pods a budget covers, and whether it lets one of them go now (Kubernetes'
// pkg/registry/core/pod/storage/eviction.go).
import type { KubeObject, Pod } from '../types.ts';
import { isPodReady, isPodTerminal } from './podutil.ts';
import { selectorMatches } from './selectors.ts';

/** A budget's selector picks pods in its namespace; an empty selector picks all of them, a missing one none. */
export function pdbSelects(pdb: KubeObject, pod: Pod): boolean {
  if (!pdb.spec?.selector || pod.metadata.namespace !== pdb.metadata.namespace) return false;
  return selectorMatches(pdb.spec.selector, pod.metadata.labels ?? {});
}

export type EvictionVerdict =
  | { allow: true; decrement: boolean }
  | { allow: false; code: 429 | 403; message: string; cause?: { reason: string; message: string } };

export const VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget.";

/** Whether one budget lets this pod go, and whether it spends one of its allowed disruptions (Kubernetes' eviction REST). */
export function evictionVerdict(pdb: KubeObject, pod: Pod): EvictionVerdict {
  if (pod.status?.phase !== 'Running' || isPodTerminal(pod)) return { allow: true, decrement: false };
  const status = pdb.status ?? {};
  if (!isPodReady(pod)) {
    if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return { allow: true, decrement: false };
    if (status.observedGeneration === pdb.metadata.generation && (status.currentHealthy ?? 0) >= (status.desiredHealthy ?? 0) && (status.desiredHealthy ?? 0) > 0) return { allow: true, decrement: false };
  }
  if ((status.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) {
    return { allow: false, code: 429, message: VIOLATES_BUDGET, cause: { reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} is still being processed by the server.` } };
  }
  const allowed = status.disruptionsAllowed ?? 0;
  if (allowed < 0) return { allow: false, code: 403, message: 'pdb disruptions allowed is negative' };
  if (Object.keys(status.disruptedPods ?? {}).length > 2000) return { allow: false, code: 403, message: 'DisruptedPods map too big - too many evictions not confirmed by PDB controller' };
  if (allowed === 0) {
    return {
      allow: false,
      code: 429,
      message: VIOLATES_BUDGET,
      cause: { reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${status.desiredHealthy ?? 0} healthy pods and has ${status.currentHealthy ?? 0} currently` },
    };
  }
  return { allow: true, decrement: true };
}
