// autoscaling/v2 HorizontalPodAutoscaler (Kubernetes pkg/registry/autoscaling/horizontalpodautoscaler
// strategy.go; defaults pkg/apis/autoscaling/v2/defaults.go; validation
// pkg/apis/autoscaling/validation/validation.go), also served as autoscaling/v1 (see
// horizontalpodautoscaler-v1.ts).
import type { StatusCause } from '../../types.ts';
import { HPA_V2_SCHEMA } from '../../api/autoscaling-schemas.ts';
import { DEFAULT_CPU_UTILIZATION, MAX_PERIOD_SECONDS, MAX_STABILIZATION_WINDOW_SECONDS, defaultScaleDownRules, defaultScaleUpRules, formatHpaMetrics, withDefaultRules } from '../../api/autoscaling.ts';
import { tryParseExact } from '../../api/exact-quantity.ts';
import { dnsLabelErrors, forbidden, invalid, required, unsupported } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { pathSegmentNameErrors } from './rbac-rules.ts';
import { defineStrategy, NAMES, resetStatus } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

const METRIC_SOURCE_TYPES = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];
const SOURCE_FIELD: Record<string, string> = { Object: 'object', External: 'external', Pods: 'pods', Resource: 'resource', ContainerResource: 'containerResource' };
const SELECT_POLICIES = ['Disabled', 'Max', 'Min'];
const POLICY_TYPES = ['Percent', 'Pods'];
/** Without the alpha HPAScaleToZero gate, as Kubernetes runs by default. */
const MIN_REPLICAS_LOWER_BOUND = 1;
const QUANTITY_PATTERN = "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

/** ValidateCrossVersionObjectReference. */
function referenceErrors(field: string, ref: any): StatusCause[] {
  const out: StatusCause[] = [];
  if (!ref?.kind) out.push(required(`${field}.kind`));
  else out.push(...pathSegmentNameErrors(`${field}.kind`, ref.kind));
  if (!ref?.name) out.push(required(`${field}.name`));
  else out.push(...pathSegmentNameErrors(`${field}.name`, ref.name));
  return out;
}

/** A quantity's sign, or an error when it is no quantity (Kubernetes' decoder refuses it). */
function positiveQuantity(field: string, q: unknown, out: StatusCause[]): void {
  if (q === undefined || q === null) return;
  const parsed = tryParseExact(q);
  if (!parsed) out.push(invalid(field, q, QUANTITY_PATTERN));
  else if (parsed.nanos <= 0n) out.push(invalid(field, String(q), 'must be positive'));
}

/** validateMetricTarget. */
function targetErrors(field: string, t: any): StatusCause[] {
  const out: StatusCause[] = [];
  const target = t ?? {};
  if (!target.type) out.push(required(`${field}.type`, 'must specify a metric target type'));
  if (target.type !== 'Utilization' && target.type !== 'Value' && target.type !== 'AverageValue') out.push(invalid(`${field}.type`, target.type ?? '', 'must be either Utilization, Value, or AverageValue'));
  positiveQuantity(`${field}.value`, target.value, out);
  positiveQuantity(`${field}.averageValue`, target.averageValue, out);
  if (target.averageUtilization != null && target.averageUtilization < 1) out.push(invalid(`${field}.averageUtilization`, target.averageUtilization, 'must be greater than 0'));
  return out;
}

function resourceSourceErrors(field: string, src: any, container: boolean): StatusCause[] {
  const out: StatusCause[] = [];
  if (!src.name) out.push(required(`${field}.name`, 'must specify a resource name'));
  if (container) {
    if (!src.container) out.push(required(`${field}.container`, 'must specify a container'));
    else out.push(...dnsLabelErrors(`${field}.container`, src.container));
  }
  out.push(...targetErrors(`${field}.target`, src.target));
  const t = src.target ?? {};
  if (t.averageUtilization == null && t.averageValue == null) out.push(required(`${field}.target.averageUtilization`, 'must set either a target raw value or a target utilization'));
  if (t.averageUtilization != null && t.averageValue != null) out.push(forbidden(`${field}.target.averageValue`, 'may not set both a target raw value and a target utilization'));
  return out;
}

function metricIdentifierErrors(field: string, metric: any): StatusCause[] {
  return metric?.name ? [] : [required(`${field}.name`, 'must specify a metric name')];
}

function sourceErrors(type: string, field: string, src: any): StatusCause[] {
  const t = src.target ?? {};
  switch (type) {
    case 'resource':
      return resourceSourceErrors(field, src, false);
    case 'containerResource':
      return resourceSourceErrors(field, src, true);
    case 'object': {
      const out = [...referenceErrors(`${field}.describedObject`, src.describedObject), ...metricIdentifierErrors(`${field}.metric`, src.metric), ...targetErrors(`${field}.target`, src.target)];
      if (t.value == null && t.averageValue == null) out.push(required(`${field}.target.averageValue`, 'must set either a target value or average value'));
      return out;
    }
    case 'pods': {
      const out = [...metricIdentifierErrors(`${field}.metric`, src.metric), ...targetErrors(`${field}.target`, src.target)];
      if (t.averageValue == null) out.push(required(`${field}.target.averageValue`, 'must specify a positive target averageValue'));
      return out;
    }
    case 'external': {
      const out = [...metricIdentifierErrors(`${field}.metric`, src.metric), ...targetErrors(`${field}.target`, src.target)];
      if (t.value == null && t.averageValue == null) out.push(required(`${field}.target.averageValue`, 'must set either a target value for metric or a per-pod target'));
      if (t.value != null && t.averageValue != null) out.push(forbidden(`${field}.target.value`, 'may not set both a target value for metric and a per-pod target'));
      return out;
    }
  }
  return [];
}

/** validateMetricSpec: a known type, and exactly its own source populated. */
function metricSpecErrors(field: string, spec: any): StatusCause[] {
  const out: StatusCause[] = [];
  if (!spec?.type) out.push(required(`${field}.type`, 'must specify a metric source type'));
  if (!METRIC_SOURCE_TYPES.includes(spec?.type)) out.push(unsupported(`${field}.type`, spec?.type ?? '', METRIC_SOURCE_TYPES));
  const present = Object.values(SOURCE_FIELD).filter((k) => spec?.[k] != null);
  // Only the first source present is validated, as Kubernetes validates it.
  if (present.length) out.push(...sourceErrors(present[0], `${field}.${present[0]}`, spec[present[0]]));
  const expected = SOURCE_FIELD[spec?.type];
  if (expected && spec[expected] == null) out.push(required(`${field}.${expected}`, 'must populate information for the given metric source'));
  if (present.length !== 1) for (const k of present) if (k !== expected) out.push(forbidden(`${field}.${k}`, 'must populate the given metric source only'));
  return out;
}

/** validateScalingRules. */
function rulesErrors(field: string, rules: any): StatusCause[] {
  if (!rules) return [];
  const out: StatusCause[] = [];
  const w = rules.stabilizationWindowSeconds;
  if (w != null && w < 0) out.push(invalid(`${field}.stabilizationWindowSeconds`, w, 'must be greater than or equal to zero'));
  if (w != null && w > MAX_STABILIZATION_WINDOW_SECONDS) out.push(invalid(`${field}.stabilizationWindowSeconds`, w, `must be less than or equal to ${MAX_STABILIZATION_WINDOW_SECONDS}`));
  if (rules.selectPolicy != null && !SELECT_POLICIES.includes(rules.selectPolicy)) out.push(unsupported(`${field}.selectPolicy`, rules.selectPolicy, SELECT_POLICIES));
  if (!rules.policies?.length) out.push(required(`${field}.policies`, 'must specify at least one Policy'));
  (rules.policies ?? []).forEach((p: any, i: number) => {
    const f = `${field}.policies[${i}]`;
    if (!POLICY_TYPES.includes(p?.type)) out.push(unsupported(`${f}.type`, p?.type ?? '', POLICY_TYPES));
    if (!(p?.value > 0)) out.push(invalid(`${f}.value`, p?.value ?? 0, 'must be greater than zero'));
    if (!(p?.periodSeconds > 0)) out.push(invalid(`${f}.periodSeconds`, p?.periodSeconds ?? 0, 'must be greater than zero'));
    if (p?.periodSeconds > MAX_PERIOD_SECONDS) out.push(invalid(`${f}.periodSeconds`, p.periodSeconds, `must be less than or equal to ${MAX_PERIOD_SECONDS}`));
  });
  return out;
}

/** ValidateHorizontalPodAutoscalerSpec. */
export function hpaSpecErrors(spec: any): StatusCause[] {
  const out: StatusCause[] = [];
  const min = spec.minReplicas;
  const max = spec.maxReplicas ?? 0;
  if (min != null && min < MIN_REPLICAS_LOWER_BOUND) out.push(invalid('spec.minReplicas', min, `must be greater than or equal to ${MIN_REPLICAS_LOWER_BOUND}`));
  if (max < 1) out.push(invalid('spec.maxReplicas', max, 'must be greater than 0'));
  if (min != null && max < min) out.push(invalid('spec.maxReplicas', max, 'must be greater than or equal to `minReplicas`'));
  out.push(...referenceErrors('spec.scaleTargetRef', spec.scaleTargetRef));
  const metrics: any[] = spec.metrics ?? [];
  metrics.forEach((m, i) => out.push(...metricSpecErrors(`spec.metrics[${i}]`, m)));
  if (min === 0 && !metrics.some((m) => m?.type === 'Object' || m?.type === 'External')) {
    out.push(forbidden('spec.metrics', 'must specify at least one Object or External metric to support scaling to zero replicas'));
  }
  if (spec.behavior) {
    out.push(...rulesErrors('spec.behavior.scaleUp', spec.behavior.scaleUp));
    out.push(...rulesErrors('spec.behavior.scaleDown', spec.behavior.scaleDown));
  }
  return out;
}

/** SetDefaults_HorizontalPodAutoscaler: minReplicas 1, a CPU target of 80%, and a given behavior filled in. */
export function defaultHpaSpec(spec: any): void {
  if (!spec || typeof spec !== 'object') return;
  spec.minReplicas ??= 1;
  if (!Array.isArray(spec.metrics) || spec.metrics.length === 0) {
    spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: DEFAULT_CPU_UTILIZATION } } }];
  }
  if (spec.behavior && typeof spec.behavior === 'object') {
    spec.behavior.scaleUp = withDefaultRules(spec.behavior.scaleUp, defaultScaleUpRules());
    spec.behavior.scaleDown = withDefaultRules(spec.behavior.scaleDown, defaultScaleDownRules());
  }
}

export const horizontalPodAutoscalerStrategy = defineStrategy({
  resource: resourceInfo({ group: 'autoscaling', version: 'v2', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', shortNames: ['hpa'], categories: ['all'], subresources: ['status'] }),
  schema: HPA_V2_SCHEMA,
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  defaults: (hpa) => defaultHpaSpec(hpa.spec),
  // currentReplicas and desiredReplicas have no omitempty.
  prepareForCreate: resetStatus(() => ({ currentReplicas: 0, desiredReplicas: 0 })),
  validate: (hpa) => hpaSpecErrors(hpa.spec ?? {}),
  columns: [
    NAME,
    { name: 'Reference', description: 'scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.', cell: (h) => `${h.spec?.scaleTargetRef?.kind ?? ''}/${h.spec?.scaleTargetRef?.name ?? ''}` },
    { name: 'Targets', description: 'metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).', cell: (h) => formatHpaMetrics(h.spec?.metrics, h.status?.currentMetrics) },
    { name: 'MinPods', description: 'minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.', cell: (h) => (h.spec?.minReplicas != null ? String(h.spec.minReplicas) : '<unset>') },
    { name: 'MaxPods', type: 'integer', description: 'maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up.', cell: (h) => h.spec?.maxReplicas ?? 0 },
    { name: 'Replicas', type: 'integer', description: 'currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.', cell: (h) => h.status?.currentReplicas ?? 0 },
    AGE,
  ],
});
