// The kinds' schemas hold every integer field to its Go type's range (and Kubernetes' own minimums),
// and keep every status open: a field a controller writes is type-checked, never pruned.
import test from 'ava';
import { INT32_MAX, INT64_MAX, OPENAPI, schemaFor } from '../../shared/api/schemas.ts';
import { validateObject } from '../../shared/registry/admission.ts';
import { RESOURCES } from '../../shared/api/resources.ts';
import type { KubeObject } from '../../shared/types.ts';

const messages = (kind: string, obj: object) => validateObject(kind, obj as KubeObject).causes.map((c) => `${c.field}: ${c.message}`);

const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
const deployment = (spec: object) => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { selector: { matchLabels: { app: 'a' } }, template, ...spec } });
const job = (spec: object) => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { ...template, spec: { ...template.spec, restartPolicy: 'Never' } }, ...spec } });
const pod = (spec: object, status?: object) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { ...template.spec, ...spec }, ...(status ? { status } : {}) });
const lease = (spec: object) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec });

/** Every schema node (with its path) of a kind, following properties, items and map values. */
function* walk(schema: any, path: string): Generator<[string, any]> {
  if (!schema || typeof schema !== 'object') return;
  yield [path, schema];
  for (const [k, v] of Object.entries(schema.properties ?? {})) yield* walk(v, path ? `${path}.${k}` : k);
  if (schema.items) yield* walk(schema.items, `${path}[]`);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') yield* walk(schema.additionalProperties, `${path}{}`);
}

test('int32 fields: a value beyond 2147483647 is Invalid, worded as Kubernetes words a maximum', (t) => {
  t.deepEqual(messages('Deployment', deployment({ replicas: 3000000000 })), ['spec.replicas: Invalid value: 3000000000: must be less than or equal to 2147483647']);
  t.deepEqual(messages('Deployment', deployment({ replicas: INT32_MAX })), []);
  t.deepEqual(messages('Job', job({ parallelism: 2 ** 31, completions: 2 ** 31 })), [
    'spec.parallelism: Invalid value: 2147483648: must be less than or equal to 2147483647',
    'spec.completions: Invalid value: 2147483648: must be less than or equal to 2147483647',
  ]);
  t.deepEqual(messages('Job', job({ completions: null })), [], 'completions may be null');
  t.deepEqual(messages('Pod', pod({ priority: -(2 ** 31) - 1 })), ['spec.priority: Invalid value: -2147483649: must be greater than or equal to -2147483648']);
  t.deepEqual(messages('Pod', pod({ priority: -(2 ** 31) })), []);
  t.deepEqual(messages('Pod', pod({ containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 1e10 }] }] })), ['spec.containers[0].ports[0].containerPort: Invalid value: 10000000000: must be less than or equal to 2147483647']);
  t.deepEqual(messages('Deployment', deployment({ strategy: { rollingUpdate: { maxSurge: 2 ** 32 } } })), ['spec.strategy.rollingUpdate.maxSurge: Invalid value: 4294967296: must be less than or equal to 2147483647'], 'an IntOrString holds an int32');
});

test('int64 fields: 1e300 is Invalid; the largest double below 2^63 is kept, 2^63 (9223372036854775807 as JSON reads it) is not', (t) => {
  t.deepEqual(messages('Pod', pod({ terminationGracePeriodSeconds: 1e300 })), ['spec.terminationGracePeriodSeconds: Invalid value: 1e+300: must be less than or equal to 9223372036854775000']);
  t.deepEqual(messages('Pod', pod({ terminationGracePeriodSeconds: INT64_MAX })), []);
  const parsed = JSON.parse('{"terminationGracePeriodSeconds": 9223372036854775807}');
  t.is(messages('Pod', pod(parsed)).length, 1);
  t.deepEqual(messages('Pod', pod({ tolerations: [{ key: 'k', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: -1e300 }] })), ['spec.tolerations[0].tolerationSeconds: Invalid value: -1e+300: must be greater than or equal to -9223372036854776000']);
  t.deepEqual(messages('Pod', pod({ activeDeadlineSeconds: 2 ** 31 })), ['spec.activeDeadlineSeconds: Invalid value: 2147483648: must be less than or equal to 2147483647'], 'an int64 Kubernetes holds to int32');
  t.deepEqual(messages('Job', job({ activeDeadlineSeconds: 2 ** 40 })), [], 'a Job\'s deadline is a full int64');
  const meta = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', generation: 1e19 } };
  t.deepEqual(messages('ConfigMap', meta), ['metadata.generation: Invalid value: 10000000000000000000: must be less than or equal to 9223372036854775000']);
});

test('Kubernetes\' own minimums stay, and a Lease\'s duration must be positive and its transitions not negative', (t) => {
  t.deepEqual(messages('Deployment', deployment({ replicas: -1 })), ['spec.replicas: Invalid value: -1: must be greater than or equal to 0']);
  t.deepEqual(messages('Pod', pod({ terminationGracePeriodSeconds: -1 })), ['spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0']);
  t.deepEqual(messages('Lease', lease({ leaseDurationSeconds: 0, leaseTransitions: -1 })), [
    'spec.leaseDurationSeconds: Invalid value: 0: must be greater than or equal to 1',
    'spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0',
  ]);
  t.deepEqual(messages('Lease', lease({ holderIdentity: 'n1', leaseDurationSeconds: 40, leaseTransitions: 0, renewTime: '2024-05-01T10:00:00.000000Z' })), []);
  t.deepEqual(messages('Lease', lease({ leaseDurationSeconds: 2 ** 31 })), ['spec.leaseDurationSeconds: Invalid value: 2147483648: must be less than or equal to 2147483647']);
});

test('every integer field of every kind carries its Go type: a range and an int32 or int64 format', (t) => {
  const untyped: string[] = [];
  let integers = 0;
  for (const r of RESOURCES) {
    for (const [path, s] of walk(schemaFor(r.kind), '')) {
      const types = [s.type].flat();
      if (!types.includes('integer')) continue;
      integers++;
      const format = s[OPENAPI]?.format ?? (s[OPENAPI]?.definition === 'io.k8s.apimachinery.pkg.util.intstr.IntOrString' ? 'int32' : undefined);
      const ok = typeof s.minimum === 'number' && (format === 'int32' ? s.maximum === INT32_MAX : format === 'int64' && s.maximum <= INT64_MAX);
      if (!ok) untyped.push(`${r.kind} ${path}`);
    }
  }
  t.deepEqual(untyped, []);
  t.true(integers > 100, `${integers} integer fields walked`);
});

test('statuses are open all the way down: nothing under status is pruned', (t) => {
  const closed: string[] = [];
  for (const r of RESOURCES) {
    const status = schemaFor(r.kind)?.properties?.status;
    for (const [path, s] of walk(status, 'status')) if (s.additionalProperties === false) closed.push(`${r.kind} ${path}`);
  }
  t.deepEqual(closed, []);
  t.truthy(schemaFor('Pod')!.properties.status.properties.containerStatuses, 'the Pod status lists its fields');
  t.is(schemaFor('Lease')!.properties.status, undefined, 'a Lease has no status');
});

test('a status as the node agent writes it passes whole, fields Wharf adds included; its types are checked', (t) => {
  const status = {
    phase: 'Running', hostIP: '10.0.0.2', hostIPs: [{ ip: '10.0.0.2' }], podIP: '10.244.0.5', podIPs: [{ ip: '10.244.0.5' }], startTime: '2025-01-01T00:00:00Z', qosClass: 'BestEffort',
    conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2025-01-01T00:00:01Z' }],
    containerStatuses: [{
      name: 'c', image: 'busybox', imageID: 'sha256:1', containerID: 'docker://abc', started: true, ready: true, restartCount: 2,
      state: { running: { startedAt: '2025-01-01T00:00:01Z' } },
      lastState: { terminated: { exitCode: 137, reason: 'Error', startedAt: '2025-01-01T00:00:00Z', finishedAt: '2025-01-01T00:00:01Z', containerID: 'docker://abb', wharfNote: 'kept' } },
      wharfAttempt: 3,
    }],
    wharfSomething: { deep: true },
  };
  const obj = pod({}, structuredClone(status));
  const result = validateObject('Pod', obj as KubeObject);
  t.deepEqual(result.causes, []);
  t.deepEqual(result.unknownFields, []);
  t.deepEqual((obj as any).status, status, 'nothing pruned');

  t.deepEqual(messages('Pod', pod({}, { containerStatuses: [{ name: 'c', ready: 'yes', restartCount: '1', image: 'i', imageID: '' }], conditions: [{ type: 'Ready', status: 'Maybe', lastTransitionTime: 5 }] })), [
    'status.conditions[0].status: Unsupported value: "Maybe": supported values: "True", "False", "Unknown"',
    'status.conditions[0].lastTransitionTime: Invalid value: 5: must be of type string or null',
    'status.containerStatuses[0].ready: Invalid value: "yes": must be of type boolean',
    'status.containerStatuses[0].restartCount: Invalid value: "1": must be of type integer',
  ]);
  t.deepEqual(messages('Deployment', { ...deployment({}), status: { replicas: 2 ** 31 } }), ['status.replicas: Invalid value: 2147483648: must be less than or equal to 2147483647']);
});

test('a status\'s required fields are documented, not enforced: `status: {}` (kubectl create --dry-run -o yaml writes it) is accepted', (t) => {
  const rs = { apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'r' }, spec: { selector: { matchLabels: { app: 'a' } }, template }, status: {} };
  t.deepEqual(messages('ReplicaSet', rs), []);
  t.deepEqual(schemaFor('ReplicaSet')!.properties.status[OPENAPI].required, ['replicas']);
  const ds = { apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'd' }, spec: { selector: { matchLabels: { app: 'a' } }, template }, status: { numberReady: 1 } };
  t.deepEqual(messages('DaemonSet', ds), []);
});
