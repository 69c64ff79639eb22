// JSON Schemas of v1 PersistentVolume and PersistentVolumeClaim and storage.k8s.io/v1
// StorageClass, with Kubernetes v1.32's field names and Go types (k8s.io/api/core/v1 and
// storage/v1 types.go), built as shared/api/schemas.ts builds the other kinds'.
import { objectMeta, schemaBlocks } from './schemas.ts';

const { named, doc, obj, statusObj, arr, str, time, labelSelector, topLevel, typeMeta, bool, strMap, strArr, enumOf, open, quantityMap, nodeSelectorTerm, objectReference, condition } = schemaBlocks;

const core = (type: string) => `io.k8s.api.core.v1.${type}`;

const accessModes = doc('The ways the volume can be mounted: ReadWriteOnce, ReadOnlyMany, ReadWriteMany, ReadWriteOncePod.', arr(enumOf('ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod')));
const volumeMode = doc('Filesystem (the default) or Block.', enumOf('Filesystem', 'Block'));

// Volume sources Wharf does not provide are accepted as Kubernetes' API shapes.
const otherSources = Object.fromEntries(['nfs', 'csi', 'iscsi', 'awsElasticBlockStore', 'gcePersistentDisk', 'azureDisk', 'azureFile', 'cephfs', 'cinder', 'fc', 'flexVolume', 'flocker', 'glusterfs', 'photonPersistentDisk', 'portworxVolume', 'quobyte', 'rbd', 'scaleIO', 'storageos', 'vsphereVolume'].map((k) => [k, open]));

export const PV_SOURCES = ['hostPath', 'local', ...Object.keys(otherSources)];

const pvSpec = named(core('PersistentVolumeSpec'), obj({
  capacity: doc('The volume\'s resources, e.g. storage: 10Gi.', quantityMap),
  accessModes,
  claimRef: doc('The claim bound to this volume (or the one it is reserved for).', objectReference),
  persistentVolumeReclaimPolicy: doc('What happens when the claim goes: Retain (the default for static volumes), Delete or Recycle.', enumOf('Retain', 'Delete', 'Recycle')),
  storageClassName: doc('The StorageClass this volume belongs to; empty for none.', str),
  mountOptions: strArr,
  volumeMode,
  nodeAffinity: doc('The nodes this volume can be reached from.', named(core('VolumeNodeAffinity'), obj({
    required: named(core('NodeSelector'), obj({ nodeSelectorTerms: arr(nodeSelectorTerm) }, ['nodeSelectorTerms'])),
  }))),
  volumeAttributesClassName: str,
  hostPath: doc('A directory on the node.', named(core('HostPathVolumeSource'), obj({ path: str, type: str }, ['path']))),
  local: doc('A directory or disk of one node (requires nodeAffinity).', named(core('LocalVolumeSource'), obj({ path: str, fsType: str }, ['path']))),
  ...otherSources,
}));

const pvStatus = named(core('PersistentVolumeStatus'), statusObj({
  phase: doc('Pending, Available, Bound, Released or Failed.', str),
  message: str,
  reason: str,
  lastPhaseTransitionTime: time,
}));

const pvcSpec = named(core('PersistentVolumeClaimSpec'), obj({
  accessModes,
  selector: doc('Labels of the volumes that may be bound to this claim.', labelSelector),
  resources: doc('The storage the claim asks for (requests.storage).', named(core('VolumeResourceRequirements'), obj({ limits: quantityMap, requests: quantityMap }))),
  volumeName: doc('The volume bound to this claim.', str),
  storageClassName: doc('The StorageClass the claim asks for; unset: the default class; empty: none.', str),
  volumeMode,
  dataSource: open,
  dataSourceRef: open,
  volumeAttributesClassName: str,
}));

const pvcStatus = named(core('PersistentVolumeClaimStatus'), statusObj({
  phase: doc('Pending, Bound or Lost.', str),
  accessModes: strArr,
  capacity: doc('The actual resources of the bound volume.', quantityMap),
  conditions: arr(condition(core('PersistentVolumeClaimCondition'), ['lastProbeTime', 'lastTransitionTime'])),
  allocatedResources: quantityMap,
  allocatedResourceStatuses: strMap,
  currentVolumeAttributesClassName: str,
  modifyVolumeStatus: open,
}));

/** A claim as a StatefulSet's volumeClaimTemplates hold it. */
export const PVC_SCHEMA = topLevel('A user\'s request for storage, bound to a PersistentVolume.', pvcSpec, pvcStatus);

export const STORAGE_SCHEMAS: Record<string, Record<string, any>> = {
  PersistentVolume: topLevel('A piece of storage in the cluster, bound to at most one claim.', pvSpec, pvStatus),
  PersistentVolumeClaim: PVC_SCHEMA,
  StorageClass: doc('A class of storage: the provisioner that makes its volumes dynamically, and their policies.', obj({
    ...typeMeta,
    metadata: objectMeta,
    provisioner: doc('The provisioner that makes volumes of this class, e.g. rancher.io/local-path.', str),
    parameters: doc('Parameters for the provisioner.', strMap),
    reclaimPolicy: doc('Delete (the default) or Retain, for the volumes it makes.', enumOf('Delete', 'Retain')),
    mountOptions: strArr,
    allowVolumeExpansion: doc('Whether claims of this class may be grown.', bool),
    volumeBindingMode: doc('Immediate (the default) or WaitForFirstConsumer: bind once a pod using the claim is scheduled.', enumOf('Immediate', 'WaitForFirstConsumer')),
    allowedTopologies: arr(named(core('TopologySelectorTerm'), obj({ matchLabelExpressions: arr(obj({ key: str, values: strArr }, ['key', 'values'])) }))),
  }, ['provisioner'])),
};
