// Valid manifests of the main kinds, as rich as Kubernetes' types allow, for the API fuzz suite
// (test/integration/api-fuzz.test.ts) to mutate one value at a time. What Kubernetes' Go types say
// of each field is written down here, from Kubernetes' types (k8s.io/api), not from Wharf's
// schemas: a test whose oracle were Wharf's own schema could not find where Wharf is wrong.

/** The namespace the fuzz suite's namespaced objects live in. */
export const FUZZ_NAMESPACE = 'fuzz';

export interface FuzzKind {
  /** A short label: the kind, or `events.k8s.io/Event`. */
  label: string;
  apiVersion: string;
  kind: string;
  /** The collection's path, in FUZZ_NAMESPACE for namespaced kinds. */
  collection: string;
  manifest(name: string): Record<string, any>;
  /** A valid status, for kinds with a status subresource. */
  status?: Record<string, any>;
  /** Whether the kind has the scale subresource. */
  scale?: boolean;
  /** Fields Kubernetes refuses an object without (on create), as paths. */
  required: (string | number)[][];
}

const ns = (group: string, plural: string) => (group === '' ? `/api/v1/namespaces/${FUZZ_NAMESPACE}/${plural}` : `/apis/${group}/namespaces/${FUZZ_NAMESPACE}/${plural}`);

const labels = { app: 'fz', tier: 'backend' };

function container(name: string): Record<string, any> {
  return {
    name,
    image: 'busybox:1.36',
    command: ['sh', '-c'],
    args: ['sleep 3600'],
    workingDir: '/tmp',
    ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
    env: [
      { name: 'PLAIN', value: 'one' },
      { name: 'FROM_MAP', valueFrom: { configMapKeyRef: { name: 'fz-configmap', key: 'a', optional: true } } },
      { name: 'FROM_FIELD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    ],
    envFrom: [{ prefix: 'CM_', configMapRef: { name: 'fz-configmap', optional: true } }],
    resources: { limits: { cpu: '200m', memory: '64Mi' }, requests: { cpu: '100m', memory: '32Mi' } },
    volumeMounts: [{ name: 'scratch', mountPath: '/scratch', readOnly: false, subPath: 'sub' }],
    readinessProbe: { httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' }, periodSeconds: 5, failureThreshold: 3, timeoutSeconds: 1 },
    livenessProbe: { tcpSocket: { port: 'http' }, initialDelaySeconds: 2, successThreshold: 1 },
    lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } } },
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePolicy: 'File',
    securityContext: { runAsUser: 1000, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' }, procMount: 'Default' },
  };
}

function podSpec(restartPolicy: string): Record<string, any> {
  return {
    initContainers: [{ name: 'init', image: 'busybox:1.36', command: ['true'] }],
    containers: [container('main')],
    volumes: [
      { name: 'scratch', emptyDir: { sizeLimit: '16Mi' } },
      { name: 'settings', configMap: { name: 'fz-configmap', items: [{ key: 'a', path: 'a.txt', mode: 420 }], defaultMode: 420, optional: true } },
      { name: 'creds', secret: { secretName: 'fz-secret', optional: true } },
    ],
    restartPolicy,
    terminationGracePeriodSeconds: 5,
    activeDeadlineSeconds: 3600,
    dnsPolicy: 'ClusterFirst',
    dnsConfig: { nameservers: ['1.1.1.1'], searches: ['fuzz.example'], options: [{ name: 'ndots', value: '2' }] },
    nodeSelector: { disk: 'ssd' },
    serviceAccountName: 'default',
    automountServiceAccountToken: false,
    hostname: 'fuzzed',
    subdomain: 'fz',
    enableServiceLinks: false,
    securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 2000, supplementalGroups: [3000], fsGroupChangePolicy: 'OnRootMismatch', sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] },
    imagePullSecrets: [{ name: 'registry' }],
    hostAliases: [{ ip: '10.0.0.1', hostnames: ['one.example'] }],
    tolerations: [
      { key: 'dedicated', operator: 'Equal', value: 'fuzz', effect: 'NoSchedule' },
      { key: 'flaky', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 60 },
    ],
    affinity: {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] },
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 10, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } }],
      },
      podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] }, topologyKey: 'zone' }] },
      podAntiAffinity: {
        preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, podAffinityTerm: { labelSelector: { matchLabels: { app: 'fz' } }, namespaceSelector: { matchLabels: { team: 'fuzz' } }, topologyKey: 'kubernetes.io/hostname', namespaces: ['fuzz'] } }],
      },
    },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: { app: 'fz' } } }],
    readinessGates: [{ conditionType: 'example.com/ready' }],
  };
}

const template = (restartPolicy = 'Always') => ({ metadata: { labels: { ...labels }, annotations: { 'example.com/note': 'template' } }, spec: podSpec(restartPolicy) });
const selector = () => ({ matchLabels: { app: 'fz' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend', 'frontend'] }] });
const meta = (name: string) => ({ name, labels: { ...labels }, annotations: { 'example.com/owner': 'fuzz', note: 'hello' } });
const condition = { type: 'Available', status: 'True', lastTransitionTime: '2024-01-01T00:00:00Z', reason: 'Fuzzed', message: 'a condition' };
const time = '2024-01-01T00:00:00Z';
const microTime = '2024-01-01T00:00:00.000000Z';

export const FUZZ_KINDS: FuzzKind[] = [
  {
    label: 'Pod',
    apiVersion: 'v1',
    kind: 'Pod',
    collection: ns('', 'pods'),
    manifest: (name) => ({ apiVersion: 'v1', kind: 'Pod', metadata: meta(name), spec: podSpec('Always') }),
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: time }],
      hostIP: '10.0.0.2',
      podIP: '10.1.0.5',
      podIPs: [{ ip: '10.1.0.5' }],
      startTime: time,
      qosClass: 'Burstable',
      containerStatuses: [{ name: 'main', ready: true, restartCount: 0, image: 'busybox:1.36', imageID: 'sha256:1', containerID: 'docker://1', started: true, state: { running: { startedAt: time } } }],
    },
    required: [['spec'], ['spec', 'containers'], ['spec', 'containers', 0, 'name'], ['spec', 'containers', 0, 'image'], ['metadata', 'name']],
  },
  {
    label: 'Deployment',
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    collection: ns('apps/v1', 'deployments'),
    manifest: (name) => ({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name),
      spec: {
        replicas: 2,
        selector: selector(),
        template: template(),
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
        minReadySeconds: 1,
        revisionHistoryLimit: 3,
        paused: true,
        progressDeadlineSeconds: 600,
      },
    }),
    status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1, unavailableReplicas: 1, conditions: [{ ...condition, lastUpdateTime: time }] },
    scale: true,
    required: [['spec', 'selector'], ['spec', 'template', 'spec', 'containers'], ['metadata', 'name']],
  },
  {
    label: 'ReplicaSet',
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    collection: ns('apps/v1', 'replicasets'),
    manifest: (name) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: meta(name), spec: { replicas: 1, minReadySeconds: 2, selector: selector(), template: template() } }),
    status: { replicas: 1, fullyLabeledReplicas: 1, readyReplicas: 1, availableReplicas: 1, observedGeneration: 1 },
    scale: true,
    required: [['spec', 'selector'], ['metadata', 'name']],
  },
  {
    label: 'DaemonSet',
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    collection: ns('apps/v1', 'daemonsets'),
    manifest: (name) => ({
      apiVersion: 'apps/v1',
      kind: 'DaemonSet',
      metadata: meta(name),
      spec: { selector: selector(), template: template(), minReadySeconds: 3, revisionHistoryLimit: 5, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '10%', maxSurge: 0 } } },
    }),
    status: { currentNumberScheduled: 1, numberMisscheduled: 0, desiredNumberScheduled: 1, numberReady: 1, observedGeneration: 1, updatedNumberScheduled: 1, numberAvailable: 1 },
    required: [['spec', 'selector'], ['spec', 'template', 'spec', 'containers'], ['metadata', 'name']],
  },
  {
    label: 'Job',
    apiVersion: 'batch/v1',
    kind: 'Job',
    collection: ns('batch/v1', 'jobs'),
    manifest: (name) => ({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: meta(name),
      spec: { parallelism: 2, completions: 4, backoffLimit: 3, activeDeadlineSeconds: 600, ttlSecondsAfterFinished: 100, completionMode: 'NonIndexed', suspend: true, template: template('Never') },
    }),
    status: { active: 1, succeeded: 1, failed: 0, startTime: time, conditions: [{ type: 'Suspended', status: 'True', lastProbeTime: time, lastTransitionTime: time, reason: 'JobSuspended', message: 'suspended' }] },
    required: [['spec', 'template', 'spec', 'containers'], ['metadata', 'name']],
  },
  {
    label: 'CronJob',
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    collection: ns('batch/v1', 'cronjobs'),
    manifest: (name) => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: meta(name),
      spec: {
        schedule: '*/5 * * * *',
        timeZone: 'Etc/UTC',
        startingDeadlineSeconds: 100,
        concurrencyPolicy: 'Forbid',
        suspend: true,
        successfulJobsHistoryLimit: 2,
        failedJobsHistoryLimit: 1,
        jobTemplate: { metadata: { labels: { ...labels } }, spec: { backoffLimit: 1, template: template('OnFailure') } },
      },
    }),
    status: { lastScheduleTime: time, lastSuccessfulTime: time, active: [{ kind: 'Job', namespace: FUZZ_NAMESPACE, name: 'j', apiVersion: 'batch/v1' }] },
    required: [['spec', 'schedule'], ['spec', 'jobTemplate'], ['metadata', 'name']],
  },
  {
    label: 'Service',
    apiVersion: 'v1',
    kind: 'Service',
    collection: ns('', 'services'),
    manifest: (name) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name),
      spec: {
        type: 'ClusterIP',
        selector: { app: 'fz' },
        ports: [
          { name: 'http', protocol: 'TCP', port: 80, targetPort: 'http' },
          { name: 'metrics', protocol: 'TCP', port: 9090, targetPort: 9090, appProtocol: 'http' },
        ],
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
        publishNotReadyAddresses: false,
        internalTrafficPolicy: 'Cluster',
        ipFamilyPolicy: 'SingleStack',
      },
    }),
    status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] }, conditions: [condition] },
    required: [['metadata', 'name']],
  },
  {
    label: 'ConfigMap',
    apiVersion: 'v1',
    kind: 'ConfigMap',
    collection: ns('', 'configmaps'),
    manifest: (name) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(name), data: { a: 'one', 'b.txt': 'line 1\nline 2' }, binaryData: { bin: Buffer.from([0, 1, 2, 255]).toString('base64') }, immutable: false }),
    required: [['metadata', 'name']],
  },
  {
    label: 'Secret',
    apiVersion: 'v1',
    kind: 'Secret',
    collection: ns('', 'secrets'),
    manifest: (name) => ({ apiVersion: 'v1', kind: 'Secret', metadata: meta(name), type: 'Opaque', data: { user: Buffer.from('admin').toString('base64') }, stringData: { password: 'hunter2' }, immutable: false }),
    required: [['metadata', 'name']],
  },
  {
    label: 'Namespace',
    apiVersion: 'v1',
    kind: 'Namespace',
    collection: '/api/v1/namespaces',
    manifest: (name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: meta(name), spec: { finalizers: ['kubernetes'] } }),
    status: { phase: 'Active', conditions: [{ type: 'NamespaceDeletionDiscoveryFailure', status: 'False', lastTransitionTime: time, reason: 'ResourcesDiscovered', message: 'ok' }] },
    required: [['metadata', 'name']],
  },
  {
    label: 'Lease',
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    collection: ns('coordination.k8s.io/v1', 'leases'),
    manifest: (name) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: meta(name), spec: { holderIdentity: 'fuzzer', leaseDurationSeconds: 15, acquireTime: microTime, renewTime: microTime, leaseTransitions: 1 } }),
    required: [['metadata', 'name']],
  },
  {
    label: 'PodDisruptionBudget',
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    collection: ns('policy/v1', 'poddisruptionbudgets'),
    // It selects nothing, so evictions of the fuzz Pod never ask it.
    manifest: (name) => ({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: meta(name), spec: { minAvailable: 1, selector: { matchLabels: { budget: 'none' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, unhealthyPodEvictionPolicy: 'IfHealthyBudget' } }),
    status: { observedGeneration: 1, disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1, expectedPods: 0, disruptedPods: { gone: time }, conditions: [{ ...condition, type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods' }] },
    required: [['metadata', 'name']],
  },
  {
    label: 'PriorityClass',
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    collection: '/apis/scheduling.k8s.io/v1/priorityclasses',
    manifest: (name) => ({ apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: meta(name), value: 1000, globalDefault: false, description: 'for the fuzz suite', preemptionPolicy: 'Never' }),
    required: [['value'], ['metadata', 'name']],
  },
  {
    label: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    collection: ns('discovery.k8s.io/v1', 'endpointslices'),
    manifest: (name) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { ...meta(name), labels: { 'kubernetes.io/service-name': 'fz-service' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.1.0.5'], conditions: { ready: true, serving: true, terminating: false }, hostname: 'one', nodeName: 'node-a', zone: 'a', targetRef: { kind: 'Pod', namespace: FUZZ_NAMESPACE, name: 'fz-pod', uid: '00000000-0000-0000-0000-000000000001' }, hints: { forZones: [{ name: 'a' }] } }],
      ports: [{ name: 'http', protocol: 'TCP', port: 8080, appProtocol: 'http' }],
    }),
    required: [['addressType'], ['metadata', 'name']],
  },
  {
    label: 'Endpoints',
    apiVersion: 'v1',
    kind: 'Endpoints',
    collection: ns('', 'endpoints'),
    manifest: (name) => ({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: meta(name),
      subsets: [{
        addresses: [{ ip: '10.1.0.5', hostname: 'one', nodeName: 'node-a', targetRef: { kind: 'Pod', namespace: FUZZ_NAMESPACE, name: 'fz-pod' } }],
        notReadyAddresses: [{ ip: '10.1.0.6' }],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      }],
    }),
    required: [['metadata', 'name']],
  },
  {
    label: 'Event',
    apiVersion: 'v1',
    kind: 'Event',
    collection: ns('', 'events'),
    manifest: (name) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: meta(name),
      involvedObject: { kind: 'Pod', namespace: FUZZ_NAMESPACE, name: 'fz-pod', apiVersion: 'v1', fieldPath: 'spec.containers{main}' },
      reason: 'Fuzzed',
      message: 'something happened',
      source: { component: 'fuzzer', host: 'node-a' },
      firstTimestamp: time,
      lastTimestamp: time,
      count: 2,
      type: 'Normal',
    }),
    required: [['metadata', 'name']],
  },
  {
    label: 'events.k8s.io/Event',
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    collection: ns('events.k8s.io/v1', 'events'),
    manifest: (name) => ({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: meta(name),
      eventTime: microTime,
      reportingController: 'example.com/fuzzer',
      reportingInstance: 'fuzzer-1',
      action: 'Fuzzing',
      reason: 'Fuzzed',
      regarding: { kind: 'Pod', namespace: FUZZ_NAMESPACE, name: 'fz-pod', apiVersion: 'v1' },
      note: 'something happened',
      type: 'Warning',
      series: { count: 2, lastObservedTime: microTime },
    }),
    required: [['eventTime'], ['reportingController'], ['action'], ['reason'], ['metadata', 'name']],
  },
];

/** The name of a kind's fixture: the object every refusal-expected request of that kind aims at. */
export function fixtureName(k: FuzzKind): string {
  return `fz-${k.label.replace(/^events\.k8s\.io\//, 'v1').toLowerCase()}`;
}

export type Path = (string | number)[];

/**
 * Whether Kubernetes' Go type at this path takes both a JSON string and a number: IntOrString
 * (ports a Service or probe targets, rolling-update and budget amounts) and Quantity (resources,
 * size limits).
 */
export function takesStringOrNumber(path: Path): boolean {
  const last = path.at(-1);
  const parent = path.at(-2);
  if (last === 'targetPort' || last === 'maxSurge' || last === 'maxUnavailable' || last === 'minAvailable') return true;
  if (last === 'port' && (parent === 'httpGet' || parent === 'tcpSocket')) return true;
  if (last === 'sizeLimit' || last === 'divisor') return true;
  return parent === 'limits' || parent === 'requests' || parent === 'overhead';
}

/** Objects whose keys are data (Go maps), where an unknown key is not an unknown field. */
export function isMap(path: Path, kind: string): boolean {
  const last = path.at(-1);
  if (['labels', 'annotations', 'data', 'binaryData', 'stringData', 'matchLabels', 'nodeSelector', 'limits', 'requests', 'disruptedPods'].includes(String(last))) return true;
  return kind === 'Service' && path.join('.') === 'spec.selector';
}
