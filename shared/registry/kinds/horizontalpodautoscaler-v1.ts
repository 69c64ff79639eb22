// autoscaling/v1 HorizontalPodAutoscaler: the stored autoscaling/v2 object in v1's form, converted
// as Kubernetes' pkg/apis/autoscaling/v1/conversion.go does. v1 holds one metric, the CPU
// utilization target (targetCPUUtilizationPercentage); every other metric, the behavior, the
// current metrics and the conditions ride in annotations, so a v1 client's read-modify-write loses
// nothing of what a v2 client set.
import type { KubeObject } from '../../types.ts';
import { HPA_V1_SCHEMA } from '../../api/autoscaling-schemas.ts';
import { resourceInfo, type Conversion } from '../strategy.ts';

export const METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/metrics';
export const BEHAVIOR_ANNOTATION = 'autoscaling.alpha.kubernetes.io/behavior';
export const CURRENT_METRICS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/current-metrics';
export const CONDITIONS_ANNOTATION = 'autoscaling.alpha.kubernetes.io/conditions';
const ANNOTATIONS = [METRICS_ANNOTATION, BEHAVIOR_ANNOTATION, CURRENT_METRICS_ANNOTATION, CONDITIONS_ANNOTATION];

const isCpuUtilization = (m: any) => m?.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization' && m.resource?.target?.averageUtilization != null;

const prune = <T extends Record<string, unknown>>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** A v2 MetricSpec in v1's annotation form (autoscaling/v1 MetricSpec: targetAverageUtilization...). */
function specToV1(m: any): any {
  const t = (src: any) => src?.target ?? {};
  switch (m?.type) {
    case 'Resource':
      return { type: 'Resource', resource: prune({ name: m.resource?.name, targetAverageUtilization: t(m.resource).averageUtilization, targetAverageValue: t(m.resource).averageValue }) };
    case 'ContainerResource':
      return { type: 'ContainerResource', containerResource: prune({ name: m.containerResource?.name, container: m.containerResource?.container, targetAverageUtilization: t(m.containerResource).averageUtilization, targetAverageValue: t(m.containerResource).averageValue }) };
    case 'Pods':
      return { type: 'Pods', pods: prune({ metricName: m.pods?.metric?.name, selector: m.pods?.metric?.selector, targetAverageValue: t(m.pods).averageValue }) };
    case 'Object':
      return { type: 'Object', object: prune({ target: m.object?.describedObject, metricName: m.object?.metric?.name, selector: m.object?.metric?.selector, targetValue: t(m.object).value, averageValue: t(m.object).averageValue }) };
    case 'External':
      return { type: 'External', external: prune({ metricName: m.external?.metric?.name, metricSelector: m.external?.metric?.selector, targetValue: t(m.external).value, targetAverageValue: t(m.external).averageValue }) };
  }
  return m;
}

function specFromV1(m: any): any {
  const target = (utilization: unknown, average: unknown, value?: unknown) =>
    prune({ type: utilization != null ? 'Utilization' : average != null ? 'AverageValue' : 'Value', averageUtilization: utilization, averageValue: average, value });
  switch (m?.type) {
    case 'Resource':
      return { type: 'Resource', resource: { name: m.resource?.name, target: target(m.resource?.targetAverageUtilization, m.resource?.targetAverageValue) } };
    case 'ContainerResource':
      return { type: 'ContainerResource', containerResource: { name: m.containerResource?.name, container: m.containerResource?.container, target: target(m.containerResource?.targetAverageUtilization, m.containerResource?.targetAverageValue) } };
    case 'Pods':
      return { type: 'Pods', pods: { metric: prune({ name: m.pods?.metricName, selector: m.pods?.selector }), target: target(undefined, m.pods?.targetAverageValue) } };
    case 'Object':
      return { type: 'Object', object: { describedObject: m.object?.target, metric: prune({ name: m.object?.metricName, selector: m.object?.selector }), target: target(undefined, m.object?.averageValue, m.object?.targetValue) } };
    case 'External':
      return { type: 'External', external: { metric: prune({ name: m.external?.metricName, selector: m.external?.metricSelector }), target: target(undefined, m.external?.targetAverageValue, m.external?.targetValue) } };
  }
  return m;
}

function statusToV1(s: any): any {
  const c = (src: any) => src?.current ?? {};
  switch (s?.type) {
    case 'Resource':
      return { type: 'Resource', resource: prune({ name: s.resource?.name, currentAverageUtilization: c(s.resource).averageUtilization, currentAverageValue: c(s.resource).averageValue }) };
    case 'ContainerResource':
      return { type: 'ContainerResource', containerResource: prune({ name: s.containerResource?.name, container: s.containerResource?.container, currentAverageUtilization: c(s.containerResource).averageUtilization, currentAverageValue: c(s.containerResource).averageValue }) };
  }
  return s;
}

function statusFromV1(s: any): any {
  switch (s?.type) {
    case 'Resource':
      return { type: 'Resource', resource: { name: s.resource?.name, current: prune({ averageUtilization: s.resource?.currentAverageUtilization, averageValue: s.resource?.currentAverageValue }) } };
    case 'ContainerResource':
      return { type: 'ContainerResource', containerResource: { name: s.containerResource?.name, container: s.containerResource?.container, current: prune({ averageUtilization: s.containerResource?.currentAverageUtilization, averageValue: s.containerResource?.currentAverageValue }) } };
  }
  return s;
}

function parseAnnotation(annotations: Record<string, string>, key: string): any {
  const raw = annotations[key];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

/** The v2 object (stored form) as a v1 client sees it. */
export function hpaToV1(hpa: KubeObject): KubeObject {
  const spec = hpa.spec ?? {};
  const status = hpa.status ?? {};
  const annotations: Record<string, string> = { ...hpa.metadata?.annotations };
  const metrics: any[] = spec.metrics ?? [];
  const cpu = metrics.find(isCpuUtilization);
  const others = metrics.filter((m) => m !== cpu);
  if (others.length) annotations[METRICS_ANNOTATION] = JSON.stringify(others.map(specToV1));
  if (spec.behavior) annotations[BEHAVIOR_ANNOTATION] = JSON.stringify(spec.behavior);
  const currentMetrics: any[] = status.currentMetrics ?? [];
  const cpuStatus = currentMetrics.find((s) => s?.type === 'Resource' && s.resource?.name === 'cpu');
  const otherStatuses = currentMetrics.filter((s) => s !== cpuStatus);
  if (otherStatuses.length) annotations[CURRENT_METRICS_ANNOTATION] = JSON.stringify(otherStatuses.map(statusToV1));
  if (status.conditions?.length) annotations[CONDITIONS_ANNOTATION] = JSON.stringify(status.conditions);
  return {
    apiVersion: 'autoscaling/v1',
    kind: 'HorizontalPodAutoscaler',
    metadata: { ...hpa.metadata, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: prune({
      scaleTargetRef: spec.scaleTargetRef,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      targetCPUUtilizationPercentage: cpu?.resource.target.averageUtilization,
    }),
    status: prune({
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: cpuStatus?.resource?.current?.averageUtilization,
    }),
  };
}

/** A v1 client's object in the stored (v2) form: the annotations become fields again. */
export function hpaFromV1(hpa: KubeObject): KubeObject {
  const spec = hpa.spec ?? {};
  const status = hpa.status ?? {};
  const annotations: Record<string, string> = { ...hpa.metadata?.annotations };
  const metrics: any[] = [];
  if (spec.targetCPUUtilizationPercentage != null) {
    metrics.push({ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } });
  }
  const extra = parseAnnotation(annotations, METRICS_ANNOTATION);
  if (Array.isArray(extra)) metrics.push(...extra.map(specFromV1));
  const behavior = parseAnnotation(annotations, BEHAVIOR_ANNOTATION);
  const currentMetrics: any[] = [];
  if (status.currentCPUUtilizationPercentage != null) currentMetrics.push({ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } });
  const otherStatuses = parseAnnotation(annotations, CURRENT_METRICS_ANNOTATION);
  if (Array.isArray(otherStatuses)) currentMetrics.push(...otherStatuses.map(statusFromV1));
  const conditions = parseAnnotation(annotations, CONDITIONS_ANNOTATION);
  for (const key of ANNOTATIONS) delete annotations[key];
  const metadata = { ...hpa.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata,
    spec: prune({
      scaleTargetRef: spec.scaleTargetRef,
      minReplicas: spec.minReplicas,
      maxReplicas: spec.maxReplicas,
      metrics: metrics.length ? metrics : undefined,
      behavior: behavior && typeof behavior === 'object' ? behavior : undefined,
    }),
    ...(hpa.status !== undefined ? {
      status: prune({
        observedGeneration: status.observedGeneration,
        lastScaleTime: status.lastScaleTime,
        currentReplicas: status.currentReplicas,
        desiredReplicas: status.desiredReplicas,
        currentMetrics: currentMetrics.length ? currentMetrics : undefined,
        conditions: Array.isArray(conditions) ? conditions : undefined,
      }),
    } : {}),
  };
}

export const hpaV1Conversion: Conversion = {
  resource: resourceInfo({ group: 'autoscaling', version: 'v1', plural: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', shortNames: ['hpa'], categories: ['all'], subresources: ['status'] }),
  schema: HPA_V1_SCHEMA,
  // Kubernetes validates the converted object: the stored kind's rules name v2's fields.
  validate: () => [],
  toStorage: hpaFromV1,
  fromStorage: hpaToV1,
};
