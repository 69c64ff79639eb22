// http.keda.sh/v1alpha1 HTTPScaledObject, KEDA's HTTP add-on's kind (its CRD
// config/crd/bases/http.keda.sh_httpscaledobjects.yaml and operator/apis/http/v1alpha1), served
// natively: the CRD's schema, defaults and printer columns, its CEL rule on ports, and what KEDA's
// operator and ScaledObject webhook refuse (mutually exclusive metrics, min above max) refused
// here at once as Invalid instead of as a condition later.
import type { StatusCause } from '../../types.ts';
import { objectMeta } from '../../api/schemas.ts';
import { forbidden, invalid, unsupported } from '../../api/validation.ts';
import { AGE, NAME } from '../../api/printers.ts';
import { parseGoDurationMs } from '../../http-scaling.ts';
import { defineStrategy, NAMES, resetStatus } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

type Schema = Record<string, any>;
const INT32_MAX = 2 ** 31 - 1;
const str: Schema = { type: 'string' };
const int32: Schema = { type: 'integer', minimum: -(2 ** 31), maximum: INT32_MAX, 'x-wharf-openapi': { format: 'int32' } };
const int: Schema = { type: 'integer', minimum: -(2 ** 63), maximum: 2 ** 63 - 1024 };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, additionalProperties: false, ...(required.length ? { required } : {}) });
const doc = (description: string, schema: Schema): Schema => ({ ...schema, description });

const portRef = {
  port: doc('The port to route to', int32),
  portName: doc('The port to route to referenced by name', str),
};

const SCHEMA: Schema = doc('HTTPScaledObject is the Schema for the httpscaledobjects API', obj({
  apiVersion: str,
  kind: str,
  metadata: objectMeta,
  spec: doc('HTTPScaledObjectSpec defines the desired state of HTTPScaledObject', obj({
    hosts: doc('The hosts to route (KEDA\'s interceptor routes by Host; Wharf\'s L4 proxy holds every connection to the Service).', { type: 'array', items: str }),
    pathPrefixes: doc('The paths to route (as hosts: kept, not interpreted by an L4 proxy).', { type: 'array', items: str }),
    headers: { type: 'array', items: obj({ name: { type: 'string', minLength: 1 }, value: str }, ['name']) },
    scaleTargetRef: doc('The workload to scale and the Service to route to.', obj({
      name: doc('The name of the Deployment to scale.', str),
      apiVersion: str,
      kind: str,
      service: doc('The name of the service to route to', str),
      ...portRef,
    }, ['service'])),
    coldStartTimeoutFailoverRef: doc('(optional) The name of the failover service to route HTTP requests to when the target is not available', obj({
      service: doc('The name of the service to route to', str),
      ...portRef,
      timeoutSeconds: doc('The timeout in seconds to wait before routing to the failover service (Default 30)', int32),
    }, ['service'])),
    replicas: doc('(optional) Replica information', obj({
      min: doc('Minimum amount of replicas to have in the deployment (Default 0)', int32),
      max: doc('Maximum amount of replicas to have in the deployment (Default 100)', int32),
    })),
    targetPendingRequests: doc('(optional) DEPRECATED (use ScalingMetric instead) Target metric value', int32),
    scaledownPeriod: doc('(optional) Cooldown period value', int32),
    initialCooldownPeriod: doc('(optional) Initial period before scaling', int32),
    scalingMetric: doc('(optional) Configuration for the metric used for scaling', obj({
      concurrency: doc('Scaling based on concurrent requests for a given target', obj({ targetValue: doc('Target value for rate scaling', int) })),
      requestRate: doc('Scaling based the average rate during an specific time window for a given target', obj({
        granularity: doc('Time granularity for rate calculation', str),
        targetValue: doc('Target value for rate scaling', int),
        window: doc('Time window for rate calculation', str),
      })),
    })),
    timeouts: doc('(optional) Timeouts that override the global ones', obj({ conditionWait: str, responseHeader: str })),
  }, ['scaleTargetRef'])),
  status: doc('HTTPScaledObjectStatus defines the observed state of HTTPScaledObject', {
    type: 'object',
    properties: { targetWorkload: str, targetService: str, conditions: { type: 'array', items: { type: 'object' } } },
  }),
}));

const has = (v: unknown) => v !== undefined && v !== null;

/** The CRD's CEL rule: has(self.portName) != has(self.port). */
function portRuleErrors(field: string, ref: any): StatusCause[] {
  if (!ref || typeof ref !== 'object') return [];
  return has(ref.portName) === has(ref.port) ? [invalid(field, 'object', "must define either the 'portName' or the 'port'")] : [];
}

function durationErrors(field: string, value: unknown): { causes: StatusCause[]; ms?: number } {
  if (value === undefined) return { causes: [] };
  const ms = parseGoDurationMs(value);
  if (ms === undefined) return { causes: [invalid(field, value, 'must be a duration such as "1m", "30s" or "500ms"')] };
  if (ms <= 0) return { causes: [invalid(field, value, 'must be greater than 0')] };
  return { causes: [], ms };
}

export function httpScaledObjectErrors(spec: any): StatusCause[] {
  if (!spec || typeof spec !== 'object') return [];
  const out: StatusCause[] = [];
  const ref = spec.scaleTargetRef;
  out.push(...portRuleErrors('spec.scaleTargetRef', ref));
  out.push(...portRuleErrors('spec.coldStartTimeoutFailoverRef', spec.coldStartTimeoutFailoverRef));
  if (ref && typeof ref === 'object') {
    if (!ref.name) out.push(invalid('spec.scaleTargetRef.name', ref.name ?? '', 'the Deployment to scale must be named'));
    if (ref.kind && ref.kind !== 'Deployment') out.push(unsupported('spec.scaleTargetRef.kind', ref.kind, ['Deployment']));
    if (ref.apiVersion && ref.apiVersion !== 'apps/v1') out.push(unsupported('spec.scaleTargetRef.apiVersion', ref.apiVersion, ['apps/v1']));
    if (typeof ref.port === 'number' && (ref.port < 1 || ref.port > 65535)) out.push(invalid('spec.scaleTargetRef.port', ref.port, 'must be between 1 and 65535, inclusive'));
  }
  const { min, max } = spec.replicas ?? {};
  if (typeof min === 'number' && min < 0) out.push(invalid('spec.replicas.min', min, 'must be greater than or equal to 0'));
  if (typeof max === 'number' && max < 1) out.push(invalid('spec.replicas.max', max, 'must be greater than or equal to 1'));
  if (typeof min === 'number' && min > (typeof max === 'number' ? max : 100)) out.push(invalid('spec.replicas.min', min, `must be less than or equal to spec.replicas.max (${typeof max === 'number' ? max : '100, its default'})`));
  for (const key of ['scaledownPeriod', 'initialCooldownPeriod'] as const) {
    if (typeof spec[key] === 'number' && spec[key] < 0) out.push(invalid(`spec.${key}`, spec[key], 'must be greater than or equal to 0'));
  }
  if (typeof spec.targetPendingRequests === 'number' && spec.targetPendingRequests < 1) out.push(invalid('spec.targetPendingRequests', spec.targetPendingRequests, 'must be greater than 0'));
  const metric = spec.scalingMetric ?? {};
  if (has(metric.concurrency) && has(metric.requestRate)) out.push(forbidden('spec.scalingMetric.requestRate', 'may not be set with spec.scalingMetric.concurrency: .spec.scalingMetric.concurrency and .spec.scalingMetric.rate are mutually exclusive'));
  for (const [name, m] of [['concurrency', metric.concurrency], ['requestRate', metric.requestRate]] as const) {
    if (m && typeof m.targetValue === 'number' && m.targetValue < 1) out.push(invalid(`spec.scalingMetric.${name}.targetValue`, m.targetValue, 'must be greater than 0'));
  }
  if (metric.requestRate) {
    const window = durationErrors('spec.scalingMetric.requestRate.window', metric.requestRate.window);
    const granularity = durationErrors('spec.scalingMetric.requestRate.granularity', metric.requestRate.granularity);
    out.push(...window.causes, ...granularity.causes);
    if (window.ms !== undefined && granularity.ms !== undefined && granularity.ms > window.ms) {
      out.push(invalid('spec.scalingMetric.requestRate.granularity', metric.requestRate.granularity, 'must not be longer than the window'));
    }
  }
  for (const key of ['conditionWait', 'responseHeader'] as const) {
    const v = spec.timeouts?.[key];
    if (v !== undefined && parseGoDurationMs(v) === undefined) out.push(invalid(`spec.timeouts.${key}`, v, 'must be a duration such as "20s"'));
  }
  return out;
}

const readyStatus = (o: any) => (o.status?.conditions ?? []).find((c: any) => c?.type === 'Ready')?.status ?? '<none>';
const orNone = (v: unknown) => (v === undefined || v === null || v === '' ? '<none>' : (v as string | number));

export const httpScaledObjectStrategy = defineStrategy({
  resource: resourceInfo({ group: 'http.keda.sh', version: 'v1alpha1', plural: 'httpscaledobjects', kind: 'HTTPScaledObject', shortNames: ['httpso'], subresources: ['status'] }),
  schema: SCHEMA,
  statusSubresource: true,
  generation: true,
  nameErrors: NAMES.subdomain,
  // The CRD's defaults (those it stores); the rest (min 0, max 100, scaledownPeriod 300) are KEDA's
  // at run time, as in KEDA, so `kubectl get httpso` shows what the user wrote.
  defaults({ spec }) {
    if (!spec || typeof spec !== 'object') return;
    const metric = spec.scalingMetric;
    if (metric?.concurrency && typeof metric.concurrency === 'object') metric.concurrency.targetValue ??= 100;
    if (metric?.requestRate && typeof metric.requestRate === 'object') {
      metric.requestRate.targetValue ??= 100;
      metric.requestRate.window ??= '1m';
      metric.requestRate.granularity ??= '1s';
    }
    if (spec.coldStartTimeoutFailoverRef && typeof spec.coldStartTimeoutFailoverRef === 'object') spec.coldStartTimeoutFailoverRef.timeoutSeconds ??= 30;
  },
  prepareForCreate: resetStatus(() => ({})),
  validate: (o) => httpScaledObjectErrors(o.spec),
  columns: [
    NAME,
    { name: 'TargetWorkload', cell: (o) => orNone(o.status?.targetWorkload) },
    { name: 'TargetService', cell: (o) => orNone(o.status?.targetService) },
    { name: 'MinReplicas', type: 'integer', cell: (o) => orNone(o.spec?.replicas?.min) },
    { name: 'MaxReplicas', type: 'integer', cell: (o) => orNone(o.spec?.replicas?.max) },
    AGE,
    { name: 'Ready', cell: readyStatus },
  ],
});
