import test from 'ava';
import { applyDefaults, validateObject } from '../../shared/registry/admission.ts';
import { parseQuantity, cpuMillis, memoryBytes, isValidQuantity } from '../../shared/api/quantity.ts';
import type { KubeObject } from '../../shared/types.ts';

const deployment = (spec: Record<string, any> = {}, meta: Record<string, any> = {}): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', ...meta },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } },
    ...spec,
  },
});

function causesOf(kind: string, obj: KubeObject) {
  applyDefaults(kind, obj);
  return validateObject(kind, obj).causes;
}

test('quantities', (t) => {
  t.is(parseQuantity('500m'), 0.5);
  t.is(parseQuantity('1Gi'), 2 ** 30);
  t.is(parseQuantity('1G'), 1e9);
  t.is(parseQuantity('1e3'), 1000);
  t.is(cpuMillis('250m'), 250);
  t.is(cpuMillis('2'), 2000);
  t.is(cpuMillis('0.1'), 100);
  t.is(memoryBytes('128Mi'), 128 * 2 ** 20);
  t.false(isValidQuantity('abc'));
  t.false(isValidQuantity('1Gb'));
  t.throws(() => parseQuantity('one'));
});

test('a realistic Deployment passes, keeps every legitimate field, and is defaulted as Kubernetes does', (t) => {
  const d = deployment({
    template: {
      metadata: { labels: { app: 'web' }, annotations: { 'example.com/x': 'y' } },
      spec: {
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] }] } } },
        securityContext: { runAsNonRoot: true },
        volumes: [{ name: 'data', emptyDir: {} }, { name: 'cfg', configMap: { name: 'cfg' } }],
        containers: [{
          name: 'web',
          image: 'nginx',
          ports: [{ name: 'http', containerPort: 80 }],
          envFrom: [{ configMapRef: { name: 'cfg' } }],
          env: [{ name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          resources: { limits: { cpu: '500m', memory: '256Mi' } },
          readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
          volumeMounts: [{ name: 'data', mountPath: '/data' }],
          securityContext: { readOnlyRootFilesystem: true },
        }],
      },
    },
  });
  applyDefaults('Deployment', d);
  const { causes, unknownFields } = validateObject('Deployment', d);
  t.deepEqual(causes, []);
  t.deepEqual(unknownFields, []);
  const pod = d.spec.template.spec;
  t.deepEqual(pod.securityContext, { runAsNonRoot: true });
  t.truthy(pod.affinity.nodeAffinity);
  t.like(d.spec, { replicas: 2, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } } });
  t.like(pod, { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', schedulerName: 'default-scheduler' });
  const c = pod.containers[0];
  t.is(c.imagePullPolicy, 'Always', 'no tag means latest');
  t.deepEqual(c.resources.requests, { cpu: '500m', memory: '256Mi' }, 'requests default to limits');
  t.is(c.ports[0].protocol, 'TCP');
  t.like(c.readinessProbe, { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 });
  const again = structuredClone(d);
  applyDefaults('Deployment', again);
  t.deepEqual(again, d, 'defaulting is idempotent');
});

test('unknown fields are pruned and reported with their paths', (t) => {
  const d = deployment({ replicaz: 3 });
  d.spec.template.spec.containers[0].imagee = 'x';
  const { causes, unknownFields } = validateObject('Deployment', d);
  t.deepEqual(causes, []);
  t.deepEqual(unknownFields.sort(), ['spec.replicaz', 'spec.template.spec.containers[0].imagee']);
  t.false('replicaz' in d.spec);
});

const invalidCases: [string, () => KubeObject, string, string, string?][] = [
  ['negative replicas', () => deployment({ replicas: -1 }), 'spec.replicas', 'FieldValueInvalid', 'Invalid value: -1: must be greater than or equal to 0'],
  ['replicas of the wrong type', () => deployment({ replicas: 'three' }), 'spec.replicas', 'FieldValueInvalid'],
  ['bad name', () => deployment({}, { name: 'Bad_Name' }), 'metadata.name', 'FieldValueInvalid'],
  ['missing image', () => { const d = deployment(); delete d.spec.template.spec.containers[0].image; return d; }, 'spec.template.spec.containers[0].image', 'FieldValueRequired', 'Required value'],
  ['no containers', () => { const d = deployment(); d.spec.template.spec.containers = []; return d; }, 'spec.template.spec.containers', 'FieldValueRequired'],
  ['duplicate container names', () => { const d = deployment(); d.spec.template.spec.containers.push({ name: 'c', image: 'x' }); return d; }, 'spec.template.spec.containers[1].name', 'FieldValueDuplicate'],
  ['selector not matching template', () => deployment({ selector: { matchLabels: { app: 'other' } } }), 'spec.template.metadata.labels', 'FieldValueInvalid', 'Invalid value: map[string]string{"app":"web"}: `selector` does not match template `labels`'],
  ['missing selector', () => { const d = deployment(); delete d.spec.selector; return d; }, 'spec.selector', 'FieldValueRequired'],
  ['restartPolicy Never in a Deployment', () => { const d = deployment(); d.spec.template.spec.restartPolicy = 'Never'; return d; }, 'spec.template.spec.restartPolicy', 'FieldValueNotSupported', 'Unsupported value: "Never": supported values: "Always"'],
  ['unknown strategy', () => deployment({ strategy: { type: 'Sometimes' } }), 'spec.strategy.type', 'FieldValueNotSupported'],
  ['surge and unavailable both zero', () => deployment({ strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } } }), 'spec.strategy.rollingUpdate.maxUnavailable', 'FieldValueInvalid'],
  ['port out of range', () => { const d = deployment(); d.spec.template.spec.containers[0].ports = [{ containerPort: 70000 }]; return d; }, 'spec.template.spec.containers[0].ports[0].containerPort', 'FieldValueInvalid'],
  ['bad quantity', () => { const d = deployment(); d.spec.template.spec.containers[0].resources = { limits: { cpu: 'lots' } }; return d; }, 'spec.template.spec.containers[0].resources.limits[cpu]', 'FieldValueInvalid'],
  ['requests above limits', () => { const d = deployment(); d.spec.template.spec.containers[0].resources = { limits: { cpu: '1' }, requests: { cpu: '2' } }; return d; }, 'spec.template.spec.containers[0].resources.requests', 'FieldValueInvalid'],
  ['bad label value', () => deployment({}, { labels: { app: 'not ok' } }), 'metadata.labels', 'FieldValueInvalid'],
];

for (const [what, make, field, reason, message] of invalidCases) {
  test(`invalid: ${what}`, (t) => {
    const causes = causesOf('Deployment', make());
    const cause = causes.find((c) => c.field === field);
    t.truthy(cause, JSON.stringify(causes));
    t.is(cause!.reason, reason);
    if (message) t.is(cause!.message, message);
  });
}

test('Services: ports, node ports, names', (t) => {
  const svc = (spec: Record<string, any>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ...spec } });
  t.deepEqual(causesOf('Service', svc({ ports: [{ port: 80, targetPort: 'http' }] })), []);
  t.true(causesOf('Service', svc({ ports: [] })).some((c) => c.field === 'spec.ports'));
  t.true(causesOf('Service', svc({ ports: [{ port: 70000 }] })).some((c) => c.field === 'spec.ports[0].port'));
  t.true(causesOf('Service', svc({ type: 'NodePort', ports: [{ port: 80, nodePort: 70000 }] })).some((c) => c.field === 'spec.ports[0].nodePort'));
  t.true(causesOf('Service', svc({ ports: [{ port: 80, nodePort: 30080 }] })).some((c) => c.field === 'spec.ports[0].nodePort' && c.reason === 'FieldValueForbidden'));
  t.true(causesOf('Service', svc({ ports: [{ port: 80 }, { port: 81 }] })).some((c) => c.field === 'spec.ports[0].name' && c.reason === 'FieldValueRequired'));
  const defaulted = svc({ ports: [{ port: 80 }] });
  applyDefaults('Service', defaulted);
  t.like(defaulted.spec, { type: 'ClusterIP', sessionAffinity: 'None', ports: [{ port: 80, targetPort: 80, protocol: 'TCP' }] });
});

test('Jobs and CronJobs', (t) => {
  const job = (restartPolicy?: string): KubeObject => ({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' }, spec: { template: { spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'c', image: 'x' }] } } } });
  t.deepEqual(validateObject('Job', job('Never')).causes, []);
  t.true(validateObject('Job', job('Always')).causes.some((c) => c.field === 'spec.template.spec.restartPolicy'));
  const cron = (schedule: string): KubeObject => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { schedule, jobTemplate: { spec: job('OnFailure').spec } } });
  t.deepEqual(validateObject('CronJob', cron('*/5 * * * *')).causes, []);
  t.true(validateObject('CronJob', cron('every day')).causes.some((c) => c.field === 'spec.schedule'));
});

test('updates: selectors and pod specs are immutable', (t) => {
  const old = deployment();
  const changed = deployment({ selector: { matchLabels: { app: 'web', tier: 'x' } }, template: { metadata: { labels: { app: 'web', tier: 'x' } }, spec: { containers: [{ name: 'c', image: 'nginx:1' }] } } });
  t.true(validateObject('Deployment', changed, { old }).causes.some((c) => c.field === 'spec.selector' && /immutable/.test(c.message)));
  const pod = (image: string, extra: Record<string, any> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image }], ...extra } });
  t.deepEqual(validateObject('Pod', pod('b'), { old: pod('a') }).causes, [], 'the image may change');
  t.true(validateObject('Pod', pod('a', { hostname: 'h' }), { old: pod('a') }).causes.some((c) => c.field === 'spec' && c.reason === 'FieldValueForbidden'));
});

test('times are RFC 3339 as Go parses them: anything else is Invalid (found by the API fuzz suite: a Lease renewed at "garbage" was stored)', async (t) => {
  const { isRfc3339Time } = await import('../../shared/api/validation.ts');
  for (const s of ['2024-01-01T00:00:00Z', '2024-02-29T23:59:59.123456+05:30', '2024-01-01T00:00:00.000000Z', '2024-06-30T12:00:00-07:00']) t.true(isRfc3339Time(s), s);
  for (const s of ['', 'garbage', '2023-02-29T00:00:00Z', '2024-13-01T00:00:00Z', '2024-01-01 00:00:00Z', '2024-01-01T00:00:00', '2024-01-01t00:00:00z', '2024-01-01T24:00:00Z', '2024-01-01T00:00:60Z', '2024-01-01T00:00:00+24:00', '1704067200']) t.false(isRfc3339Time(s), s);
  const lease = (spec: object) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec } as unknown as KubeObject);
  t.deepEqual(validateObject('Lease', lease({ renewTime: 'garbage', acquireTime: null })).causes, [
    { reason: 'FieldValueInvalid', field: 'spec.renewTime', message: 'Invalid value: "garbage": must be a time in RFC 3339 form (2006-01-02T15:04:05Z07:00)' },
  ]);
  t.deepEqual(validateObject('Lease', lease({ renewTime: '2024-01-01T00:00:00.123456Z' })).causes, []);
  const event = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' }, involvedObject: { kind: 'Pod', name: 'p' }, lastTimestamp: 'yesterday', firstTimestamp: '2024-01-01T00:00:00Z' } as unknown as KubeObject;
  t.deepEqual(validateObject('Event', event).causes.map((c) => c.field), ['lastTimestamp']);
});

test('the label selectors of topology spread constraints and pod affinity terms, and a CronJob\'s job template metadata, are validated (found by the API fuzz suite)', (t) => {
  const LABEL = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
  const pod = (spec: object) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i' }], ...spec } } as unknown as KubeObject);
  const messages = (obj: KubeObject) => validateObject(obj.kind!, obj).causes.map((c) => `${c.field}: ${c.message}`);
  t.deepEqual(messages(pod({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: { app: ' ' } } }] })), [
    `spec.topologySpreadConstraints[0].labelSelector.matchLabels: Invalid value: " ": ${LABEL}`,
  ]);
  t.deepEqual(messages(pod({ affinity: {
    podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone', labelSelector: { matchExpressions: [{ key: 'app', operator: 'In' }] } }] },
    podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 1, podAffinityTerm: { topologyKey: 'zone', namespaceSelector: { matchLabels: { team: 'a b' } } } }] },
  } })), [
    "spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
    `spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.namespaceSelector.matchLabels: Invalid value: "a b": ${LABEL}`,
  ]);
  t.deepEqual(messages(pod({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'DoNotSchedule', labelSelector: {} }] })), [], 'an empty selector is one');
  const cronJob = { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj' }, spec: { schedule: '* * * * *', jobTemplate: {
    metadata: { labels: { app: '日本語' }, annotations: { 'bad key': 'x' } },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } },
  } } } as unknown as KubeObject;
  t.deepEqual(messages(cronJob).map((m) => m.split(':')[0]), ['spec.jobTemplate.metadata.labels', 'spec.jobTemplate.metadata.annotations']);
});

test('a pod spec\'s hostname, subdomain, service account, host aliases, DNS config and env source names are validated as Kubernetes\' ValidatePodSpec does (found by the API fuzz suite)', (t) => {
  const pod = (spec: object, container: object = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'i', ...container }], ...spec } } as unknown as KubeObject);
  const fields = (obj: KubeObject) => validateObject('Pod', obj).causes.map((c) => c.field);
  t.deepEqual(fields(pod({ hostname: 'Not_A_Label', subdomain: 'a.b', serviceAccountName: 'UPPER' })), ['spec.hostname', 'spec.subdomain', 'spec.serviceAccountName']);
  t.deepEqual(fields(pod({ hostname: '', subdomain: '', serviceAccountName: '' })), [], 'empty is unset');
  t.deepEqual(validateObject('Pod', pod({ hostAliases: [{ ip: 'localhost', hostnames: ['ok.example', 'not ok'] }] })).causes.map((c) => `${c.field}: ${c.message}`), [
    'spec.hostAliases[0].ip: Invalid value: "localhost": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    'spec.hostAliases[0].hostnames[1]: Invalid value: "not ok": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, \'-\' or \'.\', and must start and end with an alphanumeric character (e.g. \'example.com\', regex used for validation is \'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\')',
  ]);
  t.deepEqual(fields(pod({ dnsConfig: { nameservers: ['1.1.1.1', 'dns.example'], searches: ['svc.cluster.local.', 'Bad_Domain'] } })), ['spec.dnsConfig.nameservers[1]', 'spec.dnsConfig.searches[1]']);
  t.deepEqual(validateObject('Pod', pod({ dnsConfig: { nameservers: ['1.1.1.1', '1.0.0.1', '8.8.8.8', '8.8.4.4'] } })).causes.map((c) => c.message), ['Invalid value: "1.1.1.1,1.0.0.1,8.8.8.8,8.8.4.4": must not have more than 3 nameservers']);
  t.deepEqual(fields(pod({}, {
    env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'Bad', key: 'k' } } }, { name: 'B', valueFrom: { secretKeyRef: { name: '', key: 'k' } } }],
    envFrom: [{ configMapRef: { name: 'prefix-' } }, { secretRef: { name: 'no way' } }],
  })), ['spec.containers[0].env[0].valueFrom.configMapKeyRef.name', 'spec.containers[0].env[1].valueFrom.secretKeyRef.name', 'spec.containers[0].envFrom[1].secretRef.name']);
});

test('a CronJob\'s schedule has five fields or is a descriptor, as Kubernetes\' parser takes it (found by the API fuzz suite: "0" was taken)', (t) => {
  const cronJob = (schedule: unknown) => ({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'cj' }, spec: { schedule, jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'i' }] } } } } } } as unknown as KubeObject);
  const messages = (schedule: unknown) => validateObject('CronJob', cronJob(schedule)).causes.map((c) => `${c.field}: ${c.message}`);
  t.deepEqual(messages('0'), ['spec.schedule: Invalid value: "0": expected exactly 5 fields, found 1: 0']);
  t.deepEqual(messages('* * * *'), ['spec.schedule: Invalid value: "* * * *": expected exactly 5 fields, found 4: * * * *']);
  t.deepEqual(messages(''), ['spec.schedule: Required value']);
  t.deepEqual(messages('*/5 * * * *'), []);
  t.deepEqual(messages('@hourly'), []);
});
