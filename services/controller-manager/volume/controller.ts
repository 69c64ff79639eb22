// The PersistentVolume controller (Kubernetes' persistentvolume-binder with the pvc-protection and
// pv-protection controllers): claims are keyed "namespace/name", volumes by name; each reconcile
// reads the claim or volume and what it is matched against, asks plan.ts, and writes the result:
// a binding volume side first (claimRef), then the claim (volumeName, annotations), then the
// statuses, as pv_controller orders them so that a crash half-way is finished by the next pass.
// Provisioning and deleting local-path directories is the node agents' (they own the disk).
import type { Node, Pod } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { isNotFound } from '../../../shared/errors.ts';
import { now } from '../../../shared/util.ts';
import { ANN_BOUND_BY_CONTROLLER, ANN_SELECTED_NODE, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from '../../../shared/api/storage.ts';
import { planClaim, planVolume } from './plan.ts';

/** What the controller matches claims against, from the manager's informer caches. */
export interface VolumeCaches {
  /** Resolves once the caches hold every change made so far (the change that enqueued this key included). */
  caughtUp(): Promise<void>;
  volumes(): PersistentVolume[];
  classes(): StorageClass[];
}

export class PersistentVolumeController {
  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    /** Asks for a claim to be reconciled (a volume found a binding in progress). */
    private readonly enqueueClaim: (key: string) => Promise<void>,
    private readonly caches: VolumeCaches,
  ) {}

  private classes(): Map<string, StorageClass> {
    return new Map(this.caches.classes().map((c) => [c.metadata.name!, c]));
  }

  async reconcileClaim(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const claim = await this.store.get<PersistentVolumeClaim>('persistentvolumeclaims', namespace, name);
    if (!claim) return;
    await this.caches.caughtUp();
    const volumes = this.caches.volumes();
    const classes = this.classes();
    // Only a claim being deleted asks which pods use it (pvc-protection).
    const pods = claim.metadata.deletionTimestamp ? (await this.store.list<Pod>('pods', namespace)).items : [];
    const selected = claim.metadata.annotations?.[ANN_SELECTED_NODE];
    const node = selected ? (await this.store.get<Node>('nodes', undefined, selected)) ?? undefined : undefined;
    const plan = planClaim(claim, volumes, classes, pods, node);

    if (plan.bindVolume) {
      const bound = await this.store.guaranteedUpdate<PersistentVolume>('persistentvolumes', undefined, plan.bindVolume, (pv) => {
        const ref = pv.spec.claimRef;
        if (ref?.uid && ref.uid !== claim.metadata.uid) return null; // taken meanwhile
        pv.spec.claimRef = { kind: 'PersistentVolumeClaim', namespace, name, uid: claim.metadata.uid, apiVersion: 'v1', resourceVersion: claim.metadata.resourceVersion };
        if (plan.volumeName) pv.metadata.annotations = { ...pv.metadata.annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' };
        return pv;
      });
      if (bound.spec.claimRef?.uid !== claim.metadata.uid) return { requeueAfterMs: 100 };
      await this.writeVolumePhase(bound, 'Bound');
    }
    if (plan.expandVolume) {
      const { name: pvName, storage } = plan.expandVolume;
      await this.store.guaranteedUpdate<PersistentVolume>('persistentvolumes', undefined, pvName, (pv) => {
        pv.spec.capacity = { ...pv.spec.capacity, storage };
        return pv;
      });
    }
    if (plan.volumeName || plan.annotations || plan.releaseFinalizer) {
      await this.store.guaranteedUpdate<PersistentVolumeClaim>('persistentvolumeclaims', namespace, name, (cur) => {
        if (cur.metadata.uid !== claim.metadata.uid) return null;
        if (plan.volumeName && !cur.spec.volumeName) cur.spec.volumeName = plan.volumeName;
        if (plan.annotations) cur.metadata.annotations = { ...cur.metadata.annotations, ...plan.annotations };
        if (plan.releaseFinalizer) cur.metadata.finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== PVC_PROTECTION_FINALIZER);
        return cur;
      }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      if (plan.releaseFinalizer) return;
    }
    if (plan.status) {
      await this.store.guaranteedUpdate<PersistentVolumeClaim>('persistentvolumeclaims', namespace, name, (cur) => {
        if (cur.metadata.uid !== claim.metadata.uid) return null;
        cur.status = { ...cur.status, ...plan.status };
        if (plan.status!.phase !== 'Bound') {
          delete cur.status!.capacity;
          delete cur.status!.accessModes;
        }
        return cur;
      }, { subresource: 'status' }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
    if (plan.event) await this.events.record(claim, plan.event.type, plan.event.reason, plan.event.message);
  }

  async reconcileVolume(name: string): Promise<ReconcileResult> {
    const pv = await this.store.get<PersistentVolume>('persistentvolumes', undefined, name);
    if (!pv) return;
    const ref = pv.spec.claimRef;
    const claim = ref?.name ? await this.store.get<PersistentVolumeClaim>('persistentvolumeclaims', ref.namespace ?? 'default', ref.name) : null;
    const plan = planVolume(pv, claim);
    if (plan.syncClaim) await this.enqueueClaim(plan.syncClaim);
    if (plan.unbind) {
      await this.store.guaranteedUpdate<PersistentVolume>('persistentvolumes', undefined, name, (cur) => {
        if (cur.spec.claimRef?.uid !== ref?.uid) return null;
        delete cur.spec.claimRef;
        return cur;
      });
    }
    if (plan.status) await this.writeVolumePhase(pv, plan.status.phase, plan.status.message, plan.status.reason);
    if (plan.event) await this.events.record(pv, plan.event.type, plan.event.reason, plan.event.message);
    if (plan.releaseFinalizer) {
      await this.store.guaranteedUpdate<PersistentVolume>('persistentvolumes', undefined, name, (cur) => {
        if (cur.metadata.uid !== pv.metadata.uid) return null;
        cur.metadata.finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== PV_PROTECTION_FINALIZER);
        return cur;
      }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  private async writeVolumePhase(pv: PersistentVolume, phase: NonNullable<PersistentVolume['status']>['phase'], message?: string, reason?: string): Promise<void> {
    await this.store.guaranteedUpdate<PersistentVolume>('persistentvolumes', undefined, pv.metadata.name!, (cur) => {
      if (cur.metadata.uid !== pv.metadata.uid) return null;
      const before = cur.status ?? {};
      if (before.phase === phase && (before.message ?? '') === (message ?? '')) return null;
      cur.status = { phase, lastPhaseTransitionTime: before.phase === phase ? before.lastPhaseTransitionTime : now() };
      if (message) cur.status.message = message;
      if (reason) cur.status.reason = reason;
      return cur;
    }, { subresource: 'status' }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
