// v1 PersistentVolume (Kubernetes pkg/registry/core/persistentvolume/strategy.go and
// pkg/apis/core/validation ValidatePersistentVolume): a piece of storage, bound to at most one
// claim by the PV controller. Created with the pv-protection finalizer (the
// StorageObjectInUseProtection admission plugin), so a bound volume outlives its deletion until
// it is released.
import type { StatusCause } from '../../types.ts';
import { STORAGE_SCHEMAS, PV_SOURCES } from '../../api/storage-schemas.ts';
import { dnsSubdomainErrors, forbidden, invalid, required, unsupported } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { tryParseExact } from '../../api/exact-quantity.ts';
import { accessModesString, PV_PROTECTION_FINALIZER } from '../../api/storage.ts';
import { now } from '../../util.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

export const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];

/** Access modes: at least one, each known, ReadWriteOncePod alone (ValidatePersistentVolumeSpec / ClaimSpec). */
export function accessModeErrors(field: string, modes: unknown[] | undefined, requiredWhy = ''): StatusCause[] {
  const out: StatusCause[] = [];
  if (!modes?.length) return [required(field, requiredWhy)];
  for (const m of modes) if (!ACCESS_MODES.includes(m as string)) out.push(unsupported(field, m, ACCESS_MODES));
  if (modes.includes('ReadWriteOncePod') && modes.length > 1) out.push(forbidden(field, 'may not use ReadWriteOncePod with other access modes'));
  return out;
}

/** A storage quantity that must be more than zero. */
export function storageQuantityErrors(field: string, value: unknown): StatusCause[] {
  const q = tryParseExact(value);
  if (!q) return [invalid(field, value, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")];
  if (q.nanos <= 0n) return [invalid(field, value, 'must be greater than zero')];
  return [];
}

function specErrors(spec: Record<string, any>): StatusCause[] {
  const out: StatusCause[] = [];
  out.push(...accessModeErrors('spec.accessModes', spec.accessModes));
  const capacity = spec.capacity ?? {};
  if (!Object.keys(capacity).length) out.push(required('spec.capacity'));
  else if (!('storage' in capacity) || Object.keys(capacity).length > 1) out.push(unsupported('spec.capacity', capacity, ['storage']));
  else out.push(...storageQuantityErrors('spec.capacity[storage]', capacity.storage));
  const policy = spec.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !['Retain', 'Delete', 'Recycle'].includes(policy)) out.push(unsupported('spec.persistentVolumeReclaimPolicy', policy, ['Delete', 'Recycle', 'Retain']));
  if (spec.storageClassName) out.push(...dnsSubdomainErrors('spec.storageClassName', spec.storageClassName));
  const sources = PV_SOURCES.filter((k) => spec[k] !== undefined && spec[k] !== null);
  if (!sources.length) out.push(required('spec', 'must specify a volume type'));
  else if (sources.length > 1) out.push(forbidden(`spec.${sources[1]}`, 'may not specify more than 1 volume type'));
  if (spec.hostPath && !spec.hostPath.path) out.push(required('spec.hostPath.path'));
  if (spec.local) {
    if (!spec.local.path) out.push(required('spec.local.path'));
    if (!spec.nodeAffinity?.required) out.push(required('spec.nodeAffinity', 'Local volume requires node affinity'));
  }
  if (spec.nodeAffinity && !spec.nodeAffinity.required?.nodeSelectorTerms?.length) out.push(required('spec.nodeAffinity.required.nodeSelectorTerms', 'must have at least one node selector term'));
  return out;
}

const source = (spec: Record<string, any> = {}) => JSON.stringify(PV_SOURCES.map((k) => spec[k] ?? null));

export const persistentVolumeStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'persistentvolumes', kind: 'PersistentVolume', namespaced: false, shortNames: ['pv'], subresources: ['status'] }),
  schema: STORAGE_SCHEMAS.PersistentVolume,
  statusSubresource: true,
  nameErrors: NAMES.subdomain,
  /** SetDefaults_PersistentVolume. */
  defaults(pv) {
    if (!pv.spec || typeof pv.spec !== 'object') return;
    pv.spec.persistentVolumeReclaimPolicy ??= 'Retain';
    pv.spec.volumeMode ??= 'Filesystem';
  },
  prepareForCreate(pv) {
    pv.status = { phase: 'Pending', lastPhaseTransitionTime: now() };
    const finalizers = pv.metadata.finalizers ?? [];
    if (!finalizers.includes(PV_PROTECTION_FINALIZER)) pv.metadata.finalizers = [...finalizers, PV_PROTECTION_FINALIZER];
  },
  validate: ({ spec = {} }) => specErrors(spec),
  /** ValidatePersistentVolumeUpdate: the source, the volume mode and the node affinity are fixed. */
  validateUpdate(pv, old) {
    const out: StatusCause[] = [];
    if (source(pv.spec) !== source(old.spec)) out.push(forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation'));
    if ((pv.spec?.volumeMode ?? 'Filesystem') !== (old.spec?.volumeMode ?? 'Filesystem')) out.push(invalid('spec.volumeMode', pv.spec?.volumeMode, 'field is immutable'));
    if (old.spec?.nodeAffinity && JSON.stringify(pv.spec?.nodeAffinity) !== JSON.stringify(old.spec.nodeAffinity)) out.push(invalid('spec.nodeAffinity', pv.spec?.nodeAffinity, 'field is immutable'));
    return out;
  },
  columns: [
    NAME,
    { name: 'Capacity', description: 'capacity is the description of the persistent volume\'s resources and capacity.', cell: (pv) => pv.spec?.capacity?.storage ?? '0' },
    { name: 'Access Modes', description: 'accessModes contains all ways the volume can be mounted.', cell: (pv) => accessModesString(pv.spec?.accessModes) },
    { name: 'Reclaim Policy', description: 'persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim.', cell: (pv) => pv.spec?.persistentVolumeReclaimPolicy ?? '' },
    { name: 'Status', description: 'phase indicates if a volume is available, bound to a claim, or released by a claim.', cell: (pv) => (pv.metadata.deletionTimestamp ? 'Terminating' : pv.status?.phase ?? '') },
    { name: 'Claim', description: 'claimRef is part of a bi-directional binding between PersistentVolume and PersistentVolumeClaim.', cell: (pv) => (pv.spec?.claimRef ? `${pv.spec.claimRef.namespace}/${pv.spec.claimRef.name}` : '') },
    { name: 'StorageClass', description: 'storageClassName is the name of StorageClass to which this persistent volume belongs.', cell: (pv) => pv.spec?.storageClassName ?? '' },
    { name: 'VolumeAttributesClass', description: 'Name of VolumeAttributesClass to which this persistent volume belongs.', cell: (pv) => pv.spec?.volumeAttributesClassName || '<unset>' },
    { name: 'Reason', description: 'reason is a brief CamelCase string that describes any failure.', cell: (pv) => pv.status?.reason ?? '' },
    AGE,
    { name: 'VolumeMode', priority: 1, description: 'volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state.', cell: (pv) => pv.spec?.volumeMode ?? '<unset>' },
  ],
});
