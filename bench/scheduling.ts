// Scheduling throughput: N nodes, P pods, with 1, 2 and 4 scheduler processes. Nodes are written
// straight into the store (Ready, with allocatable), pods created through the store; the figure
// is pods bound per second from the first create to the last bind. Afterwards it checks, reading
// back from Redis, that no pod was bound twice (one Scheduled event per pod, the nodes' charged
// pod counts sum to the pods) and no node is overcommitted (charged cpu, memory and pods within
// allocatable, and equal to what the bound pods request). The load average is printed with each
// run, and the CPU each part used per pod (the schedulers, Redis, and this process creating the
// pods): on a 2-core machine their sum bounds the rate whatever the number of schedulers.
//
//   node --import tsx bench/scheduling.ts [nodes=1000] [pods=30000] [schedulers=1,2,4]
//   (WHARF_PROFILE_DIR=dir: the schedulers write V8 CPU profiles there, stopped with SIGTERM)
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { Keys } from '../shared/keys.ts';
import { Store } from '../shared/store/store.ts';
import type { Node, Pod } from '../shared/types.ts';
import { startRedis, startService, type ServiceHandle } from '../test/helpers/cluster.ts';

const nodes = Number(process.argv[2] ?? 1000);
const pods = Number(process.argv[3] ?? 30000);
const schedulerCounts = (process.argv[4] ?? '1,2,4').split(',').map(Number);

function node(name: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name, type: 'kwok' } },
    status: {
      allocatable: { cpu: '32', memory: '256Gi', pods: '110' },
      capacity: { cpu: '32', memory: '256Gi', pods: '110' },
      conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString() }],
    },
  };
}

function pod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-${i}`, namespace: 'default', labels: { app: 'bench' } },
    spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '100m', memory: '128Mi' } } }], restartPolicy: 'Always', schedulerName: 'default-scheduler' },
    status: { phase: 'Pending' },
  };
}

/** CPU seconds a process has used (utime + stime from /proc). */
function processCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function redisCpuSeconds(connection: Redis): Promise<number> {
  const info = await connection.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

async function run(schedulers: number): Promise<{ podsPerSecond: number; seconds: number }> {
  const redis = await startRedis();
  const prefix = `b${randomBytes(3).toString('hex')}`;
  const connection = new Redis(redis.url);
  const store = new Store(connection, new Keys(prefix), 100_000);
  const env = { REDIS_URL: redis.url, WHARF_KEY_PREFIX: prefix, WHARF_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', WHARF_SCHEDULER_CONCURRENCY: '32' };
  const services: ServiceHandle[] = [];
  try {
    await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    for (let i = 0; i < nodes; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, nodes - i) }, (_, j) => store.create('nodes', node(`node-${i + j}`))));
    }
    for (let i = 0; i < schedulers; i++) services.push(startService('scheduler', env, `bench-scheduler-${i}`));
    // Every scheduler started (its cache synced, its feed reading) before the first pod is created.
    for (const deadline = Date.now() + 60_000; ; ) {
      const started = services.filter((s) => s.logs().includes('scheduler started')).length;
      if (started === schedulers) break;
      if (Date.now() > deadline) throw new Error(`only ${started} of ${schedulers} schedulers started`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const started = Date.now();
    const cpuAtStart = { bench: process.cpuUsage(), redis: await redisCpuSeconds(connection), schedulers: services.map((s) => processCpuSeconds(s.child.pid!)) };
    let createdSeconds = 0;
    const creating = (async () => {
      for (let i = 0; i < pods; i += 200) {
        await Promise.all(Array.from({ length: Math.min(200, pods - i) }, (_, j) => store.create('pods', pod(i + j))));
      }
      createdSeconds = (Date.now() - started) / 1000;
    })();
    let bound = 0;
    while (bound < pods) {
      await new Promise((r) => setTimeout(r, 500));
      let total = 0;
      for (let n = 0; n < nodes; n += 500) {
        const pipeline = connection.pipeline();
        for (let k = n; k < Math.min(nodes, n + 500); k++) pipeline.hget(`${prefix}:nodeusage:node-${k}`, 'used.pods');
        for (const [, v] of (await pipeline.exec()) ?? []) total += Number(v ?? 0);
      }
      bound = total;
      if (Date.now() - started > 600_000) throw new Error(`only ${bound} of ${pods} bound after 10 minutes`);
    }
    await creating;
    const seconds = (Date.now() - started) / 1000;
    const benchCpu = process.cpuUsage(cpuAtStart.bench);
    const cpuMsPerPod = {
      schedulers: (services.reduce((sum, s, i) => sum + processCpuSeconds(s.child.pid!) - cpuAtStart.schedulers[i], 0) * 1000) / pods,
      redis: (((await redisCpuSeconds(connection)) - cpuAtStart.redis) * 1000) / pods,
      creating: (benchCpu.user + benchCpu.system) / 1000 / pods,
    };
    // Correctness, read back from Redis: every pod bound exactly once, no node over its allocatable.
    const listed = await store.list<Pod>('pods', 'default');
    const unbound = listed.items.filter((p) => !p.spec.nodeName).length;
    const perNode = new Map<string, number>();
    for (const p of listed.items) if (p.spec.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    const events = await store.list<any>('events', 'default');
    const scheduled = new Map<string, number>();
    for (const e of events.items) if (e.reason === 'Scheduled') scheduled.set(e.involvedObject.name, (scheduled.get(e.involvedObject.name) ?? 0) + (e.count ?? 1));
    const twice = [...scheduled.values()].filter((n) => n > 1).length;
    const pipeline = connection.pipeline();
    for (let k = 0; k < nodes; k++) pipeline.hgetall(`${prefix}:nodeusage:node-${k}`);
    let charged = 0;
    let over = 0;
    let mismatched = 0;
    for (const [k, [, u]] of ((await pipeline.exec()) ?? []).entries()) {
      const usage = u as Record<string, string>;
      const n = (f: string) => Number(usage[f] ?? 0);
      charged += n('used.pods');
      if (n('used.pods') > n('alloc.pods') || n('used.cpu') > n('alloc.cpu') || n('used.memory') > n('alloc.memory')) over++;
      const count = perNode.get(`node-${k}`) ?? 0;
      if (n('used.pods') !== count || n('used.cpu') !== count * 100) mismatched++;
    }
    if (unbound || over || twice || mismatched || charged !== pods) {
      throw new Error(`${unbound} unbound pods, ${twice} bound twice, ${over} overcommitted nodes, ${mismatched} nodes charged other than their pods, ${charged} charged of ${pods}`);
    }
    // What bounds the rate: the cores all parts kept busy, and whether binding kept up with creation.
    const coresBusy = ((cpuMsPerPod.schedulers + cpuMsPerPod.redis + cpuMsPerPod.creating) * pods) / 1000 / seconds;
    console.log(`    CPU per pod: schedulers ${cpuMsPerPod.schedulers.toFixed(2)} ms, Redis ${cpuMsPerPod.redis.toFixed(2)} ms, creating the pods (this process) ${cpuMsPerPod.creating.toFixed(2)} ms; ${coresBusy.toFixed(2)} of ${cpus().length} cores busy`);
    console.log(`    all pods created after ${createdSeconds.toFixed(1)} s, the last bound ${(seconds - createdSeconds).toFixed(1)} s later`);
    console.log(`    checked: ${pods} pods bound once each (${scheduled.size} Scheduled events, none twice), ${charged} charged, 0 of ${nodes} nodes overcommitted; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    return { podsPerSecond: pods / seconds, seconds };
  } finally {
    await Promise.all(services.map((s) => s.kill(process.env.WHARF_PROFILE_DIR ? 'SIGTERM' : 'SIGKILL')));
    connection.disconnect();
    await redis.stop();
  }
}

console.log(`scheduling ${pods} pods onto ${nodes} nodes (requests 100m/128Mi; nodes 32 cpu, 256Gi, 110 pods); load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const results: { schedulers: number; podsPerSecond: number; seconds: number }[] = [];
for (const s of schedulerCounts) {
  const r = await run(s);
  results.push({ schedulers: s, ...r });
  console.log(`  ${s} scheduler(s): ${r.podsPerSecond.toFixed(0)} pods/s (${r.seconds.toFixed(1)} s)`);
}
const base = results[0].podsPerSecond;
console.log('ratios to 1 scheduler:', results.map((r) => `${r.schedulers}: ${(r.podsPerSecond / base).toFixed(2)}x`).join(', '));
console.log(`reference: Kubernetes scheduler_perf asks >= 270 pods/s for 5000 nodes / 10000 pods; best here ${Math.max(...results.map((r) => r.podsPerSecond)).toFixed(0)} pods/s = ${(Math.max(...results.map((r) => r.podsPerSecond)) / 270).toFixed(1)}x`);
process.exit(0);
