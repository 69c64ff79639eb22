// The state store: Redis in etcd's role. Objects live in one hash per (resource, namespace);
// every write goes through write-object.lua, which compares-and-sets the resourceVersion and
// appends the watch event in the same atomic step. Every write is admitted here, by the strategy of
// its kind (shared/registry/), so that every client — API server, controllers, agents — gets the
// same defaults, validation and object semantics (uid, generation, status subresource, finalizers,
// graceful deletion). Callers ask the store for what they need by name; none holds its Redis client.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { ChainableCommander, Redis } from 'ioredis';
import type { KubeObject, Pod, OwnerReference } from '../types.ts';
import { Keys } from '../keys.ts';
import { type ResourceInfo, STORED_RESOURCES, apiVersionOf, mustFindByPlural, qualifiedName } from '../api/resources.ts';
import { recordUpdate } from '../api/managed-fields.ts';
import {
  AlreadyExistsError,
  BadRequestError,
  ConflictError,
  ExpiredError,
  NotFoundError,
  ForbiddenError,
  ReplicationTimeoutError,
  RequestEntityTooLargeError,
  isConflict,
} from '../errors.ts';
import { scriptsFor, decodeScriptError, type ScriptRunner } from './scripts.ts';
import { deepEqual, now } from '../util.ts';
import { conversionFor, strategyFor } from '../registry/registry.ts';
import type { AdmissionContext, AdmissionSettings, ClusterReader, Requester, Strategy, UsageOp } from '../registry/strategy.ts';
import { admitConverted, admitCreate, admitPartialUpdate, admitStatusUpdate, admitUpdate, DEFAULT_ADMISSION, type AdmissionOptions } from '../registry/admission.ts';
import { admitQuota, IN_FLIGHT_TTL_MS, type QuotaBackend } from '../quota/admission.ts';
import { DecryptionError, NO_ENCRYPTION, storageLocation, type Encryption } from './encryption.ts';
import type { AdmissionAttributes, AdmissionWebhooks } from '../admission/webhooks.ts';
import type { AdmissionPolicies } from '../admission/policies.ts';

export type ResourceRef = ResourceInfo | string;

/**
 * How many Redis replicas must confirm an object write (WAIT) before the store reports it done,
 * and how long they have: the config's redisWaitReplicas / redisWaitTimeoutMs.
 */
export interface Durability {
  replicas: number;
  timeoutMs: number;
}

export const NO_WAIT: Durability = { replicas: 0, timeoutMs: 0 };

export interface StoredEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: Preconditions;
  dryRun?: boolean;
  /** The API client the delete is made for (the webhooks' userInfo); none for Wharf's own deletes. */
  requester?: Requester;
}

export interface DeleteResult {
  object: KubeObject;
  /** true when the object is gone; false when it waits for finalizers or graceful termination. */
  removed: boolean;
}

/** Who makes a write, for metadata.managedFields (a client's request; controllers' writes keep the entries they read). */
export interface ManagedWrite {
  /** The field manager: the fieldManager parameter, or the User-Agent's prefix. */
  manager: string;
  /** A write through the scale subresource (status writes say so in UpdateOptions.subresource). */
  subresource?: 'scale';
}

export interface CreateOptions extends AdmissionOptions {
  dryRun?: boolean;
  fieldManager?: ManagedWrite;
}

export interface UpdateOptions extends AdmissionOptions {
  /** 'status', or a subresource of the kind's partialWrites ('ephemeralcontainers'). */
  subresource?: string;
  dryRun?: boolean;
  /** Refuse (409) unless the object still has this uid / resourceVersion when it is written. */
  preconditions?: Preconditions;
  fieldManager?: ManagedWrite;
}

/** A unique value (a cluster IP, a node port) is held by another object. */
export class ClaimedError extends Error {
  constructor(readonly claim: string) {
    super(`${claim} is already allocated`);
    this.name = 'ClaimedError';
  }
}

/** A bind found the node full (or gone): the scheduler tries another node. */
export class InsufficientCapacityError extends Error {
  constructor(readonly node: string, readonly resource: string) {
    super(`node ${node} has insufficient ${resource}`);
    this.name = 'InsufficientCapacityError';
  }
}

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

function resolve(r: ResourceRef): ResourceInfo {
  return typeof r === 'string' ? mustFindByPlural(r) : r;
}

function shown<T extends KubeObject>(r: ResourceInfo, obj: T): T {
  return (conversionFor(r)?.fromStorage(obj) as T) ?? obj;
}

/** The stored kind behind a served resource (itself, or the kind another version converts to). */
function storedResource(r: ResourceInfo): ResourceInfo {
  return conversionFor(r) ? mustFindByPlural(r.plural) : r;
}

function nsOf(r: ResourceInfo, namespace: string | undefined): string {
  return r.namespaced ? namespace || 'default' : '';
}

/**
 * The ZRANGEBYLEX bounds of a page of list keys after `afterKey`: within `namespace` when one is
 * given, every key otherwise. Redis orders the keys by bytes, so the bounds are compared that way.
 */
function pageRange(namespace: string, afterKey: string): { min: string; max: string } {
  if (!namespace) return { min: afterKey ? `(${afterKey}` : '-', max: '+' };
  const first = `${namespace}/`;
  // '0' is the byte after '/': every key of the namespace sorts before it, every later one after.
  const max = `(${namespace}0`;
  if (!afterKey || Buffer.compare(Buffer.from(afterKey), Buffer.from(first)) < 0) return { min: `[${first}`, max };
  return { min: `(${afterKey}`, max };
}

function ownerUids(obj: KubeObject | undefined): Set<string> {
  return new Set((obj?.metadata.ownerReferences ?? []).map((o: OwnerReference) => o.uid));
}

/**
 * The most objects a page holds, whatever limit a list asks for (any int64 may): more than a
 * resource ever has, and a number the page script reads as an integer (Lua's numbers are doubles,
 * which Redis refuses as a count from about 1e14 up).
 */
const MAX_PAGE_SIZE = 2 ** 31 - 1;

/** Kubernetes' etcd request limit: an object is never stored larger, so it always stays writable. */
export const MAX_OBJECT_BYTES = 1_572_864;

/** A grace period any int64 may give still has to end within the dates a timestamp can hold (about 3,000 years here). */
const MAX_DELETION_DELAY_SECONDS = 1e11;

export class Store implements ClusterReader {
  private readonly scripts: ScriptRunner;
  /** What the ResourceQuota admission reads and writes (shared/quota/admission.ts). */
  private readonly quotas: QuotaBackend = {
    // One HVALS, no script: a namespace's quotas are read on every create in it.
    listQuotas: async (namespace) => (await this.redis.hvals(this.keys.objects('resourcequotas', namespace))).map((json) => JSON.parse(json) as KubeObject),
    writeQuotaUsed: async (quota, used) => {
      await this.update('resourcequotas', { ...quota, status: { ...quota.status, used } }, { subresource: 'status' });
    },
    beginQuotaAdmission: (namespace) => this.beginQuotaAdmission(namespace),
    endQuotaAdmission: (namespace, token) => this.endQuotaAdmission(namespace, token),
  };

  constructor(
    private readonly redis: Redis,
    readonly keys: Keys,
    private readonly watchHistory = 20_000,
    /** The cluster settings admission applies to every write of this process (from the typed config). */
    readonly admission: AdmissionSettings = DEFAULT_ADMISSION,
    /** How each resource's values are stored: encrypted (Secrets, by the EncryptionConfiguration) or as they are. */
    readonly encryption: Encryption = NO_ENCRYPTION,
    private readonly durability: Durability = NO_WAIT,
  ) {
    this.scripts = scriptsFor(redis);
    if (durability.replicas > 0) {
      // WAIT blocks its connection until the replicas answer (the whole timeout when they are
      // gone), so object writes and their WAITs get a connection of their own: reads go on.
      // WAIT counts the writes its own connection made, so each write waits on the one it went by.
      this.writer = redis.duplicate();
      this.writer.on('error', () => undefined); // the main connection's outage log reports outages
      this.writeScripts = scriptsFor(this.writer);
    } else {
      this.writer = redis;
      this.writeScripts = this.scripts;
    }
  }

  private readonly writer: Redis;
  private readonly writeScripts: ScriptRunner;
  /** Whether the writer's socket is holding this turn's writes (holdWritesForThisTurn). */
  private writesHeld = false;

  /**
   * Holds the writes issued in this turn of the event loop in the writer's socket and sends them
   * in one system call at the next turn. A burst of writes (a scheduler's binds of a batch and
   * their Scheduled events, a ReplicaSet's new pods) then costs this process one socket write and
   * Redis one read, instead of one of each a write: measured with one scheduler at 1,000 nodes /
   * 15,000 pods, issuing the binds of a batch fell from 65-74 to 37-38 µs a pod and Redis' scripts
   * from 242-275 to 220-224 µs a pod. The wait is at most the rest of this turn.
   */
  private holdWritesForThisTurn(): void {
    if (this.writesHeld) return;
    const socket = (this.writer as unknown as { stream?: Socket }).stream;
    if (!socket || typeof socket.cork !== 'function' || !socket.writable) return;
    this.writesHeld = true;
    socket.cork();
    setImmediate(() => {
      this.writesHeld = false;
      socket.uncork();
    });
  }

  /** Waits until durability.replicas replicas have every write this store's writer made so far. */
  private async awaitReplicas(): Promise<void> {
    const { replicas, timeoutMs } = this.durability;
    if (replicas <= 0) return;
    const confirmed = Number(await this.writer.call('WAIT', replicas, timeoutMs));
    if (confirmed < replicas) throw new ReplicationTimeoutError(replicas, confirmed, timeoutMs);
  }

  /** The admission webhooks every write of this process calls (set by the services that follow their configurations). */
  private webhooks?: AdmissionWebhooks;

  useWebhooks(webhooks: AdmissionWebhooks): void {
    this.webhooks = webhooks;
  }

  /** The validating admission policies every write of this process enforces (set by the services that follow them). */
  private policies?: AdmissionPolicies;

  usePolicies(policies: AdmissionPolicies): void {
    this.policies = policies;
  }

  /** The policies' view of a write, or undefined when none could apply (nothing bound, or an admissionregistration kind, which policies never see so a bad one can be fixed). */
  private policyAttributes(r: ResourceInfo, a: Omit<AdmissionAttributes, 'resource'>): AdmissionAttributes | undefined {
    if (!this.policies || this.policies.empty) return undefined;
    if (r.group === 'admissionregistration.k8s.io') return undefined;
    return { resource: r, ...a };
  }

  /** The webhooks' view of a write, or undefined when none could apply (no configurations, or a kind they never see). */
  private webhookAttributes(r: ResourceInfo, a: Omit<AdmissionAttributes, 'resource'>): AdmissionAttributes | undefined {
    if (!this.webhooks || this.webhooks.empty) return undefined;
    // As Kubernetes: webhook configurations are never sent to webhooks (a broken one could not be fixed).
    if (r.group === 'admissionregistration.k8s.io') return undefined;
    return { resource: r, ...a };
  }

  /** Objects read from values not written with the current first provider (key): an update rewrites them even when nothing changed. */
  private readonly stale = new WeakSet<KubeObject>();

  /**
   * A stored value as the caller's resource shows it: decrypted when its kind is encrypted, and
   * converted when the resource is another version of the stored kind (events.k8s.io/v1 Events).
   */
  private decode<T extends KubeObject>(r: ResourceInfo, namespace: string, name: string, value: string): T {
    const obj = this.decodeStored<T>(storedResource(r), namespace, name, value);
    return (conversionFor(r)?.fromStorage(obj) as T) ?? obj;
  }

  /** A stored value of the stored kind r, read at (namespace, name). */
  private decodeStored<T extends KubeObject>(r: ResourceInfo, namespace: string, name: string, value: string): T {
    const { obj, stale } = decodeValue<T>(this.encryption, r, namespace, name, value);
    if (stale) this.stale.add(obj);
    return obj;
  }

  /** A change stream's entry, its object decrypted and shown as resource r shows it. */
  decodeEvent(resource: ResourceRef, entry: [string, string[]]): StoredEvent {
    return decodeStreamEntry(entry, resolve(resource), this.encryption);
  }

  async currentResourceVersion(): Promise<number> {
    return Number((await this.redis.get(this.keys.resourceVersion)) ?? 0);
  }

  async get<T extends KubeObject = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string): Promise<T | null> {
    const r = resolve(resource);
    const ns = nsOf(r, namespace);
    const json = await this.redis.hget(this.keys.objects(r.plural, ns), name);
    return json ? this.decode<T>(r, ns, name, json) : null;
  }

  async mustGet<T extends KubeObject = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string): Promise<T> {
    const r = resolve(resource);
    const obj = await this.get<T>(r, namespace, name);
    if (!obj) throw new NotFoundError(r.plural, name, r.group);
    return obj;
  }

  /** Several objects of one resource in one round trip; those that no longer exist are left out. */
  async getMany<T extends KubeObject = KubeObject>(resource: ResourceRef, refs: { namespace: string; name: string }[]): Promise<T[]> {
    const r = resolve(resource);
    if (!refs.length) return [];
    const pipeline = this.redis.pipeline();
    for (const ref of refs) pipeline.hget(this.keys.objects(r.plural, nsOf(r, ref.namespace)), ref.name);
    const out: T[] = [];
    for (const [i, [err, json]] of ((await pipeline.exec()) ?? []).entries()) {
      if (!err && json) out.push(this.decode<T>(r, nsOf(r, refs[i].namespace), refs[i].name, json as string));
    }
    return out;
  }

  /** Every object of a resource in one namespace (or all, when namespace is undefined), and the rv they were read at. */
  async list<T extends KubeObject = KubeObject>(resource: ResourceRef, namespace?: string): Promise<{ items: T[]; resourceVersion: string }> {
    const r = resolve(resource);
    const ns = r.namespaced ? namespace ?? '' : '';
    const reply = (await this.scripts.run(
      'listObjects',
      [this.keys.resourceVersion, this.keys.namespacesOf(r.plural)],
      [this.keys.objects(r.plural, ''), ns, r.namespaced ? '1' : '0'],
    )) as string[];
    const items: T[] = [];
    for (let i = 1; i + 2 < reply.length; i += 3) items.push(this.decode<T>(r, reply[i], reply[i + 1], reply[i + 2]));
    items.sort((a, b) => {
      const an = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
      const bn = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
      return an < bn ? -1 : an > bn ? 1 : 0;
    });
    return { items, resourceVersion: reply[0] };
  }

  /**
   * The views (Strategy.view) of a resource's objects, as a list made now, and its resourceVersion,
   * from which the view stream (Keys.viewOf) continues it.
   */
  async listView<T extends KubeObject = KubeObject>(resource: ResourceRef): Promise<{ items: T[]; resourceVersion: string }> {
    const r = resolve(resource);
    const view = strategyFor(storedResource(r).plural).view;
    if (!view) throw new Error(`${r.plural} have no view`);
    const { items, resourceVersion } = await this.list(r);
    return { items: items.flatMap((item) => (view(item) as T | undefined) ?? []), resourceVersion };
  }

  /**
   * One page of a resource's objects in "namespace/name" order, after `afterKey`: for list requests
   * with a limit, without reading the objects of the other pages.
   */
  async listPage<T extends KubeObject = KubeObject>(resource: ResourceRef, namespace: string | undefined, afterKey: string, limit: number): Promise<{ items: T[]; resourceVersion: string; remaining: number; lastKey: string }> {
    const r = resolve(resource);
    const ns = r.namespaced ? namespace ?? '' : '';
    const { min, max } = pageRange(ns, afterKey);
    const reply = (await this.scripts.run(
      'listPage',
      [this.keys.resourceVersion, this.keys.namespacesOf(r.plural), this.keys.objectIndex(r.plural), this.keys.objectIndexBuilt(r.plural)],
      [this.keys.objects(r.plural, ''), ns, r.namespaced ? '1' : '0', afterKey, String(Math.min(limit, MAX_PAGE_SIZE)), min, max],
    )) as (string | number)[];
    return {
      resourceVersion: String(reply[0]),
      remaining: Number(reply[1]),
      lastKey: String(reply[2]),
      items: pairs(reply.slice(3) as string[]).map(([key, json]) => {
        const slash = key.indexOf('/');
        return this.decode<T>(r, key.slice(0, slash), key.slice(slash + 1), json);
      }),
    };
  }

  /**
   * Adds the objects written before the object index existed (an upgraded cluster) to it, a chunk
   * at a time, then marks each resource's index complete so paged lists start using it. Several
   * processes may run this at once, and one killed midway leaves work the next run finishes:
   * indexing a key twice changes nothing, and the marker is set only after a resource's last chunk.
   * Returns the resources that had objects to index.
   */
  async buildObjectIndex(resources: ResourceInfo[] = STORED_RESOURCES, chunk = 500): Promise<string[]> {
    const indexed: string[] = [];
    for (const r of resources) {
      const built = this.keys.objectIndexBuilt(r.plural);
      if (await this.redis.exists(built)) continue;
      const namespaces = await this.redis.smembers(this.keys.namespacesOf(r.plural));
      for (const ns of namespaces) {
        let cursor = '0';
        do {
          cursor = String(await this.scripts.run('indexObjects', [this.keys.objects(r.plural, ns), this.keys.objectIndex(r.plural)], [cursor, ns, chunk]));
        } while (cursor !== '0');
      }
      await this.redis.set(built, '1');
      if (namespaces.length) indexed.push(r.plural);
    }
    return indexed;
  }

  /** Objects whose ownerReferences name ownerUid: "resource|namespace|name" triples. */
  async dependentsOf(ownerUid: string): Promise<{ resource: string; namespace: string; name: string }[]> {
    const members = await this.redis.smembers(this.keys.dependents(ownerUid));
    return members.map((m) => {
      const [resource, namespace, name] = m.split('|');
      return { resource, namespace, name };
    });
  }

  /** Drops the dependents index of an owner that is gone and has no dependents left. */
  async forgetDependents(ownerUid: string): Promise<void> {
    await this.redis.del(this.keys.dependents(ownerUid));
  }

  /** Where the object with this uid lives, if it still exists. */
  async locateUid(uid: string): Promise<{ resource: string; namespace: string; name: string } | null> {
    const v = await this.redis.hget(this.keys.uids, uid);
    if (!v) return null;
    const [resource, namespace, name] = v.split('|');
    return { resource, namespace, name };
  }

  // ---- unique claims (a Service's cluster IP and node ports) ------------------------------

  async claimHolders(claims: string[]): Promise<(string | null)[]> {
    return claims.length ? this.redis.hmget(this.keys.claims, ...claims) : [];
  }

  async heldClaims(prefix: string): Promise<string[]> {
    return (await this.redis.hkeys(this.keys.claims)).filter((c) => c.startsWith(prefix));
  }

  /** Records claims for an object that holds them already (data of an older Wharf); claims held by others stay theirs. */
  async recordClaims(uid: string, claims: string[]): Promise<void> {
    if (!claims.length) return;
    const pipeline = this.redis.pipeline();
    for (const c of claims) pipeline.hsetnx(this.keys.claims, c, uid);
    await pipeline.exec();
  }

  // ---- node accounting ------------------------------------------------------------------

  /** The pods charged to a node (every bound, non-terminal pod is), without a scan of all pods. */
  async podsChargedTo(node: string): Promise<Pod[]> {
    const fields = await this.redis.hkeys(this.keys.nodeUsage(node));
    const uids = fields.filter((f) => f.startsWith('pod:')).map((f) => f.slice(4));
    if (!uids.length) return [];
    const refs = (await this.redis.hmget(this.keys.uids, ...uids))
      .filter((w): w is string => !!w)
      .map((w) => w.split('|'))
      .filter(([resource]) => resource === 'pods')
      .map(([, namespace, name]) => ({ namespace, name }));
    // The pod at a charged pod's place may be a newer one of the same name.
    const charged = new Set(uids);
    return (await this.getMany<Pod>('pods', refs)).filter((pod) => charged.has(pod.metadata.uid!));
  }

  /** Every node name that has pods charged to it (deleted nodes included). */
  async nodesWithCharges(): Promise<string[]> {
    const prefix = this.keys.nodeUsage('');
    const names: string[] = [];
    let cursor = '0';
    do {
      const [next, found] = await this.redis.scan(cursor, 'MATCH', this.keys.nodeUsage('*'), 'COUNT', 1000);
      cursor = next;
      for (const key of found) if (Number(await this.redis.hget(key, 'used.pods')) > 0) names.push(key.slice(prefix.length));
    } while (cursor !== '0');
    return names;
  }

  // ---- node IPAM ---------------------------------------------------------------------------

  /**
   * Reserves a block of the pod network for a node: the one it holds already, else `wanted` (the
   * block its spec names) if free, else the first free one. Atomic across controller replicas.
   * Returns the block's index, 'full' when none is free, or 'taken' when `wanted` is another node's.
   */
  async allocatePodCidr(node: string, blocks: number, wanted = -1): Promise<number | 'full' | 'taken'> {
    const index = Number(await this.scripts.run('allocatePodCidr', [this.keys.podCidrs], [node, blocks, wanted]));
    return index === -1 ? 'full' : index === -2 ? 'taken' : index;
  }

  /** Gives back every pod network block a (deleted) node holds; returns how many. */
  async releasePodCidr(node: string): Promise<number> {
    return Number(await this.scripts.run('releasePodCidr', [this.keys.podCidrs], [node]));
  }

  /** The nodes holding pod network blocks (for the controller's resync: nodes deleted while it was away). */
  async podCidrHolders(): Promise<string[]> {
    return [...new Set(await this.redis.hvals(this.keys.podCidrs))];
  }

  // ---- the cluster's credentials ----------------------------------------------------------

  /**
   * Stores a credential pair once for the cluster (public half in the public credentials hash,
   * private half in the private one) unless one is stored already, and returns the pair the
   * cluster holds: replicas racing at first start all get the same one.
   */
  async ensureCredentialPair(fields: { public: string; private: string }, offered: { public: string; private: string }): Promise<{ public: string; private: string; created: boolean }> {
    const [pub, priv, created] = (await this.scripts.run(
      'ensureCredentialPair',
      [this.keys.clusterPublicCredentials, this.keys.clusterPrivateCredentials],
      [fields.public, offered.public, fields.private, offered.private],
    )) as [string, string, number];
    return { public: pub, private: priv, created: created === 1 };
  }

  /** One field of the cluster's public credentials ("ca.crt"), readable by every Wharf process. */
  async publicCredential(field: string): Promise<string | null> {
    return this.redis.hget(this.keys.clusterPublicCredentials, field);
  }

  /** One field of the cluster's private credentials ("ca.key"): only API servers may read it. */
  async privateCredential(field: string): Promise<string | null> {
    return this.redis.hget(this.keys.clusterPrivateCredentials, field);
  }

  async setPrivateCredential(field: string, value: string): Promise<void> {
    await this.redis.hset(this.keys.clusterPrivateCredentials, field, value);
  }

  // ---- what agents and schedulers keep beside the objects ---------------------------------

  /** Where a node's agent serves logs (host:port), for the API server's proxy. */
  async agentEndpoint(node: string): Promise<string | null> {
    return this.redis.hget(this.keys.agentEndpoints, node);
  }

  async setAgentEndpoint(node: string, endpoint: string): Promise<void> {
    await this.redis.hset(this.keys.agentEndpoints, node, endpoint);
  }

  /** A pod's container restart back-off entries, by container name (JSON). */
  async backoffOf(podUid: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.backoff(podUid));
  }

  async setBackoff(podUid: string, container: string, entry: string): Promise<void> {
    await this.redis.hset(this.keys.backoff(podUid), container, entry);
  }

  /** Forgets one container's back-off, or the whole pod's. */
  async clearBackoff(podUid: string, container?: string): Promise<void> {
    if (container) await this.redis.hdel(this.keys.backoff(podUid), container);
    else await this.redis.del(this.keys.backoff(podUid));
  }

  /** Records pods the schedulers found no room for, to retry (highest priority first) when room appears. */
  async markUnschedulable(podKey: string, priority: number): Promise<void> {
    await this.redis.zadd(this.keys.unschedulablePods, priority, podKey);
  }

  async clearUnschedulable(podKeys: string[]): Promise<void> {
    if (podKeys.length) await this.redis.zrem(this.keys.unschedulablePods, ...podKeys);
  }

  /** The pods found unschedulable, with their priorities. */
  async unschedulablePods(): Promise<{ key: string; priority: number }[]> {
    const flat = await this.redis.zrange(this.keys.unschedulablePods, '0', '-1', 'WITHSCORES');
    return Array.from({ length: flat.length / 2 }, (_, i) => ({ key: flat[2 * i], priority: Number(flat[2 * i + 1]) }));
  }

  // ---- the cluster's credentials (Keys.clusterPublicCredentials / clusterPrivateCredentials) ---

  /** The cluster CA's certificate (PEM), which every process may read; null until the API servers made the CA. */
  async clusterCaCertificate(): Promise<string | null> {
    return this.redis.hget(this.keys.clusterPublicCredentials, 'ca.crt');
  }

  /** The ServiceAccount token signing key (PEM), which only API servers read; null before the first one made it. */
  async serviceAccountSigningKey(): Promise<string | null> {
    return this.redis.hget(this.keys.clusterPrivateCredentials, 'sa.key');
  }

  /**
   * Stores `pem` as the ServiceAccount signing key unless the cluster has one already, and returns
   * the one it has: of API servers starting at once, the first writer wins and all sign with its key.
   */
  async initServiceAccountSigningKey(pem: string): Promise<string> {
    await this.redis.hsetnx(this.keys.clusterPrivateCredentials, 'sa.key', pem);
    return (await this.serviceAccountSigningKey())!;
  }

  /** The public keys ServiceAccount tokens are verified with (PEM blocks, one per key), or null. */
  async serviceAccountVerificationKeys(): Promise<string | null> {
    return this.redis.hget(this.keys.clusterPublicCredentials, 'sa.pub');
  }

  /** Adds a public key to those tokens are verified with (a no-op when it is there already). */
  async publishServiceAccountVerificationKey(pem: string): Promise<void> {
    const current = (await this.serviceAccountVerificationKeys()) ?? '';
    if (current.includes(pem.trim())) return;
    await this.redis.hset(this.keys.clusterPublicCredentials, 'sa.pub', current ? `${current.trim()}\n${pem.trim()}\n` : `${pem.trim()}\n`);
  }

  /** Routes nodes that share one process's queue (simulated nodes) to that queue. */
  async routeNodesToQueue(nodes: string[], queue: string): Promise<void> {
    if (nodes.length) await this.redis.hset(this.keys.nodeQueueRoutes, ...nodes.flatMap((n) => [n, queue]));
  }

  // ---- quota admissions in flight (see shared/quota/admission.ts) ---------------------------

  /** Marks a write that is charging the namespace's quotas; returns the marker's token. */
  async beginQuotaAdmission(namespace: string): Promise<string> {
    const token = randomBytes(9).toString('base64url');
    await this.redis.zadd(this.keys.quotaAdmissions(namespace), Date.now() + IN_FLIGHT_TTL_MS, token);
    return token;
  }

  async endQuotaAdmission(namespace: string, token: string): Promise<void> {
    await this.redis.zrem(this.keys.quotaAdmissions(namespace), token);
  }

  /** How many charging writes are in flight in the namespace (lapsed markers are dropped). */
  async quotaAdmissionsInFlight(namespace: string): Promise<number> {
    const key = this.keys.quotaAdmissions(namespace);
    const nowMs = Date.now();
    await this.redis.zremrangebyscore(key, '-inf', nowMs);
    return this.redis.zcount(key, nowMs, '+inf');
  }

  // ---- writes -----------------------------------------------------------------------------

  /**
   * Creates an object: system metadata (uid, name from generateName, creationTimestamp), then the
   * kind's admission (structural check, defaults, status reset, validation, and what reads the
   * cluster: namespace lifecycle, priority, address allocation), then the atomic write.
   */
  async create<T extends KubeObject>(resource: ResourceRef, input: T, opts: CreateOptions = {}): Promise<T> {
    const served = resolve(resource);
    const r = storedResource(served);
    const s = strategyFor(r.plural);
    const conversion = conversionFor(served);
    for (let attempt = 0; ; attempt++) {
      let obj = conversion ? (admitConverted(conversion, structuredClone(input), opts) as T) : structuredClone(input);
      if (!obj.metadata || typeof obj.metadata !== 'object') obj.metadata = {};
      let meta = obj.metadata;
      if (r.namespaced) meta.namespace = meta.namespace || 'default';
      else delete meta.namespace;
      meta.uid = randomUUID();
      meta.creationTimestamp = now();
      if (s.generation) meta.generation = 1;
      else delete meta.generation;
      delete meta.resourceVersion;
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
      const generated = !meta.name && typeof meta.generateName === 'string' && !!meta.generateName;
      // As Kubernetes' SimpleNameGenerator: the prefix is cut so the name stays a DNS label.
      if (generated) meta.name = `${meta.generateName!.slice(0, 58)}${randomSuffix()}`;
      const hooks = this.webhookAttributes(served, { operation: 'CREATE', namespace: meta.namespace, name: meta.name ?? '', dryRun: !!opts.dryRun, user: opts.requester?.user });
      if (hooks) {
        obj = (await this.webhooks!.mutate(hooks, obj)) as T;
        meta = obj.metadata;
      }
      // Warnings are collected once, on the first attempt.
      admitCreate(s, obj, this.admission, attempt === 0 ? opts : { ...opts, warnings: undefined });
      const ctx = this.admissionContext(opts, attempt);
      await this.checkNamespace(r, meta.namespace);
      await s.admit?.(obj, undefined, ctx);
      const policed = this.policyAttributes(served, { operation: 'CREATE', namespace: meta.namespace, name: meta.name ?? '', dryRun: !!opts.dryRun, user: opts.requester?.user });
      if (policed) await this.policies!.validate(policed, shown(served, obj), ctx.warnings);
      if (hooks) await this.webhooks!.validate({ ...hooks, object: obj }, obj);
      if (opts.fieldManager) recordManagedFields(r, undefined, obj, opts.fieldManager);
      // Last, as Kubernetes runs it last: the ResourceQuota admission charges what it admits.
      const releaseQuota = await admitQuota(this.quotas, r, 'create', obj, undefined, { dryRun: opts.dryRun });
      if (opts.dryRun) {
        if (await this.get(r, meta.namespace, meta.name!)) throw new AlreadyExistsError(served.plural, meta.name!, served.group);
        return shown(served, obj);
      }
      try {
        return shown(served, await this.write(r, 'create', obj, undefined));
      } catch (err) {
        // A generated name that is taken gets another suffix (Kubernetes retries generateName too).
        if (generated && err instanceof AlreadyExistsError && attempt < 8) continue;
        if (this.lostPickedClaim(ctx, err) && attempt < 10) continue;
        throw this.claimError(s, obj, err);
      } finally {
        await releaseQuota();
      }
    }
  }

  /**
   * Replaces an object. A resourceVersion in the input (or opts.preconditions) is a precondition,
   * checked before anything else (409 when stale); without one the update is unconditional.
   * Through the main resource, status changes are ignored for kinds with a status subresource;
   * through 'status', only status changes are taken.
   */
  async update<T extends KubeObject>(resource: ResourceRef, input: T, opts: UpdateOptions = {}): Promise<T> {
    const r = resolve(resource);
    const wanted = input.metadata?.resourceVersion || opts.preconditions?.resourceVersion;
    const uid = input.metadata?.uid || opts.preconditions?.uid;
    return this.guaranteedUpdate<T>(r, input.metadata?.namespace, input.metadata!.name!, () => structuredClone(input), {
      ...opts,
      preconditions: { resourceVersion: wanted, uid },
      // Unconditional updates retry on a race; conditional ones report it.
      retryConflicts: !wanted,
    });
  }

  /**
   * Read-modify-write: mutate gets a copy of the current object and returns the desired one (or
   * null for "no change"). Admitted as any update; retried on a conflict unless a precondition pins
   * the version. This is how controllers write.
   */
  async guaranteedUpdate<T extends KubeObject>(
    resource: ResourceRef,
    namespace: string | undefined,
    name: string,
    mutate: (current: T) => T | null | Promise<T | null>,
    opts: UpdateOptions & { retryConflicts?: boolean } = {},
  ): Promise<T> {
    const served = resolve(resource);
    const r = storedResource(served);
    const s = strategyFor(r.plural);
    const conversion = conversionFor(served);
    const retry = opts.retryConflicts ?? !opts.preconditions?.resourceVersion;
    for (let attempt = 0; ; attempt++) {
      const old = await this.mustGet<T>(r, namespace, name).catch((err) => {
        throw err instanceof NotFoundError ? new NotFoundError(served.plural, name, served.group) : err;
      });
      assertPreconditions(served, old, opts.preconditions);
      let desired = await mutate(shown(served, structuredClone(old)));
      if (!desired) return shown(served, old);
      if (conversion) desired = admitConverted(conversion, desired, opts) as T;
      let next = this.merge(s, old, desired, opts.subresource);
      const hooks = this.webhookAttributes(served, { operation: 'UPDATE', subresource: opts.subresource, namespace: old.metadata.namespace, name: old.metadata.name ?? '', oldObject: shown(served, old), dryRun: !!opts.dryRun, user: opts.requester?.user });
      if (hooks) next = (await this.webhooks!.mutate(hooks, next)) as T;
      const ctx = this.admissionContext(opts, attempt);
      if (opts.subresource === 'status') admitStatusUpdate(s, next, old);
      else if (opts.subresource) {
        admitPartialUpdate(s, opts.subresource, next, old, this.admission, attempt === 0 ? opts : { ...opts, warnings: undefined });
        await s.admit?.(next, old, ctx);
      } else {
        admitUpdate(s, next, old, this.admission, attempt === 0 ? opts : { ...opts, warnings: undefined });
        await s.admit?.(next, old, ctx);
      }
      const policed = this.policyAttributes(served, { operation: 'UPDATE', subresource: opts.subresource, namespace: old.metadata.namespace, name: old.metadata.name ?? '', oldObject: shown(served, old), dryRun: !!opts.dryRun, user: opts.requester?.user });
      if (policed) await this.policies!.validate(policed, shown(served, next), ctx.warnings);
      if (hooks) await this.webhooks!.validate(hooks, next);
      if (s.generation && (s.specChanged ? s.specChanged(next, old) : !deepEqual(next.spec, old.spec))) next.metadata.generation = (old.metadata.generation ?? 1) + 1;
      // As Kubernetes' GuaranteedUpdate: an unchanged object is not written again, unless it was
      // stored with a key other than the current first one — rewriting it is how keys rotate.
      if (deepEqual(next, old) && !this.stale.has(old)) return shown(served, old);
      if (opts.fieldManager) recordManagedFields(served, old, next, { ...opts.fieldManager, subresource: opts.subresource ?? opts.fieldManager.subresource });
      const releaseQuota = opts.subresource === 'status' ? async () => {} : await admitQuota(this.quotas, r, 'update', next, old, { dryRun: opts.dryRun });
      if (opts.dryRun) return shown(served, next);
      try {
        return shown(served, await this.commit(s, r, old, next));
      } catch (err) {
        if (retry && isConflict(err) && attempt < 50) continue;
        if (this.lostPickedClaim(ctx, err) && attempt < 10) continue;
        throw this.claimError(s, next, err);
      } finally {
        await releaseQuota();
      }
    }
  }

  /** Sets spec.nodeName, charging the node atomically; throws InsufficientCapacityError when it is full. */
  async bindPod(pod: Pod, nodeName: string): Promise<Pod> {
    const r = resolve('pods');
    const next = structuredClone(pod);
    next.spec.nodeName = nodeName;
    next.status = next.status ?? {};
    next.status.conditions = upsertCondition(next.status.conditions ?? [], {
      type: 'PodScheduled',
      status: 'True',
      lastProbeTime: null,
      lastTransitionTime: now(),
    });
    return this.write(r, 'update', next, pod, { checkCapacity: true });
  }

  /**
   * Writes again every object of a resource that is stored other than the current first provider
   * writes — under an older key, or in plaintext — so that it is: the second half of a key
   * rotation, as Kubernetes' `kubectl get secrets -A -o json | kubectl replace -f -`. Objects
   * already stored with the current key are left as they are. Returns how many were rewritten.
   */
  async rewriteStale(resource: ResourceRef): Promise<{ rewritten: number; total: number }> {
    const r = storedResource(resolve(resource));
    const { items } = await this.list(r);
    let rewritten = 0;
    for (const item of items) {
      const before = item.metadata.resourceVersion;
      try {
        const after = await this.guaranteedUpdate(r, item.metadata.namespace, item.metadata.name!, (current) => current);
        if (after.metadata.resourceVersion !== before) rewritten++;
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err; // deleted meanwhile: nothing to rewrite
      }
    }
    return { rewritten, total: items.length };
  }

  async delete(resource: ResourceRef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const served = resolve(resource);
    const r = storedResource(served);
    const s = strategyFor(r.plural);
    for (;;) {
      const old = await this.mustGet(r, namespace, name).catch((err) => {
        throw err instanceof NotFoundError ? new NotFoundError(served.plural, name, served.group) : err;
      });
      const refused = s.forbidDelete?.(old);
      if (refused) throw refused;
      assertPreconditions(served, old, opts.preconditions);
      // Policies and webhooks see a delete as Kubernetes sends it: the object going as oldObject, no object.
      const policed = this.policyAttributes(served, { operation: 'DELETE', namespace: old.metadata.namespace, name, oldObject: shown(served, old), dryRun: !!opts.dryRun, user: opts.requester?.user });
      if (policed) await this.policies!.validate(policed, undefined);
      const hooks = this.webhookAttributes(served, { operation: 'DELETE', namespace: old.metadata.namespace, name, oldObject: shown(served, old), dryRun: !!opts.dryRun, user: opts.requester?.user });
      if (hooks) await this.webhooks!.admitDelete(hooks);
      const plan = planDeletion(s, old, opts);
      if (opts.dryRun) return { object: shown(served, plan.remove ? old : plan.next!), removed: plan.remove };
      try {
        if (plan.remove) {
          const object = await this.write(r, 'delete', structuredClone(old), old);
          return { object: shown(served, object), removed: true };
        }
        if (deepEqual(plan.next, old)) return { object: shown(served, old), removed: false };
        const object = await this.write(r, 'update', plan.next!, old);
        return { object: shown(served, object), removed: false };
      } catch (err) {
        if (isConflict(err)) continue;
        throw err;
      }
    }
  }

  /** Change events of a resource after `afterRv`, oldest first. */
  async eventsAfter(resource: ResourceRef, afterRv: number, count = 500): Promise<StoredEvent[]> {
    const r = resolve(resource);
    const entries = (await this.redis.xrange(this.keys.stream(r.plural), `(${afterRv}-0`, '+', 'COUNT', count)) as [string, string[]][];
    return entries.map((entry) => this.decodeEvent(r, entry));
  }

  /** The resourceVersion of the newest event on each of these streams (Keys.stream's argument; 0 for one without). */
  async latestStreamVersions(streams: string[]): Promise<number[]> {
    if (!streams.length) return [];
    const pipeline = this.redis.pipeline();
    for (const s of streams) pipeline.xrevrange(this.keys.stream(s), '+', '-', 'COUNT', 1);
    return ((await pipeline.exec()) ?? []).map(([err, last]) => {
      if (err) throw err;
      const [entry] = last as [string, string[]][];
      return entry ? Number(entry[0].split('-')[0]) : 0;
    });
  }

  /** The shards of a resource's view (Strategy.viewShard): '' (the common stream) and the others. */
  viewShards(resource: ResourceRef): string[] {
    const s = strategyFor(storedResource(resolve(resource)).plural);
    if (!s.view) throw new Error(`${resolve(resource).plural} have no view`);
    return s.viewShard ? [...s.viewShards!] : [''];
  }

  /**
   * Throws 410 Expired when a watch of this resource cannot resume at resourceVersion `cursor`: the
   * events after it were compacted away, or it lies in a range a failover skipped — a version the
   * old primary issued in a write the new one never received (write-object.lua). Either way the
   * watcher must list again.
   */
  async checkWatchPosition(resource: ResourceRef, cursor: number): Promise<void> {
    // Sent together: one round trip.
    const [[compactedErr, compacted], [lostErr, lost]] = ((await this.streamPositionReads(this.redis.pipeline(), resolve(resource).plural, cursor).exec()) ?? []) as [Error | null, unknown][];
    if (compactedErr || lostErr) throw compactedErr ?? lostErr;
    watchPositionVerdict(cursor, compacted as string | null, lost as string[] | null);
  }

  /**
   * Queues the reads checkWatchPosition makes (its verdict: watchPositionVerdict on their replies)
   * for a stream named as Keys.stream's argument (a resource, a view's shard) on a pipeline, for a
   * follower that sends them behind its own blocking read of the stream, in the same round trip:
   * Redis runs them once the read returns, so they judge the cursor the read started from as a
   * check made after it would.
   */
  streamPositionReads(pipeline: ChainableCommander, stream: string, cursor: number): ChainableCommander {
    return pipeline.get(this.keys.compacted(stream)).zrangebyscore(this.keys.lostResourceVersions, `(${cursor}`, '+inf', 'WITHSCORES', 'LIMIT', 0, 1);
  }

  /** The highest resourceVersion whose events may have been compacted away for this resource. */
  async compactedResourceVersion(resource: ResourceRef): Promise<number> {
    const r = resolve(resource);
    return Number((await this.redis.get(this.keys.compacted(r.plural))) ?? 0);
  }

  // ---- internals -------------------------------------------------------------------------

  /** Warnings are collected on the first attempt only: a retry would repeat them. */
  private admissionContext(opts: AdmissionOptions, attempt: number): AdmissionContext {
    return { reader: this, settings: this.admission, picked: new Set(), requester: opts.requester, warnings: attempt === 0 ? opts.warnings : undefined };
  }

  /** A namespaced object may only be created in a namespace that exists and is not being deleted. */
  private async checkNamespace(r: ResourceInfo, namespace: string | undefined): Promise<void> {
    if (!r.namespaced || !namespace) return;
    const ns = await this.get('namespaces', undefined, namespace);
    if (!ns) throw new NotFoundError('namespaces', namespace);
    if (ns.metadata.deletionTimestamp && r.plural !== 'events') {
      throw new ForbiddenError(`${r.plural} "${''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, {
        kind: r.plural,
        group: r.group,
        causes: [{ reason: 'NamespaceTerminating', message: `namespace ${namespace} is being terminated`, field: 'metadata.namespace' }],
      });
    }
  }

  /** A write lost a race for a value admission picked itself: pick again. */
  private lostPickedClaim(ctx: AdmissionContext, err: unknown): boolean {
    return err instanceof ClaimedError && ctx.picked.has(err.claim);
  }

  /** A claim another object holds, for a value the writer asked for, is the kind's 422. */
  private claimError(s: Strategy, obj: KubeObject, err: unknown): unknown {
    return err instanceof ClaimedError && s.claimConflict ? s.claimConflict(obj, err.claim) : err;
  }

  /** The object a write should store, given the current one and the caller's version. */
  private merge<T extends KubeObject>(s: Strategy, old: T, input: T, subresource?: string): T {
    if (subresource === 'status') {
      const next = structuredClone(old);
      next.status = structuredClone(input.status);
      return next;
    }
    if (subresource) {
      const write = s.partialWrites?.[subresource];
      if (!write) throw new BadRequestError(`${s.resource.plural}/${subresource} does not write`);
      return write.prepare(old, input) as T;
    }
    const next = structuredClone(input);
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    if (!next.metadata || typeof next.metadata !== 'object') next.metadata = {};
    const meta = next.metadata;
    const o = old.metadata;
    meta.name = o.name;
    if (o.namespace) meta.namespace = o.namespace;
    meta.uid = o.uid;
    meta.creationTimestamp = o.creationTimestamp;
    meta.resourceVersion = o.resourceVersion;
    if (s.generation) meta.generation = o.generation;
    else delete meta.generation;
    if (o.deletionTimestamp) {
      meta.deletionTimestamp = o.deletionTimestamp;
      meta.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    if (s.statusSubresource) {
      if (old.status === undefined) delete next.status;
      else next.status = structuredClone(old.status);
    }
    return next;
  }

  /** Writes an update, turning it into the final removal when the last finalizer has gone. */
  private async commit<T extends KubeObject>(s: Strategy, r: ResourceInfo, old: T, next: T): Promise<T> {
    const meta = next.metadata;
    if (meta.deletionTimestamp && (meta.finalizers ?? []).length === 0 && !s.holdsDeletion?.(next)) {
      return this.write(r, 'delete', next, old);
    }
    return this.write(r, 'update', next, old);
  }

  private async write<T extends KubeObject>(
    r: ResourceInfo,
    op: 'create' | 'update' | 'delete',
    obj: T,
    old: T | undefined,
    opts: { checkCapacity?: boolean } = {},
  ): Promise<T> {
    const s = strategyFor(r.plural);
    const meta = obj.metadata;
    const ns = nsOf(r, meta.namespace);
    const name = meta.name!;
    const { json, placeholder } = withPlaceholderResourceVersion(obj);
    if (op !== 'delete' && json.length - placeholder.length > (s.maxBytes ?? MAX_OBJECT_BYTES)) throw new RequestEntityTooLargeError(s.maxBytes ?? MAX_OBJECT_BYTES);
    const { pre, post } = this.encryption.forResource(r.plural, r.group).toStorage(json, placeholder, storageLocation(r.plural, r.group, ns, name));
    const usage: UsageOp = s.nodeUsage?.(op, obj, old, !!opts.checkCapacity) ?? { op: '' };
    const before = ownerUids(old);
    const after = op === 'delete' ? new Set<string>() : ownerUids(obj);
    const adds = [...after].filter((u) => !before.has(u));
    const removes = [...before].filter((u) => !after.has(u));
    const heldBefore = new Set(old ? s.claims(old) : []);
    const heldAfter = new Set(op === 'delete' ? [] : s.claims(obj));
    const takes = [...heldAfter].filter((c) => !heldBefore.has(c));
    const gives = [...heldBefore].filter((c) => !heldAfter.has(c));
    const usageKey = usage.op === '' ? this.keys.resourceVersion : this.keys.nodeUsage(usage.node);
    const views = s.view ? viewChanges(s, old, op === 'delete' ? undefined : obj) : [];
    const viewsStored = views.map((v) => this.encryption.forResource(r.plural, r.group).toStorage(v.json, v.placeholder, storageLocation(r.plural, r.group, ns, name)));
    const keys = [
      this.keys.resourceVersion,
      this.keys.objects(r.plural, ns),
      this.keys.namespacesOf(r.plural),
      this.keys.stream(r.plural),
      this.keys.compacted(r.plural),
      this.keys.uids,
      usageKey,
      this.keys.claims,
      this.keys.objectIndex(r.plural),
      // Sent again after a reconnect, the same command carries the same id: the script answers
      // what the first run did instead of failing its own compare-and-set.
      this.keys.writeRecord(uniqueToken()),
      this.keys.resourceVersionEpoch,
      this.keys.lostResourceVersions,
      ...[0, 1].flatMap((i) => [this.keys.stream(this.keys.viewOf(r.plural, views[i]?.shard)), this.keys.compacted(this.keys.viewOf(r.plural, views[i]?.shard))]),
      ...adds.map((u) => this.keys.dependents(u)),
      ...removes.map((u) => this.keys.dependents(u)),
    ];
    const eventType = op === 'create' ? 'ADDED' : op === 'delete' ? 'DELETED' : 'MODIFIED';
    const args: (string | number)[] = [
      op,
      name,
      old?.metadata.resourceVersion ?? '',
      pre,
      post,
      eventType,
      this.watchHistory,
      meta.uid!,
      `${r.plural}|${ns}|${name}`,
      ns,
      adds.length,
      removes.length,
      usage.op,
      usage.op === 'charge' || usage.op === 'force-charge' || usage.op === 'release' ? usage.uid : '',
      usage.op === 'charge' || usage.op === 'force-charge' || usage.op === 'allocatable' ? usage.cpu : 0,
      usage.op === 'charge' || usage.op === 'force-charge' || usage.op === 'allocatable' ? usage.mem : 0,
      usage.op === 'allocatable' ? usage.pods : 0,
      takes.length,
      gives.length,
      ...[0, 1].flatMap((i) => [views[i]?.type ?? '', viewsStored[i]?.pre ?? '', viewsStored[i]?.post ?? '']),
      // A shard holds a share of the view's events: it keeps a share of the history.
      s.viewShard ? Math.max(1_000, Math.ceil(this.watchHistory / 8)) : this.watchHistory,
      ...takes,
      ...gives,
    ];
    try {
      this.holdWritesForThisTurn();
      const rv = await this.writeScripts.run('writeObject', keys, args);
      await this.awaitReplicas();
      obj.metadata.resourceVersion = String(rv);
      return obj;
    } catch (err) {
      const failure = decodeScriptError(err);
      if (!failure) throw err;
      switch (failure.code) {
        case 'EXISTS':
          throw new AlreadyExistsError(r.plural, name, r.group);
        case 'NOT_FOUND':
          throw new NotFoundError(r.plural, name, r.group);
        case 'CONFLICT':
          throw new ConflictError(r.plural, name, r.group);
        case 'INSUFFICIENT':
          throw new InsufficientCapacityError(usage.op === '' ? '' : usage.node, failure.detail);
        case 'CLAIMED':
          throw new ClaimedError(failure.claim);
      }
    }
  }
}

/** Records in metadata.managedFields what this write changed, as owned by its manager (Kubernetes' fieldmanager, operation Update). */
function recordManagedFields(r: ResourceInfo, old: KubeObject | undefined, next: KubeObject, write: { manager: string; subresource?: string }): void {
  const entries = recordUpdate(old, next, { kind: r.kind, apiVersion: apiVersionOf(r), manager: write.manager, subresource: write.subresource });
  if (entries) next.metadata.managedFields = entries;
  else delete next.metadata.managedFields;
}

/** What deleting `old` means: remove it now, or mark it and wait (finalizers, graceful termination). */
export function planDeletion(s: Strategy, old: KubeObject, opts: DeleteOptions): { remove: boolean; next?: KubeObject } {
  const next = structuredClone(old);
  const meta = next.metadata;
  const finalizers = [...(meta.finalizers ?? [])];
  const policy = opts.propagationPolicy ?? 'Background';
  const alreadyDeleting = !!meta.deletionTimestamp;
  if (!alreadyDeleting) {
    if (policy === 'Orphan' && !finalizers.includes(ORPHAN_FINALIZER)) finalizers.push(ORPHAN_FINALIZER);
    if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
  }
  if (finalizers.length) meta.finalizers = finalizers;
  else delete meta.finalizers;
  const graceful = !!s.deletionGraceSeconds;
  let grace = s.deletionGraceSeconds?.(old, opts.gracePeriodSeconds) ?? 0;
  // A second delete may shorten the grace period, never lengthen it.
  if (alreadyDeleting && graceful) grace = Math.min(grace, meta.deletionGracePeriodSeconds ?? grace);
  if (!alreadyDeleting || graceful) {
    meta.deletionTimestamp = alreadyDeleting && meta.deletionGracePeriodSeconds === grace
      ? meta.deletionTimestamp
      : new Date(Date.now() + Math.min(grace, MAX_DELETION_DELAY_SECONDS) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    meta.deletionGracePeriodSeconds = grace;
    // As Kubernetes' BeforeDelete: marking an object for deletion is a change of its generation.
    if (!alreadyDeleting && s.generation) meta.generation = (meta.generation ?? 1) + 1;
  }
  if (finalizers.length === 0 && !s.holdsDeletion?.(next)) return { remove: true };
  s.markDeleting?.(next);
  return { remove: false, next };
}

/**
 * Serialises obj with a unique placeholder for its resourceVersion, so the Lua script can set it
 * without re-encoding JSON (or, for an encrypted value, beside the ciphertext).
 */
/**
 * The view streams' events for a write (Strategy.view), none when the write leaves the view as it
 * was: the object's view entering, changing or leaving it (a leaving view is its last form). A view
 * that moves to another shard (Strategy.viewShard) leaves the old one and enters the new one.
 */
export function viewChanges(s: Pick<Strategy, 'view' | 'viewShard'>, old: KubeObject | undefined, next: KubeObject | undefined): { shard: string; type: StoredEvent['type']; json: string; placeholder: string }[] {
  const before = old ? s.view!(old) : undefined;
  const after = next ? s.view!(next) : undefined;
  if (!before && !after) return [];
  if (before && after && JSON.stringify(before) === JSON.stringify(after)) return [];
  const shardOf = (view: KubeObject) => s.viewShard?.(view) ?? '';
  if (before && after && shardOf(before) !== shardOf(after)) {
    return [
      { shard: shardOf(before), type: 'DELETED', ...withPlaceholderResourceVersion(before) },
      { shard: shardOf(after), type: 'ADDED', ...withPlaceholderResourceVersion(after) },
    ];
  }
  const view = (after ?? before)!;
  return [{ shard: shardOf(view), type: !before ? 'ADDED' : !after ? 'DELETED' : 'MODIFIED', ...withPlaceholderResourceVersion(view) }];
}

function withPlaceholderResourceVersion(obj: KubeObject): { json: string; placeholder: string } {
  const placeholder = `wharf-rv-${uniqueToken()}`;
  obj.metadata.resourceVersion = placeholder;
  return { json: JSON.stringify(obj), placeholder };
}

/** A stored value of the stored kind r, read at (namespace, name): the object, and whether it was written with an older key. */
function decodeValue<T extends KubeObject>(encryption: Encryption, r: ResourceInfo, namespace: string, name: string, value: string): { obj: T; stale: boolean } {
  const location = storageLocation(r.plural, r.group, namespace, name);
  const read = encryption.forResource(r.plural, r.group).fromStorage(value, location);
  let obj: T;
  try {
    obj = JSON.parse(read.json) as T;
  } catch (err) {
    throw new DecryptionError(location, `the stored value is not an object: ${(err as Error).message}`);
  }
  if (read.resourceVersion !== undefined) obj.metadata.resourceVersion = read.resourceVersion;
  const onRead = strategyFor(r.plural).onRead;
  return { obj: onRead ? (onRead(obj) as T) : obj, stale: read.stale };
}

/**
 * A change stream's entry of resource r (a stored kind, or another version of one), its object
 * decrypted when its kind is encrypted.
 */
export function decodeStreamEntry(entry: [string, string[]], resource: ResourceRef, encryption: Encryption = NO_ENCRYPTION): StoredEvent {
  const r = resolve(resource);
  const raw = streamEntryFields(entry);
  const [, namespace = '', name = ''] = raw.location?.split('|') ?? [];
  const { obj } = decodeValue(encryption, storedResource(r), namespace, name, raw.value);
  return { rv: raw.rv, type: raw.type, object: shown(r, obj) };
}

/**
 * Throws 410 Expired unless a watch can resume at `cursor`, given the compaction marker and the
 * first lost range after the cursor (the replies to Store.streamPositionReads).
 */
export function watchPositionVerdict(cursor: number, compacted: string | null, lost: string[] | null): void {
  const firstKept = Number(compacted ?? 0);
  if (cursor < firstKept) throw new ExpiredError(String(cursor), String(firstKept + 1));
  // The first skipped range ending after the cursor: the cursor lies inside it when it starts before.
  if (lost?.length && Number(lost[0]) < cursor) throw new ExpiredError(String(cursor), lost[1]);
}

/** Fields of a change stream's entry: t (event type), o (the stored value), k ("resource|namespace|name"). */
function streamEntryFields([id, fields]: [string, string[]]): { rv: number; type: StoredEvent['type']; value: string; location?: string } {
  let type = 'MODIFIED';
  let value = '{}';
  let location: string | undefined;
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 't') type = fields[i + 1];
    else if (fields[i] === 'o') value = fields[i + 1];
    else if (fields[i] === 'k') location = fields[i + 1];
  }
  return { rv: Number(id.split('-')[0]), type: type as StoredEvent['type'], value, location };
}

/** [a, b, c, d] -> [[a, b], [c, d]] */
function pairs<T>(flat: T[]): [T, T][] {
  return Array.from({ length: Math.floor(flat.length / 2) }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);
}

// A write's record id and its resourceVersion placeholder need only be unique and unguessable by
// clients: one random prefix per process and a counter, rather than a call into the random
// generator twice a write (7% of a busy scheduler's CPU in profiles).
const PROCESS_NONCE = randomBytes(12).toString('hex');
let tokenCounter = 0;

function uniqueToken(): string {
  return `${PROCESS_NONCE}${(tokenCounter++).toString(36)}`;
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** Kubernetes' generateName suffix: 5 characters from an alphabet without vowels or look-alikes. */
export function randomSuffix(length = 5): string {
  const bytes = randomBytes(length);
  let s = '';
  for (const b of bytes) s += ALPHANUMS[b % ALPHANUMS.length];
  return s;
}

export function upsertCondition<C extends { type: string; status: string; lastTransitionTime?: string }>(conditions: C[], c: C): C[] {
  const out = conditions.filter((x) => x.type !== c.type);
  const existing = conditions.find((x) => x.type === c.type);
  const merged = existing && existing.status === c.status && existing.lastTransitionTime ? { ...c, lastTransitionTime: existing.lastTransitionTime } : c;
  const index = conditions.findIndex((x) => x.type === c.type);
  if (index < 0) return [...out, merged];
  const copy = [...conditions];
  copy[index] = merged;
  return copy;
}

export { qualifiedName };

/** A delete's preconditions (uid, resourceVersion) against the object they name: 409 as Kubernetes words it. */
export function assertPreconditions(resource: ResourceRef, object: KubeObject, pre: Preconditions = {}): void {
  const r = resolve(resource);
  const name = object.metadata.name!;
  if (pre.uid && pre.uid !== object.metadata.uid) {
    throw new ConflictError(r.plural, name, r.group, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${object.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== object.metadata.resourceVersion) {
    throw new ConflictError(r.plural, name, r.group, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${object.metadata.resourceVersion}`);
  }
}
