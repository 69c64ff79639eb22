// The ReplicaSet controller: keeps the number of a ReplicaSet's live pods at spec.replicas.
// Reads go straight to Redis, which is never stale, and a key is never reconciled twice at once
// (the work queue's lock); together they do the job Kubernetes' expectations do for its
// informer caches, so two controller replicas cannot create doubles.
import type { Pod, ReplicaSet } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import { isNotFound } from '../../../shared/errors.ts';
import { deepEqual } from '../../../shared/util.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import { activePods, calculateStatus, nextAvailabilityCheckMs, podsToDelete, slowStartBatches, type ManageReplicasError } from './plan.ts';
import { ownedPods, podFromTemplate } from '../pods.ts';

// At most this many pods are created or deleted per reconcile, as Kubernetes' burstReplicas.
const BURST = 500;

export class ReplicaSetController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const rs = await this.store.get<ReplicaSet>('replicasets', namespace, name);
    if (!rs || rs.metadata.deletionTimestamp) return;
    const pods = await ownedPods(this.store, rs);
    let active = activePods(pods);
    const want = rs.spec.replicas ?? 1;
    const diff = active.length - want;
    // As Kubernetes' syncReplicaSet: a failure to manage the pods is reported in the status
    // (ReplicaFailure) before the reconcile fails and is retried with back-off.
    let failure: { error: unknown; status: ManageReplicasError } | undefined;
    try {
      if (diff < 0) {
        const { created, error } = await this.createPods(rs, Math.min(-diff, BURST));
        active = [...active, ...created];
        if (error) throw error;
      } else if (diff > 0) {
        const victims = podsToDelete(active, Math.min(diff, BURST));
        await Promise.all(victims.map((p) => this.deletePod(rs, p)));
        const gone = new Set(victims.map((p) => p.metadata.uid));
        active = active.filter((p) => !gone.has(p.metadata.uid));
      }
    } catch (error) {
      failure = { error, status: { diff, message: error instanceof Error ? error.message : String(error) } };
    }
    await this.writeStatus(rs, active, failure?.status);
    if (failure) throw failure.error;
    const recheck = nextAvailabilityCheckMs(rs, active);
    return recheck ? { requeueAfterMs: recheck } : undefined;
  }

  /** Creates pods in slow-start batches; stops at the first failing batch and returns its error with what was created. */
  private async createPods(rs: ReplicaSet, count: number): Promise<{ created: Pod[]; error?: unknown }> {
    const created: Pod[] = [];
    for (const batch of slowStartBatches(count)) {
      const results = await Promise.allSettled(Array.from({ length: batch }, () => this.store.create<Pod>('pods', podFromTemplate(rs, 'ReplicaSet', 'apps/v1'))));
      for (const r of results) {
        if (r.status === 'fulfilled') {
          created.push(r.value);
          await this.events.normal(rs, 'SuccessfulCreate', `Created pod: ${r.value.metadata.name}`);
        }
      }
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) {
        const message = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
        await this.events.warning(rs, 'FailedCreate', `Error creating: ${message}`);
        // Stop at the first failing batch: the rest would most likely fail the same way.
        return { created, error: failed.reason };
      }
    }
    return { created };
  }

  private async deletePod(rs: ReplicaSet, pod: Pod): Promise<void> {
    try {
      await this.store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      await this.events.normal(rs, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async writeStatus(rs: ReplicaSet, active: Pod[], failure?: ManageReplicasError): Promise<void> {
    const status = calculateStatus(rs, active, Date.now(), failure);
    const merged = (current: ReplicaSet['status']) => {
      const next = { ...current, ...status };
      if (!status.conditions) delete next.conditions;
      return next;
    };
    if (deepEqual(merged(rs.status), rs.status)) return;
    await this.store.guaranteedUpdate<ReplicaSet>('replicasets', rs.metadata.namespace, rs.metadata.name!, (cur) => {
      if (cur.metadata.uid !== rs.metadata.uid) return null;
      cur.status = merged(cur.status);
      return cur;
    }, { subresource: 'status' }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
