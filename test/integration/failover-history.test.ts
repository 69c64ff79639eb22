// What a failover does to resourceVersions, with real redis-server processes: a primary and a
// replica; the replica is promoted (REPLICAOF NO ONE, what Sentinel does) before the primary's last
// write reaches it, and the primary is killed (SIGKILL). The
// new primary's counter is behind the version the lost write had — which a watcher may have seen —
// so its first write skips a range: versions keep rising, never naming two different writes, and a
// watch positioned inside the range is told to relist (410 Expired) instead of resuming past a
// write that no longer exists.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import type { KubeObject } from '../../shared/types.ts';
import { Store } from '../../shared/store/store.ts';
import { ExpiredError } from '../../shared/errors.ts';
import { startSentinelGroup, type SentinelGroup } from '../helpers/redis-sentinel.ts';

const prefix = `fh${randomBytes(3).toString('hex')}`;
let group: SentinelGroup;
const connections: Redis[] = [];

test.before(async () => {
  group = await startSentinelGroup({ prefix, replicas: 1, sentinels: 0 });
});

test.after.always(async () => {
  for (const c of connections) c.disconnect();
  await group?.stop();
});

const cm = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { name } });

function storeOn(port: number): Store {
  const c = group.admin(port);
  connections.push(c);
  return new Store(c, new Keys(prefix));
}

test.serial('a write lost with the primary leaves a skipped range: versions keep rising and a watch inside it gets 410', async (t) => {
  const [primary, replica] = group.nodes;
  const before = storeOn(primary.port);
  await before.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const a = await before.create('configmaps', cm('a'));
  const rvA = Number(a.metadata.resourceVersion);
  // a is on the replica (the test user is the administrator: WAIT, REPLICAOF).
  const admin = group.admin(primary.port);
  connections.push(admin);
  t.is(Number(await admin.call('WAIT', 1, 5000)), 1);

  // b reaches only the primary: a watcher of the primary sees it, then the primary dies. The
  // replica stops following first (a hung replica would still read b from its socket's buffer on
  // resuming): the state Sentinel promotes when the primary dies before b was sent on.
  const promoted = group.admin(replica.port);
  connections.push(promoted);
  t.is(await promoted.call('REPLICAOF', 'NO', 'ONE'), 'OK');
  const b = await before.create('configmaps', cm('b'));
  const rvB = Number(b.metadata.resourceVersion);
  t.deepEqual((await before.eventsAfter('configmaps', rvA)).map((e) => e.object.metadata.name), ['b'], 'a watcher of the old primary saw b');
  await primary.signal('SIGKILL');

  const after = storeOn(replica.port);
  t.is(await after.get('configmaps', 'default', 'b'), null, 'b was lost with the primary');
  t.is(await after.currentResourceVersion(), rvA, 'the promoted replica has the counter as far as it was replicated');

  const c = await after.create('configmaps', cm('c'));
  const rvC = Number(c.metadata.resourceVersion);
  t.true(rvC > rvB, `the first version of the new primary (${rvC}) is above every version the old one issued (${rvB})`);

  // A watcher at a: a is on the new primary, so it resumes and gets c next.
  await after.checkWatchPosition('configmaps', rvA);
  t.deepEqual((await after.eventsAfter('configmaps', rvA)).map((e) => e.object.metadata.name), ['c']);
  // A watcher at b saw a write that is gone: it must relist.
  const err = await t.throwsAsync(after.checkWatchPosition('configmaps', rvB), { instanceOf: ExpiredError });
  t.is(err!.code, 410);
  // At c and later: the new history, nothing to relist.
  await after.checkWatchPosition('configmaps', rvC);
  const d = await after.create('configmaps', cm('d'));
  t.is(Number(d.metadata.resourceVersion), rvC + 1, 'one skip per failover: later writes count on by one');
});
