// The kubernetes Service's endpoints, decided from the API servers' Leases.
import test from 'ava';
import { ADDRESS_ANNOTATION, abandonedLeases, kubernetesService, liveAddresses, slicesFor, subsetsFor } from '../../services/api/apiserver-endpoints.ts';
import type { KubeObject } from '../../shared/types.ts';

const NOW = Date.parse('2026-12-02T12:00:00Z');
const lease = (address: string, renewedSecondsAgo: number, ttlSeconds = 15): KubeObject => ({
  apiVersion: 'coordination.k8s.io/v1',
  kind: 'Lease',
  metadata: { name: `kube-apiserver-${address}`, annotations: { [ADDRESS_ANNOTATION]: address } },
  spec: { leaseDurationSeconds: ttlSeconds, renewTime: new Date(NOW - renewedSecondsAgo * 1000).toISOString() },
});

test('the live addresses are those of Leases renewed within their duration, each once and sorted', (t) => {
  const leases = [lease('10.0.0.2:6443', 3), lease('10.0.0.1:6443', 14), lease('10.0.0.3:6443', 16), lease('10.0.0.1:6443', 1), lease('garbage', 1)];
  t.deepEqual(liveAddresses(leases, NOW), [{ ip: '10.0.0.1', port: 6443 }, { ip: '10.0.0.2', port: 6443 }]);
  t.deepEqual(liveAddresses([], NOW), []);
});

test('a Lease two terms old is abandoned; an expired one is not yet', (t) => {
  t.deepEqual(abandonedLeases([lease('a:1', 16), lease('b:1', 31)], NOW).map((l) => l.metadata.annotations![ADDRESS_ANNOTATION]), ['b:1']);
});

test('subsets group the addresses by port, under the port name https', (t) => {
  t.deepEqual(subsetsFor([{ ip: '10.0.0.1', port: 6443 }, { ip: '10.0.0.2', port: 6443 }, { ip: '10.0.0.3', port: 8080 }]), [
    { addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ name: 'https', port: 6443, protocol: 'TCP' }] },
    { addresses: [{ ip: '10.0.0.3' }], ports: [{ name: 'https', port: 8080, protocol: 'TCP' }] },
  ]);
  t.deepEqual(subsetsFor([]), []);
});

test('the Service is default/kubernetes on 443, selecting nothing', (t) => {
  const svc = kubernetesService('10.96.0.1', 8080);
  t.like(svc, { metadata: { name: 'kubernetes', namespace: 'default' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, targetPort: 8080 }] } });
  t.is(svc.spec.selector, undefined);
});

test('one EndpointSlice per port, "kubernetes" first; with no API server an empty "kubernetes"', (t) => {
  const slices = slicesFor([{ ip: '10.0.0.1', port: 6443 }, { ip: '10.0.0.2', port: 6443 }, { ip: '10.0.0.3', port: 8080 }]);
  t.deepEqual(slices.map((s) => [s.metadata.name, s.endpoints.map((e: any) => e.addresses[0]), s.ports[0].port]), [['kubernetes', ['10.0.0.1', '10.0.0.2'], 6443], ['kubernetes-8080', ['10.0.0.3'], 8080]]);
  const empty = slicesFor([]);
  t.deepEqual(empty.map((s) => [s.metadata.name, s.endpoints, s.ports]), [['kubernetes', null, null]]);
});
