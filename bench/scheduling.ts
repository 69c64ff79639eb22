// Scheduling throughput: N nodes, P pods, with 1, 2 and 4 scheduler processes. Nodes are written
// straight into the store (Ready, with allocatable), pods created through the store; the figure
// is pods bound per second from the first create to the last bind. Afterwards it checks, reading
// back from Redis, that no pod was bound twice (one Scheduled event per pod, the nodes' charged
// pod counts sum to the pods) and no node is overcommitted (charged cpu, memory and pods within
// allocatable, and equal to what the bound pods request). The load average is printed with each
// run, and the CPU each part used per pod (the schedulers, Redis, and this process creating the
// pods): on a 2-core machine their sum bounds the rate whatever the number of schedulers. Each
// scheduler's own CPU is shown with the pods it bound (the Scheduled events name their reporting
// instance), so that the work one scheduler does for the pods the others place shows. CPU is
// utime + stime of each process (/proc/<pid>/stat) and Redis' used_cpu_user + used_cpu_sys, from
// just before the first pod is created until the last bind and the schedulers' feed has handed
// every bound pod on to its node's queue (the work a bind causes): a shared, loaded machine slows the run
// but barely changes the CPU each pod costs, which is why the figures to compare are these.
// The schedulers' CPU is also split by thread (the main thread, V8's and libuv's helpers), and
// their main threads' own CPU by phase (deciding, sending binds, applying placements to the cache:
// wharf_scheduler_cpu_seconds_total, from each scheduler's metrics endpoint), which tells work
// that grew from the same work made dearer by sharing the cores.
// With rounds > 1 every count is run that many times, interleaved, and the summary gives ranges,
// ratios of the medians, and each round's ratios to its own base run.
//
//   node --import tsx bench/scheduling.ts [nodes=1000] [pods=30000] [schedulers=1,2,4] [rounds=1]
//   (WHARF_PROFILE_DIR=dir: the schedulers write V8 CPU profiles there, stopped with SIGTERM)
//   (SCHEDULER_NODE_FLAGS='--trace-gc ...': flags for the schedulers' node)
//   (FOLLOWERS=k: the last k schedulers of each run take no pods, WHARF_SCHEDULER_PODS=follow,
//   so their CPU per pod is what following the others' placements costs, measured alone)
//   (IDLE=s: each scheduler's CPU a second while idle for s seconds after the warm-up)
//   (HOST_PROBE=0: without the probe of the host's speed before and after each run, bench/host-speed.ts)
//   (PRINT_WINDOW=1, or WHARF_PROFILE_DIR: the measured window on CLOCK_MONOTONIC in µs, the clock
//   of V8's profiles and of `perf record -k CLOCK_MONOTONIC`, to cut the warm-up out of them)
import { randomBytes } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { Keys } from '../shared/keys.ts';
import { Store } from '../shared/store/store.ts';
import type { Pod } from '../shared/types.ts';
import { freePort, startRedis, startService, type ServiceHandle } from '../test/helpers/cluster.ts';
import { hostSpeedProbe } from './host-speed.ts';
import { commandCostLine, contextSwitches, processCpuSeconds, processCpuSplit, threadCpuSeconds, range, ratioOfMedians, redisCommandCosts, redisCpuSeconds, schedulingBenchNode } from './measure.ts';

const nodes = Number(process.argv[2] ?? 1000);
const pods = Number(process.argv[3] ?? 30000);
const schedulerCounts = (process.argv[4] ?? '1,2,4').split(',').map(Number);
const rounds = Number(process.argv[5] ?? 1);
// Pods each scheduler places before the measured ones (WARMUP per scheduler, default 2,000): a fresh
// process runs its first few thousand pods unoptimised (V8 compiles the hot paths as they warm, its
// heap settles), which is a cost per process, not per pod, and would make N schedulers of a fixed
// number of pods look dearer per pod than they are in a long-running cluster. With 500, four
// schedulers' helper threads (compilation, collection) spent twice one's a pod at 5,000 nodes /
// 10,000 pods; with 2,000, less than one's (README, "How scheduling scales").
const warmupPerScheduler = Number(process.env.WARMUP ?? 2000);
// CREATE_RATE=pods/s: pods created no faster than that (default: as fast as this process can),
// to see what a scheduler's pod costs when its bursts are small rather than backlogged.
const createRate = Number(process.env.CREATE_RATE ?? 0);
const followers = Number(process.env.FOLLOWERS ?? 0);
// IDLE=s: before the measured pods, each scheduler's CPU while idle for s seconds (its cost per process, not per pod).
const idleSeconds = Number(process.env.IDLE ?? 0);
const createChunk = createRate ? Math.max(1, Math.min(200, Math.round(createRate / 50))) : 200;

function pod(i: number, prefix = 'bench'): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${prefix}-${i}`, namespace: 'default', labels: { app: 'bench' } },
    spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '100m', memory: '128Mi' } } }], restartPolicy: 'Always', schedulerName: 'default-scheduler' },
    status: { phase: 'Pending' },
  };
}

/** A scheduler's counted main-thread CPU by phase (wharf_scheduler_cpu_seconds_total and its items), from its metrics endpoint. */
async function cpuPhases(port: number): Promise<Map<string, { seconds: number; items: number }>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const phases = new Map<string, { seconds: number; items: number }>();
  // Bursts are counted as items of a phase of their own (no seconds).
  for (const m of text.matchAll(/^wharf_scheduler_bursts_total ([\d.e+-]+)$/gm)) phases.set('bursts', { seconds: 0, items: Number(m[1]) });
  for (const m of text.matchAll(/^wharf_scheduler_cpu_(seconds|items)_total\{phase="(\w+)"\} ([\d.e+-]+)$/gm)) {
    const entry = phases.get(m[2]) ?? { seconds: 0, items: 0 };
    entry[m[1] === 'seconds' ? 'seconds' : 'items'] = Number(m[3]);
    phases.set(m[2], entry);
  }
  return phases;
}

/** Waits until a consumer group has been handed every entry of the stream and acknowledged them; returns the seconds it took. */
async function drained(connection: Redis, stream: string, group: string): Promise<number> {
  const started = Date.now();
  for (;;) {
    const groups = (await connection.xinfo('GROUPS', stream)) as unknown[][];
    const fields = groups.map((flat) => new Map(Array.from({ length: flat.length / 2 }, (_, i) => [String(flat[2 * i]), flat[2 * i + 1]])));
    const info = fields.find((f) => f.get('name') === group);
    if (info && Number(info.get('lag')) === 0 && Number(info.get('pending')) === 0) return (Date.now() - started) / 1000;
    if (Date.now() - started > 300_000) throw new Error(`the ${group} group did not drain ${stream} in 5 minutes`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface RunResult {
  podsPerSecond: number;
  seconds: number;
  /** CPU ms per pod (of all the pods): all schedulers, Redis, the bench creating the pods. */
  schedulersMs: number;
  redisMs: number;
  creatingMs: number;
  /** Per scheduler: its CPU ms per pod of all pods, and the share of the pods it bound. */
  perScheduler: { cpuMs: number; bound: number }[];
}

async function run(schedulers: number): Promise<RunResult> {
  const redis = await startRedis();
  const prefix = `b${randomBytes(3).toString('hex')}`;
  const connection = new Redis(redis.url);
  const store = new Store(connection, new Keys(prefix), 100_000);
  const env = { REDIS_URL: redis.url, WHARF_KEY_PREFIX: prefix, WHARF_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', WHARF_SCHEDULER_CONCURRENCY: '32',
    // The history this process's store keeps too: the schedulers' binds trim the pods' stream to
    // their own setting (20,000 by default), and a feed that lags that far on a loaded machine
    // resyncs with a list of every pod, one script that blocks Redis for seconds at 30,000 pods.
    WHARF_WATCH_HISTORY: '100000',
    // SCHEDULER_NODE_FLAGS: V8 and Node flags for the schedulers alone (e.g. --trace-gc).
    WHARF_NODE_FLAGS: process.env.SCHEDULER_NODE_FLAGS ?? '' };
  const services: ServiceHandle[] = [];
  /** Pods charged to the nodes, summed over the nodes' usage hashes. */
  const boundPods = async () => {
    let total = 0;
    for (let n = 0; n < nodes; n += 500) {
      const pipeline = connection.pipeline();
      for (let k = n; k < Math.min(nodes, n + 500); k++) pipeline.hget(`${prefix}:nodeusage:node-${k}`, 'used.pods');
      for (const [, v] of (await pipeline.exec()) ?? []) total += Number(v ?? 0);
    }
    return total;
  };
  try {
    await store.create('namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } });
    // No controller manager runs here to make it, and pod admission looks the account up (as Kubernetes' ServiceAccount plugin).
    await store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'default', namespace: 'default' }, automountServiceAccountToken: false } as any);
    for (let i = 0; i < nodes; i += 100) {
      await Promise.all(Array.from({ length: Math.min(100, nodes - i) }, (_, j) => store.create('nodes', schedulingBenchNode(`node-${i + j}`))));
    }
    const takers = Math.max(1, schedulers - followers);
    const metricsPorts: number[] = [];
    for (let i = 0; i < schedulers; i++) {
      metricsPorts.push(await freePort());
      services.push(startService('scheduler', { ...env, WHARF_SCHEDULER_PODS: i < takers ? 'take' : 'follow', WHARF_SCHEDULER_METRICS_PORT: String(metricsPorts[i]) }, `bench-scheduler-${i}`));
    }
    // Every scheduler started (its cache synced, its feed reading) before the first pod is created.
    for (const deadline = Date.now() + 60_000; ; ) {
      const started = services.filter((s) => s.logs().includes('scheduler started')).length;
      if (started === schedulers) break;
      if (Date.now() > deadline) throw new Error(`only ${started} of ${schedulers} schedulers started`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const warmup = warmupPerScheduler * takers;
    for (let i = 0; i < warmup; i += 200) {
      await Promise.all(Array.from({ length: Math.min(200, warmup - i) }, (_, j) => store.create('pods', pod(i + j, 'warmup'))));
    }
    while ((await boundPods()) < warmup) await new Promise((r) => setTimeout(r, 200));
    if (idleSeconds) {
      // What a scheduler costs doing nothing (its timers, renewals, blocked reads, idle
      // collection): paid per process per second, so N of them pay it N times over a run.
      await new Promise((r) => setTimeout(r, 2000));
      const before = services.map((s) => processCpuSeconds(s.child.pid!));
      const redisBefore = await redisCpuSeconds(connection);
      await new Promise((r) => setTimeout(r, idleSeconds * 1000));
      const perSecond = services.map((s, i) => ((processCpuSeconds(s.child.pid!) - before[i]) * 1000) / idleSeconds);
      console.log(`    idle for ${idleSeconds} s after the warm-up: each scheduler ${perSecond.map((v) => v.toFixed(1)).join(', ')} ms of CPU a second, Redis ${((((await redisCpuSeconds(connection)) - redisBefore) * 1000) / idleSeconds).toFixed(1)} ms a second`);
    }
    await connection.config('RESETSTAT');
    const started = Date.now();
    const monotonicStart = process.hrtime.bigint() / 1000n;
    const cpuAtStart = { bench: process.cpuUsage(), redis: await redisCpuSeconds(connection), schedulers: services.map((s) => processCpuSplit(s.child.pid!)), switches: services.map((s) => contextSwitches(s.child.pid!)), threads: services.map((s) => threadCpuSeconds(s.child.pid!)), phases: await Promise.all(metricsPorts.map(cpuPhases)) };
    let createdSeconds = 0;
    const creating = (async () => {
      for (let i = 0; i < pods; i += createChunk) {
        await Promise.all(Array.from({ length: Math.min(createChunk, pods - i) }, (_, j) => store.create('pods', pod(i + j))));
        if (createRate) await new Promise((r) => setTimeout(r, Math.max(0, started + ((i + createChunk) * 1000) / createRate - Date.now())));
      }
      createdSeconds = (Date.now() - started) / 1000;
    })();
    let bound = 0;
    while (bound < pods) {
      await new Promise((r) => setTimeout(r, 500));
      bound = (await boundPods()) - warmup;
      if (Date.now() - started > 600_000) throw new Error(`only ${bound} of ${pods} bound after 10 minutes`);
    }
    await creating;
    const seconds = (Date.now() - started) / 1000;
    // The work the binds cause is part of each pod's cost: the schedulers' feed hands every bound
    // pod to its node's queue. A scheduler that runs behind (one, backlogged) has not done that for
    // the last pods yet when they are bound; the CPU is read once its feed has drained.
    const drainedAfter = await drained(connection, new Keys(prefix).stream('pods'), 'scheduler');
    const benchCpu = process.cpuUsage(cpuAtStart.bench);
    if (process.env.WHARF_PROFILE_DIR || process.env.PRINT_WINDOW) console.log(`    profiles' measured window (monotonic µs): ${monotonicStart} ${process.hrtime.bigint() / 1000n}`);
    const schedulersCpu = services.map((s, i) => {
      const now = processCpuSplit(s.child.pid!);
      return { user: now.user - cpuAtStart.schedulers[i].user, system: now.system - cpuAtStart.schedulers[i].system };
    });
    const perSchedulerCpuMs = schedulersCpu.map((c) => ((c.user + c.system) * 1000) / pods);
    const switches = services.map((s, i) => {
      const now = contextSwitches(s.child.pid!);
      return { voluntary: now.voluntary - cpuAtStart.switches[i].voluntary, involuntary: now.involuntary - cpuAtStart.switches[i].involuntary };
    });
    // The schedulers' CPU by thread: the main thread (the event loop, and the pauses of garbage
    // collection) and V8's and libuv's helpers (parallel and concurrent collection, compilation).
    const byThread = new Map<string, number>();
    services.forEach((s, i) => {
      for (const [name, seconds] of threadCpuSeconds(s.child.pid!)) byThread.set(name, (byThread.get(name) ?? 0) + seconds - (cpuAtStart.threads[i].get(name) ?? 0));
    });
    // The main threads' CPU in the phases the schedulers count (wharf_scheduler_cpu_seconds_total):
    // the same work costs the same there unless the work itself got dearer (the thread's own
    // CPU, not the time others held the core).
    const phaseAtEnd = await Promise.all(metricsPorts.map(cpuPhases));
    const phaseTotals = new Map<string, { seconds: number; items: number }>();
    phaseAtEnd.forEach((end, i) => {
      for (const [phase, v] of end) {
        const t = phaseTotals.get(phase) ?? { seconds: 0, items: 0 };
        const start = cpuAtStart.phases[i].get(phase) ?? { seconds: 0, items: 0 };
        phaseTotals.set(phase, { seconds: t.seconds + v.seconds - start.seconds, items: t.items + v.items - start.items });
      }
    });
    const schedulersSystemMs = schedulersCpu.reduce((sum, c) => sum + (c.system * 1000) / pods, 0);
    const cpuMsPerPod = {
      schedulers: perSchedulerCpuMs.reduce((a, b) => a + b, 0),
      redis: (((await redisCpuSeconds(connection)) - cpuAtStart.redis) * 1000) / pods,
      creating: (benchCpu.user + benchCpu.system) / 1000 / pods,
    };
    const redisCommands = await redisCommandCosts(connection);
    // Correctness, read back from Redis: every pod bound exactly once, no node over its allocatable.
    const listed = await store.list<Pod>('pods', 'default');
    const unbound = listed.items.filter((p) => !p.spec.nodeName).length;
    const perNode = new Map<string, number>();
    for (const p of listed.items) if (p.spec.nodeName) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
    const events = await store.list<any>('events', 'default');
    const scheduled = new Map<string, number>();
    const boundBy = new Map<string, number>();
    for (const e of events.items) {
      if (e.reason !== 'Scheduled') continue;
      scheduled.set(e.involvedObject.name, (scheduled.get(e.involvedObject.name) ?? 0) + (e.count ?? 1));
      if (e.involvedObject.name.startsWith('bench-')) boundBy.set(e.reportingInstance, (boundBy.get(e.reportingInstance) ?? 0) + 1);
    }
    // A scheduler's instance name ends in its pid.
    const perScheduler = services.map((s, i) => ({ cpuMs: perSchedulerCpuMs[i], bound: [...boundBy].filter(([instance]) => instance.endsWith(`-${s.child.pid}`)).reduce((sum, [, n]) => sum + n, 0) }));
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
    if (unbound || over || twice || mismatched || charged !== pods + warmup || scheduled.size !== pods + warmup) {
      throw new Error(`${unbound} unbound pods, ${twice} bound twice, ${over} overcommitted nodes, ${mismatched} nodes charged other than their pods, ${charged} charged of ${pods + warmup}, ${scheduled.size} pods with a Scheduled event`);
    }
    // What bounds the rate: the cores all parts kept busy, and whether binding kept up with creation.
    const coresBusy = ((cpuMsPerPod.schedulers + cpuMsPerPod.redis + cpuMsPerPod.creating) * pods) / 1000 / seconds;
    console.log(`    CPU per pod: schedulers ${cpuMsPerPod.schedulers.toFixed(2)} ms (${schedulersSystemMs.toFixed(2)} of it in the kernel), Redis ${cpuMsPerPod.redis.toFixed(2)} ms, creating the pods (this process) ${cpuMsPerPod.creating.toFixed(2)} ms; ${coresBusy.toFixed(2)} of ${cpus().length} cores busy`);
    console.log(`    per scheduler (CPU ms per pod of all ${pods}; pods it bound; its CPU per pod it bound): ${perScheduler.map((p) => `${p.cpuMs.toFixed(3)} ms, ${p.bound} pods, ${p.bound ? ((p.cpuMs * pods) / p.bound).toFixed(2) : '-'} ms`).join(' | ')}`);
    console.log(`    schedulers' CPU ms per pod by thread: ${[...byThread].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1]).map(([name, v]) => `${name} ${((v * 1000) / pods).toFixed(3)}`).join(', ')}`);
    const bursts = phaseTotals.get('bursts')?.items ?? 0;
    phaseTotals.delete('bursts');
    console.log(`    schedulers' bursts: ${bursts}, ${bursts ? ((phaseTotals.get('decide')?.items ?? 0) / bursts).toFixed(1) : '-'} pods a burst`);
    console.log(`    schedulers' main threads by phase (µs of CPU an item; ms a pod of all): ${[...phaseTotals].map(([phase, v]) => `${phase} ${v.items ? ((v.seconds * 1e6) / v.items).toFixed(1) : '-'} µs x ${v.items} (${((v.seconds * 1000) / pods).toFixed(3)} ms)`).join(', ')}`);
    console.log(`    schedulers' context switches per pod: ${(switches.reduce((a, w) => a + w.voluntary, 0) / pods).toFixed(2)} voluntary (waiting), ${(switches.reduce((a, w) => a + w.involuntary, 0) / pods).toFixed(2)} involuntary (preempted)`);
    console.log(`    Redis µs per pod by command: ${commandCostLine(redisCommands, pods)}`);
    console.log(`    all pods created after ${createdSeconds.toFixed(1)} s, the last bound ${(seconds - createdSeconds).toFixed(1)} s later, the schedulers' feed drained ${drainedAfter.toFixed(1)} s after that`);
    console.log(`    checked: ${pods} pods and ${warmup} warm-up pods bound once each (${scheduled.size} Scheduled events, none twice), ${charged} charged, 0 of ${nodes} nodes overcommitted; load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    return { podsPerSecond: pods / seconds, seconds, schedulersMs: cpuMsPerPod.schedulers, redisMs: cpuMsPerPod.redis, creatingMs: cpuMsPerPod.creating, perScheduler };
  } finally {
    await Promise.all(services.map((s) => s.kill(process.env.WHARF_PROFILE_DIR ? 'SIGTERM' : 'SIGKILL')));
    connection.disconnect();
    await redis.stop();
  }
}

console.log(`scheduling ${pods} pods onto ${nodes} nodes (requests 100m/128Mi; nodes 32 cpu, 256Gi, 110 pods), ${rounds} round(s); load ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
const results = new Map<number, RunResult[]>(schedulerCounts.map((s) => [s, []]));
// The host's speed around each run (µs of the probe's work): a run whose probes differ much, or
// differ from the other runs', ran on a host of another speed. Not used to correct the figures:
// the host's speed changes within seconds (an idle probe every 2 s: 87-179 µs), so two probes
// cannot say what it was through a run.
const probes: number[] = [];
const probe = process.env.HOST_PROBE === '0' ? undefined : hostSpeedProbe();
for (let round = 0; round < rounds; round++) {
  for (const s of schedulerCounts) {
    const before = probe?.();
    const r = await run(s);
    const after = probe?.();
    results.get(s)!.push(r);
    if (before !== undefined && after !== undefined) probes.push(before, after);
    const speed = before === undefined ? '' : `; the host probe ${before.toFixed(1)} µs before, ${after!.toFixed(1)} after`;
    console.log(`  ${s} scheduler(s): ${r.podsPerSecond.toFixed(0)} pods/s (${r.seconds.toFixed(1)} s)${speed}`);
  }
}
const base = results.get(schedulerCounts[0])!;
console.log(`summary (${rounds} round(s); ranges over rounds; ratios of medians to ${schedulerCounts[0]} scheduler(s)):`);
for (const [s, rs] of results) {
  const ratio = (pick: (r: RunResult) => number) => ratioOfMedians(rs, base, pick);
  console.log(
    `  ${s} scheduler(s): ${range(rs.map((r) => r.podsPerSecond), 0)} pods/s (${ratio((r) => r.podsPerSecond)}x);` +
      ` CPU per pod: schedulers ${range(rs.map((r) => r.schedulersMs), 2)} ms (${ratio((r) => r.schedulersMs)}x),` +
      ` per scheduler ${range(rs.flatMap((r) => r.perScheduler.map((p) => p.cpuMs)), 2)} ms,` +
      ` Redis ${range(rs.map((r) => r.redisMs), 2)} ms (${ratio((r) => r.redisMs)}x),` +
      ` schedulers + Redis ${range(rs.map((r) => r.schedulersMs + r.redisMs), 2)} ms (${ratio((r) => r.schedulersMs + r.redisMs)}x),` +
      ` creating ${range(rs.map((r) => r.creatingMs), 2)} ms;` +
      // The host's speed drifts between rounds more than between the runs of one round: each
      // round's own ratios, schedulers' CPU and throughput, against the same round's base run.
      ` each round against its own ${schedulerCounts[0]}: ${rs.map((r, i) => `${(r.schedulersMs / base[i].schedulersMs).toFixed(2)}x CPU, ${(r.podsPerSecond / base[i].podsPerSecond).toFixed(2)}x pods/s`).join('; ')}`,
  );
}
if (probes.length) console.log(`the host probe (bench/host-speed.ts) before and after the runs: ${range(probes, 1)} µs`);
const best = Math.max(...[...results.values()].flat().map((r) => r.podsPerSecond));
console.log(`reference: Kubernetes scheduler_perf asks >= 270 pods/s for 5000 nodes / 10000 pods; best here ${best.toFixed(0)} pods/s = ${(best / 270).toFixed(1)}x; load now ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
process.exit(0);
