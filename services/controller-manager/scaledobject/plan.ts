// The ScaledObject's decisions, pure: KEDA's scale executor (pkg/scaling/executor/
// scale_scaledobjects.go: activation from zero, cooldown back to zero or idle) and, above one
// replica, what KEDA's HorizontalPodAutoscaler would do with the triggers' metrics (Kubernetes'
// pkg/controller/podautoscaler: replica calculation with its 10% tolerance, then behavior —
// stabilization windows and rate policies — then min/max). Wharf runs both in one controller
// instead of creating an HPA, so the history the behavior needs is handed in and handed back, and
// the caller keeps it outside the process (several controller managers may take turns).

import { defaultScaleDownRules, defaultScaleUpRules, withDefaultRules } from '../../../shared/api/autoscaling.ts';
import { convertWithBehaviorRate, stabilizeWithBehaviors, type History as HpaHistory } from '../hpa/behavior.ts';

export const DEFAULT_POLLING_INTERVAL_S = 30;
export const DEFAULT_COOLDOWN_PERIOD_S = 300;
export const DEFAULT_INITIAL_COOLDOWN_PERIOD_S = 0;
export const DEFAULT_MIN_REPLICAS = 0;
export const DEFAULT_MAX_REPLICAS = 100;
/** kube-controller-manager's --horizontal-pod-autoscaler-downscale-stabilization. */
const DEFAULT_DOWNSCALE_STABILIZATION_S = 300;
/** Kubernetes' --horizontal-pod-autoscaler-tolerance. */
export const TOLERANCE = 0.1;

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }[];
}

export interface Behavior {
  scaleUp?: ScalingRules;
  scaleDown?: ScalingRules;
}

/** The spec's numbers with KEDA's defaults. */
export interface Bounds {
  min: number;
  max: number;
  idle?: number;
  pollingIntervalMs: number;
  cooldownMs: number;
  initialCooldownMs: number;
}

export function boundsOf(spec: any): Bounds {
  return {
    min: spec.minReplicaCount ?? DEFAULT_MIN_REPLICAS,
    max: spec.maxReplicaCount ?? DEFAULT_MAX_REPLICAS,
    idle: spec.idleReplicaCount ?? undefined,
    pollingIntervalMs: (spec.pollingInterval ?? DEFAULT_POLLING_INTERVAL_S) * 1000,
    cooldownMs: (spec.cooldownPeriod ?? DEFAULT_COOLDOWN_PERIOD_S) * 1000,
    initialCooldownMs: (spec.initialCooldownPeriod ?? DEFAULT_INITIAL_COOLDOWN_PERIOD_S) * 1000,
  };
}

/** What one trigger reported this poll. */
export type TriggerResult =
  | {
      metricName: string;
      type: string;
      ok: true;
      active: boolean;
      /** The replicas this trigger's metric asks for, given the current replicas (see replicasFor*). */
      replicas?: number;
    }
  | { metricName: string; type: string; ok: false; error: string };

/**
 * An external metric's replicas, as the HPA computes them: AverageValue divides the total by the
 * per-pod target; Value scales the current replicas by the ratio. Within 10% of the target the
 * current count stands.
 */
export function replicasForExternal(value: number, target: number, metricType: 'AverageValue' | 'Value', current: number): number {
  if (metricType === 'AverageValue') {
    const ratio = value / (target * Math.max(current, 1));
    if (current > 0 && Math.abs(1 - ratio) <= TOLERANCE) return current;
    return Math.ceil(value / target);
  }
  const ratio = value / target;
  if (current > 0 && Math.abs(1 - ratio) <= TOLERANCE) return current;
  return Math.ceil(ratio * Math.max(current, 1));
}

/**
 * The cpu trigger's replicas from the pods' samples, as the HPA's resource metric: Utilization
 * compares the pods' total use with their total requests; AverageValue the average use per pod.
 * Pods without a sample are left out (the HPA's handling of missing metrics is not modelled).
 */
export function replicasForCpu(samples: { usageCores: number; requestCores?: number }[], metricType: 'Utilization' | 'AverageValue', value: number, current: number): { replicas: number } | { error: string } {
  if (!samples.length) return { error: 'unable to get metrics for resource cpu: no metrics returned from resource metrics API' };
  const usage = samples.reduce((s, p) => s + p.usageCores, 0);
  if (metricType === 'Utilization') {
    if (samples.some((p) => !p.requestCores)) return { error: 'failed to get cpu utilization: missing request for cpu' };
    const requests = samples.reduce((s, p) => s + (p.requestCores ?? 0), 0);
    const ratio = (usage / requests) * 100 / value;
    if (Math.abs(1 - ratio) <= TOLERANCE) return { replicas: current };
    return { replicas: Math.ceil(ratio * samples.length) };
  }
  const ratio = usage / (value * samples.length);
  if (Math.abs(1 - ratio) <= TOLERANCE) return { replicas: current };
  return { replicas: Math.ceil(usage / value) };
}

// ---- behavior ---------------------------------------------------------------------------

/** What behavior needs to remember between polls (the HPA controller's recommendations and scale events). */
export interface ScalingHistory {
  recommendations: { at: number; replicas: number }[];
  scaleUps: { at: number; delta: number }[];
  scaleDowns: { at: number; delta: number }[];
}

export const EMPTY_HISTORY: ScalingHistory = { recommendations: [], scaleUps: [], scaleDowns: [] };

/**
 * Kubernetes' defaults (GenerateHPAScaleUpRules / GenerateHPAScaleDownRules), the scale-down window
 * being the HPA controller's default downscale stabilization (300 s), as KEDA's HPA has it.
 */
export function withDefaults(behavior: Behavior | undefined): Required<Behavior> & { scaleUp: Required<ScalingRules>; scaleDown: Required<ScalingRules> } {
  const up = withDefaultRules(structuredClone(behavior?.scaleUp), defaultScaleUpRules());
  const down = withDefaultRules(structuredClone(behavior?.scaleDown), { ...defaultScaleDownRules(), stabilizationWindowSeconds: DEFAULT_DOWNSCALE_STABILIZATION_S });
  return { scaleUp: up as Required<ScalingRules>, scaleDown: down as Required<ScalingRules> };
}

function longestWindowMs(b: ReturnType<typeof withDefaults>): number {
  const periods = [...b.scaleUp.policies, ...b.scaleDown.policies].map((p) => p.periodSeconds);
  return Math.max(b.scaleUp.stabilizationWindowSeconds, b.scaleDown.stabilizationWindowSeconds, ...periods, 0) * 1000;
}

/**
 * normalizeDesiredReplicasWithBehaviors, the HorizontalPodAutoscaler's own (hpa/behavior.ts): the
 * stabilized recommendation, limited by the rate policies, within min and max. The history is kept
 * in the ScaledObject's own shape (what its controller stores) and handed back with this round's
 * recommendation.
 */
export function applyBehavior(desired: number, current: number, min: number, max: number, behavior: Behavior | undefined, history: ScalingHistory, now: number): { replicas: number; history: ScalingHistory } {
  const b = withDefaults(behavior);
  const hpaHistory: HpaHistory = {
    recommendations: history.recommendations.map((r) => ({ ...r })),
    scaleUpEvents: history.scaleUps.map((e) => ({ change: e.delta, at: e.at })),
    scaleDownEvents: history.scaleDowns.map((e) => ({ change: e.delta, at: e.at })),
  };
  const stabilized = stabilizeWithBehaviors(hpaHistory, current, desired, b.scaleUp.stabilizationWindowSeconds, b.scaleDown.stabilizationWindowSeconds, now);
  const limited = convertWithBehaviorRate({ scaleUp: b.scaleUp, scaleDown: b.scaleDown, minReplicas: min, maxReplicas: max, current, desired: stabilized.replicas }, hpaHistory, now);
  const replicas = Math.min(Math.max(limited.replicas, min), max);

  const keepFrom = now - longestWindowMs(b);
  const next: ScalingHistory = {
    recommendations: [...history.recommendations.filter((r) => r.at > keepFrom), { at: now, replicas: desired }],
    scaleUps: history.scaleUps.filter((e) => e.at > keepFrom),
    scaleDowns: history.scaleDowns.filter((e) => e.at > keepFrom),
  };
  return { replicas, history: next };
}

/** The history after the target was scaled from `from` to `to` (the HPA records its own scale events). */
export function recordScale(history: ScalingHistory, from: number, to: number, now: number): ScalingHistory {
  if (to > from) return { ...history, scaleUps: [...history.scaleUps, { at: now, delta: to - from }] };
  if (to < from) return { ...history, scaleDowns: [...history.scaleDowns, { at: now, delta: from - to }] };
  return history;
}

// ---- the scale executor -----------------------------------------------------------------

export interface Condition {
  type: 'Ready' | 'Active' | 'Fallback' | 'Paused';
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export interface Decision {
  /** The replicas to write to the target, when they differ from the current count. */
  scaleTo?: number;
  /** Why: KEDA's activation/deactivation (with its event) or the HPA's rescale. */
  cause?: 'activate' | 'deactivate' | 'min' | 'hpa';
  conditions: Condition[];
  /** Set lastActiveTime to now. */
  markActive: boolean;
  /** The metric names of the active triggers (for the activation event and triggersActivity). */
  activeTriggers: string[];
  /** Whether the fallback replicas are in force. */
  fallbackActive: boolean;
  history: ScalingHistory;
}

export interface DecideInput {
  bounds: Bounds;
  behavior?: Behavior;
  fallback?: { failureThreshold: number; replicas: number; behavior?: string };
  current: number;
  results: TriggerResult[];
  /** Consecutive failures per metric name, this poll's included. */
  failures: Record<string, number>;
  lastActiveTime?: number;
  createdAt: number;
  history: ScalingHistory;
  now: number;
  /** The scale-in / scale-out pause annotations. */
  pauseScaleIn?: boolean;
  pauseScaleOut?: boolean;
}

const READY: Condition = { type: 'Ready', status: 'True', reason: 'ScaledObjectReady', message: 'ScaledObject is defined correctly and is ready for scaling' };
const ACTIVE: Condition = { type: 'Active', status: 'True', reason: 'ScalerActive', message: 'Scaling is performed because triggers are active' };
const NOT_ACTIVE: Condition = { type: 'Active', status: 'False', reason: 'ScalerNotActive', message: 'Scaling is not performed because triggers are not active' };
const COOLING_DOWN: Condition = { type: 'Active', status: 'False', reason: 'ScalerCooldown', message: 'Scaler cooling down because triggers are not active' };
const NO_FALLBACK: Condition = { type: 'Fallback', status: 'False', reason: 'NoFallbackFound', message: 'No fallbacks are active on this scaled object' };
const FALLBACK: Condition = { type: 'Fallback', status: 'True', reason: 'FallbackExists', message: 'At least one trigger is falling back on this scaled object' };

/** One poll's decision: KEDA's RequestScale, then the HPA's step while the target runs. */
export function decide(input: DecideInput): Decision {
  const { bounds, current, results, now } = input;
  const activeTriggers = results.filter((r) => r.ok && r.active).map((r) => r.metricName);
  const isError = results.some((r) => !r.ok);
  let isActive = activeTriggers.length > 0;
  // cpu alone can never say "idle": with only such triggers the object is always active.
  if (results.length && results.every((r) => r.type === 'cpu' || r.type === 'memory') && !isError) isActive = true;

  const fallbackActive = !!input.fallback && results.some((r) => !r.ok && (input.failures[r.metricName] ?? 0) > input.fallback!.failureThreshold);
  let ready: Condition = READY;
  let active: Condition;
  let scaleTo: number | undefined;
  let cause: Decision['cause'];
  let markActive = false;
  let runHpa = current > 0;

  if (isActive) {
    active = ACTIVE;
    if ((bounds.idle !== undefined && current < bounds.min) || current === 0) {
      if (!input.pauseScaleOut) {
        scaleTo = Math.max(bounds.min, 1);
        cause = 'activate';
        markActive = true;
      }
      runHpa = false;
    } else if (isError) {
      ready = { type: 'Ready', status: 'Unknown', reason: 'PartialTriggerError', message: 'Some triggers defined in ScaledObject are not working correctly' };
    } else {
      markActive = true;
    }
  } else {
    active = NOT_ACTIVE;
    if (isError && input.fallback && input.fallback.replicas !== 0) {
      // The HPA step below falls back once the failures pass the threshold.
    } else if (isError && !input.fallback) {
      ready = { type: 'Ready', status: 'False', reason: 'TriggerError', message: 'Triggers defined in ScaledObject are not working correctly' };
    } else if ((bounds.idle !== undefined && current > bounds.idle) || (current > 0 && bounds.min === 0)) {
      if (!input.pauseScaleIn) {
        const cooled = input.lastActiveTime === undefined ? input.createdAt + bounds.initialCooldownMs < now : input.lastActiveTime + bounds.cooldownMs < now;
        if (cooled) {
          scaleTo = bounds.idle ?? bounds.min;
          cause = 'deactivate';
          runHpa = false;
        } else {
          active = COOLING_DOWN;
        }
      }
    } else if (bounds.idle === undefined && current < bounds.min) {
      scaleTo = bounds.min;
      cause = 'min';
      runHpa = false;
    }
  }

  let history = input.history;
  if (runHpa && scaleTo === undefined) {
    const ok = results.filter((r): r is Extract<TriggerResult, { ok: true }> => r.ok && r.replicas !== undefined);
    let desired: number | undefined;
    if (fallbackActive) {
      const f = input.fallback!;
      const behaviour = f.behavior ?? 'static';
      desired = behaviour === 'currentReplicas' ? current
        : behaviour === 'currentReplicasIfHigher' ? Math.max(current, f.replicas)
        : behaviour === 'currentReplicasIfLower' ? Math.min(current, f.replicas)
        : f.replicas;
    } else if (ok.length) {
      desired = Math.max(...ok.map((r) => r.replicas!));
      // As the HPA: with a metric missing it never scales down on the others alone.
      if (isError && desired < current) desired = current;
    }
    if (desired !== undefined) {
      const hpaMin = Math.max(bounds.min, 1);
      const step = applyBehavior(desired, current, hpaMin, bounds.max, input.behavior, history, now);
      history = step.history;
      let next = step.replicas;
      if (input.pauseScaleOut && next > current) next = current;
      if (input.pauseScaleIn && next < current) next = current;
      if (next !== current) {
        scaleTo = next;
        cause = 'hpa';
      }
    }
  }
  if (scaleTo !== undefined) {
    if (scaleTo === current) scaleTo = undefined;
    else history = recordScale(history, current, scaleTo, now);
  }
  return {
    scaleTo,
    cause: scaleTo === undefined ? undefined : cause,
    conditions: [ready, active, fallbackActive ? FALLBACK : NO_FALLBACK],
    markActive,
    activeTriggers,
    fallbackActive,
    history,
  };
}

/** The next poll: the polling interval, sooner when a cooldown or a cron window ends before it. */
export function nextPollMs(bounds: Bounds, now: number, wakeups: (number | undefined)[]): number {
  let at = now + bounds.pollingIntervalMs;
  for (const w of wakeups) if (w !== undefined && w > now && w < at) at = w;
  return Math.max(50, at - now);
}
