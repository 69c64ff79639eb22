// The keyed work queue across replicas (shared/queue/workqueue.ts), against a real Redis: a key
// asked for while it is being reconciled is reconciled again afterwards, never by two workers at
// once, whichever replica's worker takes the job; a job that finds its key held is put back for a
// moment and counted (wharf_workqueue_key_busy_total, which bench/controllers.ts reads).
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { workqueueKeyBusy } from '../../shared/metrics.ts';
import { WorkQueue } from '../../shared/queue/workqueue.ts';
import { startRedis, eventually, type RedisHandle } from '../helpers/cluster.ts';

let redis: RedisHandle;
const connections: Redis[] = [];
const queues: WorkQueue[] = [];

test.before(async () => {
  redis = await startRedis();
});

test.after.always(async () => {
  await Promise.all(queues.map((q) => q.close().catch(() => undefined)));
  for (const c of connections) c.disconnect();
  await redis?.stop();
});

const busyCount = async (name: string) => (await workqueueKeyBusy.get()).values.find((v) => v.labels.name === name)?.value ?? 0;

test('a key asked for again while a replica reconciles it runs once more afterwards, never on two workers at once; the job that found it held is counted', async (t) => {
  const keys = new Keys(`wq${randomBytes(3).toString('hex')}`);
  const connect = () => {
    const c = new Redis(redis.url, { maxRetriesPerRequest: null });
    connections.push(c);
    return c;
  };
  const name = 'test-replicas';
  let running = 0;
  let mostAtOnce = 0;
  let reconciles = 0;
  const replica = () => new WorkQueue({
    name,
    keys,
    redis: connect(),
    connect,
    log: createLogger('test', 'warn'),
    concurrency: 4,
    reconcile: async () => {
      running++;
      mostAtOnce = Math.max(mostAtOnce, running);
      await new Promise((r) => setTimeout(r, 600));
      running--;
      reconciles++;
    },
  });
  const [a, b] = [replica(), replica()];
  queues.push(a, b);
  const busyBefore = await busyCount(name);
  a.start();
  b.start();
  await a.add('default/k');
  await eventually(async () => running === 1, { timeoutMs: 10_000 });
  // Asked for while it runs: a new job (the epoch moved when the worker started), which an idle
  // worker — of either replica — takes at once and must put back until the first is done.
  await b.add('default/k');
  await eventually(async () => reconciles === 2, { timeoutMs: 15_000 });
  t.is(mostAtOnce, 1, 'never reconciled by two workers at once');
  t.true((await busyCount(name)) > busyBefore, 'the job that found its key held was counted');
  await new Promise((r) => setTimeout(r, 800));
  t.is(reconciles, 2, 'the two asks ran twice, no more');
});
