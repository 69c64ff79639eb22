// What measuring resource usage costs a node: N pods (default 100) on this machine's Docker engine,
// each a sandbox and an app container labelled as the node agent labels them, and the agent's own
// collector (services/node-agent/usage-collector.ts) run over them pass after pass — list the
// node's containers, read the app containers' counters, write the samples to a real Redis. The
// CPU it takes is measured in this process (process.cpuUsage) and in dockerd (its /proc stat), and
// given as a share of one core at the default 15 s period and at 1 s. Once with the cgroup files
// (the default where they are readable), once with the engine's one-shot stats (the fallback).
//
//   node --import tsx bench/metrics-collection.ts [pods=100] [passes=20]
import Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { startRedis } from '../test/helpers/cluster.ts';
import { requireImages } from '../test/helpers/images.ts';
import { Keys } from '../shared/keys.ts';
import { createLogger } from '../shared/log.ts';
import { readPodUsage } from '../shared/resource-metrics.ts';
import { DockerRuntime } from '../services/node-agent/runtime/docker.ts';
import { CgroupStats } from '../services/node-agent/runtime/cgroup-stats.ts';
import { LABELS } from '../services/node-agent/runtime/types.ts';
import { UsageCollector } from '../services/node-agent/usage-collector.ts';

const pods = Number(process.argv[2] ?? 100);
const passes = Number(process.argv[3] ?? 20);
const docker = new Docker();
const node = `bench-metrics-${randomBytes(3).toString('hex')}`;
const IDLE = ['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 3600 & wait $!; done'];
const TICKS_PER_SECOND = 100; // USER_HZ

/** dockerd's CPU time so far (utime + stime), in seconds; undefined if its process is not visible here. */
function dockerdCpuSeconds(): number | undefined {
  try {
    const pid = readFileSync('/var/run/docker.pid', 'utf8').trim();
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

async function startPod(i: number): Promise<void> {
  const pod = { [LABELS.podNamespace]: 'bench', [LABELS.podName]: `p${i}`, [LABELS.podUid]: `uid-${node}-${i}`, [LABELS.node]: node, [LABELS.attempt]: '0' };
  const sandbox = await docker.createContainer({ Image: 'busybox:latest', Cmd: IDLE, Labels: { ...pod, [LABELS.containerName]: 'POD', [LABELS.role]: 'sandbox' }, HostConfig: { NetworkMode: 'none' } });
  await sandbox.start();
  const app = await docker.createContainer({ Image: 'busybox:latest', Cmd: IDLE, Labels: { ...pod, [LABELS.containerName]: 'app', [LABELS.role]: 'app' }, HostConfig: { NetworkMode: `container:${sandbox.id}` } });
  await app.start();
}

async function measure(label: string, runtime: DockerRuntime, redis: Redis, keys: Keys): Promise<void> {
  const collector = new UsageCollector({ nodeName: node, runtime, redis, keys, periodMs: 15_000, log: createLogger('bench', 'warn') });
  await collector.collect(); // the first pass fills the engine's inspect cache, as a running agent's is
  await collector.collect();
  const measured = (await readPodUsage(redis, keys, 'bench', 60_000)).length;
  if (measured !== pods) throw new Error(`${label}: ${measured} of ${pods} pods measured`);
  const cpu = process.cpuUsage();
  const dockerd = dockerdCpuSeconds();
  const started = performance.now();
  for (let i = 0; i < passes; i++) await collector.collect();
  const wallMs = (performance.now() - started) / passes;
  const used = process.cpuUsage(cpu);
  const agentMs = (used.user + used.system) / 1000 / passes;
  const dockerdAfter = dockerdCpuSeconds();
  const engineMs = dockerd !== undefined && dockerdAfter !== undefined ? ((dockerdAfter - dockerd) * 1000) / passes : undefined;
  const share = (ms: number, periodMs: number) => `${((ms / periodMs) * 100).toFixed(2)}%`;
  const total = agentMs + (engineMs ?? 0);
  console.log(`${label}: a pass over ${pods} pods takes ${wallMs.toFixed(1)} ms; CPU per pass: agent ${agentMs.toFixed(1)} ms` +
    (engineMs !== undefined ? ` + dockerd ${engineMs.toFixed(1)} ms` : ' (dockerd not visible)') +
    ` = ${share(total, 15_000)} of one core at the 15 s period (${share(total, 1_000)} at 1 s)`);
}

await requireImages(['busybox:latest']);
const redisServer = await startRedis({ prefix: 'bench' });
const redis = new Redis(redisServer.url);
const keys = new Keys('bench');
try {
  const t0 = performance.now();
  for (let i = 0; i < pods; i += 8) await Promise.all(Array.from({ length: Math.min(8, pods - i) }, (_, j) => startPod(i + j)));
  console.log(`${pods} pods (${pods * 2} containers) started in ${((performance.now() - t0) / 1000).toFixed(0)} s; ${passes} passes each`);
  const cgroups = new CgroupStats();
  const layout = await cgroups.detect();
  if (layout) {
    console.log(`cgroups: v${layout.version}`);
    await measure('cgroup files', new DockerRuntime({ docker, cgroups }), redis, keys);
  } else {
    console.log('cgroups: not readable here');
  }
  await measure('engine one-shot stats', new DockerRuntime({ docker }), redis, keys);
} finally {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${node}`] } });
  // App containers first: a sandbox cannot go while a container shares its network.
  for (const role of ['app', 'sandbox']) {
    await Promise.all(list.filter((c) => c.Labels[LABELS.role] === role).map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
  redis.disconnect();
  await redisServer.stop();
}
