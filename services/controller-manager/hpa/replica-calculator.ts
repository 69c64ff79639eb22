// Kubernetes' replica calculator (pkg/controller/podautoscaler/replica_calculator.go and
// metrics/utilization.go), pure: from the pods a scale selects and their latest usage samples, the
// replica count a Resource or ContainerResource metric asks for. Values are milli-units, as
// Kubernetes' Quantity.MilliValue() gives them (millicores; milli-bytes for memory). Errors carry
// Kubernetes' own messages: the controller puts them in conditions and events.
import type { Pod } from '../../../shared/types.ts';
import type { PodUsage } from '../../../shared/resource-metrics.ts';
import { milliValueOf, tryParseExact } from '../../../shared/api/exact-quantity.ts';

export interface PodMetric {
  /** Milli-units: millicores for cpu, thousandths of a byte for memory. */
  value: number;
  /** When the sample was taken (ms since the epoch), the end of its window. */
  timestamp: number;
  windowMs: number;
}

export type PodMetrics = Map<string, PodMetric>;

export interface CalculatorSettings {
  /** The ratio within which of 1.0 nothing changes (Kubernetes' --horizontal-pod-autoscaler-tolerance, 0.1). */
  tolerance: number;
  /** --horizontal-pod-autoscaler-cpu-initialization-period (5 min). */
  cpuInitializationPeriodMs: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30 s). */
  initialReadinessDelayMs: number;
}

export const DEFAULT_CALCULATOR_SETTINGS: CalculatorSettings = { tolerance: 0.1, cpuInitializationPeriodMs: 300_000, initialReadinessDelayMs: 30_000 };

/** An error whose message is Kubernetes' (the controller wraps it as Kubernetes does). */
export class MetricsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsError';
  }
}

/**
 * The resource metrics of the pods, as the metrics client reads them from the metrics API: per pod,
 * the sum over its containers (or the one named container's); a pod any of whose containers lacks
 * the resource is left out, as is, for a container metric, a pod without that container.
 */
export function podMetricsFrom(samples: PodUsage[], resource: string, container = ''): PodMetrics {
  const out: PodMetrics = new Map();
  for (const s of samples) {
    const at = Date.parse(s.timestamp);
    const metric = (value: number) => ({ value, timestamp: at, windowMs: (s.windowSeconds ?? 0) * 1000 });
    const valueOf = (c: PodUsage['containers'][number]): number | undefined => {
      // Quantity.MilliValue() rounds up: 1 nanocore is 1m.
      if (resource === 'cpu') return typeof c.cpuNanoCores === 'number' ? Math.ceil(c.cpuNanoCores / 1e6) : undefined;
      if (resource === 'memory') return typeof c.memoryBytes === 'number' ? c.memoryBytes * 1000 : undefined;
      return undefined;
    };
    if (container) {
      const c = s.containers.find((x) => x.name === container);
      const v = c ? valueOf(c) : undefined;
      if (v !== undefined) out.set(s.name, metric(v));
      continue;
    }
    let sum = 0;
    let missing = false;
    for (const c of s.containers) {
      const v = valueOf(c);
      if (v === undefined) missing = true;
      else sum += v;
    }
    if (!missing) out.set(s.name, metric(sum));
  }
  return out;
}

/** Go's zero time (0001-01-01T00:00:00Z): what an unset lastTransitionTime reads as. */
const GO_ZERO_TIME = -62135596800000;

const readyCondition = (pod: Pod) => (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');

/** groupPods: which pods count, which are unready (or pending), which lack metrics, which are ignored (deleted, failed). */
export function groupPods(pods: Pod[], metrics: PodMetrics, resource: string, settings: CalculatorSettings, now: number) {
  let readyPodCount = 0;
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata.name!;
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') {
      ignored.add(name);
      continue;
    }
    if (pod.status?.phase === 'Pending') {
      unready.add(name);
      continue;
    }
    const metric = metrics.get(name);
    if (!metric) {
      missing.add(name);
      continue;
    }
    if (resource === 'cpu') {
      const condition = readyCondition(pod);
      const start = pod.status?.startTime ? Date.parse(pod.status.startTime) : NaN;
      let isUnready: boolean;
      if (!condition || Number.isNaN(start)) {
        isUnready = true;
      } else {
        const transition = condition.lastTransitionTime ? Date.parse(condition.lastTransitionTime) : GO_ZERO_TIME;
        if (start + settings.cpuInitializationPeriodMs > now) {
          // Within its initialisation: unready, or no full window measured since it became ready.
          isUnready = condition.status === 'False' || metric.timestamp < transition + metric.windowMs;
        } else {
          // After it: unready only if it never became ready.
          isUnready = condition.status === 'False' && start + settings.initialReadinessDelayMs > transition;
        }
      }
      if (isUnready) {
        unready.add(name);
        continue;
      }
    }
    readyPodCount++;
  }
  return { readyPodCount, unready, missing, ignored };
}

/** calculatePodRequests: each pod's request of the resource, summed over its (or one) containers and sidecars. */
export function podRequests(pods: Pod[], container: string, resource: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const pod of pods) {
    let sum = 0;
    const sidecars = (pod.spec.initContainers ?? []).filter((c: any) => c.restartPolicy === 'Always');
    for (const c of [...pod.spec.containers, ...sidecars]) {
      if (container && container !== c.name) continue;
      const request = (c.resources?.requests as Record<string, string | number> | undefined)?.[resource];
      if (request === undefined) throw new MetricsError(`missing request for ${resource} in container ${c.name} of Pod ${pod.metadata.name}`);
      sum += milli(request);
    }
    out.set(pod.metadata.name!, sum);
  }
  return out;
}

/** Quantity.MilliValue() of a request, rounded up (0 for text that is no quantity: validation refuses it). */
function milli(q: string | number): number {
  const parsed = tryParseExact(q);
  return parsed ? Number(milliValueOf(parsed)) : 0;
}

/** GetResourceUtilizationRatio: utilization in whole percent of the requests (truncated, as Go's integer division). */
export function resourceUtilizationRatio(metrics: PodMetrics, requests: Map<string, number>, targetUtilization: number) {
  let metricsTotal = 0;
  let requestsTotal = 0;
  let entries = 0;
  for (const [name, metric] of metrics) {
    const request = requests.get(name);
    if (request === undefined) continue;
    metricsTotal += metric.value;
    requestsTotal += request;
    entries++;
  }
  if (requestsTotal === 0) throw new MetricsError('no metrics returned matched known pods');
  const utilization = Math.trunc((metricsTotal * 100) / requestsTotal);
  return { ratio: utilization / targetUtilization, utilization, rawAverage: Math.trunc(metricsTotal / entries) };
}

/** GetMetricUsageRatio: the average usage (truncated) over the target. */
export function metricUsageRatio(metrics: PodMetrics, targetUsage: number) {
  let total = 0;
  for (const m of metrics.values()) total += m.value;
  const usage = Math.trunc(total / metrics.size);
  return { ratio: usage / targetUsage, usage };
}

const without = (metrics: PodMetrics, names: Set<string>) => {
  for (const n of names) metrics.delete(n);
};

export interface ResourceInputs {
  currentReplicas: number;
  resource: string;
  /** '' for a Resource metric, the container's name for a ContainerResource one. */
  container: string;
  pods: Pod[];
  metrics: PodMetrics;
  settings: CalculatorSettings;
  now: number;
}

/** GetResourceReplicas: the replicas an average utilization target (percent of requests) asks for. */
export function resourceReplicas(inputs: ResourceInputs, targetUtilization: number): { replicas: number; utilization: number; rawUtilization: number } {
  const { currentReplicas, resource, container, pods, settings, now } = inputs;
  const metrics: PodMetrics = new Map(inputs.metrics);
  if (pods.length === 0) throw new MetricsError('no pods returned by selector while calculating replica count');
  const { readyPodCount, unready, missing, ignored } = groupPods(pods, metrics, resource, settings, now);
  without(metrics, ignored);
  without(metrics, unready);
  if (metrics.size === 0) throw new MetricsError('did not receive metrics for targeted pods (pods might be unready)');
  const requests = podRequests(pods, container, resource);
  const { ratio, utilization, rawAverage } = resourceUtilizationRatio(metrics, requests, targetUtilization);
  const result = (replicas: number) => ({ replicas, utilization, rawUtilization: rawAverage });

  const scaleUpWithUnready = unready.size > 0 && ratio > 1.0;
  if (!scaleUpWithUnready && missing.size === 0) {
    if (Math.abs(1.0 - ratio) <= settings.tolerance) return result(currentReplicas);
    return result(Math.ceil(ratio * readyPodCount));
  }
  if (missing.size > 0) {
    if (ratio < 1.0) {
      // On a scale-down, missing pods count as using their whole request (or the target, if above 100%).
      const fallback = Math.max(100, targetUtilization);
      for (const name of missing) metrics.set(name, { value: Math.trunc(((requests.get(name) ?? 0) * fallback) / 100), timestamp: 0, windowMs: 0 });
    } else if (ratio > 1.0) {
      // On a scale-up, as using none of it.
      for (const name of missing) metrics.set(name, { value: 0, timestamp: 0, windowMs: 0 });
    }
  }
  // On a scale-up, unready pods count as using none of their request.
  if (scaleUpWithUnready) for (const name of unready) metrics.set(name, { value: 0, timestamp: 0, windowMs: 0 });

  const next = resourceUtilizationRatio(metrics, requests, targetUtilization).ratio;
  // Too small a change, or one that would reverse the direction: keep the current count.
  if (Math.abs(1.0 - next) <= settings.tolerance || (ratio < 1.0 && next > 1.0) || (ratio > 1.0 && next < 1.0)) return result(currentReplicas);
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1.0 && replicas > currentReplicas) || (next > 1.0 && replicas < currentReplicas)) return result(currentReplicas);
  return result(replicas);
}

/** GetRawResourceReplicas (calcPlainMetricReplicas): the replicas an average value target asks for. */
export function rawResourceReplicas(inputs: ResourceInputs, targetUsage: number): { replicas: number; usage: number } {
  const { currentReplicas, resource, pods, settings, now } = inputs;
  const metrics: PodMetrics = new Map(inputs.metrics);
  if (pods.length === 0) throw new MetricsError('no pods returned by selector while calculating replica count');
  const { readyPodCount, unready, missing, ignored } = groupPods(pods, metrics, resource, settings, now);
  without(metrics, ignored);
  without(metrics, unready);
  if (metrics.size === 0) throw new MetricsError('did not receive metrics for targeted pods (pods might be unready)');
  const { ratio, usage } = metricUsageRatio(metrics, targetUsage);

  const scaleUpWithUnready = unready.size > 0 && ratio > 1.0;
  if (!scaleUpWithUnready && missing.size === 0) {
    if (Math.abs(1.0 - ratio) <= settings.tolerance) return { replicas: currentReplicas, usage };
    return { replicas: Math.ceil(ratio * readyPodCount), usage };
  }
  if (missing.size > 0) {
    const fill = ratio < 1.0 ? targetUsage : 0;
    for (const name of missing) metrics.set(name, { value: fill, timestamp: 0, windowMs: 0 });
  }
  if (scaleUpWithUnready) for (const name of unready) metrics.set(name, { value: 0, timestamp: 0, windowMs: 0 });
  const next = metricUsageRatio(metrics, targetUsage).ratio;
  if (Math.abs(1.0 - next) <= settings.tolerance || (ratio < 1.0 && next > 1.0) || (ratio > 1.0 && next < 1.0)) return { replicas: currentReplicas, usage };
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1.0 && replicas > currentReplicas) || (next > 1.0 && replicas < currentReplicas)) return { replicas: currentReplicas, usage };
  return { replicas, usage };
}
