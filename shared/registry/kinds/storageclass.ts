// storage.k8s.io/v1 StorageClass (Kubernetes pkg/registry/storage/storageclass/strategy.go and
// pkg/apis/storage/validation): the provisioner that makes a class's volumes and their policies.
// Everything but its metadata and allowVolumeExpansion is fixed once it exists.
import type { StatusCause } from '../../types.ts';
import { STORAGE_SCHEMAS } from '../../api/storage-schemas.ts';
import { forbidden, invalid, qualifiedNameErrors, required, unsupported } from '../../api/validation.ts';
import { AGE } from '../../api/printers.ts';
import { isDefaultClass } from '../../api/storage.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

function classErrors(sc: Record<string, any>): StatusCause[] {
  const out: StatusCause[] = [];
  if (!sc.provisioner) out.push(required('provisioner'));
  else out.push(...qualifiedNameErrors('provisioner', sc.provisioner));
  if (sc.reclaimPolicy !== undefined && sc.reclaimPolicy !== 'Delete' && sc.reclaimPolicy !== 'Retain') out.push(unsupported('reclaimPolicy', sc.reclaimPolicy, ['Delete', 'Retain']));
  if (sc.volumeBindingMode !== undefined && sc.volumeBindingMode !== 'Immediate' && sc.volumeBindingMode !== 'WaitForFirstConsumer') out.push(unsupported('volumeBindingMode', sc.volumeBindingMode, ['Immediate', 'WaitForFirstConsumer']));
  return out;
}

const FIXED = ['parameters', 'provisioner', 'reclaimPolicy', 'volumeBindingMode'];

export const storageClassStrategy = defineStrategy({
  resource: resourceInfo({ group: 'storage.k8s.io', plural: 'storageclasses', kind: 'StorageClass', namespaced: false, shortNames: ['sc'] }),
  schema: STORAGE_SCHEMAS.StorageClass,
  nameErrors: NAMES.subdomain,
  /** Kubernetes' SetDefaults_StorageClass. */
  defaults(sc) {
    sc.reclaimPolicy ??= 'Delete';
    sc.volumeBindingMode ??= 'Immediate';
  },
  validate: classErrors,
  /** ValidateStorageClassUpdate: parameters, provisioner, reclaimPolicy and volumeBindingMode never change. */
  validateUpdate(sc, old) {
    const out: StatusCause[] = [];
    for (const f of FIXED) {
      if (JSON.stringify(sc[f] ?? null) === JSON.stringify(old[f] ?? null)) continue;
      if (f === 'parameters') out.push(forbidden('parameters', 'updates to parameters are forbidden.'));
      else if (f === 'provisioner') out.push(forbidden('provisioner', 'updates to provisioner are forbidden.'));
      else out.push(invalid(f, sc[f], 'field is immutable'));
    }
    return out;
  },
  columns: [
    { name: 'Name', format: 'name', description: 'Name must be unique within a namespace.', cell: (sc) => (isDefaultClass(sc) ? `${sc.metadata.name} (default)` : sc.metadata.name) },
    { name: 'Provisioner', description: 'Provisioner indicates the type of the provisioner.', cell: (sc) => sc.provisioner ?? '' },
    { name: 'ReclaimPolicy', description: 'reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class.', cell: (sc) => sc.reclaimPolicy ?? 'Delete' },
    { name: 'VolumeBindingMode', description: 'volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.', cell: (sc) => sc.volumeBindingMode ?? 'Immediate' },
    { name: 'AllowVolumeExpansion', description: 'allowVolumeExpansion shows whether the storage class allow volume expand.', cell: (sc) => String(sc.allowVolumeExpansion ?? false) },
    AGE,
  ],
});
