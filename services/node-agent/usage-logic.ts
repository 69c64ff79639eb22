// From cumulative counters to the samples metrics.k8s.io serves: CPU as the rate between two
// readings of a container's counter (nanocores), memory as the working set at the later one. A
// container seen for the first time is measured from its start (its counter began at 0 then), so
// a new pod has figures after one pass rather than two. Pure, for unit tests.
import type { NodeUsage, PodUsage } from '../../shared/resource-metrics.ts';
import type { ObservedContainer, RawUsage } from './runtime/types.ts';

export interface Reading {
  /** When it was read (ms since the epoch). */
  at: number;
  usage: RawUsage;
}

/** The average rate between two readings, in nanocores, and the window in seconds; undefined if no time passed or the counter went back. */
export function cpuRate(before: Reading, after: Reading): { nanoCores: number; windowSeconds: number } | undefined {
  const seconds = (after.at - before.at) / 1000;
  const used = after.usage.cpuNanos - before.usage.cpuNanos;
  if (seconds <= 0 || used < 0) return undefined;
  return { nanoCores: Math.round(used / seconds), windowSeconds: seconds };
}

/**
 * The reading a container's counter started from: 0 when it started (or, when only a listing was
 * read, when it was made: Wharf starts each container it makes at once, and never restarts one).
 */
export function startReading(c: Pick<ObservedContainer, 'startedAt' | 'createdAt'>): Reading | undefined {
  const at = Date.parse(c.startedAt ?? c.createdAt);
  return Number.isFinite(at) ? { at, usage: { cpuNanos: 0, memoryWorkingSetBytes: 0 } } : undefined;
}

export interface PassResult {
  pods: PodUsage[];
  /** The readings to keep for the next pass, by container id. */
  readings: Map<string, Reading>;
}

/**
 * One pass over a node's running app containers: a pod's sample when every one of its running app
 * containers was read (as metrics-server leaves out a pod with a container it has no figures for).
 */
export function podSamples(node: string, containers: ObservedContainer[], read: Map<string, RawUsage>, previous: Map<string, Reading>, at: number): PassResult {
  const readings = new Map<string, Reading>();
  const byPod = new Map<string, ObservedContainer[]>();
  for (const c of containers) {
    if (c.role !== 'app' || c.state !== 'running') continue;
    byPod.set(c.pod.uid, [...(byPod.get(c.pod.uid) ?? []), c]);
  }
  const pods: PodUsage[] = [];
  for (const list of byPod.values()) {
    const measured: PodUsage['containers'] = [];
    let window = 0;
    for (const c of list.sort((a, b) => a.name.localeCompare(b.name))) {
      const usage = read.get(c.id);
      if (!usage) continue;
      const now: Reading = { at, usage };
      readings.set(c.id, now);
      const before = previous.get(c.id) ?? startReading(c);
      const rate = before && cpuRate(before, now);
      if (!rate) continue;
      window = Math.max(window, rate.windowSeconds);
      measured.push({ name: c.name, cpuNanoCores: rate.nanoCores, memoryBytes: usage.memoryWorkingSetBytes });
    }
    if (measured.length !== list.length) continue;
    const { namespace, name, uid } = list[0].pod;
    pods.push({ namespace, name, uid, node, timestamp: new Date(at).toISOString(), windowSeconds: Math.round(window * 1000) / 1000, containers: measured });
  }
  return { pods, readings };
}

/**
 * The node's sample: the machine's own figures where the runtime reads them (CPU once there are
 * two readings), else the sum of its pods'.
 */
export function nodeSample(node: string, pods: PodUsage[], host: Reading | undefined, previousHost: Reading | undefined, at: number, periodSeconds: number): NodeUsage {
  const sum = (f: (c: PodUsage['containers'][number]) => number) => pods.reduce((n, p) => n + p.containers.reduce((m, c) => m + f(c), 0), 0);
  const rate = host && previousHost ? cpuRate(previousHost, host) : undefined;
  return {
    name: node,
    timestamp: new Date(at).toISOString(),
    windowSeconds: rate ? Math.round(rate.windowSeconds * 1000) / 1000 : periodSeconds,
    cpuNanoCores: rate ? Math.max(rate.nanoCores, sum((c) => c.cpuNanoCores)) : sum((c) => c.cpuNanoCores),
    memoryBytes: host ? host.usage.memoryWorkingSetBytes : sum((c) => c.memoryBytes),
  };
}
