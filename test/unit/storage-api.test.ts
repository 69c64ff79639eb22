// PersistentVolume, PersistentVolumeClaim and StorageClass as the registry admits and prints them:
// Kubernetes' validation wording, defaults, immutable fields, and kubectl's columns.
import test from 'ava';
import { validateObject, applyDefaults } from '../../shared/registry/admission.ts';
import { strategyFor } from '../../shared/registry/registry.ts';
import { accessModesString, bestVolumeFor, defaultClass, localPathStorageClass, pinnedNodes, type PersistentVolume, type PersistentVolumeClaim } from '../../shared/api/storage.ts';

const messages = (kind: string, obj: any, old?: any) => validateObject(kind, obj, { old }).causes.map((c) => `${c.field}: ${c.message}`);

const pv = (name: string, extra: Record<string, any> = {}): PersistentVolume => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name, labels: extra.labels },
  spec: { capacity: { storage: extra.size ?? '1Gi' }, accessModes: extra.modes ?? ['ReadWriteOnce'], hostPath: { path: `/tmp/${name}` }, storageClassName: extra.class, ...(extra.spec ?? {}) },
});
const pvc = (name: string, extra: Record<string, any> = {}): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { accessModes: extra.modes ?? ['ReadWriteOnce'], resources: { requests: { storage: extra.size ?? '1Gi' } }, storageClassName: extra.class, ...(extra.spec ?? {}) },
});

test('a PersistentVolume needs capacity, access modes and exactly one source; local volumes need node affinity', (t) => {
  t.deepEqual(messages('PersistentVolume', pv('ok')), []);
  const bad = messages('PersistentVolume', { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'bad' }, spec: {} });
  t.true(bad.includes('spec.accessModes: Required value'), bad.join('\n'));
  t.true(bad.includes('spec.capacity: Required value'));
  t.true(bad.includes('spec: Required value: must specify a volume type'));
  const policy = messages('PersistentVolume', pv('p', { spec: { persistentVolumeReclaimPolicy: 'Keep' } }));
  t.true(policy.some((m) => m.startsWith('spec.persistentVolumeReclaimPolicy: Unsupported value: "Keep"')), policy.join('\n'));
  const local = messages('PersistentVolume', pv('l', { spec: { hostPath: undefined, local: { path: '/mnt' } } }));
  t.deepEqual(local, ['spec.nodeAffinity: Required value: Local volume requires node affinity']);
  const two = messages('PersistentVolume', pv('two', { spec: { local: { path: '/mnt' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } } } }));
  t.deepEqual(two, ['spec.local: Forbidden: may not specify more than 1 volume type']);
  const moved = messages('PersistentVolume', pv('ok', { spec: { hostPath: { path: '/elsewhere' } } }), pv('ok'));
  t.deepEqual(moved, ['spec.persistentvolumesource: Forbidden: spec.persistentvolumesource is immutable after creation']);
});

test('defaults: Retain and Filesystem for volumes, Filesystem for claims, Delete and Immediate for classes', (t) => {
  const v = pv('d');
  applyDefaults('PersistentVolume', v);
  t.like(v.spec, { persistentVolumeReclaimPolicy: 'Retain', volumeMode: 'Filesystem' });
  const c = pvc('d');
  applyDefaults('PersistentVolumeClaim', c);
  t.is(c.spec.volumeMode, 'Filesystem');
  const sc: any = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'x' }, provisioner: 'example.com/x' };
  applyDefaults('StorageClass', sc);
  t.like(sc, { reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
});

test('a claim needs access modes and a storage request; its spec is fixed except a bound claim\'s requests, which never shrink', (t) => {
  t.deepEqual(messages('PersistentVolumeClaim', pvc('ok')), []);
  const bad = messages('PersistentVolumeClaim', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'bad' }, spec: { resources: { requests: { storage: '0' } } } });
  t.deepEqual(bad, ['spec.accessModes: Required value: at least 1 access mode is required', 'spec.resources[storage]: Invalid value: "0": must be greater than zero']);
  const bound = { ...pvc('b', { size: '2Gi' }), status: { phase: 'Bound' } };
  t.deepEqual(messages('PersistentVolumeClaim', { ...pvc('b', { size: '1Gi' }), status: { phase: 'Bound' } }, bound), ['spec.resources.requests.storage: Forbidden: field can not be less than previous value']);
  t.deepEqual(messages('PersistentVolumeClaim', { ...pvc('b', { size: '3Gi' }), status: { phase: 'Bound' } }, bound), []);
  const pending = pvc('p');
  t.deepEqual(messages('PersistentVolumeClaim', pvc('p', { size: '3Gi' }), { ...pending, status: { phase: 'Pending' } }), ['spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims']);
  // The PV controller sets volumeName once.
  t.deepEqual(messages('PersistentVolumeClaim', pvc('p', { spec: { volumeName: 'pv-1' } }), pending), []);
});

test('a StorageClass keeps its provisioner, parameters and policies', (t) => {
  const sc = localPathStorageClass();
  t.deepEqual(messages('StorageClass', sc), []);
  const changed = messages('StorageClass', { ...sc, provisioner: 'other.io/x', reclaimPolicy: 'Retain' }, sc);
  t.deepEqual(changed, ['provisioner: Forbidden: updates to provisioner are forbidden.', 'reclaimPolicy: Invalid value: "Retain": field is immutable']);
  t.deepEqual(messages('StorageClass', { ...sc, allowVolumeExpansion: false }, sc), []);
});

test('kubectl columns: access modes abbreviated, the claim as namespace/name, Terminating while deleted, (default) after the default class', (t) => {
  const now = Date.now();
  const row = (plural: string, obj: any) => strategyFor(plural).columns.map((c) => c.cell(obj, now));
  const names = (plural: string) => strategyFor(plural).columns.filter((c) => !c.priority).map((c) => c.name.toUpperCase());
  t.deepEqual(names('persistentvolumes'), ['NAME', 'CAPACITY', 'ACCESS MODES', 'RECLAIM POLICY', 'STATUS', 'CLAIM', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'REASON', 'AGE']);
  t.deepEqual(names('persistentvolumeclaims'), ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
  t.deepEqual(names('storageclasses'), ['NAME', 'PROVISIONER', 'RECLAIMPOLICY', 'VOLUMEBINDINGMODE', 'ALLOWVOLUMEEXPANSION', 'AGE']);
  const v = pv('v', { modes: ['ReadWriteMany', 'ReadWriteOnce'], class: 'local-path', spec: { persistentVolumeReclaimPolicy: 'Delete', claimRef: { namespace: 'default', name: 'data' } } });
  v.status = { phase: 'Bound' };
  t.deepEqual(row('persistentvolumes', v).slice(1, 9), ['1Gi', 'RWO,RWX', 'Delete', 'Bound', 'default/data', 'local-path', '<unset>', '']);
  const c = { ...pvc('c', { class: 'local-path' }), metadata: { name: 'c', deletionTimestamp: new Date().toISOString() } };
  t.deepEqual(row('persistentvolumeclaims', c).slice(1, 7), ['Terminating', '', '', '', 'local-path', '<unset>']);
  t.is(row('storageclasses', localPathStorageClass())[0], 'local-path (default)');
  t.is(accessModesString(['ReadWriteOncePod']), 'RWOP');
});

test('the binder picks the smallest volume that fits class, modes, size and selector; a volume pre-bound to the claim first', (t) => {
  const claim = pvc('data', { size: '2Gi', class: 'slow' });
  const volumes = [pv('big', { size: '10Gi', class: 'slow' }), pv('small', { size: '1Gi', class: 'slow' }), pv('fits', { size: '2Gi', class: 'slow' }), pv('fast', { size: '2Gi', class: 'fast' }), pv('rox', { size: '2Gi', class: 'slow', modes: ['ReadOnlyMany'] })];
  t.is(bestVolumeFor(claim, volumes)?.metadata.name, 'fits');
  const taken = pv('fits', { size: '2Gi', class: 'slow', spec: { claimRef: { namespace: 'default', name: 'other', uid: 'x' } } });
  t.is(bestVolumeFor(claim, [volumes[0], taken])?.metadata.name, 'big');
  const reserved = pv('reserved', { size: '10Gi', class: 'slow', spec: { claimRef: { namespace: 'default', name: 'data' } } });
  t.is(bestVolumeFor(claim, [...volumes, reserved])?.metadata.name, 'reserved');
  const selective = pvc('sel', { size: '1Gi', class: 'slow', spec: { selector: { matchLabels: { tier: 'gold' } } } });
  t.is(bestVolumeFor(selective, [...volumes, pv('gold', { size: '5Gi', class: 'slow', labels: { tier: 'gold' } })])?.metadata.name, 'gold');
  t.is(bestVolumeFor(pvc('none', { size: '20Gi', class: 'slow' }), volumes), undefined);
});

test('the default class is the newest marked one; pinned nodes are read from a hostname affinity', (t) => {
  const mk = (name: string, ts: string, def: boolean) => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name, creationTimestamp: ts, annotations: (def ? { 'storageclass.kubernetes.io/is-default-class': 'true' } : {}) as Record<string, string> } });
  t.is(defaultClass([mk('a', '2026-01-01T00:00:00Z', true), mk('b', '2026-02-01T00:00:00Z', true), mk('c', '2026-03-01T00:00:00Z', false)])?.metadata.name, 'b');
  t.is(defaultClass([mk('c', '2026-03-01T00:00:00Z', false)]), undefined);
  t.deepEqual(pinnedNodes(pv('p', { spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] }] } } } })), ['n1']);
  t.is(pinnedNodes(pv('free')), undefined);
});
