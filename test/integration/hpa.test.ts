// The HorizontalPodAutoscaler on a running cluster, driven with the real kubectl: usage samples are
// written into the cluster's Redis as the node agents write them (shared/resource-metrics.ts), so
// that a Deployment's pods look busy — it scales from 1 to at least 3 — and then idle — it comes
// back to 1 within the short windows its behavior sets. `kubectl get hpa` prints Kubernetes'
// columns, `kubectl autoscale` makes an autoscaling/v1 HPA, `kubectl describe hpa` tells the
// story, and an HPA whose target does not exist says FailedGetScale without stopping the others.
import test from 'ava';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';
import { Keys } from '../../shared/keys.ts';
import { recordUsage, type PodUsage } from '../../shared/resource-metrics.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-hpa-'));
let cluster: Cluster;
let redis: Redis;
let keys: Keys;
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);

function file(name: string, text: string): string {
  const path = join(work, name);
  writeFileSync(path, text);
  return path;
}

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
      - name: app
        image: busybox:latest
        resources: {requests: {cpu: 100m}}
`;

/** Usage per pod of the app, in millicores: what the node agents would measure. */
const load = new Map<string, number>();
let writing: NodeJS.Timeout | undefined;

/** Writes a fresh sample for every running pod of each loaded app, as an agent's pass does. */
async function writeSamples(): Promise<void> {
  const pods = (await cluster.api.get('/api/v1/namespaces/default/pods')).body.items ?? [];
  const samples: PodUsage[] = [];
  for (const p of pods) {
    const level = load.get(p.metadata.labels?.app);
    if (level === undefined || p.status?.phase !== 'Running') continue;
    samples.push({
      namespace: 'default', name: p.metadata.name, uid: p.metadata.uid, node: p.spec.nodeName ?? '',
      timestamp: new Date().toISOString(), windowSeconds: 1,
      containers: [{ name: 'app', cpuNanoCores: level * 1e6, memoryBytes: 10 * 1024 * 1024 }],
    });
  }
  if (samples.length) await recordUsage(redis, keys, undefined, samples);
}

async function deploymentReplicas(name: string): Promise<number> {
  return (await cluster.api.get(`/apis/apps/v1/namespaces/default/deployments/${name}`)).body.spec?.replicas;
}

async function hpaObject(name: string): Promise<any> {
  return (await cluster.api.get(`/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/${name}`)).body;
}

async function events(name: string, reason: string): Promise<string[]> {
  const list = (await cluster.api.get('/api/v1/namespaces/default/events')).body.items ?? [];
  return list.filter((e: any) => e.involvedObject?.kind === 'HorizontalPodAutoscaler' && e.involvedObject?.name === name && e.reason === reason).map((e: any) => e.message);
}

test.before(async () => {
  cluster = await startCluster({
    // Two controller managers: whichever syncs an HPA, it stabilizes over the history in Redis.
    controllerManagers: 2,
    agents: [{ WHARF_NODE_NAME: 'node-a', WHARF_RUNTIME: 'simulated' }],
    // Each HPA is synced every second; an HPA that sets no scale-down window waits 3 s.
    env: { WHARF_HPA_SYNC_PERIOD: '1s', WHARF_HPA_DOWNSCALE_STABILIZATION: '3s', WHARF_HPA_METRICS_MAX_AGE: '5s' },
  });
  await cluster.waitForNodes(['node-a']);
  redis = new Redis(cluster.redis.url, { maxRetriesPerRequest: 3 });
  keys = new Keys(cluster.prefix);
  const tick = () => {
    writing = setTimeout(() => void writeSamples().catch(() => {}).finally(() => writing && tick()), 300);
  };
  tick();
});

test.after.always(async () => {
  const timer = writing;
  writing = undefined;
  clearTimeout(timer);
  redis?.disconnect();
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.serial('busy pods scale a Deployment from 1 to at least 3 and idle ones bring it back to 1; kubectl get and describe show it', async (t) => {
  await ok(t, 'apply', '-f', file('web.yaml', deployment('web')));
  await ok(t, 'apply', '-f', file('web-hpa.yaml', `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 2
      policies: [{type: Percent, value: 100, periodSeconds: 1}]
`));
  // 90m of a 100m request is 90% against 50%.
  load.set('web', 90);
  const started = Date.now();
  await eventually(async () => (await deploymentReplicas('web')) >= 3, { timeoutMs: 60_000, message: 'web scaled to 3 or more', detail: () => cluster.dumpLogs() });
  t.log(`1 -> >=3 in ${Date.now() - started} ms`);
  let rescales: string[] = [];
  await eventually(async () => {
    rescales = await events('web', 'SuccessfulRescale');
    return rescales.some((m) => /^New size: \d; reason: cpu resource utilization \(percentage of request\) above target$/.test(m));
  }, { timeoutMs: 10_000, message: 'the SuccessfulRescale event of the scale-up', detail: () => rescales.join('\n') });

  // kubectl get hpa: Kubernetes' columns and cells.
  const table = await eventually(async () => {
    const out = await ok(t, 'get', 'hpa', 'web');
    // REPLICAS is the status' currentReplicas, which the sync after the scale-up reports.
    return /cpu: 90%\/50%\s+1\s+5\s+[3-5]\s/.test(out) && out;
  }, { timeoutMs: 20_000, message: 'TARGETS cpu: 90%/50%, REPLICAS 3 to 5' });
  const [header, row] = table.trim().split('\n');
  t.deepEqual(header.split(/\s+/), ['NAME', 'REFERENCE', 'TARGETS', 'MINPODS', 'MAXPODS', 'REPLICAS', 'AGE']);
  t.regex(row, /^web\s+Deployment\/web\s+cpu: 90%\/50%\s+1\s+5\s+[3-5]\s+\d+s$/);

  const status = (await hpaObject('web')).status;
  t.like(status.currentMetrics[0], { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90, averageValue: '90m' } } });
  t.truthy(status.lastScaleTime);
  t.like(status.conditions.find((c: any) => c.type === 'ScalingActive'), { status: 'True', reason: 'ValidMetricFound' });

  t.log(table);
  const described = await ok(t, 'describe', 'hpa', 'web');
  t.log(described);
  t.regex(described, /Reference:\s+Deployment\/web/);
  t.regex(described, /resource cpu on pods\s+\(as a percentage of request\):\s+90% \(90m\) \/ 50%/);
  t.regex(described, /Min replicas:\s+1/);
  t.regex(described, /AbleToScale\s+True/);
  t.regex(described, /SuccessfulRescale/);

  // Idle: 5% of the request. The 2 s window passes, and it goes to 1 at once (100% per second).
  load.set('web', 5);
  const idle = Date.now();
  await eventually(async () => (await deploymentReplicas('web')) === 1, { timeoutMs: 60_000, message: 'web back to 1', detail: () => cluster.dumpLogs() });
  t.log(`back to 1 in ${Date.now() - idle} ms`);
  // The event is written after the scale: wait for it.
  await eventually(async () => (await events('web', 'SuccessfulRescale')).includes('New size: 1; reason: All metrics below target'), { timeoutMs: 10_000, message: 'the SuccessfulRescale event to 1' });
  await eventually(async () => (await hpaObject('web')).status?.desiredReplicas === 1, { timeoutMs: 20_000, message: 'desiredReplicas 1' });
  load.delete('web');
});

test.serial('kubectl autoscale makes an autoscaling/v1 HPA that reads back in both versions', async (t) => {
  await ok(t, 'apply', '-f', file('api.yaml', deployment('api')));
  t.regex(await ok(t, 'autoscale', 'deploy/api', '--cpu-percent=50', '--min=1', '--max=5'), /horizontalpodautoscaler.autoscaling\/api autoscaled/);
  const v2 = await hpaObject('api');
  t.deepEqual(v2.spec, {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, minReplicas: 1, maxReplicas: 5,
    metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
  });
  const v1 = JSON.parse(await ok(t, 'get', 'horizontalpodautoscalers.v1.autoscaling', 'api', '-o', 'json'));
  t.is(v1.apiVersion, 'autoscaling/v1');
  t.like(v1.spec, { minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 });
  // No samples for its pods: the metric cannot be read, which it says, and it scales nothing.
  await eventually(async () => (await events('api', 'FailedGetResourceMetric')).length > 0, { timeoutMs: 20_000, message: 'FailedGetResourceMetric' });
  t.like((await hpaObject('api')).status.conditions.find((c: any) => c.type === 'ScalingActive'), { status: 'False', reason: 'FailedGetResourceMetric' });
  t.regex(await ok(t, 'get', 'hpa', 'api'), /api\s+Deployment\/api\s+cpu: <unknown>\/50%\s+1\s+5\s+1/);
  t.is(await deploymentReplicas('api'), 1);
  // A bad update through v1 is refused naming the v2 field, as Kubernetes validates the converted object.
  const err = await fails(t, 'patch', 'horizontalpodautoscalers.v1.autoscaling', 'api', '--type=merge', '-p', '{"spec":{"minReplicas":7}}');
  t.regex(err, /spec\.maxReplicas: Invalid value: 5: must be greater than or equal to `minReplicas`/);
});

test.serial('a target that does not exist: FailedGetScale condition and event, and the controller keeps going', async (t) => {
  await ok(t, 'apply', '-f', file('ghost.yaml', `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: ghost}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: ghost}
  maxReplicas: 3
`));
  await eventually(async () => (await events('ghost', 'FailedGetScale')).includes('deployments.apps "ghost" not found'), { timeoutMs: 20_000, message: 'FailedGetScale event' });
  t.like((await hpaObject('ghost')).status.conditions.find((c: any) => c.type === 'AbleToScale'), {
    status: 'False', reason: 'FailedGetScale', message: 'the HPA controller was unable to get the target\'s current scale: deployments.apps "ghost" not found',
  });
  // An unknown kind says so too.
  await ok(t, 'patch', 'hpa', 'ghost', '--type=merge', '-p', '{"spec":{"scaleTargetRef":{"kind":"Widget"}}}');
  await eventually(async () => (await events('ghost', 'FailedGetScale')).includes('no matches for kind "Widget" in group "apps"'), { timeoutMs: 20_000, message: 'no matches for kind' });
  // The other HPAs are still synced: web's is still current.
  const before = (await hpaObject('web')).status.conditions.find((c: any) => c.type === 'AbleToScale');
  t.truthy(before);
  t.is(cluster.services.filter((s) => s.label.startsWith('controller-manager')).every((s) => !s.ended()), true);
});

test.serial('invalid HPAs are refused with Kubernetes\' 422 wording naming the field', async (t) => {
  const err = await fails(t, 'apply', '-f', file('bad.yaml', `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: bad}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 0
  maxReplicas: 3
  behavior:
    scaleUp: {policies: [{type: Pods, value: 0, periodSeconds: 15}]}
`));
  t.regex(err, /The HorizontalPodAutoscaler "bad" is invalid/);
  t.regex(err, /spec\.minReplicas: Invalid value: 0: must be greater than or equal to 1/);
  t.regex(err, /spec\.behavior\.scaleUp\.policies\[0\]\.value: Invalid value: 0: must be greater than zero/);
});
