// The state store: Redis in etcd's role. Objects live in one hash per (resource, namespace);
// every write goes through write-object.lua, which compares-and-sets the resourceVersion and
// appends the watch event in the same atomic step. Object semantics Kubernetes users rely on —
// uid, generation, status subresource, finalizers, graceful pod deletion — are decided here in
// TypeScript so that every client (API server, controllers, agents) gets the same behaviour.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { KubeObject, Pod, OwnerReference } from '../types.ts';
import { Keys } from '../keys.ts';
import { type ResourceInfo, RESOURCES, mustFindByPlural, qualifiedName } from '../api/resources.ts';
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  isConflict,
} from '../errors.ts';
import { scriptsFor, decodeScriptError, type ScriptRunner } from './scripts.ts';
import { podRequests, nodeAllocatable } from '../api/podutil.ts';
import { deepEqual, now } from '../util.ts';

export type ResourceRef = ResourceInfo | string;

export interface StoredEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
}

export interface DeleteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface DeleteResult {
  object: KubeObject;
  /** true when the object is gone; false when it waits for finalizers or graceful termination. */
  removed: boolean;
}

export interface UpdateOptions {
  subresource?: 'status';
  dryRun?: boolean;
}

/** A unique value (a cluster IP, a node port) is held by another object. */
export class ClaimedError extends Error {
  constructor(readonly claim: string) {
    super(`${claim} is already allocated`);
    this.name = 'ClaimedError';
  }
}

/**
 * The values an object holds exclusively across the cluster: a Service's cluster IP and node
 * ports. The write script takes and releases them atomically with the object.
 */
export function claimsOf(r: ResourceInfo, obj: KubeObject | undefined): string[] {
  if (!obj || r.plural !== 'services') return [];
  const out: string[] = [];
  const ip = obj.spec?.clusterIP;
  if (typeof ip === 'string' && ip && ip !== 'None') out.push(`clusterip:${ip}`);
  for (const p of (obj.spec?.ports ?? []) as any[]) if (p?.nodePort) out.push(`nodeport:${p.protocol ?? 'TCP'}:${p.nodePort}`);
  return out;
}

/** A bind found the node full (or gone): the scheduler tries another node. */
export class InsufficientCapacityError extends Error {
  constructor(readonly node: string, readonly resource: string) {
    super(`node ${node} has insufficient ${resource}`);
    this.name = 'InsufficientCapacityError';
  }
}

// Kinds whose status is written only through the status subresource.
const STATUS_SUBRESOURCE = new Set(['pods', 'nodes', 'services', 'namespaces', 'deployments', 'replicasets', 'jobs', 'cronjobs']);

// Kinds whose spec changes are counted in metadata.generation (Kubernetes sets none on the rest).
const GENERATION = new Set(['deployments', 'replicasets', 'jobs', 'cronjobs', 'poddisruptionbudgets']);

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

function resolve(r: ResourceRef): ResourceInfo {
  return typeof r === 'string' ? mustFindByPlural(r) : r;
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

function isTerminalPod(obj: KubeObject | undefined): boolean {
  const phase = (obj as Pod | undefined)?.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

type UsageOp =
  | { op: '' }
  | { op: 'charge' | 'force-charge'; node: string; uid: string; cpu: number; mem: number }
  | { op: 'release'; node: string; uid: string }
  | { op: 'allocatable'; node: string; cpu: number; mem: number; pods: number };

export class Store {
  private readonly scripts: ScriptRunner;

  constructor(
    readonly redis: Redis,
    readonly keys: Keys,
    private readonly watchHistory = 20_000,
  ) {
    this.scripts = scriptsFor(redis);
  }

  async currentResourceVersion(): Promise<number> {
    return Number((await this.redis.get(this.keys.resourceVersion)) ?? 0);
  }

  async get<T extends KubeObject = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string): Promise<T | null> {
    const r = resolve(resource);
    const json = await this.redis.hget(this.keys.objects(r.plural, nsOf(r, namespace)), name);
    return json ? (JSON.parse(json) as T) : null;
  }

  async mustGet<T extends KubeObject = KubeObject>(resource: ResourceRef, namespace: string | undefined, name: string): Promise<T> {
    const r = resolve(resource);
    const obj = await this.get<T>(r, namespace, name);
    if (!obj) throw new NotFoundError(r.plural, name, r.group);
    return obj;
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
    const items = reply.slice(1).map((json) => JSON.parse(json) as T);
    items.sort((a, b) => {
      const an = `${a.metadata.namespace ?? ''}/${a.metadata.name}`;
      const bn = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
      return an < bn ? -1 : an > bn ? 1 : 0;
    });
    return { items, resourceVersion: reply[0] };
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
      [this.keys.objects(r.plural, ''), ns, r.namespaced ? '1' : '0', afterKey, String(limit), min, max],
    )) as (string | number)[];
    return {
      resourceVersion: String(reply[0]),
      remaining: Number(reply[1]),
      lastKey: String(reply[2]),
      items: (reply.slice(3) as string[]).map((json) => JSON.parse(json) as T),
    };
  }

  /**
   * Adds the objects written before the object index existed (an upgraded cluster) to it, a chunk
   * at a time, then marks each resource's index complete so paged lists start using it. Several
   * processes may run this at once, and one killed midway leaves work the next run finishes:
   * indexing a key twice changes nothing, and the marker is set only after a resource's last chunk.
   * Returns the resources that had objects to index.
   */
  async buildObjectIndex(resources: ResourceInfo[] = RESOURCES, chunk = 500): Promise<string[]> {
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

  /** Where the object with this uid lives, if it still exists. */
  async locateUid(uid: string): Promise<{ resource: string; namespace: string; name: string } | null> {
    const v = await this.redis.hget(this.keys.uids, uid);
    if (!v) return null;
    const [resource, namespace, name] = v.split('|');
    return { resource, namespace, name };
  }

  async create<T extends KubeObject>(resource: ResourceRef, input: T, opts: { dryRun?: boolean } = {}): Promise<T> {
    const r = resolve(resource);
    const obj = structuredClone(input);
    const meta = obj.metadata;
    meta.namespace = r.namespaced ? meta.namespace || 'default' : undefined;
    if (!r.namespaced) delete meta.namespace;
    meta.uid = randomUUID();
    meta.creationTimestamp = now();
    if (GENERATION.has(r.plural)) meta.generation = 1;
    else delete meta.generation;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    const generated = !meta.name && !!meta.generateName;
    for (let attempt = 0; ; attempt++) {
      if (generated) meta.name = `${meta.generateName}${randomSuffix()}`;
      if (opts.dryRun) {
        if (await this.get(r, meta.namespace, meta.name!)) throw new AlreadyExistsError(r.plural, meta.name!, r.group);
        meta.resourceVersion = '';
        return obj;
      }
      try {
        return await this.write(r, 'create', obj, undefined);
      } catch (err) {
        if (generated && err instanceof AlreadyExistsError && attempt < 8) continue;
        throw err;
      }
    }
  }

  /**
   * Replaces an object. A resourceVersion in the input is a precondition (409 when stale); without
   * one the update is unconditional. Through the main resource, status changes are ignored for kinds
   * with a status subresource; through 'status', only status changes are taken.
   */
  async update<T extends KubeObject>(resource: ResourceRef, input: T, opts: UpdateOptions = {}): Promise<T> {
    const r = resolve(resource);
    const ns = nsOf(r, input.metadata.namespace);
    const name = input.metadata.name!;
    for (;;) {
      const old = await this.mustGet<T>(r, ns, name);
      const wanted = input.metadata.resourceVersion;
      if (wanted && wanted !== old.metadata.resourceVersion) throw new ConflictError(r.plural, name, r.group);
      if (input.metadata.uid && input.metadata.uid !== old.metadata.uid) {
        throw new ConflictError(r.plural, name, r.group, `Precondition failed: UID in precondition: ${input.metadata.uid}, UID in object meta: ${old.metadata.uid}`);
      }
      const next = this.merge(r, old, input, opts.subresource);
      if (opts.dryRun) return next;
      try {
        return await this.commit(r, old, next);
      } catch (err) {
        // Unconditional updates retry on a race; conditional ones report it.
        if (!wanted && isConflict(err)) continue;
        throw err;
      }
    }
  }

  /**
   * Read-modify-write with retries on conflict: mutate gets a copy of the current object and
   * returns the desired one (or null for "no change"). This is how controllers write.
   */
  async guaranteedUpdate<T extends KubeObject>(
    resource: ResourceRef,
    namespace: string | undefined,
    name: string,
    mutate: (current: T) => T | null | Promise<T | null>,
    opts: UpdateOptions = {},
  ): Promise<T> {
    const r = resolve(resource);
    for (let attempt = 0; ; attempt++) {
      const old = await this.mustGet<T>(r, namespace, name);
      const desired = await mutate(structuredClone(old));
      if (!desired) return old;
      const next = this.merge(r, old, desired, opts.subresource);
      if (deepEqual(next, old)) return old;
      if (opts.dryRun) return next;
      try {
        return await this.commit(r, old, next);
      } catch (err) {
        if (isConflict(err) && attempt < 50) continue;
        throw err;
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

  async delete(resource: ResourceRef, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<DeleteResult> {
    const r = resolve(resource);
    for (;;) {
      const old = await this.mustGet(r, namespace, name);
      assertPreconditions(r, old, opts.preconditions);
      const plan = planDeletion(r, old, opts);
      if (opts.dryRun) return { object: plan.remove ? old : plan.next!, removed: plan.remove };
      try {
        if (plan.remove) {
          const object = await this.write(r, 'delete', structuredClone(old), old);
          return { object, removed: true };
        }
        if (deepEqual(plan.next, old)) return { object: old, removed: false };
        const object = await this.write(r, 'update', plan.next!, old);
        return { object, removed: false };
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
    return entries.map(decodeStreamEntry);
  }

  /** The resourceVersion of the newest event on this resource's stream (0 when it has none). */
  async latestResourceVersion(resource: ResourceRef): Promise<number> {
    const r = resolve(resource);
    const [last] = (await this.redis.xrevrange(this.keys.stream(r.plural), '+', '-', 'COUNT', 1)) as [string, string[]][];
    return last ? Number(last[0].split('-')[0]) : 0;
  }

  /** The highest resourceVersion whose events may have been compacted away for this resource. */
  async compactedResourceVersion(resource: ResourceRef): Promise<number> {
    const r = resolve(resource);
    return Number((await this.redis.get(this.keys.compacted(r.plural))) ?? 0);
  }

  // ---- internals -------------------------------------------------------------------------

  /** The object a write should store, given the current one and the caller's version. */
  private merge<T extends KubeObject>(r: ResourceInfo, old: T, input: T, subresource?: 'status'): T {
    if (subresource === 'status') {
      const next = structuredClone(old);
      next.status = structuredClone(input.status);
      return next;
    }
    const next = structuredClone(input);
    next.apiVersion = old.apiVersion;
    next.kind = old.kind;
    const meta = next.metadata;
    const o = old.metadata;
    meta.name = o.name;
    if (o.namespace) meta.namespace = o.namespace;
    meta.uid = o.uid;
    meta.creationTimestamp = o.creationTimestamp;
    meta.resourceVersion = o.resourceVersion;
    meta.generation = o.generation;
    if (o.deletionTimestamp) {
      meta.deletionTimestamp = o.deletionTimestamp;
      meta.deletionGracePeriodSeconds = o.deletionGracePeriodSeconds;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    if (STATUS_SUBRESOURCE.has(r.plural)) {
      if (old.status === undefined) delete next.status;
      else next.status = structuredClone(old.status);
    }
    if (GENERATION.has(r.plural) && !deepEqual(next.spec, old.spec)) meta.generation = (o.generation ?? 1) + 1;
    if (!GENERATION.has(r.plural)) delete meta.generation;
    return next;
  }

  /** Writes an update, turning it into the final removal when the last finalizer has gone. */
  private async commit<T extends KubeObject>(r: ResourceInfo, old: T, next: T): Promise<T> {
    const meta = next.metadata;
    const waitingForTermination =
      (r.plural === 'pods' && (meta.deletionGracePeriodSeconds ?? 0) > 0) ||
      (r.plural === 'namespaces' && (next.spec?.finalizers ?? []).length > 0);
    if (meta.deletionTimestamp && (meta.finalizers ?? []).length === 0 && !waitingForTermination) {
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
    const meta = obj.metadata;
    const ns = nsOf(r, meta.namespace);
    const name = meta.name!;
    const { pre, post } = splitAtResourceVersion(obj);
    const usage = usageFor(r, op, obj, old, !!opts.checkCapacity);
    const before = ownerUids(old);
    const after = op === 'delete' ? new Set<string>() : ownerUids(obj);
    const adds = [...after].filter((u) => !before.has(u));
    const removes = [...before].filter((u) => !after.has(u));
    const heldBefore = new Set(claimsOf(r, old));
    const heldAfter = new Set(op === 'delete' ? [] : claimsOf(r, obj));
    const takes = [...heldAfter].filter((c) => !heldBefore.has(c));
    const gives = [...heldBefore].filter((c) => !heldAfter.has(c));
    const usageKey = usage.op === '' ? this.keys.resourceVersion : this.keys.nodeUsage(usage.node);
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
      this.keys.writeRecord(randomBytes(12).toString('base64url')),
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
      ...takes,
      ...gives,
    ];
    try {
      const rv = await this.scripts.run('writeObject', keys, args);
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

/** What deleting `old` means: remove it now, or mark it and wait (finalizers, graceful pod stop). */
export function planDeletion(r: ResourceInfo, old: KubeObject, opts: DeleteOptions): { remove: boolean; next?: KubeObject } {
  const next = structuredClone(old);
  const meta = next.metadata;
  const finalizers = [...(meta.finalizers ?? [])];
  const policy = opts.propagationPolicy ?? 'Background';
  const alreadyDeleting = !!meta.deletionTimestamp;
  if (!alreadyDeleting) {
    if (policy === 'Orphan' && !finalizers.includes(ORPHAN_FINALIZER)) finalizers.push(ORPHAN_FINALIZER);
    if (policy === 'Foreground' && !finalizers.includes(FOREGROUND_FINALIZER)) finalizers.push(FOREGROUND_FINALIZER);
  }
  let grace = 0;
  if (r.plural === 'pods') {
    const pod = old as Pod;
    const requested = opts.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    // An unbound or finished pod has nothing to stop.
    grace = !pod.spec.nodeName || isTerminalPod(pod) ? 0 : Math.max(0, requested);
    if (alreadyDeleting) grace = Math.min(grace, meta.deletionGracePeriodSeconds ?? grace);
  }
  // A namespace also waits for its spec.finalizers: the namespace controller empties it first.
  const namespaceFinalizers = r.plural === 'namespaces' ? (old.spec?.finalizers ?? []).length : 0;
  if (finalizers.length === 0 && grace === 0 && namespaceFinalizers === 0) return { remove: true };
  if (r.plural === 'namespaces') next.status = { ...next.status, phase: 'Terminating' };
  meta.finalizers = finalizers.length ? finalizers : undefined;
  if (!meta.finalizers) delete meta.finalizers;
  if (!alreadyDeleting || r.plural === 'pods') {
    meta.deletionTimestamp = alreadyDeleting && meta.deletionGracePeriodSeconds === grace
      ? meta.deletionTimestamp
      : new Date(Date.now() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    meta.deletionGracePeriodSeconds = grace;
  }
  return { remove: false, next };
}

function usageFor(r: ResourceInfo, op: string, obj: KubeObject, old: KubeObject | undefined, checkCapacity: boolean): UsageOp {
  if (r.plural === 'nodes') {
    const node = obj.metadata.name!;
    if (op === 'delete') return { op: 'allocatable', node, cpu: 0, mem: 0, pods: 0 };
    const alloc = nodeAllocatable(obj);
    return alloc ? { op: 'allocatable', node, cpu: alloc.cpuMillis, mem: alloc.memoryBytes, pods: alloc.pods } : { op: '' };
  }
  if (r.plural !== 'pods') return { op: '' };
  const pod = obj as Pod;
  const node = pod.spec?.nodeName;
  if (!node) return { op: '' };
  const uid = pod.metadata.uid!;
  if (op === 'delete' || isTerminalPod(pod)) return { op: 'release', node, uid };
  if (!(old as Pod | undefined)?.spec?.nodeName) {
    const req = podRequests(pod);
    return { op: checkCapacity ? 'charge' : 'force-charge', node, uid, cpu: req.cpuMillis, mem: req.memoryBytes };
  }
  return { op: '' };
}

/** Serialises obj with a unique placeholder for its resourceVersion, so the Lua script can set it without re-encoding JSON. */
function splitAtResourceVersion(obj: KubeObject): { pre: string; post: string } {
  const token = `wharf-rv-${randomBytes(12).toString('hex')}`;
  obj.metadata.resourceVersion = token;
  const json = JSON.stringify(obj);
  const quoted = `"${token}"`;
  const i = json.indexOf(quoted);
  if (i < 0 || json.indexOf(quoted, i + 1) >= 0) throw new Error('resourceVersion placeholder not unique');
  return { pre: json.slice(0, i + 1), post: json.slice(i + quoted.length - 1) };
}

export function decodeStreamEntry([id, fields]: [string, string[]]): StoredEvent {
  let type = 'MODIFIED';
  let json = '{}';
  for (let i = 0; i < fields.length; i += 2) {
    if (fields[i] === 't') type = fields[i + 1];
    else if (fields[i] === 'o') json = fields[i + 1];
  }
  return { rv: Number(id.split('-')[0]), type: type as StoredEvent['type'], object: JSON.parse(json) };
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
export function assertPreconditions(resource: ResourceRef, object: KubeObject, pre: DeleteOptions['preconditions'] = {}): void {
  const r = resolve(resource);
  const name = object.metadata.name!;
  if (pre.uid && pre.uid !== object.metadata.uid) {
    throw new ConflictError(r.plural, name, r.group, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${object.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== object.metadata.resourceVersion) {
    throw new ConflictError(r.plural, name, r.group, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${object.metadata.resourceVersion}`);
  }
}
