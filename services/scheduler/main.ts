// Scheduler entry point. Informers on the nodes and on the pods' scheduling view keep the
// scheduler's cache current (see below why the view and not the pods). New pods
// arrive in bursts through the pods change stream as a consumer group (each event reaches one
// scheduler) and are bound a burst at a time; a pod that cannot be bound that way becomes a job
// on the scheduling queue (one pod per reconcile, retried with backoff). Bound pods are handed to
// their node's queue. Stateless: any number of schedulers run at once, all active.
import { hostname } from 'node:os';
import type { KubeObject, Node, Pod } from '../../shared/types.ts';
import type { PersistentVolume, PersistentVolumeClaim, StorageClass } from '../../shared/api/storage.ts';
import type { VolumeSnapshot } from './volume-binding.ts';
import { loadConfig } from '../../shared/config.ts';
import { serveMetrics } from '../../shared/metrics-endpoint.ts';
import { QUEUES, GROUPS } from '../../shared/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { openStore } from '../../shared/store/open.ts';
import { type StoredEvent } from '../../shared/store/store.ts';
import { ChangeFeed } from '../../shared/store/changefeed.ts';
import { WorkQueue } from '../../shared/queue/workqueue.ts';
import { EventRecorder } from '../../shared/events.ts';
import { NodeQueues } from '../../shared/queue/node-queues.ts';
import { Informer } from '../../shared/store/informer.ts';
import { CoalescedRun } from '../../shared/coalesced-run.ts';
import { WebhookConfigSync } from '../../shared/store/webhook-config-sync.ts';
import { AdmissionPolicySync } from '../../shared/store/admission-policy-sync.ts';
import { Scheduler, queuePriority, triageBurst, wantsScheduling } from './scheduler.ts';
import { SchedulerCache, podKey } from './cache.ts';
import { inCpuPhase } from './metrics.ts';
import { ShardMembership, followedStreams } from './shards.ts';

const config = loadConfig();
const log = createLogger('scheduler', config.common.logLevel);
const { connect, redis, keys, store } = openStore(config, log);
const identity = `${hostname()}-${process.pid}`;
const events = new EventRecorder(store, 'default-scheduler', identity, log);
const nodeQueues = new NodeQueues(keys, redis, connect);

const cache = new SchedulerCache();
// The only reader of the nodes stream here: a node change that may make room retries the pods
// found unschedulable; heartbeats do not.
const nodeInformer = new Informer<Node>({
  store,
  resource: 'nodes',
  connection: connect(),
  log,
  keepObjects: false,
  onRelist: (items) => {
    cache.replaceNodes(items as Node[]);
    retrySoon();
  },
  onEvents: (evs) => {
    let changed = false;
    for (const ev of evs) changed = cache.applyNode(ev) || changed;
    if (changed) retrySoon();
  },
});
// The pods' view (podSchedulingView: the placed and nominated pods, small), not every pod event,
// and of a large cluster only the shards of the nodes this scheduler places pods on (shards.ts) as
// they change, the rest when a decision needs them: so that N schedulers do not each pay for every
// placement and adding one adds capacity. The pods it places itself come whole through the feed
// below, shared with the other schedulers.
const podInformer = new Informer<Pod>({
  store,
  resource: 'pods',
  view: true,
  connection: connect(),
  log,
  gatherMs: config.scheduler.viewGatherMs,
  // The cache below is the only one kept: no second map of every view to build and collect.
  keepObjects: false,
  onRelist: (items) => cache.replacePods(items as Pod[]),
  onEvents: (evs) =>
    inCpuPhase('follow', evs.length, () => {
      for (const ev of evs) cache.applyPod(ev);
    }),
});
// Claims, volumes and classes, for the pods that use claims (volume-binding.ts): a change of a
// claim or volume (bound, provisioned, deleted) may let a waiting pod go.
const storageInformer = <T extends KubeObject>(resource: string) => new Informer<T>({ store, resource, connection: connect(), log, onEvents: () => retrySoon() });
const claimInformer = storageInformer<PersistentVolumeClaim>('persistentvolumeclaims');
const volumeInformer = storageInformer<PersistentVolume>('persistentvolumes');
const classInformer = storageInformer<StorageClass>('storageclasses');
const volumeSnapshot: VolumeSnapshot = {
  claim: (namespace, name) => claimInformer.list().find((c) => c.metadata.namespace === namespace && c.metadata.name === name),
  volume: (name) => volumeInformer.list().find((v) => v.metadata.name === name),
  volumes: () => volumeInformer.list(),
  storageClass: (name) => classInformer.list().find((c) => c.metadata.name === name),
};
const informers = [nodeInformer, podInformer, claimInformer, volumeInformer, classInformer];

/** Every pod, as a list made now returns it. */
async function currentPods(): Promise<Pod[]> {
  return (await store.list<Pod>('pods')).items;
}

/** A catch-up that takes longer (Redis slow or gone) is given up: the bind's check still holds. */
const CATCH_UP_MS = 2_000;
// The others' placements arrive in batches (viewGatherMs); a decision that depends on them waits
// for the cache to catch up first, one catch-up shared by the decisions that ask meanwhile.
const catchUp = new CoalescedRun(async () => {
  await podInformer.caughtUp(Date.now() + CATCH_UP_MS);
});
const takesPods = config.scheduler.takesPods;
// A scheduler that takes no pods (WHARF_SCHEDULER_PODS=follow) owns no nodes and follows them all.
const membership = takesPods
  ? new ShardMembership({
      redis,
      keys,
      identity,
      log,
      nodes: () => cache.nodes().length,
      onChange: (owned) => podInformer.follow(followedStreams(podInformer.streams, owned, (shard) => keys.viewOf('pods', shard))),
    })
  : undefined;
const scheduler = new Scheduler(
  store,
  events,
  cache,
  { retryUnschedulableMs: config.scheduler.retryUnschedulableMs, currentPlacements: () => catchUp.request(), ownedShards: () => membership?.ownedShards() },
  volumeSnapshot,
);

const scheduling = new WorkQueue({
  name: QUEUES.schedule,
  keys,
  redis,
  connect,
  reconcile: (key) => scheduler.reconcile(key),
  log,
  concurrency: config.scheduler.concurrency,
});

/** Binds what it can of these pods a burst at a time; the rest go to the scheduling queue. */
async function schedulePods(pods: Pod[]): Promise<void> {
  for (let i = 0; i < pods.length; i += 500) await scheduling.addAll(await scheduler.scheduleBatch(pods.slice(i, i + 500)));
}

/** Every pending pod, at start-up (when the feed's group existed already: no resync ran). */
async function schedulePending(): Promise<void> {
  await schedulePods((await currentPods()).filter(wantsScheduling));
}

let retryTimer: NodeJS.Timeout | undefined;
/**
 * Node changes that matter to scheduling and finished pods can make room: retry the pods found
 * unschedulable soon, once per burst of events. A pod bound or deleted meanwhile leaves the set
 * when its retry finds it so.
 */
function retrySoon(): void {
  if (retryTimer) return;
  retryTimer = setTimeout(() => {
    retryTimer = undefined;
    store.unschedulablePods()
      .then((pods) => scheduling.addAll(pods.map(({ key, priority }) => ({ key, priority: queuePriority(priority) }))))
      .catch((err) => log.warn({ err: err.message }, 'retry of unschedulable pods failed'));
  }, 500);
}

async function onChanges(_resource: string, changes: StoredEvent[]): Promise<void> {
  const burst = triageBurst(changes);
  if (burst.roomFreed) retrySoon();
  await scheduling.addAll(await scheduler.scheduleBatch(burst.toDecide));
  await nodeQueues.addAll(burst.bound);
}

let resyncs = 0;
/** Every pending pod scheduled, every bound pod handed to its node: when the feed's group was created or fell behind compaction. */
async function resync(resource: string): Promise<void> {
  if (resource !== 'pods') return;
  resyncs++;
  const pods = await currentPods();
  await schedulePods(pods.filter(wantsScheduling));
  await nodeQueues.addAll(new Map(pods.filter((p) => p.spec.nodeName).map((p) => [podKey(p), p.spec.nodeName!])));
}

const feed = new ChangeFeed({
  keys,
  encryption: store.encryption,
  connection: connect(),
  group: GROUPS.scheduler,
  consumer: identity,
  resources: ['pods'],
  handleBatch: onChanges,
  onGap: resync,
  log,
  gatherMs: config.scheduler.feedGatherMs,
});

// Admission webhooks: the scheduler's own writes (preemption's deletions, claims' selected node)
// are admitted as users' are, before it writes anything.
const webhookConfigs = new WebhookConfigSync(store, connect(), keys, log);
await webhookConfigs.start();
// Validating admission policies: the scheduler's own writes are held to them as users' are.
const admissionPolicies = new AdmissionPolicySync(store, connect(), keys, log);
await admissionPolicies.start();
// The cache first: a pod decided against an empty cache would be found unschedulable.
await Promise.all(informers.map((i) => i.start()));
await membership?.start();
if (takesPods) {
  scheduling.start();
  await feed.start();
}
/**
 * The start-up sweep (every pending pod listed and decided) by one scheduler a minute. The feed's
 * group, the scheduling queue and the unschedulable set durably hold every pod not yet bound, so
 * the sweep is a safety net; a fleet of restarting schedulers must not each list every pod and
 * decide every pending one again (the binds would refuse all but one, after N times the work).
 */
const SWEEP_TURN_MS = 60_000;
async function sweepIfMyTurn(): Promise<void> {
  if ((await redis.set(keys.resyncTurn('scheduler'), identity, 'PX', SWEEP_TURN_MS, 'NX')) !== 'OK') return;
  log.info('start-up sweep of the pending pods');
  await schedulePending();
}
if (takesPods && !resyncs) await sweepIfMyTurn().catch((err) => log.warn({ err: err.message }, 'initial sync failed'));
const metricsEndpoint = await serveMetrics(config.scheduler.metricsPort, config.common.metricsBindAddress, log);
log.info({ identity, takesPods }, 'scheduler started');

async function shutdown(signal: string) {
  log.info({ signal }, 'shutting down');
  await feed.stop();
  await membership?.stop();
  await Promise.all(informers.map((i) => i.stop()));
  await webhookConfigs.stop();
  await admissionPolicies.stop();
  await scheduling.close();
  await nodeQueues.close();
  redis.disconnect();
  metricsEndpoint.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
