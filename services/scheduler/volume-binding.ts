// The scheduler's VolumeBinding plugin (kube-scheduler's volumebinding, in small): a pod's claims
// decide where it may go and whether it may go yet. Pure over a snapshot of claims, volumes and
// classes; the adapter (scheduler.ts) writes what it decides.
//   - a claim that is missing or being deleted, or an unbound claim of an Immediate class: the pod
//     cannot be placed anywhere until that changes (PreFilter's UnschedulableAndUnresolvable);
//   - a bound claim whose volume is pinned to nodes: only those nodes (Filter);
//   - an unbound WaitForFirstConsumer claim: nodes where a static volume fits it or its class's
//     provisioner can make one; once a node is chosen the claim is annotated with it
//     (volume.kubernetes.io/selected-node) so that the volume is made there (Reserve), and the pod
//     waits, unbound and Pending, until every claim is Bound (PreBind).
import type { Pod } from '../../shared/types.ts';
import { ANN_SELECTED_NODE, bestVolumeFor, podClaimNames, volumeFitsNode, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from '../../shared/api/storage.ts';
import type { FilterPlugin, FilterResult } from './plugins.ts';

export interface VolumeSnapshot {
  claim(namespace: string, name: string): PersistentVolumeClaim | undefined;
  volume(name: string): PersistentVolume | undefined;
  volumes(): PersistentVolume[];
  storageClass(name: string): StorageClass | undefined;
}

/** A class that cannot make volumes (static volumes only). */
const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

export type VolumeCheck =
  /** The pod has no claims: nothing to check. */
  | { kind: 'none' }
  /** No node can take the pod until its claims change (the reason, as Kubernetes words it). */
  | { kind: 'unresolvable'; message: string }
  /** Claims were given a node already: the pod waits for them to be bound there. */
  | { kind: 'waiting'; node: string; toSelect: PersistentVolumeClaim[] }
  /** The nodes the claims allow (filter), and the claims to annotate with the node chosen. */
  | { kind: 'ready'; filter: FilterPlugin; toSelect: PersistentVolumeClaim[] };

export function checkVolumes(pod: Pod, snapshot: VolumeSnapshot): VolumeCheck {
  const names = podClaimNames(pod);
  if (!names.length) return { kind: 'none' };
  const ns = pod.metadata.namespace ?? 'default';
  const bound: PersistentVolume[] = [];
  const unbound: { claim: PersistentVolumeClaim; cls: StorageClass }[] = [];
  let selected: string | undefined;
  for (const name of names) {
    const claim = snapshot.claim(ns, name);
    if (!claim) return { kind: 'unresolvable', message: `persistentvolumeclaim "${name}" not found` };
    if (claim.metadata.deletionTimestamp) return { kind: 'unresolvable', message: `persistentvolumeclaim "${name}" is being deleted` };
    if (claim.spec.volumeName) {
      const pv = snapshot.volume(claim.spec.volumeName);
      if (!pv) return { kind: 'unresolvable', message: `pvc ${ns}/${name} bound to non-existent pv ${claim.spec.volumeName}` };
      bound.push(pv);
      continue;
    }
    const cls = claim.spec.storageClassName ? snapshot.storageClass(claim.spec.storageClassName) : undefined;
    if (!cls || cls.volumeBindingMode !== 'WaitForFirstConsumer') return { kind: 'unresolvable', message: 'pod has unbound immediate PersistentVolumeClaims' };
    const node = claim.metadata.annotations?.[ANN_SELECTED_NODE];
    if (node) selected ??= node;
    else unbound.push({ claim, cls });
  }
  if (selected) return { kind: 'waiting', node: selected, toSelect: unbound.map((u) => u.claim) };
  const volumes = unbound.length ? snapshot.volumes() : [];
  const filter: FilterPlugin = {
    name: 'VolumeBinding',
    filter(_pod, info): FilterResult {
      const reasons: string[] = [];
      if (!bound.every((pv) => volumeFitsNode(pv, info.node))) reasons.push('node(s) had volume node affinity conflict');
      for (const { claim, cls } of unbound) {
        if (bestVolumeFor(claim, volumes, info.node)) continue;
        if (cls.provisioner && cls.provisioner !== NO_PROVISIONER) continue;
        reasons.push("node(s) didn't find available persistent volumes to bind");
        break;
      }
      return reasons.length ? { fits: false, reason: reasons.join(', '), reasons } : { fits: true };
    },
  };
  return { kind: 'ready', filter, toSelect: unbound.map((u) => u.claim) };
}
