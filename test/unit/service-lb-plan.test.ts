import test from 'ava';
import {
  SERVICE_LB_CLASS,
  concernsServiceLb,
  desiredIngress,
  nodeServesLoadBalancers,
  planServiceLb,
  servicesOutOfSync,
} from '../../services/controller-manager/service-lb/plan.ts';
import type { KubeObject, Node } from '../../shared/types.ts';

const svc = (spec: Record<string, any> = {}, status: Record<string, any> = { loadBalancer: {} }, name = 'web'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80 }], ipFamilies: ['IPv4'], ...spec },
  status,
});

const node = (name: string, ip: string | string[], ready: 'True' | 'False' | 'Unknown' | null = 'True', extra: Partial<Node['metadata']> = {}): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, ...extra },
  status: {
    conditions: ready === null ? [] : [{ type: 'Ready', status: ready }],
    addresses: [...(Array.isArray(ip) ? ip : [ip]).map((address) => ({ type: 'InternalIP', address })), { type: 'Hostname', address: name }],
  },
});

const ingress = (...ips: string[]) => ips.map((ip) => ({ ip, ipMode: 'VIP' }));

test('one ingress entry per ready node, sorted by address and deduplicated', (t) => {
  const nodes = [node('c', '10.0.0.10'), node('a', '10.0.0.9'), node('b', '10.0.0.9'), node('d', '10.0.1.2')];
  t.deepEqual(desiredIngress(svc(), nodes), ingress('10.0.0.9', '10.0.0.10', '10.0.1.2'));
});

test('only Ready nodes serve, and not nodes going away or excluded by label', (t) => {
  t.true(nodeServesLoadBalancers(node('a', '10.0.0.1')));
  t.false(nodeServesLoadBalancers(node('a', '10.0.0.1', 'False')));
  t.false(nodeServesLoadBalancers(node('a', '10.0.0.1', 'Unknown')));
  t.false(nodeServesLoadBalancers(node('a', '10.0.0.1', null)));
  t.false(nodeServesLoadBalancers(node('a', '10.0.0.1', 'True', { deletionTimestamp: '2026-01-01T00:00:00Z' })));
  t.false(nodeServesLoadBalancers(node('a', '10.0.0.1', 'True', { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } })));
  const nodes = [node('a', '10.0.0.1'), node('b', '10.0.0.2', 'False'), node('c', '10.0.0.3', 'Unknown')];
  t.deepEqual(desiredIngress(svc(), nodes), ingress('10.0.0.1'));
});

test('addresses follow the Service\'s IP families, in their order', (t) => {
  const nodes = [node('a', ['10.0.0.1', 'fd00::1']), node('b', ['fd00::2', '10.0.0.2'])];
  t.deepEqual(desiredIngress(svc(), nodes), ingress('10.0.0.1', '10.0.0.2'));
  t.deepEqual(desiredIngress(svc({ ipFamilies: ['IPv6', 'IPv4'] }), nodes), ingress('fd00::1', 'fd00::2', '10.0.0.1', '10.0.0.2'));
  t.deepEqual(desiredIngress(svc({ ipFamilies: undefined }), nodes), ingress('10.0.0.1', '10.0.0.2'));
});

test('a new LoadBalancer Service is ensured with its nodes; once it shows them there is nothing to do', (t) => {
  const nodes = [node('a', '10.0.0.2'), node('b', '10.0.0.1')];
  const plan = planServiceLb(svc(), nodes);
  t.deepEqual(plan, { action: 'ensure', loadBalancer: { ingress: ingress('10.0.0.1', '10.0.0.2') }, available: true });
  t.deepEqual(planServiceLb(svc({}, { loadBalancer: { ingress: ingress('10.0.0.1', '10.0.0.2') } }), nodes), { action: 'none' });
});

test('without a ready node the Service is ensured with no ingress, and stays so quietly', (t) => {
  t.deepEqual(planServiceLb(svc({}, {}), [node('a', '10.0.0.1', 'False')]), { action: 'ensure', loadBalancer: {}, available: false });
  t.deepEqual(planServiceLb(svc(), [node('a', '10.0.0.1', 'False')]), { action: 'none' });
  t.deepEqual(planServiceLb(svc(), []), { action: 'none' });
});

test('nodes becoming ready, not ready or going away update the hosts', (t) => {
  const shown = svc({}, { loadBalancer: { ingress: ingress('10.0.0.1') } });
  t.deepEqual(planServiceLb(shown, [node('a', '10.0.0.1'), node('b', '10.0.0.2')]), { action: 'update-hosts', loadBalancer: { ingress: ingress('10.0.0.1', '10.0.0.2') }, available: true });
  t.deepEqual(planServiceLb(shown, [node('a', '10.0.0.1', 'False')]), { action: 'update-hosts', loadBalancer: {}, available: false });
  t.deepEqual(planServiceLb(shown, []), { action: 'update-hosts', loadBalancer: {}, available: false });
});

test('a Service that is no longer a LoadBalancer has its ingress cleared', (t) => {
  const nodes = [node('a', '10.0.0.1')];
  for (const type of ['ClusterIP', 'NodePort', 'ExternalName']) {
    t.deepEqual(planServiceLb(svc({ type }, { loadBalancer: { ingress: ingress('10.0.0.1') } }), nodes), { action: 'clear', loadBalancer: {} }, type);
    t.deepEqual(planServiceLb(svc({ type }), nodes), { action: 'none' }, type);
  }
  // A Service being deleted is no longer served either.
  const deleting = svc({}, { loadBalancer: { ingress: ingress('10.0.0.1') } });
  deleting.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
  t.deepEqual(planServiceLb(deleting, nodes), { action: 'clear', loadBalancer: {} });
});

test('a Service of another load-balancer class is left alone', (t) => {
  const nodes = [node('a', '10.0.0.1')];
  const foreign = svc({ loadBalancerClass: 'example.com/metal' });
  t.deepEqual(planServiceLb(foreign, nodes), { action: 'none' });
  t.false(concernsServiceLb(foreign));
  const foreignShown = svc({ type: 'ClusterIP', loadBalancerClass: 'example.com/metal' }, { loadBalancer: { ingress: ingress('192.0.2.1') } });
  t.deepEqual(planServiceLb(foreignShown, nodes), { action: 'none' });
  // Our own class, named, is ours.
  t.is(planServiceLb(svc({ loadBalancerClass: SERVICE_LB_CLASS }), nodes).action, 'ensure');
});

test('which Service changes concern the controller', (t) => {
  t.true(concernsServiceLb(svc()));
  t.false(concernsServiceLb(svc({ type: 'ClusterIP' })));
  t.true(concernsServiceLb(svc({ type: 'ClusterIP' }, { loadBalancer: { ingress: ingress('10.0.0.1') } })));
  t.false(concernsServiceLb(svc({ type: 'NodePort' }, {})));
});

test('a change of nodes resyncs exactly the LoadBalancer Services left behind', (t) => {
  const nodes = [node('a', '10.0.0.1'), node('b', '10.0.0.2')];
  const services = [
    svc({}, { loadBalancer: { ingress: ingress('10.0.0.1', '10.0.0.2') } }, 'current'),
    svc({}, { loadBalancer: { ingress: ingress('10.0.0.1') } }, 'behind'),
    svc({}, { loadBalancer: {} }, 'new'),
    svc({ type: 'ClusterIP' }, { loadBalancer: {} }, 'plain'),
    svc({ loadBalancerClass: 'example.com/metal' }, { loadBalancer: {} }, 'foreign'),
  ];
  t.deepEqual(servicesOutOfSync(services, nodes).map((s) => s.metadata.name), ['behind', 'new']);
});
