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
import { claimOwners, claimsFor, ordinalOf, planStatefulSet, statefulPod, withClaimVolumes, type StatefulSetStatus } from './plan.ts';

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
    // The claims' owners follow the retention policy before any pod goes (a condemned pod takes its claims with it).
    if (set.spec.volumeClaimTemplates?.length) await this.syncClaimOwners(set, pods);
    for (const pod of plan.delete) await this.deletePod(set, pod);
    for (const { ordinal, revision } of plan.create) {
      const made = revision === 'current' ? statefulPod(set, currentTemplate, currentRevision, ordinal) : statefulPod(set, set.spec.template, updateRevision, ordinal);
      // Each ordinal's claims exist before its pod: a new pod of the ordinal gets the same ones.
      if (!(await this.ensureClaims(set, ordinal))) return { requeueAfterMs: 500 };
      await this.createPod(set, withClaimVolumes(set, made, ordinal));
    }
    await this.writeStatus(set, plan.status);
    return plan.recheckAfterMs ? { requeueAfterMs: plan.recheckAfterMs } : undefined;
  }

  /** Creates the ordinal's missing claims; false while one of them is being deleted (the pod waits for it to go). */
  private async ensureClaims(set: StatefulSet, ordinal: number): Promise<boolean> {
    for (const claim of claimsFor(set, ordinal)) {
      const existing = await this.store.get('persistentvolumeclaims', set.metadata.namespace, claim.metadata.name!);
      if (existing) {
        if (existing.metadata.deletionTimestamp) return false;
        continue;
      }
      claim.metadata.ownerReferences = claimOwners(set, claim, undefined, false);
      if (!claim.metadata.ownerReferences.length) delete claim.metadata.ownerReferences;
      try {
        await this.store.create('persistentvolumeclaims', claim);
        await this.events.normal(set, 'SuccessfulCreate', `create Claim ${claim.metadata.name} Pod ${set.metadata.name}-${ordinal} in StatefulSet ${set.metadata.name} success`);
      } catch (err) {
        if (isAlreadyExists(err)) continue;
        const message = err instanceof Error ? err.message : String(err);
        await this.events.warning(set, 'FailedCreate', `create Claim ${claim.metadata.name} for Pod ${set.metadata.name}-${ordinal} in StatefulSet ${set.metadata.name} failed error: ${message}`);
        throw err;
      }
    }
    return true;
  }

  /** Brings each existing pod's claims' owner references in line with the retention policy. */
  private async syncClaimOwners(set: StatefulSet, pods: Pod[]): Promise<void> {
    const start = set.spec.ordinals?.start ?? 0;
    const end = start + (set.spec.replicas ?? 1);
    const byOrdinal = new Map(pods.map((p) => [ordinalOf(set, p), p]));
    const claims = (await this.store.list('persistentvolumeclaims', set.metadata.namespace)).items;
    for (const claim of claims) {
      const template = (set.spec.volumeClaimTemplates ?? []).find((t) => claim.metadata.name!.startsWith(`${t.metadata.name}-${set.metadata.name}-`));
      if (!template) continue;
      const rest = claim.metadata.name!.slice(`${template.metadata.name}-${set.metadata.name}-`.length);
      if (!/^(0|[1-9]\d*)$/.test(rest)) continue;
      const ordinal = Number(rest);
      const pod = byOrdinal.get(ordinal);
      const owners = claimOwners(set, claim, pod, ordinal < start || ordinal >= end);
      if (JSON.stringify(owners) === JSON.stringify(claim.metadata.ownerReferences ?? [])) continue;
      await this.store.guaranteedUpdate('persistentvolumeclaims', claim.metadata.namespace, claim.metadata.name!, (cur) => {
        if (cur.metadata.uid !== claim.metadata.uid) return null;
        const next = claimOwners(set, cur, pod, ordinal < start || ordinal >= end);
        if (next.length) cur.metadata.ownerReferences = next;
        else delete cur.metadata.ownerReferences;
        return cur;
      }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
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
