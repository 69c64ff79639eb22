// The scheduler's adapter: asks the pure plugins for a ranking over the cache's nodes, and binds
// through the store, whose Lua script re-checks capacity so that concurrent schedulers can never
// overcommit a node or bind a pod twice.
import type { Pod } from '../../shared/types.ts';
import type { Store, StoredEvent } from '../../shared/store/store.ts';
import { InsufficientCapacityError, upsertCondition } from '../../shared/store/store.ts';
import { isConflict, isNotFound } from '../../shared/errors.ts';
import type { EventRecorder } from '../../shared/events.ts';
import type { ReconcileResult } from '../../shared/queue/workqueue.ts';
import { now } from '../../shared/util.ts';
import { decide, unschedulableMessage, type NodeInfo } from './plugins.ts';
import { inCpuPhase, observeAttempt, schedulerBursts, type AttemptResult } from './metrics.ts';
import { podKey, type SchedulerCache } from './cache.ts';
import { nodesToScore, window } from './sampling.ts';
import { isPodTerminal, withDisruptionTarget } from '../../shared/api/podutil.ts';
import { mayPreempt, priorityOf, selectVictims, withNominated } from './preemption.ts';
import { checkVolumes, type VolumeCheck, type VolumeSnapshot } from './volume-binding.ts';
import { DEFAULT_FILTERS, type FilterPlugin } from './plugins.ts';
import { ANN_SELECTED_NODE, podClaimNames, type PersistentVolumeClaim } from '../../shared/api/storage.ts';

export const SCHEDULER_NAME = 'default-scheduler';

/** A pod whose placement depends on the pods already placed. */
export function needsPods(pod: Pod): boolean {
  const a = pod.spec.affinity;
  return !!(a?.podAffinity || a?.podAntiAffinity || pod.spec.topologySpreadConstraints?.length);
}

/** Whether this scheduler should place the pod now: pending (unbound, not finished, not being deleted) and its own. */
export function wantsScheduling(pod: Pod): boolean {
  return !pod.spec.nodeName && !pod.metadata.deletionTimestamp && !isPodTerminal(pod) && (pod.spec.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME;
}

/** Whether a scheduler found no room for the pod (PodScheduled=False, reason Unschedulable): it is in the unschedulable set. */
export function markedUnschedulable(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable');
}

/** What a burst of pod events (as the change feed delivers them) asks of the scheduler. */
export interface Burst {
  /** The pods to decide now (scheduleBatch). */
  toDecide: Pod[];
  /** Bound pods, key -> node, for their nodes' queues. */
  bound: Map<string, string>;
  /** A bound pod finished or went away: the pods found unschedulable may fit now. */
  roomFreed: boolean;
}

/**
 * Sorts a burst of pod events; the last state of each pod in it decides. A pod already found
 * unschedulable is in the unschedulable set, retried after the retry interval and whenever room
 * may have appeared: an update of it (most often the scheduler's own status write coming back, or
 * a spec change, which that retry picks up) is no reason to decide again now. A pod created with
 * that condition is new here, so it is decided.
 */
export function triageBurst(changes: StoredEvent[]): Burst {
  const unbound = new Map<string, Pod>();
  const added = new Set<string>();
  const bound = new Map<string, string>();
  let roomFreed = false;
  for (const ev of changes) {
    const pod = ev.object as Pod;
    const key = podKey(pod);
    if (ev.type !== 'DELETED' && wantsScheduling(pod)) unbound.set(key, pod);
    else unbound.delete(key);
    if (ev.type === 'ADDED') added.add(key);
    if (pod.spec.nodeName) bound.set(key, pod.spec.nodeName);
    if (pod.spec.nodeName && (ev.type === 'DELETED' || isPodTerminal(pod))) roomFreed = true;
  }
  const toDecide = [...unbound.values()].filter((pod) => !markedUnschedulable(pod) || added.has(podKey(pod)));
  return { toDecide, bound, roomFreed };
}

/**
 * Where a pod waits in the scheduling queue: BullMQ runs priority 1 first (up to 2,097,152), so
 * higher pod priorities map lower, monotonically. User priorities within ±100,000 keep a slot
 * each, larger ones are spaced logarithmically; the system classes (2,000,000,000 and up, as
 * system-cluster-critical and system-node-critical) come before all of them, 100 apart a slot.
 */
export function queuePriority(p: number): number {
  if (p >= 2_000_000_000) return 100_000 - Math.min(99_999, Math.floor((p - 2_000_000_000) / 100));
  const magnitude = Math.abs(p);
  const offset = magnitude <= 100_000 ? magnitude : 100_000 + Math.log2(magnitude / 100_000) * 20_000;
  return Math.round(1_100_000 - Math.sign(p) * offset);
}

/** Highest priority first, then oldest first (kube-scheduler's activeQ order). */
export function schedulingOrder(a: Pod, b: Pod): number {
  return priorityOf(b) - priorityOf(a) || (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '');
}

export class Scheduler {
  /** Where the next sampled cycle starts (see sampling.ts). */
  private nextStart = 0;

  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly cache: SchedulerCache,
    private readonly opts: {
      retryUnschedulableMs: number;
      volumeWaitMs?: number;
      /**
       * Resolves once the cache holds the placements made (by any scheduler) before the call:
       * the cache follows the others' in batches, which a decision that depends on them must not
       * be made without. None: the cache is taken as current.
       */
      currentPlacements?: () => Promise<void>;
      /**
       * The view shards whose nodes this scheduler places the pods of its bursts on, undefined for
       * all nodes (shards.ts: a share of a large cluster's nodes each, whose placements alone
       * the cache follows as they happen). A pod that fits none of them takes the one-pod path,
       * which decides over every node once the cache has caught up with all placements.
       */
      ownedShards?: () => ReadonlySet<number> | undefined;
    },
    /** The claims, volumes and classes pods' volumes are checked against (none: pods with claims are decided as if they had none). */
    private readonly volumes?: VolumeSnapshot,
  ) {}

  /**
   * Filters and scores a share of the nodes in a large cluster (percentageOfNodesToScore), all of
   * them when the pod's placement depends on the pods already placed, or when the share has no
   * feasible node (so an unschedulable pod's message counts every node).
   */
  private decide(pod: Pod, extra?: FilterPlugin, opts: { ownNodes?: boolean } = {}) {
    const all = this.cache.nodes();
    const count = nodesToScore(all.length);
    // Binding tries the best node and, if it filled up meanwhile, the next two.
    const filters = extra ? [...DEFAULT_FILTERS, extra] : undefined;
    const rank = (among: NodeInfo[]) => decide(pod, among, filters, undefined, Math.random, 3);
    // Pods waiting for room they preempted keep it from pods of lower priority.
    const nominated = (nodes: NodeInfo[]) => withNominated(pod, nodes, this.cache.nominated());
    if (count >= all.length || needsPods(pod) || this.cache.antiAffinitySeen || extra) return rank(nominated(all));
    const shards = opts.ownNodes ? this.opts.ownedShards?.() : undefined;
    const nodes = nominated(shards ? this.cache.nodesOf(shards) : all);
    if (!nodes.length) return rank([]);
    // A share of the cluster's nodes as large as the whole's sample (or all of them when smaller).
    const sampled = rank(window(nodes, this.nextStart, Math.min(count, nodes.length)));
    this.nextStart = (this.nextStart + count) % nodes.length;
    return sampled.ranked.length || nodes.length <= count ? sampled : rank(nodes);
  }

  /**
   * The fast path for a burst of new pods (as the change feed delivers them): each is decided in
   * turn against the snapshot, highest priority first, each decision assumed before the next, and
   * all the binds go to Redis at once. Returns the keys of the pods this could not bind (nothing
   * fits, the pod changed since the event, a node filled up meanwhile): they take the one-pod
   * path, reconcile, through the scheduling queue, at their priority.
   */
  async scheduleBatch(candidates: Pod[]): Promise<{ key: string; priority: number }[]> {
    // A pod the cache has placed is bound, or being bound here, already: the event that shows it
    // unbound is older than that (the feed can run behind the informer).
    const pods = candidates.filter((p) => wantsScheduling(p) && !this.cache.isPlaced(p)).sort(schedulingOrder);
    if (!pods.length) return [];
    schedulerBursts.inc();
    // Capacity is re-checked by the bind; what the others placed lately matters beyond it only to
    // pods placed relative to other pods, and next to placed pods that keep others away.
    if (this.opts.currentPlacements && (this.cache.antiAffinitySeen || pods.some(needsPods))) await this.opts.currentPlacements();
    const slow: { key: string; priority: number }[] = [];
    const binds: { pod: Pod; nodeName: string; startedMs: number }[] = [];
    inCpuPhase('decide', pods.length, () => {
      for (const pod of pods) {
        const startedMs = performance.now();
        // A pod with claims takes the one-pod path, where its volumes are checked and bound.
        if (this.volumes && podClaimNames(pod).length) {
          slow.push({ key: podKey(pod), priority: queuePriority(priorityOf(pod)) });
          continue;
        }
        const decision = this.decide(pod, undefined, { ownNodes: true });
        if (!decision.ranked.length) {
          slow.push({ key: podKey(pod), priority: queuePriority(priorityOf(pod)) });
          continue;
        }
        if (!this.cache.assume(pod, decision.ranked[0])) continue;
        binds.push({ pod, nodeName: decision.ranked[0], startedMs });
      }
    });
    const sent = inCpuPhase('bind', binds.length, () => binds.map(({ pod, nodeName }) => this.store.bindPod(pod, nodeName)));
    const results = await Promise.allSettled(sent);
    const recorded: Promise<void>[] = [];
    results.forEach((result, i) => {
      const { pod, nodeName, startedMs } = binds[i];
      // A pod that found no node or could not be bound here is counted by the attempt reconcile makes.
      if (result.status === 'fulfilled') {
        observeAttempt(SCHEDULER_NAME, 'scheduled', startedMs);
        recorded.push(this.events.normal(result.value, 'Scheduled', `Successfully assigned ${podKey(pod)} to ${nodeName}`));
        return;
      }
      // Whatever the failure, the one-pod path retries it (with backoff if it persists).
      this.cache.forget(pod);
      slow.push({ key: podKey(pod), priority: queuePriority(priorityOf(pod)) });
    });
    // Pods found unschedulable before and bound now leave the set of those to retry.
    const found = binds.filter(({ pod }, i) => results[i].status === 'fulfilled' && markedUnschedulable(pod)).map(({ pod }) => podKey(pod));
    if (found.length) recorded.push(this.store.clearUnschedulable(found));
    await Promise.all(recorded);
    return slow;
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const startedMs = performance.now();
    try {
      const { result, outcome } = await this.attempt(key);
      if (outcome) observeAttempt(SCHEDULER_NAME, outcome, startedMs);
      return result;
    } catch (err) {
      observeAttempt(SCHEDULER_NAME, 'error', startedMs);
      throw err;
    }
  }

  /** One pod's scheduling attempt, and how it ended (none: the pod needs no scheduling, or changed under it). */
  private async attempt(key: string): Promise<{ result: ReconcileResult; outcome?: AttemptResult }> {
    const [namespace, name] = key.split('/');
    let priority: number | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const pod = await this.store.get<Pod>('pods', namespace, name);
      if (pod) priority = queuePriority(priorityOf(pod));
      if (!pod || !wantsScheduling(pod)) {
        await this.store.clearUnschedulable([key]);
        return { result: undefined };
      }
      const volumes: VolumeCheck = this.volumes ? checkVolumes(pod, this.volumes) : { kind: 'none' };
      if (volumes.kind === 'unresolvable') {
        // No node and no preemption helps until the claims change (a PVC or PV event retries it).
        await this.store.markUnschedulable(key, priorityOf(pod));
        await this.markUnschedulable(pod, `0/${this.cache.nodes().length} nodes are available: ${volumes.message}.`);
        return { result: { requeueAfterMs: this.opts.retryUnschedulableMs, priority }, outcome: 'unschedulable' };
      }
      if (volumes.kind === 'waiting') {
        // PreBind: the claims are being bound on the node chosen for them; the pod waits, Pending.
        if (volumes.toSelect.length) await this.selectNode(volumes.toSelect, volumes.node);
        return { result: { requeueAfterMs: this.opts.volumeWaitMs ?? 250, priority } };
      }
      // The one-pod path (a pod the fast path could not bind, retries, preemption) decides on the latest placements.
      await this.opts.currentPlacements?.();
      const decision = this.decide(pod, volumes.kind === 'ready' ? volumes.filter : undefined);
      if (decision.ranked.length && volumes.kind === 'ready' && volumes.toSelect.length) {
        // Reserve: the claims waiting for their first consumer are made or bound on the best node.
        await this.selectNode(volumes.toSelect, decision.ranked[0]);
        return { result: { requeueAfterMs: this.opts.volumeWaitMs ?? 250, priority } };
      }
      if (!decision.ranked.length) {
        const nominated = await this.preempt(pod);
        await this.store.markUnschedulable(key, priorityOf(pod));
        await this.markUnschedulable(pod, unschedulableMessage(decision), nominated);
        return { result: { requeueAfterMs: nominated ? Math.min(500, this.opts.retryUnschedulableMs) : this.opts.retryUnschedulableMs, priority }, outcome: 'unschedulable' };
      }
      for (const nodeName of decision.ranked.slice(0, 3)) {
        // Assumed at once, before the bind's round trip, so that the pods this process decides
        // meanwhile see it (kube-scheduler's assume cache); forgotten if the bind fails.
        // Bound meanwhile (the informer saw it after this read): read it again.
        if (!this.cache.assume(pod, nodeName)) break;
        try {
          const bound = await this.store.bindPod(pod, nodeName);
          // Found unschedulable before (by a retry of it or by another scheduler): bound now.
          await this.store.clearUnschedulable([key]);
          await this.events.normal(bound, 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
          return { result: undefined, outcome: 'scheduled' };
        } catch (err) {
          this.cache.forget(pod);
          // Another scheduler got there first; the cache will show it soon.
          if (err instanceof InsufficientCapacityError) continue;
          if (isConflict(err) || isNotFound(err)) break; // the pod changed: read it again
          throw err;
        }
      }
    }
    return { result: { requeueAfterMs: 200, priority } };
  }

  /**
   * When the pod fits nowhere, evicts the fewest lowest-priority pods of one node so that it fits
   * there (marked DisruptionTarget/PreemptionByScheduler, an event Preempted, a graceful delete),
   * and returns that node, to be set as the pod's nominatedNodeName.
   */
  private async preempt(pod: Pod): Promise<string | undefined> {
    if (pod.spec.preemptionPolicy === 'Never') return undefined;
    // Nothing placed has a lower priority: no one to preempt (and no need to look further).
    if (priorityOf(pod) <= this.cache.lowestPriority()) return undefined;
    const nodes = this.cache.nodes();
    const plan = selectVictims(pod, nodes);
    if (!plan) return mayPreempt(pod, nodes) ? undefined : pod.status?.nominatedNodeName;
    for (const victim of plan.victims) {
      const message = `${SCHEDULER_NAME}: preempting to accommodate a higher priority pod`;
      await this.store.guaranteedUpdate<Pod>('pods', victim.metadata.namespace, victim.metadata.name!, (cur) => {
        if (cur.metadata.uid !== victim.metadata.uid || cur.metadata.deletionTimestamp) return null;
        cur.status = cur.status ?? {};
        cur.status.conditions = withDisruptionTarget(cur, 'PreemptionByScheduler', message, Date.now());
        return cur;
      }, { subresource: 'status' }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      await this.events.normal(victim, 'Preempted', `Preempted by pod ${pod.metadata.uid} on node ${plan.node}`);
      await this.store.delete('pods', victim.metadata.namespace, victim.metadata.name!, { preconditions: { uid: victim.metadata.uid } }).catch((err) => {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      });
    }
    return plan.node;
  }

  /** Annotates each claim with the node its first consumer goes to (volume.kubernetes.io/selected-node). */
  private async selectNode(claims: PersistentVolumeClaim[], node: string): Promise<void> {
    for (const claim of claims) {
      await this.store.guaranteedUpdate<PersistentVolumeClaim>('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name!, (cur) => {
        if (cur.metadata.uid !== claim.metadata.uid || cur.spec.volumeName || cur.metadata.annotations?.[ANN_SELECTED_NODE]) return null;
        cur.metadata.annotations = { ...cur.metadata.annotations, [ANN_SELECTED_NODE]: node };
        return cur;
      }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
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
