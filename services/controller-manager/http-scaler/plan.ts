// The HTTPScaledObject controller's decisions (pure): how many replicas a Deployment behind a
// Service should have given the Service's traffic as the node proxies report it.
//  - Demand (a connection held by an activator, or one in flight) wakes a Deployment at zero to
//    max(1, min).
//  - Above one it follows the metric KEDA's add-on scales on: concurrency (connections held or in
//    flight, ceil(total / targetValue)) or, when configured, requestRate (ceil(rate / targetValue)),
//    clamped to replicas.min and replicas.max.
//  - It goes back to replicas.min (0 by default) only once the Service has had no connection at
//    all for scaledownPeriod (KEDA's cooldownPeriod; the activity of any node counts), and not
//    before initialCooldownPeriod has passed since the object was created.
//  - Between non-zero sizes it scales up at once and down only to the highest recommendation of
//    the last scaledownPeriod (the HorizontalPodAutoscaler's scale-down stabilization, which
//    KEDA's scaling above one goes through), so a dip in traffic does not shed pods it needs again.
import type { KubeObject } from '../../../shared/types.ts';
import { requestRate, type HttpScaling, type ServiceTraffic } from '../../../shared/http-scaling.ts';

export interface ScaleInput {
  scaling: HttpScaling;
  traffic: ServiceTraffic;
  /** The Deployment's spec.replicas. */
  currentReplicas: number;
  /** When the HTTPScaledObject was created (ms). */
  createdAt: number;
  now: number;
  /** Recommendations of the last scaledownPeriod (for stabilization). */
  recent: number[];
}

export interface ScaleDecision {
  /** The replicas to set. */
  desired: number;
  /** This round's recommendation, before stabilization: remembered for the next rounds. */
  recommendation: number;
  /** The metric's value (connections, or connections per granularity). */
  metricValue: number;
  /** Whether the Service counts as active (demand now, or within the scale-down period). */
  active: boolean;
  /** When this decision may change by time alone (the idle period ending), in ms from now. */
  idleInMs?: number;
}

export function decideReplicas(input: ScaleInput): ScaleDecision {
  const { scaling, traffic, currentReplicas, createdAt, now } = input;
  const demand = traffic.held + traffic.inFlight;
  const metricValue = scaling.metric.type === 'requestRate'
    ? requestRate(traffic.opened, now, scaling.metric.windowMs, scaling.metric.granularityMs, traffic.since)
    : demand;
  // Activity: connections now, or the last one within the period. A new object with no traffic
  // yet counts from its creation, so a Deployment already running is not stopped at once.
  const lastActive = Math.max(traffic.lastActive, createdAt);
  const quietUntil = Math.max(lastActive + scaling.scaledownPeriodMs, createdAt + scaling.initialCooldownMs);
  const active = demand > 0 || (currentReplicas > 0 && now < quietUntil);
  const max = Math.max(1, scaling.maxReplicas);
  const min = Math.min(Math.max(0, scaling.minReplicas), max);
  let recommendation: number;
  if (!active) {
    recommendation = min;
  } else {
    const wanted = Math.ceil(metricValue / Math.max(1, scaling.metric.targetValue));
    recommendation = Math.min(max, Math.max(1, min, wanted));
  }
  let desired = recommendation;
  if (active && recommendation < currentReplicas) {
    // Scale-down stabilization: never below what the last period asked for, never above the current size.
    desired = Math.min(currentReplicas, Math.max(recommendation, ...input.recent.filter((r) => r > 0)));
  }
  desired = Math.min(max, desired);
  return {
    desired,
    recommendation,
    metricValue,
    active,
    ...(active && demand === 0 ? { idleInMs: Math.max(0, quietUntil - now) } : {}),
  };
}

export const READY = 'Ready';

/** KEDA's status fields: the workload as apiVersion/kind/name, and the Service as host:port. */
export function targetStatus(scaling: HttpScaling, httpso: KubeObject): { targetWorkload: string; targetService: string } {
  const port = (httpso.spec as any)?.scaleTargetRef?.port ?? 0;
  return {
    targetWorkload: `${scaling.targetApiVersion}/${scaling.targetKind}/${scaling.targetName}`,
    targetService: `${scaling.service}:${port}`,
  };
}

/** metav1.Condition set as meta.SetStatusCondition does: the transition time moves only when the status does. */
export function setCondition(conditions: any[] | undefined, next: { type: string; status: string; reason: string; message: string; observedGeneration?: number }, now: string): any[] {
  const list = [...(conditions ?? [])];
  const i = list.findIndex((c) => c?.type === next.type);
  const previous = i >= 0 ? list[i] : undefined;
  const condition = { ...next, lastTransitionTime: previous && previous.status === next.status ? previous.lastTransitionTime : now };
  if (i >= 0) list[i] = condition;
  else list.push(condition);
  return list;
}
