// The scheduler's adapter: builds a snapshot of nodes and their usage from Redis, asks the pure
// plugins for a ranking, and binds through the store, whose Lua script re-checks capacity so that
// concurrent schedulers can never overcommit a node or bind a pod twice.
import type { Node, Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { InsufficientCapacityError, upsertCondition } from '../../shared/store/store.ts';
import { isConflict, isNotFound } from '../../shared/errors.ts';
import type { EventRecorder } from '../../shared/events.ts';
import type { ReconcileResult } from '../../shared/queue/workqueue.ts';
import { now } from '../../shared/util.ts';
import { podRequests } from '../../shared/api/podutil.ts';
import { decide, unschedulableMessage, type NodeInfo } from './plugins.ts';
import { nodesToScore, window } from './sampling.ts';
import { mayPreempt, priorityOf, selectVictims, withNominated } from './preemption.ts';

export const SCHEDULER_NAME = 'default-scheduler';
const NODE_LIST_MS = 1000;

/** A pod whose placement depends on the pods already placed. */
export function needsPods(pod: Pod): boolean {
  const a = pod.spec.affinity;
  return !!(a?.podAffinity || a?.podAntiAffinity || pod.spec.topologySpreadConstraints?.length);
}

export class Scheduler {
  private snapshot?: { at: number; nodes: NodeInfo[]; podsAt?: number };
  /** Unbound pods waiting on the node they preempted (status.nominatedNodeName), at the last read of the pods. */
  private nominated: Pod[] = [];
  /** Whether the last read of the pods saw a pod with required anti-affinity (then every pod must check it). */
  private antiAffinitySeen = true;
  /** The lowest priority among the placed pods at the last read of the pods. */
  private lowestPriority = -Infinity;
  /** Pods this process has decided and is binding (or bound moments ago), by uid. */
  private readonly assumed = new Map<string, { pod: Pod; bound: boolean; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly opts: { retryUnschedulableMs: number; snapshotTtlMs?: number; onBound?: (pod: Pod) => Promise<void> },
  ) {}

  /** Drops the cached snapshot (a node changed, or a bind found it stale). */
  invalidate(): void {
    this.snapshot = undefined;
    this.nodeList = undefined;
  }

  /** The Node objects of the last list (see readNodes). */
  private nodeList?: { at: number; items: Node[] };

  /** Where the next sampled cycle starts (see sampling.ts). */
  private nextStart = 0;

  /**
   * Filters and scores a share of the nodes in a large cluster (percentageOfNodesToScore), all of
   * them when the pod's placement depends on the pods already placed, or when the share has no
   * feasible node (so an unschedulable pod's message counts every node).
   */
  private decide(pod: Pod, nodes: NodeInfo[]) {
    const count = nodesToScore(nodes.length);
    if (count >= nodes.length || needsPods(pod) || this.antiAffinitySeen) return decide(pod, nodes);
    const sampled = decide(pod, window(nodes, this.nextStart, count));
    this.nextStart = (this.nextStart + count) % nodes.length;
    return sampled.ranked.length ? sampled : decide(pod, nodes);
  }

  private async nodes(pod: Pod): Promise<NodeInfo[]> {
    const ttl = this.opts.snapshotTtlMs ?? 250;
    const fresh = this.snapshot && Date.now() - this.snapshot.at < ttl;
    if (!fresh) await this.readNodes();
    // Pods per node are read only when a plugin needs them: the pod has inter-pod terms or spread
    // constraints, or some placed pod has required anti-affinity (re-checked every few seconds).
    const snap = this.snapshot!;
    const age = snap.podsAt === undefined ? Infinity : Date.now() - snap.podsAt;
    if (age > ((needsPods(pod) || this.antiAffinitySeen || this.nominated.length) ? ttl : 5000)) await this.readPods(snap);
    return snap.nodes;
  }

  private async readNodes(): Promise<void> {
    // Node objects change seldom and any change invalidates; usage changes with every bind. So the
    // objects are listed at most every NODE_LIST_MS (another scheduler may have had the event) and
    // only the usage is re-read every snapshot.
    if (!this.nodeList || Date.now() - this.nodeList.at > NODE_LIST_MS) this.nodeList = { at: Date.now(), items: (await this.store.list<Node>('nodes')).items };
    const items = this.nodeList.items;
    const pipeline = this.store.redis.pipeline();
    for (const n of items) pipeline.hmget(this.store.keys.nodeUsage(n.metadata.name!), 'alloc.cpu', 'alloc.memory', 'alloc.pods', 'used.cpu', 'used.memory', 'used.pods');
    const replies = (await pipeline.exec()) ?? [];
    const nodes: NodeInfo[] = items.map((node, i) => {
      const v = (replies[i]?.[1] as (string | null)[]) ?? [];
      const num = (x: string | null | undefined) => Number(x ?? 0);
      return {
        node,
        allocatable: { cpuMillis: num(v[0]), memoryBytes: num(v[1]), pods: num(v[2]) },
        used: { cpuMillis: num(v[3]), memoryBytes: num(v[4]), pods: num(v[5]) },
      };
    });
    const podsAt = this.snapshot?.podsAt;
    const old = new Map((this.snapshot?.nodes ?? []).map((n) => [n.node.metadata.name!, n.pods]));
    // Pods read within the last seconds stay valid across a node refresh; they are re-read when stale.
    for (const n of nodes) n.pods = old.get(n.node.metadata.name!) ?? (podsAt === undefined ? undefined : []);
    this.snapshot = { at: Date.now(), nodes, podsAt };
    // Usage read from Redis lacks the binds still under way.
    for (const a of this.assumed.values()) if (!a.bound) this.reserveInSnapshot(a.pod, a.pod.spec.nodeName!);
  }

  /** Reads the bound, non-terminal pods into the snapshot's nodes. */
  private async readPods(snap: { nodes: NodeInfo[]; podsAt?: number }): Promise<void> {
    const { items } = await this.store.list<Pod>('pods');
    const byNode = new Map<string, Pod[]>();
    let anti = false;
    let lowest = Infinity;
    const nominated: Pod[] = [];
    for (const p of items) {
      if (!p.spec.nodeName && p.status?.nominatedNodeName && !p.metadata.deletionTimestamp) nominated.push(p);
      if (!p.spec.nodeName || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
      lowest = Math.min(lowest, priorityOf(p));
      if (p.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length) anti = true;
      const list = byNode.get(p.spec.nodeName) ?? [];
      list.push(p);
      byNode.set(p.spec.nodeName, list);
    }
    for (const n of snap.nodes) n.pods = byNode.get(n.node.metadata.name!) ?? [];
    const nowMs = Date.now();
    for (const [uid, a] of this.assumed) {
      if (a.until < nowMs) this.assumed.delete(uid);
      else this.reserveInSnapshot(a.pod, a.pod.spec.nodeName!, false);
    }
    snap.podsAt = Date.now();
    this.antiAffinitySeen = anti;
    this.lowestPriority = lowest;
    this.nominated = nominated;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    for (let attempt = 0; attempt < 5; attempt++) {
      const pod = await this.store.get<Pod>('pods', namespace, name);
      if (!pod || pod.spec.nodeName || pod.metadata.deletionTimestamp) return;
      if ((pod.spec.schedulerName ?? SCHEDULER_NAME) !== SCHEDULER_NAME) return;
      // Pods waiting for room they preempted keep it from pods of lower priority.
      const nodes = withNominated(pod, await this.nodes(pod), this.nominated);
      const decision = this.decide(pod, nodes);
      if (!decision.ranked.length) {
        const nominated = await this.preempt(pod);
        await this.markUnschedulable(pod, unschedulableMessage(decision), nominated);
        return { requeueAfterMs: nominated ? Math.min(500, this.opts.retryUnschedulableMs) : this.opts.retryUnschedulableMs };
      }
      for (const nodeName of decision.ranked.slice(0, 3)) {
        // Assumed at once, before the bind's round trip, so that the pods this process decides
        // meanwhile see it (kube-scheduler's assume cache); forgotten if the bind fails.
        this.assume(pod, nodeName);
        try {
          const bound = await this.store.bindPod(pod, nodeName);
          this.bindDone(pod, true);
          await this.events.normal(bound, 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
          await this.opts.onBound?.(bound);
          return;
        } catch (err) {
          this.bindDone(pod, false, nodeName);
          if (err instanceof InsufficientCapacityError) {
            // Another scheduler got there first: our snapshot is stale.
            this.invalidate();
            continue;
          }
          if (isConflict(err) || isNotFound(err)) break; // the pod changed: read it again
          throw err;
        }
      }
    }
    return { requeueAfterMs: 200 };
  }

  private assume(pod: Pod, nodeName: string): void {
    const placed: Pod = { ...pod, spec: { ...pod.spec, nodeName } };
    this.assumed.set(pod.metadata.uid!, { pod: placed, bound: false, until: Infinity });
    this.reserveInSnapshot(placed, nodeName);
  }

  /** A bound pod stays assumed a few seconds, until any read of the pods surely shows it; a failed one is taken back. */
  private bindDone(pod: Pod, ok: boolean, nodeName?: string): void {
    const uid = pod.metadata.uid!;
    if (ok) {
      const a = this.assumed.get(uid);
      if (a) Object.assign(a, { bound: true, until: Date.now() + 5000 });
      return;
    }
    this.assumed.delete(uid);
    const info = this.snapshot?.nodes.find((n) => n.node.metadata.name === nodeName);
    if (!info) return;
    const req = podRequests(pod);
    info.used.pods -= 1;
    info.used.cpuMillis -= req.cpuMillis;
    info.used.memoryBytes -= req.memoryBytes;
    if (info.pods) info.pods = info.pods.filter((p) => p.metadata.uid !== uid);
  }

  /** Counts a bind in the cached snapshot so the next pods spread without re-reading Redis. */
  private reserveInSnapshot(pod: Pod, nodeName: string, resources = true): void {
    const info = this.snapshot?.nodes.find((n) => n.node.metadata.name === nodeName);
    if (!info) return;
    const req = podRequests(pod);
    if (resources) {
      info.used.pods += 1;
      info.used.cpuMillis += req.cpuMillis;
      info.used.memoryBytes += req.memoryBytes;
    }
    if (info.pods && !info.pods.some((p) => p.metadata.uid === pod.metadata.uid)) info.pods.push(pod);
    this.lowestPriority = Math.min(this.lowestPriority, priorityOf(pod));
    if (pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length) this.antiAffinitySeen = true;
  }

  /**
   * When the pod fits nowhere, evicts the fewest lowest-priority pods of one node so that it fits
   * there (marked DisruptionTarget/PreemptionByScheduler, an event Preempted, a graceful delete),
   * and returns that node, to be set as the pod's nominatedNodeName.
   */
  private async preempt(pod: Pod): Promise<string | undefined> {
    if (pod.spec.preemptionPolicy === 'Never') return undefined;
    await this.nodes(pod);
    const snap = this.snapshot!;
    if (snap.podsAt === undefined || Date.now() - snap.podsAt > (this.opts.snapshotTtlMs ?? 250)) await this.readPods(snap);
    // Nothing placed has a lower priority: no one to preempt (and no need to look further).
    if (priorityOf(pod) <= this.lowestPriority) return undefined;
    const plan = selectVictims(pod, snap.nodes);
    if (!plan) return mayPreempt(pod, snap.nodes) ? undefined : pod.status?.nominatedNodeName;
    for (const victim of plan.victims) {
      const message = `${SCHEDULER_NAME}: preempting to accommodate a higher priority pod`;
      await this.store.guaranteedUpdate<Pod>('pods', victim.metadata.namespace, victim.metadata.name!, (cur) => {
        if (cur.metadata.uid !== victim.metadata.uid || cur.metadata.deletionTimestamp) return null;
        cur.status = cur.status ?? {};
        cur.status.conditions = upsertCondition(cur.status.conditions ?? [], { type: 'DisruptionTarget', status: 'True', reason: 'PreemptionByScheduler', message, lastTransitionTime: now() });
        return cur;
      }, { subresource: 'status' }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      await this.events.normal(victim, 'Preempted', `Preempted by pod ${pod.metadata.uid} on node ${plan.node}`);
      await this.store.delete('pods', victim.metadata.namespace, victim.metadata.name!, { preconditions: { uid: victim.metadata.uid } }).catch((err) => {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      });
    }
    this.invalidate();
    this.nominated = [...this.nominated.filter((p) => p.metadata.uid !== pod.metadata.uid), { ...pod, status: { ...pod.status, nominatedNodeName: plan.node } }];
    return plan.node;
  }

  private async markUnschedulable(pod: Pod, message: string, nominatedNodeName?: string): Promise<void> {
    const existing = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    if (existing?.status === 'False' && existing.message === message && (pod.status?.nominatedNodeName ?? undefined) === nominatedNodeName) return;
    await this.store.guaranteedUpdate<Pod>('pods', pod.metadata.namespace, pod.metadata.name!, (cur) => {
      if (cur.spec.nodeName || cur.metadata.uid !== pod.metadata.uid) return null;
      cur.status = cur.status ?? {};
      if (nominatedNodeName) cur.status.nominatedNodeName = nominatedNodeName;
      else delete cur.status.nominatedNodeName;
      cur.status.conditions = upsertCondition(cur.status.conditions ?? [], {
        type: 'PodScheduled',
        status: 'False',
        reason: 'Unschedulable',
        message,
        lastProbeTime: null,
        lastTransitionTime: now(),
      });
      return cur;
    }, { subresource: 'status' }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
    await this.events.warning(pod, 'FailedScheduling', message);
  }
}
