// The scheduler's VolumeBinding: claims decide where a pod may go and whether it may go yet.
import test from 'ava';
import { checkVolumes, type VolumeSnapshot } from '../../services/scheduler/volume-binding.ts';
import { decide, DEFAULT_FILTERS, unschedulableMessage, type NodeInfo } from '../../services/scheduler/plugins.ts';
import { localPathStorageClass, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from '../../shared/api/storage.ts';
import type { Node, Pod } from '../../shared/types.ts';

const node = (name: string): NodeInfo => ({
  node: { apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } } as Node,
  allocatable: { cpuMillis: 4000, memoryBytes: 8e9, pods: 110 }, used: { cpuMillis: 0, memoryBytes: 0, pods: 0 }, pods: [],
});
const pod = (...claims: string[]): Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'x' }], volumes: claims.map((c) => ({ name: c, persistentVolumeClaim: { claimName: c } })) } as any });
const claim = (name: string, extra: Partial<PersistentVolumeClaim['spec']> = {}, annotations?: Record<string, string>, deleted?: string): PersistentVolumeClaim => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'ns', uid: `u-${name}`, annotations, deletionTimestamp: deleted },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...extra },
});
const pinned = (name: string, to: string, extra: Partial<PersistentVolume['spec']> = {}): PersistentVolume => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name },
  spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], local: { path: '/mnt' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [to] }] }] } }, ...extra },
});
const snapshot = (claims: PersistentVolumeClaim[], volumes: PersistentVolume[] = [], classes: StorageClass[] = [localPathStorageClass()]): VolumeSnapshot => ({
  claim: (ns, n) => claims.find((c) => c.metadata.namespace === ns && c.metadata.name === n),
  volume: (n) => volumes.find((v) => v.metadata.name === n),
  volumes: () => volumes,
  storageClass: (n) => classes.find((c) => c.metadata.name === n),
});
const nodes = [node('n1'), node('n2'), node('n3')];

test('a pod whose claim is bound to a pinned volume goes to that node only', (t) => {
  const check = checkVolumes(pod('data'), snapshot([claim('data', { volumeName: 'v' })], [pinned('v', 'n2')]));
  if (check.kind !== 'ready') return t.fail(check.kind);
  const d = decide(pod('data'), nodes, [...DEFAULT_FILTERS, check.filter]);
  t.deepEqual(d.ranked, ['n2']);
  const none = decide(pod('data'), [node('n1'), node('n3')], [...DEFAULT_FILTERS, check.filter]);
  t.is(unschedulableMessage(none), '0/2 nodes are available: 2 node(s) had volume node affinity conflict.');
});

test('an unbound WaitForFirstConsumer claim: nodes where a volume fits or its class provisions; the claim is to be given the node chosen', (t) => {
  const check = checkVolumes(pod('data'), snapshot([claim('data', { storageClassName: 'local-path' })]));
  if (check.kind !== 'ready') return t.fail(check.kind);
  t.deepEqual(check.toSelect.map((c) => c.metadata.name), ['data']);
  t.is(decide(pod('data'), nodes, [...DEFAULT_FILTERS, check.filter]).ranked.length, 3);
  // A class with no provisioner: only nodes a static volume of it reaches.
  const manual: StorageClass = { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'manual' }, provisioner: 'kubernetes.io/no-provisioner', volumeBindingMode: 'WaitForFirstConsumer' };
  const staticCheck = checkVolumes(pod('data'), snapshot([claim('data', { storageClassName: 'manual' })], [pinned('v', 'n3', { storageClassName: 'manual' })], [manual]));
  if (staticCheck.kind !== 'ready') return t.fail(staticCheck.kind);
  const d = decide(pod('data'), nodes, [...DEFAULT_FILTERS, staticCheck.filter]);
  t.deepEqual(d.ranked, ['n3']);
  t.is(unschedulableMessage(decide(pod('data'), [node('n1')], [...DEFAULT_FILTERS, staticCheck.filter])), "0/1 nodes are available: 1 node(s) didn't find available persistent volumes to bind.");
});

test('a claim given a node already: the pod waits for it to be bound there', (t) => {
  const check = checkVolumes(pod('data'), snapshot([claim('data', { storageClassName: 'local-path' }, { 'volume.kubernetes.io/selected-node': 'n2' })]));
  t.like(check, { kind: 'waiting', node: 'n2' });
});

test('missing, deleted and unbound Immediate claims leave the pod unschedulable in Kubernetes\' words', (t) => {
  t.like(checkVolumes(pod('gone'), snapshot([])), { kind: 'unresolvable', message: 'persistentvolumeclaim "gone" not found' });
  t.like(checkVolumes(pod('data'), snapshot([claim('data', {}, undefined, new Date().toISOString())])), { message: 'persistentvolumeclaim "data" is being deleted' });
  const immediate: StorageClass = { ...localPathStorageClass(), metadata: { name: 'now' }, volumeBindingMode: 'Immediate' };
  t.like(checkVolumes(pod('data'), snapshot([claim('data', { storageClassName: 'now' })], [], [immediate])), { message: 'pod has unbound immediate PersistentVolumeClaims' });
  t.like(checkVolumes(pod(), snapshot([])), { kind: 'none' });
});
