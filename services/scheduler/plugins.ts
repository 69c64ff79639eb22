// Scheduling as small pure plugins over a snapshot, as kube-scheduler's framework: each filter
// says whether a pod fits a node (and why not), each scorer ranks the nodes that fit.
import type { Node, Pod, Taint, Toleration } from '../../shared/types.ts';
import { podRequests } from '../../shared/api/podutil.ts';
import { matchesRequirements, type LabelRequirement } from '../../shared/api/selectors.ts';

export interface NodeInfo {
  node: Node;
  allocatable: { cpuMillis: number; memoryBytes: number; pods: number };
  used: { cpuMillis: number; memoryBytes: number; pods: number };
}

export type FilterResult = { fits: true } | { fits: false; reason: string; reasons: string[] };

function unfit(...reasons: string[]): FilterResult {
  return { fits: false, reason: reasons.join(', '), reasons };
}

export interface FilterPlugin {
  name: string;
  filter(pod: Pod, info: NodeInfo): FilterResult;
}

export interface ScorePlugin {
  name: string;
  weight: number;
  /** 0..100, higher is better. */
  score(pod: Pod, info: NodeInfo): number;
}

const FITS: FilterResult = { fits: true };

export function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
  });
}

export const nodeReady: FilterPlugin = {
  name: 'NodeReady',
  filter(pod, { node }) {
    const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
    if (ready?.status === 'True') return FITS;
    // A node that is not ready is tainted as such; pods that tolerate the taint may still go there.
    const key = ready?.status === 'Unknown' ? 'node.kubernetes.io/unreachable' : 'node.kubernetes.io/not-ready';
    return tolerates(pod.spec.tolerations, { key, effect: 'NoSchedule' }) ? FITS : unfit(`node(s) had untolerated taint {${key}: }`);
  },
};

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(pod, { node }) {
    if (!node.spec?.unschedulable) return FITS;
    const taint: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
    return tolerates(pod.spec.tolerations, taint) ? FITS : unfit('node(s) were unschedulable');
  },
};

export const taintToleration: FilterPlugin = {
  name: 'TaintToleration',
  filter(pod, { node }) {
    for (const taint of node.spec?.taints ?? []) {
      if (taint.effect === 'PreferNoSchedule') continue;
      if (!tolerates(pod.spec.tolerations, taint)) {
        return unfit(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
      }
    }
    return FITS;
  },
};

function nodeSelectorTermMatches(term: any, labels: Record<string, string> | undefined, nodeName: string): boolean {
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

export const nodeAffinity: FilterPlugin = {
  name: 'NodeAffinity',
  filter(pod, { node }) {
    const labels = node.metadata.labels ?? {};
    for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) {
      if (labels[k] !== v) return unfit("node(s) didn't match Pod's node affinity/selector");
    }
    const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    const terms = required?.nodeSelectorTerms ?? [];
    if (terms.length && !terms.some((t: any) => nodeSelectorTermMatches(t, labels, node.metadata.name!))) {
      return unfit("node(s) didn't match Pod's node affinity/selector");
    }
    return FITS;
  },
};

export const nodeResourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter(pod, { allocatable, used }) {
    const req = podRequests(pod);
    // Every shortage is reported, and only the resources the pod asks for are checked.
    const reasons: string[] = [];
    if (used.pods + 1 > allocatable.pods) reasons.push('Too many pods');
    if (req.cpuMillis > 0 && used.cpuMillis + req.cpuMillis > allocatable.cpuMillis) reasons.push('Insufficient cpu');
    if (req.memoryBytes > 0 && used.memoryBytes + req.memoryBytes > allocatable.memoryBytes) reasons.push('Insufficient memory');
    return reasons.length ? unfit(...reasons) : FITS;
  },
};

export const nodeName: FilterPlugin = {
  name: 'NodeName',
  filter(pod, { node }) {
    const wanted = pod.spec.nodeName;
    return !wanted || wanted === node.metadata.name ? FITS : unfit("node(s) didn't match the requested node name");
  },
};

/** LeastAllocated: prefer the node with the most room left after placing the pod. */
export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  weight: 1,
  score(pod, { allocatable, used }) {
    const req = podRequests(pod);
    const free = (cap: number, u: number, r: number) => (cap <= 0 ? 0 : Math.max(0, ((cap - u - r) * 100) / cap));
    // Pods that request nothing still spread by pod count.
    const cpu = free(allocatable.cpuMillis, used.cpuMillis, req.cpuMillis);
    const mem = free(allocatable.memoryBytes, used.memoryBytes, req.memoryBytes);
    const pods = free(allocatable.pods, used.pods, 1);
    return (cpu + mem + pods) / 3;
  },
};

/** PreferNoSchedule taints count against a node. */
export const taintPreference: ScorePlugin = {
  name: 'TaintToleration',
  weight: 1,
  score(pod, { node }) {
    const intolerable = (node.spec?.taints ?? []).filter((t) => t.effect === 'PreferNoSchedule' && !tolerates(pod.spec.tolerations, t)).length;
    return Math.max(0, 100 - intolerable * 50);
  },
};

export const DEFAULT_FILTERS: FilterPlugin[] = [nodeName, nodeUnschedulable, nodeReady, taintToleration, nodeAffinity, nodeResourcesFit];
export const DEFAULT_SCORERS: ScorePlugin[] = [leastAllocated, taintPreference];

export interface ScheduleDecision {
  /** Feasible nodes, best first. */
  ranked: string[];
  /** For "0/N nodes are available: ..." when nothing fits. */
  reasons: Map<string, number>;
  total: number;
}

export function decide(pod: Pod, nodes: NodeInfo[], filters = DEFAULT_FILTERS, scorers = DEFAULT_SCORERS, random = Math.random): ScheduleDecision {
  const reasons = new Map<string, number>();
  const scored: { name: string; score: number; tie: number }[] = [];
  for (const info of nodes) {
    let failed: string[] | undefined;
    for (const f of filters) {
      const r = f.filter(pod, info);
      if (!r.fits) {
        failed = r.reasons;
        break;
      }
    }
    if (failed) {
      for (const reason of failed) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      continue;
    }
    const score = scorers.reduce((s, p) => s + p.weight * p.score(pod, info), 0);
    scored.push({ name: info.node.metadata.name!, score, tie: random() });
  }
  scored.sort((a, b) => b.score - a.score || a.tie - b.tie);
  return { ranked: scored.map((s) => s.name), reasons, total: nodes.length };
}

/** Kubernetes' message: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable." */
export function unschedulableMessage(d: ScheduleDecision): string {
  if (d.total === 0) return 'no nodes available to schedule pods';
  const parts = [...d.reasons.entries()].map(([reason, n]) => `${n} ${reason}`).sort();
  return `0/${d.total} nodes are available: ${parts.join(', ')}.`;
}
