// Nodes on several hosts: three Docker-in-Docker hosts (test/helpers/dind-hosts.ts), each its own
// engine and network namespace with a node agent inside, one pod network across them (per-node
// podCIDRs from the node IPAM controller, host-gw routes between the hosts). Pods on host 1 reach
// pods on hosts 2 and 3 by pod IP, by Service cluster IP and by DNS name; a NodePort on any host
// reaches pods on all three. Losing host 2 (its container killed: engine, pods and agent at once)
// is node failure: its pods come back on hosts 1 and 3 and the Service stops sending them traffic;
// started again, host 2 is Ready and runs pods again. Short settings: 1 s heartbeat, 5 s node
// monitor grace, 2 s eviction toleration.
import test from 'ava';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { requireImages } from '../helpers/images.ts';
import { startMultiHostCluster, type DindHosts, type MultiHostCluster } from '../helpers/dind-hosts.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';
import type { Node, Pod } from '../../shared/types.ts';

let mh: MultiHostCluster | undefined;
let cluster: Cluster | undefined;
let hosts: DindHosts | undefined;
let names: string[] = [];
const kubectl = kubectlRunner(() => ({ kubeconfig: cluster!.kubeconfig }));
const timings: Record<string, number> = {};

const detail = () => `${cluster?.dumpLogs() ?? ''}`;

test.before(async () => {
  await requireImages(['busybox:latest']);
  mh = await startMultiHostCluster({
    count: 3,
    env: { WHARF_HEARTBEAT: '1s', WHARF_NODE_MONITOR_GRACE: '5s', WHARF_POD_EVICTION_TOLERATION: '2s' },
  });
  ({ cluster, hosts, names } = mh);
});

test.after.always(async () => {
  await mh?.stop();
  if (Object.keys(timings).length) console.log(`multi-host timings: ${JSON.stringify(timings)}`);
});

const ready = (n: Node) => (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

async function pods(): Promise<Pod[]> {
  const r = await cluster!.api.get<{ items: Pod[] }>('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb');
  return r.body.items;
}
const running = (p: Pod) => p.status?.phase === 'Running' && !!p.status.podIP && !p.metadata.deletionTimestamp && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

// busybox's `wget -T` crashes (SIGSEGV) here: requests are bounded with `timeout 3 wget` instead.

/** Runs a shell command in a pod (kubectl exec, through the API server and the pod's agent). */
async function sh(pod: string, script: string): Promise<string> {
  const r = await kubectl(['exec', pod, '--', 'sh', '-c', script]);
  if (r.code !== 0) throw new Error(`exec in ${pod}: ${r.stderr}`);
  return r.stdout;
}

/** Which pods answered n requests to url from inside `from` (each answer is the pod's hostname). */
async function answers(from: string, url: string, n: number): Promise<Set<string>> {
  const out = await sh(from, `i=0; while [ $i -lt ${n} ]; do timeout 3 wget -qO- ${url} || echo FAILED; echo; i=$((i+1)); done`);
  return new Set(out.split('\n').map((l) => l.trim()).filter(Boolean));
}

const WEB = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 6
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      topologySpreadConstraints:
      - { maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Honor, labelSelector: { matchLabels: { app: web } } }
      containers:
      - name: web
        image: busybox:latest
        command: [sh, -c, 'mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www']
        ports: [{ containerPort: 8080 }]
        readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: LoadBalancer
  selector: { app: web }
  ports: [{ port: 80, targetPort: 8080 }]
`;

test.serial('6 replicas spread over 3 hosts reach each other by pod IP, cluster IP, DNS name and NodePort', async (t) => {
  const r = await kubectl(['apply', '-f', '-'], { input: WEB });
  t.is(r.code, 0, r.stderr);
  const all = await eventually(async () => {
    const ps = (await pods()).filter(running);
    return ps.length === 6 && ps;
  }, { timeoutMs: 90_000, message: '6 web pods running and ready', detail });
  const byHost = (host: string) => all.filter((p) => p.spec.nodeName === host);
  t.deepEqual(names.map((n) => byHost(n).length), [2, 2, 2], 'spread 2/2/2 over the hosts');
  // Each pod's IP is in its own node's block.
  for (const n of names) {
    const node = (await cluster!.api.get<Node>(`/api/v1/nodes/${n}`)).body;
    const prefix = node.spec!.podCIDR!.split('.').slice(0, 3).join('.');
    for (const p of byHost(n)) t.true(p.status!.podIP!.startsWith(`${prefix}.`), `${p.metadata.name} (${p.status!.podIP}) in ${node.spec!.podCIDR}`);
  }
  const client = byHost(names[0])[0].metadata.name!;
  const remote = [...byHost(names[1]), ...byHost(names[2])];

  // By pod IP: every pod on hosts 2 and 3 answers with its own name (so the route and the rules let it through unchanged).
  const out = await sh(client, remote.map((p) => `timeout 3 wget -qO- http://${p.status!.podIP}:8080/ || echo FAILED`).join('; '));
  t.deepEqual(out.split('\n').filter(Boolean), remote.map((p) => p.metadata.name!));

  // By cluster IP and by DNS name: the proxy on host 1 sends to pods on every host.
  const svc = (await cluster!.api.get(`/api/v1/namespaces/default/services/web`)).body;
  const clusterIp: string = svc.spec.clusterIP;
  const nodePort: number = svc.spec.ports[0].nodePort;
  const remoteNames = new Set(remote.map((p) => p.metadata.name!));
  const hostsReached = (seen: Set<string>) => new Set(all.filter((p) => seen.has(p.metadata.name!)).map((p) => p.spec.nodeName));
  for (const url of [`http://${clusterIp}/`, 'http://web/', 'http://web.default.svc.cluster.local/']) {
    const seen = new Set<string>();
    await eventually(async () => {
      for (const a of await answers(client, url, 12)) seen.add(a);
      return hostsReached(seen).size === 3;
    }, { timeoutMs: 30_000, message: `${url} from ${client} reaches pods on all three hosts`, detail: () => [...seen].join(',') });
    t.false(seen.has('FAILED'), `${url}: no request failed`);
    t.true([...seen].some((s) => remoteNames.has(s)));
  }

  // A NodePort on each host, and the load balancer's address on each (the ServiceLB stand-in lists
  // every ready node's InternalIP), from this machine: pods on all three hosts answer.
  const ingress = await eventually(async () => {
    const ips: string[] = ((await cluster!.api.get(`/api/v1/namespaces/default/services/web`)).body.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip);
    return ips.length === 3 && ips;
  }, { timeoutMs: 30_000, message: 'the load balancer lists the three hosts', detail });
  t.deepEqual([...ingress].sort(), hosts!.hosts.map((h) => h.address).sort());
  const urls = [...hosts!.hosts.map((h) => `http://${h.address}:${nodePort}/`), ...ingress.map((ip) => `http://${ip}:80/`)];
  for (const url of urls) {
    const seen = new Set<string>();
    await eventually(async () => {
      for (let i = 0; i < 9; i++) seen.add((await (await fetch(url, { signal: AbortSignal.timeout(3000) })).text()).trim());
      return hostsReached(seen).size === 3;
    }, { timeoutMs: 30_000, message: `${url} reaches pods on all three hosts`, detail: () => [...seen].join(',') });
  }

  // Same-host and cross-host latency beside each other (for the README's figures): the network's
  // round trip (ping), and HTTP requests from a node:20 pod on host 1, each on a new connection,
  // straight to a pod on host 1, to one on host 2, and through the Service's cluster IP.
  const same = byHost(names[0])[1].status!.podIP!;
  const far = byHost(names[1])[0].status!.podIP!;
  const rtt = async (ip: string) => {
    const o = await sh(client, `ping -q -c 20 -i 0.2 ${ip}`);
    return Number(/= [\d.]+\/([\d.]+)\//.exec(o)?.[1]);
  };
  timings.pingSameHostMs = await rtt(same);
  timings.pingCrossHostMs = await rtt(far);
  await hosts!.load(0, 'node:20');
  const bench = `
apiVersion: v1
kind: Pod
metadata: { name: bench }
spec:
  nodeName: ${names[0]}
  terminationGracePeriodSeconds: 0
  containers: [{ name: node, image: 'node:20', command: [sleep, '3600'] }]
`;
  t.is((await kubectl(['apply', '-f', '-'], { input: bench })).code, 0);
  await eventually(async () => (await cluster!.api.get<Pod>('/api/v1/namespaces/default/pods/bench')).body.status?.phase === 'Running', { timeoutMs: 60_000, message: 'the bench pod runs', detail });
  const script = `
const http = require('http');
const get = (url) => new Promise((res, rej) => http.get(url, { agent: false }, (r) => { r.resume(); r.on('end', res); }).on('error', rej));
(async () => {
  const out = {};
  for (const [name, url] of Object.entries(JSON.parse(process.argv[1]))) {
    for (let i = 0; i < 20; i++) await get(url);
    const ms = [];
    for (let i = 0; i < 200; i++) { const s = process.hrtime.bigint(); await get(url); ms.push(Number(process.hrtime.bigint() - s) / 1e6); }
    ms.sort((a, b) => a - b);
    out[name + 'P50Ms'] = +ms[100].toFixed(2); out[name + 'P99Ms'] = +ms[197].toFixed(2);
  }
  console.log(JSON.stringify(out));
})();`;
  const targets = { httpSameHost: `http://${same}:8080/`, httpCrossHost: `http://${far}:8080/`, httpService: `http://${clusterIp}/` };
  const r2 = await kubectl(['exec', 'bench', '--', 'node', '-e', script, JSON.stringify(targets)]);
  t.is(r2.code, 0, r2.stderr);
  Object.assign(timings, JSON.parse(r2.stdout));
  await kubectl(['delete', 'pod', 'bench', '--wait=false']);
});

test.serial('losing host 2 moves its pods to hosts 1 and 3 and the Service drops them; host 2 rejoins and runs pods again', async (t) => {
  const [h1, h2, h3] = names;
  const svc = (await cluster!.api.get(`/api/v1/namespaces/default/services/web`)).body;
  const nodePort: number = svc.spec.ports[0].nodePort;
  // Requests through the Service (host 1's NodePort) all along, each noted with when it started.
  const requests: { at: number; ok: boolean }[] = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const at = Date.now();
      const ok = await fetch(`http://${hosts!.hosts[0].address}:${nodePort}/`, { signal: AbortSignal.timeout(5000) }).then((r) => r.ok, () => false);
      requests.push({ at, ok });
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const killedAt = Date.now();
  await hosts!.kill(1);

  // The Service's endpoints drop host 2's pods; replacements run on hosts 1 and 3.
  await eventually(async () => {
    const ep = (await cluster!.api.get(`/api/v1/namespaces/default/endpoints/web`)).body;
    const addrs = (ep.subsets ?? []).flatMap((s: any) => s.addresses ?? []);
    return addrs.length > 0 && addrs.every((a: any) => a.nodeName !== h2);
  }, { timeoutMs: 60_000, message: `the endpoints of web drop the pods of ${h2}`, detail });
  const droppedAt = Date.now();
  timings.endpointsDroppedLostHostMs = droppedAt - killedAt;
  const moved = await eventually(async () => {
    const ps = (await pods()).filter(running);
    return ps.length === 6 && ps.every((p) => p.spec.nodeName !== h2) && ps;
  }, { timeoutMs: 90_000, message: `6 web pods running on ${h1} and ${h3}`, detail });
  timings.replacedMs = Date.now() - killedAt;
  t.deepEqual([h1, h3].map((n) => moved.filter((p) => p.spec.nodeName === n).length), [3, 3]);

  // Enough requests after the proxy has followed the change to judge it, however fast the pods moved.
  await eventually(async () => requests.filter((r) => r.at > droppedAt + 1000).length >= 10, { timeoutMs: 30_000, message: '10 requests through the Service after the endpoints changed', detail });
  probing = false;
  await probe;
  // Once the endpoints have dropped host 2's pods (and host 1's proxy has followed them: 1 s), no
  // request through the Service fails; before, a request may wait out a dead backend's connect timeout.
  const late = requests.filter((r) => r.at > droppedAt + 1000);
  t.deepEqual(late.filter((r) => !r.ok), [], 'no request through the Service failed after the endpoints dropped the lost pods');
  timings.requestsFailedDuringGrace = requests.filter((r) => !r.ok).length;
  timings.requestsDuringFailover = requests.length;
  // And none fails now, on either remaining host.
  for (const h of [hosts!.hosts[0], hosts!.hosts[2]]) {
    for (let i = 0; i < 15; i++) {
      const res = await fetch(`http://${h.address}:${nodePort}/`, { signal: AbortSignal.timeout(3000) });
      t.is(res.status, 200);
    }
  }
  const node2 = (await cluster!.api.get<Node>(`/api/v1/nodes/${h2}`)).body;
  t.false(ready(node2), `${h2} is not Ready`);
  // The load balancer no longer sends to the lost host.
  await eventually(async () => {
    const ips: string[] = ((await cluster!.api.get(`/api/v1/namespaces/default/services/web`)).body.status?.loadBalancer?.ingress ?? []).map((i: any) => i.ip);
    return ips.length === 2 && !ips.includes(hosts!.hosts[1].address);
  }, { timeoutMs: 30_000, message: `the load balancer drops ${h2}`, detail });

  // Host 2 comes back: Ready again, its old pods' containers cleaned up, and new pods run there.
  const startedAt = Date.now();
  await hosts!.start(1);
  await eventually(async () => ready((await cluster!.api.get<Node>(`/api/v1/nodes/${h2}`)).body) && !(await cluster!.api.get<Node>(`/api/v1/nodes/${h2}`)).body.spec?.taints?.length, { timeoutMs: 90_000, message: `${h2} Ready again and untainted`, detail });
  timings.rejoinReadyMs = Date.now() - startedAt;
  t.is((await kubectl(['scale', 'deployment/web', '--replicas=9'])).code, 0);
  const back = await eventually(async () => {
    const ps = (await pods()).filter(running);
    return ps.length === 9 && ps.filter((p) => p.spec.nodeName === h2).length === 3 && ps;
  }, { timeoutMs: 90_000, message: `3 new web pods running on ${h2}`, detail });
  // And host 1 reaches them by pod IP across the hosts again.
  const client = back.find((p) => p.spec.nodeName === h1)!.metadata.name!;
  const target = back.find((p) => p.spec.nodeName === h2)!;
  t.is((await sh(client, `timeout 3 wget -qO- http://${target.status!.podIP}:8080/`)).trim(), target.metadata.name!);
});
