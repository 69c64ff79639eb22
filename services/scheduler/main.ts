// Scheduler entry point. Unbound pods become jobs on the scheduling queue; bound pods are handed
// to their node's queue. Stateless: any number of schedulers run at once, all active.
import { hostname } from 'node:os';
import type { Pod } from '../../shared/types.ts';
import { loadConfig } from '../../shared/config.ts';
import { Keys, QUEUES, GROUPS } from '../../shared/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { connectRedis } from '../../shared/redis.ts';
import { Store, type StoredEvent } from '../../shared/store/store.ts';
import { ChangeFeed } from '../../shared/store/changefeed.ts';
import { WorkQueue } from '../../shared/queue/workqueue.ts';
import { EventRecorder } from '../../shared/events.ts';
import { NodeQueues } from '../../shared/queue/node-queues.ts';
import { Scheduler } from './scheduler.ts';

const config = loadConfig();
const log = createLogger('scheduler', config.common.logLevel);
const redisUrl = config.common.redisUrl ?? 'redis://127.0.0.1:6379';
const redis = connectRedis(redisUrl);
const keys = new Keys(config.common.keyPrefix);
const store = new Store(redis, keys, config.common.watchHistory);
const identity = `${hostname()}-${process.pid}`;
const events = new EventRecorder(store, 'default-scheduler', identity, log);
const nodeQueues = new NodeQueues(keys, redis, () => connectRedis(redisUrl));

const scheduler = new Scheduler(store, events, {
  retryUnschedulableMs: config.scheduler.retryUnschedulableMs,
  onBound: (pod) => nodeQueues.add(pod.spec.nodeName!, `${pod.metadata.namespace}/${pod.metadata.name}`),
});

const scheduling = new WorkQueue({
  name: QUEUES.schedule,
  keys,
  redis,
  connect: () => connectRedis(redisUrl),
  reconcile: (key) => scheduler.reconcile(key),
  log,
  concurrency: config.scheduler.concurrency,
});

const podKey = (p: Pod) => `${p.metadata.namespace}/${p.metadata.name}`;
const wantsScheduling = (p: Pod) => !p.spec.nodeName && !p.metadata.deletionTimestamp;

async function retryPending(): Promise<void> {
  const { items } = await store.list<Pod>('pods');
  await scheduling.addAll(items.filter(wantsScheduling).map(podKey));
}

let retryTimer: NodeJS.Timeout | undefined;
/** Node changes can make room: retry pending pods soon, once per burst of node events. */
function retrySoon(): void {
  scheduler.invalidate();
  if (retryTimer) return;
  retryTimer = setTimeout(() => {
    retryTimer = undefined;
    retryPending().catch((err) => log.warn({ err: err.message }, 'retry of pending pods failed'));
  }, 500);
}

async function onChange(resource: string, ev: StoredEvent): Promise<void> {
  if (resource === 'nodes') {
    retrySoon();
    return;
  }
  const pod = ev.object as Pod;
  if (ev.type !== 'DELETED' && wantsScheduling(pod)) await scheduling.add(podKey(pod));
  if (pod.spec.nodeName) await nodeQueues.add(pod.spec.nodeName, podKey(pod));
  // A pod that finished or went away frees room on its node.
  if (pod.spec.nodeName && (ev.type === 'DELETED' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed')) retrySoon();
}

async function resync(resource: string): Promise<void> {
  if (resource !== 'pods') return;
  const { items } = await store.list<Pod>('pods');
  await scheduling.addAll(items.filter(wantsScheduling).map(podKey));
  for (const pod of items) if (pod.spec.nodeName) await nodeQueues.add(pod.spec.nodeName, podKey(pod));
}

const feed = new ChangeFeed({
  store,
  keys,
  connection: connectRedis(redisUrl),
  group: GROUPS.scheduler,
  consumer: identity,
  resources: ['pods', 'nodes'],
  handle: onChange,
  onGap: resync,
  log,
});

scheduling.start();
await feed.start();
await retryPending().catch((err) => log.warn({ err: err.message }, 'initial sync failed'));
log.info({ identity }, 'scheduler started');

async function shutdown(signal: string) {
  log.info({ signal }, 'shutting down');
  await feed.stop();
  await scheduling.close();
  await nodeQueues.close();
  redis.disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
