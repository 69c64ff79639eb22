// Kubernetes' protobuf messages of v1 PersistentVolume and PersistentVolumeClaim and
// storage.k8s.io/v1 StorageClass (k8s.io/api core/v1 and storage/v1 generated.proto); the notation
// is explained in schema.ts. PersistentVolumeClaimSpec and the pod's volume sources are in
// core-pod.ts. The PV-only source types Wharf does not interpret are left out (skipped on the wire).
import type { MessageTable } from './schema.ts';

export const STORAGE_MESSAGES: MessageTable = {
  PersistentVolume: {
    1: 'metadata ObjectMeta',
    2: 'spec PersistentVolumeSpec',
    3: 'status PersistentVolumeStatus',
  },
  PersistentVolumeSpec: {
    1: 'capacity map[string]Quantity',
    2: '...PersistentVolumeSource',
    3: 'accessModes []string',
    4: 'claimRef *ObjectReference',
    5: 'persistentVolumeReclaimPolicy string',
    6: 'storageClassName string',
    7: 'mountOptions []string',
    8: 'volumeMode *string',
    9: 'nodeAffinity *VolumeNodeAffinity',
    10: 'volumeAttributesClassName *string',
  },
  PersistentVolumeSource: {
    1: 'gcePersistentDisk *GCEPersistentDiskVolumeSource',
    2: 'awsElasticBlockStore *AWSElasticBlockStoreVolumeSource',
    3: 'hostPath *HostPathVolumeSource',
    5: 'nfs *NFSVolumeSource',
    10: 'fc *FCVolumeSource',
    11: 'flocker *FlockerVolumeSource',
    14: 'vsphereVolume *VsphereVirtualDiskVolumeSource',
    15: 'quobyte *QuobyteVolumeSource',
    16: 'azureDisk *AzureDiskVolumeSource',
    17: 'photonPersistentDisk *PhotonPersistentDiskVolumeSource',
    18: 'portworxVolume *PortworxVolumeSource',
    20: 'local *LocalVolumeSource',
  },
  LocalVolumeSource: {
    1: 'path string always',
    2: 'fsType *string',
  },
  VolumeNodeAffinity: {
    1: 'required *NodeSelector',
  },
  PersistentVolumeStatus: {
    1: 'phase string',
    2: 'message string',
    3: 'reason string',
    4: 'lastPhaseTransitionTime *Time',
  },
  PersistentVolumeClaim: {
    1: 'metadata ObjectMeta',
    2: 'spec PersistentVolumeClaimSpec',
    3: 'status PersistentVolumeClaimStatus',
  },
  PersistentVolumeClaimStatus: {
    1: 'phase string',
    2: 'accessModes []string',
    3: 'capacity map[string]Quantity',
    4: 'conditions []PersistentVolumeClaimCondition',
    5: 'allocatedResources map[string]Quantity',
    7: 'allocatedResourceStatuses map[string]string',
    8: 'currentVolumeAttributesClassName *string',
  },
  PersistentVolumeClaimCondition: {
    1: 'type string always',
    2: 'status string always',
    3: 'lastProbeTime Time',
    4: 'lastTransitionTime Time',
    5: 'reason string',
    6: 'message string',
  },
  StorageClass: {
    1: 'metadata ObjectMeta',
    2: 'provisioner string always',
    3: 'parameters map[string]string',
    4: 'reclaimPolicy *string',
    5: 'mountOptions []string',
    6: 'allowVolumeExpansion *bool',
    7: 'volumeBindingMode *string',
    8: 'allowedTopologies []TopologySelectorTerm',
  },
  TopologySelectorTerm: {
    1: 'matchLabelExpressions []TopologySelectorLabelRequirement',
  },
  TopologySelectorLabelRequirement: {
    1: 'key string always',
    2: 'values []string',
  },
};
