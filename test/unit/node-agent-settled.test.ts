import test from 'ava';
import { isSettled } from '../../services/node-agent/settled.ts';
import type { ObservedContainer } from '../../services/node-agent/runtime/types.ts';
import type { Pod } from '../../shared/types.ts';

const pod = (phase: string, running: string[] = ['a'], extra: Partial<Pod['metadata']> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'default', uid: 'u1', ...extra },
  spec: { nodeName: 'n', containers: [{ name: 'a', image: 'x' }] },
  status: { phase: phase as any, containerStatuses: running.map((name) => ({ name, ready: true, restartCount: 0, image: 'x', imageID: '', state: { running: { startedAt: '2026-01-01T00:00:00Z' } } })) },
});
const container = (name: string, state: ObservedContainer['state'], uid = 'u1', role: ObservedContainer['role'] = 'app'): ObservedContainer => ({
  id: `${uid}-${name}`, pod: { namespace: 'default', name: 'p', uid, node: 'n' }, name, role, image: 'x', attempt: 0, state, createdAt: '2026-01-01T00:00:00Z',
});

test('a running pod whose containers run and whose status says so needs no resync', (t) => {
  t.true(isSettled(pod('Running'), [container('POD', 'running', 'u1', 'sandbox'), container('a', 'running')]));
});

test('anything the status and the runtime disagree on, or a deletion, needs a reconcile', (t) => {
  t.false(isSettled(pod('Running'), []), 'no containers yet (a restarted host)');
  t.false(isSettled(pod('Running'), [container('a', 'exited')]), 'the container exited');
  t.false(isSettled(pod('Running', []), [container('a', 'running')]), 'the status does not show it running yet');
  t.false(isSettled(pod('Pending'), [container('a', 'running')]));
  t.false(isSettled(pod('Running'), [container('a', 'running', 'old-uid')]), 'containers of an older pod of that name');
  t.false(isSettled(pod('Running', ['a'], { deletionTimestamp: '2026-01-01T00:00:00Z' }), [container('a', 'running')]));
});

test('a finished pod is settled once nothing of it runs', (t) => {
  t.true(isSettled(pod('Succeeded', []), [container('a', 'exited')]));
  t.false(isSettled(pod('Failed', []), [container('a', 'running')]));
});
