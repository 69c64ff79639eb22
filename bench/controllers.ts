// Controller-manager throughput: D Deployments of R replicas each, with 1, 2 and 4 controller
// managers sharing the work (no scheduler, no nodes: the pods stay Pending, which is all the
// Deployment and ReplicaSet controllers need). The figure is pods created per second from the
// first Deployment's create until every Deployment reports R replicas; with it, the CPU each
// part used per pod (the managers, each and together, and Redis) and Redis' own cost per pod by
// command, so that what N replicas add can be predicted as for the schedulers (README, "How
// scheduling scales"). Afterwards it checks that exactly D x R pods exist, each owned by its
// Deployment's one ReplicaSet, none being deleted (no replica created a pod another had made).
// CPU is utime + stime of each process and Redis' used_cpu_user + used_cpu_sys over the window.
// The reconciles per pod by queue and outcome (wharf_reconcile_total) and the jobs put back because
// another worker held their key (wharf_workqueue_key_busy_total), summed over the managers, tell
// more work from dearer work as replicas are added.
//
//   node --import tsx bench/controllers.ts [deployments=200] [replicas=50] [managers=1,2,4] [rounds=1]
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { Keys } from '../shared/keys.ts';
import { Store } from '../shared/store/store.ts';
import type { KubeObject, Pod } from '../shared/types.ts';
import { freePort, startRedis, startService, type ServiceHandle } from '../test/helpers/cluster.ts';
import { commandCostLine, processCpuSeconds, range, ratioOfMedians, redisCommandCosts, redisCpuSeconds } from './measure.ts';

const deployments = Number(process.argv[2] ?? 200);
const replicas = Number(process.argv[3] ?? 50);
const managerCounts = (process.argv[4] ?? '1,2,4').split(',').map(Number);
const rounds = Number(process.argv[5] ?? 1);
// Deployments each manager rolls out before the measured ones: a fresh process runs its first
// reconciles unoptimised, a cost per process rather than per pod.
const warmupPerManager = Number(process.env.WARMUP ?? 4);
const pods = deployments * replicas;

function deployment(name: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '10m', memory: '16Mi' } } }], terminationGracePeriodSeconds: 0 },
      },
    },
  } as KubeObject;
}

interface RunResult {
  podsPerSecond: number;
  seconds: number;
  managersMs: number;
  perManagerMs: number[];
  redisMs: number;
}

/** Deployments whose status shows all their replicas, of those named. */
async function rolledOut(store: Store, names: Set<string>): Promise<number> {
  const { items } = await store.list<any>('deployments', 'default');
  return items.filter((d) => names.has(d.metadata.name) && d.status?.replicas === replicas && d.status?.updatedReplicas === replicas).length;
}

async function rollOut(store: Store, names: string[], deadlineMs: number): Promise<void> {
  for (let i = 0; i < names.length; i += 50) await Promise.all(names.slice(i, i + 50).map((n) => store.create('deployments', deployment(n))));
  const wanted = new Set(names);
  while ((await rolledOut(store, wanted)) < names.length) {
    if (Date.now() > deadlineMs) throw new Error(`only ${await rolledOut(store, wanted)} of ${names.length} Deployments rolled out in time`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A manager's reconciles by queue and outcome, and its jobs put back because another worker held the key, from its metrics endpoint. */
async function queueCounts(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const counts = new Map<string, number>();
  for (const m of text.matchAll(/^wharf_reconcile_total\{queue="([^"]+)",result="(\w+)"\} ([\d.e+-]+)$/gm)) counts.set(`${m[1]} ${m[2]}`, Number(m[3]));
  for (const m of text.matchAll(/^wharf_workqueue_key_busy_total\{name="([^"]+)"\} ([\d.e+-]+)$/gm)) counts.set(`${m[1]} key busy`, Number(m[2]));
  return counts;
}

/** Per pod, summed over the managers: what the counts grew by between start and end, largest first. */
function countsPerPod(start: Map<string, number>[], end: Map<string, number>[]): string {
  const grown = new Map<string, number>();
  end.forEach((counts, i) => {
    for (const [name, value] of counts) grown.set(name, (grown.get(name) ?? 0) + value - (start[i].get(name) ?? 0));
  });
  return [...grown].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([name, v]) => `${name} ${(v / pods).toFixed(3)}`).join(', ');
}

async function run(managers: number): Promise<RunResult> {
  const redis = await startRedis();
  const prefix = `c${randomBytes(3).toString('hex')}`;
  const connection = new Redis(redis.url);
  const store = new Store(connection, new Keys(prefix), 100_000);
  const env = { REDIS_URL: redis.url, WHARF_KEY_PREFIX: prefix, WHARF_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', WHARF_WATCH_HISTORY: '100000' };
  const services: ServiceHandle[] = [];
  try {
    await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    await store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' }, automountServiceAccountToken: false } as any);
    const metricsPorts: number[] = [];
    for (let i = 0; i < managers; i++) {
      metricsPorts.push(await freePort());
      services.push(startService('controller-manager', { ...env, WHARF_CONTROLLER_METRICS_PORT: String(metricsPorts[i]) }, `bench-manager-${i}`));
    }
    for (const deadline = Date.now() + 60_000; ; ) {
      const started = services.filter((s) => s.logs().includes('controller manager started')).length;
      if (started === managers) break;
      if (Date.now() > deadline) throw new Error(`only ${started} of ${managers} controller managers started`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await rollOut(store, Array.from({ length: warmupPerManager * managers }, (_, i) => `warmup-${i}`), Date.now() + 120_000);
    await connection.config('RESETSTAT');
    const started = Date.now();
    const cpuAtStart = { redis: await redisCpuSeconds(connection), managers: services.map((s) => processCpuSeconds(s.child.pid!)), queues: await Promise.all(metricsPorts.map(queueCounts)) };
    await rollOut(store, Array.from({ length: deployments }, (_, i) => `bench-${i}`), started + 600_000);
    const seconds = (Date.now() - started) / 1000;
    const perManagerMs = services.map((s, i) => ((processCpuSeconds(s.child.pid!) - cpuAtStart.managers[i]) * 1000) / pods);
    const redisMs = (((await redisCpuSeconds(connection)) - cpuAtStart.redis) * 1000) / pods;
    const commands = await redisCommandCosts(connection);
    const queuesAtEnd = await Promise.all(metricsPorts.map(queueCounts));
    // Correctness: exactly the pods wanted, each owned by its Deployment's ReplicaSet, none going.
    const listed = (await store.list<Pod>('pods', 'default')).items.filter((p) => p.metadata.name!.startsWith('bench-'));
    const sets = new Map((await store.list<any>('replicasets', 'default')).items.map((rs) => [rs.metadata.name, rs]));
    const deleting = listed.filter((p) => p.metadata.deletionTimestamp).length;
    const misowned = listed.filter((p) => {
      const owner = p.metadata.ownerReferences?.find((r) => r.controller);
      return !owner || sets.get(owner.name)?.metadata.ownerReferences?.[0]?.name !== p.metadata.labels?.app;
    }).length;
    if (listed.length !== pods || deleting || misowned) throw new Error(`${listed.length} pods of ${pods}, ${deleting} being deleted, ${misowned} not owned by their Deployment's ReplicaSet`);
    const managersMs = perManagerMs.reduce((a, b) => a + b, 0);
    const coresBusy = ((managersMs + redisMs) * pods) / 1000 / seconds;
    console.log(`    CPU per pod: managers ${managersMs.toFixed(2)} ms (each ${perManagerMs.map((m) => m.toFixed(2)).join(', ')}), Redis ${redisMs.toFixed(2)} ms; ${coresBusy.toFixed(2)} of ${cpus().length} cores busy`);
    console.log(`    Redis µs per pod by command: ${commandCostLine(commands, pods)}`);
    // More managers doing more reconciles (smaller bursts each) shows here; the same count at a
    // higher CPU per pod is the same work made dearer.
    console.log(`    reconciles per pod, all managers, by queue and outcome: ${countsPerPod(cpuAtStart.queues, queuesAtEnd)}`);
    console.log(`    checked: ${pods} pods, each owned by its Deployment's ReplicaSet, none being deleted; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    return { podsPerSecond: pods / seconds, seconds, managersMs, perManagerMs, redisMs };
  } finally {
    await Promise.all(services.map((s) => s.kill(process.env.WHARF_PROFILE_DIR ? 'SIGTERM' : 'SIGKILL')));
    connection.disconnect();
    await redis.stop();
  }
}

console.log(`rolling out ${deployments} Deployments of ${replicas} replicas (${pods} pods), ${rounds} round(s); load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const results = new Map<number, RunResult[]>(managerCounts.map((m) => [m, []]));
for (let round = 0; round < rounds; round++) {
  for (const m of managerCounts) {
    const r = await run(m);
    results.get(m)!.push(r);
    console.log(`  ${m} controller manager(s): ${r.podsPerSecond.toFixed(0)} pods/s (${r.seconds.toFixed(1)} s)`);
  }
}
const base = results.get(managerCounts[0])!;
console.log(`summary (${rounds} round(s); ranges over rounds; ratios of medians to ${managerCounts[0]} manager(s)):`);
for (const [m, rs] of results) {
  const ratio = (pick: (r: RunResult) => number) => ratioOfMedians(rs, base, pick);
  console.log(
    `  ${m} controller manager(s): ${range(rs.map((r) => r.podsPerSecond), 0)} pods/s (${ratio((r) => r.podsPerSecond)}x);` +
      ` CPU per pod: managers ${range(rs.map((r) => r.managersMs), 2)} ms (${ratio((r) => r.managersMs)}x),` +
      ` per manager ${range(rs.flatMap((r) => r.perManagerMs), 2)} ms,` +
      ` Redis ${range(rs.map((r) => r.redisMs), 2)} ms (${ratio((r) => r.redisMs)}x),` +
      ` managers + Redis ${range(rs.map((r) => r.managersMs + r.redisMs), 2)} ms (${ratio((r) => r.managersMs + r.redisMs)}x)`,
  );
}
process.exit(0);
