// The scheduler's picture of the cluster, as kube-scheduler's cache: every node with what its
// placed pods request and the pods themselves, kept current from the nodes' and pods' change
// streams (informers) rather than re-read from Redis, so a scheduling cycle reads nothing.
// Decisions are "assumed" into it at once, before their bind's round trip, so that the next pods
// see them; a bind that fails is forgotten. The store's bind script still re-checks capacity, so
// a cache that lags another scheduler's binds costs a retry, never an overcommitted node.
//
// No I/O here: the adapter feeds events in (apply*, replace*), which keeps this unit-testable.
import type { Node, Pod } from '../../shared/types.ts';
import type { StoredEvent } from '../../shared/store/store.ts';
import { isPodTerminal, nodeAllocatable, nodeViewShard } from '../../shared/api/podutil.ts';
import { deepEqual } from '../../shared/util.ts';
import { hasPodAffinityTerms, nodeTraits, podsWithAffinity, requestsOf, type NodeInfo, type NodeTraits } from './plugins.ts';
import { priorityOf } from './preemption.ts';

/** A pod's work-item key, "namespace/name" (the scheduling queue's, the unschedulable set's). */
export const podKey = (p: Pod): string => `${p.metadata.namespace}/${p.metadata.name}`;
const hasRequiredAntiAffinity = (p: Pod) => !!p.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length;

/**
 * Whether a node update changes what the filters read of it, so that a pod found unschedulable
 * may fit now: its room (allocatable, capacity), labels, or its traits (taints, cordon, Ready
 * status). A heartbeat (the Ready condition's times, the Lease-like status writes) changes none
 * of these. The cache passes the traits it holds and has just taken.
 */
export function schedulingChanged(old: Node, next: Node, was: NodeTraits = nodeTraits(old), now: NodeTraits = nodeTraits(next)): boolean {
  return !deepEqual(old.status?.allocatable, next.status?.allocatable)
    || !deepEqual(old.status?.capacity, next.status?.capacity)
    || !deepEqual(old.metadata.labels ?? {}, next.metadata.labels ?? {})
    || !deepEqual(was.taints, now.taints)
    || was.unschedulable !== now.unschedulable
    || was.ready !== now.ready;
}

/** A pod takes room on its node from the bind until it finishes or is deleted (as the store charges it). */
const placedOn = (p: Pod): string | undefined => (p.spec.nodeName && !isPodTerminal(p) ? p.spec.nodeName : undefined);

interface Placement {
  node: string;
  pod: Pod;
  /** Decided here, its bind not yet seen in the stream. */
  assumed: boolean;
}

export class SchedulerCache {
  private readonly infos = new Map<string, NodeInfo>();
  private list?: NodeInfo[];
  /** The nodes of some view shards (nodesOf), for the last shards asked about and the node list it was made from. */
  private sharded?: { shards: ReadonlySet<number>; from: NodeInfo[]; nodes: NodeInfo[] };
  /** Pod uid -> where it takes room (only pods that do). */
  private readonly placements = new Map<string, Placement>();
  /** Pods on nodes the cache has no Node for yet, by node name (a pod event may come first). */
  private readonly homeless = new Map<string, Map<string, Pod>>();
  /** Unbound pods waiting on the room they preempted (status.nominatedNodeName), by key. */
  private readonly nominatedPods = new Map<string, Pod>();
  private antiAffinityCount = 0;
  private readonly priorities = new Map<number, number>();

  /** The nodes, in a stable order (sampling walks it round-robin). */
  nodes(): NodeInfo[] {
    this.list ??= [...this.infos.values()];
    return this.list;
  }

  /** The nodes whose view shard (nodeViewShard) is one of these, in the order of nodes(). */
  nodesOf(shards: ReadonlySet<number>): NodeInfo[] {
    const all = this.nodes();
    if (this.sharded?.shards !== shards || this.sharded.from !== all) {
      this.sharded = { shards, from: all, nodes: all.filter((info) => shards.has(nodeViewShard(info.node.metadata.name!))) };
    }
    return this.sharded.nodes;
  }

  nominated(): Pod[] {
    return [...this.nominatedPods.values()];
  }

  /** Whether a placed pod has required anti-affinity (then every pod must be checked against it). */
  get antiAffinitySeen(): boolean {
    return this.antiAffinityCount > 0;
  }

  /** The lowest priority among the placed pods (Infinity with none): nothing lower, nothing to preempt. */
  lowestPriority(): number {
    let lowest = Infinity;
    for (const [priority, count] of this.priorities) if (count > 0 && priority < lowest) lowest = priority;
    return lowest;
  }

  replaceNodes(nodes: Node[]): void {
    const names = new Set(nodes.map((n) => n.metadata.name!));
    for (const name of [...this.infos.keys()]) if (!names.has(name)) this.removeNode(name);
    for (const node of nodes) this.setNode(node);
  }

  replacePods(pods: Pod[]): void {
    const assumed = [...this.placements.values()].filter((p) => p.assumed);
    for (const uid of [...this.placements.keys()]) this.unplace(uid);
    this.nominatedPods.clear();
    for (const pod of pods) this.applyPod({ type: 'ADDED', object: pod, rv: 0 });
    // Binds still under way are not in any list yet.
    for (const a of assumed) if (!this.placements.has(a.pod.metadata.uid!)) this.assume(a.pod, a.node);
  }

  /** Applies a node's event; true when scheduling may now decide differently (see schedulingChanged; a node added or removed). */
  applyNode(ev: StoredEvent): boolean {
    const node = ev.object as Node;
    if (ev.type === 'DELETED') return this.removeNode(node.metadata.name!);
    return this.setNode(node);
  }

  applyPod(ev: StoredEvent): void {
    const pod = ev.object as Pod;
    const uid = pod.metadata.uid!;
    const key = podKey(pod);
    const deleted = ev.type === 'DELETED';
    const current = this.placements.get(uid);
    // A pod's view moves from the common stream to its node's shard when a nominated pod is bound
    // (the common stream's DELETED, the shard's ADDED, one resourceVersion), and the streams are
    // read apart: the shard's placement may come first, and the common stream's older events of
    // the pod (still nominated) are then old news.
    if (current && !current.assumed && ev.rv < Number(current.pod.metadata.resourceVersion ?? 0)) return;
    if (!deleted && !pod.spec.nodeName && pod.status?.nominatedNodeName && !pod.metadata.deletionTimestamp) this.nominatedPods.set(key, pod);
    else this.nominatedPods.delete(key);
    const node = deleted ? undefined : placedOn(pod);
    // The stream may still be delivering the pod as it was when it was decided (the feed that
    // hands out the work can run ahead of the informers): only a newer state overrides a decision.
    if (current?.assumed && ev.rv <= Number(current.pod.metadata.resourceVersion ?? 0)) return;
    // The common stream's DELETED of such a move may also come after the placement: a deletion
    // takes away a placement on the node it names, never one elsewhere.
    if (deleted && current && current.node !== pod.spec.nodeName) return;
    if (current && current.node === node) {
      // Same node: the newer object replaces the old (or confirms the assumed one).
      this.replaceOnNode(current, pod);
      return;
    }
    if (current) this.unplace(uid);
    if (node) this.place(pod, node, false);
  }

  /** Whether the pod takes room on a node here: bound as the stream showed it, or a decision of this process. */
  isPlaced(pod: Pod): boolean {
    return this.placements.has(pod.metadata.uid!);
  }

  /**
   * Counts a decision before its bind is seen, so the next pods see it. Refuses (false, nothing
   * changed) for a pod the stream has shown bound: an older event of it, still unbound, must not
   * move it off its node (the bind would fail, and forgetting it would drop the pod altogether).
   */
  assume(pod: Pod, node: string): boolean {
    const current = this.placements.get(pod.metadata.uid!);
    if (current && !current.assumed) return false;
    const placed: Pod = { ...pod, spec: { ...pod.spec, nodeName: node } };
    if (current) this.unplace(pod.metadata.uid!);
    this.place(placed, node, true);
    return true;
  }

  /** Takes back a decision whose bind failed (unless the stream has meanwhile shown the pod placed). */
  forget(pod: Pod): void {
    const current = this.placements.get(pod.metadata.uid!);
    if (current?.assumed) this.unplace(pod.metadata.uid!);
  }

  /** Whether the node is new or changed in what scheduling reads of it. */
  private setNode(node: Node): boolean {
    const name = node.metadata.name!;
    const alloc = nodeAllocatable(node) ?? { cpuMillis: 0, memoryBytes: 0, pods: 0 };
    const allocatable = { cpuMillis: alloc.cpuMillis, memoryBytes: alloc.memoryBytes, pods: alloc.pods };
    const traits = nodeTraits(node);
    const info = this.infos.get(name);
    if (info) {
      const changed = schedulingChanged(info.node, node, info.traits, traits);
      info.node = node;
      info.allocatable = allocatable;
      info.traits = traits;
      return changed;
    }
    const pods: Pod[] = [];
    this.infos.set(name, { node, allocatable, used: { cpuMillis: 0, memoryBytes: 0, pods: 0 }, pods, podsWithAffinity: { of: pods, pods: [] }, traits });
    this.list = undefined;
    for (const pod of this.homeless.get(name)?.values() ?? []) this.addToNode(this.infos.get(name)!, pod);
    this.homeless.delete(name);
    return true;
  }

  /** Whether there was such a node. */
  private removeNode(name: string): boolean {
    const info = this.infos.get(name);
    if (!info) return false;
    this.infos.delete(name);
    this.list = undefined;
    // Pods of a deleted node still exist until the node lifecycle controller removes them.
    if (info.pods?.length) this.homeless.set(name, new Map(info.pods.map((p) => [p.metadata.uid!, p])));
    return true;
  }

  private place(pod: Pod, node: string, assumed: boolean): void {
    this.placements.set(pod.metadata.uid!, { node, pod, assumed });
    this.priorities.set(priorityOf(pod), (this.priorities.get(priorityOf(pod)) ?? 0) + 1);
    if (hasRequiredAntiAffinity(pod)) this.antiAffinityCount++;
    const info = this.infos.get(node);
    if (info) this.addToNode(info, pod);
    else {
      const waiting = this.homeless.get(node) ?? new Map<string, Pod>();
      waiting.set(pod.metadata.uid!, pod);
      this.homeless.set(node, waiting);
    }
  }

  private unplace(uid: string): void {
    const current = this.placements.get(uid);
    if (!current) return;
    this.placements.delete(uid);
    const { pod, node } = current;
    this.priorities.set(priorityOf(pod), (this.priorities.get(priorityOf(pod)) ?? 1) - 1);
    if (hasRequiredAntiAffinity(pod)) this.antiAffinityCount--;
    const info = this.infos.get(node);
    if (info) {
      const req = requestsOf(pod);
      info.used = { cpuMillis: info.used.cpuMillis - req.cpuMillis, memoryBytes: info.used.memoryBytes - req.memoryBytes, pods: info.used.pods - 1 };
      const others = (p: Pod) => p.metadata.uid !== uid;
      const withTerms = podsWithAffinity(info);
      setPods(info, (info.pods ?? []).filter(others), hasPodAffinityTerms(pod) ? withTerms.filter(others) : withTerms);
    } else this.homeless.get(node)?.delete(uid);
  }

  private replaceOnNode(current: Placement, pod: Pod): void {
    const old = current.pod;
    current.pod = pod;
    current.assumed = false;
    if (hasRequiredAntiAffinity(old) !== hasRequiredAntiAffinity(pod)) this.antiAffinityCount += hasRequiredAntiAffinity(pod) ? 1 : -1;
    if (priorityOf(old) !== priorityOf(pod)) {
      this.priorities.set(priorityOf(old), (this.priorities.get(priorityOf(old)) ?? 1) - 1);
      this.priorities.set(priorityOf(pod), (this.priorities.get(priorityOf(pod)) ?? 0) + 1);
    }
    const info = this.infos.get(current.node);
    if (!info) {
      this.homeless.get(current.node)?.set(pod.metadata.uid!, pod);
      return;
    }
    // Requests of a placed pod do not change (the API forbids it), so only the object is swapped.
    const swap = (p: Pod) => (p.metadata.uid === pod.metadata.uid ? pod : p);
    const withTerms = podsWithAffinity(info);
    // Affinity is part of the spec, which does not change either: the pod has terms or it has not.
    setPods(info, (info.pods ?? []).map(swap), hasPodAffinityTerms(old) ? withTerms.map(swap) : withTerms);
  }

  private addToNode(info: NodeInfo, pod: Pod): void {
    const req = requestsOf(pod);
    info.used = { cpuMillis: info.used.cpuMillis + req.cpuMillis, memoryBytes: info.used.memoryBytes + req.memoryBytes, pods: info.used.pods + 1 };
    const withTerms = podsWithAffinity(info);
    setPods(info, [...(info.pods ?? []), pod], hasPodAffinityTerms(pod) ? [...withTerms, pod] : withTerms);
  }
}

/**
 * Gives a node a new pods array (never one changed in place: plugins cache what they derive per
 * pods array) and, beside it, those of them with inter-pod terms.
 */
function setPods(info: NodeInfo, pods: Pod[], withTerms: Pod[]): void {
  info.pods = pods;
  info.podsWithAffinity = { of: pods, pods: withTerms };
}
