// Where the API server sends exec, attach and port-forward, and the Status it answers instead
// (Kubernetes' validateContainer and streamLocation).
import test from 'ava';
import type { Pod } from '../../shared/types.ts';
import { BadRequestError } from '../../shared/errors.ts';
import { podStreamTarget, streamContainer } from '../../services/api/stream-tunnel.ts';

const pod = (containers: string[], more: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web', namespace: 'ns' },
  spec: { nodeName: 'n1', containers: containers.map((name) => ({ name, image: 'busybox' })), ...more },
}) as Pod;

test('the container: the one named, else the only one; anything else is refused as Kubernetes words it', (t) => {
  t.is(streamContainer(pod(['app']), undefined), 'app');
  t.is(streamContainer(pod(['app', 'side']), 'side'), 'side');
  t.is(streamContainer(pod(['app'], { initContainers: [{ name: 'init', image: 'busybox' }] }), 'init'), 'init');
  t.is(streamContainer(pod(['app'], { ephemeralContainers: [{ name: 'debugger', image: 'busybox' }] }), 'debugger'), 'debugger');
  const unknown = t.throws(() => streamContainer(pod(['app']), 'x'), { instanceOf: BadRequestError });
  t.is(unknown.message, 'container x is not valid for pod web');
  const choose = t.throws(() => streamContainer(pod(['app', 'side']), undefined), { instanceOf: BadRequestError });
  t.is(choose.message, 'a container name must be specified for pod web, choose one of: [app side]');
});

test('the agent path is the kubelet\'s, with the query passed on; an unbound pod has no host', (t) => {
  const q = new URLSearchParams('command=sh&command=-c&command=echo+hi&container=app&stdout=true');
  t.deepEqual(podStreamTarget(pod(['app']), 'exec', q), { node: 'n1', path: '/exec/ns/web/app', query: q.toString() });
  t.deepEqual(podStreamTarget(pod(['app']), 'attach', new URLSearchParams('stdin=true')), { node: 'n1', path: '/attach/ns/web/app', query: 'stdin=true' });
  t.deepEqual(podStreamTarget(pod(['app', 'side']), 'portforward', new URLSearchParams('ports=80')), { node: 'n1', path: '/portForward/ns/web', query: 'ports=80' });
  const unbound = t.throws(() => podStreamTarget(pod(['app'], { nodeName: undefined }), 'exec', new URLSearchParams()), { instanceOf: BadRequestError });
  t.is(unbound.message, 'pod web does not have a host assigned');
});
