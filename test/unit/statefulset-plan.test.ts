import test from 'ava';
import { claimOwners, claimsFor, ordinalOf, planStatefulSet, statefulPod, withClaimVolumes, POD_INDEX_LABEL, POD_NAME_LABEL } from '../../services/controller-manager/statefulset/plan.ts';
import type { Pod, StatefulSet } from '../../shared/types.ts';

const NOW = Date.parse('2026-12-03T12:00:00Z');
const set = (spec: Partial<StatefulSet['spec']> = {}): StatefulSet => ({
  apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'web', namespace: 'default', uid: 'set-uid', generation: 2 },
  spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } }, serviceName: 'web', podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, ...spec },
});
type State = 'ready' | 'running' | 'pending' | 'failed' | 'terminating';
const pod = (ordinal: number, revision: string, state: State = 'ready', readySince = NOW - 60_000): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: `web-${ordinal}`, namespace: 'default', uid: `uid-${ordinal}`, labels: { 'controller-revision-hash': revision }, ...(state === 'terminating' ? { deletionTimestamp: new Date(NOW).toISOString() } : {}) },
  spec: { containers: [] },
  status: {
    phase: state === 'pending' ? 'Pending' : state === 'failed' ? 'Failed' : 'Running',
    conditions: [{ type: 'Ready', status: state === 'ready' || state === 'terminating' ? 'True' : 'False', lastTransitionTime: new Date(readySince).toISOString() }],
  },
});
const plan = (s: StatefulSet, pods: Pod[], current = 'web-a', update = 'web-a') => planStatefulSet(s, pods, current, update, NOW);
const deleted = (p: ReturnType<typeof plan>) => p.delete.map((x) => x.metadata.name);

test('OrderedReady creates one ordinal at a time, each once every lower one is running and ready', (t) => {
  t.deepEqual(plan(set(), []).create, [{ ordinal: 0, revision: 'update' }]);
  t.deepEqual(plan(set(), [pod(0, 'web-a', 'running')]).create, [], 'web-0 is not ready yet');
  t.deepEqual(plan(set(), [pod(0, 'web-a', 'pending')]).create, []);
  t.deepEqual(plan(set(), [pod(0, 'web-a')]).create, [{ ordinal: 1, revision: 'update' }]);
  t.deepEqual(plan(set(), [pod(0, 'web-a'), pod(1, 'web-a')]).create, [{ ordinal: 2, revision: 'update' }]);
  t.deepEqual(plan(set(), [pod(0, 'web-a'), pod(2, 'web-a')]).create, [{ ordinal: 1, revision: 'update' }], 'a missing ordinal is made again first');
});

test('minReadySeconds: the next ordinal waits until the last one has been ready that long, and the plan says when to look again', (t) => {
  const p = plan(set({ minReadySeconds: 10 }), [pod(0, 'web-a', 'ready', NOW - 4000)]);
  t.deepEqual(p.create, []);
  t.true(p.recheckAfterMs! > 5900 && p.recheckAfterMs! <= 6100, String(p.recheckAfterMs));
  t.deepEqual(plan(set({ minReadySeconds: 10 }), [pod(0, 'web-a', 'ready', NOW - 11_000)]).create, [{ ordinal: 1, revision: 'update' }]);
});

test('Parallel creates every missing ordinal at once and waits for nothing', (t) => {
  t.deepEqual(plan(set({ podManagementPolicy: 'Parallel' }), [pod(1, 'web-a', 'pending')]).create.map((c) => c.ordinal), [0, 2]);
});

test('ordinals.start shifts the ordinals; pods outside the range are condemned', (t) => {
  t.deepEqual(plan(set({ ordinals: { start: 5 } }), []).create, [{ ordinal: 5, revision: 'update' }]);
  const p = plan(set({ replicas: 2, ordinals: { start: 1 } }), [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-a')]);
  t.deepEqual(deleted(p), ['web-0']);
});

test('scale down: the highest ordinal first, one at a time, only while the others are healthy', (t) => {
  const three = [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-a')];
  t.deepEqual(deleted(plan(set({ replicas: 1 }), three)), ['web-2']);
  t.deepEqual(deleted(plan(set({ replicas: 1 }), [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-a', 'terminating')])), [], 'waits for web-2 to go');
  t.deepEqual(deleted(plan(set({ replicas: 1 }), [pod(0, 'web-a', 'running'), pod(1, 'web-a'), pod(2, 'web-a')])), [], 'waits while web-0 is unhealthy');
  t.deepEqual(deleted(plan(set({ replicas: 1, podManagementPolicy: 'Parallel' }), three)), ['web-2', 'web-1']);
});

test('a failed pod is deleted, to be made again', (t) => {
  const p = plan(set(), [pod(0, 'web-a', 'failed')]);
  t.deepEqual(deleted(p), ['web-0']);
  t.deepEqual(p.create, []);
});

test('rolling update: outdated pods from the highest ordinal down, one at a time, each after the one above is healthy again', (t) => {
  const s = set();
  t.deepEqual(deleted(plan(s, [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-a')], 'web-a', 'web-b')), ['web-2']);
  t.deepEqual(deleted(plan(s, [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-b', 'running')], 'web-a', 'web-b')), [], 'web-2 is not ready yet');
  t.deepEqual(deleted(plan(s, [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-b')], 'web-a', 'web-b')), ['web-1']);
});

test('rolling update with a partition: only ordinals at or above it are updated; below it a pod is made again at the current revision', (t) => {
  const s = set({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
  t.deepEqual(deleted(plan(s, [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-a')], 'web-a', 'web-b')), ['web-2']);
  t.deepEqual(deleted(plan(s, [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-b')], 'web-a', 'web-b')), []);
  t.deepEqual(plan(s, [pod(1, 'web-a'), pod(2, 'web-b')], 'web-a', 'web-b').create, [{ ordinal: 0, revision: 'current' }]);
  t.deepEqual(plan(s, [pod(0, 'web-a'), pod(1, 'web-a')], 'web-a', 'web-b').create, [{ ordinal: 2, revision: 'update' }]);
});

test('maxUnavailable lets that many pods of the updated range be down at once', (t) => {
  const s = set({ podManagementPolicy: 'Parallel', replicas: 4, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } });
  t.deepEqual(deleted(plan(s, [0, 1, 2, 3].map((o) => pod(o, 'web-a')), 'web-a', 'web-b')), ['web-3', 'web-2']);
  t.deepEqual(deleted(plan(s, [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-b', 'running'), pod(3, 'web-b')], 'web-a', 'web-b')), ['web-1']);
});

test('OnDelete replaces nothing by itself; a deleted pod comes back at the update revision', (t) => {
  const s = set({ updateStrategy: { type: 'OnDelete' } });
  t.deepEqual(deleted(plan(s, [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-a')], 'web-a', 'web-b')), []);
  t.deepEqual(plan(s, [pod(0, 'web-a'), pod(2, 'web-a')], 'web-a', 'web-b').create, [{ ordinal: 1, revision: 'update' }]);
});

test('status counts the pods by readiness and revision; the update revision becomes current once every pod has it and is ready', (t) => {
  const mid = plan(set(), [pod(0, 'web-a'), pod(1, 'web-a'), pod(2, 'web-b', 'running')], 'web-a', 'web-b').status;
  t.like(mid, { observedGeneration: 2, replicas: 3, readyReplicas: 2, availableReplicas: 2, currentReplicas: 2, updatedReplicas: 1, currentRevision: 'web-a', updateRevision: 'web-b' });
  const done = plan(set(), [pod(0, 'web-b'), pod(1, 'web-b'), pod(2, 'web-b')], 'web-a', 'web-b').status;
  t.like(done, { replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: 'web-b', updateRevision: 'web-b' });
});

test('a pod of an ordinal: its stable name, hostname and subdomain, identity labels and owner', (t) => {
  const p = statefulPod(set(), set().spec.template, 'web-a', 4);
  t.is(p.metadata.name, 'web-4');
  t.like(p.spec, { hostname: 'web-4', subdomain: 'web' });
  t.deepEqual(p.metadata.labels, { app: 'web', [POD_NAME_LABEL]: 'web-4', [POD_INDEX_LABEL]: '4', 'controller-revision-hash': 'web-a' });
  t.like(p.metadata.ownerReferences![0], { kind: 'StatefulSet', name: 'web', uid: 'set-uid', controller: true });
  t.is(ordinalOf(set(), p), 4);
  t.is(ordinalOf(set(), { ...p, metadata: { name: 'web-04' } }), undefined);
  t.is(ordinalOf(set(), { ...p, metadata: { name: 'webx-1' } }), undefined);
});

test('claim templates: one claim per template and ordinal, named TEMPLATE-SET-ORDINAL, mounted in place of a template volume of that name', (t) => {
  const s = set({ volumeClaimTemplates: [{ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', labels: { tier: 'db' } }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }] });
  const [claim] = claimsFor(s, 2);
  t.like(claim, { metadata: { name: 'data-web-2', namespace: 'default', labels: { tier: 'db', app: 'web' } }, spec: { resources: { requests: { storage: '1Gi' } } } });
  const p = withClaimVolumes(s, { ...statefulPod(s, s.spec.template, 'web-a', 2), spec: { ...statefulPod(s, s.spec.template, 'web-a', 2).spec, volumes: [{ name: 'data', emptyDir: {} }, { name: 'tmp', emptyDir: {} }] as any } }, 2);
  t.deepEqual(p.spec.volumes, [{ name: 'tmp', emptyDir: {} }, { name: 'data', persistentVolumeClaim: { claimName: 'data-web-2' } }] as any);
});

test('retention policy: the set owns the claims when whenDeleted is Delete, a condemned pod when whenScaled is Delete', (t) => {
  const claim = { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data-web-2' } };
  const p = pod(2, 'web-a');
  t.deepEqual(claimOwners(set(), claim, p, true), [], 'Retain, Retain');
  t.deepEqual(claimOwners(set({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } }), claim, p, true).map((r) => r.kind), ['StatefulSet']);
  const scaled = set({ persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' } });
  t.deepEqual(claimOwners(scaled, claim, p, true), [{ apiVersion: 'v1', kind: 'Pod', name: 'web-2', uid: 'uid-2', controller: false, blockOwnerDeletion: true }]);
  t.deepEqual(claimOwners(scaled, claim, p, false), [], 'a pod within the replicas keeps its claim');
});
