import test, { type ExecutionContext } from 'ava';
import {
  appliedFields,
  apply,
  checkWriteOptions,
  fieldManagerFrom,
  MAX_FIELD_DEPTH,
  recordUpdate,
  validateManagedFields,
  type FieldManagerWrite,
  type ManagedFieldsEntry,
} from '../../shared/api/managed-fields.ts';
import { applyDefaults } from '../../shared/registry/admission.ts';
import { ApiError, ApplyConflictError, BadRequestError, InvalidError, toStatus } from '../../shared/errors.ts';
import type { KubeObject } from '../../shared/types.ts';

const T0 = new Date('2024-05-01T10:00:00Z');
const T1 = new Date('2024-05-01T10:05:00Z');
const T2 = new Date('2024-05-01T10:10:00Z');

const deploymentWrite = (manager: string, extra: Partial<FieldManagerWrite> = {}): FieldManagerWrite => ({ kind: 'Deployment', apiVersion: 'apps/v1', manager, now: T0, ...extra });
const configMapWrite = (manager: string, extra: Partial<FieldManagerWrite> = {}): FieldManagerWrite => ({ kind: 'ConfigMap', apiVersion: 'v1', manager, now: T0, ...extra });

/** What the store would hold: the written object, with a uid, managedFields as written (or as given). */
function stored(obj: KubeObject, managedFields: ManagedFieldsEntry[] | undefined = obj.metadata.managedFields as ManagedFieldsEntry[] | undefined): KubeObject {
  const out = structuredClone(obj);
  out.metadata.uid = out.metadata.uid ?? 'uid-1';
  if (managedFields) out.metadata.managedFields = managedFields;
  else delete out.metadata.managedFields;
  return out;
}

/** An object nobody manages: created before managedFields were tracked. */
const untracked = (obj: KubeObject) => stored(obj, undefined);

/** An update through the API: the client's object (carrying the live managedFields, as a patch would), recorded. */
function update(live: KubeObject, change: (o: KubeObject) => void, write: FieldManagerWrite): KubeObject {
  const next = structuredClone(live);
  change(next);
  return stored(next, recordUpdate(live, next, write));
}

function create(obj: KubeObject, write: FieldManagerWrite): KubeObject {
  return stored(obj, recordUpdate(undefined, obj, write));
}

const entryOf = (obj: KubeObject, manager: string, operation = 'Update') =>
  (obj.metadata.managedFields as ManagedFieldsEntry[] | undefined)?.find((e) => e.manager === manager && e.operation === operation);

function nginxDeployment(): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'default', labels: { app: 'nginx' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'nginx' } },
      template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] }] } },
    },
  };
}

function webConfig(replicas: number, image = 'nginx:1'): Record<string, any> {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } },
    },
  };
}

/** The conflict `run` fails with; the test fails if it does not. */
function conflictOf(t: ExecutionContext, run: () => unknown): ApplyConflictError {
  return t.throws(run, { instanceOf: ApplyConflictError })!;
}

// ------------------------------------------------------------------------------------------------
// Field sets, compared with what a Kubernetes API server writes for the same objects

test('a Deployment created by kubectl apply (client-side) is owned field by field as the API server records it', (t) => {
  const d = nginxDeployment();
  applyDefaults('Deployment', d);
  const [entry, ...rest] = recordUpdate(undefined, d, deploymentWrite('kubectl-client-side-apply'))!;
  t.is(rest.length, 0);
  t.deepEqual(entry, {
    manager: 'kubectl-client-side-apply',
    operation: 'Update',
    apiVersion: 'apps/v1',
    time: '2024-05-01T10:00:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: {
      'f:metadata': {
        'f:annotations': { '.': {}, 'f:kubectl.kubernetes.io/last-applied-configuration': {} },
        'f:labels': { '.': {}, 'f:app': {} },
      },
      'f:spec': {
        'f:progressDeadlineSeconds': {},
        'f:replicas': {},
        'f:revisionHistoryLimit': {},
        'f:selector': {},
        'f:strategy': { 'f:rollingUpdate': { '.': {}, 'f:maxSurge': {}, 'f:maxUnavailable': {} }, 'f:type': {} },
        'f:template': {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:containers': {
              'k:{"name":"nginx"}': {
                '.': {},
                'f:image': {},
                'f:imagePullPolicy': {},
                'f:name': {},
                'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:protocol': {} } },
                'f:resources': {},
                'f:terminationMessagePath': {},
                'f:terminationMessagePolicy': {},
              },
            },
            'f:dnsPolicy': {},
            'f:enableServiceLinks': {},
            'f:restartPolicy': {},
            'f:schedulerName': {},
            'f:securityContext': {},
            'f:terminationGracePeriodSeconds': {},
          },
        },
      },
    },
  });
  t.deepEqual(Object.keys(entry), ['manager', 'operation', 'apiVersion', 'time', 'fieldsType', 'fieldsV1'], "Kubernetes' field order");
});

test("a ReplicaSet's pod: ownerReferences items are atomic, keyed by uid; the kubelet's status write keys conditions by type and podIPs by ip", (t) => {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: 'web-79d88c97d6-',
      namespace: 'default',
      labels: { app: 'web', 'pod-template-hash': '79d88c97d6' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-79d88c97d6', uid: '710786df', controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      containers: [{ name: 'hello-app', image: 'hello:1', imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' }],
      dnsPolicy: 'ClusterFirst',
      enableServiceLinks: true,
      restartPolicy: 'Always',
      schedulerName: 'default-scheduler',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    },
  };
  const created = create(pod, { kind: 'Pod', apiVersion: 'v1', manager: 'kube-controller-manager', now: T0 });
  t.deepEqual(entryOf(created, 'kube-controller-manager')!.fieldsV1, {
    'f:metadata': {
      'f:generateName': {},
      'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} },
      'f:ownerReferences': { '.': {}, 'k:{"uid":"710786df"}': {} },
    },
    'f:spec': {
      'f:containers': { 'k:{"name":"hello-app"}': { '.': {}, 'f:image': {}, 'f:imagePullPolicy': {}, 'f:name': {}, 'f:resources': {}, 'f:terminationMessagePath': {}, 'f:terminationMessagePolicy': {} } },
      'f:dnsPolicy': {},
      'f:enableServiceLinks': {},
      'f:restartPolicy': {},
      'f:schedulerName': {},
      'f:securityContext': {},
      'f:terminationGracePeriodSeconds': {},
    },
  });

  const scheduled = { ...created, status: { phase: 'Pending', qosClass: 'BestEffort', conditions: [{ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: '2024-05-01T10:00:00Z' }] } };
  const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: '2024-05-01T10:05:00Z' });
  const running = update(
    scheduled,
    (p) => {
      p.status.phase = 'Running';
      p.status.conditions.push(condition('Initialized'), condition('Ready'), condition('ContainersReady'));
      p.status.containerStatuses = [{ name: 'hello-app', ready: true, restartCount: 0, image: 'hello:1', imageID: '', state: { running: { startedAt: '2024-05-01T10:05:00Z' } } }];
      p.status.hostIP = '10.0.0.1';
      p.status.podIP = '10.244.2.18';
      p.status.podIPs = [{ ip: '10.244.2.18' }];
      p.status.startTime = '2024-05-01T10:04:00Z';
    },
    { kind: 'Pod', apiVersion: 'v1', manager: 'kubelet', subresource: 'status', now: T1 },
  );
  const conditionFields = { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} };
  t.deepEqual(entryOf(running, 'kubelet'), {
    manager: 'kubelet',
    operation: 'Update',
    apiVersion: 'v1',
    time: '2024-05-01T10:05:00Z',
    fieldsType: 'FieldsV1',
    fieldsV1: {
      'f:status': {
        'f:conditions': { 'k:{"type":"ContainersReady"}': conditionFields, 'k:{"type":"Initialized"}': conditionFields, 'k:{"type":"Ready"}': conditionFields },
        'f:containerStatuses': {},
        'f:hostIP': {},
        'f:phase': {},
        'f:podIP': {},
        'f:podIPs': { '.': {}, 'k:{"ip":"10.244.2.18"}': { '.': {}, 'f:ip': {} } },
        'f:startTime': {},
      },
    },
    subresource: 'status',
  });
});

test("a Service's ports are keyed by port and protocol, its selector is atomic", (t) => {
  const svc: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: { ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }, { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 }], selector: { app: 'web' }, type: 'ClusterIP', sessionAffinity: 'None' },
  };
  const created = create(svc, { kind: 'Service', apiVersion: 'v1', manager: 'kubectl-create', now: T0 });
  const port = { '.': {}, 'f:name': {}, 'f:port': {}, 'f:protocol': {}, 'f:targetPort': {} };
  t.deepEqual(entryOf(created, 'kubectl-create')!.fieldsV1, {
    'f:spec': {
      'f:ports': { '.': {}, 'k:{"port":53,"protocol":"UDP"}': port, 'k:{"port":80,"protocol":"TCP"}': port },
      'f:selector': {},
      'f:sessionAffinity': {},
      'f:type': {},
    },
  });
});

test('an applied configuration owns its leaves and list items; a key field left out takes its OpenAPI default', (t) => {
  const config = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', labels: { some: 'value' }, finalizers: ['example.com/keep'] },
    spec: { ports: [{ port: 80, targetPort: 80 }], selector: { app: 'web' } },
  };
  t.deepEqual(appliedFields('Service', config), {
    'f:metadata': { 'f:finalizers': { 'v:"example.com/keep"': {} }, 'f:labels': { 'f:some': {} } },
    'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:port': {}, 'f:targetPort': {} } }, 'f:selector': {} },
  });
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: {
      containers: [{ name: 'c', image: 'x', args: ['a', 'b'], env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }], resources: {} }],
      tolerations: [{ key: 'k', operator: 'Exists' }],
      nodeSelector: { disk: 'ssd' },
      imagePullSecrets: [{ name: 'reg' }],
    },
  };
  t.deepEqual(appliedFields('Pod', pod), {
    'f:spec': {
      'f:containers': {
        'k:{"name":"c"}': {
          '.': {},
          'f:args': {},
          'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:valueFrom': { 'f:secretKeyRef': {} } } },
          'f:image': {},
          'f:name': {},
          'f:resources': {},
        },
      },
      'f:imagePullSecrets': { 'k:{"name":"reg"}': {} },
      'f:nodeSelector': {},
      'f:tolerations': {},
    },
  });
});

test('path elements are serialized as structured-merge-diff writes them: sorted keys, HTML-safe JSON, f < k < v order', (t) => {
  const config = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', finalizers: ['b<', 'a&'] },
    spec: { containers: [{ name: 'z' }, { name: 'a' }], topologySpreadConstraints: [{ whenUnsatisfiable: 'DoNotSchedule', topologyKey: 'zone', maxSkew: 1 }] },
  };
  const fields = appliedFields('Pod', config);
  t.deepEqual(Object.keys(fields['f:metadata']['f:finalizers']), ['v:"a\\u0026"', 'v:"b\\u003c"']);
  t.deepEqual(Object.keys(fields['f:spec']['f:containers']), ['k:{"name":"a"}', 'k:{"name":"z"}']);
  t.deepEqual(Object.keys(fields['f:spec']['f:topologySpreadConstraints']), ['k:{"topologyKey":"zone","whenUnsatisfiable":"DoNotSchedule"}']);
});

// ------------------------------------------------------------------------------------------------
// Updates

test('an update takes the fields it changes from their owner; the same manager and apiVersion keep one entry', (t) => {
  const created = create(structuredClone(nginxDeployment()), deploymentWrite('kubectl-create'));
  const edited = update(created, (d) => (d.spec.template.spec.containers[0].image = 'nginx:1.25'), deploymentWrite('kubectl-edit', { now: T1 }));
  t.deepEqual(entryOf(edited, 'kubectl-edit')!.fieldsV1, { 'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {} } } } } } });
  t.is(entryOf(edited, 'kubectl-edit')!.time, '2024-05-01T10:05:00Z');
  const creator = entryOf(edited, 'kubectl-create')!;
  t.false('f:image' in creator.fieldsV1['f:spec']['f:template']['f:spec']['f:containers']['k:{"name":"nginx"}'], 'the creator no longer owns the image');
  t.is(creator.time, '2024-05-01T10:00:00Z', "an entry that only lost fields keeps its time");

  const again = update(edited, (d) => (d.spec.replicas = 4), deploymentWrite('kubectl-edit', { now: T2 }));
  const edits = (again.metadata.managedFields as ManagedFieldsEntry[]).filter((e) => e.manager === 'kubectl-edit');
  t.is(edits.length, 1, 'one entry per manager, operation, apiVersion and subresource');
  t.deepEqual(edits[0].fieldsV1, { 'f:spec': { 'f:replicas': {}, 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"nginx"}': { 'f:image': {} } } } } } });
  t.is(edits[0].time, '2024-05-01T10:10:00Z');

  const unchanged = update(again, () => {}, deploymentWrite('kubectl-edit', { now: new Date('2024-05-01T11:00:00Z') }));
  t.deepEqual(unchanged.metadata.managedFields, again.metadata.managedFields, 'a write that changes nothing touches no entry');
});

test('a removed field leaves every set, and an entry left with nothing is dropped', (t) => {
  const cm: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } };
  const created = create(cm, configMapWrite('creator'));
  const grown = update(created, (c) => (c.data.b = '2'), configMapWrite('adder', { now: T1 }));
  t.deepEqual(entryOf(grown, 'adder')!.fieldsV1, { 'f:data': { 'f:b': {} } });
  const shrunk = update(grown, (c) => delete c.data.b, configMapWrite('remover', { now: T2 }));
  t.deepEqual((shrunk.metadata.managedFields as ManagedFieldsEntry[]).map((e) => e.manager), ['creator'], "the adder's only field is gone, and so is its entry; removing owns nothing");
});

test('status writes are recorded with subresource "status" and own only status; main-resource writes own no status', (t) => {
  const created = create(structuredClone(nginxDeployment()), deploymentWrite('kubectl-create'));
  const status = update(
    created,
    (d) => {
      d.status = { replicas: 3, observedGeneration: 1 };
      d.spec.replicas = 9; // the status strategy resets spec: never owned through status
    },
    deploymentWrite('kube-controller-manager', { subresource: 'status', now: T1 }),
  );
  const entry = entryOf(status, 'kube-controller-manager')!;
  t.is(entry.subresource, 'status');
  t.deepEqual(entry.fieldsV1, { 'f:status': { 'f:observedGeneration': {}, 'f:replicas': {} } }, 'status is a struct a typed object always has: no "."');
  t.deepEqual(entryOf(status, 'kubectl-create')!.fieldsV1['f:spec']['f:replicas'], {}, 'spec stays with its owner');

  const mainWrite = update(status, (d) => (d.status.replicas = 1), deploymentWrite('someone', { now: T2 }));
  t.is(entryOf(mainWrite, 'someone'), undefined, 'status through the main resource is nobody’s');
  const customReset = update(status, (d) => (d.metadata.labels = { app: 'x' }), deploymentWrite('status-writer', { subresource: 'status', resetFields: [['spec'], ['metadata', 'labels']], now: T2 }));
  t.is(entryOf(customReset, 'status-writer'), undefined, "a strategy's reset fields are owned by nobody");
});

test('an existing object nobody manages stays untracked until someone applies to it', (t) => {
  const live = untracked({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } });
  const next = { ...live, data: { a: '2' } };
  t.is(recordUpdate(live, next, configMapWrite('kubectl-edit')), undefined);
});

test('client-sent managedFields: a valid list replaces the live one, [] and [{}] clear it, a malformed one is ignored, an invalid manager is 422', (t) => {
  const created = create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1', b: '2' } }, configMapWrite('creator'));
  const sent: ManagedFieldsEntry[] = [{ manager: 'restored', operation: 'Apply', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} } } }];
  const replaced = update(created, (c) => { c.metadata.managedFields = sent; c.data.b = '3'; }, configMapWrite('editor', { now: T1 }));
  t.deepEqual((replaced.metadata.managedFields as ManagedFieldsEntry[]).map((e) => [e.manager, e.fieldsV1]), [
    ['restored', { 'f:data': { 'f:a': {} } }],
    ['editor', { 'f:data': { 'f:b': {} } }],
  ]);

  for (const reset of [[], [{}]]) {
    const next = structuredClone(created);
    next.metadata.managedFields = reset;
    next.data.a = 'x';
    t.is(recordUpdate(created, next, configMapWrite('editor')), undefined, `${JSON.stringify(reset)} clears managedFields`);
  }

  for (const malformed of [[{ manager: 'm', operation: 'Delete', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: {} }], [{ manager: 'm', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV2', fieldsV1: {} }], [{ manager: 'm', operation: 'Update', apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'k:not json': {} } }], 'nope']) {
    const next = structuredClone(created);
    next.metadata.managedFields = malformed as unknown[];
    t.deepEqual(recordUpdate(created, next, configMapWrite('creator')), created.metadata.managedFields, `${JSON.stringify(malformed)} is ignored`);
  }

  const tooLong = structuredClone(created);
  tooLong.metadata.managedFields = [{ ...sent[0], manager: 'm'.repeat(129) }];
  const err = t.throws(() => recordUpdate(created, tooLong, configMapWrite('editor')), { instanceOf: InvalidError })!;
  t.is(err.message, 'ConfigMap "c" is invalid: metadata.managedFields[0].manager: Too long: may not be more than 128 bytes');
  t.is(toStatus(err).code, 422);

  const viaSubresource = structuredClone(created);
  viaSubresource.metadata.managedFields = sent;
  t.deepEqual(recordUpdate(created, viaSubresource, configMapWrite('creator', { subresource: 'status' })), created.metadata.managedFields, 'subresource writes ignore managedFields in the request');
});

test('above ten Update entries the oldest merge into "ancient-changes"', (t) => {
  let cm = create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { m0: 'x' } }, configMapWrite('m0'));
  for (let i = 1; i <= 11; i++) {
    cm = update(cm, (c) => (c.data[`m${i}`] = 'x'), configMapWrite(`m${i}`, { now: new Date(T0.getTime() + i * 60_000) }));
  }
  const entries = cm.metadata.managedFields as ManagedFieldsEntry[];
  t.is(entries.length, 10);
  const ancient = entryOf(cm, 'ancient-changes')!;
  t.deepEqual(ancient.fieldsV1, { 'f:data': { '.': {}, 'f:m0': {}, 'f:m1': {}, 'f:m2': {} } }, 'm0 created the data map');
  t.is(ancient.time, '2024-05-01T10:02:00Z', 'the time of the newest merged entry');
  t.deepEqual(entries.map((e) => e.manager), ['ancient-changes', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11']);
});

test('an object that does not fit its schema keeps its entries rather than failing the write', (t) => {
  const created = create(structuredClone(nginxDeployment()), deploymentWrite('kubectl-create'));
  const broken = structuredClone(created);
  broken.spec.template.spec.containers.push({ image: 'no-name' });
  t.deepEqual(recordUpdate(created, broken, deploymentWrite('x')), created.metadata.managedFields);
});

// ------------------------------------------------------------------------------------------------
// Apply

test('apply creates, then removes what the manager stopped applying', (t) => {
  const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ss', labels: { a: 'b' } }, data: { k: 'v', gone: 'soon' } };
  const first = stored(apply(undefined, config, { ...configMapWrite('kubectl'), force: false }));
  t.deepEqual(first.metadata.managedFields, [
    { manager: 'kubectl', operation: 'Apply', apiVersion: 'v1', time: '2024-05-01T10:00:00Z', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:gone': {}, 'f:k': {} }, 'f:metadata': { 'f:labels': { 'f:a': {} } } } },
  ]);
  const second = apply(first, { ...config, data: { k: 'v2' } }, configMapWrite('kubectl', { now: T1 }));
  t.deepEqual(second.data, { k: 'v2' });
  t.deepEqual(second.metadata.labels, { a: 'b' });
  t.is((second.metadata.managedFields as ManagedFieldsEntry[])[0].time, '2024-05-01T10:05:00Z');

  const noLabels = apply(second, { ...config, metadata: { name: 'ss' }, data: { k: 'v2' } }, configMapWrite('kubectl'));
  t.is(noLabels.metadata.labels, undefined, 'an emptied map goes, as Go omits it');
  const same = apply(noLabels, { ...config, metadata: { name: 'ss' }, data: { k: 'v2' } }, configMapWrite('kubectl', { now: T2 }));
  t.is((same.metadata.managedFields as ManagedFieldsEntry[])[0].time, (noLabels.metadata.managedFields as ManagedFieldsEntry[])[0].time, 'an apply that changes nothing keeps the time');
});

test('a field the applier drops stays while another manager owns it; a container it drops goes whole', (t) => {
  const applied = stored(apply(undefined, webConfig(3), deploymentWrite('kubectl')));
  const withSidecar = structuredClone(applied);
  const config = webConfig(3);
  config.spec.template.spec.containers.push({ name: 'side', image: 'busybox' });
  config.metadata.labels = { team: 'a' };
  const both = stored(apply(withSidecar, config, deploymentWrite('kubectl')));
  const labelled = update(both, (d) => (d.metadata.labels = { ...d.metadata.labels, team: 'b' }), deploymentWrite('kubectl-label', { now: T1 }));
  const dropped = apply(labelled, webConfig(3), deploymentWrite('kubectl', { now: T2 }));
  t.deepEqual(dropped.metadata.labels, { team: 'b' }, 'kubectl-label owns the label now');
  t.deepEqual(dropped.spec.template.spec.containers.map((c: any) => c.name), ['web']);
});

test('changing a field another manager owns is a 409 naming the manager and the field; equal values are co-owned', (t) => {
  const base = stored(apply(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { k: 'v', other: 'o' } }, configMapWrite('team-a')));
  const err = conflictOf(t, () => apply(base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'changed' } }, configMapWrite('team-b')));
  t.is(err.message, 'Apply failed with 1 conflict: conflict with "team-a": .data.k');
  t.deepEqual(toStatus(err), {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Apply failed with 1 conflict: conflict with "team-a": .data.k',
    reason: 'Conflict',
    details: { causes: [{ reason: 'FieldManagerConflict', message: 'conflict with "team-a"', field: '.data.k' }] },
    code: 409,
  });

  const shared = apply(base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'v' } }, configMapWrite('team-b'));
  // As in Kubernetes, an apply that changes nothing stamps no time, so the new entry sorts first.
  t.deepEqual((shared.metadata.managedFields as ManagedFieldsEntry[]).map((e) => [e.manager, e.time, e.fieldsV1]), [
    ['team-b', undefined, { 'f:data': { 'f:k': {} } }],
    ['team-a', '2024-05-01T10:00:00Z', { 'f:data': { 'f:k': {}, 'f:other': {} } }],
  ]);
});

test('force takes the conflicting fields over', (t) => {
  const base = stored(apply(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { k: 'v', other: 'o' } }, configMapWrite('team-a')));
  const forced = apply(base, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'changed' } }, { ...configMapWrite('team-b'), force: true });
  t.is(forced.data.k, 'changed');
  t.deepEqual((forced.metadata.managedFields as ManagedFieldsEntry[]).map((e) => [e.manager, e.fieldsV1]), [
    ['team-a', { 'f:data': { 'f:other': {} } }],
    ['team-b', { 'f:data': { 'f:k': {} } }],
  ]);
});

test('kubectl scale, then kubectl apply --server-side of the old replicas, conflicts with the scale subresource writer', (t) => {
  // kubectl apply --server-side (fieldManager "kubectl"), then stored after defaulting.
  const created = apply(undefined, webConfig(3), deploymentWrite('kubectl'));
  applyDefaults('Deployment', created);
  const live = stored(created, created.metadata.managedFields as ManagedFieldsEntry[]);
  // kubectl scale deployment web --replicas=5: a merge patch to deployments/scale with no fieldManager.
  const scaler = fieldManagerFrom(undefined, 'kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9');
  t.is(scaler, 'kubectl');
  const scaled = update(live, (d) => (d.spec.replicas = 5), deploymentWrite(scaler, { subresource: 'scale', now: T1 }));
  t.deepEqual(entryOf(scaled, 'kubectl')!.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  t.is(entryOf(scaled, 'kubectl')!.subresource, 'scale');
  t.false('f:replicas' in entryOf(scaled, 'kubectl', 'Apply')!.fieldsV1['f:spec'], 'the applier lost .spec.replicas');

  const err = conflictOf(t, () => apply(scaled, webConfig(3), deploymentWrite('kubectl', { now: T2 })));
  t.is(err.message, 'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas');
  t.deepEqual(err.details?.causes, [{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl" with subresource "scale" using apps/v1', field: '.spec.replicas' }]);

  t.is(apply(scaled, webConfig(5), deploymentWrite('kubectl')).spec.replicas, 5, 'applying the scaled value co-owns it');
  const forced = apply(scaled, webConfig(3), { ...deploymentWrite('kubectl'), force: true });
  t.is(forced.spec.replicas, 3);
  t.is(entryOf(forced, 'kubectl'), undefined, "the scale entry lost its only field and went");
});

test('a scale write is not tracked while nobody owns .spec.replicas', (t) => {
  const created = create(structuredClone(nginxDeployment()), deploymentWrite('kubectl-create'));
  const unowned = structuredClone(created);
  unowned.metadata.managedFields = [{ ...(created.metadata.managedFields as ManagedFieldsEntry[])[0], fieldsV1: { 'f:metadata': { 'f:labels': { 'f:app': {} } } } }];
  const next = structuredClone(unowned);
  next.spec.replicas = 7;
  t.deepEqual(recordUpdate(unowned, next, deploymentWrite('kubectl', { subresource: 'scale' })), unowned.metadata.managedFields);
});

test('kubectl label by one manager, apply by another: a different value conflicts, an equal one is shared, leaving it out keeps it', (t) => {
  const cm = stored(apply(undefined, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { k: 'v' } }, configMapWrite('kubectl')));
  const labelled = update(cm, (c) => (c.metadata.labels = { team: 'a' }), configMapWrite('kubectl-label', { now: T1 }));
  t.deepEqual(entryOf(labelled, 'kubectl-label')!.fieldsV1, { 'f:metadata': { 'f:labels': { '.': {}, 'f:team': {} } } });

  const config = (labels?: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', ...(labels ? { labels } : {}) }, data: { k: 'v' } });
  const err = conflictOf(t, () => apply(labelled, config({ team: 'b' }), configMapWrite('ci')));
  t.is(err.message, 'Apply failed with 1 conflict: conflict with "kubectl-label" using v1: .metadata.labels.team');
  t.is(apply(labelled, config({ team: 'a' }), configMapWrite('ci')).metadata.labels?.team, 'a');
  t.deepEqual(apply(labelled, config(), configMapWrite('kubectl')).metadata.labels, { team: 'a' });
});

test('several conflicts are listed by manager, each a cause', (t) => {
  const base = stored(apply(undefined, webConfig(3), deploymentWrite('a')));
  const edited = update(base, (d) => (d.metadata.labels = { x: '1' }), deploymentWrite('b', { now: T1 }));
  const config = webConfig(4, 'nginx:2');
  config.metadata.labels = { x: '2' };
  const err = conflictOf(t, () => apply(edited, config, deploymentWrite('c')));
  t.is(err.message, 'Apply failed with 3 conflicts: conflicts with "a":\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image\nconflicts with "b" using apps/v1:\n- .metadata.labels.x');
  t.deepEqual(err.details?.causes?.map((c) => c.field), ['.spec.replicas', '.spec.template.spec.containers[name="web"].image', '.metadata.labels.x']);
});

test('applying over an object nobody managed conflicts with "before-first-apply"', (t) => {
  const live = untracked({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { k: 'v' } });
  const err = conflictOf(t, () => apply(live, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { k: 'w' } }, configMapWrite('kubectl')));
  t.is(err.message, 'Apply failed with 1 conflict: conflict with "before-first-apply" using v1: .data.k');
});

test('keyed lists merge item by item in the configuration’s order; atomic lists are replaced', (t) => {
  const live = stored(
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'default' },
      spec: { containers: [{ name: 'a', image: 'a:1', args: ['x', 'y'] }, { name: 'b', image: 'b:1' }, { name: 'c', image: 'c:1' }] },
    },
    undefined,
  );
  const config = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'c:2' }, { name: 'a', args: ['z'] }] } };
  const merged = apply(live, config, { kind: 'Pod', apiVersion: 'v1', manager: 'kubectl', force: true });
  t.deepEqual(merged.spec.containers, [{ name: 'b', image: 'b:1' }, { name: 'c', image: 'c:2' }, { name: 'a', image: 'a:1', args: ['z'] }]);
});

test('apply refuses what Kubernetes refuses: another kind or version, managedFields in the configuration, duplicate keys', (t) => {
  const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } };
  const badRequest = (config: unknown) => t.throws(() => apply(undefined, config, configMapWrite('kubectl')), { instanceOf: BadRequestError })!.message;
  t.is(badRequest({ ...cm, apiVersion: 'apps/v1' }), 'invalid object type: apps/v1, Kind=ConfigMap');
  t.is(badRequest({ ...cm, kind: 'Secret' }), 'invalid object type: /v1, Kind=Secret');
  t.is(badRequest({ ...cm, metadata: { name: 'c', managedFields: [] } }), 'metadata.managedFields must be nil');
  t.is(badRequest([cm]), 'error decoding patch: the configuration must be an object');
  // Found by the API fuzz suite: such a metadata was merged into {} and the live labels were lost.
  t.is(badRequest({ ...cm, metadata: true }), 'failed to create typed patch object (/; /v1, Kind=ConfigMap): .metadata: expected map, got true');
  t.is(badRequest({ ...cm, metadata: ['c'] }), 'failed to create typed patch object (/; /v1, Kind=ConfigMap): .metadata: expected map, got ["c"]');
  const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns' }, spec: { containers: [{ name: 'a' }, { name: 'a' }] } };
  t.is(
    t.throws(() => apply(undefined, pod, { kind: 'Pod', apiVersion: 'v1', manager: 'm' }), { instanceOf: BadRequestError })!.message,
    'failed to create typed patch object (ns/p; /v1, Kind=Pod): .spec.containers: duplicate entries for key [name="a"]',
  );
  const noKey = { ...pod, spec: { containers: [{ image: 'x' }] } };
  t.regex(t.throws(() => apply(undefined, noKey, { kind: 'Pod', apiVersion: 'v1', manager: 'm' }))!.message, /\.spec\.containers: element 0: associative list with keys has an element that omits all key fields \["name"\]/);
});

test('nesting is bounded: a too-deep configuration is a 400, a too-deep update keeps the entries, neither overflows the stack', (t) => {
  let deep: any = 'leaf';
  for (let i = 0; i < MAX_FIELD_DEPTH + 5; i++) deep = { x: deep };
  const config = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: deep };
  t.throws(() => apply(undefined, config, configMapWrite('kubectl')), { instanceOf: BadRequestError, message: /nests deeper than 1000 levels/ });
  const created = create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } }, configMapWrite('creator'));
  const next = { ...structuredClone(created), spec: deep };
  t.deepEqual(recordUpdate(created, next, configMapWrite('x')), created.metadata.managedFields);
});

// ------------------------------------------------------------------------------------------------
// Managers' names and options

test('the default manager is the User-Agent up to its first "/", printable, at most 128 bytes', (t) => {
  t.is(fieldManagerFrom(undefined, 'kubectl/v1.32.0 (linux/amd64) kubernetes/70d3cc9'), 'kubectl');
  t.is(fieldManagerFrom(undefined, 'Mozilla/5.0 (X11; Linux x86_64)'), 'Mozilla');
  t.is(fieldManagerFrom('mine', 'kubectl/v1.32.0'), 'mine');
  t.is(fieldManagerFrom(undefined, `${'f'.repeat(200)}/x`), 'f'.repeat(128));
  t.is(fieldManagerFrom(undefined, '🍔'.repeat(60)), '🍔'.repeat(32), 'whole characters within 128 bytes');
  t.is(fieldManagerFrom(undefined, 'a\u0000b\u0007c/1'), 'abc');
  t.is(fieldManagerFrom(undefined, undefined), '');
  const created = create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: { a: '1' } }, configMapWrite(''));
  t.is((created.metadata.managedFields as ManagedFieldsEntry[])[0].manager, 'unknown', 'no manager at all is "unknown"');
});

test('fieldManager and force are checked as Kubernetes checks the write options', (t) => {
  const invalid = (kind: 'CreateOptions' | 'PatchOptions', options: Parameters<typeof checkWriteOptions>[1]) => {
    const err = t.throws(() => checkWriteOptions(kind, options), { instanceOf: ApiError })!;
    return [(err as ApiError).code, err.message];
  };
  t.deepEqual(invalid('PatchOptions', { apply: true }), [422, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: is required for apply patch']);
  t.deepEqual(invalid('CreateOptions', { fieldManager: 'x'.repeat(129) }), [422, 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Too long: may not be more than 128 bytes']);
  t.deepEqual(invalid('CreateOptions', { fieldManager: 'a\u0000b' }), [422, 'CreateOptions.meta.k8s.io "" is invalid: fieldManager: Invalid value: "a\\x00b": invalid character U+0000 (at position 1)']);
  t.deepEqual(invalid('PatchOptions', { fieldManager: 'x', force: 'true' }), [422, 'PatchOptions.meta.k8s.io "" is invalid: force: Forbidden: may not be specified for non-apply patch']);
  t.deepEqual(invalid('PatchOptions', { fieldManager: 'x', force: 'yes', apply: true }), [400, 'strconv.ParseBool: parsing "yes": invalid syntax']);
  t.deepEqual(checkWriteOptions('PatchOptions', { fieldManager: 'x', force: 'true', apply: true }), { force: true });
  t.deepEqual(checkWriteOptions('UpdateOptions', {}), { force: false });
  t.deepEqual(validateManagedFields([{ manager: 'm', operation: 'Delete', fieldsType: 'FieldsV2', subresource: 's'.repeat(257) }]).map((c) => c.field), [
    'metadata.managedFields[0].operation',
    'metadata.managedFields[0].fieldsType',
    'metadata.managedFields[0].subresource',
  ]);
});
