// The OpenAPI v3 documents kubectl reads: every kind's spec and status described field by field,
// Kubernetes' named types as components, Go integer formats, and nothing of ajv's dialect left.
import test from 'ava';
import { groupVersionDocument, OpenApiV3 } from '../../services/api/openapi.ts';
import { OPENAPI } from '../../shared/api/schemas.ts';
import { groupVersions } from '../../shared/api/resources.ts';

type Doc = { components: { schemas: Record<string, any> }; paths: Record<string, any> };
const documents = groupVersions().map((gv) => ({ ...gv, doc: groupVersionDocument(gv.group, gv.version) as Doc }));
const docOf = (group: string) => documents.find((d) => d.group === group)!.doc;

function resolve(doc: Doc, schema: any): any {
  if (schema?.$ref) return resolve(doc, doc.components.schemas[schema.$ref.replace('#/components/schemas/', '')]);
  if (schema?.allOf?.length === 1 && !schema.properties) return { ...resolve(doc, schema.allOf[0]), description: schema.description };
  return schema;
}

/** The schema at a field path, followed as `kubectl explain` follows it (through refs, arrays and maps). */
function explain(doc: Doc, definition: string, path: string[]): any {
  let schema = resolve(doc, doc.components.schemas[definition]);
  for (const field of path) {
    schema = resolve(doc, schema?.properties?.[field]);
    while (schema?.items) schema = resolve(doc, schema.items);
  }
  return schema;
}

test('kubectl explain pod.status.message: the Pod status lists its fields, each described', (t) => {
  const core = docOf('');
  t.regex(core.components.schemas['io.k8s.api.core.v1.Pod'].description, /containers/, 'kubectl explain pod describes the kind');
  const message = explain(core, 'io.k8s.api.core.v1.Pod', ['status', 'message']);
  t.is(message.type, 'string');
  t.regex(message.description, /\w+/);
  const status = explain(core, 'io.k8s.api.core.v1.Pod', ['status']);
  for (const field of ['phase', 'conditions', 'message', 'reason', 'hostIP', 'hostIPs', 'podIP', 'podIPs', 'startTime', 'containerStatuses', 'initContainerStatuses', 'qosClass', 'nominatedNodeName']) {
    t.truthy(status.properties[field], field);
  }
  const containerStatus = explain(core, 'io.k8s.api.core.v1.Pod', ['status', 'containerStatuses']);
  t.deepEqual(containerStatus.required, ['name', 'ready', 'restartCount', 'image', 'imageID']);
  t.like(containerStatus.properties.restartCount, { type: 'integer', format: 'int32' });
  t.like(containerStatus.properties.ready, { type: 'boolean' });
  for (const field of ['state', 'lastState', 'image', 'imageID', 'containerID', 'started']) t.truthy(containerStatus.properties[field], field);
  t.like(explain(core, 'io.k8s.api.core.v1.Pod', ['status', 'containerStatuses', 'state', 'terminated', 'exitCode']), { type: 'integer', format: 'int32' });
  t.deepEqual(explain(core, 'io.k8s.api.core.v1.Pod', ['status', 'conditions']).required, ['type', 'status']);
  t.like(explain(core, 'io.k8s.api.core.v1.Pod', ['status', 'conditions', 'lastTransitionTime']), { type: 'string', format: 'date-time' });
});

test('every kind with a status describes it; statuses stay open in the document as in validation', (t) => {
  const withStatus: Record<string, [string, string, string[]]> = {
    Pod: ['', 'io.k8s.api.core.v1.Pod', ['phase', 'containerStatuses']],
    Service: ['', 'io.k8s.api.core.v1.Service', ['loadBalancer', 'conditions']],
    Node: ['', 'io.k8s.api.core.v1.Node', ['capacity', 'allocatable', 'conditions', 'addresses', 'nodeInfo', 'daemonEndpoints']],
    Namespace: ['', 'io.k8s.api.core.v1.Namespace', ['phase', 'conditions']],
    Deployment: ['apps', 'io.k8s.api.apps.v1.Deployment', ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'observedGeneration', 'conditions', 'collisionCount']],
    ReplicaSet: ['apps', 'io.k8s.api.apps.v1.ReplicaSet', ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration', 'conditions']],
    DaemonSet: ['apps', 'io.k8s.api.apps.v1.DaemonSet', ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady', 'updatedNumberScheduled', 'numberAvailable', 'numberUnavailable']],
    Job: ['batch', 'io.k8s.api.batch.v1.Job', ['conditions', 'startTime', 'completionTime', 'active', 'succeeded', 'failed', 'ready']],
    CronJob: ['batch', 'io.k8s.api.batch.v1.CronJob', ['active', 'lastScheduleTime', 'lastSuccessfulTime']],
    PodDisruptionBudget: ['policy', 'io.k8s.api.policy.v1.PodDisruptionBudget', ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods', 'conditions', 'disruptedPods']],
  };
  for (const [kind, [group, definition, fields]] of Object.entries(withStatus)) {
    const status = explain(docOf(group), definition, ['status']);
    t.deepEqual(fields.filter((f) => !status?.properties?.[f]), [], `${kind}.status`);
    t.not(status.additionalProperties, false, `${kind}.status is open`);
  }
  t.deepEqual(explain(docOf('apps'), 'io.k8s.api.apps.v1.ReplicaSet', ['status']).required, ['replicas']);
  t.deepEqual(explain(docOf('apps'), 'io.k8s.api.apps.v1.Deployment', ['status', 'conditions']).required, ['type', 'status']);
  t.truthy(explain(docOf('apps'), 'io.k8s.api.apps.v1.Deployment', ['status', 'conditions', 'lastUpdateTime']));
});

test('named types are components referred to, so kubectl explain prints their names', (t) => {
  const core = docOf('');
  const pod = core.components.schemas['io.k8s.api.core.v1.Pod'];
  t.deepEqual(pod.properties.metadata.allOf, [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' }]);
  t.regex(pod.properties.metadata.description, /metadata/);
  const container = core.components.schemas['io.k8s.api.core.v1.Container'];
  t.deepEqual(container.properties.resources.allOf, [{ $ref: '#/components/schemas/io.k8s.api.core.v1.ResourceRequirements' }]);
  t.deepEqual(explain(core, 'io.k8s.api.core.v1.Pod', ['spec', 'containers', 'resources', 'limits']).additionalProperties, { $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' });
  // Without a type kubectl prints the name (Quantity, IntOrString), as Kubernetes' documents do.
  t.deepEqual(core.components.schemas['io.k8s.apimachinery.pkg.api.resource.Quantity'], { oneOf: [{ type: 'string' }, { type: 'number' }] });
  t.like(core.components.schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'], { oneOf: [{ type: 'integer' }, { type: 'string' }], 'x-kubernetes-int-or-string': true });
  t.like(core.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.Time'], { type: 'string', format: 'date-time' });
  t.like(docOf('apps').components.schemas['io.k8s.api.apps.v1.DeploymentCondition'], { type: 'object' });
});

test('integers carry their Go format and range', (t) => {
  const core = docOf('');
  t.like(explain(core, 'io.k8s.api.core.v1.Pod', ['spec', 'terminationGracePeriodSeconds']), { type: 'integer', format: 'int64', minimum: 0 });
  t.like(explain(core, 'io.k8s.api.core.v1.Pod', ['spec', 'priority']), { type: 'integer', format: 'int32', maximum: 2147483647 });
  t.like(explain(docOf('apps'), 'io.k8s.api.apps.v1.Deployment', ['spec', 'replicas']), { type: 'integer', format: 'int32', minimum: 0, maximum: 2147483647 });
  t.like(explain(docOf('batch'), 'io.k8s.api.batch.v1.Job', ['spec', 'completions']), { type: 'integer', format: 'int32' });
  t.like(explain(docOf('coordination.k8s.io'), 'io.k8s.api.coordination.v1.Lease', ['spec', 'leaseDurationSeconds']), { type: 'integer', format: 'int32', minimum: 1 });
});

test('every document is self-contained OpenAPI 3.0: each $ref resolves in it, no JSON Schema type lists, no Wharf-only keywords', (t) => {
  for (const { group, version, doc } of documents) {
    const text = JSON.stringify(doc);
    t.false(text.includes(OPENAPI), `${group}/${version}`);
    const refs = [...text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    t.deepEqual(refs.filter((r) => !doc.components.schemas[r]), [], `${group}/${version} refs`);
    const visit = (s: any, path: string): string[] => {
      if (!s || typeof s !== 'object') return [];
      const own = Array.isArray(s.type) ? [path] : [];
      return [...own, ...Object.entries(s).flatMap(([k, v]) => visit(v, `${path}/${k}`))];
    };
    t.deepEqual(visit(doc.components.schemas, ''), [], `${group}/${version} type lists`);
  }
  const v3 = new OpenApiV3();
  const index = v3.index();
  t.truthy(index.paths['api/v1'].serverRelativeURL.startsWith('/openapi/v3/api/v1?hash='));
  t.truthy(JSON.parse(v3.document('apis/apps/v1')!).components.schemas['io.k8s.api.apps.v1.DeploymentStatus']);
});
