// How Kubernetes declares the shape of the fields that are not plain structs: which lists merge by
// key, which are sets of scalars, which lists and objects are replaced whole, and which objects are
// free-form maps. Both strategic merge patch (patchMergeKey / patchStrategy) and server-side apply
// (x-kubernetes-list-type, -list-map-keys, -map-type, structType) read this one table; the two
// disagree on a few lists (a Job's conditions merge by type in a strategic patch but are atomic for
// apply), so an entry carries both. Source: the +listType / +listMapKey / +patchMergeKey /
// +structType / +mapType markers of k8s.io/api and k8s.io/apimachinery's meta/v1 types.
//
// A field is looked up by the kind, the path of field names leading to the object that holds it
// (list positions left out: a container's ports are under ['spec', 'containers']) and its name.
// Anything not listed is a struct of named fields when it is an object and atomic when it is a list,
// as Kubernetes' schemas default.

type Path = readonly string[];

export interface FieldShape {
  /** How a list is merged and owned: item by item by key, as a set of scalars, or whole. */
  list?: 'map' | 'set' | 'atomic';
  /** The fields that identify an item of an associative list (x-kubernetes-list-map-keys). */
  keys?: readonly string[];
  /** Values Kubernetes' OpenAPI gives a key field an item leaves out (a port's protocol). */
  keyDefaults?: Readonly<Record<string, unknown>>;
  /** Strategic merge patch's patchMergeKey: the list merges by it in a strategic patch. */
  mergeKey?: string;
  /** Strategic merge patch unions this list of scalars (patchStrategy=merge). */
  mergeScalars?: boolean;
  /** The value is owned and replaced whole (structType / mapType atomic, or an atomic list). */
  atomic?: boolean;
  /** Every item of the associative list is an atomic struct (OwnerReference, LocalObjectReference). */
  atomicItems?: boolean;
  /** A map with free keys (labels, data), not a struct: its entries are owned one by one. */
  freeMap?: boolean;
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);
const TCP = { protocol: 'TCP' } as const;

const byName = (extra: FieldShape = {}): FieldShape => ({ list: 'map', keys: ['name'], mergeKey: 'name', ...extra });
const byKey = (key: string): FieldShape => ({ list: 'map', keys: [key], mergeKey: key });
const ATOMIC: FieldShape = { atomic: true };
const FREE_MAP: FieldShape = { freeMap: true };
const NONE: FieldShape = {};

const last = (path: Path): string | undefined => path[path.length - 1];
const isPath = (path: Path, dotted: string): boolean => path.join('.') === dotted;

type Rule = FieldShape | ((kind: string, path: Path) => FieldShape);

const RULES: Record<string, Rule> = {
  containers: byName(),
  initContainers: byName(),
  ephemeralContainers: byName(),
  env: byName(),
  volumes: byName(),
  schedulingGates: byName(),
  resourceClaims: byName(),
  claims: { list: 'map', keys: ['name'] }, // a container's resource claims: keyed for apply, replaced by a strategic patch
  imagePullSecrets: byName({ atomicItems: true }),
  volumeMounts: byKey('mountPath'),
  volumeDevices: byKey('devicePath'),
  hostAliases: byKey('ip'),
  topologySpreadConstraints: { list: 'map', keys: ['topologyKey', 'whenUnsatisfiable'], mergeKey: 'topologyKey' },
  ownerReferences: (_kind, path) => (isPath(path, 'metadata') ? { ...byKey('uid'), atomicItems: true } : NONE),
  ports: (kind, path) => {
    if (kind === 'Service' && isPath(path, 'spec')) return { list: 'map', keys: ['port', 'protocol'], keyDefaults: TCP, mergeKey: 'port' };
    if (CONTAINER_LISTS.has(last(path) ?? '')) return { list: 'map', keys: ['containerPort', 'protocol'], keyDefaults: TCP, mergeKey: 'containerPort' };
    return NONE; // Endpoints' and EndpointSlices' ports, a load balancer's: atomic
  },
  // A Job's conditions merge by type in a strategic patch but are one atomic list for apply.
  conditions: (kind, path) => (kind === 'Job' && isPath(path, 'status') ? { list: 'atomic', mergeKey: 'type' } : byKey('type')),
  addresses: (kind, path) => {
    if (isPath(path, 'status')) return byKey('type'); // a Node's
    if (kind === 'EndpointSlice' && isPath(path, 'endpoints')) return { list: 'set' };
    return NONE;
  },
  podIPs: (_kind, path) => (isPath(path, 'status') ? byKey('ip') : NONE),
  hostIPs: (_kind, path) => (isPath(path, 'status') ? { list: 'atomic', mergeKey: 'ip' } : NONE),
  finalizers: (_kind, path) => (isPath(path, 'metadata') ? { list: 'set', mergeScalars: true } : NONE), // a Namespace's spec.finalizers are atomic
  // admissionregistration.k8s.io/v1: webhooks are keyed by name (patchMergeKey), their rules atomic.
  webhooks: (kind, path) => (path.length === 0 && kind.endsWith('WebhookConfiguration') ? byName() : NONE),
  podCIDRs: (kind, path) => (kind === 'Node' && isPath(path, 'spec') ? { list: 'set', mergeScalars: true } : NONE),

  // Label selectors, Services' and pods' node selectors, references: replaced and owned whole.
  selector: ATOMIC,
  labelSelector: ATOMIC,
  namespaceSelector: ATOMIC,
  objectSelector: ATOMIC,
  nodeSelector: ATOMIC,
  requiredDuringSchedulingIgnoredDuringExecution: ATOMIC,
  preference: ATOMIC,
  fieldRef: ATOMIC,
  resourceFieldRef: ATOMIC,
  configMapKeyRef: ATOMIC,
  secretKeyRef: ATOMIC,
  targetRef: ATOMIC,
  involvedObject: ATOMIC,
  related: ATOMIC,

  labels: FREE_MAP,
  annotations: FREE_MAP,
  matchLabels: FREE_MAP,
  limits: FREE_MAP,
  requests: FREE_MAP,
  capacity: FREE_MAP,
  allocatable: FREE_MAP,
  overhead: FREE_MAP,
  disruptedPods: FREE_MAP,
  deprecatedTopology: FREE_MAP,
  data: (_kind, path) => (path.length === 0 ? FREE_MAP : NONE),
  binaryData: (_kind, path) => (path.length === 0 ? FREE_MAP : NONE),
  stringData: (_kind, path) => (path.length === 0 ? FREE_MAP : NONE),
};

/** The declared shape of `field` of the object at `path` in a `kind`; {} for a plain field. */
export function fieldShape(kind: string, path: Path, field: string): FieldShape {
  const rule = Object.hasOwn(RULES, field) ? RULES[field] : undefined;
  if (!rule) return NONE;
  return typeof rule === 'function' ? rule(kind, path) : rule;
}
