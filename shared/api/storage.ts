// Persistent storage as Kubernetes shapes it (k8s.io/api/core/v1 PersistentVolume and
// PersistentVolumeClaim, storage.k8s.io/v1 StorageClass): the types, the well-known annotations
// and finalizers, and the small pure rules every part of Wharf that reads them shares (the
// registry, the PV controller, the scheduler's volume binding, the node agent's provisioner).
import type { KubeObject, Pod } from '../types.ts';
import { cmpQ, tryParseExact } from './exact-quantity.ts';
import { nodeSelectorTermMatches } from './node-affinity.ts';
import { selectorMatches } from './selectors.ts';

export interface PersistentVolume extends KubeObject {
  spec: {
    capacity?: Record<string, string>;
    accessModes?: string[];
    claimRef?: { kind?: string; apiVersion?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string };
    persistentVolumeReclaimPolicy?: 'Retain' | 'Delete' | 'Recycle';
    storageClassName?: string;
    volumeMode?: string;
    nodeAffinity?: { required?: { nodeSelectorTerms?: any[] } };
    hostPath?: { path: string; type?: string };
    local?: { path: string; fsType?: string };
    [source: string]: any;
  };
  status?: { phase?: 'Pending' | 'Available' | 'Bound' | 'Released' | 'Failed'; message?: string; reason?: string; lastPhaseTransitionTime?: string };
}

export interface PersistentVolumeClaim extends KubeObject {
  spec: {
    accessModes?: string[];
    selector?: any;
    resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
    volumeName?: string;
    storageClassName?: string;
    volumeMode?: string;
  };
  status?: { phase?: 'Pending' | 'Bound' | 'Lost'; accessModes?: string[]; capacity?: Record<string, string>; conditions?: any[] };
}

export interface StorageClass extends KubeObject {
  provisioner: string;
  parameters?: Record<string, string>;
  reclaimPolicy?: 'Retain' | 'Delete';
  mountOptions?: string[];
  allowVolumeExpansion?: boolean;
  volumeBindingMode?: 'Immediate' | 'WaitForFirstConsumer';
  allowedTopologies?: any[];
}

// ---- names Kubernetes gives these --------------------------------------------------------

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';
/** On a claim: the volume binding is complete (pv_controller's annBindCompleted). */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** On a claim or volume: the controller, not the user, made the binding. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** On a volume: the provisioner that made it. */
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
/** On a claim: the provisioner asked to make its volume. */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** On a claim: the node the scheduler chose for a WaitForFirstConsumer claim's first pod. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
export const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** The built-in dynamic provisioner of node-local directories, as k3s ships it. */
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
export const LOCAL_PATH_CLASS = 'local-path';

/** The default StorageClass every Wharf cluster starts with (k3s' local-path). */
export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: LOCAL_PATH_CLASS, annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    // A directory has no size to grow: expansion only rewrites the recorded capacity.
    allowVolumeExpansion: true,
  };
}

// ---- pure rules ---------------------------------------------------------------------------

/** Whether the class is marked default (GA or beta annotation, "true"). */
export function isDefaultClass(sc: KubeObject): boolean {
  const a = sc.metadata.annotations ?? {};
  return a[DEFAULT_CLASS_ANNOTATION] === 'true' || a[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

/**
 * The default class among these, as Kubernetes' GetDefaultClass picks it when several are marked:
 * the newest, then the first by name.
 */
export function defaultClass(classes: KubeObject[]): KubeObject | undefined {
  const marked = classes.filter(isDefaultClass);
  marked.sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  return marked[0];
}

/** kubectl's access mode abbreviations, in Kubernetes' order (GetAccessModesAsString). */
export function accessModesString(modes: string[] | undefined): string {
  const m = modes ?? [];
  const out: string[] = [];
  for (const [mode, short] of [['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP']]) if (m.includes(mode)) out.push(short);
  return out.join(',');
}

export const claimClass = (c: PersistentVolumeClaim): string => c.spec?.storageClassName ?? '';
export const volumeClass = (v: PersistentVolume): string => v.spec?.storageClassName ?? '';
export const claimRequest = (c: PersistentVolumeClaim): string | undefined => c.spec?.resources?.requests?.storage;

/** a compared with b as quantities (-1, 0, 1); an unparsable one counts as 0. */
export function compareStorage(a: string | undefined, b: string | undefined): number {
  const qa = tryParseExact(a ?? '0') ?? tryParseExact('0')!;
  const qb = tryParseExact(b ?? '0') ?? tryParseExact('0')!;
  return cmpQ(qa, qb);
}

/** The node names a volume's nodeAffinity allows, when it pins it to kubernetes.io/hostname values; undefined when it does not pin it. */
export function pinnedNodes(pv: PersistentVolume): string[] | undefined {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms?.length) return undefined;
  const names: string[] = [];
  for (const t of terms) {
    const e = (t.matchExpressions ?? []).find((x: any) => x.key === HOSTNAME_LABEL && x.operator === 'In');
    if (!e) return undefined;
    names.push(...(e.values ?? []));
  }
  return names;
}

/** Whether a node satisfies a volume's nodeAffinity (no affinity: any node). */
export function volumeFitsNode(pv: PersistentVolume, node: KubeObject): boolean {
  const terms = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (!terms?.length) return true;
  return terms.some((t) => nodeSelectorTermMatches(t, node.metadata.labels, node.metadata.name!));
}

/**
 * Whether a volume could hold a claim, as pv_controller's findMatchingVolume checks it: the same
 * class, the volume mode, every access mode the claim asks for, capacity at least the request,
 * the claim's selector, and (when given) the node it must be reachable from.
 */
export function volumeMatchesClaim(pv: PersistentVolume, claim: PersistentVolumeClaim, node?: KubeObject): boolean {
  if (volumeClass(pv) !== claimClass(claim)) return false;
  if ((pv.spec.volumeMode ?? 'Filesystem') !== (claim.spec.volumeMode ?? 'Filesystem')) return false;
  const modes = pv.spec.accessModes ?? [];
  if (!(claim.spec.accessModes ?? []).every((m) => modes.includes(m))) return false;
  if (compareStorage(pv.spec.capacity?.storage, claimRequest(claim)) < 0) return false;
  if (claim.spec.selector && !selectorMatches(claim.spec.selector, pv.metadata.labels ?? {})) return false;
  if (node && !volumeFitsNode(pv, node)) return false;
  return true;
}

/** Whether the volume is free for this claim: no claimRef, or one naming this claim (pre-bound) and not another's uid. */
export function volumeAvailableFor(pv: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  if (pv.metadata.deletionTimestamp) return false;
  const ref = pv.spec.claimRef;
  if (!ref) return true;
  return ref.namespace === claim.metadata.namespace && ref.name === claim.metadata.name && (!ref.uid || ref.uid === claim.metadata.uid);
}

/** The smallest matching volume (pv_controller's findBestMatchForClaim); a volume pre-bound to the claim first. */
export function bestVolumeFor(claim: PersistentVolumeClaim, volumes: PersistentVolume[], node?: KubeObject): PersistentVolume | undefined {
  const candidates = volumes.filter((v) => volumeAvailableFor(v, claim) && volumeMatchesClaim(v, claim, node));
  const preBound = candidates.find((v) => v.spec.claimRef);
  if (preBound) return preBound;
  candidates.sort((a, b) => compareStorage(a.spec.capacity?.storage, b.spec.capacity?.storage) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  return candidates[0];
}

/** The claims a pod's volumes name. */
export function podClaimNames(pod: Pod): string[] {
  return ((pod.spec?.volumes ?? []) as any[]).map((v) => v.persistentVolumeClaim?.claimName).filter((n): n is string => typeof n === 'string' && !!n);
}
