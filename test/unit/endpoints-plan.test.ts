import test from 'ava';
import { endpointSubsets } from '../../services/controller-manager/endpoints/plan.ts';
import type { KubeObject, Pod } from '../../shared/types.ts';

const svc = (spec: Record<string, any>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec } });

const pod = (name: string, ip: string | undefined, opts: { ready?: boolean; labels?: Record<string, string>; port?: number; deleting?: boolean; phase?: string; ns?: string } = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: opts.ns ?? 'default', uid: `uid-${name}`, labels: opts.labels ?? { app: 'web' }, ...(opts.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: opts.port ?? 8080 }] }] },
  status: { phase: (opts.phase ?? 'Running') as any, podIP: ip, conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
});

test('ready pods are addresses, unready ones notReadyAddresses; a named targetPort resolves per pod', (t) => {
  const subsets = endpointSubsets(svc({}), [pod('b', '10.0.0.2'), pod('a', '10.0.0.1'), pod('c', '10.0.0.3', { ready: false })])!;
  t.is(subsets.length, 1);
  t.deepEqual(subsets[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  t.deepEqual(subsets[0].addresses!.map((a) => a.ip), ['10.0.0.1', '10.0.0.2'], 'sorted by IP');
  t.deepEqual(subsets[0].notReadyAddresses!.map((a) => a.ip), ['10.0.0.3']);
  t.like(subsets[0].addresses![0], { nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } });
});

test('pods with different resolved ports land in different subsets', (t) => {
  const subsets = endpointSubsets(svc({}), [pod('a', '10.0.0.1', { port: 8080 }), pod('b', '10.0.0.2', { port: 9090 })])!;
  t.is(subsets.length, 2);
});

test('excluded: other labels, other namespaces, no IP yet, terminating, finished', (t) => {
  const subsets = endpointSubsets(svc({}), [
    pod('other', '10.0.0.1', { labels: { app: 'db' } }),
    pod('elsewhere', '10.0.0.2', { ns: 'kube-system' }),
    pod('pending', undefined),
    pod('leaving', '10.0.0.3', { deleting: true }),
    pod('done', '10.0.0.4', { phase: 'Succeeded' }),
  ])!;
  t.deepEqual(subsets, []);
});

test('numeric targetPort, publishNotReadyAddresses, and Services without a selector', (t) => {
  const subsets = endpointSubsets(svc({ ports: [{ port: 80, targetPort: 3000 }], publishNotReadyAddresses: true }), [pod('a', '10.0.0.1', { ready: false })])!;
  t.deepEqual(subsets[0].ports, [{ port: 3000, protocol: 'TCP' }]);
  t.is(subsets[0].addresses!.length, 1);
  t.is(endpointSubsets(svc({ selector: undefined }), [pod('a', '10.0.0.1')]), undefined);
});

test('a pod whose subdomain is the Service carries its hostname, which cluster DNS names HOSTNAME.SERVICE (a StatefulSet\'s pods)', (t) => {
  const named = (name: string, ip: string, subdomain: string): Pod => {
    const p = pod(name, ip);
    p.spec = { ...p.spec, hostname: name, subdomain };
    return p;
  };
  const subsets = endpointSubsets(svc({}), [named('web-0', '10.0.0.1', 's'), named('other-0', '10.0.0.2', 'elsewhere')])!;
  t.deepEqual(subsets[0].addresses!.map((a) => [a.ip, a.hostname]), [['10.0.0.1', 'web-0'], ['10.0.0.2', undefined]]);
});
