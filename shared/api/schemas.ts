// JSON Schemas of the kinds Wharf serves, with Kubernetes v1.32's field names. Objects whose full
// field set is listed are closed (additionalProperties: false), so unknown fields are found and
// pruned as Kubernetes does; sub-objects Wharf does not interpret are open objects, so no
// legitimate manifest loses a field.
type Schema = Record<string, any>;

const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({ type: 'object', properties, additionalProperties: false, ...(required.length ? { required } : {}) });
const open: Schema = { type: 'object' };
const str: Schema = { type: 'string' };
const int = (minimum?: number): Schema => ({ type: 'integer', ...(minimum !== undefined ? { minimum } : {}) });
const bool: Schema = { type: 'boolean' };
const strMap: Schema = { type: 'object', additionalProperties: { type: 'string' } };
const arr = (items: Schema): Schema => ({ type: 'array', items });
const strArr = arr(str);
const intOrString: Schema = { type: ['integer', 'string'] };
const enumOf = (...values: string[]): Schema => ({ type: 'string', enum: values });
const quantityMap: Schema = { type: 'object', additionalProperties: { type: ['string', 'number'] } };

const ownerReference = obj({ apiVersion: str, kind: str, name: str, uid: str, controller: bool, blockOwnerDeletion: bool }, ['apiVersion', 'kind', 'name', 'uid']);

export const objectMeta = obj({
  name: str, generateName: str, namespace: str, selfLink: str, uid: str, resourceVersion: str,
  generation: int(), creationTimestamp: { type: ['string', 'null'] }, deletionTimestamp: { type: ['string', 'null'] },
  deletionGracePeriodSeconds: int(), labels: strMap, annotations: strMap,
  ownerReferences: arr(ownerReference), finalizers: strArr, managedFields: arr(open),
});

const labelSelector = obj({
  matchLabels: strMap,
  matchExpressions: arr(obj({ key: str, operator: enumOf('In', 'NotIn', 'Exists', 'DoesNotExist'), values: strArr }, ['key', 'operator'])),
});

const httpGet = obj({ path: str, port: intOrString, host: str, scheme: enumOf('HTTP', 'HTTPS'), httpHeaders: arr(obj({ name: str, value: str }, ['name', 'value'])) }, ['port']);
const handler = {
  exec: obj({ command: strArr }),
  httpGet,
  tcpSocket: obj({ port: intOrString, host: str }, ['port']),
  grpc: obj({ port: int(1), service: str }, ['port']),
};
const probe = obj({
  ...handler,
  initialDelaySeconds: int(0), timeoutSeconds: int(1), periodSeconds: int(1), successThreshold: int(1), failureThreshold: int(1), terminationGracePeriodSeconds: int(1),
});
const lifecycleHandler = obj({ exec: handler.exec, httpGet, tcpSocket: handler.tcpSocket, sleep: obj({ seconds: int(0) }, ['seconds']) });

const keySelector = obj({ name: str, key: str, optional: bool }, ['key']);
const envVar = obj({
  name: str,
  value: str,
  valueFrom: obj({
    fieldRef: obj({ apiVersion: str, fieldPath: str }, ['fieldPath']),
    resourceFieldRef: obj({ containerName: str, resource: str, divisor: intOrString }, ['resource']),
    configMapKeyRef: keySelector,
    secretKeyRef: keySelector,
  }),
}, ['name']);

const container = obj({
  name: str, image: str, command: strArr, args: strArr, workingDir: str,
  ports: arr(obj({ name: str, containerPort: int(), hostPort: int(), hostIP: str, protocol: enumOf('TCP', 'UDP', 'SCTP') }, ['containerPort'])),
  envFrom: arr(obj({ prefix: str, configMapRef: obj({ name: str, optional: bool }), secretRef: obj({ name: str, optional: bool }) })),
  env: arr(envVar),
  resources: obj({ limits: quantityMap, requests: quantityMap, claims: arr(open) }),
  resizePolicy: arr(open),
  restartPolicy: enumOf('Always'),
  volumeMounts: arr(obj({ name: str, readOnly: bool, recursiveReadOnly: str, mountPath: str, subPath: str, mountPropagation: str, subPathExpr: str }, ['name', 'mountPath'])),
  volumeDevices: arr(open),
  livenessProbe: probe, readinessProbe: probe, startupProbe: probe,
  lifecycle: obj({ postStart: lifecycleHandler, preStop: lifecycleHandler, stopSignal: str }),
  terminationMessagePath: str, terminationMessagePolicy: enumOf('File', 'FallbackToLogsOnError'),
  imagePullPolicy: enumOf('Always', 'Never', 'IfNotPresent'),
  securityContext: open, stdin: bool, stdinOnce: bool, tty: bool,
}, ['name']);

const volume = obj({
  name: str,
  emptyDir: obj({ medium: str, sizeLimit: intOrString }),
  configMap: obj({ name: str, items: arr(obj({ key: str, path: str, mode: int() }, ['key', 'path'])), defaultMode: int(), optional: bool }),
  secret: obj({ secretName: str, items: arr(obj({ key: str, path: str, mode: int() }, ['key', 'path'])), defaultMode: int(), optional: bool }),
  hostPath: obj({ path: str, type: str }, ['path']),
  persistentVolumeClaim: obj({ claimName: str, readOnly: bool }, ['claimName']),
  // Volume sources Wharf's agent does not provide are still accepted as Kubernetes' API shapes.
  projected: open, downwardAPI: open, nfs: open, csi: open, ephemeral: open, image: open, iscsi: open,
  awsElasticBlockStore: open, gcePersistentDisk: open, azureDisk: open, azureFile: open, cephfs: open,
  cinder: open, fc: open, flexVolume: open, flocker: open, gitRepo: open, glusterfs: open,
  photonPersistentDisk: open, portworxVolume: open, quobyte: open, rbd: open, scaleIO: open,
  storageos: open, vsphereVolume: open,
}, ['name']);

const toleration = obj({ key: str, operator: enumOf('Exists', 'Equal'), value: str, effect: enumOf('NoSchedule', 'PreferNoSchedule', 'NoExecute', ''), tolerationSeconds: int() });

export const podSpec = obj({
  volumes: arr(volume), initContainers: arr(container), containers: arr(container), ephemeralContainers: arr(open),
  restartPolicy: enumOf('Always', 'OnFailure', 'Never'),
  terminationGracePeriodSeconds: int(0), activeDeadlineSeconds: int(1),
  dnsPolicy: enumOf('ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'),
  nodeSelector: strMap, serviceAccountName: str, serviceAccount: str, automountServiceAccountToken: bool,
  nodeName: str, hostNetwork: bool, hostPID: bool, hostIPC: bool, shareProcessNamespace: bool,
  securityContext: open, imagePullSecrets: arr(obj({ name: str })), hostname: str, subdomain: str,
  affinity: open, schedulerName: str, tolerations: arr(toleration), hostAliases: arr(obj({ ip: str, hostnames: strArr }, ['ip'])),
  priorityClassName: str, priority: int(), dnsConfig: open, readinessGates: arr(obj({ conditionType: str }, ['conditionType'])),
  runtimeClassName: str, enableServiceLinks: bool, preemptionPolicy: str, overhead: quantityMap,
  topologySpreadConstraints: arr(open), setHostnameAsFQDN: bool, os: obj({ name: str }, ['name']), hostUsers: bool,
  schedulingGates: arr(obj({ name: str }, ['name'])), resourceClaims: arr(open), resources: open,
});

const templateSpec = obj({ metadata: objectMeta, spec: podSpec });

const topLevel = (spec: Schema, extra: Record<string, Schema> = {}): Schema => obj({ apiVersion: str, kind: str, metadata: objectMeta, spec, status: open, ...extra });

const jobSpec = obj({
  parallelism: int(0), completions: { type: ['integer', 'null'], minimum: 0 }, activeDeadlineSeconds: int(1),
  podFailurePolicy: open, successPolicy: open, backoffLimit: int(0), backoffLimitPerIndex: int(0), maxFailedIndexes: int(0),
  selector: labelSelector, manualSelector: bool, template: templateSpec, ttlSecondsAfterFinished: int(0),
  completionMode: enumOf('NonIndexed', 'Indexed'), suspend: bool, podReplacementPolicy: str, managedBy: str,
}, ['template']);

// discovery.k8s.io/v1: Kubernetes writes the lists of an EndpointSlice without endpoints or ports as null.
const nullableArr = (items: Schema): Schema => ({ type: ['array', 'null'], items });
const objectReference = obj({ kind: str, namespace: str, name: str, uid: str, apiVersion: str, resourceVersion: str, fieldPath: str });
const endpoint = obj({
  addresses: nullableArr(str), conditions: obj({ ready: bool, serving: bool, terminating: bool }), hostname: str,
  targetRef: objectReference, deprecatedTopology: strMap, nodeName: str, zone: str, hints: obj({ forZones: arr(obj({ name: str }, ['name'])) }),
});
const endpointPort = obj({ name: str, protocol: str, port: int(), appProtocol: str });

const SCHEMAS: Record<string, Schema> = {
  Pod: topLevel(podSpec),
  Deployment: topLevel(obj({
    replicas: int(0), selector: labelSelector, template: templateSpec,
    strategy: obj({ type: enumOf('Recreate', 'RollingUpdate'), rollingUpdate: obj({ maxUnavailable: intOrString, maxSurge: intOrString }) }),
    minReadySeconds: int(0), revisionHistoryLimit: int(0), paused: bool, progressDeadlineSeconds: int(0),
  }, ['selector', 'template'])),
  ReplicaSet: topLevel(obj({ replicas: int(0), minReadySeconds: int(0), selector: labelSelector, template: templateSpec }, ['selector'])),
  DaemonSet: topLevel(obj({
    selector: labelSelector, template: templateSpec, minReadySeconds: int(0), revisionHistoryLimit: int(0),
    updateStrategy: obj({ type: enumOf('RollingUpdate', 'OnDelete'), rollingUpdate: obj({ maxUnavailable: intOrString, maxSurge: intOrString }) }),
  }, ['selector', 'template'])),
  Job: topLevel(jobSpec),
  CronJob: topLevel(obj({
    schedule: str, timeZone: str, startingDeadlineSeconds: int(0), concurrencyPolicy: enumOf('Allow', 'Forbid', 'Replace'),
    suspend: bool, jobTemplate: obj({ metadata: objectMeta, spec: jobSpec }, ['spec']), successfulJobsHistoryLimit: int(0), failedJobsHistoryLimit: int(0),
  }, ['schedule', 'jobTemplate'])),
  Service: topLevel(obj({
    ports: arr(obj({ name: str, protocol: enumOf('TCP', 'UDP', 'SCTP'), appProtocol: str, port: int(), targetPort: intOrString, nodePort: int() }, ['port'])),
    selector: strMap, clusterIP: str, clusterIPs: strArr, type: enumOf('ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'),
    externalIPs: strArr, sessionAffinity: enumOf('None', 'ClientIP'), loadBalancerIP: str, loadBalancerSourceRanges: strArr,
    externalName: str, externalTrafficPolicy: enumOf('Cluster', 'Local'), healthCheckNodePort: int(), publishNotReadyAddresses: bool,
    sessionAffinityConfig: open, ipFamilies: strArr, ipFamilyPolicy: enumOf('SingleStack', 'PreferDualStack', 'RequireDualStack'),
    allocateLoadBalancerNodePorts: bool, loadBalancerClass: str, internalTrafficPolicy: enumOf('Cluster', 'Local'), trafficDistribution: str,
  })),
  Namespace: topLevel(obj({ finalizers: strArr })),
  Node: topLevel(obj({ podCIDR: str, podCIDRs: strArr, providerID: str, unschedulable: bool, taints: arr(obj({ key: str, value: str, effect: enumOf('NoSchedule', 'PreferNoSchedule', 'NoExecute'), timeAdded: str }, ['key', 'effect'])), configSource: open, externalID: str })),
  ConfigMap: obj({ apiVersion: str, kind: str, metadata: objectMeta, immutable: bool, data: strMap, binaryData: strMap }),
  Secret: obj({ apiVersion: str, kind: str, metadata: objectMeta, immutable: bool, data: strMap, stringData: strMap, type: str }),
  Endpoints: obj({ apiVersion: str, kind: str, metadata: objectMeta, subsets: arr(open) }),
  EndpointSlice: obj({ apiVersion: str, kind: str, metadata: objectMeta, addressType: str, endpoints: nullableArr(endpoint), ports: nullableArr(endpointPort) }),
  Event: obj({
    apiVersion: str, kind: str, metadata: objectMeta, involvedObject: open, reason: str, message: str, source: open,
    firstTimestamp: { type: ['string', 'null'] }, lastTimestamp: { type: ['string', 'null'] }, count: int(), type: str,
    eventTime: { type: ['string', 'null'] }, series: open, action: str, related: open, reportingComponent: str, reportingInstance: str,
  }),
  PodDisruptionBudget: topLevel(obj({ minAvailable: intOrString, maxUnavailable: intOrString, selector: labelSelector, unhealthyPodEvictionPolicy: enumOf('IfHealthyBudget', 'AlwaysAllow') })),
  Lease: topLevel(obj({ holderIdentity: str, leaseDurationSeconds: int(), acquireTime: str, renewTime: str, leaseTransitions: int(), strategy: str, preferredHolder: str })),
  PriorityClass: obj({ apiVersion: str, kind: str, metadata: objectMeta, value: int(), globalDefault: bool, description: str, preemptionPolicy: enumOf('PreemptLowerPriority', 'Never') }, ['value']),
};

export function schemaFor(kind: string): Schema | undefined {
  return SCHEMAS[kind];
}
