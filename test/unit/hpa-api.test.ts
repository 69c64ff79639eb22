// The HorizontalPodAutoscaler kind: Kubernetes' defaults and validation wording, the v1 <-> v2
// conversion, the kubectl columns, and discovery of both versions.
import test from 'ava';
import type { KubeObject } from '../../shared/types.ts';
import { applyDefaults, validateObject } from '../../shared/registry/admission.ts';
import { formatHpaMetrics } from '../../shared/api/autoscaling.ts';
import { hpaFromV1, hpaToV1 } from '../../shared/registry/kinds/horizontalpodautoscaler-v1.ts';
import { horizontalPodAutoscalerStrategy } from '../../shared/registry/kinds/horizontalpodautoscaler.ts';
import { apiGroup, apiGroupList, apiResourceList } from '../../services/api/discovery.ts';
import { scaleTargetResource } from '../../shared/api/scale.ts';

const hpa = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, ...spec },
}) as KubeObject;

const messages = (obj: KubeObject) => {
  applyDefaults('HorizontalPodAutoscaler', obj);
  return validateObject('HorizontalPodAutoscaler', obj).causes.map((c) => `${c.field}: ${c.message}`);
};

test('defaults: minReplicas 1, an 80% CPU target; a given behavior is filled in, the scale-down window left to the controller', (t) => {
  const obj = hpa({ behavior: { scaleDown: { policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } } });
  applyDefaults('HorizontalPodAutoscaler', obj);
  t.is(obj.spec.minReplicas, 1);
  t.deepEqual(obj.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }]);
  t.deepEqual(obj.spec.behavior, {
    scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max', policies: [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }] },
    scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
  });
  const none = hpa({});
  applyDefaults('HorizontalPodAutoscaler', none);
  t.is(none.spec.behavior, undefined);
});

test('validation: replicas bounds, the target reference, metric shapes and behavior policies, worded as Kubernetes', (t) => {
  t.deepEqual(messages(hpa({ minReplicas: 0 })), [
    'spec.minReplicas: Invalid value: 0: must be greater than or equal to 1',
    'spec.metrics: Forbidden: must specify at least one Object or External metric to support scaling to zero replicas',
  ]);
  t.deepEqual(messages(hpa({ minReplicas: 3, maxReplicas: 2 })), ['spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`']);
  t.deepEqual(messages(hpa({ maxReplicas: 0 })), ['spec.maxReplicas: Invalid value: 0: must be greater than 0', 'spec.maxReplicas: Invalid value: 0: must be greater than or equal to `minReplicas`']);
  t.deepEqual(messages(hpa({ scaleTargetRef: { kind: 'Deployment', name: 'a/b' } })), ["spec.scaleTargetRef.name: Invalid value: \"a/b\": may not contain '/'"]);
  t.deepEqual(messages(hpa({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization' } } }] })), ['spec.metrics[0].resource.target.averageUtilization: Required value: must set either a target raw value or a target utilization']);
  t.deepEqual(messages(hpa({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 0, averageValue: '-1' } } }] })), [
    'spec.metrics[0].resource.target.averageValue: Invalid value: "-1": must be positive',
    'spec.metrics[0].resource.target.averageUtilization: Invalid value: 0: must be greater than 0',
    'spec.metrics[0].resource.target.averageValue: Forbidden: may not set both a target raw value and a target utilization',
  ]);
  t.deepEqual(messages(hpa({ metrics: [{ type: 'Fancy' }] })), ['spec.metrics[0].type: Unsupported value: "Fancy": supported values: "ContainerResource", "External", "Object", "Pods", "Resource"']);
  t.deepEqual(messages(hpa({ metrics: [{ type: 'Pods', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 5 } } }] })), [
    'spec.metrics[0].pods: Required value: must populate information for the given metric source',
  ]);
  t.deepEqual(messages(hpa({ metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 5 } }, pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '1' } } }] })), [
    'spec.metrics[0].pods: Forbidden: must populate the given metric source only',
  ]);
  t.deepEqual(messages(hpa({ metrics: [{ type: 'ContainerResource', containerResource: { name: 'cpu', container: 'Bad_Name', target: { type: 'AverageValue', averageValue: '100m' } } }] })).length, 1);
  t.deepEqual(messages(hpa({ behavior: { scaleUp: { stabilizationWindowSeconds: 4000, selectPolicy: 'Most', policies: [{ type: 'Nodes', value: 0, periodSeconds: 1801 }] } } })), [
    'spec.behavior.scaleUp.stabilizationWindowSeconds: Invalid value: 4000: must be less than or equal to 3600',
    'spec.behavior.scaleUp.selectPolicy: Unsupported value: "Most": supported values: "Disabled", "Max", "Min"',
    'spec.behavior.scaleUp.policies[0].type: Unsupported value: "Nodes": supported values: "Percent", "Pods"',
    'spec.behavior.scaleUp.policies[0].value: Invalid value: 0: must be greater than zero',
    'spec.behavior.scaleUp.policies[0].periodSeconds: Invalid value: 1801: must be less than or equal to 1800',
  ]);
  t.deepEqual(messages(hpa({ behavior: { scaleDown: { policies: [] } } })), ['spec.behavior.scaleDown.policies: Required value: must specify at least one Policy']);
  t.deepEqual(messages(hpa({ maxReplicas: 'five' })), ['spec.maxReplicas: Invalid value: "five": must be of type integer']);
});

test('v1 <-> v2: targetCPUUtilizationPercentage is a cpu Utilization metric; the rest rides in annotations and comes back', (t) => {
  const v1: KubeObject = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 } } as KubeObject;
  const v2 = hpaFromV1(v1);
  t.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }]);
  const stored: KubeObject = {
    ...v2,
    spec: { ...v2.spec, metrics: [...v2.spec.metrics, { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } }], behavior: { scaleDown: { stabilizationWindowSeconds: 5, selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] } } },
    status: { currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 62, averageValue: '62m' } } }], conditions: [{ type: 'AbleToScale', status: 'True', reason: 'SucceededRescale', message: 'm' }] },
  } as KubeObject;
  const shown = hpaToV1(stored);
  t.deepEqual(shown.spec, { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 50 });
  t.deepEqual(shown.status, { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 62 });
  t.deepEqual(JSON.parse(shown.metadata.annotations!['autoscaling.alpha.kubernetes.io/metrics']), [{ type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } }]);
  const back = hpaFromV1(shown);
  t.deepEqual(back.spec, stored.spec);
  t.deepEqual(back.status!.conditions, stored.status!.conditions);
  t.is(back.metadata.annotations, undefined);
});

test('TARGETS: "cpu: 62%/50%", <unknown> before the first measurement, values, and "+ N more..."', (t) => {
  const cpu = { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } };
  const mem = { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } } };
  t.is(formatHpaMetrics([cpu], [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 62, averageValue: '62m' } } }]), 'cpu: 62%/50%');
  t.is(formatHpaMetrics([cpu], undefined), 'cpu: <unknown>/50%');
  t.is(formatHpaMetrics([cpu, mem], [{ type: '' }, { type: 'Resource', resource: { name: 'memory', current: { averageValue: '52428800' } } }]), 'cpu: <unknown>/50%, memory: 52428800/100Mi');
  t.is(formatHpaMetrics([cpu, cpu, cpu, mem], []), 'cpu: <unknown>/50%, cpu: <unknown>/50% + 2 more...');
  t.is(formatHpaMetrics([], []), '<none>');
  const row = horizontalPodAutoscalerStrategy.columns.map((c) => c.cell({ metadata: { name: 'web', creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, metrics: [cpu] }, status: { currentReplicas: 3 } }, Date.parse('2026-01-01T00:01:00Z')));
  t.deepEqual(row, ['web', 'Deployment/web', 'cpu: <unknown>/50%', '1', 5, 3, '60s']);
});

test('discovery: autoscaling once, with v2 preferred and v1 served; hpa short name in both', (t) => {
  const group = apiGroupList().groups.filter((g) => g.name === 'autoscaling');
  t.is(group.length, 1);
  t.deepEqual(group[0].versions.map((v) => v.groupVersion), ['autoscaling/v2', 'autoscaling/v1']);
  t.is(group[0].preferredVersion.version, 'v2');
  t.is(apiGroup('autoscaling')!.preferredVersion.version, 'v2');
  for (const v of ['v1', 'v2']) {
    const hpaResource = apiResourceList('autoscaling', v)!.resources.find((r) => r.name === 'horizontalpodautoscalers');
    t.like(hpaResource, { kind: 'HorizontalPodAutoscaler', namespaced: true, shortNames: ['hpa'] });
  }
});

test('scale targets: any kind with a /scale in the reference\'s group; Kubernetes\' words for the rest', (t) => {
  t.like(scaleTargetResource('apps', 'Deployment'), { plural: 'deployments' });
  t.like(scaleTargetResource('apps', 'ReplicaSet'), { plural: 'replicasets' });
  t.is((scaleTargetResource('', 'Deployment') as Error).message, 'no matches for kind "Deployment" in group ""');
  t.is((scaleTargetResource('apps', 'DaemonSet') as Error).message, 'the server could not find the requested resource');
});
