// `kubectl port-forward` with the real kubectl (v1.32) and real containers: pod/, svc/ and
// deploy/ targets, through the API server's tunnel to the node agent, which connects to
// localhost:PORT inside the pod's network namespace. Both of kubectl's protocols (SPDY inside a
// WebSocket first, plain SPDY/3.1 as its fallback) and client-node's WebSocket channels.
import test, { type ExecutionContext } from 'ava';
import Docker from 'dockerode';
import * as k8s from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, execInContainer, removeDockerNode, runningContainerId, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';

const docker = new Docker();
const node = dockerNode('portfwd');
let cluster: Cluster;
const work = mkdtempSync(join(tmpdir(), 'wharf-portfwd-'));
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
/** kubectl with the WebSocket dialer turned off: the legacy Upgrade: SPDY/3.1 path. */
const kubectlSpdy = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig, env: { ...process.env, KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' } }));
const BIG = 10 * 1024 * 1024;

// busybox httpd on 8080 (all addresses) and on 127.0.0.1:8081 only, serving a 10 MiB random file,
// and a sparse 1 GiB one for a download held by back-pressure: the socket buffers of the hops
// between the pod and the client (each loopback TCP connection autotunes to megabytes) can take
// in all of 10 MiB, and nc would then have finished before the hold is looked at.
const SERVE = [
  'sh', '-c',
  `mkdir -p /www && head -c ${BIG} /dev/urandom > /www/big && truncate -s 1G /www/huge && echo hello-from-pod > /www/index.html && ` +
  'httpd -p 8080 -h /www && exec httpd -f -p 127.0.0.1:8081 -h /www',
];
const template = (app: string) => ({
  metadata: { labels: { app } },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'web', image: 'busybox:latest', command: SERVE, ports: [{ containerPort: 8080 }] }],
  },
});

const children: ChildProcessWithoutNullStreams[] = [];

/** Starts kubectl port-forward; resolves the local port from its "Forwarding from 127.0.0.1:N -> P" line. */
async function forward(args: string[], runner = kubectl): Promise<{ port: number; child: ChildProcessWithoutNullStreams; stderr: () => string; exited: Promise<number> }> {
  const child = runner.spawn(['port-forward', ...args]);
  children.push(child);
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d;
      const m = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    void exited.then((code) => reject(new Error(`kubectl port-forward ${args.join(' ')} exited ${code}: ${err}`)));
  });
  return { port, child, stderr: () => err, exited };
}

function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** One HTTP GET on a fresh connection: status, body bytes. */
function get(port: number, path: string): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent: false, headers: { Connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function podSha(podName: string): Promise<string> {
  const id = await runningContainerId(podName, 'web', docker);
  return (await execInContainer(id, ['sha256sum', '/www/big'], docker)).out.split(' ')[0];
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function exercise(t: ExecutionContext, port: number, podName: string) {
  const answers = await Promise.all(Array.from({ length: 50 }, () => get(port, '/index.html')));
  t.is(answers.filter((a) => a.status === 200 && a.body.toString() === 'hello-from-pod\n').length, 50, '50 concurrent requests through one forward');
  const big = await get(port, '/big');
  t.is(big.body.length, BIG);
  t.is(sha(big.body), await podSha(podName), '10 MiB arrive intact');
}

let podName = '';

test.before(async () => {
  cluster = await startDockerCluster(node, ['busybox:latest']);
  const pod = await cluster.api.post('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', ...template('web').metadata }, spec: template('web').spec });
  if (pod.status !== 201) throw new Error(JSON.stringify(pod.body));
  const svc = await cluster.api.post('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } });
  if (svc.status !== 201) throw new Error(JSON.stringify(svc.body));
  const deploy = await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'webd' }, spec: { replicas: 1, selector: { matchLabels: { app: 'webd' } }, template: template('webd') } });
  if (deploy.status !== 201) throw new Error(JSON.stringify(deploy.body));
  // Running, and httpd answering (the file written), seen through the pod's own localhost.
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/default/pods/web')).body.status?.phase === 'Running', { timeoutMs: 60_000, message: 'pod web running' });
  await eventually(async () => {
    const list = (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dwebd')).body.items ?? [];
    const running = list.find((p: { status?: { phase?: string } }) => p.status?.phase === 'Running');
    if (running) podName = running.metadata.name;
    return Boolean(running);
  }, { timeoutMs: 60_000, message: 'a pod of deployment webd running' });
  for (const name of ['web', podName]) {
    await eventually(async () => (await podSha(name).catch(() => '')).length === 64, { timeoutMs: 30_000, message: `${name} serves its file` });
  }
});

test.after.always(async () => {
  await Promise.all(children.map(stop));
  await cluster?.stop();
  await removeDockerNode(node, docker);
});

test.serial('pod/NAME 0:8080 over WebSocket-tunnelled SPDY: 50 concurrent requests and 10 MiB through one forward', async (t) => {
  const f = await forward(['pod/web', '0:8080', '-v=4']);
  await exercise(t, f.port, 'web');
  t.regex(f.stderr(), /negotiated protocol: portforward.k8s.io/, 'the WebSocket tunnel was negotiated');
  t.notRegex(f.stderr(), /fallback to secondary dialer/);
  await stop(f.child);
});

test.serial('svc/NAME and deploy/NAME resolve to a pod; the service port maps to its targetPort', async (t) => {
  const svc = await forward(['svc/web', '0:80']);
  const a = await get(svc.port, '/index.html');
  t.is(a.body.toString(), 'hello-from-pod\n');
  await stop(svc.child);
  const d = await forward(['deploy/webd', '0:8080']);
  await exercise(t, d.port, podName);
  await stop(d.child);
});

test.serial('a server bound to 127.0.0.1 inside the pod is reachable, as on Kubernetes', async (t) => {
  const f = await forward(['pod/web', '0:8081']);
  const a = await get(f.port, '/index.html');
  t.is(a.status, 200);
  t.is(a.body.toString(), 'hello-from-pod\n');
  await stop(f.child);
});

test.serial('the legacy Upgrade: SPDY/3.1 fallback serves the same', async (t) => {
  const f = await forward(['pod/web', '0:8080'], kubectlSpdy);
  await exercise(t, f.port, 'web');
  await stop(f.child);
});

test.serial("a port nothing listens on: kubectl shows the kubelet's error from the error stream, and other forwards keep serving", async (t) => {
  const good = await forward(['pod/web', '0:8080']);
  const bad = await forward(['pod/web', '0:9999']);
  await get(bad.port, '/').catch(() => undefined);
  // kubectl 1.32 prints the error stream's message (klog quotes it, escaping its quotes) and then gives the whole forward up
  // (client-go portforward.go: HandleError, then streamConn.Close: "lost connection to pod").
  const code = await bad.exited;
  t.regex(bad.stderr(), /error forwarding port 9999 to pod [0-9a-f]{64}, uid : failed to connect to localhost:9999 inside namespace \\?"[0-9a-f]{64}\\?", IPv4: dial tcp4 127\.0\.0\.1:9999: connect: connection refused/);
  t.regex(bad.stderr(), /lost connection to pod/);
  t.is(code, 1);
  const a = await get(good.port, '/index.html');
  t.is(a.body.toString(), 'hello-from-pod\n');
  await stop(good.child);
});

test.serial("client-node's PortForward (WebSocket channels) reaches the pod's port", async (t) => {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.kubeconfig);
  const pf = new k8s.PortForward(kc);
  const output = new PassThrough();
  const errors = new PassThrough();
  const input = new PassThrough();
  const chunks: Buffer[] = [];
  output.on('data', (c: Buffer) => chunks.push(c));
  let errText = '';
  errors.on('data', (c: Buffer) => (errText += c));
  const ws = (await pf.portForward('default', 'web', [8080], output, errors, input)) as unknown as import('ws').WebSocket;
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  input.write('GET /big HTTP/1.0\r\n\r\n');
  await closed;
  const response = Buffer.concat(chunks);
  const body = response.subarray(response.indexOf('\r\n\r\n') + 4);
  t.is(errText, '');
  t.is(body.length, BIG);
  t.is(sha(body), await podSha('web'));

  // A port nothing listens on: the error channel says so.
  const refusedOut = new PassThrough();
  const refusedErr = new PassThrough();
  let refusedText = '';
  refusedErr.on('data', (c: Buffer) => (refusedText += c));
  const ws2 = (await pf.portForward('default', 'web', [9999], refusedOut, refusedErr, new PassThrough())) as unknown as import('ws').WebSocket;
  await new Promise<void>((resolve) => ws2.once('close', () => resolve()));
  t.regex(refusedText, /error forwarding port 9999 to pod .*connection refused/);
});

/** The nc processes joining forwards to the pod, seen in what holds its network: its sandbox, or its only container. */
async function forwardsInSandbox(pod: string): Promise<string[]> {
  const running = await docker.listContainers({ filters: { label: [`io.wharf.pod.name=${pod}`], status: ['running'] } });
  const holder = running.find((c) => c.Labels['io.wharf.container.role'] === 'sandbox' || c.Labels['io.wharf.container.network'] === 'own');
  if (!holder) throw new Error(`pod ${pod} has no running sandbox or network-owning container`);
  const ps = (await execInContainer(holder.Id, ['ps'], docker)).out;
  return ps.split('\n').filter((l) => l.includes('nc 127.0.0.1'));
}

test.serial('nothing is left behind: finished forwards end their connection into the pod, and a kubectl killed mid-download gets it killed', async (t) => {
  // Every forward of the tests before has finished.
  await eventually(async () => (await forwardsInSandbox('web')).length === 0, { timeoutMs: 15_000, message: 'no nc left from finished forwards' });
  const f = await forward(['pod/web', '0:8080']);
  // A download that stalls: the client reads one chunk and stops, so the pod's side blocks on back-pressure.
  const stalled = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: f.port, path: '/huge', agent: false }, (res) => {
      res.once('data', () => {
        res.pause();
        resolve(res);
      });
    });
    req.on('error', reject);
    req.end();
  });
  t.is((await forwardsInSandbox('web')).length, 1, 'one connection into the pod while the download is held');
  f.child.kill('SIGKILL');
  await f.exited;
  stalled.destroy();
  await eventually(async () => (await forwardsInSandbox('web')).length === 0, { timeoutMs: 15_000, message: 'nc killed once kubectl is gone' });
  t.pass();
});
