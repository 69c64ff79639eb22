// Scale to zero and back on the first request, on a real Docker node: a Deployment at 0 replicas
// behind a NodePort Service with an HTTPScaledObject. 20 concurrent requests sent at once to
// 127.0.0.1:nodePort are held by the node's service proxy (the activator), the controller wakes the
// Deployment, and every request is answered once the pod is Ready; after the scale-down period with
// no connection it is back at 0, and the next request wakes it again. The cold start is measured
// (first request's connect to its response) beside the pod's own start-up on the same engine, and
// broken down so the activator's own share shows. Also: the kind through the real kubectl (apply,
// get's columns, a 422 naming the field), and a missing target reported as a condition and event.
import test from 'ava';
import Docker from 'dockerode';
import http from 'node:http';
import { loadavg } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, runningContainerId, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';

const docker = new Docker();
const work = mkdtempSync(join(tmpdir(), 'wharf-httpso-'));
let node: ReturnType<typeof dockerNode>;
let cluster: Cluster;
let nodePort: number;
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig, timeout: 30_000 }));

const NS = '/api/v1/namespaces/default';
const SCALEDOWN_SECONDS = 3;

// busybox's httpd answers the page it is given; it starts in a few milliseconds.
const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web' },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{
          name: 'web',
          image: 'busybox:latest',
          command: ['sh', '-c', 'mkdir -p /www && echo "hello from $HOSTNAME" > /www/index.html && exec httpd -f -p 8080 -h /www'],
          ports: [{ name: 'http', containerPort: 8080 }],
        }],
      },
    },
  },
};

const HTTPSO = `
apiVersion: http.keda.sh/v1alpha1
kind: HTTPScaledObject
metadata:
  name: web
spec:
  hosts: [web.example.test]
  pathPrefixes: [/]
  scaleTargetRef:
    name: web
    kind: Deployment
    apiVersion: apps/v1
    service: web
    port: 80
  replicas:
    min: 0
    max: 3
  scaledownPeriod: ${SCALEDOWN_SECONDS}
  scalingMetric:
    concurrency:
      targetValue: 100
`;

interface Timed {
  connectAt: number;
  doneAt: number;
  status: number;
  body: string;
}

/** One GET on a fresh connection, with when it connected and when its response ended. */
function timedGet(url: string, timeoutMs = 150_000): Promise<Timed> {
  return new Promise((resolve, reject) => {
    let connectAt = 0;
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ connectAt, doneAt: performance.timeOrigin + performance.now(), status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('socket', (s) => s.once('connect', () => (connectAt = performance.timeOrigin + performance.now())));
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

const now = () => performance.timeOrigin + performance.now();

/** Follows a watch in the background, calling `seen` with each event as it arrives (its arrival time). */
function follow(path: string, seen: (ev: any, at: number) => void): { stop: () => void } {
  let done = false;
  let count = 0;
  void cluster.api.watch(path, (events) => {
    for (; count < events.length; count++) seen(events[count], now());
    return done;
  }, 180_000).catch(() => undefined);
  return { stop: () => (done = true) };
}

async function replicas(): Promise<number> {
  return (await cluster.api.get('/apis/apps/v1/namespaces/default/deployments/web')).body.spec.replicas;
}

async function livePods(): Promise<any[]> {
  return ((await cluster.api.get(`${NS}/pods?labelSelector=app%3Dweb`)).body.items as any[]);
}

const isReady = (pod: any) => (pod.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

/** Sends one cold request and times every step of the wake-up it causes. */
async function coldStart(t: any, concurrent: number, label: string) {
  const marks: Record<string, number> = {};
  const mark = (name: string, at: number) => (marks[name] ??= at);
  let podName = '';
  const watches = [
    follow('/apis/apps/v1/namespaces/default/deployments?watch=true&fieldSelector=metadata.name%3Dweb', (ev, at) => {
      if (ev.object?.spec?.replicas > 0) mark('scaled', at);
    }),
    follow(`${NS}/pods?watch=true&labelSelector=app%3Dweb`, (ev, at) => {
      if (ev.type === 'ADDED' && !ev.object.metadata.deletionTimestamp) {
        mark('podCreated', at);
        podName ||= ev.object.metadata.name;
      }
      if (ev.object.metadata.name === podName && isReady(ev.object)) mark('podReady', at);
    }),
    follow(`${NS}/endpoints?watch=true&fieldSelector=metadata.name%3Dweb`, (ev, at) => {
      if ((ev.object?.subsets ?? []).some((s: any) => (s.addresses ?? []).length > 0)) mark('endpoints', at);
    }),
  ];
  // Let the watches open before the traffic starts (their first answer is the current state).
  await new Promise((r) => setTimeout(r, 300));
  t.is(await replicas(), 0, 'at zero before the request');
  const sent = now();
  const results = await Promise.all(Array.from({ length: concurrent }, () => timedGet(`http://127.0.0.1:${nodePort}/`)));
  await eventually(() => marks.podReady && marks.endpoints, { timeoutMs: 10_000, message: 'watch events seen' });
  for (const w of watches) w.stop();

  t.true(results.every((r) => r.status === 200 && r.body.startsWith('hello from')), JSON.stringify(results.map((r) => r.status)));
  const first = results.reduce((a, b) => (a.connectAt < b.connectAt ? a : b));
  const total = first.doneAt - first.connectAt;
  const lastDone = Math.max(...results.map((r) => r.doneAt));
  // The pod's own start-up on this engine: its containers' creation to the app's start, as Docker recorded them.
  const info = await docker.getContainer(await runningContainerId(podName, 'web')).inspect();
  const containerStartMs = Date.parse(info.State.StartedAt) - Date.parse(info.Created);
  // The same request to the warm pod: what the app itself takes, to tell apart from the wake-up.
  const warm = await timedGet(`http://127.0.0.1:${nodePort}/`);
  const warmMs = Math.round(warm.doneAt - warm.connectAt);
  const ms = (a: number, b: number) => Math.round(b - a);
  const figures = {
    requests: concurrent,
    allAnswered: results.filter((r) => r.status === 200).length,
    coldStartMs: Math.round(total),
    lastAnsweredMs: ms(sent, lastDone),
    breakdown: {
      activatorSignalToScaleMs: ms(first.connectAt, marks.scaled),
      deploymentToPodCreatedMs: ms(marks.scaled, marks.podCreated),
      podCreatedToReadyMs: ms(marks.podCreated, marks.podReady),
      podReadyToEndpointsMs: ms(marks.podReady, marks.endpoints),
      endpointsToResponseMs: ms(marks.endpoints, first.doneAt),
    },
    appContainerCreateToStartMs: containerStartMs,
    warmRequestMs: warmMs,
    // What the activator adds: demand to the scale written, and the endpoint seen to the held
    // request forwarded (its response, less what the warm app takes to answer).
    activatorShareMs: ms(first.connectAt, marks.scaled) + Math.max(0, ms(marks.endpoints, first.doneAt) - warmMs),
    load: loadavg()[0].toFixed(1),
  };
  t.log(`${label}: ${JSON.stringify(figures)}`);
  return figures;
}

test.before(async () => {
  node = dockerNode('httpso', { WHARF_PROXY_TRAFFIC_INTERVAL: '250ms', WHARF_ACTIVATOR_TIMEOUT: '140s' });
  cluster = await startDockerCluster(node, ['busybox:latest'], { env: { WHARF_HTTP_SCALER_SYNC: '500ms' } });
  const d = await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', deployment);
  if (d.status !== 201) throw new Error(JSON.stringify(d.body));
  const s = await cluster.api.post(`${NS}/services`, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' },
    spec: { type: 'NodePort', selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  });
  if (s.status !== 201) throw new Error(JSON.stringify(s.body));
  nodePort = s.body.spec.ports[0].nodePort;
});

test.after.always(async () => {
  await cluster?.stop();
  if (node) await removeDockerNode(node, docker);
});

test.serial('kubectl applies an HTTPScaledObject, lists it with the CRD\'s columns, and refuses a bad one naming the field', async (t) => {
  const applied = await kubectl(['apply', '-f', '-'], { input: HTTPSO });
  t.is(applied.code, 0, applied.stderr);
  t.regex(applied.stdout, /httpscaledobject.http.keda.sh\/web created/);
  const ready = await eventually(async () => {
    const r = await kubectl(['get', 'httpso']);
    return r.code === 0 && /\bTrue\s*$/m.test(r.stdout) && r.stdout;
  }, { timeoutMs: 15_000, message: 'Ready True in kubectl get httpso' });
  const [header, row] = ready.trim().split('\n');
  t.deepEqual(header.split(/\s+/), ['NAME', 'TARGETWORKLOAD', 'TARGETSERVICE', 'MINREPLICAS', 'MAXREPLICAS', 'AGE', 'READY']);
  t.regex(row, /^web\s+apps\/v1\/Deployment\/web\s+web:80\s+0\s+3\s+\S+\s+True$/);

  const bad = await kubectl(['apply', '-f', '-'], { input: HTTPSO.replace('name: web\nspec', 'name: bad\nspec').replace('port: 80', 'port: 80\n    portName: http').replace('min: 0', 'min: 5').replace('max: 3', 'max: 2') });
  t.not(bad.code, 0);
  t.regex(bad.stderr, /The HTTPScaledObject "bad" is invalid/);
  t.regex(bad.stderr, /spec\.scaleTargetRef: Invalid value: "object": must define either the 'portName' or the 'port'/);
  t.regex(bad.stderr, /spec\.replicas\.min: Invalid value: 5/);
});

test.serial('at zero, 20 concurrent requests are all answered; after the idle period it is at zero again, and the next request wakes it', async (t) => {
  // Two pod start-ups: on an engine loaded by other work one can take a minute.
  t.timeout(360_000);
  t.deepEqual(await livePods(), [], 'no pod before the first request');
  const first = await coldStart(t, 20, 'cold start, 20 concurrent requests');
  t.is(first.allAnswered, 20);
  t.true((await replicas()) >= 1);

  // Back to zero once nothing has connected for the scale-down period.
  const quietFrom = now();
  await eventually(async () => (await replicas()) === 0 && (await livePods()).length === 0, { timeoutMs: 60_000, intervalMs: 200, message: 'scaled back to zero' });
  t.log(`scaled to zero ${Math.round(now() - quietFrom)} ms after the last response (scaledownPeriod ${SCALEDOWN_SECONDS} s)`);

  const again = await coldStart(t, 1, 'cold start, 1 request after scaling to zero');
  t.is(again.allAnswered, 1);
  const events = ((await cluster.api.get(`${NS}/events`)).body.items as any[]).filter((e) => e.involvedObject?.kind === 'HTTPScaledObject').map((e) => e.reason);
  t.true(events.includes('KEDAScaleTargetActivated'), events.join(','));
  t.true(events.includes('KEDAScaleTargetDeactivated'), events.join(','));
});

test.serial('a connection in flight keeps the pod past the scale-down period', async (t) => {
  await eventually(async () => (await replicas()) >= 1, { timeoutMs: 5_000, message: 'awake from the previous test' });
  // A raw connection that sends half a request and waits: in flight, as far as an L4 proxy knows.
  const net = await import('node:net');
  const socket = net.connect(nodePort, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n');
  const heldFor = (SCALEDOWN_SECONDS + 3) * 1000;
  const until = now() + heldFor;
  // Watched for twice the scale-down period: long enough for the controller (sync 500 ms) to have acted.
  while (now() < until) {
    t.true((await replicas()) >= 1, 'still scaled up while a connection is open');
    await new Promise((r) => setTimeout(r, 250));
  }
  const answer = new Promise<string>((resolve) => {
    let got = '';
    socket.on('data', (c) => (got += c));
    socket.on('close', () => resolve(got));
  });
  socket.write('Connection: close\r\n\r\n');
  t.regex(await answer, /^HTTP\/1\.[01] 200/);
  await eventually(async () => (await replicas()) === 0, { timeoutMs: 60_000, intervalMs: 200, message: 'zero once the connection closed and the period passed' });
});

test.serial('a target that does not exist: Ready False with FailedGetScale, and a Warning event', async (t) => {
  const applied = await kubectl(['apply', '-f', '-'], { input: HTTPSO.replace('name: web\nspec', 'name: ghost\nspec').replace('name: web\n    kind', 'name: nothing\n    kind') });
  t.is(applied.code, 0, applied.stderr);
  const cond = await eventually(async () => {
    const o = (await cluster.api.get('/apis/http.keda.sh/v1alpha1/namespaces/default/httpscaledobjects/ghost')).body;
    return (o.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  }, { timeoutMs: 15_000, message: 'Ready condition on ghost' });
  t.like(cond, { status: 'False', reason: 'FailedGetScale' });
  t.regex(cond.message, /deployments.apps "nothing" not found/);
  // The event is written after the condition: wait for it.
  await eventually(async () => {
    const events = ((await cluster.api.get(`${NS}/events`)).body.items as any[]).filter((e) => e.involvedObject?.name === 'ghost');
    return events.some((e: any) => e.type === 'Warning' && e.reason === 'FailedGetScale');
  }, { timeoutMs: 10_000, message: 'a FailedGetScale Warning event on ghost' });
  t.pass();
});

test.serial('deleting HTTPScaledObjects: the finalizer gives the Deployment back its original size, then lets them go', async (t) => {
  t.timeout(240_000);
  const web = (await cluster.api.get('/apis/http.keda.sh/v1alpha1/namespaces/default/httpscaledobjects/web')).body;
  t.deepEqual(web.metadata.finalizers, ['httpscaledobject.http.keda.sh']);
  // Woken by a request, then the object deleted while the Deployment runs: back to its original 0.
  t.is((await timedGet(`http://127.0.0.1:${nodePort}/`)).status, 200);
  t.true((await replicas()) >= 1);
  const deleted = await kubectl(['delete', 'httpso', 'web', 'ghost']);
  t.is(deleted.code, 0, deleted.stderr);
  t.regex(deleted.stdout, /httpscaledobject.http.keda.sh "web" deleted/);
  t.is(await replicas(), 0, 'restored to the replicas it had before the object took it over');
  const left = await kubectl(['get', 'httpso']);
  t.regex(left.stderr, /No resources found in default namespace/);
});
