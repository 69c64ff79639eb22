// How many events a watcher reads from Redis at once.
import test from 'ava';
import { nextBatchSize } from '../../services/api/watch.ts';

test('a watcher reads about a megabyte of events at a time: few when they are large, up to 500 when small', (t) => {
  t.is(nextBatchSize(0, 0), 20, 'sizes unknown: a small first read');
  t.is(nextBatchSize(200 * 1000, 1000), 500, '200-byte events: the most at once');
  t.is(nextBatchSize(10 * 1024 * 1024, 10), 1, '1 MiB events: one at a time');
  t.is(nextBatchSize(3 * 64 * 1024, 3), 16, '64 KiB events: 16');
  t.is(nextBatchSize(50 * 1024 * 1024, 10), 1, 'never fewer than one');
});
