import test from 'ava';
import { networkHolder, runsWithoutSandbox } from '../../services/node-agent/pod-logic.ts';
import type { ObservedContainer } from '../../services/node-agent/runtime/types.ts';
import type { Pod } from '../../shared/types.ts';

const UID = 'u-1';
const pod = (spec: Partial<Pod['spec']> = {}): Pod =>
  ({ metadata: { name: 'p', namespace: 'default', uid: UID }, spec: { containers: [{ name: 'app', image: 'busybox:latest' }], ...spec } }) as Pod;
const observed = (c: Partial<ObservedContainer>): ObservedContainer => ({
  id: c.id ?? 'c1',
  pod: { namespace: 'default', name: 'p', uid: c.pod?.uid ?? UID, node: 'n1' },
  name: 'app',
  role: 'app',
  image: 'busybox:latest',
  attempt: 0,
  state: 'running',
  createdAt: '2026-01-01T00:00:00Z',
  ...c,
});

test('a pod of one container runs without a sandbox when the mode is auto, never when always', (t) => {
  t.true(runsWithoutSandbox(pod(), [], 'auto'));
  t.false(runsWithoutSandbox(pod(), [], 'always'));
});

const needsSandbox: [string, Partial<Pod['spec']>][] = [
  ['two containers', { containers: [{ name: 'a', image: 'x' }, { name: 'b', image: 'x' }] }],
  ['an init container', { initContainers: [{ name: 'i', image: 'x' }] }],
  ['an ephemeral container already', { ephemeralContainers: [{ name: 'dbg', image: 'x' }] as never }],
  ['the node network', { hostNetwork: true }],
  ['a shared process namespace', { shareProcessNamespace: true }],
  ['the pod IP in an env var', { containers: [{ name: 'a', image: 'x', env: [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }] }] }],
  ['the pod IPs in an env var', { containers: [{ name: 'a', image: 'x', env: [{ name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } }] }] }],
];
for (const [what, spec] of needsSandbox) {
  test(`a pod with ${what} keeps its sandbox`, (t) => {
    t.false(runsWithoutSandbox(pod(spec), [], 'auto'));
  });
}

test('other env vars from the downward API do not need a sandbox', (t) => {
  t.true(runsWithoutSandbox(pod({ containers: [{ name: 'a', image: 'x', env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] }] }), [], 'auto'));
});

test('a pod keeps the shape it started with, whatever the mode or spec say now', (t) => {
  // Started with a sandbox (mode was always, or the agent before this one): stays so.
  t.false(runsWithoutSandbox(pod(), [observed({ role: 'sandbox', name: 'POD' })], 'auto'));
  // Started without: stays so, even after an ephemeral container was added or the mode changed.
  const own = observed({ ownsNetwork: true, state: 'exited' });
  t.true(runsWithoutSandbox(pod({ ephemeralContainers: [{ name: 'dbg', image: 'x' }] as never }), [own], 'auto'));
  t.true(runsWithoutSandbox(pod(), [own], 'always'));
});

test("another pod's containers (same name, earlier uid) do not decide", (t) => {
  t.true(runsWithoutSandbox(pod(), [observed({ role: 'sandbox', pod: { uid: 'old' } as never })], 'auto'));
});

test('the network holder is the running sandbox, or the running container that owns the network', (t) => {
  const sandbox = observed({ id: 's', role: 'sandbox', name: 'POD', ip: '10.0.0.2' });
  const app = observed({ id: 'a' });
  t.is(networkHolder([app, sandbox])?.id, 's');
  const own = observed({ id: 'o', ownsNetwork: true, ip: '10.0.0.3' });
  t.is(networkHolder([own])?.ip, '10.0.0.3');
  t.is(networkHolder([{ ...own, state: 'exited' }]), undefined);
  t.is(networkHolder([app]), undefined);
});
