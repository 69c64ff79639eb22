// What the node lifecycle controller decides, as pure functions over what it observed. It does
// the work of Kubernetes' node lifecycle controller (a node that stops heartbeating is marked
// Ready=Unknown and tainted), its taint eviction controller (pods are deleted from a node with a
// NoExecute taint they do not tolerate, or once their tolerationSeconds have run out) and the pod
// garbage collector's orphan rule (pods bound to a node that no longer exists are deleted).
//
// Unlike Kubernetes, which times heartbeats and taints with its own clock in memory, every time
// here is read from the objects (Lease renewTime, lastHeartbeatTime, taint timeAdded), so any
// replica can take over a node at any moment and reach the same decisions. The price: the agents'
// clocks (which stamp renewTime) and the controller managers' must roughly agree, as on one host
// or with NTP; a skew eats into (or adds to) the grace period.
import type { Condition, KubeObject, Node, Pod, Taint, Toleration } from '../../../shared/types.ts';
import { deepEqual, now, timeMs } from '../../../shared/util.ts';
import { toleratesTaint } from '../../../shared/api/podutil.ts';

export { toleratesTaint };

export const LEASE_NAMESPACE = 'kube-node-lease';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';

/** The conditions a node agent posts, which go Unknown when it falls silent. */
const AGENT_CONDITIONS = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

const isoAt = (ms: number) => now(new Date(ms));

function readyCondition(node: Node): Condition | undefined {
  return (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
}

// ---- node health ------------------------------------------------------------------------------

/**
 * When the node was last heard from: the newer of its Lease's renewTime and its Ready condition's
 * lastHeartbeatTime; a node that never posted either counts from its creation.
 */
export function lastHeardMs(node: Node, lease: KubeObject | null | undefined): number {
  const times = [timeMs(lease?.spec?.renewTime), timeMs(readyCondition(node)?.lastHeartbeatTime)].filter((t) => !Number.isNaN(t));
  if (times.length) return Math.max(...times);
  const created = timeMs(node.metadata.creationTimestamp);
  return Number.isNaN(created) ? 0 : created;
}

export interface NodeHealth {
  /** The node's new status.conditions, when it just went silent; undefined: leave them. */
  conditions?: Condition[];
  /** How long until the grace period runs out; undefined when it has. */
  expiresInMs?: number;
}

/**
 * A node heard from within the grace period is left alone (its agent owns its status). Past it,
 * the conditions its agent posts become Unknown — NodeStatusUnknown when they existed,
 * NodeStatusNeverUpdated when the agent never posted them — keeping their last heartbeat.
 */
export function planNodeHealth(node: Node, lease: KubeObject | null | undefined, nowMs: number, graceMs: number): NodeHealth {
  const expiresAt = lastHeardMs(node, lease) + graceMs;
  if (nowMs < expiresAt) return { expiresInMs: expiresAt - nowMs };
  const nowIso = isoAt(nowMs);
  const existing = node.status?.conditions ?? [];
  const conditions: Condition[] = existing.map((c) => {
    if (!AGENT_CONDITIONS.includes(c.type) || c.status === 'Unknown') return c;
    return { ...c, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.', lastTransitionTime: nowIso };
  });
  for (const type of AGENT_CONDITIONS) {
    if (existing.some((c) => c.type === type)) continue;
    conditions.push({
      type,
      status: 'Unknown',
      reason: 'NodeStatusNeverUpdated',
      message: 'Kubelet never posted node status.',
      lastHeartbeatTime: node.metadata.creationTimestamp,
      lastTransitionTime: nowIso,
    });
  }
  return deepEqual(conditions, existing) ? {} : { conditions };
}

// ---- taints -----------------------------------------------------------------------------------

/** The key of the taints a node's Ready condition calls for: False → not-ready, Unknown → unreachable. */
export function conditionTaintKey(node: Node): string | undefined {
  const status = readyCondition(node)?.status;
  if (status === 'False') return TAINT_NOT_READY;
  if (status === 'Unknown') return TAINT_UNREACHABLE;
  return undefined;
}

const isControllerTaint = (t: Taint) => (t.key === TAINT_UNREACHABLE || t.key === TAINT_NOT_READY) && (t.effect === 'NoSchedule' || t.effect === 'NoExecute');

/**
 * The node's taints as its Ready condition wants them: the not-ready or unreachable taint with
 * both NoSchedule (the scheduler keeps new pods away) and NoExecute (running pods are evicted),
 * or neither when the node is Ready. Other taints are kept, and a NoExecute taint without
 * timeAdded gets one, so that toleration periods have a start every replica agrees on. Returns
 * undefined when nothing changes.
 */
export function planTaints(node: Node, nowMs: number): Taint[] | undefined {
  const current = node.spec?.taints ?? [];
  const key = conditionTaintKey(node);
  const nowIso = isoAt(nowMs);
  const next: Taint[] = current
    .filter((t) => !isControllerTaint(t) || t.key === key)
    .map((t) => (t.effect === 'NoExecute' && !t.timeAdded ? { ...t, timeAdded: nowIso } : t));
  if (key) {
    for (const effect of ['NoSchedule', 'NoExecute'] as const) {
      if (!next.some((t) => t.key === key && t.effect === effect)) next.push({ key, effect, timeAdded: nowIso });
    }
  }
  return deepEqual(next, current) ? undefined : next;
}

// ---- pods -------------------------------------------------------------------------------------

/**
 * When a pod must leave a node with these taints (epoch ms): at once (-Infinity) when it does not
 * tolerate one of the NoExecute taints; otherwise when the first toleration with tolerationSeconds
 * runs out, counted from its taint's timeAdded; never (Infinity) when it tolerates them all
 * forever. Each taint is tolerated by the first toleration that matches it, as in Kubernetes.
 */
export function evictionTimeMs(pod: Pod, taints: Taint[], nowMs: number): number {
  let at = Infinity;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const toleration = (pod.spec.tolerations ?? []).find((t) => toleratesTaint(t, taint));
    if (!toleration) return -Infinity;
    if (toleration.tolerationSeconds == null) continue;
    const added = timeMs(taint.timeAdded);
    const start = Number.isNaN(added) ? nowMs : added;
    at = Math.min(at, start + Math.max(0, toleration.tolerationSeconds) * 1000);
  }
  return at;
}

/** Whether the pods on the node matter: it has NoExecute taints, or its agent is silent. */
export function podsConcerned(node: Node): boolean {
  return readyCondition(node)?.status === 'Unknown' || (node.spec?.taints ?? []).some((t) => t.effect === 'NoExecute');
}

export interface PodsPlan {
  /** Pods to delete now: they do not tolerate the node's NoExecute taints, or no longer. */
  evict: Pod[];
  /** Pods whose Ready condition goes False: the silent node's agent no longer reports on them. */
  markNotReady: Pod[];
  /** When the next toleration runs out; undefined: none does. */
  requeueAfterMs?: number;
}

const isTerminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

/** Taint-based eviction for the pods bound to a node (pods already being deleted are left alone). */
export function planPods(node: Node, pods: Pod[], nowMs: number): PodsPlan {
  const out: PodsPlan = { evict: [], markNotReady: [] };
  const taints = node.spec?.taints ?? [];
  const silent = readyCondition(node)?.status === 'Unknown';
  for (const pod of pods) {
    if (pod.spec.nodeName !== node.metadata.name || pod.metadata.deletionTimestamp) continue;
    const at = evictionTimeMs(pod, taints, nowMs);
    if (at <= nowMs) {
      out.evict.push(pod);
      continue;
    }
    if (at !== Infinity) out.requeueAfterMs = Math.min(out.requeueAfterMs ?? Infinity, at - nowMs);
    if (silent && !isTerminal(pod) && podNotReady(pod, nowMs)) out.markNotReady.push(pod);
  }
  return out;
}

/** The pod's conditions with Ready set False (as Kubernetes' MarkPodsNotReady); undefined when it is not Ready. */
export function podNotReady(pod: Pod, nowMs: number): Condition[] | undefined {
  const conditions = pod.status?.conditions ?? [];
  if (!conditions.some((c) => c.type === 'Ready' && c.status === 'True')) return undefined;
  return conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: isoAt(nowMs) } : c));
}

export interface OrphansPlan {
  /** Pods to fail and delete now. */
  delete: Pod[];
  /** When the next one's wait is over; undefined: no other pod waits. */
  requeueAfterMs?: number;
}

/**
 * Pods bound to a node that does not exist (the pod garbage collector's orphans) are deleted —
 * but only once they have been around for the grace period, as Kubernetes quarantines them, so
 * that a pod bound to a node whose agent has yet to register is not lost.
 */
export function planOrphans(nodeName: string, pods: Pod[], nowMs: number, graceMs: number): OrphansPlan {
  const out: OrphansPlan = { delete: [] };
  for (const pod of pods) {
    if (pod.spec.nodeName !== nodeName) continue;
    const created = timeMs(pod.metadata.creationTimestamp);
    const due = (Number.isNaN(created) ? 0 : created) + graceMs;
    if (due <= nowMs) out.delete.push(pod);
    else out.requeueAfterMs = Math.min(out.requeueAfterMs ?? Infinity, due - nowMs);
  }
  return out;
}

/** The earliest of several "look again in N ms" (undefined: no need). */
export function earliest(...delays: (number | undefined)[]): number | undefined {
  const set = delays.filter((d): d is number => d !== undefined && Number.isFinite(d));
  return set.length ? Math.max(0, Math.min(...set)) : undefined;
}
