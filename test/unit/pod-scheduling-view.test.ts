// The pods' scheduling view (podSchedulingView): the schedulers' cache is fed with it instead of
// whole pods, so every decision made over views must be the one made over the pods themselves.
import test from 'ava';
import { podRequests, podSchedulingView } from '../../shared/api/podutil.ts';
import { SchedulerCache } from '../../services/scheduler/cache.ts';
import { decide } from '../../services/scheduler/plugins.ts';
import { selectVictims } from '../../services/scheduler/preemption.ts';
import type { Node, Pod } from '../../shared/types.ts';

const node = (name: string, zone: string): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone } },
  status: { allocatable: { cpu: '2', memory: '4Gi', pods: '10' }, conditions: [{ type: 'Ready', status: 'True' }] },
});

function pod(name: string, opts: Partial<Pod['spec']> & { labels?: Record<string, string>; phase?: string; nominated?: string; deleting?: boolean } = {}): Pod {
  const { labels, phase, nominated, deleting, ...spec } = opts;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '7', labels, creationTimestamp: '2026-01-01T00:00:00Z', annotations: { big: 'x'.repeat(100) }, ...(deleting ? { deletionTimestamp: '2026-01-01T00:01:00Z' } : {}) },
    spec: {
      containers: [
        { name: 'a', image: 'x', resources: { requests: { cpu: '250m', memory: '100Mi' } }, env: [{ name: 'E', value: 'v' }] },
        { name: 'b', image: 'y', resources: { limits: { cpu: '0.5', memory: '1Gi' } } },
      ],
      initContainers: [{ name: 'i', image: 'z', resources: { requests: { cpu: '1', memory: '10Mi' } } }],
      ...spec,
    },
    status: { phase: (phase ?? 'Running') as NonNullable<Pod['status']>['phase'], ...(nominated ? { nominatedNodeName: nominated } : {}), podIP: '10.0.0.1' },
  };
}

test('only pods that take room on a node or wait for room they preempted are in the view', (t) => {
  t.truthy(podSchedulingView(pod('bound', { nodeName: 'n1' })));
  t.truthy(podSchedulingView(pod('terminating', { nodeName: 'n1', deleting: true })), 'a terminating pod still holds its room');
  t.truthy(podSchedulingView(pod('nominated', { nominated: 'n1', phase: 'Pending' })));
  t.is(podSchedulingView(pod('pending', { phase: 'Pending' })), undefined);
  t.is(podSchedulingView(pod('finished', { nodeName: 'n1', phase: 'Succeeded' })), undefined);
  t.is(podSchedulingView(pod('failed', { nodeName: 'n1', phase: 'Failed' })), undefined);
  t.is(podSchedulingView(pod('nominated-deleting', { nominated: 'n1', phase: 'Pending', deleting: true })), undefined);
});

test('the view requests what the pod requests and keeps what the plugins read, and nothing else', (t) => {
  const full = pod('p', { nodeName: 'n1', priority: 10, labels: { app: 'x' }, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'x' } }, topologyKey: 'kubernetes.io/hostname' }] }, nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [] } } } });
  const view = podSchedulingView(full)!;
  t.deepEqual(podRequests(view), podRequests(full));
  t.deepEqual(view.metadata.labels, { app: 'x' });
  t.is(view.spec.priority, 10);
  t.is(view.spec.nodeName, 'n1');
  t.deepEqual(view.spec.affinity?.podAntiAffinity, full.spec.affinity?.podAntiAffinity);
  t.is(view.spec.affinity?.nodeAffinity, undefined, 'node affinity concerns only the pod itself');
  t.is(view.metadata.annotations, undefined);
  t.is(view.status, undefined);
  t.true(JSON.stringify(view).length < JSON.stringify(full).length / 2);
});

/** A cache fed with these pods, whole or as views. */
function cacheOf(pods: Pod[], asViews: boolean): SchedulerCache {
  const c = new SchedulerCache();
  c.replaceNodes([node('n1', 'a'), node('n2', 'a'), node('n3', 'b'), node('n4', 'b')]);
  c.replacePods(asViews ? pods.flatMap((p) => podSchedulingView(p) ?? []) : pods);
  return c;
}

const placed = [
  pod('web-1', { nodeName: 'n1', labels: { app: 'web' }, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'topology.kubernetes.io/zone' }] } } }),
  pod('web-2', { nodeName: 'n3', labels: { app: 'web' } }),
  pod('cache-1', { nodeName: 'n2', labels: { app: 'cache' }, priority: -5 }),
  pod('batch-1', { nodeName: 'n4', labels: { app: 'batch' }, priority: -10 }),
  pod('old', { nodeName: 'n4', labels: { app: 'web' }, phase: 'Succeeded' }),
  pod('gone', { nodeName: 'n3', labels: { app: 'web' }, deleting: true }),
];

test('filters and scores over views decide as over the pods: affinity, anti-affinity (both ways), spread', (t) => {
  const incoming = [
    pod('db', { labels: { app: 'db' }, phase: 'Pending' }),
    pod('near-web', { labels: { app: 'x' }, phase: 'Pending', affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'kubernetes.io/hostname' }] } } }),
    pod('spread', { labels: { app: 'web' }, phase: 'Pending', topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: 'web' } } }] }),
    pod('prefers', { labels: { app: 'x' }, phase: 'Pending', affinity: { podAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { labelSelector: { matchLabels: { app: 'batch' } }, topologyKey: 'kubernetes.io/hostname' } }] } } }),
  ];
  for (const p of incoming) {
    const ranks = [false, true].map((views) => decide(p, cacheOf(placed, views).nodes(), undefined, undefined, () => 0.5));
    t.deepEqual(ranks[1].ranked, ranks[0].ranked, p.metadata.name);
    t.deepEqual([...ranks[1].reasons], [...ranks[0].reasons], p.metadata.name);
  }
});

test('preemption over views picks the same victims', (t) => {
  const big = pod('big', { phase: 'Pending', priority: 100, containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1500m' } } }] });
  const plans = [false, true].map((views) => selectVictims(big, cacheOf(placed, views).nodes()));
  t.truthy(plans[0]);
  t.is(plans[1]?.node, plans[0]?.node);
  t.deepEqual(plans[1]?.victims.map((v) => v.metadata.uid), plans[0]?.victims.map((v) => v.metadata.uid));
});

test('a nominated pod holds its node in the view as it does whole', (t) => {
  const waiting = pod('waiting', { phase: 'Pending', priority: 50, nominated: 'n1', containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1' } } }] });
  const caches = [false, true].map((views) => cacheOf([...placed, waiting], views));
  t.deepEqual(caches[1].nominated().map((p) => p.metadata.uid), caches[0].nominated().map((p) => p.metadata.uid));
  t.deepEqual(podRequests(caches[1].nominated()[0]), podRequests(waiting));
});
