// The pure parts of ResourceQuota and LimitRange: exact quantity arithmetic, the LimitRanger's
// defaults and bounds, the quota evaluators' usage and scopes, the admission's decision and the
// controller's recount. Messages are compared word for word with Kubernetes'.
import test from 'ava';
import type { KubeObject } from '../../shared/types.ts';
import { addQ, canonicalQuantity, formatQuantity, parseExact, prettyPrint, parseList, subtractNonNegative, formatList } from '../../shared/api/exact-quantity.ts';
import { LIMIT_RANGER_ANNOTATION, aggregateMessage, applyLimitRangeDefaults, defaultLimitRange, limitRangeViolations } from '../../shared/quota/limit-ranger.ts';
import { evaluatorFor, podConstraints, podMatchesScope, podUsage, serviceUsage, quotaMatches } from '../../shared/quota/evaluators.ts';
import { checkRequest } from '../../shared/quota/quota-check.ts';
import { computeStatus, evaluatorsFor, nextRecountMs } from '../../services/controller-manager/resourcequota/plan.ts';
import { validateObject, applyDefaults } from '../../shared/registry/admission.ts';

const NOW = Date.parse('2026-12-03T08:00:00Z');

const container = (name: string, resources?: { requests?: Record<string, string>; limits?: Record<string, string> }) => ({ name, image: 'busybox', ...(resources ? { resources } : {}) });
const pod = (spec: Record<string, unknown>, extra: Partial<KubeObject> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns' },
  spec: { containers: [container('c')], ...spec },
  ...extra,
});
const limitRange = (limits: unknown[]): KubeObject => ({ apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'lr', namespace: 'ns' }, spec: { limits } });
const quota = (name: string, hard: Record<string, string>, used: Record<string, string> | undefined, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name, namespace: 'ns', resourceVersion: '1' },
  spec: { hard, ...spec },
  status: used ? { hard, used } : {},
});
const usage = (list: Record<string, { nanos: bigint; format: any }>) => formatList(list);

// ---- quantities ------------------------------------------------------------------------

test('quantities add exactly and print canonically, as resource.Quantity', (t) => {
  t.is(formatQuantity(addQ(parseExact('500m'), parseExact('500m'))), '1');
  t.is(formatQuantity(addQ(parseExact('100m'), parseExact('0.2'))), '300m');
  t.is(canonicalQuantity('1.5Gi'), '1536Mi');
  t.is(canonicalQuantity('1024Mi'), '1Gi');
  t.is(canonicalQuantity('1000m'), '1');
  t.is(canonicalQuantity('0.1'), '100m');
  t.is(canonicalQuantity('2000'), '2k');
  t.is(canonicalQuantity('1e3'), '1e3');
  t.is(canonicalQuantity('512'), '512');
  t.is(canonicalQuantity(3), '3');
  t.is(canonicalQuantity('0'), '0');
  // Finer than a nano-unit rounds up, as Kubernetes rounds.
  t.is(canonicalQuantity('1.5n'), '2n');
  // A whole BinarySI value that is no multiple of 1024 prints in bytes; below 1024 in DecimalSI.
  t.is(canonicalQuantity('1.5Ki'), '1536');
  t.is(canonicalQuantity('0.5Ki'), '512');
  // A zero takes the format of what is added to it (Quantity.Add), so used memory stays binary.
  t.is(formatQuantity(addQ(parseExact('0'), parseExact('64Mi'))), '64Mi');
  t.is(formatQuantity(addQ(parseExact('64Mi'), parseExact('64Mi'))), '128Mi');
  t.throws(() => parseExact('1.2.3'));
  t.throws(() => parseExact('abc'));
  t.throws(() => parseExact(''));
  t.is(prettyPrint(parseList({ 'requests.cpu': '1', pods: '2' })), 'pods=2,requests.cpu=1');
  t.deepEqual(usage(subtractNonNegative(parseList({ a: '1', b: '2' }), parseList({ a: '3', b: '500m' }))), { a: '0', b: '1500m' });
});

// ---- LimitRanger -----------------------------------------------------------------------

test('a LimitRange item defaults its default limit to max and its default request to the default, else min', (t) => {
  const lr = limitRange([{ type: 'Container', max: { cpu: '2', memory: '1Gi' }, min: { memory: '10Mi' }, default: { memory: '512Mi' } }, { type: 'Pod', max: { cpu: '4' } }]);
  defaultLimitRange(lr);
  t.deepEqual(lr.spec.limits[0].default, { memory: '512Mi', cpu: '2' });
  t.deepEqual(lr.spec.limits[0].defaultRequest, { memory: '512Mi', cpu: '2' });
  t.is(lr.spec.limits[1].default, undefined, 'Pod items get no defaults');
  const minOnly = limitRange([{ type: 'Container', min: { cpu: '100m' } }]);
  defaultLimitRange(minOnly);
  t.deepEqual(minOnly.spec.limits[0].defaultRequest, { cpu: '100m' });
  t.is(minOnly.spec.limits[0].default, undefined);
});

test('the LimitRanger fills what containers and init containers lack and says so in the annotation', (t) => {
  const lr = limitRange([{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }]);
  const p = pod({
    containers: [container('c'), container('d', { requests: { cpu: '200m' }, limits: { cpu: '300m' } })],
    initContainers: [container('i', { limits: { memory: '64Mi' } })],
  });
  t.true(applyLimitRangeDefaults(p, lr));
  t.deepEqual(p.spec.containers[0].resources, { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
  t.deepEqual(p.spec.containers[1].resources, { limits: { cpu: '300m', memory: '256Mi' }, requests: { cpu: '200m', memory: '128Mi' } });
  t.deepEqual(p.spec.initContainers[0].resources, { limits: { memory: '64Mi', cpu: '500m' }, requests: { cpu: '100m', memory: '128Mi' } });
  t.is(
    p.metadata.annotations![LIMIT_RANGER_ANNOTATION],
    'LimitRanger plugin set: cpu, memory request for container c; cpu, memory limit for container c; memory request for container d; memory limit for container d; cpu, memory request for init container i; cpu limit for init container i',
  );
  // A pod that lacks nothing is left as it is, unannotated.
  const full = pod({ containers: [container('c', { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })] });
  t.false(applyLimitRangeDefaults(full, lr));
  t.is(full.metadata.annotations, undefined);
});

test('the LimitRanger refuses what breaks min, max and maxLimitRequestRatio, in Kubernetes words', (t) => {
  const lr = limitRange([{ type: 'Container', max: { cpu: '500m' }, min: { memory: '64Mi' }, maxLimitRequestRatio: { cpu: '2' } }]);
  t.deepEqual(limitRangeViolations(lr, pod({ containers: [container('c', { requests: { cpu: '400m', memory: '64Mi' }, limits: { cpu: '1' } })] })), [
    'maximum cpu usage per Container is 500m, but limit is 1',
    'cpu max limit to request ratio per Container is 2, but provided ratio is 2.500000',
  ]);
  t.deepEqual(limitRangeViolations(lr, pod({ containers: [container('c', { requests: { cpu: '600m', memory: '32Mi' }, limits: { cpu: '500m' } })] })), [
    'minimum memory usage per Container is 64Mi, but request is 32Mi',
    'maximum cpu usage per Container is 500m, but request is 600m',
  ]);
  t.deepEqual(limitRangeViolations(lr, pod({})), [
    'minimum memory usage per Container is 64Mi.  No request is specified',
    'maximum cpu usage per Container is 500m.  No limit is specified',
    'cpu max limit to request ratio per Container is 2, but no request is specified or request is 0',
  ]);
  const podLimits = limitRange([{ type: 'Pod', max: { memory: '1Gi' } }]);
  const twoContainers = pod({ containers: [container('a', { limits: { memory: '600Mi' } }), container('b', { limits: { memory: '600Mi' } })] });
  t.deepEqual(limitRangeViolations(podLimits, twoContainers), ['maximum memory usage per Pod is 1Gi, but limit is 1200Mi']);
  t.is(aggregateMessage(['a']), 'a');
  t.is(aggregateMessage(['a', 'b', 'a']), '[a, b]');
});

test('LimitRange validation: types, order of min, defaults and max, ratios', (t) => {
  const errors = (limits: unknown[]) => {
    const lr = limitRange(limits);
    applyDefaults('LimitRange', lr);
    return validateObject('LimitRange', lr).causes.map((c) => `${c.field}: ${c.message}`);
  };
  t.deepEqual(errors([{ type: 'Container', min: { cpu: '100m' }, max: { cpu: '1' }, default: { cpu: '500m' }, defaultRequest: { cpu: '200m' }, maxLimitRequestRatio: { cpu: '4' } }]), []);
  t.deepEqual(errors([{ type: 'Container', min: { cpu: '2' }, max: { cpu: '1' } }]), [
    'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1',
    'spec.limits[0].defaultRequest[cpu]: Invalid value: "1": min value 2 is greater than default request value 1',
    'spec.limits[0].default[cpu]: Invalid value: "2": min value 2 is greater than default value 1',
  ]);
  t.deepEqual(errors([{ type: 'Container', default: { memory: '1Gi' }, defaultRequest: { memory: '2Gi' } }]), [
    'spec.limits[0].defaultRequest[memory]: Invalid value: "2Gi": default request value 2Gi is greater than default limit value 1Gi',
  ]);
  t.deepEqual(errors([{ type: 'Container', maxLimitRequestRatio: { cpu: '500m' } }]), ['spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1']);
  t.deepEqual(errors([{ type: 'Pod', default: { cpu: '1' } }]), ["spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'"]);
  t.deepEqual(errors([{ type: 'Node' }]), ['spec.limits[0].type: Invalid value: "Node": must be a standard limit type or fully qualified']);
  t.deepEqual(errors([{ type: 'Container' }, { type: 'Container' }]), ['spec.limits[1].type: Duplicate value: "Container"']);
  t.deepEqual(errors([{ type: 'Container', max: { cpu: 'lots' } }]), [
    "spec.limits[0].max[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
  ]);
  t.deepEqual(errors([{ type: 'PersistentVolumeClaim', max: { cpu: '1' } }]), ['spec.limits[0].limits: Required value: either minimum or maximum storage value is required, but neither was provided']);
});

// ---- evaluators -------------------------------------------------------------------------

test('a pod uses the sum of its containers or its largest init container; a terminal pod only its object count', (t) => {
  const p = pod({
    containers: [container('a', { requests: { cpu: '250m', memory: '64Mi' }, limits: { cpu: '500m' } }), container('b', { requests: { cpu: '250m' } })],
    initContainers: [container('i', { requests: { cpu: '2' }, limits: { cpu: '2' } })],
  });
  t.deepEqual(usage(podUsage(p, NOW)), {
    'count/pods': '1',
    cpu: '2',
    'limits.cpu': '2',
    memory: '64Mi',
    pods: '1',
    'requests.cpu': '2',
    'requests.memory': '64Mi',
  });
  t.deepEqual(usage(podUsage({ ...p, status: { phase: 'Succeeded' } }, NOW)), { 'count/pods': '1' });
  // Stuck terminating past its grace period: no longer charged.
  const stuck = { ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-12-03T07:59:00Z', deletionGracePeriodSeconds: 30 } };
  t.deepEqual(usage(podUsage(stuck, NOW)), { 'count/pods': '1' });
  const leaving = { ...p, metadata: { ...p.metadata, deletionTimestamp: '2026-12-03T08:00:10Z', deletionGracePeriodSeconds: 30 } };
  t.is(usage(podUsage(leaving, NOW)).pods, '1');
  t.is(nextRecountMs([leaving], NOW), 40_001);
});

test('a Service uses its node ports and load balancer by type', (t) => {
  const svc = (spec: object) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }, { port: 443 }], ...spec } });
  t.deepEqual(usage(serviceUsage(svc({}))), { 'count/services': '1', services: '1', 'services.loadbalancers': '0', 'services.nodeports': '0' });
  t.deepEqual(usage(serviceUsage(svc({ type: 'NodePort' }))), { 'count/services': '1', services: '1', 'services.loadbalancers': '0', 'services.nodeports': '2' });
  t.deepEqual(usage(serviceUsage(svc({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: false, ports: [{ port: 80, nodePort: 30080 }, { port: 81 }] }))), {
    'count/services': '1',
    services: '1',
    'services.loadbalancers': '1',
    'services.nodeports': '1',
  });
  t.deepEqual(evaluatorFor('configmaps', '')!.matchingResources(['configmaps', 'count/configmaps', 'pods']), ['configmaps', 'count/configmaps']);
  t.deepEqual(evaluatorFor('deployments', 'apps')!.matchingResources(['count/deployments.apps', 'deployments']), ['count/deployments.apps']);
  t.is(evaluatorFor('events', ''), undefined, 'events are never counted');
});

test('with cpu or memory under quota, every container must state them', (t) => {
  const p = pod({ containers: [container('c'), container('d', { requests: { cpu: '1' } })], initContainers: [container('i', { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } })] });
  t.is(podConstraints(['limits.cpu', 'requests.cpu', 'pods'], p), 'must specify limits.cpu for: c,d; requests.cpu for: c');
  t.is(podConstraints(['pods', 'requests.storage'], p), undefined);
});

test('pods fall in the Terminating, BestEffort and PriorityClass scopes as Kubernetes matches them', (t) => {
  const best = pod({});
  const burst = pod({ containers: [container('c', { requests: { cpu: '1' } })], activeDeadlineSeconds: 60, priorityClassName: 'high' });
  t.true(podMatchesScope({ scopeName: 'BestEffort', operator: 'Exists' }, best));
  t.false(podMatchesScope({ scopeName: 'BestEffort', operator: 'Exists' }, burst));
  t.true(podMatchesScope({ scopeName: 'NotBestEffort', operator: 'Exists' }, burst));
  t.true(podMatchesScope({ scopeName: 'Terminating', operator: 'Exists' }, burst));
  t.true(podMatchesScope({ scopeName: 'NotTerminating', operator: 'Exists' }, best));
  t.true(podMatchesScope({ scopeName: 'PriorityClass', operator: 'In', values: ['high', 'mid'] }, burst));
  t.false(podMatchesScope({ scopeName: 'PriorityClass', operator: 'In', values: ['high'] }, best));
  t.true(podMatchesScope({ scopeName: 'PriorityClass', operator: 'NotIn', values: ['high'] }, best));
  t.true(podMatchesScope({ scopeName: 'PriorityClass', operator: 'Exists' }, burst));
  t.true(podMatchesScope({ scopeName: 'PriorityClass', operator: 'DoesNotExist' }, best));
  const scoped = quota('q', { pods: '1' }, { pods: '0' }, { scopes: ['BestEffort'] });
  t.true(quotaMatches(evaluatorFor('pods', '')!, scoped, best));
  t.false(quotaMatches(evaluatorFor('pods', '')!, scoped, burst));
  t.false(quotaMatches(evaluatorFor('configmaps', '')!, { ...scoped, spec: { hard: { configmaps: '1' }, scopes: ['BestEffort'] }, status: { hard: { configmaps: '1' }, used: {} } }, best), 'a scoped quota counts no other kind');
});

// ---- the admission's decision --------------------------------------------------------------

test('a create over quota is refused with the exceeded resources, else each concerned quota is charged', (t) => {
  const pods = evaluatorFor('pods', '')!;
  const p = pod({ containers: [container('c', { requests: { cpu: '500m' }, limits: { cpu: '500m' } })] });
  const full = quota('q', { pods: '2', 'requests.cpu': '1' }, { pods: '1', 'requests.cpu': '1' });
  t.deepEqual(checkRequest([full], pods, 'create', p, undefined, NOW), { refused: 'exceeded quota: q, requested: requests.cpu=500m, used: requests.cpu=1, limited: requests.cpu=1' });
  const roomy = quota('a', { pods: '2', 'requests.cpu': '2' }, { pods: '1', 'requests.cpu': '500m' });
  const other = quota('b', { configmaps: '1' }, { configmaps: '0' });
  const decision = checkRequest([other, roomy], pods, 'create', p, undefined, NOW);
  t.deepEqual('charges' in decision && decision.charges.map((c) => [c.quota.metadata.name, c.used]), [['a', { pods: '2', 'requests.cpu': '1' }]]);
  t.deepEqual(checkRequest([quota('q', { pods: '2' }, { pods: '2' })], pods, 'create', p, undefined, NOW), { refused: 'exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2' });
});

test('a pod without what the quota requires fails it; a quota the controller has not measured is unknown', (t) => {
  const pods = evaluatorFor('pods', '')!;
  t.deepEqual(checkRequest([quota('q', { 'limits.cpu': '2', 'requests.cpu': '1' }, { 'limits.cpu': '0', 'requests.cpu': '0' })], pods, 'create', pod({}), undefined, NOW), {
    refused: 'failed quota: q: must specify limits.cpu for: c; requests.cpu for: c',
  });
  const unmeasured = quota('q', { pods: '2' }, undefined);
  unmeasured.status = { hard: { pods: '2' } };
  t.deepEqual(checkRequest([unmeasured], pods, 'create', pod({}), undefined, NOW), { refused: 'status unknown for quota: q, resources: pods' });
  // Before the controller has set status.hard, a quota limits nothing (as in Kubernetes).
  t.deepEqual(checkRequest([quota('q', { pods: '0' }, undefined)], pods, 'create', pod({}), undefined, NOW), { charges: [] });
});

test('an update pays only what it adds: a Service becoming a NodePort takes node ports', (t) => {
  const services = evaluatorFor('services', '')!;
  const before = { apiVersion: 'v1', kind: 'Service', metadata: { name: 's', namespace: 'ns' }, spec: { ports: [{ port: 80 }] } };
  const after = { ...before, spec: { ...before.spec, type: 'NodePort' } };
  const q = quota('q', { services: '5', 'services.nodeports': '0' }, { services: '1', 'services.nodeports': '0' });
  t.deepEqual(checkRequest([q], services, 'update', after, before, NOW), { refused: 'exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=0, limited: services.nodeports=0' });
  t.deepEqual(checkRequest([q], services, 'update', before, before, NOW), { charges: [] });
  // Config maps are charged on create only.
  t.deepEqual(checkRequest([quota('q', { configmaps: '0' }, { configmaps: '0' })], evaluatorFor('configmaps', '')!, 'update', before, before, NOW), { charges: [] });
});

test('ResourceQuota validation: standard names, whole object counts, scopes that fit', (t) => {
  const errors = (spec: object) => validateObject('ResourceQuota', { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'q' }, spec } as KubeObject).causes.map((c) => `${c.field}: ${c.message}`);
  t.deepEqual(errors({ hard: { pods: '2', 'requests.cpu': '1', 'count/deployments.apps': '3', 'requests.example.com/gpu': '1' } }), []);
  t.deepEqual(errors({ hard: { pods: '1500m' } }), ['spec.hard[pods]: Invalid value: "1500m": must be an integer']);
  t.deepEqual(errors({ hard: { 'requests.cpu': '-1' } }), ['spec.hard[requests.cpu]: Invalid value: "-1": must be greater than or equal to 0']);
  t.deepEqual(errors({ hard: { storage: '1Gi' } }), ['spec.hard[storage]: Invalid value: "storage": must be a standard resource for quota']);
  t.deepEqual(errors({ hard: { pods: '1', configmaps: '1' }, scopes: ['BestEffort'] }), ['spec.scopes: Invalid value: ["BestEffort"]: unsupported scope applied to resource']);
  t.deepEqual(errors({ hard: { pods: '1' }, scopes: ['BestEffort', 'NotBestEffort'] }), ['spec.scopes: Invalid value: ["BestEffort","NotBestEffort"]: conflicting scopes']);
  t.deepEqual(errors({ hard: { pods: '1' }, scopeSelector: { matchExpressions: [{ scopeName: 'PriorityClass', operator: 'In' }] } }), [
    "spec.scopeSelector.matchExpressions.values: Required value: must be at least one value when `operator` is 'In' or 'NotIn' for scope selector",
  ]);
  t.deepEqual(errors({ hard: { pods: '1' }, scopeSelector: { matchExpressions: [{ scopeName: 'Terminating', operator: 'In', values: ['x'] }] } }), [
    "spec.scopeSelector.matchExpressions.operator: Invalid value: \"In\": must be 'Exist' when scope is any of ResourceQuotaScopeTerminating, ResourceQuotaScopeNotTerminating, ResourceQuotaScopeBestEffort, ResourceQuotaScopeNotBestEffort or ResourceQuotaScopeCrossNamespacePodAffinity",
  ]);
});

// ---- the controller's recount ----------------------------------------------------------------

test('the recount measures what exists: terminal pods free their share, scopes pick the pods', (t) => {
  const served = [{ plural: 'pods', group: '' }, { plural: 'services', group: '' }, { plural: 'configmaps', group: '' }, { plural: 'deployments', group: 'apps' }];
  const q = quota('q', { pods: '3', 'requests.memory': '1Gi', configmaps: '5', 'count/deployments.apps': '2', 'persistentvolumeclaims': '1' }, undefined);
  const evs = evaluatorsFor(q, served);
  t.deepEqual(evs.map((e) => e.plural).sort(), ['configmaps', 'deployments', 'pods']);
  const running = pod({ containers: [container('c', { requests: { memory: '256Mi' } })] });
  const done = { ...running, status: { phase: 'Failed' } };
  const objects = new Map(evs.map((e) => [e, e.plural === 'pods' ? [running, running, done] : e.plural === 'configmaps' ? [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }] : []]));
  t.deepEqual(computeStatus(q, objects as any, NOW), {
    hard: { configmaps: '5', 'count/deployments.apps': '2', persistentvolumeclaims: '1', pods: '3', 'requests.memory': '1Gi' },
    used: { configmaps: '1', 'count/deployments.apps': '0', pods: '2', 'requests.memory': '512Mi' },
  });
  const bestEffortOnly = quota('b', { pods: '5' }, undefined, { scopes: ['BestEffort'] });
  const podsOnly = new Map(evaluatorsFor(bestEffortOnly, served).map((e) => [e, [running, pod({})]]));
  t.deepEqual(computeStatus(bestEffortOnly, podsOnly as any, NOW).used, { pods: '1' });
});
