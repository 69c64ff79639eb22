// Resource metrics end to end on a real Docker node: the node agent reads its pods' cgroups, the API
// server serves metrics.k8s.io as metrics-server does, and the real `kubectl top` shows a pod that
// burns CPU within 15 s of it running. Each component's /metrics serves Kubernetes' own names:
// workqueue_* from every process with a work queue, scheduler_* from the scheduler, the kubelet's
// and cAdvisor's from the node agent.
import test from 'ava';
import Docker from 'dockerode';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const docker = new Docker();
const ports = { scheduler: 0, controller: 0, agent: 0 };
let node: ReturnType<typeof dockerNode>;
let cluster: Cluster;
const work = mkdtempSync(join(tmpdir(), 'wharf-top-'));
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok, fails } = kubectlAssertions(kubectl);

const BURN = ['sh', '-c', 'trap "exit 0" TERM; while :; do :; done'];
const IDLE = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'];

async function pod(name: string, namespace: string, labels: Record<string, string>, containers: { name: string; command: string[] }[]): Promise<void> {
  const res = await cluster.api.post(`/api/v1/namespaces/${namespace}/pods`, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { terminationGracePeriodSeconds: 1, containers: containers.map((c) => ({ image: 'busybox:latest', ...c })) },
  });
  if (res.status !== 201) throw new Error(`pod ${name}: ${JSON.stringify(res.body)}`);
}

async function running(name: string, namespace = 'default'): Promise<number> {
  await eventually(async () => (await cluster.api.get(`/api/v1/namespaces/${namespace}/pods/${name}`)).body.status?.phase === 'Running', { timeoutMs: 60_000, message: `pod ${name} running` });
  return Date.now();
}

/** `kubectl top` table rows as arrays of cells, header left out. */
function rows(out: string): string[][] {
  return out.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
}

test.before(async () => {
  ports.scheduler = await freePort();
  ports.controller = await freePort();
  ports.agent = await freePort();
  node = dockerNode('top', { WHARF_AGENT_METRICS_PERIOD: '1s', WHARF_AGENT_METRICS_PORT: String(ports.agent) });
  cluster = await startDockerCluster(node, ['busybox:latest'], {
    env: { WHARF_SCHEDULER_METRICS_PORT: String(ports.scheduler), WHARF_CONTROLLER_METRICS_PORT: String(ports.controller), WHARF_API_METRICS_MAX_AGE: '10s', WHARF_HPA_SYNC_PERIOD: '2s' },
  });
  t0 = Date.now();
  await cluster.api.post('/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
  await pod('burner', 'default', { app: 'burn' }, [{ name: 'burn', command: BURN }, { name: 'idle', command: IDLE }]);
  await pod('quiet', 'default', { app: 'quiet' }, [{ name: 'idle', command: IDLE }]);
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/other/serviceaccounts/default')).status === 200, { timeoutMs: 30_000, message: 'other/default ServiceAccount' });
  await pod('elsewhere', 'other', { app: 'quiet' }, [{ name: 'idle', command: IDLE }]);
  burnerRunningAt = await running('burner');
  await running('quiet');
  await running('elsewhere', 'other');
});
let t0 = 0;
let burnerRunningAt = 0;

test.after.always(async () => {
  await cluster?.stop();
  if (node) await removeDockerNode(node, docker);
});

test.serial('kubectl top pods shows the busy pod\'s CPU within 15 s of it running, in metrics-server\'s units', async (t) => {
  const out = await eventually(async () => {
    const r = await kubectl(['top', 'pods']);
    const burner = rows(r.stdout).find((row) => row[0] === 'burner');
    const quiet = rows(r.stdout).find((row) => row[0] === 'quiet');
    // The pod's containers start one after another: a pass between them measures the first alone.
    const sample = await cluster.api.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/burner');
    const whole = sample.status === 200 && sample.body.containers?.length === 2;
    return r.code === 0 && burner && quiet && whole && Number.parseInt(burner[1], 10) > 100 ? r.stdout : undefined;
  }, { timeoutMs: 15_000, intervalMs: 500, message: 'kubectl top pods: burner busy with both containers measured, quiet listed' });
  t.log(out);
  t.log(`burner's CPU shown ${((Date.now() - burnerRunningAt) / 1000).toFixed(1)} s after it ran (${((Date.now() - t0) / 1000).toFixed(1)} s after the cluster was up)`);
  t.regex(out, /^NAME\s+CPU\(cores\)\s+MEMORY\(bytes\)/);
  const byName = new Map(rows(out).map((r) => [r[0], r]));
  t.regex(byName.get('burner')![1], /^\d+m$/);
  t.regex(byName.get('burner')![2], /^\d+Mi$/);
  t.true(byName.has('quiet'));
  t.false(byName.has('elsewhere'), 'another namespace is not listed');

  // The API's own shapes: nanocores and Ki (or a larger binary suffix), a window, the pod's labels.
  const one = await cluster.api.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/burner');
  t.is(one.status, 200);
  t.is(one.body.kind, 'PodMetrics');
  t.is(one.body.apiVersion, 'metrics.k8s.io/v1beta1');
  t.deepEqual(one.body.metadata.labels, { app: 'burn' });
  t.deepEqual(one.body.containers.map((c: any) => c.name), ['burn', 'idle']);
  t.regex(one.body.containers[0].usage.cpu, /^\d+[num]?$/);
  t.regex(one.body.containers[0].usage.memory, /^\d+(Ki|Mi)?$/);
  t.regex(one.body.window, /^[\d.]+s$/);
});

test.serial('--containers, -A, -l and --sort-by', async (t) => {
  const containers = rows(await ok(t, 'top', 'pod', 'burner', '--containers'));
  t.deepEqual(containers.map((r) => r.slice(0, 2)), [['burner', 'burn'], ['burner', 'idle']]);
  t.true(Number.parseInt(containers[0][2], 10) > Number.parseInt(containers[1][2], 10));

  const all = rows(await ok(t, 'top', 'pods', '-A'));
  t.true(all.some((r) => r[0] === 'other' && r[1] === 'elsewhere'));
  t.true(all.some((r) => r[0] === 'default' && r[1] === 'burner'));

  const selected = rows(await ok(t, 'top', 'pods', '-A', '-l', 'app=quiet'));
  t.deepEqual(selected.map((r) => r[1]).sort(), ['elsewhere', 'quiet']);

  const byCpu = rows(await ok(t, 'top', 'pods', '--sort-by=cpu'));
  t.is(byCpu[0][0], 'burner');
  const byMemory = rows(await ok(t, 'top', 'pods', '--sort-by=memory'));
  t.is(byMemory.length, 2);
});

test.serial('kubectl top nodes shows the node\'s usage; a missing pod or node is NotFound as metrics-server says it', async (t) => {
  const nodesOut = await ok(t, 'top', 'nodes');
  t.log(nodesOut);
  const nodes = rows(nodesOut);
  const row = nodes.find((r) => r[0] === node.name);
  t.truthy(row, JSON.stringify(nodes));
  t.regex(row![1], /^\d+m$/);
  t.true(Number.parseInt(row![1], 10) > 0);
  t.regex(row![3], /^\d+Mi$/);
  t.regex(await fails(t, 'top', 'pod', 'ghost'), /podmetrics\.metrics\.k8s\.io "default\/ghost" not found/);
  t.regex(await fails(t, 'top', 'node', 'ghost'), /nodemetrics\.metrics\.k8s\.io "ghost" not found/);
});

test.serial('discovery shows metrics.k8s.io as metrics-server\'s APIService does; view may read it', async (t) => {
  const groups = await cluster.api.get('/apis');
  t.truthy(groups.body.groups.find((g: any) => g.name === 'metrics.k8s.io' && g.preferredVersion.version === 'v1beta1'));
  const list = await cluster.api.get('/apis/metrics.k8s.io/v1beta1');
  t.deepEqual(list.body.resources.map((r: any) => [r.name, r.kind, r.namespaced]), [['nodes', 'NodeMetrics', false], ['pods', 'PodMetrics', true]]);
  t.is((await cluster.api.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/x/log')).status, 404);
  t.is((await cluster.api.get('/apis/metrics.k8s.io/v1beta1/pods?watch=true')).status, 405);
  t.is((await cluster.api.post('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods', {})).status, 405);
  const role = await cluster.api.get('/apis/rbac.authorization.k8s.io/v1/clusterroles/system:aggregated-metrics-reader');
  t.is(role.status, 200);
  await eventually(async () => {
    const view = await cluster.api.get('/apis/rbac.authorization.k8s.io/v1/clusterroles/view');
    return (view.body.rules ?? []).some((r: any) => r.apiGroups?.includes('metrics.k8s.io'));
  }, { timeoutMs: 20_000, message: 'view aggregates the metrics reader' });
  t.is((await kubectl(['auth', 'can-i', 'list', 'pods.metrics.k8s.io', '--as', 'viewer'])).stdout.trim(), 'no');
  await ok(t, 'create', 'rolebinding', 'viewer', '--clusterrole=view', '--user=viewer');
  await eventually(async () => (await kubectl(['auth', 'can-i', 'list', 'pods.metrics.k8s.io', '--as', 'viewer'])).stdout.trim() === 'yes', { timeoutMs: 10_000, message: 'view lets viewer read pod metrics' });
  t.is((await kubectl(['top', 'pods', '--as', 'viewer'])).code, 0);
});

test.serial('a deleted pod leaves kubectl top at once', async (t) => {
  await pod('brief', 'default', { app: 'brief' }, [{ name: 'idle', command: IDLE }]);
  await running('brief');
  await eventually(async () => (await cluster.api.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/brief')).status === 200, { timeoutMs: 15_000, message: 'brief measured' });
  await ok(t, 'delete', 'pod', 'brief', '--wait=true');
  t.is((await cluster.api.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/brief')).status, 404);
});

/** One component's metrics text. */
async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  return res.ok ? res.text() : '';
}

test.serial('every component serves Kubernetes\' metric names on its own /metrics port', async (t) => {
  const agent = await eventually(async () => {
    const text = await scrape(ports.agent);
    return /container_cpu_usage_seconds_total\{namespace="default",pod="burner",container="burn"\} [1-9]/.test(text) ? text : undefined;
  }, { timeoutMs: 15_000, message: 'node agent metrics' });
  t.regex(agent, /^kubelet_running_pods [1-9]/m);
  t.regex(agent, /container_memory_working_set_bytes\{namespace="default",pod="burner",container="burn"\} [1-9]/);
  t.regex(agent, new RegExp(`workqueue_adds_total\\{name="[^"]*${node.name}[^"]*"\\} [1-9]`));
  t.regex(agent, /# TYPE container_cpu_usage_seconds_total counter/);

  const scheduler = await scrape(ports.scheduler);
  t.regex(scheduler, /scheduler_schedule_attempts_total\{result="scheduled",profile="default-scheduler"\} [1-9]/);
  t.regex(scheduler, /scheduler_scheduling_attempt_duration_seconds_bucket\{le="[^"]+",result="scheduled",profile="default-scheduler"\}/);
  t.regex(scheduler, /workqueue_depth\{name="[^"]+"\} \d/);

  const controller = await scrape(ports.controller);
  for (const name of ['workqueue_depth', 'workqueue_adds_total', 'workqueue_queue_duration_seconds_bucket']) t.regex(controller, new RegExp(`^${name}\\{[^}]*name="`, 'm'), name);

  const api = await (await cluster.fetch(`${cluster.apiUrls[0]}/metrics`)).text();
  t.regex(api, /apiserver_request_total\{[^}]*group="metrics.k8s.io"/);
});

test.serial('an HPA at 50% CPU scales a Deployment of CPU-burning pods from 1 to at least 3, and back to 1 once they stop burning', async (t) => {
  // Each pod burns until /tmp/stop exists, capped at 200m (twice its 100m request) so four of them fit this machine.
  const deployment = {
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'burners' },
    spec: {
      replicas: 1, selector: { matchLabels: { app: 'burners' } },
      template: { metadata: { labels: { app: 'burners' } }, spec: { terminationGracePeriodSeconds: 1, containers: [{
        name: 'burn', image: 'busybox:latest', command: ['sh', '-c', 'trap "exit 0" TERM; while [ ! -e /tmp/stop ]; do :; done; while :; do sleep 1; done'],
        resources: { requests: { cpu: '100m' }, limits: { cpu: '200m' } },
      }] } },
    },
  };
  t.is((await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', deployment)).status, 201);
  const replicas = async () => (await cluster.api.get('/apis/apps/v1/namespaces/default/deployments/burners')).body.spec.replicas;
  const created = Date.now();
  t.is((await cluster.api.post('/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers', {
    apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'burners' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'burners' }, minReplicas: 1, maxReplicas: 4,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
      behavior: { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Percent', value: 100, periodSeconds: 1 }] } },
    },
  })).status, 201);
  await eventually(async () => (await replicas()) >= 3, { timeoutMs: 90_000, message: 'scaled to 3 or more', detail: () => cluster.dumpLogs() });
  const scaledUp = Date.now();
  const table = await ok(t, 'get', 'hpa', 'burners');
  t.regex(table, /^NAME\s+REFERENCE\s+TARGETS\s+MINPODS\s+MAXPODS\s+REPLICAS\s+AGE\nburners\s+Deployment\/burners\s+cpu: \d+%\/50%\s+1\s+4\s+\d\s+\S+\n$/);
  const utilization = Number(/cpu: (\d+)%/.exec(table)![1]);
  t.true(utilization > 50, table);

  // The load stops: every pod stops burning.
  const running = async () => (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dburners')).body.items.filter((p: any) => p.status.phase === 'Running' && !p.metadata.deletionTimestamp);
  await eventually(async () => {
    for (const p of await running()) await kubectl(['exec', p.metadata.name, '--', 'touch', '/tmp/stop']);
    return (await replicas()) === 1;
  }, { timeoutMs: 90_000, intervalMs: 2000, message: 'back to 1', detail: () => cluster.dumpLogs() });
  t.log(`HPA reaction (sync every 2 s, usage sampled every 1 s): created -> >=3 replicas in ${scaledUp - created} ms; load stopped -> 1 replica in ${Date.now() - scaledUp} ms`);
});
