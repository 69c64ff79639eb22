// The pod network across hosts: cutting the cluster CIDR into node blocks (node IPAM), the node
// IPAM controller's decision, and the host-gw routes each agent derives from the Node objects.
import test from 'ava';
import { blockAt, blockCount, blockIndex, diffRoutes, gatewayOf, parseCidr, planRoutes } from '../../shared/pod-cidr.ts';
import { planNodeCidr } from '../../services/controller-manager/node-ipam/plan.ts';
import type { Node } from '../../shared/types.ts';
import { strategyFor } from '../../shared/registry/registry.ts';

const cluster = parseCidr('10.244.0.0/16')!;

test('a /16 cluster CIDR holds 256 /24 node blocks, in order', (t) => {
  t.is(blockCount(cluster, 24), 256);
  t.is(blockAt(cluster, 24, 0), '10.244.0.0/24');
  t.is(blockAt(cluster, 24, 1), '10.244.1.0/24');
  t.is(blockAt(cluster, 24, 255), '10.244.255.0/24');
  t.is(blockIndex(cluster, 24, '10.244.7.0/24'), 7);
  t.is(blockIndex(cluster, 24, '10.245.7.0/24'), undefined, 'outside the cluster CIDR');
  t.is(blockIndex(cluster, 24, '10.244.7.0/25'), undefined, 'another block size');
  t.is(gatewayOf('10.244.3.0/24'), '10.244.3.1');
  t.is(parseCidr('10.244.0.1/16'), undefined, 'host bits set');
});

const node = (name: string, podCIDR?: string, ip?: string): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec: podCIDR ? { podCIDR } : {},
  status: ip ? { addresses: [{ type: 'InternalIP', address: ip }] } : {},
});

test('node IPAM: allocate for a node without a block, claim the one a node names, release a deleted one', (t) => {
  t.deepEqual(planNodeCidr(node('a'), cluster, 24), { action: 'allocate', wanted: -1 });
  t.deepEqual(planNodeCidr(node('a', '10.244.9.0/24'), cluster, 24), { action: 'allocate', wanted: 9 });
  t.deepEqual(planNodeCidr(node('a', '192.168.0.0/24'), cluster, 24), { action: 'foreign', cidr: '192.168.0.0/24' });
  t.deepEqual(planNodeCidr(undefined, cluster, 24), { action: 'release' });
  t.deepEqual(planNodeCidr({ ...node('a', '10.244.1.0/24'), metadata: { name: 'a', deletionTimestamp: '2026-01-01T00:00:00Z' } }, cluster, 24), { action: 'release' });
});

test('host-gw routes: every other node with a block and an address, never this one', (t) => {
  const nodes = [node('h1', '10.244.0.0/24', '172.30.0.10'), node('h2', '10.244.1.0/24', '172.30.0.11'), node('h3', undefined, '172.30.0.12'), node('h4', '10.244.3.0/24')];
  t.deepEqual(planRoutes('h1', nodes, cluster), [{ cidr: '10.244.1.0/24', via: '172.30.0.11' }]);
  t.deepEqual(planRoutes('h2', nodes, cluster), [{ cidr: '10.244.0.0/24', via: '172.30.0.10' }]);
});

test('host-gw routes follow nodes that come, move and go', (t) => {
  const installed = new Map([['10.244.1.0/24', '172.30.0.11'], ['10.244.2.0/24', '172.30.0.12']]);
  const { replace, remove } = diffRoutes(installed, [{ cidr: '10.244.1.0/24', via: '172.30.0.11' }, { cidr: '10.244.2.0/24', via: '172.30.0.99' }, { cidr: '10.244.4.0/24', via: '172.30.0.14' }]);
  t.deepEqual(replace, [{ cidr: '10.244.2.0/24', via: '172.30.0.99' }, { cidr: '10.244.4.0/24', via: '172.30.0.14' }]);
  t.deepEqual(remove, []);
  t.deepEqual(diffRoutes(installed, []).remove, ['10.244.1.0/24', '10.244.2.0/24']);
});

test('a Node\'s podCIDR is set once: from none to a block, never changed after (Kubernetes\' ValidateNodeUpdate)', (t) => {
  const strategy = strategyFor('nodes');
  t.deepEqual(strategy.validateUpdate(node('a', '10.244.1.0/24'), node('a')), []);
  t.deepEqual(strategy.validateUpdate(node('a', '10.244.1.0/24'), node('a', '10.244.1.0/24')), []);
  const [cause] = strategy.validateUpdate(node('a', '10.244.2.0/24'), node('a', '10.244.1.0/24'));
  t.is(cause.field, 'spec.podCIDRs');
  t.is(cause.message, 'Forbidden: node updates may not change podCIDR except from "" to valid');
  t.is(strategy.validateUpdate(node('a'), node('a', '10.244.1.0/24')).length, 1, 'nor unset');
});
