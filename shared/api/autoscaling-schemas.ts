// JSON Schemas of autoscaling/v2 and autoscaling/v1 HorizontalPodAutoscaler, with Kubernetes
// v1.32's field names and Go types (k8s.io/api/autoscaling/v2 and v1 types.go), built as
// shared/api/schemas.ts builds the other kinds': spec objects closed, statuses open.
import { schemaBlocks } from './schemas.ts';

const { named, doc, obj, statusObj, arr, str, int32, int64, quantity, time, labelSelector, topLevel } = schemaBlocks;

// ---- autoscaling/v2 --------------------------------------------------------------------

const v2 = (type: string) => `io.k8s.api.autoscaling.v2.${type}`;

const crossVersionObjectReference = (version: string) => named(`io.k8s.api.autoscaling.${version}.CrossVersionObjectReference`, obj({
  kind: doc('Kind of the referent, e.g. Deployment.', str),
  name: doc('Name of the referent.', str),
  apiVersion: doc('API version of the referent, e.g. apps/v1.', str),
}, ['kind', 'name']));

const metricTarget = named(v2('MetricTarget'), obj({
  type: doc('Utilization, Value or AverageValue.', str),
  value: doc('The target value of the metric (as a quantity).', quantity),
  averageValue: doc('The target value of the average of the metric across all relevant pods (as a quantity).', quantity),
  averageUtilization: doc('The target value of the average of the resource metric across all relevant pods, as a percentage of the requested value of the resource.', int32()),
}, ['type']));
const metricIdentifier = named(v2('MetricIdentifier'), obj({ name: doc('The name of the given metric.', str), selector: labelSelector }, ['name']));

const metricSpec = named(v2('MetricSpec'), obj({
  type: doc('The type of metric source: ContainerResource, External, Object, Pods or Resource.', str),
  resource: doc('A resource metric (cpu, memory) known to Kubernetes, as specified in requests and limits.', named(v2('ResourceMetricSource'), obj({ name: doc('The name of the resource in question.', str), target: metricTarget }, ['name', 'target']))),
  containerResource: doc('A resource metric of one container of each pod.', named(v2('ContainerResourceMetricSource'), obj({ name: doc('The name of the resource in question.', str), target: metricTarget, container: doc('The name of the container in the pods of the scaling target.', str) }, ['name', 'target', 'container']))),
  pods: doc('A metric describing each pod in the current scale target.', named(v2('PodsMetricSource'), obj({ metric: metricIdentifier, target: metricTarget }, ['metric', 'target']))),
  object: doc('A metric describing a single kubernetes object.', named(v2('ObjectMetricSource'), obj({ describedObject: crossVersionObjectReference('v2'), target: metricTarget, metric: metricIdentifier }, ['describedObject', 'target', 'metric']))),
  external: doc('A global metric that is not associated with any Kubernetes object.', named(v2('ExternalMetricSource'), obj({ metric: metricIdentifier, target: metricTarget }, ['metric', 'target']))),
}, ['type']));

const scalingPolicy = named(v2('HPAScalingPolicy'), obj({
  type: doc('Pods or Percent.', str),
  value: doc('The amount of change which is permitted by the policy.', int32()),
  periodSeconds: doc('The window of time for which the policy should hold true.', int32()),
}, ['type', 'value', 'periodSeconds']));
const scalingRules = named(v2('HPAScalingRules'), obj({
  stabilizationWindowSeconds: doc('Seconds of past recommendations considered while scaling.', int32()),
  selectPolicy: doc('Which policy should be used: Max, Min or Disabled.', str),
  policies: doc('Policies that may be used during scaling.', arr(scalingPolicy)),
}));

const metricValueStatus = statusObj({ value: quantity, averageValue: quantity, averageUtilization: int32() });

export const HPA_V2_SCHEMA = topLevel('Automatically manages the replica count of any resource implementing the scale subresource, from the metrics specified.', named(v2('HorizontalPodAutoscalerSpec'), obj({
  scaleTargetRef: doc('The target resource to be scaled: its metrics are collected and its replica count set.', crossVersionObjectReference('v2')),
  minReplicas: doc('The lower limit for the number of replicas to which the autoscaler can scale down. Defaults to 1.', int32()),
  maxReplicas: doc('The upper limit for the number of replicas to which the autoscaler can scale up.', int32()),
  metrics: doc('The specifications used to calculate the desired replica count (the maximum over all metrics is used).', arr(metricSpec)),
  behavior: doc('The scaling behavior of the target in both up and down directions.', named(v2('HorizontalPodAutoscalerBehavior'), obj({
    scaleUp: doc('Scaling policy for scaling up.', scalingRules),
    scaleDown: doc('Scaling policy for scaling down.', scalingRules),
  }))),
}, ['scaleTargetRef', 'maxReplicas'])), named(v2('HorizontalPodAutoscalerStatus'), statusObj({
  observedGeneration: int64(),
  lastScaleTime: doc('The last time the autoscaler scaled the number of pods.', time),
  currentReplicas: doc('Current number of replicas of pods managed by this autoscaler.', int32()),
  desiredReplicas: doc('Desired number of replicas of pods managed by this autoscaler.', int32()),
  currentMetrics: doc('The last read state of the metrics used by this autoscaler.', arr(statusObj({
    type: str,
    resource: statusObj({ name: str, current: metricValueStatus }),
    containerResource: statusObj({ name: str, container: str, current: metricValueStatus }),
    pods: statusObj({ metric: statusObj({}), current: metricValueStatus }),
    object: statusObj({ describedObject: statusObj({}), metric: statusObj({}), current: metricValueStatus }),
    external: statusObj({ metric: statusObj({}), current: metricValueStatus }),
  }))),
  conditions: doc('The conditions required for this autoscaler to scale its target.', arr(statusObj({ type: str, status: str, lastTransitionTime: time, reason: str, message: str }))),
})));

// ---- autoscaling/v1 --------------------------------------------------------------------

export const HPA_V1_SCHEMA = topLevel('Configuration of a horizontal pod autoscaler (autoscaling/v1: CPU utilization only; other metrics in annotations).', named('io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerSpec', obj({
  scaleTargetRef: doc('Reference to the scaled resource; its pods are measured and its replica count set.', crossVersionObjectReference('v1')),
  minReplicas: doc('The lower limit for the number of pods that can be set by the autoscaler. Defaults to 1.', int32()),
  maxReplicas: doc('The upper limit for the number of pods that can be set by the autoscaler.', int32()),
  targetCPUUtilizationPercentage: doc('The target average CPU utilization (as a percentage of requested CPU) over all the pods; 80% if not specified.', int32()),
}, ['scaleTargetRef', 'maxReplicas'])), named('io.k8s.api.autoscaling.v1.HorizontalPodAutoscalerStatus', statusObj({
  observedGeneration: int64(),
  lastScaleTime: time,
  currentReplicas: int32(),
  desiredReplicas: int32(),
  currentCPUUtilizationPercentage: int32(),
})));
