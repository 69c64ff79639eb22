// KEDA's ScaledObject on a real cluster with a real Docker node: a redis:7 pod holds a list,
// worker pods (redis-cli in the redis:7 image) pop it. Pushing 200 items scales the worker
// Deployment from 0 up; once the workers drain the list it returns to 0. A trigger pointing at a
// closed port and a target that does not exist show as conditions and events, never as a scale.
// Everything is proved through the real kubectl. Two controller managers run, so polls of one
// ScaledObject land on either: nothing the decisions need may live in one process. Waits are long
// (up to a minute) because a loaded CI machine has stalled a controller manager for over 10 s;
// they end at the signal, and the timings are reported with t.log.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually, freePort, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';
import { Keys } from '../../shared/keys.ts';
import { recordUsage } from '../../shared/resource-metrics.ts';

const node = dockerNode('keda');
let cluster: Cluster;
let cacheDir: string;
let redisIp: string;
let queue: Redis;
const kubectl = kubectlRunner(() => ({ kubeconfig: cluster.kubeconfig, cacheDir }));

test.before(async () => {
  cacheDir = mkdtempSync(join(tmpdir(), 'wharf-keda-kubectl-'));
  cluster = await startDockerCluster(node, ['redis:7'], { controllerManagers: 2, env: { WHARF_KEDA_SCALER_TIMEOUT: '1s' } });
  // The queue: a redis:7 pod the workers and the trigger both reach at its pod IP.
  const created = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'queue' },
    spec: { containers: [{ name: 'redis', image: 'redis:7', args: ['redis-server', '--protected-mode', 'no'] }] },
  });
  if (created.status !== 201) throw new Error(`queue pod: ${created.status} ${JSON.stringify(created.body)}`);
  redisIp = await eventually(async () => {
    const pod = (await cluster.api.get('/api/v1/namespaces/default/pods/queue')).body;
    return pod.status?.phase === 'Running' && pod.status.podIP;
  }, { timeoutMs: 60_000, message: 'queue pod running' });
  queue = new Redis({ host: redisIp, port: 6379, maxRetriesPerRequest: 1 });
  await eventually(async () => (await queue.ping().catch(() => '')) === 'PONG', { timeoutMs: 45_000, message: 'queue redis answering' });
});

test.after.always(async () => {
  queue?.disconnect();
  await cluster?.stop();
  await removeDockerNode(node);
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

const deployment = (name: string, replicas: number, script: string) => ({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'worker', image: 'redis:7', command: ['sh', '-c', script] }] },
    },
  },
});

async function apply(obj: object): Promise<void> {
  const run = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
  if (run.code !== 0) throw new Error(`kubectl apply: ${run.stderr}`);
}

async function replicasOf(name: string): Promise<number> {
  return (await cluster.api.get(`/apis/apps/v1/namespaces/default/deployments/${name}`)).body.spec.replicas;
}

async function scaledObject(name: string): Promise<any> {
  return JSON.parse((await kubectl(['get', 'scaledobject', name, '-o', 'json'])).stdout);
}

const condition = (so: any, type: string) => (so.status?.conditions ?? []).find((c: any) => c.type === type);

async function eventsOf(name: string): Promise<{ reason: string; message: string; type: string }[]> {
  const list = (await cluster.api.get(`/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D${name}`)).body.items;
  return list.map((e: any) => ({ reason: e.reason, message: e.message, type: e.type }));
}

test.serial('pushing 200 items scales the workers from 0 up; once drained they return to 0', async (t) => {
  // Each worker pops one item at a time, slowly enough that draining 200 takes several workers a few seconds.
  await apply(deployment('worker', 0, `while true; do redis-cli -h ${redisIp} BLPOP jobs 2 >/dev/null; sleep 0.1; done`));
  await apply({
    apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'worker' },
    spec: {
      scaleTargetRef: { name: 'worker' },
      pollingInterval: 1,
      cooldownPeriod: 4,
      maxReplicaCount: 5,
      triggers: [{ type: 'redis', metadata: { address: `${redisIp}:6379`, listName: 'jobs', listLength: '20' } }],
    },
  });
  // Defined correctly, idle: Ready, not Active, the target left at 0.
  const idle = await eventually(async () => {
    const so = await scaledObject('worker');
    return condition(so, 'Ready')?.status === 'True' && condition(so, 'Active')?.status === 'False' && so;
  }, { timeoutMs: 45_000, message: 'ScaledObject Ready and not Active' });
  t.like(idle.status, { scaleTargetKind: 'apps/v1.Deployment', originalReplicaCount: 0, externalMetricNames: ['s0-redis-jobs'], triggersTypes: 'redis' });
  t.like(condition(idle, 'Ready'), { reason: 'ScaledObjectReady', message: 'ScaledObject is defined correctly and is ready for scaling' });
  t.is(await replicasOf('worker'), 0);
  const table = (await kubectl(['get', 'so', 'worker'])).stdout;
  t.regex(table, /^NAME\s+SCALETARGETKIND\s+SCALETARGETNAME\s+MIN\s+MAX\s+READY\s+ACTIVE\s+FALLBACK\s+PAUSED\s+TRIGGERS\s+AUTHENTICATIONS\s+AGE\n/);
  t.regex(table, /\nworker\s+apps\/v1\.Deployment\s+worker\s+5\s+True\s+False\s+False\s+False\s+redis\s+\S+\n/);

  const pushedAt = Date.now();
  await queue.rpush('jobs', ...Array.from({ length: 200 }, (_, i) => `job-${i}`));
  // 0 -> 1 by activation, then above one by the metric (200 / 20 = 10, capped at 5).
  await eventually(async () => (await replicasOf('worker')) >= 1, { timeoutMs: 60_000, message: 'activated from zero' });
  const activatedMs = Date.now() - pushedAt;
  const peak = await eventually(async () => {
    const r = await replicasOf('worker');
    return r >= 3 && r;
  }, { timeoutMs: 60_000, message: 'scaled above one' });
  t.true(peak <= 5, `never above maxReplicaCount (${peak})`);
  // Each event is recorded just after its scale write: wait for it rather than race it.
  await eventually(async () => (await eventsOf('worker')).some((e) => e.reason === 'KEDAScaleTargetActivated' && e.message === 'Scaled apps/v1.Deployment default/worker from 0 to 1, triggered by s0-redis-jobs'), { timeoutMs: 30_000, message: 'KEDAScaleTargetActivated' });
  await eventually(async () => (await eventsOf('worker')).some((e) => e.reason === 'SuccessfulRescale' && /^New size: \d; reason: external metric s0-redis-jobs above target$/.test(e.message)), { timeoutMs: 30_000, message: 'SuccessfulRescale' });
  t.pass();
  const active = await scaledObject('worker');
  t.like(condition(active, 'Active'), { status: 'True', reason: 'ScalerActive' });
  t.truthy(active.status.lastActiveTime);

  // The workers drain the list, then after cooldownPeriod the target goes back to 0.
  await eventually(async () => (await queue.llen('jobs')) === 0, { timeoutMs: 120_000, intervalMs: 500, message: 'list drained' });
  const drainedAt = Date.now();
  await eventually(async () => (await replicasOf('worker')) === 0, { timeoutMs: 60_000, intervalMs: 250, message: 'back to zero' });
  const zeroAt = Date.now();
  const zeroMs = zeroAt - drainedAt;
  // Not before cooldownPeriod (4 s) after the last poll that found the list non-empty, which the
  // status records (to the second, rounded down: the bound only gets looser for the controller).
  const lastActive = Date.parse((await scaledObject('worker')).status.lastActiveTime);
  t.true(zeroAt - lastActive >= 4_000, `back to 0 ${zeroAt - lastActive} ms after lastActiveTime, not before cooldownPeriod (4 s)`);
  await eventually(async () => (await eventsOf('worker')).some((e) => e.reason === 'KEDAScaleTargetDeactivated' && /^Deactivated apps\/v1\.Deployment default\/worker from \d to 0$/.test(e.message)), { timeoutMs: 30_000, message: 'KEDAScaleTargetDeactivated' });
  await eventually(async () => (await kubectl(['get', 'pods', '-l', 'app=worker', '-o', 'name'])).stdout.trim() === '', { timeoutMs: 30_000, message: 'worker pods gone' });
  t.log(`activation ${activatedMs} ms after the push; peak ${peak} replicas; back to 0 ${zeroMs} ms after the list was empty`);
});

test.serial('a redis trigger pointing at a closed port: Ready False and KEDAScalerFailed, replicas untouched', async (t) => {
  const closed = await freePort();
  await apply(deployment('stuck', 2, 'sleep 3600'));
  await apply({
    apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'stuck' },
    spec: {
      scaleTargetRef: { name: 'stuck' }, pollingInterval: 1, cooldownPeriod: 1,
      triggers: [{ type: 'redis', metadata: { address: `127.0.0.1:${closed}`, listName: 'jobs' } }],
    },
  });
  const so = await eventually(async () => {
    const s = await scaledObject('stuck');
    return condition(s, 'Ready')?.status === 'False' && s;
  }, { timeoutMs: 45_000, message: 'Ready False' });
  t.like(condition(so, 'Ready'), { reason: 'TriggerError', message: 'Triggers defined in ScaledObject are not working correctly' });
  const failed = await eventually(async () => (await eventsOf('stuck')).find((e) => e.reason === 'KEDAScalerFailed'), { timeoutMs: 30_000, message: 'KEDAScalerFailed event' });
  t.is(failed.type, 'Warning');
  t.is(failed.message, `connection to redis failed: dial tcp 127.0.0.1:${closed}: connect: connection refused`);
  // Several polls later (pollingInterval 1 s, cooldownPeriod 1 s: five polls past any cooldown) nothing was scaled.
  const polls = await eventually(async () => {
    const ev = (await cluster.api.get('/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dstuck')).body.items.find((e: any) => e.reason === 'KEDAScalerFailed');
    return ev?.count >= 5 && ev.count;
  }, { timeoutMs: 60_000, message: 'five failed polls' });
  t.is(await replicasOf('stuck'), 2, `after ${polls} failed polls`);
  const table = (await kubectl(['get', 'so', 'stuck', '--no-headers'])).stdout;
  t.regex(table, /^stuck\s+apps\/v1\.Deployment\s+stuck\s+False\s+False\s+False\s+False\s+redis\s+\S+\n$/);
  t.is((await kubectl(['delete', 'so', 'stuck'])).code, 0);
});

test.serial('a target that does not exist: Ready False ScaledObjectCheckFailed and an event', async (t) => {
  await apply({
    apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'orphan' },
    spec: { scaleTargetRef: { name: 'nope' }, pollingInterval: 1, triggers: [{ type: 'cron', metadata: { timezone: 'UTC', start: '0 8 * * *', end: '0 9 * * *', desiredReplicas: '2' } }] },
  });
  const so = await eventually(async () => {
    const s = await scaledObject('orphan');
    return condition(s, 'Ready')?.status === 'False' && s;
  }, { timeoutMs: 45_000, message: 'Ready False' });
  t.like(condition(so, 'Ready'), { reason: 'ScaledObjectCheckFailed', message: 'ScaledObject doesn\'t have correct scaleTargetRef specification: deployments.apps "nope" not found' });
  t.like(condition(so, 'Active'), { status: 'Unknown', reason: 'UnknownState' });
  const ev = await eventually(async () => (await eventsOf('orphan')).find((e) => e.reason === 'ScaledObjectCheckFailed'), { timeoutMs: 30_000, message: 'event' });
  t.like(ev, { type: 'Warning', message: 'Target resource doesn\'t exist' });
});

test.serial('bad manifests are refused with 422s naming the field', async (t) => {
  const bad = (spec: object) => kubectl(['apply', '-f', '-'], { input: JSON.stringify({ apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'bad' }, spec: { scaleTargetRef: { name: 'worker' }, ...spec } }) });
  const unknown = await bad({ triggers: [{ type: 'kafka', metadata: {} }] });
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /The ScaledObject "bad" is invalid: spec\.triggers\[0\]\.type: Unsupported value: "kafka": no scaler found for type: kafka/);
  const noList = await bad({ triggers: [{ type: 'redis', metadata: { address: 'r:6379' } }] });
  t.regex(noList.stderr, /spec\.triggers\[0\]\.metadata\.listName: Required value: missing required parameter "listName" in \[triggerMetadata\]/);
  const minMax = await bad({ minReplicaCount: 4, maxReplicaCount: 2, triggers: [{ type: 'redis', metadata: { address: 'r:6379', listName: 'x' } }] });
  t.regex(minMax.stderr, /spec: Invalid value: "object": minReplicaCount must be less than or equal to maxReplicaCount/);
  const raw = await cluster.api.post('/apis/keda.sh/v1alpha1/namespaces/default/scaledobjects', { apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'bad' }, spec: { scaleTargetRef: { name: 'w' }, triggers: [{ type: 'kafka', metadata: {} }] } });
  t.is(raw.status, 422);
  t.like(raw.body, { kind: 'Status', reason: 'Invalid', details: { name: 'bad', group: 'keda.sh', kind: 'ScaledObject', causes: [{ field: 'spec.triggers[0].type' }] } });
});

test.serial('redis-streams: a consumer group\'s pending entries scale the target up, and acknowledging them back to 0', async (t) => {
  await queue.xgroup('CREATE', 'events', 'g', '$', 'MKSTREAM');
  await apply(deployment('streamer', 0, 'sleep 3600'));
  await apply({
    apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'streamer' },
    spec: {
      scaleTargetRef: { name: 'streamer' }, pollingInterval: 1, cooldownPeriod: 2, maxReplicaCount: 5,
      triggers: [{ type: 'redis-streams', metadata: { address: `${redisIp}:6379`, stream: 'events', consumerGroup: 'g', pendingEntriesCount: '10' } }],
    },
  });
  await eventually(async () => condition(await scaledObject('streamer'), 'Ready')?.status === 'True', { timeoutMs: 45_000, message: 'Ready' });
  for (let i = 0; i < 30; i++) await queue.xadd('events', '*', 'n', String(i));
  // Read but not acknowledged: 30 pending entries, 10 per replica.
  await queue.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 100, 'STREAMS', 'events', '>');
  await eventually(async () => (await replicasOf('streamer')) === 3, { timeoutMs: 45_000, message: 'ceil(30 / 10) = 3 replicas' });
  const ids = ((await queue.xrange('events', '-', '+')) as [string, string[]][]).map(([id]) => id);
  await queue.xack('events', 'g', ...ids);
  await eventually(async () => (await replicasOf('streamer')) === 0, { timeoutMs: 45_000, message: 'back to zero once acknowledged' });
  t.like((await scaledObject('streamer')).status, { externalMetricNames: ['s0-redis-streams-events'], triggersActivity: { 's0-redis-streams-events': { isActive: false } } });
  t.is((await kubectl(['delete', 'so', 'streamer'])).code, 0);
});

test.serial('cpu: the pods\' usage samples against their requests scale the target within min and max', async (t) => {
  const metrics = new Redis(cluster.redis.url);
  const keys = new Keys(cluster.prefix);
  t.teardown(() => metrics.disconnect());
  const busy = deployment('busy', 1, 'sleep 3600');
  busy.spec.template.spec.containers[0] = { ...busy.spec.template.spec.containers[0], resources: { requests: { cpu: '100m' } } } as any;
  await apply(busy);
  const pod = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dbusy')).body.items;
    return items.length === 1 && items[0].status?.phase === 'Running' && items[0];
  }, { timeoutMs: 60_000, message: 'busy pod running' });
  // As a node agent would: the pod uses 200m of its 100m request (200%), sampled every 200 ms.
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await recordUsage(metrics, keys, undefined, [{ namespace: 'default', name: pod.metadata.name, uid: pod.metadata.uid, node: node.name, timestamp: new Date().toISOString(), windowSeconds: 1, containers: [{ name: 'worker', cpuNanoCores: 200_000_000, memoryBytes: 1 << 20 }] }]);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  t.teardown(async () => {
    sampling = false;
    await sampler;
  });
  await apply({
    apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'busy' },
    spec: { scaleTargetRef: { name: 'busy' }, pollingInterval: 1, minReplicaCount: 1, maxReplicaCount: 3, triggers: [{ type: 'cpu', metricType: 'Utilization', metadata: { value: '50' } }] },
  });
  // 200% against 50%: four times the one measured pod, capped at maxReplicaCount 3.
  await eventually(async () => (await replicasOf('busy')) === 3, { timeoutMs: 45_000, message: 'scaled to max on cpu' });
  const so = await scaledObject('busy');
  t.like(so.status, { resourceMetricNames: ['cpu'], triggersTypes: 'cpu' });
  t.like(condition(so, 'Active'), { status: 'True', reason: 'ScalerActive' });
  await eventually(async () => (await eventsOf('busy')).some((e) => e.reason === 'SuccessfulRescale' && e.message === 'New size: 3; reason: cpu resource utilization (percentage of request) above target'), { timeoutMs: 30_000, message: 'SuccessfulRescale' });
  t.is((await kubectl(['delete', 'so', 'busy'])).code, 0);
});

test.serial('a TriggerAuthentication gives the trigger its parameters from a Secret', async (t) => {
  await apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'queue' }, stringData: { address: `${redisIp}:6379` } });
  await apply({ apiVersion: 'keda.sh/v1alpha1', kind: 'TriggerAuthentication', metadata: { name: 'queue-auth' }, spec: { secretTargetRef: [{ parameter: 'address', name: 'queue', key: 'address' }] } });
  t.regex((await kubectl(['get', 'ta'])).stdout, /^NAME\s+PODIDENTITY\s+SECRET\s+ENV\s+VAULTADDRESS\nqueue-auth\s+queue\s*\n$/);
  await apply(deployment('authed', 0, 'sleep 3600'));
  await apply({
    apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'authed' },
    spec: { scaleTargetRef: { name: 'authed' }, pollingInterval: 1, cooldownPeriod: 1, triggers: [{ type: 'redis', metadata: { listName: 'authjobs' }, authenticationRef: { name: 'queue-auth' } }] },
  });
  await eventually(async () => condition(await scaledObject('authed'), 'Ready')?.status === 'True', { timeoutMs: 45_000, message: 'Ready' });
  t.regex((await kubectl(['get', 'so', 'authed', '--no-headers'])).stdout, /\sredis\s+queue-auth\s/);
  await queue.rpush('authjobs', 'a', 'b', 'c');
  await eventually(async () => (await replicasOf('authed')) === 1, { timeoutMs: 45_000, message: 'activated through the TriggerAuthentication' });
  await queue.del('authjobs');
  await eventually(async () => (await replicasOf('authed')) === 0, { timeoutMs: 45_000, message: 'back to zero' });
  // A reference to nothing: the trigger fails with the reason, nothing is scaled.
  await apply({
    apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'authed' },
    spec: { scaleTargetRef: { name: 'authed' }, pollingInterval: 1, cooldownPeriod: 1, triggers: [{ type: 'redis', metadata: { listName: 'authjobs' }, authenticationRef: { name: 'missing' } }] },
  });
  const ev = await eventually(async () => (await eventsOf('authed')).find((e) => e.reason === 'KEDAScalerFailed'), { timeoutMs: 45_000, message: 'KEDAScalerFailed' });
  t.is(ev.message, 'error resolving auth params: triggerauthentications.keda.sh "missing" not found');
  t.is((await kubectl(['delete', 'so', 'authed'])).code, 0);
});

test.serial('cron: inside the window the target runs desiredReplicas; the paused-replicas annotation holds it, and its removal resumes', async (t) => {
  const at = (ms: number) => { const d = new Date(ms); return `${d.getUTCMinutes()} ${d.getUTCHours()} * * *`; };
  // A window from two minutes ago to ten minutes ahead, in UTC (across midnight too).
  const start = at(Date.now() - 120_000);
  const end = at(Date.now() + 600_000);
  await apply(deployment('shift', 0, 'sleep 3600'));
  await apply({
    apiVersion: 'keda.sh/v1alpha1', kind: 'ScaledObject', metadata: { name: 'shift' },
    spec: { scaleTargetRef: { name: 'shift' }, pollingInterval: 1, triggers: [{ type: 'cron', metadata: { timezone: 'Etc/UTC', start, end, desiredReplicas: '2' } }] },
  });
  await eventually(async () => (await replicasOf('shift')) === 2, { timeoutMs: 45_000, message: 'desiredReplicas inside the window' });
  const so = await scaledObject('shift');
  t.like(condition(so, 'Active'), { status: 'True', reason: 'ScalerActive' });
  t.regex(so.status.externalMetricNames[0], /^s0-cron-Etc-UTC-\d+\d+xxx-\d+\d+xxx$/);
  await eventually(async () => (await eventsOf('shift')).some((e) => e.reason === 'KEDAScaleTargetActivated' && e.message.startsWith('Scaled apps/v1.Deployment default/shift from 0 to 1, triggered by s0-cron-Etc-UTC-')), { timeoutMs: 30_000, message: 'KEDAScaleTargetActivated' });

  t.is((await kubectl(['annotate', 'so', 'shift', 'autoscaling.keda.sh/paused-replicas=4'])).code, 0);
  await eventually(async () => (await replicasOf('shift')) === 4, { timeoutMs: 45_000, message: 'held at the paused replicas' });
  const paused = await eventually(async () => {
    const s = await scaledObject('shift');
    return condition(s, 'Paused')?.status === 'True' && s;
  }, { timeoutMs: 45_000, message: 'Paused True' });
  t.like(condition(paused, 'Paused'), { reason: 'ScaledObjectPaused', message: 'ScaledObject is paused' });
  t.is(paused.status.pausedReplicaCount, 4);
  t.regex((await kubectl(['get', 'so', 'shift', '--no-headers'])).stdout, /\sTrue\s+True\s+False\s+True\s+cron\s/);

  t.is((await kubectl(['annotate', 'so', 'shift', 'autoscaling.keda.sh/paused-replicas-'])).code, 0);
  const resumed = await eventually(async () => {
    const s = await scaledObject('shift');
    return condition(s, 'Paused')?.status === 'False' && s;
  }, { timeoutMs: 45_000, message: 'Paused False' });
  t.like(condition(resumed, 'Paused'), { reason: 'ScaledObjectUnpaused', message: 'pause annotation removed for ScaledObject' });
  t.is(resumed.status.pausedReplicaCount, undefined);
  t.is((await kubectl(['delete', 'so', 'shift'])).code, 0);
});

test.serial('the trigger\'s connection is closed when its ScaledObject goes', async (t) => {
  const named = async () => ((await queue.client('LIST')) as string).split('\n').filter((l) => l.includes('name=wharf-keda-scaler')).length;
  t.true((await eventually(async () => (await named()) >= 1, { timeoutMs: 30_000, message: 'scaler connection open' })) === true);
  t.is((await kubectl(['delete', 'so', 'worker'])).code, 0);
  // At once by the controller manager that takes the deletion; by the other at its next resync (5 s here).
  await eventually(async () => (await named()) === 0, { timeoutMs: 45_000, message: 'scaler connections closed' });
  t.pass();
});
