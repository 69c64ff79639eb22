// Services carrying real traffic between real containers: a frontend pod calls a backend Service by
// its DNS names and its cluster IP and hears from every backend pod; NodePort and LoadBalancer
// Services answer on 127.0.0.1; ClientIP affinity pins a client; Service updates apply at once;
// a rolling update of the backend loses no request; a deleted Service stops answering. UDP goes
// through a Service too, and the cluster DNS answers SRV and PTR queries as well as A.
import test from 'ava';
import Docker from 'dockerode';
import dgram from 'node:dgram';
import http from 'node:http';
import dnsPacket from 'dns-packet';
import { eventually, freePort, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';

const docker = new Docker();
let upstream: dgram.Socket;
let upstreamPort: number;
let node: ReturnType<typeof dockerNode>;
let cluster: Cluster;
let frontendIp: string;

// The backend answers with its pod name, over HTTP and to any UDP datagram; on SIGTERM it stops
// accepting and exits once idle.
const BACKEND = `
const http = require('http'), dgram = require('dgram');
const name = process.env.POD_NAME + (process.env.VERSION ? '/' + process.env.VERSION : '');
const app = http.createServer((q, s) => { s.setHeader('connection', 'close'); s.end(name); }).listen(8080);
const admin = http.createServer((q, s) => s.end('admin ' + name)).listen(8081);
const echo = dgram.createSocket('udp4').on('message', (m, from) => echo.send('udp ' + name, from.port, from.address)).bind(8082);
process.on('SIGTERM', () => { app.close(); admin.close(); echo.close(); setTimeout(() => process.exit(0), 300); });
`;

// The frontend calls whatever URL it is asked to, sends datagrams, and resolves names, from inside
// the pod network. Each datagram leaves from a socket of its own (a new source port), so the proxy
// sees a new client each time and balances it like a new connection.
const FRONTEND = `
const http = require('http'), dns = require('dns'), fs = require('fs'), dgram = require('dgram');
const get = (url) => new Promise((resolve, reject) => {
  http.get(url, { agent: false, timeout: 3000 }, (r) => { let b = ''; r.on('data', (c) => b += c); r.on('end', () => resolve(b)); })
    .on('error', reject).on('timeout', function () { this.destroy(new Error('timeout')); });
});
const datagramOnce = (host, port) => new Promise((resolve, reject) => {
  const s = dgram.createSocket('udp4');
  const done = (err, reply) => { clearTimeout(timer); s.close(); err ? reject(err) : resolve(String(reply)); };
  const timer = setTimeout(() => done(new Error('no UDP reply')), 2000);
  s.on('error', done).on('message', (m) => done(undefined, m));
  s.send('ping', port, host, (e) => e && done(e));
});
// UDP may drop a datagram on a loaded machine; like a resolver, the client asks again (twice at most).
const datagram = async (host, port) => {
  for (let attempt = 1; ; attempt++) {
    try { return await datagramOnce(host, port); } catch (e) { if (attempt === 3) throw e; }
  }
};
const answer = (res) => (e, a) => res.end(JSON.stringify(e ? { error: e.code } : a));
http.createServer(async (req, res) => {
  const u = new URL(req.url, 'http://x');
  try {
    if (u.pathname === '/call') {
      const out = [];
      for (let i = 0; i < Number(u.searchParams.get('n') || 1); i++) out.push(await get(u.searchParams.get('url')));
      return res.end(JSON.stringify(out));
    }
    if (u.pathname === '/udp') {
      const out = [];
      for (let i = 0; i < Number(u.searchParams.get('n') || 1); i++) out.push(await datagram(u.searchParams.get('host'), Number(u.searchParams.get('port'))));
      return res.end(JSON.stringify(out));
    }
    if (u.pathname === '/srv') return dns.resolveSrv(u.searchParams.get('name'), answer(res));
    if (u.pathname === '/reverse') return dns.reverse(u.searchParams.get('ip'), answer(res));
    if (u.pathname === '/resolve') {
      return dns.lookup(u.searchParams.get('name'), { all: true, family: 4 }, (e, a) => res.end(JSON.stringify(e ? { error: e.code } : a.map((x) => x.address).sort())));
    }
    if (u.pathname === '/resolv.conf') return res.end(fs.readFileSync('/etc/resolv.conf'));
    res.statusCode = 404; res.end();
  } catch (e) { res.statusCode = 502; res.end(String(e && e.message)); }
}).listen(8080);
`;

const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';
const SERVICES = '/api/v1/namespaces/default/services';

function backendDeployment(replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'backend' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'backend' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } },
      template: {
        metadata: { labels: { app: 'backend' } },
        spec: {
          terminationGracePeriodSeconds: 5,
          containers: [{
            name: 'backend',
            image: 'node:20',
            command: ['node', '-e', BACKEND],
            env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
            ports: [{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 8081 }, { name: 'echo', containerPort: 8082, protocol: 'UDP' }],
            readinessProbe: { httpGet: { path: '/', port: 'http' }, periodSeconds: 1, failureThreshold: 1 },
          }],
        },
      },
    },
  };
}

const service = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: 'backend' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec },
});

/** One HTTP GET on a fresh connection. */
function get(url: string, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
  });
}

async function fromFrontend(path: string): Promise<any> {
  const res = await get(`http://${frontendIp}:8080${path}`, 20_000);
  if (res.status !== 200) throw new Error(`frontend ${path}: ${res.status} ${res.body}`);
  return JSON.parse(res.body);
}

const callN = (url: string, n: number) => fromFrontend(`/call?n=${n}&url=${encodeURIComponent(url)}`) as Promise<string[]>;
const sendN = (host: string, port: number, n: number) => fromFrontend(`/udp?n=${n}&host=${encodeURIComponent(host)}&port=${port}`) as Promise<string[]>;

async function backendPods(): Promise<string[]> {
  const pods = (await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dbackend')).body.items as any[];
  return pods.filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort();
}

test.before(async () => {
  // A stand-in for the node's upstream resolver, on loopback: names outside the cluster go here.
  upstream = dgram.createSocket('udp4');
  upstream.on('message', (msg, from) => {
    const q = dnsPacket.decode(msg);
    const question = q.questions![0];
    const known = question.name === 'outside.example.test' && question.type === 'A';
    upstream.send(dnsPacket.encode({
      id: q.id, type: 'response', flags: known ? 0 : 3, questions: q.questions,
      answers: known ? [{ name: question.name, type: 'A', ttl: 30, class: 'IN', data: '127.0.0.2' }] : [],
    }), from.port, from.address);
  });
  await new Promise<void>((resolve) => upstream.bind(0, '127.0.0.1', () => resolve()));
  upstreamPort = upstream.address().port;
  node = dockerNode('svcnet', { WHARF_DNS_UPSTREAM: `127.0.0.1:${upstreamPort}`, WHARF_ENDPOINT_DRAIN: '1s' });
  cluster = await startDockerCluster(node, ['node:20']);
  t_assert((await cluster.api.post(DEPLOYMENTS, backendDeployment(3))).status === 201, 'backend created');
  t_assert((await cluster.api.post(SERVICES, service('backend', {}))).status === 201, 'service created');
  const frontend = await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1', kind: 'Pod', metadata: { name: 'frontend', labels: { app: 'frontend' } },
    spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'frontend', image: 'node:20', command: ['node', '-e', FRONTEND], ports: [{ containerPort: 8080 }] }] },
  });
  t_assert(frontend.status === 201, JSON.stringify(frontend.body));
  frontendIp = await eventually(async () => {
    const p = (await cluster.api.get('/api/v1/namespaces/default/pods/frontend')).body;
    return p.status?.phase === 'Running' && p.status.podIP;
  }, { timeoutMs: 60_000, message: 'frontend running' });
  await eventually(async () => {
    const ep = (await cluster.api.get(`/api/v1/namespaces/default/endpoints/backend`)).body;
    return (ep.subsets ?? []).flatMap((s: any) => s.addresses ?? []).length === 3;
  }, { timeoutMs: 60_000, message: '3 ready backends' });
  await eventually(() => get(`http://${frontendIp}:8080/resolv.conf`, 2000).then((r) => r.status === 200, () => false), { timeoutMs: 20_000, message: 'frontend answers' });
});

function t_assert(ok: boolean, message: string): void {
  if (!ok) throw new Error(message);
}

test.after.always(async () => {
  await cluster?.stop();
  upstream?.close();
  if (node) {
    await removeDockerNode({ ...node, name: `${node.name}-b` }, docker);
    await removeDockerNode(node, docker);
  }
});

test.serial('pods get the cluster resolver: nameserver, search path, ndots', async (t) => {
  const conf: string = (await get(`http://${frontendIp}:8080/resolv.conf`)).body;
  // Docker's embedded resolver fronts the configured server on user networks; the search path and options are ours.
  t.regex(conf, /search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local/);
  t.regex(conf, /options ndots:5/);
});

test.serial('a frontend reaches the backend Service by every DNS name and by cluster IP, answered by all 3 pods', async (t) => {
  const ip = (await cluster.api.get(`${SERVICES}/backend`)).body.spec.clusterIP;
  const pods = await backendPods();
  t.is(pods.length, 3);
  for (const host of ['backend', 'backend.default', 'backend.default.svc.cluster.local', ip]) {
    const answers = await callN(`http://${host}/`, 30);
    t.deepEqual([...new Set(answers)].sort(), pods, `via ${host}`);
  }
  t.deepEqual(await fromFrontend('/resolve?name=backend'), [ip]);
  t.deepEqual(await fromFrontend('/resolve?name=outside.example.test'), ['127.0.0.2'], 'other names go upstream');
  t.deepEqual(await fromFrontend('/resolve?name=nothing-here'), { error: 'ENOTFOUND' });
});

test.serial('the cluster DNS answers SRV for a named port and PTR for a cluster IP, through the pod\'s resolver', async (t) => {
  const ip = (await cluster.api.get(`${SERVICES}/backend`)).body.spec.clusterIP;
  // Kubernetes' SRV name: _<port name>._<protocol>.<service>.<namespace>.svc.<zone>.
  t.deepEqual(await fromFrontend('/srv?name=_http._tcp.backend.default.svc.cluster.local'), [{ name: 'backend.default.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
  t.deepEqual(await fromFrontend('/srv?name=_admin._tcp.backend.default.svc.cluster.local'), { error: 'ENOTFOUND' }, 'a port the Service does not have');
  t.deepEqual(await fromFrontend(`/reverse?ip=${ip}`), ['backend.default.svc.cluster.local']);
});

test.serial('a headless Service resolves to its ready pod IPs', async (t) => {
  t.is((await cluster.api.post(SERVICES, service('backend-pods', { clusterIP: 'None' }))).status, 201);
  const pods = ((await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dbackend')).body.items as any[]).map((p) => p.status.podIP).sort();
  await eventually(async () => JSON.stringify(await fromFrontend('/resolve?name=backend-pods')) === JSON.stringify(pods), { timeoutMs: 10_000, message: 'headless A records' });
  t.pass();
});

test.serial('NodePort and LoadBalancer Services answer on 127.0.0.1 from the host', async (t) => {
  const np = await cluster.api.post(SERVICES, service('backend-np', { type: 'NodePort' }));
  t.is(np.status, 201, JSON.stringify(np.body));
  const nodePort = np.body.spec.ports[0].nodePort;
  const pods = await backendPods();
  const seen = new Set<string>();
  await eventually(async () => {
    const r = await get(`http://127.0.0.1:${nodePort}/`).catch(() => undefined);
    if (r?.status === 200) seen.add(r.body);
    return seen.size === 3;
  }, { timeoutMs: 15_000, intervalMs: 50, message: `NodePort ${nodePort} reaches all backends` });
  t.deepEqual([...seen].sort(), pods);

  const lbPort = await freePort();
  const lb = await cluster.api.post(SERVICES, service('backend-lb', { type: 'LoadBalancer', ports: [{ name: 'http', port: lbPort, targetPort: 'http' }] }));
  t.is(lb.status, 201, JSON.stringify(lb.body));
  const ingress = await eventually(async () => (await cluster.api.get(`${SERVICES}/backend-lb`)).body.status?.loadBalancer?.ingress, { timeoutMs: 15_000, message: 'LoadBalancer ingress' });
  t.deepEqual(ingress.map((i: any) => i.ip), ['127.0.0.1']);
  const r = await eventually(() => get(`http://127.0.0.1:${lbPort}/`).catch(() => undefined), { timeoutMs: 15_000, message: 'LoadBalancer answers' });
  t.true(pods.includes(r.body));
  t.true(lb.body.spec.ports[0].nodePort > 0, 'a LoadBalancer has node ports too');
});

test.serial('sessionAffinity ClientIP keeps a client on one backend; named and multiple ports', async (t) => {
  const res = await cluster.api.post(SERVICES, service('sticky', {
    sessionAffinity: 'ClientIP',
    ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'admin', port: 9000, targetPort: 'admin' }],
  }));
  t.is(res.status, 201, JSON.stringify(res.body));
  await eventually(async () => (await callN('http://sticky/', 1).catch(() => [])).length === 1, { timeoutMs: 10_000, message: 'sticky answers' });
  const answers = await callN('http://sticky/', 15);
  t.is(new Set(answers).size, 1, answers.join(' '));
  const admin = await callN('http://sticky.default.svc.cluster.local:9000/', 3);
  t.true(admin.every((a) => a.startsWith('admin ')), admin.join(' '));
});

test.serial('UDP through a Service: datagrams to its cluster IP and DNS name reach every backend pod, apart from TCP on the same port', async (t) => {
  // TCP and UDP on one port number (as DNS has 53 for both): two listeners, two sets of endpoints.
  const res = await cluster.api.post(SERVICES, service('backend-udp', {
    ports: [{ name: 'http', port: 80, targetPort: 'http' }, { name: 'echo', port: 80, protocol: 'UDP', targetPort: 'echo' }],
  }));
  t.is(res.status, 201, JSON.stringify(res.body));
  const ip = res.body.spec.clusterIP;
  const pods = await backendPods();
  await eventually(async () => (await sendN(ip, 80, 1).catch(() => [])).length === 1, { timeoutMs: 10_000, message: 'UDP cluster IP answers' });
  for (const host of [ip, 'backend-udp', 'backend-udp.default.svc.cluster.local']) {
    const replies = await sendN(host, 80, 30);
    t.deepEqual([...new Set(replies)].sort(), pods.map((p) => `udp ${p}`), `via ${host}`);
  }
  t.deepEqual([...new Set(await callN(`http://${ip}/`, 30))].sort(), pods, 'TCP on the same port still goes to the HTTP port');
  t.deepEqual(await fromFrontend('/srv?name=_echo._udp.backend-udp.default.svc.cluster.local'), [{ name: 'backend-udp.default.svc.cluster.local', port: 80, priority: 0, weight: 100 }]);
});

test.serial('changing a Service\'s ports or selector takes effect without restarting anything', async (t) => {
  const svc = (await cluster.api.get(`${SERVICES}/backend-np`)).body;
  const patched = await cluster.api.patch(`${SERVICES}/backend-np`, { spec: { ports: [{ name: 'http', port: 8000, targetPort: 'admin', nodePort: svc.spec.ports[0].nodePort }] } });
  t.is(patched.status, 200, JSON.stringify(patched.body));
  await eventually(async () => ((await callN('http://backend-np:8000/', 1).catch(() => ['']))[0] ?? '').startsWith('admin '), { timeoutMs: 10_000, message: 'new port and target port' });
  const viaNodePort = await get(`http://127.0.0.1:${svc.spec.ports[0].nodePort}/`);
  t.regex(viaNodePort.body, /^admin /);
  // A selector that matches nothing: no endpoints, the connection is refused rather than hanging.
  t.is((await cluster.api.patch(`${SERVICES}/backend-np`, { spec: { selector: { app: 'nobody' } } })).status, 200);
  await eventually(async () => (await get(`http://127.0.0.1:${svc.spec.ports[0].nodePort}/`, 1000).then(() => 'ok', (e) => e.code ?? e.message)) !== 'ok', { timeoutMs: 10_000, message: 'no endpoints left' });
  t.pass();
});

test.serial('a rolling update of the backend loses no request sent through the Service', async (t) => {
  const ip = (await cluster.api.get(`${SERVICES}/backend`)).body.spec.clusterIP;
  const before = await backendPods();
  let ok = 0;
  const failures: string[] = [];
  let stop = false;
  // From the host through the cluster IP (the node's proxy), and through the NodePort of a second Service.
  const np = await cluster.api.post(SERVICES, service('backend-roll', { type: 'NodePort' }));
  const nodePort = np.body.spec.ports[0].nodePort;
  await eventually(() => get(`http://127.0.0.1:${nodePort}/`).then((r) => r.status === 200, () => false), { timeoutMs: 10_000, message: 'roll NodePort' });
  const client = (url: () => string) => (async () => {
    while (!stop) {
      try {
        const r = await get(url());
        if (r.status === 200) ok++;
        else failures.push(`status ${r.status}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const clients = [client(() => `http://${ip}/`), client(() => `http://127.0.0.1:${nodePort}/`)];
  const patch = await cluster.api.patch(`${DEPLOYMENTS}/backend`, { spec: { template: { spec: { containers: [{ name: 'backend', env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }, { name: 'VERSION', value: 'v2' }] }] } } } }, 'application/strategic-merge-patch+json');
  t.is(patch.status, 200, JSON.stringify(patch.body));
  await eventually(async () => {
    const pods = await backendPods();
    const d = (await cluster.api.get(`${DEPLOYMENTS}/backend`)).body;
    return pods.length === 3 && pods.every((p) => !before.includes(p)) && d.status?.updatedReplicas === 3 && d.status?.availableReplicas === 3;
  }, { timeoutMs: 120_000, message: 'rollout complete' });
  // Keep sending a little longer: the last old pods are draining now.
  await new Promise((r) => setTimeout(r, 3000));
  stop = true;
  await Promise.all(clients);
  t.deepEqual(failures, [], `${failures.length} failed of ${ok + failures.length}`);
  t.true(ok > 100, `only ${ok} requests`);
  const after = await callN('http://backend/', 12);
  t.true(after.every((a) => a.endsWith('/v2')), after.join(' '));
  t.log(`${ok} requests during the rollout, ${failures.length} failed`);
});

test.serial('a deleted Service stops answering and its name stops resolving', async (t) => {
  const svc = (await cluster.api.get(`${SERVICES}/backend-roll`)).body;
  t.is((await cluster.api.delete(`${SERVICES}/backend-roll`)).status, 200);
  await eventually(async () => (await get(`http://127.0.0.1:${svc.spec.ports[0].nodePort}/`, 1000).then(() => 'ok', () => 'gone')) === 'gone', { timeoutMs: 10_000, message: 'node port closed' });
  await eventually(async () => JSON.stringify(await fromFrontend('/resolve?name=backend-roll')) === JSON.stringify({ error: 'ENOTFOUND' }), { timeoutMs: 15_000, message: 'name gone' });
  t.pass();
});

test.serial('two agents on one engine share the Service network: when the serving one dies, the other takes over', async (t) => {
  const ip = (await cluster.api.get(`${SERVICES}/backend`)).body.spec.clusterIP;
  // A second node agent on the same engine and pod network; its proxy cannot bind what the first holds.
  const second = cluster.start('node-agent', { ...node.env, WHARF_NODE_NAME: `${node.name}-b`, WHARF_AGENT_PORT: '0' }, 'node-agent-b');
  await cluster.waitForNodes([`${node.name}-b`]);
  await new Promise((r) => setTimeout(r, 1000));
  const first = cluster.services.find((s) => s.name === 'node-agent-0' || s.logFile.includes('node-agent-0'));
  t.truthy(first, cluster.services.map((s) => s.name).join(', '));
  await first!.kill('SIGKILL');
  const killedAt = Date.now();
  // The pods keep running (nothing marks the node down yet); what moved is who proxies.
  await eventually(() => get(`http://${ip}/`, 1000).then((r) => r.status === 200, () => false), { timeoutMs: 10_000, intervalMs: 100, message: 'cluster IP answers again' });
  const viaName = await eventually(() => callN('http://backend/', 1).catch(() => undefined), { timeoutMs: 10_000, intervalMs: 200, message: 'DNS answers again' });
  t.is(viaName.length, 1);
  t.log(`served again ${Date.now() - killedAt} ms after the first agent was killed`);
  await second.kill('SIGTERM');
});
