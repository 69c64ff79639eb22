// Node IPAM's reservations against a real redis-server: controller managers racing over the same
// nodes never give one block to two nodes, a node asking again gets its own block back, a block a
// Node's spec names is kept for it, a full range says so, and a deleted node's block is reused.
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { Store } from '../../shared/store/store.ts';
import { startRedis, type RedisHandle } from '../helpers/cluster.ts';

let redis: RedisHandle;
const connections: Redis[] = [];
const newStore = (prefix: string) => {
  const c = new Redis(redis.url);
  connections.push(c);
  return new Store(c, new Keys(prefix));
};

test.before(async () => {
  redis = await startRedis();
});
test.after.always(async () => {
  for (const c of connections) c.disconnect();
  await redis?.stop();
});

test('three controller managers allocating for 40 nodes at once give each node its own block', async (t) => {
  const prefix = `ipam${randomBytes(3).toString('hex')}`;
  const stores = [newStore(prefix), newStore(prefix), newStore(prefix)];
  const nodes = Array.from({ length: 40 }, (_, i) => `n${i}`);
  // Every replica reconciles every node (as they would on the same change feed), all at once.
  const results = await Promise.all(stores.flatMap((s) => nodes.map(async (n) => [n, await s.allocatePodCidr(n, 256)] as const)));
  const byNode = new Map<string, Set<unknown>>();
  for (const [n, index] of results) byNode.set(n, (byNode.get(n) ?? new Set()).add(index));
  t.true([...byNode.values()].every((s) => s.size === 1), 'each node got one block, whichever replica asked');
  const blocks = [...byNode.values()].map((s) => [...s][0]);
  t.is(new Set(blocks).size, 40, 'no block given to two nodes');
  t.deepEqual([...blocks].sort((a, b) => Number(a) - Number(b)), Array.from({ length: 40 }, (_, i) => i));
});

test('a named block is kept for its node, refused to another; a full range says so; a released block is reused', async (t) => {
  const store = newStore(`ipam${randomBytes(3).toString('hex')}`);
  t.is(await store.allocatePodCidr('a', 4, 2), 2, 'the block a Node names already');
  t.is(await store.allocatePodCidr('b', 4, 2), 'taken');
  t.is(await store.allocatePodCidr('b', 4), 0);
  t.is(await store.allocatePodCidr('c', 4), 1);
  t.is(await store.allocatePodCidr('d', 4), 3);
  t.is(await store.allocatePodCidr('e', 4), 'full');
  t.is(await store.allocatePodCidr('a', 4), 2, 'asked again: its own');
  t.deepEqual((await store.podCidrHolders()).sort(), ['a', 'b', 'c', 'd']);
  t.is(await store.releasePodCidr('c'), 1);
  t.is(await store.releasePodCidr('c'), 0, 'released twice: nothing more');
  t.is(await store.allocatePodCidr('e', 4), 1, 'the deleted node\'s block');
});
