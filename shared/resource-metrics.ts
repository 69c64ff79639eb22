// Resource usage samples (CPU and memory working set) as the node agents measure them and the
// readers need them: the metrics.k8s.io API (kubectl top) and the HorizontalPodAutoscaler. Redis
// holds only each pod's and node's latest sample, as metrics-server keeps only its last scrape;
// a sample older than its freshness limit is treated as missing, as Kubernetes treats a pod that
// metrics-server has not scraped.
import type { Redis } from 'ioredis';
import type { Keys } from './keys.ts';

export interface ContainerUsage {
  name: string;
  /** Average CPU use over the sample's window, in nanocores (1e9 = one core). */
  cpuNanoCores: number;
  /** Working set (memory use minus inactive file cache), in bytes, at the sample's time. */
  memoryBytes: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  uid: string;
  node: string;
  /** When the sample was taken (RFC 3339), the end of its window. */
  timestamp: string;
  windowSeconds: number;
  containers: ContainerUsage[];
}

export interface NodeUsage {
  name: string;
  timestamp: string;
  windowSeconds: number;
  cpuNanoCores: number;
  memoryBytes: number;
}

export interface PodRef {
  namespace: string;
  name: string;
}

/**
 * One agent's pass: its node's sample, its pods' samples, and the pods it no longer runs (their
 * samples removed, so a deleted pod disappears from `kubectl top` at once).
 */
export async function recordUsage(redis: Redis, keys: Keys, node: NodeUsage | undefined, pods: PodUsage[], gone: PodRef[] = []): Promise<void> {
  const tx = redis.multi();
  if (node) tx.hset(keys.nodeMetrics, node.name, JSON.stringify(node));
  const namespaces = new Set<string>();
  for (const pod of pods) {
    tx.hset(keys.podMetrics(pod.namespace), pod.name, JSON.stringify(pod));
    namespaces.add(pod.namespace);
  }
  for (const pod of gone) tx.hdel(keys.podMetrics(pod.namespace), pod.name);
  if (namespaces.size > 0) tx.sadd(keys.podMetricsNamespaces, ...namespaces);
  await tx.exec();
}

export function isFresh(timestamp: string, now: number, maxAgeMs: number): boolean {
  const at = Date.parse(timestamp);
  return Number.isFinite(at) && now - at <= maxAgeMs;
}

function parseAll<T extends { timestamp: string }>(values: (string | null)[], now: number, maxAgeMs: number): T[] {
  const out: T[] = [];
  for (const value of values) {
    if (!value) continue;
    try {
      const sample = JSON.parse(value) as T;
      if (isFresh(sample.timestamp, now, maxAgeMs)) out.push(sample);
    } catch {
      // A sample that does not parse is as good as missing.
    }
  }
  return out;
}

/** Fresh samples of the pods of one namespace, or of every namespace when `namespace` is undefined. */
export async function readPodUsage(redis: Redis, keys: Keys, namespace: string | undefined, maxAgeMs: number, now = Date.now()): Promise<PodUsage[]> {
  const namespaces = namespace === undefined ? (await redis.smembers(keys.podMetricsNamespaces)).sort() : [namespace];
  const out: PodUsage[] = [];
  for (const ns of namespaces) out.push(...parseAll<PodUsage>(Object.values(await redis.hgetall(keys.podMetrics(ns))), now, maxAgeMs));
  return out;
}

/** A fresh sample of one pod, if there is one. */
export async function readOnePodUsage(redis: Redis, keys: Keys, pod: PodRef, maxAgeMs: number, now = Date.now()): Promise<PodUsage | undefined> {
  return parseAll<PodUsage>([await redis.hget(keys.podMetrics(pod.namespace), pod.name)], now, maxAgeMs)[0];
}

/** Fresh samples of every node. */
export async function readNodeUsage(redis: Redis, keys: Keys, maxAgeMs: number, now = Date.now()): Promise<NodeUsage[]> {
  return parseAll<NodeUsage>(Object.values(await redis.hgetall(keys.nodeMetrics)), now, maxAgeMs);
}
