// Cluster size: N nodes (each with its Lease) and P pods held in Redis, with the API server still
// answering. Nodes, Leases and pods are written straight into the store, as a node agent and the
// scheduler would leave them (pods bound, Running, with an IP), spread over namespaces of 1,000
// pods; no agents or controllers run, so this measures what the state costs and how the API
// answers over it. Reports Redis used_memory per node and per pod, and API latencies (p50/p99):
// get one pod, get one node, a page of 500 pods across namespaces, all pods of one namespace,
// all nodes.
//
//   node --import tsx bench/cluster-size.ts [nodes=5000] [pods=150000]
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Keys } from '../shared/keys.ts';
import { Store } from '../shared/store/store.ts';
import type { Node, Pod } from '../shared/types.ts';
import { freePort, startRedis, startService, eventually } from '../test/helpers/cluster.ts';

const nodes = Number(process.argv[2] ?? 5000);
const pods = Number(process.argv[3] ?? 150000);
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
      nodeName: `node-${i % nodes}`,
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
const store = new Store(redis, new Keys(prefix), 10_000);
const port = await freePort();
const api = startService('api', { REDIS_URL: redisHandle.url, WHARF_KEY_PREFIX: prefix, WHARF_LOG_LEVEL: 'warn', WHARF_API_PORT: String(port), WHARF_API_HOST: '127.0.0.1' }, 'bench-api');
const base = `http://127.0.0.1:${port}`;
try {
  await eventually(async () => (await fetch(`${base}/readyz`)).ok, { timeoutMs: 30_000, message: 'api readyz' });
  const started = Date.now();
  const empty = await usedMemory(redis);
  for (const ns of ['kube-node-lease', ...Array.from({ length: Math.ceil(pods / PER_NAMESPACE) }, (_, i) => `ns-${i}`)]) {
    await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }).catch(() => undefined);
  }
  const withNamespaces = await usedMemory(redis);
  await inParallel(nodes, 100, async (i) => {
    const n = await store.create('nodes', node(`node-${i}`));
    await store.create('leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: n.metadata.name, namespace: 'kube-node-lease', ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: n.metadata.name!, uid: n.metadata.uid! }] },
      spec: { holderIdentity: n.metadata.name, leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') },
    });
  });
  const withNodes = await usedMemory(redis);
  const nodesSeconds = (Date.now() - started) / 1000;
  await inParallel(pods, 200, (i) => store.create('pods', pod(i)));
  const withPods = await usedMemory(redis);
  const seconds = (Date.now() - started) / 1000;
  console.log(`${nodes} nodes (+ Leases) and ${pods} pods written in ${seconds.toFixed(0)} s (nodes ${nodesSeconds.toFixed(0)} s, pods ${(pods / (seconds - nodesSeconds)).toFixed(0)}/s)`);
  console.log(`Redis used_memory: ${(withPods / 2 ** 20).toFixed(0)} MiB in all (empty ${(empty / 2 ** 20).toFixed(1)} MiB); per node+lease ${((withNodes - withNamespaces) / nodes / 1024).toFixed(2)} KiB; per pod ${((withPods - withNodes) / pods / 1024).toFixed(2)} KiB`);
  console.log(`projection to 5,000 nodes / 150,000 pods: ${(((withNodes - withNamespaces) / nodes * 5000 + (withPods - withNodes) / pods * 150000) / 2 ** 30).toFixed(2)} GiB`);
  console.log('API latency with all of it held:');
  const rnd = (n: number) => Math.floor(Math.random() * n);
  await latency('GET one pod', 200, () => { const i = rnd(pods); return fetch(`${base}/api/v1/namespaces/ns-${Math.floor(i / PER_NAMESPACE)}/pods/pod-${i}`); });
  await latency('GET one node', 200, () => fetch(`${base}/api/v1/nodes/node-${rnd(nodes)}`));
  await latency('LIST pods, all namespaces, limit=500', 20, () => fetch(`${base}/api/v1/pods?limit=500`));
  await latency(`LIST pods of one namespace (${Math.min(PER_NAMESPACE, pods)})`, 20, () => fetch(`${base}/api/v1/namespaces/ns-${rnd(Math.ceil(pods / PER_NAMESPACE))}/pods`));
  await latency(`LIST all ${nodes} nodes`, 5, () => fetch(`${base}/api/v1/nodes`));
  await latency('POST a pod (create)', 100, () => fetch(`${base}/api/v1/namespaces/ns-0/pods`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...pod(0), metadata: { ...pod(0).metadata, name: `extra-${randomBytes(4).toString('hex')}` }, status: undefined }) }));
} finally {
  await api.kill('SIGKILL');
  redis.disconnect();
  await redisHandle.stop();
}
process.exit(0);
