// Side by side on one Docker engine: how long until N replicas of the same small image are running
// — raw `docker run` in parallel (the floor; also on a user-defined bridge network, which every pod
// joins and which costs the engine more than its default bridge), Docker Swarm's `docker service create --replicas N`,
// and Wharf applying a Deployment (API server, scheduler, controller manager, one Docker node
// agent, each its own process). A pod is two containers to the engine (the sandbox holding the
// network namespace, and the app container joining it, as the kubelet's pause container), so the
// engine's floor for pods with a sandbox is measured too: N such pairs started in parallel straight through the
// Docker API. Then Wharf's pod start-up latency, as Kubernetes' SLO measures it: from a pod's
// creation to all its containers running, per pod, p50/p99, beside that floor for the same N.
// Wharf runs twice, with every pod in a sandbox (WHARF_POD_SANDBOX=always, as the kubelet) and
// with one-container pods holding their own network (auto, the default: one container start per
// pod). Cold start, each way: one container or pod from the create call to running — `docker run`
// of the container, a one-replica Swarm service, one Wharf Pod — median of 3.
//
//   node --import tsx bench/side-by-side.ts [sizes=10,30,60]
//
// Needs a Docker engine, redis-server and the local busybox image (bash test/images/build.sh).
// Swarm is initialised for the run (single node, this machine) and left again if this script started it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadavg } from 'node:os';
import Docker from 'dockerode';
import { startCluster, eventually, type Cluster } from '../test/helpers/cluster.ts';
import { dockerNode, removeDockerNode } from '../test/helpers/docker-node.ts';

const run = promisify(execFile);
const docker = new Docker();
const sizes = (process.argv[2] ?? '10,30,60').split(',').map(Number);
const IMAGE = 'busybox:latest';
const LABEL = 'io.wharf.bench';

async function waitGone(filter: Record<string, string[]>): Promise<void> {
  for (;;) {
    const left = await docker.listContainers({ all: true, filters: filter });
    if (!left.length) return;
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined)));
  }
}

/** N containers at once; on a user-defined bridge network (what every pod joins) when given one, else Docker's default bridge. */
async function dockerRun(n: number, network?: string): Promise<number> {
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const c = await docker.createContainer({ Image: IMAGE, Cmd: ['sleep', '3600'], name: `bench-raw-${i}`, Labels: { [LABEL]: 'raw' }, ...(network ? { HostConfig: { NetworkMode: network } } : {}) });
    await c.start();
  }));
  const seconds = (performance.now() - started) / 1000;
  await waitGone({ label: [`${LABEL}=raw`] });
  return seconds;
}

/** N sandbox + app pairs, each sandbox on a user network and its app in the sandbox's network namespace. */
async function dockerRunPairs(n: number): Promise<number> {
  const network = `wharf-bench-pairs-${process.pid}`;
  await docker.createNetwork({ Name: network, Labels: { [LABEL]: 'pairs' } }).catch(() => undefined);
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, async (_, i) => {
    const sandbox = await docker.createContainer({ Image: IMAGE, Cmd: ['sleep', '3600'], name: `bench-sandbox-${i}`, Labels: { [LABEL]: 'pairs' }, HostConfig: { NetworkMode: network } });
    await sandbox.start();
    const app = await docker.createContainer({ Image: IMAGE, Cmd: ['sleep', '3600'], name: `bench-app-${i}`, Labels: { [LABEL]: 'pairs' }, HostConfig: { NetworkMode: `container:${sandbox.id}` } });
    await app.start();
  }));
  const seconds = (performance.now() - started) / 1000;
  await waitGone({ label: [`${LABEL}=pairs`] });
  await docker.getNetwork(network).remove().catch(() => undefined);
  return seconds;
}

async function swarm(n: number): Promise<number> {
  const started = performance.now();
  await run('docker', ['service', 'create', '--detach', '--no-resolve-image', '--name', 'wharf-bench', '--replicas', String(n), IMAGE, 'sleep', '3600']);
  await eventually(async () => {
    const { stdout } = await run('docker', ['service', 'ps', 'wharf-bench', '--filter', 'desired-state=running', '--format', '{{.CurrentState}}']);
    return stdout.split('\n').filter((l) => l.startsWith('Running')).length === n;
  }, { timeoutMs: 300_000, intervalMs: 100, message: `swarm ${n} running` });
  const seconds = (performance.now() - started) / 1000;
  await run('docker', ['service', 'rm', 'wharf-bench']);
  await waitGone({ label: ['com.docker.swarm.service.name=wharf-bench'] });
  return seconds;
}

/** A create, tried again while the API answers 5xx (a store slow to answer on a saturated machine). */
async function create(cluster: Cluster, path: string, body: unknown): Promise<void> {
  for (let i = 0; ; i++) {
    const res = await cluster.api.post(path, body);
    if (res.status === 201) return;
    if (res.status < 500 || i >= 20) throw new Error(JSON.stringify(res.body));
    await new Promise((r) => setTimeout(r, 500));
  }
}

function deployment(name: string, replicas: number) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: IMAGE, command: ['sleep', '3600'] }] },
      },
    },
  };
}

const running = (p: any) => p.status?.phase === 'Running' && (p.status.containerStatuses ?? []).every((c: any) => c.state?.running);

async function wharf(cluster: Cluster, n: number): Promise<{ seconds: number; startup: number[] }> {
  const name = `bench-${n}`;
  const created = new Map<string, number>();
  const runningAt = new Map<string, number>();
  const started = performance.now();
  await create(cluster, '/apis/apps/v1/namespaces/default/deployments', deployment(name, n));
  // Poll often: each pod's "first seen" and "running" moments give its start-up latency (upper bound by the poll period).
  await eventually(async () => {
    const pods = (await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${name}`)).body.items as any[];
    const now = performance.now();
    for (const p of pods) {
      if (!created.has(p.metadata.name)) created.set(p.metadata.name, now);
      if (!runningAt.has(p.metadata.name) && running(p)) runningAt.set(p.metadata.name, now);
    }
    return runningAt.size >= n;
  }, { timeoutMs: 300_000, intervalMs: 50, message: `wharf ${n} running` });
  const seconds = (performance.now() - started) / 1000;
  const startup = [...runningAt].map(([pod, at]) => (at - (created.get(pod) ?? started)) / 1000).sort((a, b) => a - b);
  await cluster.api.delete(`/apis/apps/v1/namespaces/default/deployments/${name}`);
  await eventually(async () => ((await cluster.api.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${name}`)).body.items as any[]).length === 0, { timeoutMs: 120_000, message: 'pods gone' });
  return { seconds, startup };
}

/** One Pod (the Deployment's pod template), from its create call to all its containers running. */
async function wharfColdStart(cluster: Cluster): Promise<number> {
  const name = `cold-${Math.random().toString(36).slice(2, 8)}`;
  const started = performance.now();
  await create(cluster, '/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: deployment(name, 1).spec.template.spec });
  await eventually(async () => running((await cluster.api.get(`/api/v1/namespaces/default/pods/${name}`)).body), { timeoutMs: 60_000, intervalMs: 10, message: 'cold pod running' });
  const seconds = (performance.now() - started) / 1000;
  await cluster.api.delete(`/api/v1/namespaces/default/pods/${name}`);
  await eventually(async () => (await cluster.api.get(`/api/v1/namespaces/default/pods/${name}`)).status === 404, { timeoutMs: 60_000, message: 'cold pod gone' });
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Waits until the node has no containers left and the 1-minute load is under 1.5 (at most 3 minutes: the load average decays over about a minute). */
async function quietEngine(nodeName: string): Promise<void> {
  await eventually(async () => (await docker.listContainers({ all: true, filters: { label: [`io.wharf.node=${nodeName}`] } })).length === 0, { timeoutMs: 120_000, message: 'wharf containers removed' });
  const deadline = performance.now() + 180_000;
  while (loadavg()[0] > 1.5 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1000));
}

const pct = (xs: number[], p: number) => xs[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];

async function main() {
  const info = await docker.info();
  let startedSwarm = false;
  if (info.Swarm?.LocalNodeState !== 'active') {
    // Swarm refuses a loopback advertise address; the engine picks this machine's own.
    await run('docker', ['swarm', 'init']);
    startedSwarm = true;
  }
  // What an interrupted earlier run may have left behind.
  await run('docker', ['service', 'rm', 'wharf-bench']).catch(() => undefined);
  await waitGone({ label: ['com.docker.swarm.service.name=wharf-bench'] });
  await waitGone({ label: [LABEL] });
  const cold: Record<string, number> = {};
  const replicas = new Map<number, Record<string, number>>();
  try {
    // One warm-up of each, so image layers and networks exist before anything is timed.
    await dockerRun(2);
    await dockerRunPairs(2);
    await swarm(2);
    cold.docker = median([await dockerRun(1), await dockerRun(1), await dockerRun(1)]);
    const userNetwork = `wharf-bench-net-${process.pid}`;
    await docker.createNetwork({ Name: userNetwork, Labels: { [LABEL]: 'net' } });
    cold.dockerNet = median([await dockerRun(1, userNetwork), await dockerRun(1, userNetwork), await dockerRun(1, userNetwork)]);
    cold.swarm = median([await swarm(1), await swarm(1), await swarm(1)]);
    for (const n of sizes) replicas.set(n, { docker: await dockerRun(n), dockerNet: await dockerRun(n, userNetwork), pairs: await dockerRunPairs(n), swarm: await swarm(n) });
    await docker.getNetwork(userNetwork).remove().catch(() => undefined);
    for (const sandbox of ['always', 'auto']) {
      const mode = sandbox === 'always' ? 'sandbox' : 'no sandbox';
      const node = dockerNode('bench', { WHARF_POD_SANDBOX: sandbox });
      const cluster = await startCluster({ agents: [{ ...node.env, WHARF_LOG_LEVEL: 'warn' }], env: { WHARF_LOG_LEVEL: 'warn' } });
      try {
        await eventually(async () => (await cluster.api.get(`/api/v1/nodes/${node.name}`)).status === 200, { timeoutMs: 20_000, message: 'node registered' });
        await wharf(cluster, 2);
        const colds: number[] = [];
        for (let i = 0; i < 3; i++) colds.push(await wharfColdStart(cluster));
        cold[mode] = median(colds);
        for (const n of sizes) {
          const wh = await wharf(cluster, n);
          const r = replicas.get(n)!;
          r[mode] = wh.seconds;
          const row = `${mode.padEnd(8)} N=${String(n).padStart(3)}  docker run ${r.docker!.toFixed(2)} s (on a user network ${r.dockerNet!.toFixed(2)} s) | pairs ${r.pairs!.toFixed(2)} s | swarm ${r.swarm!.toFixed(2)} s (${(r.swarm! / r.docker!).toFixed(2)}x) | wharf ${wh.seconds.toFixed(2)} s (${(wh.seconds / r.docker!).toFixed(2)}x docker run, ${(wh.seconds / r.pairs!).toFixed(2)}x pairs, ${(wh.seconds / r.swarm!).toFixed(2)}x swarm) | wharf pod start-up p50 ${pct(wh.startup, 50).toFixed(2)} s p99 ${pct(wh.startup, 99).toFixed(2)} s  [load ${loadavg()[0].toFixed(2)}]`;
          console.log(row);
        }
        console.log(`cold start (${mode}): one pod created -> Running ${cold[mode]!.toFixed(3)} s (runs ${colds.map((c) => c.toFixed(3)).join(', ')}); docker run ${cold.docker!.toFixed(3)} s (on a user network ${cold.dockerNet!.toFixed(3)} s), swarm 1 replica ${cold.swarm!.toFixed(3)} s  [load ${loadavg()[0].toFixed(2)}]`);
        // Pod start-up latency at the sizes Kubernetes' SLO discussion uses, each on an engine that
        // has finished the step before: its containers gone, and the load left behind by removing them spent.
        if (process.env.BENCH_SLO !== '0') {
          for (const n of [1, 10, 50]) {
            await quietEngine(node.name);
            const floor = await dockerRunPairs(n);
            const { startup } = await wharf(cluster, n);
            console.log(`pod start-up, ${n} pods at once: p50 ${pct(startup, 50).toFixed(2)} s, p99 ${pct(startup, 99).toFixed(2)} s, max ${startup[startup.length - 1].toFixed(2)} s; the engine starting ${n} sandbox + app pairs directly: ${floor.toFixed(2)} s  [load ${loadavg()[0].toFixed(2)}]`);
          }
        }
      } finally {
        await cluster.stop();
        await removeDockerNode(node, docker);
      }
    }
    console.log(`\nsummary: cold start docker run ${cold.docker!.toFixed(3)} s | on a user network ${cold.dockerNet!.toFixed(3)} s | swarm ${cold.swarm!.toFixed(3)} s | wharf with sandbox ${cold.sandbox!.toFixed(3)} s | wharf without ${cold['no sandbox']!.toFixed(3)} s`);
    for (const [n, r] of replicas) console.log(`summary: N=${n} docker run ${r.docker!.toFixed(2)} s | on a user network ${r.dockerNet!.toFixed(2)} s | pairs ${r.pairs!.toFixed(2)} s | swarm ${r.swarm!.toFixed(2)} s | wharf with sandbox ${r.sandbox?.toFixed(2)} s (${(r.sandbox! / r.docker!).toFixed(2)}x docker run) | wharf without ${r['no sandbox']?.toFixed(2)} s (${(r['no sandbox']! / r.docker!).toFixed(2)}x docker run, ${(r['no sandbox']! / r.swarm!).toFixed(2)}x swarm)`);
  } finally {
    if (startedSwarm) await run('docker', ['swarm', 'leave', '--force']).catch(() => undefined);
  }
}

await main();
