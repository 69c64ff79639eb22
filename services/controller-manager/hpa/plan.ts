// One sync of a HorizontalPodAutoscaler, pure (Kubernetes pkg/controller/podautoscaler/horizontal.go
// reconcileAutoscaler, computeReplicasForMetrics, setStatus): from the HPA, its target's scale, the
// pods the scale selects, their usage samples and the HPA's history, what to scale to, the status
// to write and the events to record. The controller (controller.ts) only reads and writes.
import type { KubeObject, Pod } from '../../../shared/types.ts';
import type { PodUsage } from '../../../shared/resource-metrics.ts';
import { formatQuantity } from '../../../shared/api/exact-quantity.ts';
import { milliValue } from '../../../shared/api/autoscaling.ts';
import { matchesRequirements, parseLabelSelector, type LabelRequirement } from '../../../shared/api/selectors.ts';
import { normalize, recordInitialRecommendation, storeScaleEvent, type ConditionUpdate, type History } from './behavior.ts';
import { MetricsError, podMetricsFrom, rawResourceReplicas, resourceReplicas, type CalculatorSettings } from './replica-calculator.ts';

export interface HpaSettings extends CalculatorSettings {
  /** --horizontal-pod-autoscaler-downscale-stabilization (5 min): the scale-down window when the HPA sets none. */
  downscaleStabilizationMs: number;
}

/** The target's autoscaling/v1 Scale, as its /scale subresource serves it. */
export interface ScaleView {
  specReplicas: number;
  statusReplicas: number;
  selector: string;
}

export interface HpaEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface SyncInputs {
  hpa: KubeObject;
  scale: ScaleView;
  /** The pods of the HPA's namespace (the plan selects the scale's). */
  pods: Pod[];
  /** Fresh usage samples of the namespace's pods. */
  samples: PodUsage[];
  history: History;
  settings: HpaSettings;
  now: number;
}

export interface SyncPlan {
  /** The status to write if the scale is not changed, or is changed successfully. */
  status: Record<string, any>;
  events: HpaEvent[];
  /** Set when the target is to be scaled. */
  rescale?: { from: number; to: number; reason: string };
  /** The history to keep; undefined when this sync leaves it alone. */
  history?: History;
  /** What went wrong with the metrics (the sync still may scale, on the metrics that worked). */
  error?: string;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** setCondition: the lastTransitionTime moves only when the status changes. */
export function setCondition(conditions: any[], c: ConditionUpdate, now: number): any[] {
  const out = conditions.map((x) => ({ ...x }));
  let existing = out.find((x) => x.type === c.type);
  if (!existing) {
    existing = { type: c.type };
    out.push(existing);
  }
  if (existing.status !== c.status) existing.lastTransitionTime = iso(now);
  existing.status = c.status;
  existing.reason = c.reason;
  existing.message = c.message;
  return out;
}

const milliQuantity = (milli: number) => formatQuantity({ nanos: BigInt(Math.trunc(milli)) * 1_000_000n, format: 'DecimalSI' });

interface MetricResult {
  replicas: number;
  name: string;
  status: Record<string, any>;
}

/** An error of one metric: the condition it sets and the event it records (getUnableComputeReplicaCountCondition). */
class MetricFailure extends Error {
  constructor(readonly reason: string, message: string) {
    super(message);
  }
}

function resourceMetric(spec: any, inputs: SyncInputs, selected: Pod[], container: boolean): MetricResult {
  const key = container ? 'containerResource' : 'resource';
  const source = spec[key] ?? {};
  const resource: string = source.name;
  const failReason = container ? 'FailedGetContainerResourceMetric' : 'FailedGetResourceMetric';
  const target = source.target ?? {};
  // A sample is of a selected pod: the same name and, where the sample says, the same uid (not of
  // an earlier pod of that name).
  const uids = new Map(selected.map((p) => [p.metadata.name, p.metadata.uid]));
  const samples = inputs.samples.filter((s) => uids.has(s.name) && (!s.uid || !uids.get(s.name) || s.uid === uids.get(s.name)));
  const calc = { currentReplicas: inputs.scale.specReplicas, resource, container: container ? source.container : '', pods: selected, settings: inputs.settings, now: inputs.now };
  const what = target.averageValue != null ? 'usage' : 'utilization';
  try {
    if (target.averageValue == null && target.averageUtilization == null) {
      throw new MetricsError('invalid resource metric source: neither an average utilization target nor an average value (usage) target was set');
    }
    // The metrics client: nothing listed for the selector is an error of its own.
    if (samples.length === 0) throw new MetricsError(`unable to get metrics for resource ${resource}: no metrics returned from resource metrics API`);
    const metrics = podMetricsFrom(samples, resource, calc.container);
    const status = (current: Record<string, unknown>) => ({ type: spec.type, [key]: { name: resource, ...(container ? { container: source.container } : {}), current } });
    if (target.averageValue != null) {
      const { replicas, usage } = rawResourceReplicas({ ...calc, metrics }, milliValue(target.averageValue));
      return { replicas, name: `${resource} resource`, status: status({ averageValue: milliQuantity(usage) }) };
    }
    const { replicas, utilization, rawUtilization } = resourceReplicas({ ...calc, metrics }, target.averageUtilization);
    const name = container ? `${resource} container resource utilization (percentage of request)` : `${resource} resource utilization (percentage of request)`;
    return { replicas, name, status: status({ averageUtilization: utilization, averageValue: milliQuantity(rawUtilization) }) };
  } catch (err) {
    if (!(err instanceof MetricsError)) throw err;
    const message = err.message.startsWith('invalid resource metric source') ? err.message : `failed to get ${resource} ${what}: ${err.message}`;
    throw new MetricFailure(failReason, message);
  }
}

/** computeReplicasForMetric: Resource and ContainerResource are measured; the other sources need an API Wharf does not serve. */
function computeMetric(spec: any, inputs: SyncInputs, selected: Pod[]): MetricResult {
  switch (spec?.type) {
    case 'Resource':
      return resourceMetric(spec, inputs, selected, false);
    case 'ContainerResource':
      return resourceMetric(spec, inputs, selected, true);
    case 'Pods':
      throw new MetricFailure('FailedGetPodsMetric', `failed to get pods metric value: unable to get metric ${spec.pods?.metric?.name}: no custom metrics API (custom.metrics.k8s.io) is served`);
    case 'Object':
      throw new MetricFailure('FailedGetObjectMetric', `failed to get object metric value: unable to get metric ${spec.object?.metric?.name}: no custom metrics API (custom.metrics.k8s.io) is served`);
    case 'External':
      throw new MetricFailure('FailedGetExternalMetric', `failed to get external metric value: unable to get external metric ${spec.external?.metric?.name}: no external metrics API (external.metrics.k8s.io) is served`);
    default:
      throw new MetricFailure('InvalidMetricSourceType', `unknown metric source type "${spec?.type}"`);
  }
}

/** The HPA's behavior with both directions defaulted (the API defaults a given behavior; this is for objects stored before). */
function behaviorOf(hpa: KubeObject) {
  const b = hpa.spec?.behavior;
  if (!b) return undefined;
  return { scaleUp: b.scaleUp ?? {}, scaleDown: b.scaleDown ?? {} };
}

/**
 * reconcileAutoscaler after the scale was read: the metrics, the replica count they ask for,
 * normalized by the behavior, and the status and events that say so.
 */
export function planSync(inputs: SyncInputs): SyncPlan {
  const { hpa, scale, now } = inputs;
  const history = structuredClone(inputs.history);
  const events: HpaEvent[] = [];
  let conditions: any[] = hpa.status?.conditions ?? [];
  const set = (c: ConditionUpdate) => {
    conditions = setCondition(conditions, c, now);
  };
  set({ type: 'AbleToScale', status: 'True', reason: 'SucceededGetScale', message: "the HPA controller was able to get the target's current scale" });
  const current = scale.specReplicas;
  recordInitialRecommendation(history, current, now);

  const minReplicas: number = hpa.spec?.minReplicas ?? 1;
  const maxReplicas: number = hpa.spec?.maxReplicas ?? 0;
  let desired = 0;
  let reason = '';
  let rescale = true;
  let metricStatuses: any[] | undefined;
  let error: string | undefined;
  const statusWith = (currentReplicas: number, desiredReplicas: number, scaled: boolean) => ({
    currentReplicas,
    desiredReplicas,
    ...(scaled ? { lastScaleTime: iso(now) } : hpa.status?.lastScaleTime ? { lastScaleTime: hpa.status.lastScaleTime } : {}),
    ...(metricStatuses?.length ? { currentMetrics: metricStatuses } : {}),
    ...(conditions.length ? { conditions } : {}),
  });

  if (current === 0 && minReplicas !== 0) {
    // Autoscaling is off while the target is scaled to zero.
    desired = 0;
    rescale = false;
    set({ type: 'ScalingActive', status: 'False', reason: 'ScalingDisabled', message: 'scaling is disabled since the replica count of the target is zero' });
  } else if (current > maxReplicas) {
    reason = 'Current number of replicas above Spec.MaxReplicas';
    desired = maxReplicas;
  } else if (current < minReplicas) {
    reason = 'Current number of replicas below Spec.MinReplicas';
    desired = minReplicas;
  } else {
    const computed = computeReplicasForMetrics(inputs, set, events);
    metricStatuses = computed.statuses;
    if (computed.replicas === -1) {
      events.push({ type: 'Warning', reason: 'FailedComputeMetricsReplicas', message: computed.error! });
      // setCurrentReplicasAndMetricsInStatus: the rest of the status stays as it was.
      const status = { ...hpa.status, currentReplicas: current, ...(metricStatuses?.length ? { currentMetrics: metricStatuses } : {}), conditions };
      if (!metricStatuses?.length) delete status.currentMetrics;
      return { status, events, history, error: computed.error };
    }
    error = computed.error;
    let rescaleMetric = '';
    if (computed.replicas > desired) {
      desired = computed.replicas;
      rescaleMetric = computed.metric;
    }
    if (desired > current) reason = `${rescaleMetric} above target`;
    if (desired < current) reason = 'All metrics below target';
    const normalized = normalize(history, { minReplicas, maxReplicas, current, desired }, behaviorOf(hpa), inputs.settings.downscaleStabilizationMs, now);
    for (const c of normalized.conditions) set(c);
    desired = normalized.replicas;
    rescale = desired !== current;
  }

  if (!rescale) return { status: statusWith(current, current, false), events, history, error };
  // The conditions and event of a successful rescale; completeRescale undoes them if it fails.
  set({ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: `the HPA controller was able to update the target scale to ${desired}` });
  events.push({ type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${desired}; reason: ${reason}` });
  storeScaleEvent(history, behaviorOf(hpa), current, desired, now);
  return { status: statusWith(current, desired, true), events, history, error, rescale: { from: current, to: desired, reason } };
}

/** computeReplicasForMetrics: the largest count any metric asks for, or -1 when the metrics cannot be trusted. */
function computeReplicasForMetrics(inputs: SyncInputs, set: (c: ConditionUpdate) => void, events: HpaEvent[]): { replicas: number; metric: string; statuses?: any[]; error?: string } {
  const { scale } = inputs;
  if (!scale.selector) {
    events.push({ type: 'Warning', reason: 'SelectorRequired', message: 'selector is required' });
    set({ type: 'ScalingActive', status: 'False', reason: 'InvalidSelector', message: "the HPA target's scale is missing a selector" });
    return { replicas: -1, metric: '', error: 'selector is required' };
  }
  let requirements: LabelRequirement[];
  try {
    requirements = parseLabelSelector(scale.selector);
  } catch (err) {
    const message = `couldn't convert selector into a corresponding internal selector object: ${(err as Error).message}`;
    events.push({ type: 'Warning', reason: 'InvalidSelector', message });
    set({ type: 'ScalingActive', status: 'False', reason: 'InvalidSelector', message });
    return { replicas: -1, metric: '', error: message };
  }
  const selected = inputs.pods.filter((p) => matchesRequirements(p.metadata.labels, requirements));
  const specs: any[] = inputs.hpa.spec?.metrics ?? [];
  const statuses: any[] = specs.map(() => ({ type: '' }));
  let replicas = 0;
  let metric = '';
  let invalid = 0;
  let first: MetricFailure | undefined;
  specs.forEach((spec, i) => {
    try {
      const r = computeMetric(spec, inputs, selected);
      statuses[i] = r.status;
      if (replicas === 0 || r.replicas > replicas) {
        replicas = r.replicas;
        metric = r.name;
      }
    } catch (err) {
      if (!(err instanceof MetricFailure)) throw err;
      events.push({ type: 'Warning', reason: err.reason, message: err.message });
      first ??= err;
      invalid++;
    }
  });
  const error = first ? `invalid metrics (${invalid} invalid out of ${specs.length}), first error is: ${first.message}` : undefined;
  // All metrics invalid, or some invalid and the rest would scale down: do nothing on half the picture.
  if (invalid >= specs.length || (invalid > 0 && replicas < inputs.scale.specReplicas)) {
    if (first) set({ type: 'ScalingActive', status: 'False', reason: first.reason, message: `the HPA was unable to compute the replica count: ${first.message}` });
    return { replicas: -1, metric: '', statuses, error: error ?? 'no metrics' };
  }
  set({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound', message: `the HPA was able to successfully calculate a replica count from ${metric}` });
  return { replicas, metric, statuses, error };
}

/** The scale update failed: FailedRescale, AbleToScale False, and the status without the new size. */
export function failedRescale(inputs: SyncInputs, plan: SyncPlan, err: string): SyncPlan {
  const { hpa, now } = inputs;
  const to = plan.rescale!.to;
  const conditions = setCondition(plan.status.conditions ?? [], { type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale', message: `the HPA controller was unable to update the target scale: ${err}` }, now);
  const events = plan.events.filter((e) => e.reason !== 'SuccessfulRescale');
  events.push({ type: 'Warning', reason: 'FailedRescale', message: `New size: ${to}; reason: ${plan.rescale!.reason}; error: ${err}` });
  const status: Record<string, any> = { ...hpa.status, currentReplicas: plan.rescale!.from, conditions };
  if (plan.status.currentMetrics) status.currentMetrics = plan.status.currentMetrics;
  else delete status.currentMetrics;
  return { status, events, history: inputs.history, error: err };
}

/** The target's scale could not be read (no such kind, no such object, no scale): FailedGetScale. */
export function failedGetScale(hpa: KubeObject, err: string, now: number): SyncPlan {
  const conditions = setCondition(hpa.status?.conditions ?? [], { type: 'AbleToScale', status: 'False', reason: 'FailedGetScale', message: `the HPA controller was unable to get the target's current scale: ${err}` }, now);
  return {
    status: { ...hpa.status, conditions },
    events: [{ type: 'Warning', reason: 'FailedGetScale', message: err }],
    error: err,
  };
}

/** The `apiVersion` of a scale target: its group ("apps/v1" → "apps", "v1" → ""). */
export function groupOf(apiVersion: string | undefined): string {
  if (!apiVersion) return '';
  const i = apiVersion.indexOf('/');
  return i < 0 ? '' : apiVersion.slice(0, i);
}
