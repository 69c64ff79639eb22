// v1 PersistentVolumeClaim (Kubernetes pkg/registry/core/persistentvolumeclaim/strategy.go,
// ValidatePersistentVolumeClaim*), with the admission plugins that concern claims:
// DefaultStorageClass (a claim that names no class gets the default one), StorageObjectInUseProtection
// (the pvc-protection finalizer, so a claim in use outlives its deletion until no pod uses it) and
// PersistentVolumeClaimResize (a claim grows only when its class allows expansion).
import type { KubeObject, StatusCause } from '../../types.ts';
import { STORAGE_SCHEMAS } from '../../api/storage-schemas.ts';
import { dnsSubdomainErrors, forbidden, required } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { ForbiddenError } from '../../errors.ts';
import { accessModesString, compareStorage, defaultClass, PVC_PROTECTION_FINALIZER } from '../../api/storage.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { accessModeErrors, storageQuantityErrors } from './persistentvolume.ts';

/** ValidatePersistentVolumeClaimSpec, at `field` (spec, or a StatefulSet's template's spec). */
export function claimSpecErrors(field: string, spec: Record<string, any> = {}): StatusCause[] {
  const out: StatusCause[] = [];
  out.push(...accessModeErrors(`${field}.accessModes`, spec.accessModes, 'at least 1 access mode is required'));
  const storage = spec.resources?.requests?.storage;
  if (storage === undefined) out.push(required(`${field}.resources[storage]`));
  else out.push(...storageQuantityErrors(`${field}.resources[storage]`, storage));
  if (spec.storageClassName) out.push(...dnsSubdomainErrors(`${field}.storageClassName`, spec.storageClassName));
  return out;
}

/** ValidatePersistentVolumeClaimUpdate: only a bound claim's requests may change, and never shrink. */
function claimUpdateErrors(pvc: KubeObject, old: KubeObject): StatusCause[] {
  const spec = structuredClone(pvc.spec ?? {});
  const before = structuredClone(old.spec ?? {});
  // The PV controller sets volumeName once; the class may be set where none was given.
  if (!before.volumeName) before.volumeName = spec.volumeName;
  if (before.storageClassName === undefined && old.status?.phase !== 'Bound') before.storageClassName = spec.storageClassName;
  const out: StatusCause[] = [];
  if (old.status?.phase === 'Bound') {
    if (compareStorage(spec.resources?.requests?.storage, before.resources?.requests?.storage) < 0) out.push(forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
    before.resources = { ...before.resources, requests: spec.resources?.requests };
    before.volumeAttributesClassName = spec.volumeAttributesClassName;
  }
  const key = (s: Record<string, any>) => JSON.stringify(Object.fromEntries(Object.entries(s).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b))));
  if (!out.length && key(spec) !== key(before)) out.push(forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
  return out;
}

export const persistentVolumeClaimStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'persistentvolumeclaims', kind: 'PersistentVolumeClaim', shortNames: ['pvc'], subresources: ['status'] }),
  schema: STORAGE_SCHEMAS.PersistentVolumeClaim,
  statusSubresource: true,
  nameErrors: NAMES.subdomain,
  /** SetDefaults_PersistentVolumeClaim. */
  defaults(pvc) {
    if (!pvc.spec || typeof pvc.spec !== 'object') return;
    pvc.spec.volumeMode ??= 'Filesystem';
  },
  prepareForCreate(pvc) {
    pvc.status = { phase: 'Pending' };
    const finalizers = pvc.metadata.finalizers ?? [];
    if (!finalizers.includes(PVC_PROTECTION_FINALIZER)) pvc.metadata.finalizers = [...finalizers, PVC_PROTECTION_FINALIZER];
  },
  validate: ({ spec }) => claimSpecErrors('spec', spec),
  validateUpdate: claimUpdateErrors,
  async admit(pvc, old, ctx) {
    if (!old) {
      // DefaultStorageClass: a claim that leaves the class unset (not empty) gets the default.
      if (pvc.spec.storageClassName === undefined) {
        const sc = defaultClass((await ctx.reader.list('storageclasses')).items);
        if (sc) pvc.spec.storageClassName = sc.metadata.name;
      }
      return;
    }
    // PersistentVolumeClaimResize: growing needs a class that allows it.
    if (compareStorage(pvc.spec?.resources?.requests?.storage, old.spec?.resources?.requests?.storage) > 0) {
      const name = pvc.spec.storageClassName;
      const sc = name ? await ctx.reader.get('storageclasses', undefined, name) : null;
      if (!sc?.allowVolumeExpansion) {
        throw new ForbiddenError(`persistentvolumeclaims "${pvc.metadata.name}" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize`, { name: pvc.metadata.name, group: '', kind: 'persistentvolumeclaims' });
      }
    }
  },
  columns: [
    NAME,
    { name: 'Status', description: 'phase represents the current phase of PersistentVolumeClaim.', cell: (c) => (c.metadata.deletionTimestamp ? 'Terminating' : c.status?.phase ?? '') },
    { name: 'Volume', description: 'volumeName is the binding reference to the PersistentVolume backing this claim.', cell: (c) => c.spec?.volumeName ?? '' },
    { name: 'Capacity', description: 'capacity represents the actual resources of the underlying volume.', cell: (c) => (c.spec?.volumeName ? c.status?.capacity?.storage ?? '0' : '') },
    { name: 'Access Modes', description: 'accessModes contains the actual access modes the volume backing the PVC has.', cell: (c) => (c.spec?.volumeName ? accessModesString(c.status?.accessModes) : '') },
    { name: 'StorageClass', description: 'storageClassName is the name of the StorageClass required by the claim.', cell: (c) => c.spec?.storageClassName ?? '' },
    { name: 'VolumeAttributesClass', description: 'volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim.', cell: (c) => c.spec?.volumeAttributesClassName || '<unset>' },
    AGE,
    { name: 'VolumeMode', priority: 1, description: 'volumeMode defines what type of volume is required by the claim.', cell: (c) => c.spec?.volumeMode ?? '<unset>' },
  ],
});
