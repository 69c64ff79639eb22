// Which consumers of a change feed's group a live member removes as dead.
import test from 'ava';
import { expiredConsumers } from '../../shared/store/changefeed.ts';

test('only consumers idle past the bound with nothing pending are taken for dead, never the one asking', (t) => {
  const consumers = [
    { name: 'me', pending: 0, idleMs: 3_600_000 },
    { name: 'dead', pending: 0, idleMs: 600_000 },
    { name: 'dead-with-work', pending: 2, idleMs: 3_600_000 },
    { name: 'alive', pending: 0, idleMs: 900 },
    { name: 'almost', pending: 0, idleMs: 599_999 },
  ];
  t.deepEqual(expiredConsumers(consumers, 'me', 600_000), ['dead']);
  t.deepEqual(expiredConsumers([], 'me', 600_000), []);
});
