// keda.sh/v1alpha1 ScaledObject, served natively: KEDA's CRD (apis/keda/v1alpha1/scaledobject_types.go,
// its OpenAPI rules and printer columns) and the checks of its admission webhook
// (scaledobject_webhook.go), so a manifest written for KEDA is accepted or refused here as there.
// Trigger metadata is checked as KEDA's scalers parse it (shared/keda/triggers.ts), and refused with
// a 422 naming the field instead of a Ready=False the user finds later.
import type { StatusCause } from '../../types.ts';
import { objectMeta, OPENAPI } from '../../api/schemas.ts';
import { duplicate, invalid, required, unsupported } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { parseTrigger, type ScaleTrigger } from '../../keda/triggers.ts';

type Schema = Record<string, any>;
const INT32_MAX = 2 ** 31 - 1;
const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const int32 = (minimum = -(2 ** 31), maximum = INT32_MAX): Schema => ({ type: 'integer', minimum, maximum, [OPENAPI]: { format: 'int32' } });
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, additionalProperties: false, ...(required.length ? { required } : {}) });
const doc = (description: string, schema: Schema): Schema => ({ ...schema, description });
const arr = (items: Schema): Schema => ({ type: 'array', items });
const enumOf = (...values: string[]): Schema => ({ type: 'string', enum: values });
const time: Schema = { type: ['string', 'null'], format: 'date-time' };

// autoscaling/v2 HorizontalPodAutoscalerBehavior, as KEDA's CRD embeds it.
const hpaScalingRules = obj({
  stabilizationWindowSeconds: doc('Seconds of past recommendations considered when scaling (0 to 3600).', int32(0, 3600)),
  selectPolicy: doc('Max, Min or Disabled: which policy applies when several do.', enumOf('Max', 'Min', 'Disabled')),
  policies: doc('How fast replicas may change.', arr(obj({
    type: enumOf('Pods', 'Percent'),
    value: doc('The amount of change the policy permits (above 0).', int32(1)),
    periodSeconds: doc('The window the policy looks back over (1 to 1800 seconds).', int32(1, 1800)),
  }, ['type', 'value', 'periodSeconds']))),
  tolerance: { type: ['string', 'number'] },
});

const conditions = arr({ type: 'object', properties: { type: str, status: enumOf('True', 'False', 'Unknown'), reason: str, message: str } });

const SCHEMA: Schema = doc('Scales a workload on events (KEDA): from zero on the first active trigger, back to zero when all are idle.', obj({
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  spec: doc('What to scale, on which triggers, within which bounds.', obj({
    scaleTargetRef: doc('The workload scaled through its /scale subresource (a Deployment unless kind says otherwise).', obj({
      name: str, apiVersion: str, kind: str, envSourceContainerName: str,
    }, ['name'])),
    pollingInterval: doc('Seconds between two checks of the triggers (default 30).', int32(1)),
    initialCooldownPeriod: doc('Seconds after creation before the target may first be scaled to zero (default 0).', int32(0)),
    cooldownPeriod: doc('Seconds after the last active trigger before scaling to zero (default 300).', int32(0)),
    idleReplicaCount: doc('Replicas while no trigger is active, if not minReplicaCount.', int32(0)),
    minReplicaCount: doc('The fewest replicas (default 0).', int32(0)),
    maxReplicaCount: doc('The most replicas (default 100).', int32(1)),
    advanced: obj({
      horizontalPodAutoscalerConfig: obj({ behavior: obj({ scaleUp: hpaScalingRules, scaleDown: hpaScalingRules }), name: str }),
      restoreToOriginalReplicaCount: bool,
      scalingModifiers: obj({ formula: str, target: str, activationTarget: str, metricType: enumOf('AverageValue', 'Value') }),
    }),
    triggers: doc('The event sources scaled on (at least one).', { ...arr(obj({
      type: doc('redis, redis-streams, cron or cpu.', { ...str, minLength: 1 }),
      name: str,
      useCachedMetrics: bool,
      metadata: doc('The scaler\'s parameters, as strings.', { type: 'object', additionalProperties: str }),
      authenticationRef: obj({ name: str, kind: enumOf('TriggerAuthentication', 'ClusterTriggerAuthentication') }, ['name']),
      metricType: enumOf('AverageValue', 'Value', 'Utilization'),
    }, ['type', 'metadata'])) }),
    fallback: obj({
      failureThreshold: int32(0),
      replicas: int32(0),
      behavior: enumOf('static', 'currentReplicas', 'currentReplicasIfHigher', 'currentReplicasIfLower', 'scalingModifiers'),
    }, ['failureThreshold', 'replicas']),
  }, ['scaleTargetRef', 'triggers'])),
  status: doc('What the controller last observed.', {
    type: 'object',
    properties: {
      scaleTargetKind: str, scaleTargetGVKR: { type: 'object' }, originalReplicaCount: int32(), lastActiveTime: time,
      externalMetricNames: arr(str), resourceMetricNames: arr(str), conditions, health: { type: 'object' }, triggersActivity: { type: 'object' },
      pausedReplicaCount: int32(), hpaName: str, triggersTypes: str, authenticationsTypes: str, compositeScalerName: str,
    },
  }),
}, ['spec']));

/** The Kubernetes label value limit KEDA keeps names to (they become the scaledobject.keda.sh/name label). */
const MAX_LABEL_VALUE = 63;

function causeOf(prefix: string, p: { field: string; message: string; kind: string; value?: unknown }): StatusCause {
  const field = `${prefix}.${p.field}`;
  if (p.kind === 'required') return required(field, p.message);
  if (p.kind === 'unsupported' && p.field === 'type') return { ...unsupported(field, p.value, ['cpu', 'cron', 'redis', 'redis-streams']), message: `Unsupported value: ${JSON.stringify(p.value)}: ${p.message}` };
  return invalid(field, p.value ?? '', p.message);
}

export function scaledObjectErrors(so: any): StatusCause[] {
  const spec = so.spec ?? {};
  const out: StatusCause[] = [];
  const name: string = so.metadata?.name ?? '';
  if (name.length > MAX_LABEL_VALUE) out.push(invalid('metadata.name', name, `scaledobject name is ${name.length} characters long; must be no more than ${MAX_LABEL_VALUE} characters because it is used as the "scaledobject.keda.sh/name" label value`));
  if (spec.scaleTargetRef && !spec.scaleTargetRef.name) out.push(required('spec.scaleTargetRef.name'));
  // The CRD's rule (x-kubernetes-validations) and CheckReplicaCountBoundsAreValid.
  const min = spec.minReplicaCount ?? 0;
  const max = spec.maxReplicaCount ?? 100;
  if (min > max) out.push(invalid('spec', 'object', 'minReplicaCount must be less than or equal to maxReplicaCount'));
  if (spec.idleReplicaCount !== undefined && spec.idleReplicaCount >= min) {
    out.push(invalid('spec.idleReplicaCount', spec.idleReplicaCount, `IdleReplicaCount=${spec.idleReplicaCount} must be less than MinReplicaCount=${min}`));
  }
  const triggers: ScaleTrigger[] = Array.isArray(spec.triggers) ? spec.triggers : [];
  // The CRD's minItems, in the API server's words for a CRD.
  if (Array.isArray(spec.triggers) && spec.triggers.length === 0) out.push(invalid('spec.triggers', 0, 'spec.triggers in body should have at least 1 items'));
  const names = new Set<string>();
  triggers.forEach((t, i) => {
    const prefix = `spec.triggers[${i}]`;
    if (t.name) {
      if (names.has(t.name)) out.push({ ...duplicate(`${prefix}.name`, t.name), message: `Duplicate value: ${JSON.stringify(t.name)}: triggerName "${t.name}" is defined multiple times in the ScaledObject/ScaledJob, but it must be unique` });
      names.add(t.name);
    }
    if (t.useCachedMetrics && ['cpu', 'memory', 'cron'].includes(t.type)) out.push(invalid(`${prefix}.useCachedMetrics`, true, `property "useCachedMetrics" is not supported for "${t.type}" scaler`));
    const parsed = parseTrigger(t, i);
    if (!parsed.ok) out.push(...parsed.problems.map((p) => causeOf(prefix, p)));
  });
  // verifyCPUMemoryScalers: cpu alone is always active, so it can never let the target reach zero.
  if (triggers.length && triggers.every((t) => t.type === 'cpu' || t.type === 'memory') && min === 0) {
    out.push(invalid('spec.minReplicaCount', min, 'scaledobject has only cpu/memory triggers AND minReplica is 0 (scale to zero doesn\'t work in this case)'));
  }
  // CheckFallbackValid.
  if (spec.fallback && triggers.length && triggers.every((t) => t.type === 'cpu' || t.type === 'memory')) {
    out.push(invalid('spec.fallback', 'object', 'at least one trigger (that is not cpu or memory) has to have the `AverageValue` type for the fallback to be enabled'));
  }
  if (spec.advanced?.scalingModifiers && Object.keys(spec.advanced.scalingModifiers).length) {
    out.push(invalid('spec.advanced.scalingModifiers', 'object', 'scalingModifiers are not supported by Wharf'));
  }
  return out;
}

/** The status of a KEDA condition type, as the CRD's JSONPath `.status.conditions[?(@.type=="X")].status` prints it. */
function conditionStatus(so: any, type: string): string {
  return (so.status?.conditions ?? []).find((c: any) => c.type === type)?.status ?? '';
}

export const scaledObjectStrategy = defineStrategy({
  resource: resourceInfo({ group: 'keda.sh', version: 'v1alpha1', plural: 'scaledobjects', kind: 'ScaledObject', shortNames: ['so'], subresources: ['status'] }),
  schema: SCHEMA,
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  // KEDA's CRD defaults nothing but fallback.behavior; its controller reads the other defaults (pollingInterval 30, ...).
  defaults({ spec }) {
    if (spec?.fallback && typeof spec.fallback === 'object') spec.fallback.behavior ??= 'static';
  },
  prepareForCreate: (so) => {
    so.status = {};
  },
  validate: (so) => scaledObjectErrors(so),
  // KEDA's printer columns (kubebuilder:printcolumn on ScaledObject).
  columns: [
    NAME,
    { name: 'ScaleTargetKind', cell: (so) => so.status?.scaleTargetKind ?? '' },
    { name: 'ScaleTargetName', cell: (so) => so.spec?.scaleTargetRef?.name ?? '' },
    { name: 'Min', type: 'integer', cell: (so) => so.spec?.minReplicaCount ?? '' },
    { name: 'Max', type: 'integer', cell: (so) => so.spec?.maxReplicaCount ?? '' },
    { name: 'Ready', cell: (so) => conditionStatus(so, 'Ready') },
    { name: 'Active', cell: (so) => conditionStatus(so, 'Active') },
    { name: 'Fallback', cell: (so) => conditionStatus(so, 'Fallback') },
    { name: 'Paused', cell: (so) => conditionStatus(so, 'Paused') },
    { name: 'Triggers', cell: (so) => so.status?.triggersTypes ?? '' },
    { name: 'Authentications', cell: (so) => so.status?.authenticationsTypes ?? '' },
    AGE,
  ],
});
