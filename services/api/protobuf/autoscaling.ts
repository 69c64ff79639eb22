// Messages of autoscaling/v2 and autoscaling/v1 HorizontalPodAutoscaler (k8s.io/api autoscaling
// generated.proto), which `kubectl autoscale` posts as protobuf. v2 owns the plain names; v1's
// messages carry the `autoscalingv1.` prefix. Status metric lists are left out: clients do not
// post them, and unknown fields are skipped.
import type { MessageTable } from './schema.ts';

export const AUTOSCALING_MESSAGES: MessageTable = {
  HorizontalPodAutoscaler: {
    1: 'metadata ObjectMeta',
    2: 'spec HorizontalPodAutoscalerSpec',
    3: 'status HorizontalPodAutoscalerStatus',
  },
  HorizontalPodAutoscalerSpec: {
    1: 'scaleTargetRef CrossVersionObjectReference',
    2: 'minReplicas *int32',
    3: 'maxReplicas int32 always',
    4: 'metrics []MetricSpec',
    5: 'behavior *HorizontalPodAutoscalerBehavior',
  },
  CrossVersionObjectReference: {
    1: 'kind string always',
    2: 'name string always',
    3: 'apiVersion string',
  },
  MetricSpec: {
    1: 'type string always',
    2: 'object *ObjectMetricSource',
    3: 'pods *PodsMetricSource',
    4: 'resource *ResourceMetricSource',
    5: 'external *ExternalMetricSource',
    7: 'containerResource *ContainerResourceMetricSource',
  },
  ResourceMetricSource: {
    1: 'name string always',
    2: 'target MetricTarget',
  },
  ContainerResourceMetricSource: {
    1: 'name string always',
    2: 'target MetricTarget',
    3: 'container string always',
  },
  PodsMetricSource: {
    1: 'metric MetricIdentifier',
    2: 'target MetricTarget',
  },
  ObjectMetricSource: {
    1: 'describedObject CrossVersionObjectReference',
    2: 'target MetricTarget',
    3: 'metric MetricIdentifier',
  },
  ExternalMetricSource: {
    1: 'metric MetricIdentifier',
    2: 'target MetricTarget',
  },
  MetricIdentifier: {
    1: 'name string always',
    2: 'selector *LabelSelector',
  },
  MetricTarget: {
    1: 'type string always',
    2: 'value *Quantity',
    3: 'averageValue *Quantity',
    4: 'averageUtilization *int32',
  },
  HorizontalPodAutoscalerBehavior: {
    1: 'scaleUp *HPAScalingRules',
    2: 'scaleDown *HPAScalingRules',
  },
  HPAScalingRules: {
    1: 'selectPolicy *string',
    2: 'policies []HPAScalingPolicy',
    3: 'stabilizationWindowSeconds *int32',
  },
  HPAScalingPolicy: {
    1: 'type string always',
    2: 'value int32 always',
    3: 'periodSeconds int32 always',
  },
  HorizontalPodAutoscalerStatus: {
    1: 'observedGeneration *int64',
    2: 'lastScaleTime *Time',
    3: 'currentReplicas int32',
    4: 'desiredReplicas int32 always',
  },
  'autoscalingv1.HorizontalPodAutoscaler': {
    1: 'metadata ObjectMeta',
    2: 'spec autoscalingv1.HorizontalPodAutoscalerSpec',
    3: 'status autoscalingv1.HorizontalPodAutoscalerStatus',
  },
  'autoscalingv1.HorizontalPodAutoscalerSpec': {
    1: 'scaleTargetRef CrossVersionObjectReference',
    2: 'minReplicas *int32',
    3: 'maxReplicas int32 always',
    4: 'targetCPUUtilizationPercentage *int32',
  },
  'autoscalingv1.HorizontalPodAutoscalerStatus': {
    1: 'observedGeneration *int64',
    2: 'lastScaleTime *Time',
    3: 'currentReplicas int32 always',
    4: 'desiredReplicas int32 always',
    5: 'currentCPUUtilizationPercentage *int32',
  },
};
