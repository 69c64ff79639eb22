import test from 'ava';
import { followedStreams, ownedShards } from '../../services/scheduler/shards.ts';
import { nodeViewShard, podViewShard, POD_VIEW_SHARDS, POD_VIEW_SHARD_NAMES } from '../../shared/api/podutil.ts';
import { viewChanges } from '../../shared/store/store.ts';
import { strategyFor } from '../../shared/registry/registry.ts';
import { Keys } from '../../shared/keys.ts';
import type { Pod } from '../../shared/types.ts';

const members = ['sched-b', 'sched-a', 'sched-c'];

test('the live schedulers deal the shards out: every shard to exactly one, whatever order each read the members in', (t) => {
  const owned = members.map((m) => ownedShards([...members].reverse(), m, 1000)!);
  const all = owned.flatMap((s) => [...s]).sort((a, b) => a - b);
  t.deepEqual(all, Array.from({ length: POD_VIEW_SHARDS }, (_, i) => i));
  t.deepEqual(owned.map((s) => s.size), [11, 11, 10]);
  t.deepEqual(ownedShards(members, 'sched-a', 1000), ownedShards(['sched-c', 'sched-a', 'sched-b'], 'sched-a', 1000));
});

test('no shards of its own (every node): alone, not yet a member, or in a small cluster', (t) => {
  t.is(ownedShards(['sched-a'], 'sched-a', 1000), undefined);
  t.is(ownedShards(members, 'sched-z', 1000), undefined);
  t.is(ownedShards(members, 'sched-a', 100), undefined);
  t.truthy(ownedShards(members, 'sched-a', 101));
});

test('a scheduler with shards follows the common view stream and its own shards\' streams; with none, all of them', (t) => {
  const keys = new Keys('t');
  const streams = POD_VIEW_SHARD_NAMES.map((s) => keys.viewOf('pods', s));
  t.deepEqual(followedStreams(streams, new Set([3, 7]), (s) => keys.viewOf('pods', s)), ['view:pods', 'view:pods:3', 'view:pods:7']);
  t.is(followedStreams(streams, undefined, (s) => keys.viewOf('pods', s)), undefined);
});

const placed = (name: string, nodeName?: string, extra: Partial<Pod['spec']> = {}, status: Pod['status'] = { phase: 'Running' }): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `uid-${name}` },
  spec: { containers: [{ name: 'c', image: 'x' }], ...(nodeName ? { nodeName } : {}), ...extra },
  status,
});

test('a view goes to its node\'s shard; nominated pods and pods with inter-pod terms to the common stream', (t) => {
  t.is(podViewShard(placed('p', 'node-1')), String(nodeViewShard('node-1')));
  t.is(podViewShard(placed('p', undefined, {}, { phase: 'Pending', nominatedNodeName: 'node-1' })), '');
  t.is(podViewShard(placed('p', 'node-1', { affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [] } } })), '');
  // Stable, and spread: 1,000 node names over the 32 shards, none empty, none with three times its share.
  t.is(nodeViewShard('node-1'), nodeViewShard('node-1'));
  const counts = new Map<number, number>();
  for (let i = 0; i < 1000; i++) counts.set(nodeViewShard(`node-${i}`), (counts.get(nodeViewShard(`node-${i}`)) ?? 0) + 1);
  t.is(counts.size, POD_VIEW_SHARDS);
  t.true(Math.max(...counts.values()) < (3 * 1000) / POD_VIEW_SHARDS);
});

test('a write that moves a view to another shard leaves the old one and enters the new one; other writes make one event or none', (t) => {
  const s = strategyFor('pods');
  const nominated = placed('p', undefined, {}, { phase: 'Pending', nominatedNodeName: 'node-1' });
  const bound = placed('p', 'node-2');
  const moved = viewChanges(s, nominated, bound);
  t.deepEqual(moved.map((v) => [v.shard, v.type]), [['', 'DELETED'], [String(nodeViewShard('node-2')), 'ADDED']]);
  t.true(moved[0].json.includes('"nominatedNodeName":"node-1"'), 'the leaving event is the view\'s last form');
  t.deepEqual(viewChanges(s, placed('p'), bound).map((v) => [v.shard, v.type]), [[String(nodeViewShard('node-2')), 'ADDED']]);
  t.deepEqual(viewChanges(s, bound, { ...bound, status: { phase: 'Succeeded' } }).map((v) => [v.shard, v.type]), [[String(nodeViewShard('node-2')), 'DELETED']]);
  t.deepEqual(viewChanges(s, bound, { ...bound, status: { phase: 'Running', podIP: '10.0.0.1' } }), [], 'a status write the view does not show: no event');
});
