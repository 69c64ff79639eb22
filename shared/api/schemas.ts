// JSON Schemas of the kinds Wharf serves, with Kubernetes v1.32's field names and Go types.
// Objects whose full field set is listed are closed (additionalProperties: false), so unknown
// fields are found and pruned as Kubernetes does; sub-objects Wharf does not interpret are open
// objects, so no legitimate manifest loses a field. Every status is open too (see `statusObj`).
//
// The same schemas are the OpenAPI v3 document kubectl reads (services/api/openapi.ts), so they
// carry short descriptions (`kubectl explain` prints them) and, under the OPENAPI keyword, facts
// only the document uses: ajv, compiled with strict mode off, ignores keywords it does not know.
type Schema = Record<string, any>;

/** What the OpenAPI document says of a schema beyond what validation checks. */
export interface OpenApiFacts {
  /** Kubernetes' name of the type: the document lists it once and refers to it. */
  definition?: string;
  /** The Go integer type (int32, int64). */
  format?: string;
  /** Fields Kubernetes' OpenAPI marks required in a status: documented, never enforced (see `statusObj`). */
  required?: string[];
}
export const OPENAPI = 'x-wharf-openapi';
const withFacts = (schema: Schema, facts: OpenApiFacts): Schema => ({ ...schema, [OPENAPI]: { ...schema[OPENAPI], ...facts } });

// ---- Go's integer types ----------------------------------------------------------------
// Every integer field has its Go type's range (plus the minimum Kubernetes' validation gives it),
// so 3000000000 replicas or a grace period of 1e300 are refused as Invalid instead of stored.

export const INT32_MAX = 2 ** 31 - 1;
const INT32_MIN = -(2 ** 31);
/**
 * int64's largest value, 2^63-1, is no double: a JSON number is read as one, and
 * 9223372036854775807 arrives as 2^63, which no Go client can read back into an int64. So the
 * largest double below 2^63 is the largest value kept.
 */
export const INT64_MAX = 2 ** 63 - 1024;
const INT64_MIN = -(2 ** 63);

const int32 = (minimum = INT32_MIN): Schema => withFacts({ type: 'integer', minimum, maximum: INT32_MAX }, { format: 'int32' });
const int64 = (minimum = INT64_MIN, maximum = INT64_MAX): Schema => withFacts({ type: 'integer', minimum, maximum }, { format: 'int64' });

// ---- building blocks -------------------------------------------------------------------

const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, additionalProperties: false, ...(required.length ? { required } : {}) });
const open: Schema = { type: 'object' };
/**
 * A status, or an object inside one. Controllers write statuses straight to the store, but a
 * status also comes back through validation whenever a client writes the whole object (a label
 * patch, a PUT of what it read), and the pruner removes fields wherever a schema says
 * `additionalProperties: false`. So statuses stay open: a field a controller writes that is not
 * listed here survives every write. The fields listed are type-checked. Required fields are only
 * documented: Kubernetes resets the status on create and never refuses a client's `status: {}`.
 */
const statusObj = (properties: Record<string, Schema>, required: string[] = []): Schema => {
  const schema = { type: 'object', properties };
  return required.length ? withFacts(schema, { required }) : schema;
};
const named = (definition: string, schema: Schema): Schema => withFacts(schema, { definition });
const doc = (description: string, schema: Schema): Schema => ({ ...schema, description });

const core = (type: string) => `io.k8s.api.core.v1.${type}`;
const apps = (type: string) => `io.k8s.api.apps.v1.${type}`;
const batch = (type: string) => `io.k8s.api.batch.v1.${type}`;
const meta = (type: string) => `io.k8s.apimachinery.pkg.apis.meta.v1.${type}`;

const str: Schema = { type: 'string' };
const bool: Schema = { type: 'boolean' };
const strMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const arr = (items: Schema): Schema => ({ type: 'array', items });
const strArr = arr(str);
const enumOf = (...values: string[]): Schema => ({ type: 'string', enum: values });
const intOrString: Schema = named('io.k8s.apimachinery.pkg.util.intstr.IntOrString', { type: ['integer', 'string'], minimum: INT32_MIN, maximum: INT32_MAX });
const quantity: Schema = named('io.k8s.apimachinery.pkg.api.resource.Quantity', { type: ['string', 'number'] });
const quantityMap: Schema = { type: 'object', additionalProperties: quantity };
/**
 * metav1.Time: RFC 3339 text (Kubernetes' decoder refuses any other, validation checks the format);
 * a zero time is written as null (as `lastProbeTime: null`). MicroTime is the same with microseconds,
 * which Go's parser insists on; Wharf takes any fraction there, as clients that write them differ.
 */
const time: Schema = named(meta('Time'), { type: ['string', 'null'], format: 'date-time' });
const microTime: Schema = named(meta('MicroTime'), { type: ['string', 'null'], format: 'date-time' });
const conditionStatus = enumOf('True', 'False', 'Unknown');

// ---- metadata --------------------------------------------------------------------------

const ownerReference = named(meta('OwnerReference'), obj({
  apiVersion: str, kind: str, name: str, uid: str, controller: doc('Whether this owner is the managing controller.', bool),
  blockOwnerDeletion: doc('If true, foreground deletion of the owner waits for this object to go first.', bool),
}, ['apiVersion', 'kind', 'name', 'uid']));

export const objectMeta = named(meta('ObjectMeta'), obj({
  name: doc('Name, unique within a namespace for each kind.', str),
  generateName: doc('Prefix the server completes into a unique name when name is empty.', str),
  namespace: doc('The namespace the object lives in; empty for cluster-scoped kinds.', str),
  selfLink: str,
  uid: doc('Unique identity the server assigns on create.', str),
  resourceVersion: doc('Opaque version of this object, for optimistic concurrency and watches.', str),
  generation: doc('Sequence number of the desired state (spec), bumped on each change of it.', int64()),
  creationTimestamp: doc('When the object was created.', time),
  deletionTimestamp: doc('When the object will be removed; set when deletion was asked for.', time),
  deletionGracePeriodSeconds: doc('Seconds the object is given to terminate gracefully.', int64()),
  labels: doc('Key/value pairs that selectors match.', strMap),
  annotations: doc('Unstructured key/value data for tools.', strMap),
  ownerReferences: doc('Objects this one depends on; the garbage collector removes it when they go.', arr(ownerReference)),
  finalizers: doc('Keys that must be removed before the object is deleted.', strArr),
  managedFields: doc('Which field manager owns which fields (server-side apply).', arr(open)),
}));

const labelSelector = named(meta('LabelSelector'), obj({
  matchLabels: doc('Labels an object must all carry.', strMap),
  matchExpressions: doc('Requirements an object\'s labels must all meet.', arr(obj({ key: str, operator: enumOf('In', 'NotIn', 'Exists', 'DoesNotExist'), values: strArr }, ['key', 'operator']))),
}));

/** metav1.Condition, the condition type of newer kinds (Service, PodDisruptionBudget). */
const metaCondition = named(meta('Condition'), statusObj({
  type: doc('Type of the condition, in CamelCase.', str),
  status: doc('True, False or Unknown.', conditionStatus),
  observedGeneration: doc('The generation the condition was computed for.', int64(0)),
  lastTransitionTime: doc('Last time the status changed.', time),
  reason: doc('Machine-readable reason of the last transition, in CamelCase.', str),
  message: doc('Human-readable details of the last transition.', str),
}, ['type', 'status', 'lastTransitionTime', 'reason', 'message']));

const CONDITION_TIMES: Record<string, string> = {
  lastProbeTime: 'Last time the condition was probed.',
  lastHeartbeatTime: 'Last time the node reported the condition.',
  lastUpdateTime: 'Last time the condition was updated.',
  lastTransitionTime: 'Last time the status changed.',
};

/** The condition shape of core and apps kinds, with the timestamps each kind keeps. */
const condition = (name: string, times: (keyof typeof CONDITION_TIMES)[]): Schema => named(name, statusObj({
  type: doc('Type of the condition.', str),
  status: doc('True, False or Unknown.', conditionStatus),
  ...Object.fromEntries(times.map((t) => [t, doc(CONDITION_TIMES[t], time)])),
  reason: doc('Machine-readable reason of the last transition, in CamelCase.', str),
  message: doc('Human-readable details of the last transition.', str),
}, ['type', 'status']));

// The same Kubernetes type twice: closed where a client writes it (it is pruned as Kubernetes
// prunes it), open inside a status. No group-version document holds both.
const objectReference = named(core('ObjectReference'), obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str }));
const statusObjectReference = named(core('ObjectReference'), statusObj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str }));
const endpointAddress = named(core('EndpointAddress'), obj({ ip: str, hostname: str, nodeName: str, targetRef: objectReference }, ['ip']));
const eventSource = named(core('EventSource'), obj({ component: str, host: str }));

// ---- containers ------------------------------------------------------------------------

const httpGet = obj({ path: str, port: intOrString, host: str, scheme: enumOf('HTTP', 'HTTPS'), httpHeaders: arr(obj({ name: str, value: str }, ['name', 'value'])) }, ['port']);
const handler = {
  exec: obj({ command: strArr }),
  httpGet,
  tcpSocket: obj({ port: intOrString, host: str }, ['port']),
  grpc: obj({ port: int32(1), service: str }, ['port']),
};
const probe = named(core('Probe'), obj({
  ...handler,
  initialDelaySeconds: doc('Seconds after the container started before the first probe.', int32(0)),
  timeoutSeconds: doc('Seconds after which a probe times out.', int32(1)),
  periodSeconds: doc('Seconds between probes.', int32(1)),
  successThreshold: doc('Consecutive successes after a failure that count as success.', int32(1)),
  failureThreshold: doc('Consecutive failures that count as failure.', int32(1)),
  terminationGracePeriodSeconds: doc('Grace period when a failed probe kills the container; overrides the pod\'s.', int64(1)),
}));
const lifecycleHandler = named(core('LifecycleHandler'), obj({ exec: handler.exec, httpGet, tcpSocket: handler.tcpSocket, sleep: obj({ seconds: int64(0) }, ['seconds']) }));

const keySelector = obj({ name: str, key: str, optional: bool }, ['key']);
const envVar = named(core('EnvVar'), obj({
  name: doc('Name of the variable.', str),
  value: doc('Value, with $(VAR) references expanded.', str),
  valueFrom: doc('Source of the value when value is empty.', obj({
    fieldRef: obj({ apiVersion: str, fieldPath: str }, ['fieldPath']),
    resourceFieldRef: obj({ containerName: str, resource: str, divisor: quantity }, ['resource']),
    configMapKeyRef: keySelector,
    secretKeyRef: keySelector,
  })),
}, ['name']));

const resourceRequirements = named(core('ResourceRequirements'), obj({
  limits: doc('Most compute resources (cpu, memory) the container may use.', quantityMap),
  requests: doc('Compute resources the scheduler reserves for the container; default to the limits.', quantityMap),
  claims: doc('Names of the pod\'s resource claims this container uses.', arr(open)),
}));

const containerPort = named(core('ContainerPort'), obj({
  name: doc('IANA service name other objects can refer to the port by.', str),
  containerPort: doc('Port number on the pod\'s IP address.', int32()),
  hostPort: doc('Port number on the host the port is also exposed on.', int32()),
  hostIP: str,
  protocol: doc('TCP, UDP or SCTP.', enumOf('TCP', 'UDP', 'SCTP')),
}, ['containerPort']));

const seLinuxOptions = named(core('SELinuxOptions'), obj({ user: str, role: str, type: str, level: str }));
const windowsOptions = named(core('WindowsSecurityContextOptions'), obj({ gmsaCredentialSpecName: str, gmsaCredentialSpec: str, runAsUserName: str, hostProcess: bool }));
const seccompProfile = named(core('SeccompProfile'), obj({ type: enumOf('Localhost', 'RuntimeDefault', 'Unconfined'), localhostProfile: str }, ['type']));
const appArmorProfile = named(core('AppArmorProfile'), obj({ type: enumOf('Localhost', 'RuntimeDefault', 'Unconfined'), localhostProfile: str }, ['type']));
const securityContext = named(core('SecurityContext'), obj({
  capabilities: obj({ add: strArr, drop: strArr }), privileged: bool, seLinuxOptions, windowsOptions,
  runAsUser: int64(), runAsGroup: int64(), runAsNonRoot: bool, readOnlyRootFilesystem: bool, allowPrivilegeEscalation: bool,
  procMount: enumOf('Default', 'Unmasked'), seccompProfile, appArmorProfile,
}));
const podSecurityContext = named(core('PodSecurityContext'), obj({
  seLinuxOptions, windowsOptions, runAsUser: int64(), runAsGroup: int64(), runAsNonRoot: bool, supplementalGroups: arr(int64()),
  supplementalGroupsPolicy: enumOf('Merge', 'Strict'), fsGroup: int64(), sysctls: arr(obj({ name: str, value: str }, ['name', 'value'])),
  fsGroupChangePolicy: enumOf('OnRootMismatch', 'Always'), seccompProfile, appArmorProfile, seLinuxChangePolicy: enumOf('MountOption', 'Recursive'),
}));

const container = named(core('Container'), obj({
  name: doc('Name of the container, a DNS label unique within the pod.', str),
  image: doc('Image to run.', str),
  command: doc('Entrypoint; the image\'s ENTRYPOINT if not given.', strArr),
  args: doc('Arguments to the entrypoint; the image\'s CMD if not given.', strArr),
  workingDir: str,
  ports: doc('Ports the container exposes.', arr(containerPort)),
  envFrom: doc('Sources (ConfigMaps, Secrets) of environment variables.', arr(obj({ prefix: str, configMapRef: obj({ name: str, optional: bool }), secretRef: obj({ name: str, optional: bool }) }))),
  env: doc('Environment variables.', arr(envVar)),
  resources: doc('Compute resources the container needs and may use.', resourceRequirements),
  resizePolicy: arr(open),
  restartPolicy: doc('Always makes an init container a sidecar.', enumOf('Always')),
  volumeMounts: doc('Pod volumes mounted into the container.', arr(obj({ name: str, readOnly: bool, recursiveReadOnly: str, mountPath: str, subPath: str, mountPropagation: str, subPathExpr: str }, ['name', 'mountPath']))),
  volumeDevices: arr(open),
  livenessProbe: doc('Restarts the container when it fails.', probe),
  readinessProbe: doc('Takes the pod out of Service endpoints while it fails.', probe),
  startupProbe: doc('Holds the other probes back until it succeeds.', probe),
  lifecycle: doc('Hooks run after start and before stop.', obj({ postStart: lifecycleHandler, preStop: lifecycleHandler, stopSignal: str })),
  terminationMessagePath: str, terminationMessagePolicy: enumOf('File', 'FallbackToLogsOnError'),
  imagePullPolicy: doc('Always, Never or IfNotPresent.', enumOf('Always', 'Never', 'IfNotPresent')),
  securityContext, stdin: bool, stdinOnce: bool, tty: bool,
}, ['name']));
/** A Container with the container it targets (its process namespace); what it may not set is validation's. */
const ephemeralContainer = named(core('EphemeralContainer'), obj({
  ...(container.properties as Record<string, Schema>),
  targetContainerName: doc('The container whose process namespace this one joins.', str),
}, ['name']));

const keyToPath = obj({ key: str, path: str, mode: int32() }, ['key', 'path']);
const downwardApiFile = named(core('DownwardAPIVolumeFile'), obj({
  path: str,
  fieldRef: obj({ apiVersion: str, fieldPath: str }, ['fieldPath']),
  resourceFieldRef: obj({ containerName: str, resource: str, divisor: quantity }, ['resource']),
  mode: int32(),
}, ['path']));
const volume = named(core('Volume'), obj({
  name: doc('Name of the volume, a DNS label unique within the pod.', str),
  emptyDir: doc('A directory that lives as long as the pod.', obj({ medium: str, sizeLimit: quantity })),
  configMap: doc('A ConfigMap\'s keys as files.', obj({ name: str, items: arr(keyToPath), defaultMode: int32(), optional: bool })),
  secret: doc('A Secret\'s keys as files.', obj({ secretName: str, items: arr(keyToPath), defaultMode: int32(), optional: bool })),
  hostPath: doc('A path on the node.', obj({ path: str, type: str }, ['path'])),
  persistentVolumeClaim: obj({ claimName: str, readOnly: bool }, ['claimName']),
  projected: doc('Several sources (ConfigMaps, Secrets, the downward API, a ServiceAccount token) as files of one directory.', named(core('ProjectedVolumeSource'), obj({
    sources: arr(named(core('VolumeProjection'), obj({
      secret: obj({ name: str, items: arr(keyToPath), optional: bool }),
      configMap: obj({ name: str, items: arr(keyToPath), optional: bool }),
      downwardAPI: obj({ items: arr(downwardApiFile) }),
      serviceAccountToken: doc('A token of the pod\'s ServiceAccount, bound to the pod, kept fresh by the node.', named(core('ServiceAccountTokenProjection'), obj({ audience: str, expirationSeconds: int64(), path: str }, ['path']))),
      clusterTrustBundle: open,
    }))),
    defaultMode: int32(),
  }))),
  downwardAPI: doc('Fields of the pod as files.', obj({ items: arr(downwardApiFile), defaultMode: int32() })),
  // Volume sources Wharf's agent does not provide are still accepted as Kubernetes' API shapes.
  nfs: open, csi: open, ephemeral: open, image: open, iscsi: open,
  awsElasticBlockStore: open, gcePersistentDisk: open, azureDisk: open, azureFile: open, cephfs: open,
  cinder: open, fc: open, flexVolume: open, flocker: open, gitRepo: open, glusterfs: open,
  photonPersistentDisk: open, portworxVolume: open, quobyte: open, rbd: open, scaleIO: open,
  storageos: open, vsphereVolume: open,
}, ['name']));

const toleration = named(core('Toleration'), obj({
  key: str, operator: enumOf('Exists', 'Equal'), value: str, effect: enumOf('NoSchedule', 'PreferNoSchedule', 'NoExecute', ''),
  tolerationSeconds: doc('How long a NoExecute taint is tolerated before eviction; forever if not set.', int64()),
}));

const nodeSelectorRequirement = named(core('NodeSelectorRequirement'), obj({ key: str, operator: enumOf('In', 'NotIn', 'Exists', 'DoesNotExist', 'Gt', 'Lt'), values: strArr }, ['key', 'operator']));
const nodeSelectorTerm = named(core('NodeSelectorTerm'), obj({ matchExpressions: arr(nodeSelectorRequirement), matchFields: arr(nodeSelectorRequirement) }));
const podAffinityTerm = named(core('PodAffinityTerm'), obj({
  labelSelector, namespaces: strArr, topologyKey: str, namespaceSelector: labelSelector, matchLabelKeys: strArr, mismatchLabelKeys: strArr,
}, ['topologyKey']));
const podAffinity = (name: string) => named(core(name), obj({
  requiredDuringSchedulingIgnoredDuringExecution: arr(podAffinityTerm),
  preferredDuringSchedulingIgnoredDuringExecution: arr(named(core('WeightedPodAffinityTerm'), obj({ weight: int32(), podAffinityTerm }, ['weight', 'podAffinityTerm']))),
}));
const affinity = named(core('Affinity'), obj({
  nodeAffinity: named(core('NodeAffinity'), obj({
    requiredDuringSchedulingIgnoredDuringExecution: named(core('NodeSelector'), obj({ nodeSelectorTerms: arr(nodeSelectorTerm) }, ['nodeSelectorTerms'])),
    preferredDuringSchedulingIgnoredDuringExecution: arr(named(core('PreferredSchedulingTerm'), obj({ weight: int32(), preference: nodeSelectorTerm }, ['weight', 'preference']))),
  })),
  podAffinity: podAffinity('PodAffinity'),
  podAntiAffinity: podAffinity('PodAntiAffinity'),
}));
const topologySpreadConstraint = named(core('TopologySpreadConstraint'), obj({
  maxSkew: int32(), topologyKey: str, whenUnsatisfiable: enumOf('DoNotSchedule', 'ScheduleAnyway'), labelSelector, minDomains: int32(),
  nodeAffinityPolicy: enumOf('Honor', 'Ignore'), nodeTaintsPolicy: enumOf('Honor', 'Ignore'), matchLabelKeys: strArr,
}, ['maxSkew', 'topologyKey', 'whenUnsatisfiable']));
const podDnsConfig = named(core('PodDNSConfig'), obj({ nameservers: strArr, searches: strArr, options: arr(obj({ name: str, value: str })) }));

export const podSpec = named(core('PodSpec'), obj({
  volumes: doc('Volumes the containers can mount.', arr(volume)),
  initContainers: doc('Containers run to completion, in order, before the others start.', arr(container)),
  containers: doc('The containers of the pod; at least one.', arr(container)),
  ephemeralContainers: doc('Containers added to the running pod (kubectl debug), through the ephemeralcontainers subresource only.', arr(ephemeralContainer)),
  restartPolicy: doc('Always, OnFailure or Never.', enumOf('Always', 'OnFailure', 'Never')),
  terminationGracePeriodSeconds: doc('Seconds the pod is given to stop after the termination signal before it is killed.', int64(0)),
  // An int64 that Kubernetes' ValidatePodSpec holds to 1..2^31-1.
  activeDeadlineSeconds: doc('Seconds the pod may be active before the system fails it.', int64(1, INT32_MAX)),
  dnsPolicy: doc('ClusterFirst, ClusterFirstWithHostNet, Default or None.', enumOf('ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None')),
  nodeSelector: doc('Labels a node must carry for the pod to be scheduled there.', strMap),
  serviceAccountName: str, serviceAccount: str, automountServiceAccountToken: bool,
  nodeName: doc('The node the pod is bound to; set by the scheduler.', str),
  hostNetwork: bool, hostPID: bool, hostIPC: bool, shareProcessNamespace: bool,
  securityContext: podSecurityContext, imagePullSecrets: arr(obj({ name: str })), hostname: str, subdomain: str,
  affinity: doc('Node affinity and pod (anti-)affinity rules for scheduling.', affinity),
  schedulerName: str,
  tolerations: doc('Taints the pod tolerates.', arr(toleration)),
  hostAliases: arr(obj({ ip: str, hostnames: strArr }, ['ip'])),
  priorityClassName: doc('Name of the PriorityClass whose value becomes the pod\'s priority.', str),
  priority: doc('The priority, resolved from priorityClassName on create.', int32()),
  dnsConfig: doc('Nameservers, search domains and resolver options added to (or, with dnsPolicy None, making) the pod\'s resolv.conf.', podDnsConfig), readinessGates: arr(obj({ conditionType: str }, ['conditionType'])),
  runtimeClassName: str, enableServiceLinks: bool, preemptionPolicy: str, overhead: quantityMap,
  topologySpreadConstraints: doc('How the pods of a group spread across topology domains.', arr(topologySpreadConstraint)),
  setHostnameAsFQDN: bool, os: obj({ name: str }, ['name']), hostUsers: bool,
  schedulingGates: arr(obj({ name: str }, ['name'])), resourceClaims: arr(open), resources: open,
}));

const templateSpec = named(core('PodTemplateSpec'), obj({ metadata: objectMeta, spec: doc('Spec of the pods made from this template.', podSpec) }));

// ---- statuses ----------------------------------------------------------------------------

const containerState = named(core('ContainerState'), statusObj({
  waiting: doc('The container is not running yet: why.', statusObj({ reason: str, message: str })),
  running: doc('The container runs.', statusObj({ startedAt: time })),
  terminated: doc('The container ran and exited.', statusObj({
    exitCode: doc('Exit status of its last run.', int32()), signal: int32(), reason: str, message: str,
    startedAt: time, finishedAt: time, containerID: str,
  }, ['exitCode'])),
}));

const containerStatus = named(core('ContainerStatus'), statusObj({
  name: doc('Name of the container in the pod spec.', str),
  state: doc('Current state of the container.', containerState),
  lastState: doc('State of its previous run (how it last terminated).', containerState),
  ready: doc('Whether the container passes its readiness probe.', bool),
  restartCount: doc('How many times the container was restarted.', int32()),
  image: doc('The image the container runs.', str),
  imageID: doc('ID of the image the container runs.', str),
  containerID: doc('ID of the container in its runtime, as <type>://<id>.', str),
  started: doc('Whether the container has passed its startup probe.', bool),
  allocatedResources: quantityMap,
  resources: statusObj({ limits: quantityMap, requests: quantityMap }),
  volumeMounts: arr(statusObj({ name: str, mountPath: str, readOnly: bool, recursiveReadOnly: str })),
  user: statusObj({ linux: statusObj({ uid: int64(), gid: int64(), supplementalGroups: arr(int64()) }) }),
  allocatedResourcesStatus: arr(open),
}, ['name', 'ready', 'restartCount', 'image', 'imageID']));

const podIP = statusObj({ ip: str }, ['ip']);

const podStatus = named(core('PodStatus'), statusObj({
  phase: doc('Where the pod is in its lifecycle: Pending, Running, Succeeded, Failed or Unknown.', enumOf('Pending', 'Running', 'Succeeded', 'Failed', 'Unknown')),
  conditions: doc('Latest observations of the pod: PodScheduled, Initialized, ContainersReady, Ready and others.', arr(condition(core('PodCondition'), ['lastProbeTime', 'lastTransitionTime']))),
  message: doc('Human-readable message on why the pod is in this condition.', str),
  reason: doc('Brief CamelCase reason the pod is in this state, e.g. Evicted.', str),
  nominatedNodeName: doc('Node the pod preempted others on and waits for.', str),
  hostIP: doc('IP address of the node the pod runs on.', str),
  hostIPs: doc('IP addresses of the node the pod runs on.', arr(podIP)),
  podIP: doc('IP address of the pod.', str),
  podIPs: doc('IP addresses of the pod.', arr(podIP)),
  startTime: doc('When the node acknowledged the pod.', time),
  initContainerStatuses: doc('Status of each init container.', arr(containerStatus)),
  containerStatuses: doc('Status of each container.', arr(containerStatus)),
  qosClass: doc('Quality of service class from the resource requirements: Guaranteed, Burstable or BestEffort.', enumOf('Guaranteed', 'Burstable', 'BestEffort')),
  ephemeralContainerStatuses: arr(containerStatus),
  resize: str,
  resourceClaimStatuses: arr(statusObj({ name: str, resourceClaimName: str }, ['name'])),
}));

const replicaCounts = {
  replicas: doc('Number of pods the controller counts as its own.', int32()),
  readyReplicas: doc('Number of those pods that are ready.', int32()),
  availableReplicas: doc('Number of those pods ready for at least minReadySeconds.', int32()),
};
const observedGeneration = doc('The generation of the spec this status was computed for.', int64());
const collisionCount = doc('Count of hash collisions, used to name new revisions.', int32());

const deploymentStatus = named(apps('DeploymentStatus'), statusObj({
  observedGeneration,
  ...replicaCounts,
  updatedReplicas: doc('Number of pods made from the current template.', int32()),
  unavailableReplicas: doc('Number of pods still needed for the deployment to be fully available.', int32()),
  conditions: doc('Latest observations of the rollout: Available, Progressing, ReplicaFailure.', arr(condition(apps('DeploymentCondition'), ['lastUpdateTime', 'lastTransitionTime']))),
  collisionCount,
}));

const replicaSetStatus = named(apps('ReplicaSetStatus'), statusObj({
  ...replicaCounts,
  fullyLabeledReplicas: doc('Number of pods whose labels match the template\'s.', int32()),
  observedGeneration,
  conditions: arr(condition(apps('ReplicaSetCondition'), ['lastTransitionTime'])),
}, ['replicas']));

const statefulSetStatus = named(apps('StatefulSetStatus'), statusObj({
  observedGeneration,
  ...replicaCounts,
  currentReplicas: doc('Number of pods made from the currentRevision.', int32()),
  updatedReplicas: doc('Number of pods made from the updateRevision.', int32()),
  currentRevision: doc('The revision (ControllerRevision name) of the pods below the partition.', str),
  updateRevision: doc('The revision (ControllerRevision name) the set rolls its pods to.', str),
  collisionCount,
  conditions: arr(condition(apps('StatefulSetCondition'), ['lastTransitionTime'])),
}, ['replicas']));

const daemonSetStatus = named(apps('DaemonSetStatus'), statusObj({
  currentNumberScheduled: doc('Nodes running at least one daemon pod that should.', int32()),
  numberMisscheduled: doc('Nodes running a daemon pod that should not.', int32()),
  desiredNumberScheduled: doc('Nodes that should run the daemon pod.', int32()),
  numberReady: doc('Nodes whose daemon pod is ready.', int32()),
  observedGeneration,
  updatedNumberScheduled: doc('Nodes running a daemon pod of the current template.', int32()),
  numberAvailable: doc('Nodes whose daemon pod is available.', int32()),
  numberUnavailable: doc('Nodes that should run an available daemon pod and do not.', int32()),
  collisionCount,
  conditions: arr(condition(apps('DaemonSetCondition'), ['lastTransitionTime'])),
}, ['currentNumberScheduled', 'numberMisscheduled', 'desiredNumberScheduled', 'numberReady']));

const jobStatus = named(batch('JobStatus'), statusObj({
  conditions: doc('Latest observations of the job: Complete, Failed, Suspended and others.', arr(condition(batch('JobCondition'), ['lastProbeTime', 'lastTransitionTime']))),
  startTime: doc('When the job controller started the job.', time),
  completionTime: doc('When the job completed.', time),
  active: doc('Number of pods pending or running.', int32()),
  succeeded: doc('Number of pods that succeeded.', int32()),
  failed: doc('Number of pods that failed.', int32()),
  terminating: doc('Number of pods terminating.', int32()),
  completedIndexes: str,
  failedIndexes: str,
  uncountedTerminatedPods: statusObj({ succeeded: strArr, failed: strArr }),
  ready: doc('Number of active pods that are ready.', int32()),
}));

const cronJobStatus = named(batch('CronJobStatus'), statusObj({
  active: doc('The jobs of this cron job that are running.', arr(statusObjectReference)),
  lastScheduleTime: doc('When a job was last scheduled.', time),
  lastSuccessfulTime: doc('When a job last completed successfully.', time),
}));

const serviceStatus = named(core('ServiceStatus'), statusObj({
  loadBalancer: doc('The load balancer of a LoadBalancer Service.', statusObj({
    ingress: doc('Addresses the load balancer answers on.', arr(statusObj({
      ip: str, hostname: str, ipMode: str,
      ports: arr(statusObj({ port: int32(), protocol: str, error: str }, ['port', 'protocol'])),
    }))),
  })),
  conditions: arr(metaCondition),
}));

const nodeStatus = named(core('NodeStatus'), statusObj({
  capacity: doc('Total resources of the node.', quantityMap),
  allocatable: doc('Resources of the node available to pods.', quantityMap),
  phase: str,
  conditions: doc('Latest observations of the node: Ready, MemoryPressure, DiskPressure, PIDPressure.', arr(condition(core('NodeCondition'), ['lastHeartbeatTime', 'lastTransitionTime']))),
  addresses: doc('Addresses of the node: InternalIP, Hostname and others.', arr(statusObj({ type: str, address: str }, ['type', 'address']))),
  daemonEndpoints: doc('Endpoints of the node\'s daemons (the kubelet\'s port).', statusObj({ kubeletEndpoint: statusObj({ Port: int32() }, ['Port']) })),
  nodeInfo: doc('Versions and ids of the node\'s system and runtime.', statusObj({
    machineID: str, systemUUID: str, bootID: str, kernelVersion: str, osImage: str, containerRuntimeVersion: str,
    kubeletVersion: str, kubeProxyVersion: str, operatingSystem: str, architecture: str,
  }, ['machineID', 'systemUUID', 'bootID', 'kernelVersion', 'osImage', 'containerRuntimeVersion', 'kubeletVersion', 'kubeProxyVersion', 'operatingSystem', 'architecture'])),
  images: doc('Images on the node.', arr(statusObj({ names: strArr, sizeBytes: int64() }))),
  volumesInUse: strArr,
  volumesAttached: arr(statusObj({ name: str, devicePath: str }, ['name', 'devicePath'])),
  config: open,
  runtimeHandlers: arr(statusObj({ name: str, features: open })),
  features: open,
}));

const namespaceStatus = named(core('NamespaceStatus'), statusObj({
  phase: doc('Active, or Terminating while the namespace is emptied before it goes.', enumOf('Active', 'Terminating')),
  conditions: arr(condition(core('NamespaceCondition'), ['lastTransitionTime'])),
}));

const podDisruptionBudgetStatus = named('io.k8s.api.policy.v1.PodDisruptionBudgetStatus', statusObj({
  observedGeneration,
  disruptedPods: doc('Pods being evicted that the controller has not yet seen go, with when.', { type: 'object', additionalProperties: time }),
  disruptionsAllowed: doc('Number of pod disruptions currently allowed.', int32()),
  currentHealthy: doc('Number of healthy pods.', int32()),
  desiredHealthy: doc('Least number of healthy pods wanted.', int32()),
  expectedPods: doc('Number of pods the budget counts.', int32()),
  conditions: doc('Latest observations of the budget: DisruptionAllowed.', arr(metaCondition)),
}, ['disruptionsAllowed', 'currentHealthy', 'desiredHealthy', 'expectedPods']));

// core/v1 ResourceQuota and LimitRange: a namespace's share of the cluster, and its containers' defaults and bounds.
const scopeSelector = named(core('ScopeSelector'), obj({
  matchExpressions: doc('Requirements on the scopes of the objects the quota counts.', arr(named(core('ScopedResourceSelectorRequirement'), obj({
    scopeName: doc('Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass or CrossNamespacePodAffinity.', str),
    operator: doc('In, NotIn, Exists or DoesNotExist.', str),
    values: doc('Values the scope is compared with (In, NotIn).', strArr),
  })))),
}));
const resourceQuotaStatus = named(core('ResourceQuotaStatus'), statusObj({
  hard: doc('The enforced hard limits, as the quota controller last observed spec.hard.', quantityMap),
  used: doc('What the namespace uses of each limited resource.', quantityMap),
}));
const limitRangeItem = named(core('LimitRangeItem'), obj({
  type: doc('Pod, Container or PersistentVolumeClaim.', str),
  max: doc('Most of each resource one object of the type may ask for.', quantityMap),
  min: doc('Least of each resource one object of the type must ask for.', quantityMap),
  default: doc('Limits a container gets when it sets none.', quantityMap),
  defaultRequest: doc('Requests a container gets when it sets none.', quantityMap),
  maxLimitRequestRatio: doc('Largest limit-to-request ratio of each resource.', quantityMap),
}));

// ---- kinds -------------------------------------------------------------------------------

const typeMeta = {
  apiVersion: doc('Versioned schema of this representation of the object.', str),
  kind: doc('The kind of object, in CamelCase.', str),
};
const topLevel = (description: string, spec: Schema, status: Schema): Schema => doc(description, obj({
  ...typeMeta,
  metadata: doc('Standard object metadata.', objectMeta),
  spec: doc('Desired state.', spec),
  status: doc('Most recently observed state; written by the system.', status),
}));

const jobSpec = named(batch('JobSpec'), obj({
  parallelism: doc('Most pods running at once.', int32(0)),
  completions: doc('Successful pods needed for the job to complete.', { ...int32(0), type: ['integer', 'null'] }),
  activeDeadlineSeconds: doc('Seconds the job may be active before it is failed.', int64(1)),
  podFailurePolicy: open, successPolicy: open,
  backoffLimit: doc('Retries before the job is failed.', int32(0)),
  backoffLimitPerIndex: int32(0), maxFailedIndexes: int32(0),
  selector: labelSelector, manualSelector: bool,
  template: doc('The pods to run.', templateSpec),
  ttlSecondsAfterFinished: doc('Seconds after which a finished job is deleted.', int32(0)),
  completionMode: enumOf('NonIndexed', 'Indexed'), suspend: bool, podReplacementPolicy: str, managedBy: str,
}, ['template']));

// discovery.k8s.io/v1: Kubernetes writes the lists of an EndpointSlice without endpoints or ports as null.
const nullableArr = (items: Schema): Schema => ({ type: ['array', 'null'], items });
const endpoint = obj({
  addresses: nullableArr(str), conditions: obj({ ready: bool, serving: bool, terminating: bool }), hostname: str,
  targetRef: objectReference, deprecatedTopology: strMap, nodeName: str, zone: str, hints: obj({ forZones: arr(obj({ name: str }, ['name'])) }),
});
const endpointPort = obj({ name: str, protocol: str, port: int32(), appProtocol: str });

const rollingUpdate = obj({ maxUnavailable: intOrString, maxSurge: intOrString });

// rbac.authorization.k8s.io/v1 and authorization.k8s.io/v1. Rules, subjects and role references
// list no required fields here: their kinds' validation reports what is missing in Kubernetes' words.
const rbac = (type: string) => `io.k8s.api.rbac.v1.${type}`;
const authz = (type: string) => `io.k8s.api.authorization.v1.${type}`;
const policyRule = named(rbac('PolicyRule'), obj({
  verbs: doc('Verbs the rule allows (get, list, create...); "*" is every verb.', strArr),
  apiGroups: doc('API groups of the resources; "" is the core group, "*" every group.', strArr),
  resources: doc('Resources the rule applies to ("pods", "pods/log"); "*" is every resource.', strArr),
  resourceNames: doc('Names of the objects the rule is limited to; empty is every object.', strArr),
  nonResourceURLs: doc('Non-resource paths ("/healthz", "/apis/*"); only in ClusterRoles bound cluster-wide.', strArr),
}));
const rulesOf = doc('The rules of the role.', { type: ['array', 'null'], items: policyRule });
const subject = named(rbac('Subject'), obj({
  kind: doc('User, Group or ServiceAccount.', str),
  apiGroup: doc('rbac.authorization.k8s.io for users and groups, "" for service accounts.', str),
  name: doc('Name of the user, group or service account.', str),
  namespace: doc('Namespace of a service account.', str),
}));
const roleRef = named(rbac('RoleRef'), obj({
  apiGroup: doc('Group of the role: rbac.authorization.k8s.io.', str),
  kind: doc('Role or ClusterRole.', str),
  name: doc('Name of the role.', str),
}));
const bindingFields = {
  subjects: doc('Who the role is granted to.', { type: ['array', 'null'], items: subject }),
  roleRef: doc('The role granted; it cannot be changed.', roleRef),
};
const resourceAttributes = named(authz('ResourceAttributes'), obj({
  namespace: str, verb: str, group: str, version: str, resource: str, subresource: str, name: str,
  fieldSelector: open, labelSelector: open,
}));
const nonResourceAttributes = named(authz('NonResourceAttributes'), obj({ path: str, verb: str }));
const accessReviewSpec = named(authz('SubjectAccessReviewSpec'), obj({
  resourceAttributes: doc('The resource request to check.', resourceAttributes),
  nonResourceAttributes: doc('The non-resource request to check.', nonResourceAttributes),
  user: doc('The user to check for.', str),
  groups: doc('The groups to check for.', strArr),
  extra: { type: 'object', additionalProperties: strArr },
  uid: str,
}));
const accessReviewStatus = named(authz('SubjectAccessReviewStatus'), statusObj({
  allowed: doc('Whether the action would be allowed.', bool),
  denied: bool,
  reason: doc('Why it would be allowed or denied.', str),
  evaluationError: str,
}, ['allowed']));
const review = (description: string, spec: Schema, status: Schema): Schema => doc(description, obj({ ...typeMeta, metadata: objectMeta, spec, status }));

const SCHEMAS: Record<string, Schema> = {
  Pod: topLevel('A group of containers that share a network namespace and volumes, run together on one node.', podSpec, podStatus),
  Deployment: topLevel('Declarative updates of a set of identical pods, through ReplicaSets it rolls out and back.', named(apps('DeploymentSpec'), obj({
    replicas: doc('Number of pods wanted.', int32(0)),
    selector: doc('Selects the pods the deployment manages; must match the template\'s labels.', labelSelector),
    template: doc('The pods to run.', templateSpec),
    strategy: doc('How pods of an old template are replaced: RollingUpdate or Recreate.', obj({ type: enumOf('Recreate', 'RollingUpdate'), rollingUpdate })),
    minReadySeconds: doc('Seconds a new pod must be ready to count as available.', int32(0)),
    revisionHistoryLimit: doc('Old ReplicaSets kept for rollback.', int32(0)),
    paused: doc('Whether rollouts are paused.', bool),
    progressDeadlineSeconds: doc('Seconds a rollout may make no progress before it is reported failed.', int32(0)),
  }, ['selector', 'template'])), deploymentStatus),
  ReplicaSet: topLevel('Keeps a given number of pods matching its selector running.', named(apps('ReplicaSetSpec'), obj({
    replicas: doc('Number of pods wanted.', int32(0)),
    minReadySeconds: doc('Seconds a new pod must be ready to count as available.', int32(0)),
    selector: doc('Selects the pods the replica set counts; must match the template\'s labels.', labelSelector),
    template: doc('The pods to make when too few exist.', templateSpec),
  }, ['selector'])), replicaSetStatus),
  DaemonSet: topLevel('Runs one copy of a pod on every node that fits it.', named(apps('DaemonSetSpec'), obj({
    selector: labelSelector, template: doc('The pod to run on each node.', templateSpec),
    minReadySeconds: int32(0), revisionHistoryLimit: int32(0),
    updateStrategy: doc('How daemon pods of an old template are replaced: RollingUpdate or OnDelete.', obj({ type: enumOf('RollingUpdate', 'OnDelete'), rollingUpdate })),
  }, ['selector', 'template'])), daemonSetStatus),
  StatefulSet: topLevel('Pods with stable names, network identities and ordinals, started, updated and removed in order.', named(apps('StatefulSetSpec'), obj({
    replicas: doc('Number of pods wanted, with ordinals from ordinals.start.', int32(0)),
    selector: doc('Selects the pods the set manages; must match the template\'s labels.', labelSelector),
    template: doc('The pods to run; each gets the hostname NAME-ORDINAL.', templateSpec),
    volumeClaimTemplates: doc('Claims each pod gets its own of, named TEMPLATE-SET-ORDINAL (PersistentVolumeClaims; validated as claims).', arr(open)),
    serviceName: doc('The headless Service that gives each pod its DNS name POD.SERVICE.NAMESPACE.svc.', str),
    podManagementPolicy: doc('OrderedReady (one at a time, in order) or Parallel.', str),
    updateStrategy: doc('How pods of an old template are replaced: RollingUpdate (from the highest ordinal down to the partition) or OnDelete.', named(apps('StatefulSetUpdateStrategy'), obj({
      type: doc('RollingUpdate or OnDelete.', str),
      rollingUpdate: named(apps('RollingUpdateStatefulSetStrategy'), obj({ partition: doc('Ordinals below this keep the current revision.', int32()), maxUnavailable: intOrString })),
    }))),
    revisionHistoryLimit: doc('Old revisions kept for rollback.', int32(0)),
    minReadySeconds: doc('Seconds a new pod must be ready to count as available.', int32(0)),
    persistentVolumeClaimRetentionPolicy: named(apps('StatefulSetPersistentVolumeClaimRetentionPolicy'), obj({ whenDeleted: doc('Retain or Delete.', str), whenScaled: doc('Retain or Delete.', str) })),
    ordinals: named(apps('StatefulSetOrdinals'), obj({ start: doc('The first ordinal.', int32(0)) })),
  }, ['selector', 'template'])), statefulSetStatus),
  Job: topLevel('Runs pods until a number of them complete successfully.', jobSpec, jobStatus),
  CronJob: topLevel('Makes a Job on a cron schedule.', named(batch('CronJobSpec'), obj({
    schedule: doc('Cron schedule, e.g. "*/5 * * * *".', str),
    timeZone: doc('Time zone of the schedule; the controller manager\'s if not given.', str),
    startingDeadlineSeconds: doc('Seconds after a missed schedule within which the job may still start.', int64(0)),
    concurrencyPolicy: doc('Allow, Forbid or Replace concurrent runs.', enumOf('Allow', 'Forbid', 'Replace')),
    suspend: doc('Whether later runs are suspended.', bool),
    jobTemplate: doc('The job to make at each run.', named(batch('JobTemplateSpec'), obj({ metadata: objectMeta, spec: jobSpec }, ['spec']))),
    successfulJobsHistoryLimit: doc('Successful jobs kept.', int32(0)),
    failedJobsHistoryLimit: doc('Failed jobs kept.', int32(0)),
  }, ['schedule', 'jobTemplate'])), cronJobStatus),
  Service: topLevel('A stable address (cluster IP, node ports) in front of the pods its selector picks.', named(core('ServiceSpec'), obj({
    ports: doc('Ports the Service exposes.', arr(named(core('ServicePort'), obj({
      name: str, protocol: enumOf('TCP', 'UDP', 'SCTP'), appProtocol: str,
      port: doc('Port the Service answers on.', int32()),
      targetPort: doc('Port number or name on the pods that traffic goes to.', intOrString),
      nodePort: doc('Port on every node, for NodePort and LoadBalancer Services.', int32()),
    }, ['port'])))),
    selector: doc('Labels of the pods traffic goes to.', strMap),
    clusterIP: doc('Virtual IP of the Service; None for a headless Service.', str),
    clusterIPs: strArr,
    type: doc('ClusterIP, NodePort, LoadBalancer or ExternalName.', enumOf('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName')),
    externalIPs: strArr, sessionAffinity: enumOf('None', 'ClientIP'), loadBalancerIP: str, loadBalancerSourceRanges: strArr,
    externalName: str, externalTrafficPolicy: enumOf('Cluster', 'Local'), healthCheckNodePort: int32(), publishNotReadyAddresses: bool,
    sessionAffinityConfig: obj({ clientIP: obj({ timeoutSeconds: int32() }) }),
    ipFamilies: strArr, ipFamilyPolicy: enumOf('SingleStack', 'PreferDualStack', 'RequireDualStack'),
    allocateLoadBalancerNodePorts: bool, loadBalancerClass: str, internalTrafficPolicy: enumOf('Cluster', 'Local'), trafficDistribution: str,
  })), serviceStatus),
  Namespace: topLevel('A scope for names; deleting it deletes what it holds.', obj({ finalizers: doc('Keys that must go before the namespace is removed.', strArr) }), namespaceStatus),
  Node: topLevel('A machine pods run on, registered by its node agent.', named(core('NodeSpec'), obj({
    podCIDR: str, podCIDRs: strArr, providerID: str,
    unschedulable: doc('Whether new pods are kept off the node (kubectl cordon).', bool),
    taints: doc('Taints that keep pods off the node unless they tolerate them.', arr(named(core('Taint'), obj({ key: str, value: str, effect: enumOf('NoSchedule', 'PreferNoSchedule', 'NoExecute'), timeAdded: time }, ['key', 'effect'])))),
    configSource: open, externalID: str,
  })), nodeStatus),
  ConfigMap: doc('Configuration data as key/value pairs, for pods to read as environment or files.', obj({
    ...typeMeta, metadata: objectMeta,
    immutable: doc('If true, the data cannot be changed.', bool),
    data: doc('UTF-8 configuration data.', strMap),
    binaryData: doc('Binary configuration data, base64-encoded.', strMap),
  })),
  Secret: doc('Sensitive data (passwords, tokens, keys) as key/value pairs.', obj({
    ...typeMeta, metadata: objectMeta,
    immutable: doc('If true, the data cannot be changed.', bool),
    data: doc('Secret values, base64-encoded.', strMap),
    stringData: doc('Secret values as plain text, merged into data on write.', strMap),
    type: doc('Used to handle the secret data programmatically, e.g. Opaque.', str),
  })),
  Endpoints: doc('The addresses of the pods behind a Service.', obj({
    ...typeMeta, metadata: objectMeta,
    subsets: doc('Sets of addresses and ports behind a Service.', arr(named(core('EndpointSubset'), obj({
      addresses: doc('Addresses of ready endpoints.', arr(endpointAddress)),
      notReadyAddresses: doc('Addresses of endpoints that are not ready.', arr(endpointAddress)),
      ports: arr(named(core('EndpointPort'), obj({ name: str, port: int32(), protocol: str, appProtocol: str }, ['port']))),
    })))),
  })),
  EndpointSlice: doc('A slice of the endpoints behind a Service, as kube-proxy reads them.', obj({
    ...typeMeta, metadata: objectMeta,
    addressType: doc('IPv4, IPv6 or FQDN.', str),
    endpoints: doc('The endpoints of the slice.', nullableArr(endpoint)),
    ports: doc('Ports every endpoint of the slice exposes.', nullableArr(endpointPort)),
  })),
  Event: doc('A report of something that happened to an object.', obj({
    ...typeMeta, metadata: objectMeta,
    involvedObject: doc('The object the event is about.', objectReference),
    reason: doc('Short, machine-understandable reason, in CamelCase.', str),
    message: doc('Human-readable description.', str),
    source: doc('The component reporting the event.', eventSource),
    firstTimestamp: doc('When the event was first recorded.', time),
    lastTimestamp: doc('When the event was last recorded.', time),
    count: doc('How many times the event occurred.', int32()),
    type: doc('Normal or Warning.', str),
    eventTime: microTime,
    series: named(core('EventSeries'), obj({ count: int32(), lastObservedTime: microTime })),
    action: str, related: objectReference, reportingComponent: str, reportingInstance: str,
  })),
  // events.k8s.io/v1 Event: the same stored Events as core/v1, in that group's field names.
  'events.k8s.io/v1/Event': doc('A report of an event somewhere in the cluster (events.k8s.io/v1).', obj({
    ...typeMeta, metadata: objectMeta,
    eventTime: doc('When the event was first observed.', microTime),
    series: doc('Data about the series of events this one belongs to, if any.', named('io.k8s.api.events.v1.EventSeries', obj({ count: int32(), lastObservedTime: microTime }, ['count', 'lastObservedTime']))),
    reportingController: doc('The controller that emitted the event, e.g. kubernetes.io/kubelet.', str),
    reportingInstance: doc('The instance of that controller, e.g. kubelet-xyzf.', str),
    action: doc('What action was taken or failed.', str),
    reason: doc('Why the action was taken.', str),
    regarding: doc('The object the event is about.', objectReference),
    related: doc('A second object the event is about, if any.', objectReference),
    note: doc('Human-readable description of the status of this operation.', str),
    type: doc('Normal or Warning.', str),
    deprecatedSource: doc('The core/v1 source of the event.', eventSource),
    deprecatedFirstTimestamp: doc('The core/v1 firstTimestamp.', time),
    deprecatedLastTimestamp: doc('The core/v1 lastTimestamp.', time),
    deprecatedCount: doc('The core/v1 count.', int32()),
  }, ['eventTime'])),
  PodDisruptionBudget: topLevel('Limits how many pods of a set voluntary evictions may take down at once.', named('io.k8s.api.policy.v1.PodDisruptionBudgetSpec', obj({
    minAvailable: doc('Pods (number or percentage) that must stay available after an eviction.', intOrString),
    maxUnavailable: doc('Pods (number or percentage) that may be unavailable after an eviction.', intOrString),
    selector: doc('The pods the budget counts.', labelSelector),
    unhealthyPodEvictionPolicy: enumOf('IfHealthyBudget', 'AlwaysAllow'),
  })), podDisruptionBudgetStatus),
  // A Lease has no status.
  Lease: doc('A lease a holder renews: node heartbeats and leader election.', obj({
    ...typeMeta, metadata: objectMeta,
    spec: doc('The lease\'s holder and term.', named('io.k8s.api.coordination.v1.LeaseSpec', obj({
      holderIdentity: doc('Identity of the current holder.', str),
      // Kubernetes' ValidateLeaseSpec: greater than 0.
      leaseDurationSeconds: doc('Seconds candidates wait after the last renewTime before they may take the lease.', int32(1)),
      acquireTime: doc('When the current holder acquired the lease.', microTime),
      renewTime: doc('When the current holder last renewed the lease.', microTime),
      leaseTransitions: doc('How many times the lease changed holders.', int32(0)),
      strategy: str, preferredHolder: str,
    }))),
  })),
  ServiceAccount: doc('An identity for processes that run in a pod, with the tokens the cluster signs for it.', obj({
    ...typeMeta, metadata: objectMeta,
    secrets: doc('Secrets pods running as this ServiceAccount may use (legacy token Secrets).', arr(objectReference)),
    imagePullSecrets: doc('Secrets pods running as this ServiceAccount pull images with, when they name none.', arr(named(core('LocalObjectReference'), obj({ name: str })))),
    automountServiceAccountToken: doc('Whether pods running as this ServiceAccount get its token mounted; a pod\'s own setting wins.', bool),
  })),
  // authentication.k8s.io/v1 TokenRequest: the body of a POST to serviceaccounts/NAME/token.
  'authentication.k8s.io/v1/TokenRequest': doc('A request for a token of a ServiceAccount.', obj({
    ...typeMeta, metadata: objectMeta,
    spec: doc('What the token is for.', named('io.k8s.api.authentication.v1.TokenRequestSpec', obj({
      audiences: doc('The intended audiences of the token; the API server\'s own when empty.', { type: ['array', 'null'], items: str }),
      expirationSeconds: doc('The requested lifetime of the token, in seconds.', { ...int64(), type: ['integer', 'null'] }),
      boundObjectRef: doc('The Pod or Secret the token is bound to: it is valid only as long as that object exists.', { ...named('io.k8s.api.authentication.v1.BoundObjectReference', obj({ kind: str, apiVersion: str, name: str, uid: str })), type: ['object', 'null'] }),
    }))),
    status: doc('The token, written by the server.', statusObj({ token: str, expirationTimestamp: time })),
  })),
  ResourceQuota: topLevel('Limits what a namespace may hold: object counts and the compute resources of its pods.', named(core('ResourceQuotaSpec'), obj({
    hard: doc('The most of each named resource the namespace may use.', quantityMap),
    scopes: doc('Only objects in all these scopes are counted: Terminating, NotTerminating, BestEffort, NotBestEffort.', strArr),
    scopeSelector: doc('Only objects whose scopes meet these requirements are counted.', scopeSelector),
  })), resourceQuotaStatus),
  // A LimitRange has no status.
  LimitRange: doc('Default requests and limits, and bounds on them, for the containers and pods of a namespace.', obj({
    ...typeMeta, metadata: objectMeta,
    spec: doc('The limits, one item per type.', named(core('LimitRangeSpec'), obj({
      limits: doc('The limits of each type of object.', arr(limitRangeItem)),
    }))),
  })),
  ControllerRevision: doc('An immutable snapshot of a workload\'s template, kept as its rollout history.', obj({
    ...typeMeta, metadata: objectMeta,
    data: doc('The state this revision holds: for a DaemonSet, a strategic merge patch that restores its template.', { ...open, 'x-kubernetes-preserve-unknown-fields': true }),
    revision: doc('The revision number of this state; a rollback to it gives it the next number.', int64()),
  }, ['revision'])),
  PriorityClass: doc('A named priority that pods refer to by priorityClassName.', obj({
    ...typeMeta, metadata: objectMeta,
    value: doc('The priority pods of this class get.', int32()),
    globalDefault: doc('Whether pods without a priorityClassName get this class.', bool),
    description: str,
    preemptionPolicy: doc('PreemptLowerPriority or Never.', enumOf('PreemptLowerPriority', 'Never')),
  }, ['value'])),
  Role: doc('A namespaced set of permissions that a RoleBinding grants.', obj({ ...typeMeta, metadata: objectMeta, rules: rulesOf })),
  ClusterRole: doc('A cluster-wide set of permissions that a RoleBinding or ClusterRoleBinding grants.', obj({
    ...typeMeta, metadata: objectMeta, rules: rulesOf,
    aggregationRule: doc('Selects the ClusterRoles whose rules the controller gathers into this one.', named(rbac('AggregationRule'), obj({ clusterRoleSelectors: arr(labelSelector) }))),
  })),
  RoleBinding: doc('Grants a Role or ClusterRole to subjects within a namespace.', obj({ ...typeMeta, metadata: objectMeta, ...bindingFields })),
  ClusterRoleBinding: doc('Grants a ClusterRole to subjects in every namespace.', obj({ ...typeMeta, metadata: objectMeta, ...bindingFields })),
  SubjectAccessReview: review('Checks whether a user or group may perform an action.', accessReviewSpec, accessReviewStatus),
  LocalSubjectAccessReview: review('Checks whether a user or group may perform an action in one namespace.', accessReviewSpec, accessReviewStatus),
  SelfSubjectAccessReview: review('Checks whether the requesting user may perform an action.', named(authz('SelfSubjectAccessReviewSpec'), obj({
    resourceAttributes: doc('The resource request to check.', resourceAttributes),
    nonResourceAttributes: doc('The non-resource request to check.', nonResourceAttributes),
  })), accessReviewStatus),
  SelfSubjectRulesReview: review('Lists what the requesting user may do in a namespace.', named(authz('SelfSubjectRulesReviewSpec'), obj({
    namespace: doc('The namespace to list the rules of.', str),
  })), named(authz('SubjectRulesReviewStatus'), statusObj({
    resourceRules: arr(statusObj({ verbs: strArr, apiGroups: strArr, resources: strArr, resourceNames: strArr })),
    nonResourceRules: arr(statusObj({ verbs: strArr, nonResourceURLs: strArr })),
    incomplete: bool,
    evaluationError: str,
  }, ['resourceRules', 'nonResourceRules', 'incomplete']))),
};

/** The building blocks, for the kinds whose schemas live in files of their own (autoscaling-schemas.ts). */
export const schemaBlocks = { named, doc, obj, statusObj, arr, str, int32, int64, quantity, time, labelSelector, topLevel, typeMeta, bool, strMap, strArr, enumOf, open, quantityMap, nodeSelectorTerm, objectReference, condition };

export function schemaFor(kind: string): Schema | undefined {
  return SCHEMAS[kind];
}
