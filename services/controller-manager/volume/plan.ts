// Pure decisions of the PersistentVolume controller, as Kubernetes' pkg/controller/volume
// (persistentvolume/pv_controller.go syncClaim / syncVolume, pvcprotection and pvprotection):
// which volume a claim binds to, the phases of both (claims Pending/Bound/Lost, volumes
// Pending/Available/Bound/Released/Failed), what happens to a released volume (Retain keeps it,
// Delete hands it to its provisioner), and when the protection finalizers may go.
import type { KubeObject, Pod } from '../../../shared/types.ts';
import { isPodTerminal } from '../../../shared/api/podutil.ts';
import {
  ANN_BETA_STORAGE_PROVISIONER, ANN_BIND_COMPLETED, ANN_BOUND_BY_CONTROLLER, ANN_PROVISIONED_BY, ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER,
  bestVolumeFor, claimClass, claimRequest, compareStorage, podClaimNames, PV_PROTECTION_FINALIZER, PVC_PROTECTION_FINALIZER,
  type PersistentVolume, type PersistentVolumeClaim, type StorageClass,
} from '../../../shared/api/storage.ts';

export type ClaimPhase = 'Pending' | 'Bound' | 'Lost';
export type VolumePhase = 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed';
export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface ClaimPlan {
  /** Point this volume's claimRef at the claim (the volume side of a binding, written first). */
  bindVolume?: string;
  /** Set the claim's spec.volumeName (the claim side, written second). */
  volumeName?: string;
  /** Annotations the claim should carry. */
  annotations?: Record<string, string>;
  /** The claim's status, when it should change. */
  status?: { phase: ClaimPhase; capacity?: Record<string, string>; accessModes?: string[] };
  /** A bound claim grew (its class allows it): the volume's recorded capacity follows. */
  expandVolume?: { name: string; storage: string };
  /** Remove the pvc-protection finalizer: the claim is being deleted and no pod uses it. */
  releaseFinalizer?: boolean;
  event?: PlannedEvent;
}

export interface VolumePlan {
  status?: { phase: VolumePhase; message?: string; reason?: string };
  /** Clear the claimRef (a binding the controller made to a claim now bound elsewhere). */
  unbind?: boolean;
  /** Remove the pv-protection finalizer: the volume is being deleted and is not bound. */
  releaseFinalizer?: boolean;
  /** The claim to reconcile next (binding in progress). */
  syncClaim?: string;
  event?: PlannedEvent;
}

export const EXTERNAL_PROVISIONING = (provisioner: string) =>
  `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`;

/** Whether a pod keeps its claim in use (pvcprotection's podUsesPVC): scheduled, not finished, naming it. */
export function podUsesClaim(pod: Pod, claim: KubeObject): boolean {
  return pod.metadata.namespace === claim.metadata.namespace && !!pod.spec.nodeName && !isPodTerminal(pod) && podClaimNames(pod).includes(claim.metadata.name!);
}

const boundTo = (pv: PersistentVolume, claim: PersistentVolumeClaim) => pv.spec.claimRef?.uid === claim.metadata.uid;

/** The claim's bound status, as it should read for this volume. */
function boundStatus(claim: PersistentVolumeClaim, pv: PersistentVolume, cls: StorageClass | undefined): ClaimPlan {
  const plan: ClaimPlan = {};
  const capacity = { ...(pv.spec.capacity ?? {}) };
  // Expansion: a directory has no size of its own, so growing is only recording the new one.
  const wanted = claimRequest(claim);
  if (cls?.allowVolumeExpansion && compareStorage(wanted, capacity.storage) > 0) {
    plan.expandVolume = { name: pv.metadata.name!, storage: wanted! };
    capacity.storage = wanted!;
  }
  const s = claim.status ?? {};
  if (s.phase !== 'Bound' || JSON.stringify(s.capacity ?? {}) !== JSON.stringify(capacity) || JSON.stringify(s.accessModes ?? []) !== JSON.stringify(pv.spec.accessModes ?? [])) {
    plan.status = { phase: 'Bound', capacity, accessModes: pv.spec.accessModes ?? [] };
  }
  if (claim.metadata.annotations?.[ANN_BIND_COMPLETED] !== 'yes') plan.annotations = { [ANN_BIND_COMPLETED]: 'yes' };
  return plan;
}

export function planClaim(claim: PersistentVolumeClaim, volumes: PersistentVolume[], classes: Map<string, StorageClass>, pods: Pod[], node?: KubeObject): ClaimPlan {
  const className = claimClass(claim);
  const cls = className ? classes.get(className) : undefined;
  const protect = (plan: ClaimPlan): ClaimPlan => {
    if (claim.metadata.deletionTimestamp && (claim.metadata.finalizers ?? []).includes(PVC_PROTECTION_FINALIZER) && !pods.some((p) => podUsesClaim(p, claim))) plan.releaseFinalizer = true;
    return plan;
  };

  if (claim.spec.volumeName) {
    const pv = volumes.find((v) => v.metadata.name === claim.spec.volumeName);
    if (!pv) {
      if (claim.status?.phase === 'Bound') return protect({ status: { phase: 'Lost' }, event: { type: 'Warning', reason: 'ClaimLost', message: 'Bound claim has lost its PersistentVolume. Data on the volume is lost!' } });
      return protect({});
    }
    if (!pv.spec.claimRef || (!pv.spec.claimRef.uid && pv.spec.claimRef.namespace === claim.metadata.namespace && pv.spec.claimRef.name === claim.metadata.name)) {
      // The claim names the volume (pre-bound by the user): the volume side follows.
      return protect({ bindVolume: pv.metadata.name, ...boundStatus(claim, pv, cls) });
    }
    if (boundTo(pv, claim)) return protect(boundStatus(claim, pv, cls));
    if (claim.status?.phase === 'Lost') return protect({});
    return protect({ status: { phase: 'Lost' }, event: { type: 'Warning', reason: 'ClaimMisbound', message: 'Two claims are bound to the same volume, this one is bound incorrectly' } });
  }

  // Unbound: a pending claim being deleted binds to nothing.
  if (claim.metadata.deletionTimestamp) return protect({});
  const pending = (event?: PlannedEvent, annotations?: Record<string, string>): ClaimPlan =>
    protect({ ...(claim.status?.phase !== 'Pending' ? { status: { phase: 'Pending' } } : {}), ...(event ? { event } : {}), ...(annotations ? { annotations } : {}) });
  if (className && !cls) return pending({ type: 'Warning', reason: 'ProvisioningFailed', message: `storageclass.storage.k8s.io "${className}" not found` });
  const selectedNode = claim.metadata.annotations?.[ANN_SELECTED_NODE];
  if (cls?.volumeBindingMode === 'WaitForFirstConsumer' && !selectedNode) {
    return pending({ type: 'Normal', reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' });
  }
  const nodeFor = selectedNode ? node ?? { apiVersion: 'v1', kind: 'Node', metadata: { name: selectedNode, labels: { 'kubernetes.io/hostname': selectedNode } } } : undefined;
  const match = bestVolumeFor(claim, volumes, nodeFor);
  if (match) {
    return protect({ bindVolume: match.metadata.name, volumeName: match.metadata.name, annotations: { [ANN_BIND_COMPLETED]: 'yes', [ANN_BOUND_BY_CONTROLLER]: 'yes' }, status: { phase: 'Bound', capacity: { ...(match.spec.capacity ?? {}) }, accessModes: match.spec.accessModes ?? [] } });
  }
  if (!cls) return pending({ type: 'Normal', reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' });
  const a = claim.metadata.annotations ?? {};
  const ask = a[ANN_STORAGE_PROVISIONER] === cls.provisioner && a[ANN_BETA_STORAGE_PROVISIONER] === cls.provisioner ? undefined : { [ANN_STORAGE_PROVISIONER]: cls.provisioner, [ANN_BETA_STORAGE_PROVISIONER]: cls.provisioner };
  return pending({ type: 'Normal', reason: 'ExternalProvisioning', message: EXTERNAL_PROVISIONING(cls.provisioner) }, ask);
}

export function planVolume(pv: PersistentVolume, claim: PersistentVolumeClaim | null): VolumePlan {
  const phase = pv.status?.phase;
  const plan: VolumePlan = {};
  const set = (next: VolumePhase, extra: { message?: string; reason?: string } = {}) => {
    if (phase !== next || (extra.message ?? '') !== (pv.status?.message ?? '')) plan.status = { phase: next, ...extra };
  };
  const ref = pv.spec.claimRef;
  if (!ref) set('Available');
  else if (!claim || (ref.uid && claim.metadata.uid !== ref.uid)) {
    if (!ref.uid) set('Available'); // reserved for a claim that does not exist yet
    else if (phase !== 'Released' && phase !== 'Failed') set('Released');
    else if (phase === 'Released' && pv.spec.persistentVolumeReclaimPolicy === 'Delete' && !pv.metadata.annotations?.[ANN_PROVISIONED_BY]) {
      // No provisioner made it, so none will delete it (Kubernetes has no deleter for hostPath outside /tmp).
      const message = `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched`;
      set('Failed', { message });
      plan.event = { type: 'Warning', reason: 'VolumeFailedDelete', message };
    } else if (phase === 'Released' && pv.spec.persistentVolumeReclaimPolicy === 'Recycle') {
      const message = `No recycler plugin found for the volume!`;
      set('Failed', { message });
      plan.event = { type: 'Warning', reason: 'VolumeFailedRecycle', message };
    }
  } else if (claim.spec.volumeName === pv.metadata.name) set('Bound');
  else if (!claim.spec.volumeName) plan.syncClaim = `${claim.metadata.namespace}/${claim.metadata.name}`; // binding in progress
  else if (pv.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] === 'yes') {
    // The claim went to another volume: this binding of the controller's is undone.
    plan.unbind = true;
    set('Available');
  } else set('Released');
  // pv-protection: a volume being deleted goes once it is no longer bound.
  const finalPhase = plan.status?.phase ?? phase;
  if (pv.metadata.deletionTimestamp && (pv.metadata.finalizers ?? []).includes(PV_PROTECTION_FINALIZER) && finalPhase !== 'Bound') plan.releaseFinalizer = true;
  return plan;
}
