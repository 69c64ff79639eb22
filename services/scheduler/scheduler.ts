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

export const SCHEDULER_NAME = 'default-scheduler';

/** A pod whose placement depends on the pods already placed. */
export function needsPods(pod: Pod): boolean {
  const a = pod.spec.affinity;
  return !!(a?.podAffinity || a?.podAntiAffinity || pod.spec.topologySpreadConstraints?.length);
}

export class Scheduler {
  private snapshot?: { at: number; nodes: NodeInfo[]; podsAt?: number };
  /** Whether the last read of the pods saw a pod with required anti-affinity (then every pod must check it). */
  private antiAffinitySeen = true;

  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly opts: { retryUnschedulableMs: number; snapshotTtlMs?: number; onBound?: (pod: Pod) => Promise<void> },
  ) {}

  /** Drops the cached snapshot (a node changed, or a bind found it stale). */
  invalidate(): void {
    this.snapshot = undefined;
  }

  private async nodes(pod: Pod): Promise<NodeInfo[]> {
    const ttl = this.opts.snapshotTtlMs ?? 250;
    const fresh = this.snapshot && Date.now() - this.snapshot.at < ttl;
    if (!fresh) await this.readNodes();
    // Pods per node are read only when a plugin needs them: the pod has inter-pod terms or spread
    // constraints, or some placed pod has required anti-affinity (re-checked every few seconds).
    const snap = this.snapshot!;
    const age = snap.podsAt === undefined ? Infinity : Date.now() - snap.podsAt;
    if (age > ((needsPods(pod) || this.antiAffinitySeen) ? ttl : 5000)) await this.readPods(snap);
    return snap.nodes;
  }

  private async readNodes(): Promise<void> {
    const { items } = await this.store.list<Node>('nodes');
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
  }

  /** Reads the bound, non-terminal pods into the snapshot's nodes. */
  private async readPods(snap: { nodes: NodeInfo[]; podsAt?: number }): Promise<void> {
    const { items } = await this.store.list<Pod>('pods');
    const byNode = new Map<string, Pod[]>();
    let anti = false;
    for (const p of items) {
      if (!p.spec.nodeName || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
      if (p.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length) anti = true;
      const list = byNode.get(p.spec.nodeName) ?? [];
      list.push(p);
      byNode.set(p.spec.nodeName, list);
    }
    for (const n of snap.nodes) n.pods = byNode.get(n.node.metadata.name!) ?? [];
    snap.podsAt = Date.now();
    this.antiAffinitySeen = anti;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    for (let attempt = 0; attempt < 5; attempt++) {
      const pod = await this.store.get<Pod>('pods', namespace, name);
      if (!pod || pod.spec.nodeName || pod.metadata.deletionTimestamp) return;
      if ((pod.spec.schedulerName ?? SCHEDULER_NAME) !== SCHEDULER_NAME) return;
      const nodes = await this.nodes(pod);
      const decision = decide(pod, nodes);
      if (!decision.ranked.length) {
        await this.markUnschedulable(pod, unschedulableMessage(decision));
        return { requeueAfterMs: this.opts.retryUnschedulableMs };
      }
      for (const nodeName of decision.ranked.slice(0, 3)) {
        try {
          const bound = await this.store.bindPod(pod, nodeName);
          this.reserveInSnapshot(bound, nodeName);
          await this.events.normal(bound, 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
          await this.opts.onBound?.(bound);
          return;
        } catch (err) {
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

  /** Counts a bind in the cached snapshot so the next pods spread without re-reading Redis. */
  private reserveInSnapshot(pod: Pod, nodeName: string): void {
    const info = this.snapshot?.nodes.find((n) => n.node.metadata.name === nodeName);
    if (!info) return;
    const req = podRequests(pod);
    info.used.pods += 1;
    info.used.cpuMillis += req.cpuMillis;
    info.used.memoryBytes += req.memoryBytes;
    info.pods?.push(pod);
    if (pod.spec.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.length) this.antiAffinitySeen = true;
  }

  private async markUnschedulable(pod: Pod, message: string): Promise<void> {
    const existing = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled');
    if (existing?.status === 'False' && existing.message === message) return;
    await this.store.guaranteedUpdate<Pod>('pods', pod.metadata.namespace, pod.metadata.name!, (cur) => {
      if (cur.spec.nodeName || cur.metadata.uid !== pod.metadata.uid) return null;
      cur.status = cur.status ?? {};
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
