// Probes against real containers: readiness gates the pod's Ready condition and the Deployment's
// availability; a failing liveness probe restarts the container; a startup probe holds the
// others back; httpGet (port by name), tcpSocket and exec all work.
import test from 'ava';
import Docker from 'dockerode';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';

const docker = new Docker();
const node = dockerNode('probes');
let cluster: Cluster;

// Answers 503 on /ready for the first 3 s, then 200: a slow-starting service.
const SLOW_READY = "process.on('SIGTERM',()=>process.exit(0));const t0=Date.now();require('http').createServer((q,s)=>{s.statusCode=q.url==='/ready'&&Date.now()-t0<3000?503:200;s.end()}).listen(8080)";

async function pod(name: string) {
  return (await cluster.api.get(`/api/v1/namespaces/default/pods/${name}`)).body;
}

function ready(p: any): boolean {
  return p?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
}

test.before(async () => {
  cluster = await startDockerCluster(node, ['node:20', 'busybox:latest']);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
});

test('readiness (httpGet, port by name) gates Ready and the Deployment availability', async (t) => {
  const res = await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'slow' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'slow' } },
      template: {
        metadata: { labels: { app: 'slow' } },
        spec: {
          containers: [{
            name: 'web',
            image: 'node:20',
            command: ['node', '-e', SLOW_READY],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
          }],
        },
      },
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  const running = await eventually(async () => {
    const items = (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dslow')).body.items;
    return items[0]?.status?.phase === 'Running' ? items[0] : undefined;
  }, { timeoutMs: 10_000, message: 'pod running' });
  t.false(ready(running), 'running but not ready while /ready answers 503');
  const d = (await cluster.api.get('/apis/apps/v1/namespaces/default/deployments/slow')).body;
  t.falsy(d.status?.availableReplicas, 'not available before readiness');
  const readyPod = await eventually(async () => {
    const p = await pod(running.metadata.name);
    return ready(p) ? p : undefined;
  }, { timeoutMs: 10_000, message: 'pod ready' });
  t.true(readyPod.status.containerStatuses[0].ready);
  await eventually(async () => (await cluster.api.get('/apis/apps/v1/namespaces/default/deployments/slow')).body.status?.availableReplicas === 1, { timeoutMs: 5000, message: 'deployment available' });
  const events = (await cluster.api.get(`/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3D${running.metadata.name}`)).body.items as any[];
  t.true(events.some((e) => e.reason === 'Unhealthy' && /Readiness probe failed: HTTP probe failed with statuscode: 503/.test(e.message)));
});

test('a failing liveness probe (exec) restarts the container', async (t) => {
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'sick' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'app',
        image: 'busybox:latest',
        command: ['sh', '-c', 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; sleep 600'],
        livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2 },
      }],
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  const restarted = await eventually(async () => {
    const p = await pod('sick');
    return p.status?.containerStatuses?.[0]?.restartCount >= 1 ? p : undefined;
  }, { timeoutMs: 20_000, message: 'liveness restart' });
  t.truthy(restarted.status.containerStatuses[0].lastState.terminated);
  const events = (await cluster.api.get('/api/v1/namespaces/default/events?fieldSelector=involvedObject.name%3Dsick')).body.items as any[];
  t.true(events.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness probe failed')));
  t.true(events.some((e) => e.reason === 'Killing' && /failed liveness probe, will be restarted/.test(e.message)));
});

test('tcpSocket readiness, and a startup probe that holds readiness back until it passes', async (t) => {
  const res = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'gated' },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'web',
        image: 'busybox:latest',
        // httpd comes up at once; /tmp/started appears only after 3 s.
        command: ['sh', '-c', 'httpd -p 8080; sleep 3; touch /tmp/started; sleep 600'],
        ports: [{ containerPort: 8080 }],
        startupProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 30 },
        readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
      }],
    },
  });
  t.is(res.status, 201, JSON.stringify(res.body));
  const started = Date.now();
  await eventually(async () => (await pod('gated')).status?.phase === 'Running', { timeoutMs: 10_000, message: 'running' });
  const p = await pod('gated');
  t.false(ready(p));
  t.false(p.status.containerStatuses[0].started);
  await eventually(async () => ready(await pod('gated')), { timeoutMs: 15_000, message: 'ready after startup' });
  t.true(Date.now() - started >= 2500, 'not ready before the startup probe passed');
  t.true((await pod('gated')).status.containerStatuses[0].started);
});
