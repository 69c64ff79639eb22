// The node agent's local-path provisioner: which claims a node provisions, the volume it makes, and
// which released volumes it deletes.
import test from 'ava';
import { claimsToProvision, provisionedVolume, volumesToDelete } from '../../services/node-agent/local-path.ts';
import { localPathStorageClass, type PersistentVolumeClaim } from '../../shared/api/storage.ts';

const claim = (name: string, annotations: Record<string, string>, extra: Partial<PersistentVolumeClaim['spec']> = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'ns', uid: `u-${name}`, annotations },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '2Gi' } }, storageClassName: 'local-path', ...extra },
});
const asked = { 'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path' };
const classes = new Map([['local-path', localPathStorageClass()]]);

test('a node provisions the local-path claims placed on it that have no volume yet', (t) => {
  const claims = [
    claim('mine', { ...asked, 'volume.kubernetes.io/selected-node': 'n1' }),
    claim('theirs', { ...asked, 'volume.kubernetes.io/selected-node': 'n2' }),
    claim('unplaced', asked),
    claim('made', { ...asked, 'volume.kubernetes.io/selected-node': 'n1' }),
    claim('bound', { ...asked, 'volume.kubernetes.io/selected-node': 'n1' }, { volumeName: 'x' }),
    claim('other-class', { ...asked, 'volume.kubernetes.io/selected-node': 'n1' }, { storageClassName: 'fast' }),
  ];
  t.deepEqual(claimsToProvision(claims, classes, new Set(['pvc-u-made']), 'n1').map((c) => c.claim.metadata.name), ['mine']);
});

test('the volume: a directory per claim under the storage directory, pinned to the node, the class\'s reclaim policy, reserved for the claim', (t) => {
  const pv = provisionedVolume(claim('data', {}), localPathStorageClass(), 'n1', '/var/wharf/storage');
  t.like(pv, {
    metadata: { name: 'pvc-u-data', annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' } },
    spec: {
      capacity: { storage: '2Gi' }, persistentVolumeReclaimPolicy: 'Delete', storageClassName: 'local-path',
      claimRef: { namespace: 'ns', name: 'data', uid: 'u-data' },
      hostPath: { path: '/var/wharf/storage/pvc-u-data_ns_data', type: 'DirectoryOrCreate' },
    },
  });
  t.deepEqual(pv.spec.nodeAffinity, { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } });
  t.deepEqual(volumesToDelete([pv], 'n1'), [], 'not released');
  const released = { ...pv, status: { phase: 'Released' as const } };
  t.is(volumesToDelete([released], 'n1').length, 1);
  t.deepEqual(volumesToDelete([released], 'n2'), [], 'another node\'s');
  t.deepEqual(volumesToDelete([{ ...released, spec: { ...released.spec, persistentVolumeReclaimPolicy: 'Retain' } }], 'n1'), [], 'Retain keeps it');
});
