// The StatefulSet controller: pods NAME-0 … NAME-(N-1) (from ordinals.start), each made from the
// template of its revision, with its own hostname under the governing Service. The decisions are
// planStatefulSet's; the templates come from the set's ControllerRevisions (history.ts): the
// update revision is the set's template now, the current revision the one pods below the
// partition keep. A key is never reconciled twice at once (the work queue's lock).
import type { Pod, StatefulSet } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import { isAlreadyExists, isNotFound } from '../../../shared/errors.ts';
import { deepEqual } from '../../../shared/util.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import { templateHash } from '../deployment/plan.ts';
import { revisionTemplate, syncHistory } from '../history.ts';
import { ownedPods } from '../pods.ts';
import { planStatefulSet, statefulPod, type StatefulSetStatus } from './plan.ts';

export class StatefulSetController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const set = await this.store.get<StatefulSet>('statefulsets', namespace, name);
    if (!set || set.metadata.deletionTimestamp) return;
    const pods = await ownedPods(this.store, set);
    const hash = templateHash(set.spec.template);
    const updateRevision = `${name}-${hash}`;
    const live = new Set(pods.map((p) => p.metadata.labels?.['controller-revision-hash']).filter((r): r is string => !!r));
    if (set.status?.currentRevision) live.add(set.status.currentRevision);
    const revisions = await syncHistory(this.store, set, 'apps/v1', hash, live);
    const current = revisions.find((r) => r.metadata.name === set.status?.currentRevision);
    const currentRevision = current ? current.metadata.name! : updateRevision;
    const currentTemplate = (current && revisionTemplate(current)) || set.spec.template;

    const plan = planStatefulSet(set, pods, currentRevision, updateRevision);
    for (const pod of plan.delete) await this.deletePod(set, pod);
    for (const { ordinal, revision } of plan.create) {
      const pod = revision === 'current' ? statefulPod(set, currentTemplate, currentRevision, ordinal) : statefulPod(set, set.spec.template, updateRevision, ordinal);
      await this.createPod(set, pod);
    }
    await this.writeStatus(set, plan.status);
    return plan.recheckAfterMs ? { requeueAfterMs: plan.recheckAfterMs } : undefined;
  }

  private async createPod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.store.create<Pod>('pods', pod);
      await this.events.normal(set, 'SuccessfulCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      // The old pod of this ordinal is still going: the next pass makes it.
      if (isAlreadyExists(err)) return;
      const message = err instanceof Error ? err.message : String(err);
      await this.events.warning(set, 'FailedCreate', `create Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${message}`);
      throw err;
    }
  }

  private async deletePod(set: StatefulSet, pod: Pod): Promise<void> {
    try {
      await this.store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { preconditions: { uid: pod.metadata.uid } });
      await this.events.normal(set, 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async writeStatus(set: StatefulSet, status: StatefulSetStatus): Promise<void> {
    if (deepEqual({ ...set.status, ...status }, set.status)) return;
    await this.store.guaranteedUpdate<StatefulSet>('statefulsets', set.metadata.namespace, set.metadata.name!, (cur) => {
      if (cur.metadata.uid !== set.metadata.uid) return null;
      cur.status = { ...cur.status, ...status };
      return cur;
    }, { subresource: 'status' }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
