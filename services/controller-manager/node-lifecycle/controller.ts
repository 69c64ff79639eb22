// The node lifecycle controller: reconciles one node (key = node name) from its Node, its Lease
// and the pods bound to it — marks a silent node Ready=Unknown, taints it, evicts the pods that do
// not tolerate that (at once or when their tolerationSeconds run out) and deletes the pods of a
// node that is gone. Every decision is in plan.ts; this only reads and writes. Time passing is
// not an event, so a reconcile asks to look again when the node's grace period or a pod's
// toleration runs out.
import type { Logger } from '../../../shared/log.ts';
import type { KubeObject, Node, Pod } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { isConflict, isNotFound } from '../../../shared/errors.ts';
import {
  LEASE_NAMESPACE,
  earliest,
  planNodeHealth,
  planOrphans,
  planPods,
  planTaints,
  podNotReady,
  podsConcerned,
} from './plan.ts';
import { withDisruptionTarget } from '../../../shared/api/podutil.ts';

export interface NodeLifecycleOptions {
  /** How long a node may stay silent before it is Ready=Unknown (WHARF_NODE_MONITOR_GRACE). */
  graceMs: number;
  log: Logger;
}

/** An earlier check already queued is enough: it looks again later itself. Closer than this, queue another anyway. */
const PENDING_SLACK_MS = 500;

export class NodeLifecycleController {
  /** node -> when this process last queued a delayed check for it (epoch ms). */
  private readonly checks = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly nodeEvents: EventRecorder,
    private readonly evictionEvents: EventRecorder,
    private readonly opts: NodeLifecycleOptions,
  ) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const nowMs = Date.now();
    let node = await this.store.get<Node>('nodes', undefined, name);
    if (!node) return this.lookAgain(name, await this.collectOrphans(name, nowMs), nowMs);
    const lease = await this.store.get('leases', LEASE_NAMESPACE, name);
    const health = planNodeHealth(node, lease, nowMs, this.opts.graceMs);
    if (health.conditions) node = await this.markSilent(node, lease, nowMs);
    if (planTaints(node, nowMs)) {
      node = await this.store.guaranteedUpdate<Node>('nodes', undefined, name, (cur) => {
        const taints = planTaints(cur, nowMs);
        if (!taints) return null;
        cur.spec = { ...cur.spec, taints: taints.length ? taints : undefined };
        if (!taints.length) delete cur.spec.taints;
        return cur;
      });
    }
    let podsNext: number | undefined;
    if (podsConcerned(node)) {
      const plan = planPods(node, await this.podsOnNode(name), nowMs);
      for (const pod of plan.markNotReady) await this.markNotReady(pod, nowMs);
      for (const pod of plan.evict) await this.evict(pod, nowMs);
      podsNext = plan.requeueAfterMs;
    }
    return this.lookAgain(name, earliest(health.expiresInMs, podsNext), nowMs);
  }

  /**
   * The keys a periodic resync covers: every node, and every node that is gone but still has pods
   * bound to it (their pods are charged to it in the node usage index).
   */
  async resyncKeys(): Promise<string[]> {
    const names = new Set((await this.store.list('nodes')).items.map((n) => n.metadata.name!));
    for (const name of await this.store.nodesWithCharges()) names.add(name);
    return [...names];
  }

  /** Ready=Unknown and friends through the status subresource, decided again on the current object. */
  private async markSilent(node: Node, lease: KubeObject | null, nowMs: number): Promise<Node> {
    let changed = false;
    const updated = await this.store.guaranteedUpdate<Node>('nodes', undefined, node.metadata.name!, (cur) => {
      const { conditions } = planNodeHealth(cur, lease, nowMs, this.opts.graceMs);
      if (!conditions) return null;
      changed = true;
      cur.status = { ...cur.status, conditions };
      return cur;
    }, { subresource: 'status' });
    if (changed) {
      this.opts.log.info({ node: node.metadata.name }, 'node stopped posting status; marked Ready=Unknown');
      await this.nodeEvents.normal(updated, 'NodeNotReady', `Node ${node.metadata.name} status is now: NodeNotReady`);
    }
    return updated;
  }

  /**
   * The pods bound to a node, found through the node usage index (every bound, non-terminal pod
   * is charged to its node there), so a node costs its own pods rather than a scan of all pods.
   */
  private async podsOnNode(name: string): Promise<Pod[]> {
    // A pod charged to the node that was deleted and re-created elsewhere meanwhile is not its pod.
    return (await this.store.podsChargedTo(name)).filter((pod) => pod.spec.nodeName === name);
  }


  private async markNotReady(pod: Pod, nowMs: number): Promise<void> {
    let changed = false;
    await this.store.guaranteedUpdate<Pod>('pods', pod.metadata.namespace, pod.metadata.name!, (cur) => {
      const conditions = cur.metadata.uid === pod.metadata.uid ? podNotReady(cur, nowMs) : undefined;
      if (!conditions) return null;
      changed = true;
      cur.status = { ...cur.status, conditions };
      return cur;
    }, { subresource: 'status' }).catch(ignoreGone);
    if (changed) await this.nodeEvents.warning(pod, 'NodeNotReady', 'Node is not ready');
  }

  /** The taint eviction controller's deletion: marked DisruptionTarget, an event, then deleted with the pod's grace period. */
  private async evict(pod: Pod, nowMs: number): Promise<void> {
    const ref = `${pod.metadata.namespace}/${pod.metadata.name}`;
    this.opts.log.info({ pod: ref, node: pod.spec.nodeName }, 'evicting pod from a NoExecute-tainted node');
    await this.markDisruption(pod, 'DeletionByTaintManager', 'Taint manager: deleting due to NoExecute taint', nowMs);
    await this.evictionEvents.normal(pod, 'TaintManagerEviction', `Marking for deletion Pod ${ref}`);
    await this.store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } }).catch(ignoreGone);
  }

  /** Pods bound to a node that does not exist are failed and deleted at once: nothing is left to stop them. */
  private async collectOrphans(name: string, nowMs: number): Promise<number | undefined> {
    const plan = planOrphans(name, await this.podsOnNode(name), nowMs, this.opts.graceMs);
    for (const pod of plan.delete) {
      this.opts.log.info({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, node: name }, 'deleting pod bound to a node that is gone');
      await this.markDisruption(pod, 'DeletionByPodGC', 'PodGC: node no longer exists', nowMs, true);
      await this.store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } }).catch(ignoreGone);
    }
    return plan.requeueAfterMs;
  }

  private async markDisruption(pod: Pod, reason: string, message: string, nowMs: number, fail = false): Promise<void> {
    await this.store.guaranteedUpdate<Pod>('pods', pod.metadata.namespace, pod.metadata.name!, (cur) => {
      if (cur.metadata.uid !== pod.metadata.uid || cur.metadata.deletionTimestamp) return null;
      const terminal = cur.status?.phase === 'Succeeded' || cur.status?.phase === 'Failed';
      cur.status = { ...cur.status, conditions: withDisruptionTarget(cur, reason, message, nowMs), ...(fail && !terminal ? { phase: 'Failed' } : {}) };
      return cur;
    }, { subresource: 'status' }).catch(ignoreGone);
  }

  /**
   * Asks for the node to be looked at again in afterMs, unless this process already queued an
   * earlier look that has not come yet (that one asks again itself): heartbeats would otherwise
   * pile up one delayed job each.
   */
  private lookAgain(name: string, afterMs: number | undefined, nowMs: number): ReconcileResult {
    if (afterMs === undefined) return;
    const due = nowMs + afterMs;
    const queued = this.checks.get(name);
    if (queued !== undefined && queued > nowMs + PENDING_SLACK_MS && queued <= due) return;
    this.checks.set(name, due);
    return { requeueAfterMs: Math.max(1, afterMs) };
  }
}

function ignoreGone(err: unknown): void {
  if (!isNotFound(err) && !isConflict(err)) throw err;
}
