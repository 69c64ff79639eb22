// The DaemonSet controller: one pod per node the template can run on, pinned there by a required
// node affinity on metadata.name and bound by the scheduler. Reads go straight to Redis and a key
// is never reconciled twice at once (the work queue's lock), so several replicas create no doubles.
// Its templates are kept as ControllerRevisions (history.ts) for `kubectl rollout history|undo`.
import type { DaemonSet, Node, Pod } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import { isNotFound } from '../../../shared/errors.ts';
import { deepEqual } from '../../../shared/util.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import { slowStartBatches } from '../replicaset/plan.ts';
import { ownedPods, podFromTemplate } from '../pods.ts';
import { liveHashes, syncHistory } from '../history.ts';
import { daemonPodTemplate, nextAvailabilityCheckMs, planDaemonSet, revisionHash } from './plan.ts';

// At most this many pods are created per reconcile, as Kubernetes' burstReplicas.
const BURST = 250;

export class DaemonSetController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const ds = await this.store.get<DaemonSet>('daemonsets', namespace, name);
    if (!ds || ds.metadata.deletionTimestamp) return;
    const nodes = (await this.store.list<Node>('nodes')).items;
    const pods = await ownedPods(this.store, ds);
    await syncHistory(this.store, ds, 'apps/v1', revisionHash(ds), liveHashes(pods));
    const plan = planDaemonSet(ds, nodes, pods);
    await Promise.all(plan.delete.map((p) => this.deletePod(ds, p)));
    await this.createPods(ds, plan.create.slice(0, BURST));
    await this.writeStatus(ds, plan.status);
    const recheck = nextAvailabilityCheckMs(ds, pods);
    return recheck ? { requeueAfterMs: recheck } : undefined;
  }

  private async createPods(ds: DaemonSet, nodeNames: string[]): Promise<void> {
    let next = 0;
    for (const batch of slowStartBatches(nodeNames.length)) {
      const names = nodeNames.slice(next, next + batch);
      next += batch;
      const results = await Promise.allSettled(names.map((node) => this.store.create<Pod>('pods', podFromTemplate({ ...ds, spec: { template: daemonPodTemplate(ds, node) } }, 'DaemonSet', 'apps/v1'))));
      for (const r of results) {
        if (r.status === 'fulfilled') await this.events.normal(ds, 'SuccessfulCreate', `Created pod: ${r.value.metadata.name}`);
      }
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (failed) {
        const message = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
        await this.events.warning(ds, 'FailedCreate', `Error creating: ${message}`);
        throw failed.reason;
      }
    }
  }

  private async deletePod(ds: DaemonSet, pod: Pod): Promise<void> {
    try {
      await this.store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      await this.events.normal(ds, 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async writeStatus(ds: DaemonSet, status: NonNullable<DaemonSet['status']>): Promise<void> {
    if (deepEqual({ ...ds.status, ...status }, ds.status)) return;
    await this.store.guaranteedUpdate<DaemonSet>('daemonsets', ds.metadata.namespace, ds.metadata.name!, (cur) => {
      if (cur.metadata.uid !== ds.metadata.uid) return null;
      cur.status = { ...cur.status, ...status };
      return cur;
    }, { subresource: 'status' }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
