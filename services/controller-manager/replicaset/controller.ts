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
import { activePods, calculateStatus, nextAvailabilityCheckMs, podsToDelete, slowStartBatches } from './plan.ts';
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
    if (diff < 0) {
      const created = await this.createPods(rs, Math.min(-diff, BURST));
      active = [...active, ...created];
    } else if (diff > 0) {
      const victims = podsToDelete(active, Math.min(diff, BURST));
      await Promise.all(victims.map((p) => this.deletePod(rs, p)));
      const gone = new Set(victims.map((p) => p.metadata.uid));
      active = active.filter((p) => !gone.has(p.metadata.uid));
    }
    await this.writeStatus(rs, active);
    const recheck = nextAvailabilityCheckMs(rs, active);
    return recheck ? { requeueAfterMs: recheck } : undefined;
  }

  private async createPods(rs: ReplicaSet, count: number): Promise<Pod[]> {
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
        throw failed.reason;
      }
    }
    return created;
  }

  private async deletePod(rs: ReplicaSet, pod: Pod): Promise<void> {
    try {
      await this.store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      await this.events.normal(rs, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async writeStatus(rs: ReplicaSet, active: Pod[]): Promise<void> {
    const status = calculateStatus(rs, active);
    if (deepEqual({ ...rs.status, ...status }, rs.status)) return;
    await this.store.guaranteedUpdate<ReplicaSet>('replicasets', rs.metadata.namespace, rs.metadata.name!, (cur) => {
      if (cur.metadata.uid !== rs.metadata.uid) return null;
      cur.status = { ...cur.status, ...status };
      return cur;
    }, { subresource: 'status' }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
