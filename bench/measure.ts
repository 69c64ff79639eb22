// What the scale-out benchmarks (scheduling.ts, controllers.ts) read of the processes they run and
// of Redis, and how they summarise rounds.
import { readdirSync, readFileSync } from 'node:fs';
import type { Redis } from 'ioredis';
import type { Node, Pod } from '../shared/types.ts';

/** The user and kernel CPU seconds a process has used (utime, stime from /proc). */
export function processCpuSplit(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

/** CPU seconds (user + system) of each of the process's threads, summed by the thread's name (the main thread is the one named like the process). */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      byName.set(name, (byName.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return byName;
}

export function processCpuSeconds(pid: number): number {
  const { user, system } = processCpuSplit(pid);
  return user + system;
}

/** Times the process's main thread gave up the CPU waiting (voluntary) and was made to (involuntary, preempted). */
export function contextSwitches(pid: number): { voluntary: number; involuntary: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`${name}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { voluntary: field('voluntary_ctxt_switches'), involuntary: field('nonvoluntary_ctxt_switches') };
}

export async function redisCpuSeconds(connection: Redis): Promise<number> {
  const info = await connection.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return field('used_cpu_user') + field('used_cpu_sys');
}

/** Redis' own accounting of where its time went (since the measured window's CONFIG RESETSTAT), dearest first. */
export async function redisCommandCosts(connection: Redis): Promise<{ name: string; calls: number; usec: number }[]> {
  const info = await connection.info('commandstats');
  return [...info.matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g)].map((m) => ({ name: m[1], calls: Number(m[2]), usec: Number(m[3]) })).sort((a, b) => b.usec - a.usec);
}

/** The dearest commands (BENCH_COMMANDS of them, 8 by default) as µs and calls per unit of work. */
export function commandCostLine(commands: { name: string; calls: number; usec: number }[], units: number): string {
  return commands.slice(0, Number(process.env.BENCH_COMMANDS ?? 8)).map((c) => `${c.name} ${(c.usec / units).toFixed(1)} (${(c.calls / units).toFixed(2)} calls)`).join(', ');
}

/** "lo-hi" of values over rounds (one value when they agree). */
export function range(values: number[], digits: number): string {
  const [lo, hi] = [Math.min(...values), Math.max(...values)];
  return lo === hi ? lo.toFixed(digits) : `${lo.toFixed(digits)}-${hi.toFixed(digits)}`;
}

/** The median of rounds (the lower of the middle two). */
export function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
}

/** The ratio of one count's median to the base count's, as the summaries print it. */
export function ratioOfMedians<R>(rounds: R[], base: R[], pick: (r: R) => number): string {
  return (median(rounds.map(pick)) / median(base.map(pick))).toFixed(2);
}

/** The scheduling benchmarks' node: Ready, 32 cores, 256 GiB, 110 pods, labelled as kwok's. */
export function schedulingBenchNode(name: string): Node {
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

/** The scheduling benchmarks' pod as the scheduler's cache holds it: 100m CPU and 128Mi requested, unbound unless given a node. */
export function schedulingBenchPod(name: string, uid: string, resourceVersion: string, nodeName?: string): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid, labels: { app: 'bench' }, resourceVersion, creationTimestamp: '2026-12-04T10:00:00Z' },
    spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '100m', memory: '128Mi' } } }], ...(nodeName ? { nodeName } : {}) },
    status: { phase: 'Pending' },
  };
}
