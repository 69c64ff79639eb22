// A store write is applied once however often its command reaches Redis: each write carries its
// own id, and write-object.lua records the resourceVersion it produced under that id, in the same
// step. ioredis re-sends the commands that were in flight when a connection dropped (a Redis
// crash, a network cut); a write Redis had applied before the drop must then answer as it did the
// first time, not fail its own compare-and-set (a create answered 409 AlreadyExists although it
// was applied).
import test from 'ava';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { connectRedis } from '../../shared/redis.ts';
import { Store } from '../../shared/store/store.ts';
import { scriptsFor } from '../../shared/store/scripts.ts';
import type { KubeObject } from '../../shared/types.ts';
import { eventually, startRedis, type RedisHandle } from '../helpers/cluster.ts';

let redis: RedisHandle;
const connections: Redis[] = [];

function connect(): Redis {
  const c = connectRedis(redis.url);
  connections.push(c);
  return c;
}

const cm = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });

test.before(async () => {
  redis = await startRedis();
});

test.after.always(async () => {
  for (const c of connections) c.disconnect();
  await redis?.stop();
});

/** A create of a ConfigMap as write-object.lua takes it: every KEYS and ARGV its header names. */
function createArgs(keys: Keys, name: string, writeId: string): { keys: string[]; args: (string | number)[] } {
  const uid = randomUUID();
  return {
    keys: [
      keys.resourceVersion,
      keys.objects('configmaps', 'default'),
      keys.namespacesOf('configmaps'),
      keys.stream('configmaps'),
      keys.compacted('configmaps'),
      keys.uids,
      keys.resourceVersion, // no node accounting: any key
      keys.claims,
      keys.objectIndex('configmaps'),
      keys.writeRecord(writeId),
      keys.resourceVersionEpoch,
      keys.lostResourceVersions,
      keys.stream(keys.viewOf('configmaps')), // no view: any keys
      keys.compacted(keys.viewOf('configmaps')),
      keys.stream(keys.viewOf('configmaps')),
      keys.compacted(keys.viewOf('configmaps')),
    ],
    args: [
      'create', name, '',
      `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}","namespace":"default","uid":"${uid}","resourceVersion":"`,
      '"},"data":{"a":"1"}}',
      'ADDED', 1000, uid, `configmaps|default|${name}`, 'default',
      0, 0, // no dependents
      '', '', 0, 0, 0, // no node accounting
      0, 0, // no claims
      '', '', '', '', '', '', 1000, // no view
    ],
  };
}

test('the same write run twice with the same write id changes the store once and answers one resourceVersion', async (t) => {
  const keys = new Keys(`w${randomBytes(3).toString('hex')}`);
  const connection = connect();
  const scripts = scriptsFor(connection);
  const write = createArgs(keys, 'twice', 'id-1');
  const first = await scripts.run('writeObject', write.keys, write.args);
  const second = await scripts.run('writeObject', write.keys, write.args);
  t.is(second, first);
  t.is(Number(await connection.get(keys.resourceVersion)), Number(first), 'the resourceVersion counter moved once');
  t.is(await connection.xlen(keys.stream('configmaps')), 1, 'one event');
  const stored = JSON.parse((await connection.hget(keys.objects('configmaps', 'default'), 'twice'))!);
  t.is(stored.metadata.resourceVersion, String(first));
  // The record is short-lived.
  const ttl = await connection.ttl(keys.writeRecord('id-1'));
  t.true(ttl > 0 && ttl <= 300, `ttl ${ttl}`);
  // Another write of the same object, with its own id, is a write of its own: the name is taken.
  await t.throwsAsync(scripts.run('writeObject', createArgs(keys, 'twice', 'id-2').keys, createArgs(keys, 'twice', 'id-2').args), { message: /WHARF_EXISTS/ });
});

/**
 * Stops reading the connection just as it sends the write script: the reads admission makes before
 * (the namespace, for one) still get their answers; the write's answer is lost.
 */
function pauseBeforeWrite(connection: Redis, socket: Socket): void {
  const send = connection.sendCommand.bind(connection);
  let armed = true;
  connection.sendCommand = ((command: { name: string }, ...rest: unknown[]) => {
    if (armed && command.name.toLowerCase() === 'evalsha') {
      armed = false;
      socket.pause();
    }
    return (send as (...a: unknown[]) => unknown)(command, ...rest);
  }) as typeof connection.sendCommand;
}

test('a create Redis applied but whose reply was lost is re-sent on a new connection and answers success, once', async (t) => {
  const keys = new Keys(`w${randomBytes(3).toString('hex')}`);
  const connection = connect();
  const store = new Store(connection, keys);
  await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  await store.create('configmaps', cm('warm-up')); // the script is cached: the re-send runs it, not EVAL's fallback
  const observer = connect();

  // The reply is lost on the way back: the connection stops reading, Redis applies the create and
  // answers into the void, and the connection then breaks. ioredis re-sends the create, which it
  // never heard back about, on a new connection.
  const socket = (connection as unknown as { stream: Socket }).stream;
  pauseBeforeWrite(connection, socket);
  const created = store.create('configmaps', cm('resent', { v: '1' }));
  await eventually(async () => (await observer.hexists(keys.objects('configmaps', 'default'), 'resent')) === 1, { message: 'Redis applied the create' });
  const appliedRv = JSON.parse((await observer.hget(keys.objects('configmaps', 'default'), 'resent'))!).metadata.resourceVersion;
  socket.destroy();

  const object = await created;
  t.is(object.metadata.resourceVersion, appliedRv, 'the answer is the resourceVersion the first run produced');
  t.not(socket, (connection as unknown as { stream: Socket }).stream, 'the answer came over a new connection');
  const events = (await store.eventsAfter('configmaps', 0)).filter((e) => e.object.metadata.name === 'resent');
  t.deepEqual(events.map((e) => e.type), ['ADDED'], 'applied once');
  t.is((await store.get('configmaps', 'default', 'resent'))?.metadata.resourceVersion, appliedRv);
});

test('an update Redis applied but whose reply was lost answers success and is applied once, not retried as a conflict', async (t) => {
  const keys = new Keys(`w${randomBytes(3).toString('hex')}`);
  const connection = connect();
  const store = new Store(connection, keys);
  await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
  const before = await store.create('configmaps', cm('updated', { v: '1' }));
  const observer = connect();
  const socket = (connection as unknown as { stream: Socket }).stream;
  let mutations = 0;
  // The read is answered; the write's reply is lost as above. Re-sent without its record, the
  // write would fail its compare-and-set, and the update would be read and written once more.
  pauseBeforeWrite(connection, socket);
  const updated = store.guaranteedUpdate('configmaps', 'default', 'updated', (current) => {
    mutations++;
    return { ...current, data: { v: '2' } };
  });
  await eventually(async () => JSON.parse((await observer.hget(keys.objects('configmaps', 'default'), 'updated'))!).data.v === '2', { message: 'Redis applied the update' });
  socket.destroy();
  const object = await updated;
  t.is(mutations, 1);
  t.deepEqual(object.data, { v: '2' });
  const events = (await store.eventsAfter('configmaps', Number(before.metadata.resourceVersion))).filter((e) => e.object.metadata.name === 'updated');
  t.deepEqual(events.map((e) => [e.type, String(e.rv)]), [['MODIFIED', object.metadata.resourceVersion]], 'one write, the one answered');
});
