import test from 'ava';
import { queuePriority, schedulingOrder, triageBurst, wantsScheduling } from '../../services/scheduler/scheduler.ts';
import type { StoredEvent } from '../../shared/store/store.ts';
import type { Pod } from '../../shared/types.ts';

const pod = (name: string, priority?: number, created = '2026-01-01T00:00:00Z', extra: Partial<Pod['spec']> = {}): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', creationTimestamp: created },
  spec: { containers: [{ name: 'c', image: 'x' }], ...(priority === undefined ? {} : { priority }), ...extra },
});

test('queue priorities keep pod priorities in order over the whole range, within BullMQ\'s 1..2,097,152', (t) => {
  const podPriorities = [-2147483648, -1000000, -100, -1, 0, 1, 2, 100, 101, 1000, 1000000, 1000000000, 2000000000, 2000001000];
  const queued = podPriorities.map(queuePriority);
  for (let i = 1; i < queued.length; i++) t.true(queued[i] < queued[i - 1], `${podPriorities[i]} runs before ${podPriorities[i - 1]}`);
  for (const q of queued) t.true(Number.isInteger(q) && q >= 1 && q <= 2_097_152);
});

test('a burst is decided highest priority first, then oldest first', (t) => {
  const pods = [pod('late', 0, '2026-01-01T00:00:05Z'), pod('system', 2000000000, '2026-01-01T00:00:09Z'), pod('early', 0, '2026-01-01T00:00:01Z'), pod('high', 1000)];
  t.deepEqual(pods.sort(schedulingOrder).map((p) => p.metadata.name), ['system', 'high', 'early', 'late']);
});

test('only unbound, live pods of this scheduler are wanted', (t) => {
  t.true(wantsScheduling(pod('a')));
  t.false(wantsScheduling(pod('a', 0, undefined, { nodeName: 'n' })));
  t.false(wantsScheduling(pod('a', 0, undefined, { schedulerName: 'other' })));
  t.false(wantsScheduling({ ...pod('a'), metadata: { ...pod('a').metadata, deletionTimestamp: '2026-01-01T00:00:00Z' } }));
  t.false(wantsScheduling({ ...pod('a'), status: { phase: 'Failed' } }));
  t.false(wantsScheduling({ ...pod('a'), status: { phase: 'Succeeded' } }));
});

test('a burst: the last state of each pod decides; a pod found unschedulable is not decided again on an update, but is when created so', (t) => {
  const unschedulable = (name: string): Pod => ({
    ...pod(name),
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available' }] },
  });
  const on = (name: string, node: string, phase?: 'Succeeded'): Pod => ({ ...pod(name, 0, undefined, { nodeName: node }), ...(phase ? { status: { phase } } : {}) });
  let rv = 0;
  const ev = (type: StoredEvent['type'], object: Pod): StoredEvent => ({ type, object, rv: ++rv });
  const burst = triageBurst([
    ev('ADDED', pod('new')),
    ev('MODIFIED', pod('pending')),
    ev('MODIFIED', unschedulable('marked')), // the scheduler's own status write coming back
    ev('ADDED', unschedulable('created-marked')),
    ev('ADDED', pod('bound-later')),
    ev('MODIFIED', on('bound-later', 'n1')),
    ev('ADDED', pod('gone')),
    ev('DELETED', pod('gone')),
  ]);
  t.deepEqual(burst.toDecide.map((p) => p.metadata.name), ['new', 'pending', 'created-marked']);
  t.deepEqual([...burst.bound], [['default/bound-later', 'n1']]);
  t.false(burst.roomFreed);
  t.true(triageBurst([ev('MODIFIED', on('done', 'n1', 'Succeeded'))]).roomFreed);
  t.true(triageBurst([ev('DELETED', on('x', 'n2'))]).roomFreed);
  // An unschedulable pod seen again after it was marked in the same burst is not decided twice.
  t.deepEqual(triageBurst([ev('MODIFIED', pod('p')), ev('MODIFIED', unschedulable('p'))]).toDecide, []);
});
