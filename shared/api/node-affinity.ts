// Whether a node satisfies a pod's nodeSelector and required node affinity, the one rule the
// scheduler's NodeAffinity filter and the DaemonSet controller both apply (Kubernetes keeps it in
// component-helpers/scheduling/corev1/nodeaffinity for the same reason).
import type { KubeObject, PodSpec } from '../types.ts';
import { matchesRequirements, type LabelRequirement } from './selectors.ts';

export function nodeSelectorTermMatches(term: any, labels: Record<string, string> | undefined, nodeName: string): boolean {
  // An empty term selects no node (Kubernetes' NodeSelectorTerm semantics).
  if (!(term.matchExpressions ?? []).length && !(term.matchFields ?? []).length) return false;
  const reqs: LabelRequirement[] = [];
  for (const e of term.matchExpressions ?? []) {
    if (e.operator === 'In' || e.operator === 'NotIn') reqs.push({ key: e.key, op: e.operator, values: e.values ?? [] });
    else if (e.operator === 'Exists' || e.operator === 'DoesNotExist') reqs.push({ key: e.key, op: e.operator });
    else if (e.operator === 'Gt' || e.operator === 'Lt') {
      const v = Number(labels?.[e.key]);
      const bound = Number(e.values?.[0]);
      if (!Number.isFinite(v) || (e.operator === 'Gt' ? !(v > bound) : !(v < bound))) return false;
    }
  }
  for (const f of term.matchFields ?? []) {
    if (f.key !== 'metadata.name') return false;
    const has = (f.values ?? []).includes(nodeName);
    if ((f.operator === 'In' && !has) || (f.operator === 'NotIn' && has)) return false;
  }
  return matchesRequirements(labels, reqs);
}

/** nodeSelector (every pair) and requiredDuringSchedulingIgnoredDuringExecution (any term) both hold on this node. */
export function requiredNodeAffinityMatches(spec: PodSpec, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) {
    if (labels[k] !== v) return false;
  }
  const terms = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  return !terms.length || terms.some((t: any) => nodeSelectorTermMatches(t, labels, node.metadata.name!));
}
