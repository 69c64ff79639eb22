// The PersistentVolume controller's decisions: binding, phases, reclaim, protection.
import test from 'ava';
import { planClaim, planVolume, podUsesClaim, EXTERNAL_PROVISIONING } from '../../services/controller-manager/volume/plan.ts';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../shared/api/storage.ts';
import type { Pod } from '../../shared/types.ts';

const pv = (name: string, extra: Record<string, any> = {}): PersistentVolume => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name, uid: `pv-${name}`, annotations: extra.annotations, finalizers: ['kubernetes.io/pv-protection'], deletionTimestamp: extra.deleted },
  spec: { capacity: { storage: extra.size ?? '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` }, storageClassName: extra.class, persistentVolumeReclaimPolicy: extra.policy ?? 'Retain', claimRef: extra.claimRef },
  status: { phase: extra.phase ?? 'Available' },
});
const pvc = (name: string, extra: Record<string, any> = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default', uid: `uid-${name}`, annotations: extra.annotations, finalizers: ['kubernetes.io/pvc-protection'], deletionTimestamp: extra.deleted },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: extra.size ?? '1Gi' } }, storageClassName: extra.class, volumeName: extra.volumeName },
  status: { phase: extra.phase ?? 'Pending' },
});
const sc = (name: string, extra: Partial<StorageClass> = {}): StorageClass => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner: 'rancher.io/local-path', reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate', ...extra });
const classes = (...list: StorageClass[]) => new Map(list.map((c) => [c.metadata.name!, c]));
const pod = (claim: string, extra: Partial<Pod['spec']> & { phase?: string } = {}): Pod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: `p-${claim}`, namespace: 'default' },
  spec: { nodeName: 'n1', containers: [], volumes: [{ name: 'v', persistentVolumeClaim: { claimName: claim } }], ...extra } as any,
  status: { phase: (extra.phase ?? 'Running') as any },
});

test('a static claim binds the smallest fitting volume: volume side, claim side and Bound status in one plan', (t) => {
  const plan = planClaim(pvc('data', { size: '2Gi' }), [pv('a', { size: '5Gi' }), pv('b', { size: '3Gi' })], classes(), []);
  t.like(plan, { bindVolume: 'b', volumeName: 'b', status: { phase: 'Bound', capacity: { storage: '3Gi' }, accessModes: ['ReadWriteOnce'] }, annotations: { 'pv.kubernetes.io/bind-completed': 'yes', 'pv.kubernetes.io/bound-by-controller': 'yes' } });
});

test('no class and no volume: Pending with FailedBinding; a missing class: Pending with ProvisioningFailed', (t) => {
  t.like(planClaim(pvc('data'), [], classes(), []), { event: { reason: 'FailedBinding', message: 'no persistent volumes available for this claim and no storage class is set' } });
  t.like(planClaim(pvc('data', { class: 'gold' }), [], classes(), []), { event: { type: 'Warning', reason: 'ProvisioningFailed', message: 'storageclass.storage.k8s.io "gold" not found' } });
});

test('WaitForFirstConsumer waits for a selected node, then asks the class\'s provisioner', (t) => {
  const wffc = sc('local-path', { volumeBindingMode: 'WaitForFirstConsumer' });
  t.like(planClaim(pvc('data', { class: 'local-path' }), [], classes(wffc), []), { event: { reason: 'WaitForFirstConsumer', message: 'waiting for first consumer to be created before binding' } });
  const selected = planClaim(pvc('data', { class: 'local-path', annotations: { 'volume.kubernetes.io/selected-node': 'n1' } }), [], classes(wffc), []);
  t.like(selected, { annotations: { 'volume.kubernetes.io/storage-provisioner': 'rancher.io/local-path', 'volume.beta.kubernetes.io/storage-provisioner': 'rancher.io/local-path' }, event: { reason: 'ExternalProvisioning', message: EXTERNAL_PROVISIONING('rancher.io/local-path') } });
  // A static volume of the class pinned to another node is not taken for a claim whose pod goes to n1.
  const pinned = pv('elsewhere', { class: 'local-path' });
  pinned.spec.nodeAffinity = { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] }] } };
  t.is(planClaim(pvc('data', { class: 'local-path', annotations: { 'volume.kubernetes.io/selected-node': 'n1' } }), [pinned], classes(wffc), []).bindVolume, undefined);
});

test('a bound claim whose volume went is Lost; one that grew records the new capacity where the class allows it', (t) => {
  t.like(planClaim(pvc('data', { volumeName: 'gone', phase: 'Bound' }), [], classes(), []), { status: { phase: 'Lost' }, event: { reason: 'ClaimLost' } });
  const volume = pv('v', { class: 'x', claimRef: { namespace: 'default', name: 'data', uid: 'uid-data' }, phase: 'Bound' });
  const grown = planClaim(pvc('data', { class: 'x', volumeName: 'v', phase: 'Bound', size: '4Gi' }), [volume], classes(sc('x', { allowVolumeExpansion: true })), []);
  t.like(grown, { expandVolume: { name: 'v', storage: '4Gi' }, status: { phase: 'Bound', capacity: { storage: '4Gi' } } });
});

test('pvc-protection: the finalizer goes only once no scheduled, unfinished pod uses the claim', (t) => {
  const deleting = pvc('data', { deleted: new Date().toISOString(), volumeName: 'v', phase: 'Bound' });
  const volume = pv('v', { claimRef: { namespace: 'default', name: 'data', uid: 'uid-data' }, phase: 'Bound' });
  t.falsy(planClaim(deleting, [volume], classes(), [pod('data')]).releaseFinalizer);
  t.true(planClaim(deleting, [volume], classes(), [pod('data', { phase: 'Succeeded' }), pod('other')]).releaseFinalizer);
  t.false(podUsesClaim(pod('data', { nodeName: undefined }), deleting));
});

test('a volume: Available when free, Bound with its claim, Released when the claim goes; Delete without a provisioner fails', (t) => {
  t.like(planVolume(pv('v', { phase: 'Pending' }), null), { status: { phase: 'Available' } });
  const ref = { namespace: 'default', name: 'data', uid: 'uid-data' };
  t.like(planVolume(pv('v', { claimRef: ref }), pvc('data', { volumeName: 'v' })), { status: { phase: 'Bound' } });
  t.like(planVolume(pv('v', { claimRef: ref }), pvc('data')), { syncClaim: 'default/data' });
  t.like(planVolume(pv('v', { claimRef: ref, phase: 'Bound' }), null), { status: { phase: 'Released' } });
  t.deepEqual(planVolume(pv('v', { claimRef: ref, phase: 'Released' }), null), {}, 'Retain keeps it');
  t.deepEqual(planVolume(pv('v', { claimRef: ref, phase: 'Released', policy: 'Delete', annotations: { 'pv.kubernetes.io/provisioned-by': 'rancher.io/local-path' } }), null), {}, 'its provisioner deletes it');
  t.like(planVolume(pv('v', { claimRef: ref, phase: 'Released', policy: 'Delete' }), null), { status: { phase: 'Failed' }, event: { reason: 'VolumeFailedDelete' } });
});

test('pv-protection: a volume being deleted keeps its finalizer while bound', (t) => {
  const ref = { namespace: 'default', name: 'data', uid: 'uid-data' };
  const deleted = new Date().toISOString();
  t.falsy(planVolume(pv('v', { claimRef: ref, phase: 'Bound', deleted }), pvc('data', { volumeName: 'v' })).releaseFinalizer);
  t.true(planVolume(pv('v', { phase: 'Available', deleted }), null).releaseFinalizer);
  t.true(planVolume(pv('v', { claimRef: ref, phase: 'Bound', deleted }), null).releaseFinalizer, 'released once its claim is gone');
});
