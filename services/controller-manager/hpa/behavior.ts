// What the HPA controller does with a raw recommendation before it scales (Kubernetes
// pkg/controller/podautoscaler/horizontal.go): stabilization over the recent recommendations,
// then the scaling policies' rate limits (or, without a behavior, the legacy 2x/4-pod limit), then
// minReplicas and maxReplicas. Pure over a History that the controller keeps in Redis, so that
// any controller-manager replica can take the next sync.
import type { ScalingRules } from '../../../shared/api/autoscaling.ts';

export interface Recommendation {
  replicas: number;
  at: number;
}

export interface ScaleEvent {
  change: number;
  at: number;
  outdated?: boolean;
}

/** One HPA's memory across syncs: its recent raw recommendations and the scale changes it made. */
export interface History {
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export const emptyHistory = (): History => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

export interface Verdict {
  replicas: number;
  reason: string;
  message: string;
}

/** A condition to set: type, status, reason, message. */
export interface ConditionUpdate {
  type: 'AbleToScale' | 'ScalingActive' | 'ScalingLimited';
  status: 'True' | 'False';
  reason: string;
  message: string;
}

/** recordInitialRecommendation: the first sync remembers the current size. */
export function recordInitialRecommendation(history: History, currentReplicas: number, now: number): void {
  if (history.recommendations.length === 0) history.recommendations.push({ replicas: currentReplicas, at: now });
}

/** Replaces the oldest recommendation found outside the window, or appends (as Kubernetes reuses slots). */
function record(history: History, replicas: number, now: number, oldIndex: number | undefined): void {
  if (oldIndex !== undefined) history.recommendations[oldIndex] = { replicas, at: now };
  else history.recommendations.push({ replicas, at: now });
}

/** stabilizeRecommendation (no behavior): the highest recommendation of the downscale window. */
export function stabilizeRecommendation(history: History, desired: number, windowMs: number, now: number): number {
  let max = desired;
  let oldIndex: number | undefined;
  const cutoff = now - windowMs;
  history.recommendations.forEach((rec, i) => {
    if (rec.at < cutoff) oldIndex = i;
    else if (rec.replicas > max) max = rec.replicas;
  });
  record(history, desired, now, oldIndex);
  return max;
}

/** stabilizeRecommendationWithBehaviors: within both windows, the least scale-up and the least scale-down. */
export function stabilizeWithBehaviors(history: History, current: number, desired: number, upWindowSeconds: number, downWindowSeconds: number, now: number): Verdict {
  let up = desired;
  let down = desired;
  const upCutoff = now - upWindowSeconds * 1000;
  const downCutoff = now - downWindowSeconds * 1000;
  let oldIndex: number | undefined;
  history.recommendations.forEach((rec, i) => {
    if (rec.at > upCutoff) up = Math.min(rec.replicas, up);
    if (rec.at > downCutoff) down = Math.max(rec.replicas, down);
    if (rec.at < upCutoff && rec.at < downCutoff) oldIndex = i;
  });
  let recommendation = current;
  if (recommendation < up) recommendation = up;
  if (recommendation > down) recommendation = down;
  record(history, desired, now, oldIndex);
  return desired >= current
    ? { replicas: recommendation, reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' }
    : { replicas: recommendation, reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
}

/** getReplicasChangePerPeriod: the replicas added (or removed) by the events of the last period. */
export function replicasChangePerPeriod(periodSeconds: number, events: ScaleEvent[], now: number): number {
  const cutoff = now - periodSeconds * 1000;
  return events.reduce((sum, e) => (e.at > cutoff ? sum + e.change : sum), 0);
}

const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);

/** calculateScaleUpLimitWithScalingRules: the most replicas the scale-up policies allow now. */
export function scaleUpLimit(current: number, history: History, rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? INT32_MAX : INT32_MIN;
  for (const p of rules.policies ?? []) {
    const start = current - replicasChangePerPeriod(p.periodSeconds, history.scaleUpEvents, now) + replicasChangePerPeriod(p.periodSeconds, history.scaleDownEvents, now);
    const proposed = p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100));
    result = pickMin ? Math.min(result, proposed) : Math.max(result, proposed);
  }
  return result;
}

/** calculateScaleDownLimitWithBehaviors: the fewest replicas the scale-down policies allow now. */
export function scaleDownLimit(current: number, history: History, rules: ScalingRules, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pickMin = rules.selectPolicy === 'Min';
  let result = pickMin ? INT32_MIN : INT32_MAX;
  for (const p of rules.policies ?? []) {
    const start = current - replicasChangePerPeriod(p.periodSeconds, history.scaleUpEvents, now) + replicasChangePerPeriod(p.periodSeconds, history.scaleDownEvents, now);
    const proposed = p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100));
    result = pickMin ? Math.max(result, proposed) : Math.min(result, proposed);
  }
  return result;
}

export interface NormalizationArgs {
  scaleUp: ScalingRules;
  scaleDown: ScalingRules;
  minReplicas: number;
  maxReplicas: number;
  current: number;
  desired: number;
}

/** convertDesiredReplicasWithBehaviorRate: the policies' rate limits, then min and max. */
export function convertWithBehaviorRate(args: NormalizationArgs, history: History, now: number): Verdict {
  if (args.desired > args.current) {
    const limit = Math.max(scaleUpLimit(args.current, history, args.scaleUp, now), args.current);
    const [maxAllowed, reason, message] = args.maxReplicas > limit
      ? [limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
      : [args.maxReplicas, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
    if (args.desired > maxAllowed) return { replicas: maxAllowed, reason, message };
  } else if (args.desired < args.current) {
    const limit = Math.min(scaleDownLimit(args.current, history, args.scaleDown, now), args.current);
    const [minAllowed, reason, message] = args.minReplicas < limit
      ? [limit, 'ScaleDownLimit', 'the desired replica count is decreasing faster than the maximum scale rate']
      : [args.minReplicas, 'TooFewReplicas', 'the desired replica count is less than the minimum replica count'];
    if (args.desired < minAllowed) return { replicas: minAllowed, reason, message };
  }
  return { replicas: args.desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

/** calculateScaleUpLimit: without a behavior, at most double, or 4, whichever is more. */
export function legacyScaleUpLimit(current: number): number {
  return Math.max(2 * current, 4);
}

/** convertDesiredReplicasWithRules: without a behavior. */
export function convertWithRules(current: number, desired: number, minReplicas: number, maxReplicas: number): Verdict {
  const limit = legacyScaleUpLimit(current);
  const [maxAllowed, reason, message] = maxReplicas > limit
    ? [limit, 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate']
    : [maxReplicas, 'TooManyReplicas', 'the desired replica count is more than the maximum replica count'];
  if (desired < minReplicas) return { replicas: minReplicas, reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  if (desired > maxAllowed) return { replicas: maxAllowed, reason, message };
  return { replicas: desired, reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };
}

/**
 * normalizeDesiredReplicas / normalizeDesiredReplicasWithBehaviors: the size to scale to, and the
 * AbleToScale and ScalingLimited conditions that explain it. `behavior` undefined is the legacy path.
 */
export function normalize(
  history: History,
  args: Omit<NormalizationArgs, 'scaleUp' | 'scaleDown'>,
  behavior: { scaleUp: ScalingRules; scaleDown: ScalingRules } | undefined,
  downscaleStabilizationMs: number,
  now: number,
): { replicas: number; conditions: ConditionUpdate[] } {
  const conditions: ConditionUpdate[] = [];
  if (!behavior) {
    const stabilized = stabilizeRecommendation(history, args.desired, downscaleStabilizationMs, now);
    conditions.push(stabilized !== args.desired
      ? { type: 'AbleToScale', status: 'True', reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' }
      : { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
    const v = convertWithRules(args.current, stabilized, args.minReplicas, args.maxReplicas);
    conditions.push({ type: 'ScalingLimited', status: v.replicas === stabilized ? 'False' : 'True', reason: v.reason, message: v.message });
    return { replicas: v.replicas, conditions };
  }
  // maybeInitScaleDownStabilizationWindow: an unset scale-down window is the controller's own.
  const downWindow = behavior.scaleDown.stabilizationWindowSeconds ?? Math.trunc(downscaleStabilizationMs / 1000);
  const upWindow = behavior.scaleUp.stabilizationWindowSeconds ?? 0;
  const stabilized = stabilizeWithBehaviors(history, args.current, args.desired, upWindow, downWindow, now);
  conditions.push(stabilized.replicas !== args.desired
    ? { type: 'AbleToScale', status: 'True', reason: stabilized.reason, message: stabilized.message }
    : { type: 'AbleToScale', status: 'True', reason: 'ReadyForNewScale', message: 'recommended size matches current size' });
  const v = convertWithBehaviorRate({ ...args, desired: stabilized.replicas, scaleUp: behavior.scaleUp, scaleDown: behavior.scaleDown }, history, now);
  conditions.push({ type: 'ScalingLimited', status: v.replicas === stabilized.replicas ? 'False' : 'True', reason: v.reason, message: v.message });
  return { replicas: v.replicas, conditions };
}

/** The longest period of the rules' policies (getLongestPolicyPeriod). */
function longestPeriodSeconds(rules: ScalingRules | undefined): number {
  return Math.max(0, ...(rules?.policies ?? []).map((p) => p.periodSeconds));
}

/**
 * storeScaleEvent: with a behavior, a scale change is remembered for the policies' periods; an
 * event older than the longest period is outdated and its slot reused.
 */
export function storeScaleEvent(history: History, behavior: { scaleUp?: ScalingRules; scaleDown?: ScalingRules } | undefined, previous: number, next: number, now: number): void {
  if (!behavior) return;
  const up = next > previous;
  const events = up ? history.scaleUpEvents : history.scaleDownEvents;
  const cutoff = now - longestPeriodSeconds(up ? behavior.scaleUp : behavior.scaleDown) * 1000;
  for (const e of events) if (e.at <= cutoff) e.outdated = true;
  const event = { change: Math.abs(next - previous), at: now, outdated: false };
  const slot = events.findIndex((e) => e.outdated);
  if (slot >= 0) events[slot] = event;
  else events.push(event);
}

/**
 * What of the history is still of use: recommendations within the longest window, events within
 * the longest policy period. Kubernetes reuses old slots instead; Redis should not keep them forever.
 */
export function trimHistory(history: History, keepMs: number, now: number): History {
  const recent = <T extends { at: number }>(xs: T[]) => xs.filter((x) => x.at >= now - keepMs);
  const recommendations = recent(history.recommendations);
  // The newest recommendation stays: it is what a sync after a long pause starts from.
  if (recommendations.length === 0 && history.recommendations.length) recommendations.push(history.recommendations.reduce((a, b) => (a.at >= b.at ? a : b)));
  return { recommendations, scaleUpEvents: recent(history.scaleUpEvents), scaleDownEvents: recent(history.scaleDownEvents) };
}
