// Pure facts about pods and nodes that the store, the scheduler and the agents all need.
import type { Condition, KubeObject, Pod, Container, Taint, Toleration } from '../types.ts';
import { cpuMillis, memoryBytes } from './quantity.ts';
import { now } from '../util.ts';

export interface Resources {
  cpuMillis: number;
  memoryBytes: number;
}

function containerRequests(c: Container): Resources {
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  // Kubernetes defaults a missing request to the limit.
  const cpu = req.cpu ?? lim.cpu;
  const mem = req.memory ?? lim.memory;
  return { cpuMillis: cpu ? cpuMillis(cpu) : 0, memoryBytes: mem ? memoryBytes(mem) : 0 };
}

/**
 * What a pod asks of its node: the sum over its containers, or the largest init container if
 * that is more, since init containers run one at a time before the others start.
 */
export function podRequests(pod: Pod): Resources {
  let cpu = 0;
  let mem = 0;
  for (const c of pod.spec.containers ?? []) {
    const r = containerRequests(c);
    cpu += r.cpuMillis;
    mem += r.memoryBytes;
  }
  for (const c of pod.spec.initContainers ?? []) {
    const r = containerRequests(c);
    cpu = Math.max(cpu, r.cpuMillis);
    mem = Math.max(mem, r.memoryBytes);
  }
  return { cpuMillis: cpu, memoryBytes: mem };
}

export function nodeAllocatable(node: KubeObject): (Resources & { pods: number }) | undefined {
  const alloc = node.status?.allocatable as Record<string, string> | undefined;
  if (!alloc) return undefined;
  return {
    cpuMillis: alloc.cpu ? cpuMillis(alloc.cpu) : 0,
    memoryBytes: alloc.memory ? memoryBytes(alloc.memory) : 0,
    pods: alloc.pods ? Number(alloc.pods) : 110,
  };
}

/**
 * The pod's conditions with DisruptionTarget=True and why the system is about to delete it, as
 * Kubernetes marks the pods it disrupts: PreemptionByScheduler, DeletionByTaintManager,
 * EvictionByEvictionAPI, DeletionByPodGC. Already marked, it keeps its transition time.
 */
export function withDisruptionTarget(pod: Pod, reason: string, message: string, nowMs: number): Condition[] {
  const conditions = pod.status?.conditions ?? [];
  const existing = conditions.find((c) => c.type === 'DisruptionTarget');
  const since = existing?.status === 'True' && existing.lastTransitionTime ? existing.lastTransitionTime : now(new Date(nowMs));
  const marked: Condition = { type: 'DisruptionTarget', status: 'True', reason, message, lastTransitionTime: since };
  return existing ? conditions.map((c) => (c === existing ? marked : c)) : [...conditions, marked];
}

export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Ready for at least minReadySeconds, as Deployments and ReplicaSets count availability. */
export function isPodAvailable(pod: Pod, minReadySeconds: number, nowMs = Date.now()): boolean {
  const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready' && c.status === 'True');
  if (!ready) return false;
  if (!minReadySeconds) return true;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : 0;
  return nowMs - since >= minReadySeconds * 1000;
}

export function controllerOf(obj: KubeObject) {
  return (obj.metadata.ownerReferences ?? []).find((o) => o.controller);
}

/** Kubernetes' ToleratesTaint: the effect (empty: any), the key (empty: any) and the value under Equal. */
export function toleratesTaint(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  const operator = t.operator ?? 'Equal';
  if (operator === 'Exists') return true;
  return operator === 'Equal' && (t.value ?? '') === (taint.value ?? '');
}

export function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => toleratesTaint(t, taint));
}

/**
 * The pods' view stream is split by node into this many shards (and one common stream, shard ''),
 * so that a scheduler that places pods on some nodes follows the placements on those alone.
 * Every writer of pods names the shard of each view it writes: a constant, never a setting.
 */
export const POD_VIEW_SHARDS = 32;
/** The names of the pods' view streams' shards: '' (the common one), then '0' to '31'. */
export const POD_VIEW_SHARD_NAMES: readonly string[] = ['', ...Array.from({ length: POD_VIEW_SHARDS }, (_, i) => String(i))];

/** The view shard of a node (FNV-1a of its name): stable across processes and restarts. */
export function nodeViewShard(nodeName: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < nodeName.length; i++) hash = Math.imul(hash ^ nodeName.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % POD_VIEW_SHARDS;
}

/**
 * Where a pod's view goes: its node's shard, unless others' placements may depend on it wherever
 * they are, when it goes to the common stream (''), which every scheduler follows: a pod not yet
 * placed but nominated (it holds room on a node it may not end on), and a pod with inter-pod
 * affinity or anti-affinity terms (they bear on pods placed on any node of the same topology).
 */
export function podViewShard(view: Pod): string {
  const affinity = view.spec.affinity;
  if (!view.spec.nodeName || affinity?.podAffinity || affinity?.podAntiAffinity) return '';
  return String(nodeViewShard(view.spec.nodeName));
}

/**
 * What the schedulers need to know of a pod other than the one they are placing (the pods' view,
 * Strategy.view): a pod that takes room on a node (bound, not finished) or waits for room it
 * preempted (status.nominatedNodeName), with what the filters, scorers and preemption read of it —
 * its identity, labels, priority, inter-pod affinity terms, whether it is terminating, and its
 * requests summed into one container. Any other pod is not in the view. A schedulers' cache fed
 * with these, instead of every pod event, pays per placement rather than per status write, and
 * for a small object rather than a whole pod.
 */
export function podSchedulingView(pod: Pod): Pod | undefined {
  const spec = pod.spec ?? ({} as Pod['spec']);
  const placed = !!spec.nodeName && !isPodTerminal(pod);
  const nominated = !spec.nodeName && !!pod.status?.nominatedNodeName && !pod.metadata.deletionTimestamp;
  if (!placed && !nominated) return undefined;
  const m = pod.metadata;
  const req = podRequests(pod);
  const affinity = spec.affinity?.podAffinity || spec.affinity?.podAntiAffinity ? { podAffinity: spec.affinity.podAffinity, podAntiAffinity: spec.affinity.podAntiAffinity } : undefined;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.creationTimestamp ? { creationTimestamp: m.creationTimestamp } : {}),
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
    spec: {
      ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
      ...(spec.priority !== undefined ? { priority: spec.priority } : {}),
      ...(affinity ? { affinity } : {}),
      containers: [{ name: 'requests', image: '', resources: { requests: { cpu: `${req.cpuMillis}m`, memory: String(req.memoryBytes) } } }],
    },
    ...(nominated ? { status: { nominatedNodeName: pod.status!.nominatedNodeName } } : {}),
  } as Pod;
}
