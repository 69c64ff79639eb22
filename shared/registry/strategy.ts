// A kind's strategy: everything the write path needs to know about one kind, in one place, as
// Kubernetes' pkg/registry/<group>/<kind>/strategy.go. The store's write path (admission.ts) asks
// the strategy of the kind it writes; nothing else spells out per-kind rules.
import type { KubeObject, StatusCause } from '../types.ts';
import type { ApiError } from '../errors.ts';
import type { UserInfo } from '../auth/user.ts';
import type { Attributes, PolicyRule } from '../auth/rbac.ts';
import type { PodSecurityPolicy } from '../api/pod-security.ts';

/** How a kind appears in the API: its group, version, URL segment and discovery facts. */
export interface ResourceInfo {
  group: string; // '' for the core group
  version: string;
  plural: string; // the URL segment and the store's key
  singular: string;
  kind: string;
  listKind: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  verbs: string[];
  subresources: string[]; // e.g. ['status', 'scale']
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export function resourceInfo(r: Partial<ResourceInfo> & Pick<ResourceInfo, 'plural' | 'kind'>): ResourceInfo {
  return {
    group: '',
    version: 'v1',
    singular: r.kind.toLowerCase(),
    listKind: `${r.kind}List`,
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: ALL_VERBS,
    subresources: [],
    ...r,
  };
}

/** A column of the Table `kubectl get` prints (priority 1: only with -o wide). */
export interface Column {
  name: string;
  type?: string;
  format?: string;
  priority?: number;
  description?: string;
  /** null: nothing to print (kubectl shows <none>), as a CRD column whose JSONPath finds nothing. */
  cell: (obj: any, nowMs: number) => string | number | null;
}

/** What admission may read of the cluster. The store implements it; strategies never hold Redis. */
export interface ClusterReader {
  get<T extends KubeObject = KubeObject>(resource: string, namespace: string | undefined, name: string): Promise<T | null>;
  list<T extends KubeObject = KubeObject>(resource: string, namespace?: string): Promise<{ items: T[] }>;
  /** The uid holding each claim (a cluster IP, a node port), or null where it is free. */
  claimHolders(claims: string[]): Promise<(string | null)[]>;
  /** Every claim held in the cluster that starts with prefix. */
  heldClaims(prefix: string): Promise<string[]>;
}

/** Cluster-wide settings admission applies (read once from the typed config by each service). */
export interface AdmissionSettings {
  serviceCidr: string;
  nodePortRange: string;
  /** tolerationSeconds of the not-ready/unreachable NoExecute tolerations every pod gets. */
  podEvictionTolerationSeconds: number;
  /** Admission plugins turned off (Kubernetes' --disable-admission-plugins): only "ServiceAccount" may be. */
  disabledPlugins?: string[];
  /** Pod Security admission: the levels of namespaces without labels, and the namespaces it leaves alone. */
  podSecurity: PodSecuritySettings;
}

/** The PodSecurity admission plugin's configuration (Kubernetes' PodSecurityConfiguration: defaults, exemptions.namespaces). */
export interface PodSecuritySettings {
  defaults: PodSecurityPolicy;
  exemptNamespaces: string[];
}

/**
 * Who asked for a write through the API, for the kinds whose admission depends on it (RBAC's
 * escalation prevention, as Kubernetes' RBAC storage checks it). Writes by Wharf's own processes
 * (controllers, agents, the API server's bootstrap) carry none.
 */
export interface Requester {
  user: UserInfo;
  /** Whether the user may do this, by the API server's authorizer. */
  authorize(attrs: Omit<Attributes, 'user'>): Promise<boolean>;
  /** The rules the user holds in namespace ('' for the cluster-wide ones), and errors resolving them. */
  rulesFor(namespace: string): Promise<{ rules: PolicyRule[]; errors: string[] }>;
}

/** One write's admission: what it may read, the settings, and the claims the system chose for it. */
export interface AdmissionContext {
  reader: ClusterReader;
  settings: AdmissionSettings;
  /** Claims admission picked itself (a free cluster IP): losing a race for one is retried, not refused. */
  picked: Set<string>;
  /** The API client the write is made for, if it is made for one. */
  requester?: Requester;
  /** Where admission's warnings go (Warning headers); undefined when no one will read them (a controller's write, a retry). */
  warnings?: string[];
}

/** How a write moves the node resource accounting the write script keeps (see write-object.lua). */
export type UsageOp =
  | { op: '' }
  | { op: 'charge' | 'force-charge'; node: string; uid: string; cpu: number; mem: number }
  | { op: 'release'; node: string; uid: string }
  | { op: 'allocatable'; node: string; cpu: number; mem: number; pods: number };

export interface Strategy {
  resource: ResourceInfo;
  /** The structural schema (JSON Schema): types, enumerations, required fields, unknown-field pruning. */
  schema: Record<string, any> | undefined;
  /** Status is written only through the status subresource: main writes keep the stored status. */
  statusSubresource: boolean;
  /** metadata.generation counts changes of the spec. */
  generation: boolean;
  /** Largest serialised object the kind accepts, in bytes (beyond the store's own limit). */
  maxBytes?: number;

  /** Errors of a name (or, with prefix, of a generateName) as Kubernetes' name validation for the kind. */
  nameErrors(field: string, name: string, prefix: boolean): StatusCause[];
  /** SetDefaults_*: what a field means when the manifest leaves it out. Idempotent. */
  defaults(obj: KubeObject, settings: AdmissionSettings): void;
  /** Fields a client does not set on create (status starts as the system's, selectors generated). */
  prepareForCreate(obj: KubeObject): void;
  /** What an update of the main resource may not change or must carry over from `old`. */
  prepareForUpdate(obj: KubeObject, old: KubeObject): void;
  validate(obj: KubeObject): StatusCause[];
  /** Rules only an update has (immutable fields); validate() runs too. */
  validateUpdate(obj: KubeObject, old: KubeObject): StatusCause[];
  /** Rules only a create has (a custom resource's optionalOldSelf rules, with no old value); validate() runs too. */
  validateCreate?(obj: KubeObject): StatusCause[];
  /**
   * Subresources that write one part of the object (pods/ephemeralcontainers), by name: what of the
   * writer's object they take over the stored one, and the rules of that write. The kind's defaults,
   * validation and admit run on the result as on any update.
   */
  partialWrites?: Record<string, PartialWrite>;
  /** Mutating admission that reads the cluster (priority classes, address allocation). */
  admit?(obj: KubeObject, old: KubeObject | undefined, ctx: AdmissionContext): Promise<void>;
  /** A refusal of a delete before anything changes (protected namespaces). */
  forbidDelete?(obj: KubeObject): ApiError | undefined;

  /** Values the object holds exclusively in the cluster; the write script takes and frees them. */
  claims(obj: KubeObject): string[];
  /** The error for a claim another object holds, when the user asked for that value. */
  claimConflict?(obj: KubeObject, claim: string): ApiError;
  /** How this write moves the node accounting. */
  nodeUsage?(op: 'create' | 'update' | 'delete', obj: KubeObject, old: KubeObject | undefined, checkCapacity: boolean): UsageOp;
  /**
   * A small projection of the object for followers that need only it (the schedulers follow the
   * pods' view instead of every pod event); undefined when the object is not in the view. The
   * write script appends it to the view stream (Keys.viewOf) whenever a write changes it, in the
   * same step and with the same resourceVersion as the object's own event.
   */
  view?(obj: KubeObject): KubeObject | undefined;
  /**
   * The view stream a view goes to ('' for the resource's one stream, Keys.viewOf): a view sharded
   * this way reaches only the followers of its shard. A write that moves a view to another shard
   * leaves it on the old one (DELETED) as it enters the new one (ADDED).
   */
  viewShard?(view: KubeObject): string;
  /** Every shard viewShard names ('' among them), with viewShard. */
  viewShards?: readonly string[];

  /** Graceful deletion: how long the object stays, marked, before it is removed (pods). */
  deletionGraceSeconds?(obj: KubeObject, requested: number | undefined): number;
  /** What marking the object for deletion changes besides metadata (a namespace's phase). */
  markDeleting?(obj: KubeObject): void;
  /** Whether a marked object still waits for something other than metadata.finalizers. */
  holdsDeletion?(obj: KubeObject): boolean;

  /** The Table columns of `kubectl get`. */
  columns: Column[];

  /**
   * The structural check that replaces the schema's (custom resources: pruning, defaults and value
   * validation from a CRD's openAPIV3Schema). Mutates obj; returns the causes and the pruned fields.
   */
  structure?(obj: KubeObject): { causes: StatusCause[]; unknownFields: string[] };
  /** Whether an update changes what metadata.generation counts (default: the spec). */
  specChanged?(next: KubeObject, old: KubeObject): boolean;
  /** Where the scale subresource reads and writes (a CRD's subresources.scale); default spec.replicas, status.replicas, spec.selector. */
  scale?: ScalePaths;
  /** What a stored value reads as (a custom resource stored in another version reads as the storage version: apiVersion rewritten). */
  onRead?(obj: KubeObject): KubeObject;
  /** Fields beyond metadata.name/namespace a field selector may name (a CRD's selectableFields, without the leading dot). */
  selectableFields?: string[];
}

/** A CRD's subresources.scale: JSONPaths of the replicas asked for, the replicas observed, and the selector string. */
export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  labelSelectorPath?: string;
}

/** A subresource that writes one part of an object (Kubernetes' EphemeralContainersStrategy). */
export interface PartialWrite {
  /** The object to store: the stored one with the part the writer may change taken from input. */
  prepare(old: KubeObject, input: KubeObject): KubeObject;
  /** Rules of this write only (the kind's validate runs too; its validateUpdate does not). */
  validateUpdate(obj: KubeObject, old: KubeObject): StatusCause[];
}

/** A strategy with Kubernetes' generic behaviour where the kind says nothing. */
export type StrategySpec = Partial<Strategy> & Pick<Strategy, 'resource' | 'schema' | 'nameErrors'>;

/**
 * A stored kind served in one more group-version under the same plural, converted on the way in
 * and out (Kubernetes' conversion): events.k8s.io/v1 Events are core/v1 Events. The store reads and
 * writes the stored form and hands callers of this resource its own.
 */
export interface Conversion {
  resource: ResourceInfo;
  /** The schema of this version's form (structural check, OpenAPI). */
  schema: Record<string, any>;
  /** Rules this version adds for what its clients write. */
  validate(obj: KubeObject): StatusCause[];
  /** As Strategy.structure, for this version's form. */
  structure?(obj: KubeObject): { causes: StatusCause[]; unknownFields: string[] };
  toStorage(obj: KubeObject): KubeObject;
  fromStorage(obj: KubeObject): KubeObject;
}

/**
 * A kind that is only ever created and never stored: Kubernetes' review APIs (TokenReview,
 * SelfSubjectReview, SubjectAccessReview...), REST storage that implements only Create. A create
 * answers 201 with the object as sent and its status computed by the API server; nothing is
 * written, and no other verb is served. The kind's face is here (discovery, OpenAPI, the request's
 * shape and validation); what computes the status lives in the API server, which alone knows who
 * asks (services/api/create-only.ts).
 */
export interface CreateOnlyKind {
  /** Its verbs are ['create']. */
  resource: ResourceInfo;
  /** The structural schema of the request object (types, unknown-field pruning). */
  schema: Record<string, any>;
  /** Rules of the request object beyond its schema (Kubernetes' Validate* of the kind). */
  validate(obj: KubeObject): StatusCause[];
}
