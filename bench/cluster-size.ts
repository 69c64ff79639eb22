// Cluster size: N simulated nodes and P pods held, with the API server still answering. The nodes
// are live: H node-agent processes with the simulated runtime host them (registration, a Lease
// renewed every heartbeat, node status), as kwok does for Kubernetes. Pods are written straight
// into the store bound to those nodes, as the scheduler would leave them, spread over namespaces
// of 1,000 pods; the hosts then reconcile each (simulated containers, status written back), and
// the time until they have settled is reported. With H = 0, nodes and Leases are written straight
// into the store too and nothing runs but the API server. Reports Redis used_memory per node and
// per pod, and API latencies (p50/p99) with the heartbeats flowing: get one pod, get one node, a
// page of 500 pods across namespaces, all pods of one namespace, all nodes, create a pod.
//
//   node --import tsx bench/cluster-size.ts [nodes=5000] [pods=150000] [hosts=5]
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Keys, QUEUES } from '../shared/keys.ts';
import { Store } from '../shared/store/store.ts';
import type { Node, Pod } from '../shared/types.ts';
import { Queue } from 'bullmq';
import { credentialedFetch, freePort, startRedis, startService, eventually, type Fetch, type ServiceHandle } from '../test/helpers/cluster.ts';
import { parseKubeconfig } from '../shared/auth/kubeconfig.ts';

const nodes = Number(process.argv[2] ?? 5000);
const pods = Number(process.argv[3] ?? 150000);
const hosts = Number(process.argv[4] ?? 5);
const HEARTBEAT = '10s';
const RESYNC_MS = 10_000;
/** Node i's name: hosted as `sim<h>-<j>` by host h, or written directly as `node-<i>`. */
const perHost = hosts > 0 ? Math.ceil(nodes / hosts) : 0;
const nodeName = (i: number) => (hosts > 0 ? `sim${Math.floor(i / perHost)}-${i % perHost}` : `node-${i}`);
const PER_NAMESPACE = 1000;

async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)![1]);
}

function node(name: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', 'wharf.io/runtime': 'simulated', type: 'kwok' } },
    spec: {},
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', lastHeartbeatTime: new Date().toISOString() },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: new Date().toISOString() },
      ],
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: name }],
      nodeInfo: { kubeletVersion: 'v1.32.0-wharf', operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'simulated://0.1.0' },
    },
  } as Node;
}

function pod(i: number): Pod {
  const at = new Date().toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `pod-${i}`, namespace: `ns-${Math.floor(i / PER_NAMESPACE)}`, labels: { app: `app-${i % 50}`, 'pod-template-hash': 'abc123' } },
    spec: {
      nodeName: nodeName(i % nodes),
      containers: [{ name: 'c', image: 'registry.example/app:1.0', resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
    },
    status: {
      phase: 'Running',
      podIP: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`,
      hostIP: '127.0.0.1',
      startTime: at,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: at },
        { type: 'Initialized', status: 'True', lastTransitionTime: at },
        { type: 'ContainersReady', status: 'True', lastTransitionTime: at },
        { type: 'Ready', status: 'True', lastTransitionTime: at },
      ],
      containerStatuses: [{ name: 'c', ready: true, restartCount: 0, started: true, image: 'registry.example/app:1.0', imageID: 'sha256:0', containerID: 'simulated://0', state: { running: { startedAt: at } } }],
    },
  } as Pod;
}

async function inParallel(count: number, width: number, make: (i: number) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < count; i += width) await Promise.all(Array.from({ length: Math.min(width, count - i) }, (_, j) => make(i + j)));
}

async function latency(label: string, times: number, run: () => Promise<Response>): Promise<void> {
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    const res = await run();
    const body = await res.arrayBuffer();
    ms.push(performance.now() - t0);
    bytes = body.byteLength;
    if (!res.ok) throw new Error(`${label}: HTTP ${res.status}`);
  }
  ms.sort((a, b) => a - b);
  const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(1);
  console.log(`  ${label.padEnd(44)} p50 ${q(0.5).padStart(7)} ms  p99 ${q(0.99).padStart(7)} ms  (${times}x, ${(bytes / 1024).toFixed(0)} KiB)`);
}

const redisHandle = await startRedis();
const prefix = `c${randomBytes(3).toString('hex')}`;
const redis = new Redis(redisHandle.url);
const keys = new Keys(prefix);
const store = new Store(redis, keys, 10_000);
const port = await freePort();
const env = { REDIS_URL: redisHandle.url, WHARF_KEY_PREFIX: prefix, WHARF_LOG_LEVEL: 'warn' };
// The API server makes an admin token and writes a kubeconfig with it and the cluster CA, which the requests below use.
const credentials = mkdtempSync(join(tmpdir(), 'wharf-bench-'));
const kubeconfig = join(credentials, 'kubeconfig');
const api = startService('api', { ...env, WHARF_API_PORT: String(port), WHARF_API_HOST: '127.0.0.1', WHARF_ADMIN_TOKEN_FILE: join(credentials, 'admin-token'), WHARF_API_WRITE_KUBECONFIG: kubeconfig }, 'bench-api');
let fetch: Fetch = () => Promise.reject(new Error('the API server has not written its kubeconfig yet'));
const agents: ServiceHandle[] = [];

/** Jobs waiting or running in the hosts' shared queues. */
async function hostQueueBacklog(): Promise<number> {
  let total = 0;
  for (let h = 0; h < hosts; h++) {
    const queue = new Queue(QUEUES.simulatedHost(`sim${h}`), { connection: redis, prefix: keys.bullPrefix });
    const counts = await queue.getJobCounts('wait', 'active', 'prioritized', 'delayed');
    total += Object.values(counts).reduce((a, b) => a + b, 0);
  }
  return total;
}
const base = `https://127.0.0.1:${port}`;
try {
  await eventually(() => existsSync(kubeconfig), { timeoutMs: 30_000, message: 'the API server\'s kubeconfig' });
  const { caPem, token } = parseKubeconfig(readFileSync(kubeconfig, 'utf8'));
  fetch = credentialedFetch({ ca: caPem, token });
  await eventually(async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 30_000, message: 'api readyz' });
  const started = Date.now();
  const empty = await usedMemory(redis);
  for (const ns of ['kube-node-lease', ...Array.from({ length: Math.ceil(pods / PER_NAMESPACE) }, (_, i) => `ns-${i}`)]) {
    await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
  }
  const withNamespaces = await usedMemory(redis);
  if (hosts > 0) {
    for (let h = 0; h < hosts; h++) {
      const count = Math.min(perHost, nodes - h * perHost);
      agents.push(startService('node-agent', { ...env, WHARF_RUNTIME: 'simulated', WHARF_NODE_NAME: `sim${h}`, WHARF_SIMULATED_NODES: String(count), WHARF_HEARTBEAT: HEARTBEAT, WHARF_AGENT_RESYNC: `${RESYNC_MS}ms`, WHARF_AGENT_PORT: '0', WHARF_SERVICE_PROXY: 'off' }, `bench-host-${h}`));
    }
    await eventually(async () => (await redis.hlen(keys.objects('leases', 'kube-node-lease'))) >= nodes, { timeoutMs: 600_000, intervalMs: 1000, message: `${nodes} nodes registered with Leases` });
    console.log(`${nodes} simulated nodes in ${hosts} node-agent processes registered, each with a Lease, in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } else {
    await inParallel(nodes, 100, async (i) => {
      const n = await store.create('nodes', node(nodeName(i)));
      await store.create('leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: n.metadata.name, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: n.metadata.name!, uid: n.metadata.uid! }] },
        spec: { holderIdentity: n.metadata.name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') },
      });
    });
  }
  const withNodes = await usedMemory(redis);
  const nodesSeconds = (Date.now() - started) / 1000;
  await inParallel(pods, 200, (i) => store.create('pods', pod(i)));
  const withPods = await usedMemory(redis);
  const seconds = (Date.now() - started) / 1000;
  console.log(`${nodes} nodes (+ Leases) and ${pods} pods written in ${seconds.toFixed(0)} s (nodes ${nodesSeconds.toFixed(0)} s, pods ${(pods / (seconds - nodesSeconds)).toFixed(0)}/s)`);
  console.log(`Redis used_memory: ${(withPods / 2 ** 20).toFixed(0)} MiB in all (empty ${(empty / 2 ** 20).toFixed(1)} MiB); per node+lease ${((withNodes - withNamespaces) / nodes / 1024).toFixed(2)} KiB; per pod ${((withPods - withNodes) / pods / 1024).toFixed(2)} KiB`);
  console.log(`projection to 5,000 nodes / 150,000 pods: ${(((withNodes - withNamespaces) / nodes * 5000 + (withPods - withNodes) / pods * 150000) / 2 ** 30).toFixed(2)} GiB`);
  if (hosts > 0) {
    // The hosts pick the pods up on their next resync and reconcile each once; settled when
    // their queues stay empty across a whole resync period.
    const settling = Date.now();
    let emptySince = 0;
    await eventually(async () => {
      if ((await hostQueueBacklog()) > 0) emptySince = 0;
      else emptySince ||= Date.now();
      return emptySince > 0 && Date.now() - emptySince > RESYNC_MS + 2000 && Date.now() - settling > RESYNC_MS;
    }, { timeoutMs: 1_800_000, intervalMs: 1000, message: 'simulated hosts settled' });
    const settled = (Date.now() - settling - RESYNC_MS - 2000) / 1000;
    console.log(`the hosts reconciled all ${pods} pods (simulated containers, status written) within ${Math.max(0, settled).toFixed(0)} s of the last write; Redis used_memory now ${((await usedMemory(redis)) / 2 ** 20).toFixed(0)} MiB`);
    const leases = await store.list<any>('leases', 'kube-node-lease');
    const fresh = leases.items.filter((l) => Date.now() - Date.parse(l.spec.renewTime) < 2 * 10_000).length;
    const ready = (await store.list<Node>('nodes')).items.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
    console.log(`heartbeats: ${fresh} of ${nodes} Leases renewed within the last 20 s; ${ready} nodes Ready`);
  }
  console.log('API latency with all of it held:');
  const rnd = (n: number) => Math.floor(Math.random() * n);
  await latency('GET one pod', 200, () => { const i = rnd(pods); return fetch(`${base}/api/v1/namespaces/ns-${Math.floor(i / PER_NAMESPACE)}/pods/pod-${i}`); });
  await latency('GET one node', 200, () => fetch(`${base}/api/v1/nodes/${nodeName(rnd(nodes))}`));
  await latency('LIST pods, all namespaces, limit=500', 20, () => fetch(`${base}/api/v1/pods?limit=500`));
  await latency(`LIST pods of one namespace (${Math.min(PER_NAMESPACE, pods)})`, 20, () => fetch(`${base}/api/v1/namespaces/ns-${rnd(Math.ceil(pods / PER_NAMESPACE))}/pods`));
  await latency(`LIST all ${nodes} nodes`, 5, () => fetch(`${base}/api/v1/nodes`));
  await latency('POST a pod (create)', 100, () => fetch(`${base}/api/v1/namespaces/ns-0/pods`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...pod(0), metadata: { ...pod(0).metadata, name: `extra-${randomBytes(4).toString('hex')}` }, status: undefined }) }));
} finally {
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await api.kill('SIGKILL');
  redis.disconnect();
  await redisHandle.stop();
  rmSync(credentials, { recursive: true, force: true });
}
process.exit(0);
