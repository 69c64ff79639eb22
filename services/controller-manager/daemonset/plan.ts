// Pure decisions of the DaemonSet controller: which nodes should run a daemon pod, which pods to
// create and delete (including a rolling update), and the status to report. As Kubernetes'
// pkg/controller/daemon, but without I/O, so every rule has a unit test.
import type { DaemonSet, Node, Pod, PodSpec, PodTemplateSpec, Taint, Toleration } from '../../../shared/types.ts';
import { isPodAvailable, isPodReady } from '../../../shared/api/podutil.ts';
import { requiredNodeAffinityMatches } from '../../../shared/api/node-affinity.ts';
import { tolerates } from '../../../shared/api/podutil.ts';
import { templateHash } from '../deployment/plan.ts';
import { REVISION_HASH } from '../history.ts';

export { REVISION_HASH };

export const TEMPLATE_GENERATION = 'pod-template-generation';

/** The tolerations Kubernetes adds to every daemon pod (AddOrUpdateDaemonPodTolerations). */
export const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

/** The template's tolerations plus the daemon ones it lacks (same key and effect replaces). */
export function withDaemonTolerations(tolerations: Toleration[] | undefined): Toleration[] {
  const out = [...(tolerations ?? [])];
  for (const t of DAEMON_TOLERATIONS) {
    const i = out.findIndex((x) => x.key === t.key && x.effect === t.effect);
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  return out;
}

/** The required node affinity that pins a daemon pod to its node, as Kubernetes' ReplaceDaemonSetPodNodeNameNodeAffinity. */
export function pinToNode(spec: PodSpec, nodeName: string): PodSpec {
  const affinity = { ...(spec.affinity ?? {}) };
  affinity.nodeAffinity = {
    ...(affinity.nodeAffinity ?? {}),
    requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] },
  };
  return { ...spec, affinity };
}

/** The node a daemon pod belongs to: where it is bound, else where its affinity pins it. */
export function targetNode(pod: Pod): string | undefined {
  if (pod.spec.nodeName) return pod.spec.nodeName;
  const terms = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/**
 * Whether a daemon pod should run on a node, and whether one already there may stay, as
 * Kubernetes' NodeShouldRunDaemonPod: node selector and required affinity must match; a
 * NoSchedule or NoExecute taint the pod does not tolerate keeps a new pod off, but only an
 * untolerated NoExecute taint evicts one already running.
 */
export function nodeShouldRun(template: PodTemplateSpec, node: Node): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec: PodSpec = { ...template.spec, tolerations: withDaemonTolerations(template.spec.tolerations) };
  if (!requiredNodeAffinityMatches(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const untolerated = (node.spec?.taints ?? []).filter((t: Taint) => t.effect !== 'PreferNoSchedule' && !tolerates(spec.tolerations, t));
  return { shouldRun: untolerated.length === 0, shouldContinueRunning: !untolerated.some((t) => t.effect === 'NoExecute') };
}

export function revisionHash(ds: DaemonSet): string {
  return templateHash(ds.spec.template);
}

/** A new daemon pod's template for a node: labelled with the revision, tolerant, pinned to the node. */
export function daemonPodTemplate(ds: DaemonSet, nodeName: string): PodTemplateSpec {
  const t = structuredClone(ds.spec.template);
  t.metadata = { ...(t.metadata ?? {}), labels: { ...(t.metadata?.labels ?? {}), [REVISION_HASH]: revisionHash(ds), [TEMPLATE_GENERATION]: String(ds.metadata.generation ?? 1) } };
  t.spec = pinToNode({ ...t.spec, tolerations: withDaemonTolerations(t.spec.tolerations) }, nodeName);
  return t;
}

export function isUpdated(pod: Pod, hash: string): boolean {
  return pod.metadata.labels?.[REVISION_HASH] === hash;
}

/** An int-or-percent of a total, percentages rounded up (Kubernetes' GetScaledValueFromIntOrPercent). */
export function scaled(v: number | string | undefined, total: number, fallback: number): number {
  if (v === undefined) return fallback;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  return m ? Math.ceil((Number(m[1]) * total) / 100) : fallback;
}

export interface DaemonSetStatus {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  numberAvailable: number;
  numberUnavailable: number;
  updatedNumberScheduled: number;
  observedGeneration: number;
}

export interface DaemonSetPlan {
  /** Nodes that get a new daemon pod. */
  create: string[];
  /** Pods to delete: doubles, failed ones, misscheduled ones, old ones in a rolling update. */
  delete: Pod[];
  status: DaemonSetStatus;
}

const created = (p: Pod) => Date.parse(p.metadata.creationTimestamp ?? '') || 0;

export function planDaemonSet(ds: DaemonSet, nodes: Node[], pods: Pod[], nowMs = Date.now()): DaemonSetPlan {
  const hash = revisionHash(ds);
  const minReady = ds.spec.minReadySeconds ?? 0;
  const byNode = new Map<string, Pod[]>();
  const create: string[] = [];
  const del: Pod[] = [];
  const known = new Set(nodes.map((n) => n.metadata.name!));
  for (const p of pods) {
    if (p.metadata.deletionTimestamp) continue;
    const node = targetNode(p);
    // A pod pinned nowhere, or to a node that is gone, serves no node.
    if (!node || !known.has(node)) {
      del.push(p);
      continue;
    }
    byNode.set(node, [...(byNode.get(node) ?? []), p]);
  }
  // Terminating pods still count as unavailable on their node during a rolling update.
  const status: DaemonSetStatus = {
    desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0,
    numberAvailable: 0, numberUnavailable: 0, updatedNumberScheduled: 0, observedGeneration: ds.metadata.generation ?? 1,
  };
  // Nodes whose one pod is old, for the rolling update below.
  const oldOnNode: { pod: Pod; available: boolean }[] = [];
  let unavailableNodes = 0;
  for (const node of [...nodes].sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!))) {
    const name = node.metadata.name!;
    const { shouldRun, shouldContinueRunning } = nodeShouldRun(ds.spec.template, node);
    const here = byNode.get(name) ?? [];
    const failed = here.filter((p) => p.status?.phase === 'Failed');
    const running = here.filter((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded');
    del.push(...failed);
    if (shouldRun) status.desiredNumberScheduled++;
    if (!shouldContinueRunning) {
      if (running.length) status.numberMisscheduled++;
      del.push(...running);
      continue;
    }
    if (!shouldRun) {
      // Kept (it tolerates the NoExecute taints), but counted as misscheduled, as Kubernetes does.
      if (running.length) status.numberMisscheduled++;
      continue;
    }
    if (!running.length) {
      create.push(name);
      unavailableNodes++;
      continue;
    }
    // Exactly one: keep the oldest, as Kubernetes does.
    const [keep, ...extra] = [...running].sort((a, b) => created(a) - created(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    del.push(...extra);
    status.currentNumberScheduled++;
    const available = isPodAvailable(keep, minReady, nowMs);
    if (isPodReady(keep)) status.numberReady++;
    if (available) status.numberAvailable++;
    else unavailableNodes++;
    if (isUpdated(keep, hash)) status.updatedNumberScheduled++;
    else oldOnNode.push({ pod: keep, available });
  }
  status.numberUnavailable = status.desiredNumberScheduled - status.numberAvailable;

  const strategy = ds.spec.updateStrategy ?? {};
  if ((strategy.type ?? 'RollingUpdate') === 'RollingUpdate' && oldOnNode.length) {
    const maxUnavailable = scaled(strategy.rollingUpdate?.maxUnavailable, status.desiredNumberScheduled, 1);
    // Old pods that are not available cost nothing to replace; available ones spend the budget.
    for (const o of oldOnNode) if (!o.available) del.push(o.pod);
    let budget = maxUnavailable - unavailableNodes;
    for (const o of oldOnNode) {
      if (!o.available || budget <= 0) continue;
      del.push(o.pod);
      budget--;
    }
  }
  return { create, delete: del, status };
}

/** When a ready pod becomes available only after minReadySeconds, the delay until the soonest does. */
export function nextAvailabilityCheckMs(ds: DaemonSet, pods: Pod[], nowMs = Date.now()): number | undefined {
  const minReady = ds.spec.minReadySeconds ?? 0;
  if (!minReady) return undefined;
  let soonest: number | undefined;
  for (const p of pods) {
    if (p.metadata.deletionTimestamp || !isPodReady(p) || isPodAvailable(p, minReady, nowMs)) continue;
    const c = (p.status?.conditions ?? []).find((x) => x.type === 'Ready' && x.status === 'True');
    const due = (c?.lastTransitionTime ? Date.parse(c.lastTransitionTime) : nowMs) + minReady * 1000 - nowMs;
    soonest = soonest === undefined ? due : Math.min(soonest, due);
  }
  return soonest === undefined ? undefined : Math.max(100, soonest + 50);
}
