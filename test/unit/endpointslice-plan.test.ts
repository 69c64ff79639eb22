// The EndpointSlice controller's decision (services/controller-manager/endpointslice/plan.ts),
// against Kubernetes' endpointslice reconciler: shapes, conditions, port groups, 100 endpoints per
// slice, reuse of existing slices (names stay stable), the placeholder, and idempotence.
import test from 'ava';
import { planEndpointSlices, type EndpointSlice, type SliceInputs, type SlicePlan } from '../../services/controller-manager/endpointslice/plan.ts';
import type { KubeObject, Pod } from '../../shared/types.ts';

const T0 = '2026-01-01T00:00:00Z';

const svc = (spec: Record<string, any> = {}, meta: Record<string, any> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', namespace: 'default', uid: 'svc-uid', labels: { app: 'web' }, ...meta },
  spec: { selector: { app: 'web' }, clusterIP: '10.96.0.10', ipFamilies: ['IPv4'], ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
});

interface PodOpts { ready?: boolean; labels?: Record<string, string>; port?: number; deleting?: boolean; phase?: string; ns?: string; node?: string; hostname?: string; subdomain?: string }

const pod = (name: string, ip: string | undefined, o: PodOpts = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: o.ns ?? 'default', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' }, ...(o.deleting ? { deletionTimestamp: T0 } : {}) },
  spec: {
    nodeName: o.node ?? 'n1',
    ...(o.hostname ? { hostname: o.hostname } : {}),
    ...(o.subdomain ? { subdomain: o.subdomain } : {}),
    containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: o.port ?? 8080 }] }],
  },
  status: { phase: (o.phase ?? 'Running') as any, podIP: ip, conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

const node = (name: string, zone?: string): KubeObject => ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} } });
const NODES = [node('n1', 'zone-a'), node('n2')];

function plan(input: Partial<SliceInputs> & { pods: Pod[] }): SlicePlan {
  return planEndpointSlices({ service: svc(), nodes: NODES, slices: [], triggerTime: T0, ...input })!;
}

/** What the store would hold after the plan: creates named from generateName, updates and deletes applied. */
let counter = 0;
function apply(slices: EndpointSlice[], p: SlicePlan): EndpointSlice[] {
  const byName = new Map(slices.map((s) => [s.metadata.name!, s]));
  for (const c of p.create) {
    const name = `${c.metadata.generateName}${String(counter++).padStart(5, 'x')}`;
    byName.set(name, { ...structuredClone(c), metadata: { ...structuredClone(c.metadata), name, uid: `slice-uid-${name}`, resourceVersion: String(counter) } });
  }
  for (const u of p.update) {
    const old = byName.get(u.metadata.name!);
    if (!old) throw new Error(`update of a missing slice ${u.metadata.name}`);
    if (u.metadata.resourceVersion !== old.metadata.resourceVersion) throw new Error(`stale update of ${u.metadata.name}`);
    byName.set(u.metadata.name!, { ...structuredClone(u), metadata: { ...structuredClone(u.metadata), uid: old.metadata.uid, resourceVersion: String(++counter) } });
  }
  for (const d of p.delete) byName.delete(d.metadata.name!);
  return [...byName.values()];
}

const noChanges = (p: SlicePlan) => p.create.length === 0 && p.update.length === 0 && p.delete.length === 0;
const ips = (s: EndpointSlice) => (s.endpoints ?? []).map((e) => e.addresses[0]).sort();

test('one slice per Service: Kubernetes metadata, ports by name, endpoints with conditions, node, zone and target', (t) => {
  const p = plan({ pods: [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { node: 'n2' })] });
  t.is(p.create.length, 1);
  t.deepEqual(p.update, []);
  t.deepEqual(p.delete, []);
  const [s] = p.create;
  t.deepEqual(s.metadata, {
    generateName: 'web-',
    namespace: 'default',
    labels: { app: 'web', 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }],
    annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': T0 },
  });
  t.is(s.apiVersion, 'discovery.k8s.io/v1');
  t.is(s.kind, 'EndpointSlice');
  t.is(s.addressType, 'IPv4');
  t.deepEqual(s.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }]);
  t.deepEqual(s.endpoints, [
    { addresses: ['10.0.0.1'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' }, nodeName: 'n1', zone: 'zone-a' },
    { addresses: ['10.0.0.2'], conditions: { ready: true, serving: true, terminating: false }, targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' }, nodeName: 'n2' },
  ]);
  t.deepEqual(p.podsOnUnknownNodes, []);
});

test('conditions: not ready, terminating (ready or not), publishNotReadyAddresses', (t) => {
  const pods = [pod('a', '10.0.0.1', { ready: false }), pod('b', '10.0.0.2', { deleting: true }), pod('c', '10.0.0.3', { deleting: true, ready: false })];
  const conditions = (p: SlicePlan) => Object.fromEntries(p.create[0].endpoints!.map((e) => [e.targetRef!.name, e.conditions]));
  t.deepEqual(conditions(plan({ pods })), {
    a: { ready: false, serving: false, terminating: false },
    b: { ready: false, serving: true, terminating: true },
    c: { ready: false, serving: false, terminating: true },
  });
  t.deepEqual(conditions(plan({ pods, service: svc({ publishNotReadyAddresses: true }) })), {
    a: { ready: true, serving: false, terminating: false },
    b: { ready: true, serving: true, terminating: true },
    c: { ready: true, serving: false, terminating: true },
  });
});

test('left out: other labels, other namespaces, no IP yet, finished pods', (t) => {
  const p = plan({
    pods: [
      pod('other', '10.0.0.1', { labels: { app: 'db' } }),
      pod('elsewhere', '10.0.0.2', { ns: 'kube-system' }),
      pod('pending', undefined),
      pod('done', '10.0.0.4', { phase: 'Succeeded' }),
      pod('failed', '10.0.0.5', { phase: 'Failed' }),
      pod('in', '10.0.0.6'),
    ],
  });
  t.deepEqual(p.create.map(ips), [['10.0.0.6']]);
});

test('a named targetPort resolving differently puts pods in different slices; a numeric one is taken as is', (t) => {
  const p = plan({ pods: [pod('a', '10.0.0.1', { port: 8080 }), pod('b', '10.0.0.2', { port: 9090 }), pod('c', '10.0.0.3', { port: 8080 })] });
  t.is(p.create.length, 2);
  const byPort = Object.fromEntries(p.create.map((s) => [s.ports![0].port, ips(s)]));
  t.deepEqual(byPort, { 8080: ['10.0.0.1', '10.0.0.3'], 9090: ['10.0.0.2'] });

  const numeric = plan({ service: svc({ ports: [{ port: 80, targetPort: 3000, protocol: 'TCP' }, { name: 'dns', port: 53, targetPort: 53, protocol: 'UDP', appProtocol: 'dns' }] }), pods: [pod('a', '10.0.0.1')] });
  t.deepEqual(numeric.create[0].ports, [{ name: '', protocol: 'TCP', port: 3000 }, { name: 'dns', protocol: 'UDP', port: 53, appProtocol: 'dns' }]);
  // A port name of another protocol does not resolve: the pod has no ports, so its own slice.
  const udp = plan({ service: svc({ ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'UDP' }] }), pods: [pod('a', '10.0.0.1')] });
  t.is(udp.create[0].ports, null);
  t.deepEqual(ips(udp.create[0]), ['10.0.0.1']);
});

test('at most 100 endpoints per slice', (t) => {
  const pods = Array.from({ length: 250 }, (_, i) => pod(`p${String(i).padStart(3, '0')}`, `10.0.${Math.floor(i / 200)}.${(i % 200) + 1}`));
  const p = plan({ pods });
  t.deepEqual(p.create.map((s) => s.endpoints!.length).sort(), [100, 100, 50]);
  t.is(new Set(p.create.flatMap(ips)).size, 250);
  t.deepEqual(plan({ pods, maxEndpointsPerSlice: 10 }).create.length, 25);
});

test('idempotent: planning again against the result changes nothing', (t) => {
  const pods = Array.from({ length: 230 }, (_, i) => pod(`p${i}`, `10.1.${Math.floor(i / 200)}.${(i % 200) + 1}`, { ready: i % 3 !== 0, port: i % 2 ? 8080 : 9090 }));
  const slices = apply([], plan({ pods }));
  t.deepEqual(slices.map((s) => s.endpoints!.length).sort(), [100, 100, 15, 15], 'two port groups of 115 endpoints');
  t.true(noChanges(plan({ pods, slices })));
});

test('slices are reused: readiness, a new pod, a removed pod and an emptied Service update the same slice', (t) => {
  let pods = [pod('a', '10.0.0.1'), pod('b', '10.0.0.2')];
  let slices = apply([], plan({ pods }));
  const [name] = slices.map((s) => s.metadata.name);

  // b stops being ready: an update of its endpoint, in place.
  pods = [pod('a', '10.0.0.1'), pod('b', '10.0.0.2', { ready: false })];
  let p = plan({ pods, slices });
  t.deepEqual([p.create.length, p.update.length, p.delete.length], [0, 1, 0]);
  t.is(p.update[0].metadata.name, name);
  t.deepEqual(p.update[0].endpoints!.find((e) => e.targetRef!.name === 'b')!.conditions, { ready: false, serving: false, terminating: false });
  slices = apply(slices, p);

  // c appears: it joins the existing slice.
  pods = [...pods, pod('c', '10.0.0.3')];
  p = plan({ pods, slices });
  t.deepEqual([p.create.length, p.update.length, p.delete.length], [0, 1, 0]);
  t.deepEqual(ips(p.update[0]), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  slices = apply(slices, p);

  // a goes: the slice shrinks, the others keep their order.
  pods = pods.filter((x) => x.metadata.name !== 'a');
  p = plan({ pods, slices });
  t.deepEqual(p.update[0].endpoints!.map((e) => e.targetRef!.name), ['b', 'c']);
  slices = apply(slices, p);

  // Every pod goes: the slice becomes the empty placeholder rather than being replaced.
  p = plan({ pods: [], slices });
  t.deepEqual([p.create.length, p.update.length, p.delete.length], [0, 1, 0]);
  t.like(p.update[0], { metadata: { name }, endpoints: null, ports: null });
  slices = apply(slices, p);
  t.true(noChanges(plan({ pods: [], slices })));

  // And pods coming back fill that same slice.
  p = plan({ pods: [pod('d', '10.0.0.4')], slices });
  t.deepEqual([p.create.length, p.update.length, p.delete.length], [0, 1, 0]);
  t.is(p.update[0].metadata.name, name);
  t.deepEqual(p.update[0].ports, [{ name: 'http', protocol: 'TCP', port: 8080 }]);
});

test('a Service without endpoints has one placeholder slice, kept as is', (t) => {
  const p = plan({ pods: [] });
  t.is(p.create.length, 1);
  t.like(p.create[0], { addressType: 'IPv4', endpoints: null, ports: null });
  t.true(noChanges(plan({ pods: [], slices: apply([], p) })));
});

test('new endpoints fill an unchanged slice that can take them before a new slice is made', (t) => {
  const first = Array.from({ length: 95 }, (_, i) => pod(`p${i}`, `10.0.2.${i + 1}`));
  let slices = apply([], plan({ pods: first, maxEndpointsPerSlice: 100 }));
  const more = Array.from({ length: 10 }, (_, i) => pod(`q${i}`, `10.0.3.${i + 1}`));
  const p = plan({ pods: [...first, ...more], slices });
  // 10 do not fit into the 95: a new slice, the full one untouched.
  t.deepEqual([p.create.length, p.update.length], [1, 0]);
  slices = apply(slices, p);
  const one = plan({ pods: [...first, ...more, pod('r', '10.0.4.1')], slices });
  t.deepEqual([one.create.length, one.update.length], [0, 1]);
  t.is(one.update[0].endpoints!.length, 96, 'the slice closest to full that can take it');
});

test('labels follow the Service; headless Services are labelled so', (t) => {
  let slices = apply([], plan({ pods: [pod('a', '10.0.0.1')] }));
  const relabelled = svc({}, { labels: { app: 'web', tier: 'front' } });
  const p = plan({ service: relabelled, pods: [pod('a', '10.0.0.1')], slices });
  t.deepEqual([p.create.length, p.update.length], [0, 1]);
  t.is(p.update[0].metadata.labels!.tier, 'front');
  slices = apply(slices, p);
  t.true(noChanges(plan({ service: relabelled, pods: [pod('a', '10.0.0.1')], slices })));

  const headless = plan({ service: svc({ clusterIP: 'None', ports: [] }), pods: [pod('a', '10.0.0.1', { hostname: 'a', subdomain: 'web' })] });
  t.is(headless.create[0].metadata.labels!['service.kubernetes.io/headless'], '');
  t.is(headless.create[0].ports, null, 'a headless Service without ports');
  t.is(headless.create[0].endpoints![0].hostname, 'a', 'hostname when the pod names the Service as its subdomain');
});

test('only the slices this controller manages for this Service count; a previous Service\'s are replaced', (t) => {
  const foreign: EndpointSlice = {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: 'web-manual', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'someone-else' } },
    addressType: 'IPv4', endpoints: [{ addresses: ['10.9.9.9'], conditions: { ready: true } }], ports: null,
  };
  const p = plan({ pods: [pod('a', '10.0.0.1')], slices: [foreign] });
  t.deepEqual([p.create.length, p.update.length, p.delete.length], [1, 0, 0]);

  const previous = apply([], planEndpointSlices({ service: svc({}, { uid: 'old-uid' }), pods: [pod('a', '10.0.0.1')], nodes: NODES, slices: [] })!);
  const q = plan({ pods: [pod('a', '10.0.0.1')], slices: previous });
  t.deepEqual([q.create.length, q.update.length, q.delete.length], [1, 0, 1]);
  t.is(q.delete[0].metadata.name, previous[0].metadata.name);
  t.is(q.create[0].metadata.ownerReferences![0].uid, 'svc-uid');
});

test('not managed: no selector, ExternalName', (t) => {
  t.is(planEndpointSlices({ service: svc({ selector: undefined }), pods: [pod('a', '10.0.0.1')], nodes: NODES, slices: [] }), undefined);
  t.is(planEndpointSlices({ service: svc({ selector: {} }), pods: [pod('a', '10.0.0.1')], nodes: NODES, slices: [] }), undefined);
  t.is(planEndpointSlices({ service: svc({ type: 'ExternalName', externalName: 'example.com' }), pods: [pod('a', '10.0.0.1')], nodes: NODES, slices: [] }), undefined);
});

test('a pod on a Node that does not exist is left out and reported', (t) => {
  const p = plan({ pods: [pod('a', '10.0.0.1'), pod('lost', '10.0.0.2', { node: 'gone' })] });
  t.deepEqual(p.create.map(ips), [['10.0.0.1']]);
  t.deepEqual(p.podsOnUnknownNodes, ['default/lost']);
  // ...unless the Service publishes not-ready addresses.
  t.deepEqual(plan({ service: svc({ publishNotReadyAddresses: true }), pods: [pod('lost', '10.0.0.2', { node: 'gone' })] }).create.map(ips), [['10.0.0.2']]);
});

test('address types follow the IP families; slices of another type go', (t) => {
  const v4 = apply([], plan({ pods: [pod('a', '10.0.0.1')] }));
  const p = plan({ service: svc({ ipFamilies: ['IPv6'], clusterIP: 'fd00::10' }), pods: [pod('a', '10.0.0.1')], slices: v4 });
  t.deepEqual(p.delete.map((s) => s.addressType), ['IPv4']);
  t.deepEqual(p.create.map((s) => [s.addressType, s.endpoints]), [['IPv6', null]], 'an IPv4 pod has no IPv6 endpoint');
  t.deepEqual(plan({ service: svc({ ipFamilies: undefined, clusterIP: 'None' }), pods: [] }).create.map((s) => s.addressType).sort(), ['IPv4', 'IPv6']);
});

test('a Service being deleted gets no new slices', (t) => {
  const p = plan({ service: svc({}, { deletionTimestamp: T0 }), pods: [pod('a', '10.0.0.1')] });
  t.deepEqual(p.create, []);
});
