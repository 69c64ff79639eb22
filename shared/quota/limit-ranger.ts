// The LimitRanger admission plugin's decisions (Kubernetes plugin/pkg/admission/limitranger),
// pure over a pod and its namespace's LimitRanges: the default requests and limits a container
// that sets none gets (and the annotation saying so), then the min / max / maxLimitRequestRatio
// bounds per container and per pod, in Kubernetes' words. Also the LimitRange kind's own defaults
// (SetDefaults_LimitRangeItem). The store runs it for every pod create (see kinds/pod.ts).
import type { KubeObject } from '../types.ts';
import type { ClusterReader } from '../registry/strategy.ts';
import { ForbiddenError } from '../errors.ts';
import {
  type Quantity,
  type ResourceList,
  addLists,
  formatQuantity,
  maxLists,
  milliValueOf,
  parseList,
  tryParseExact,
} from '../api/exact-quantity.ts';

const isValid = (v: unknown) => tryParseExact(v) !== undefined;

export const LIMIT_RANGER_ANNOTATION = 'kubernetes.io/limit-ranger';

export const LIMIT_TYPES = ['Pod', 'Container', 'PersistentVolumeClaim'] as const;

type Json = Record<string, any>;

const items = (lr: KubeObject): Json[] => (Array.isArray(lr.spec?.limits) ? lr.spec.limits.filter((i: unknown) => i && typeof i === 'object') : []);
const containersOf = (pod: KubeObject, init: boolean): Json[] => {
  const list = init ? pod.spec?.initContainers : pod.spec?.containers;
  return Array.isArray(list) ? list.filter((c: unknown) => c && typeof c === 'object') : [];
};

/**
 * SetDefaults_LimitRangeItem, for Container items: a missing default limit is the max, a missing
 * default request is the default limit, else the min. Idempotent.
 */
export function defaultLimitRange(lr: KubeObject): void {
  for (const item of items(lr)) {
    if (item.type !== 'Container') continue;
    item.default = item.default && typeof item.default === 'object' ? item.default : {};
    item.defaultRequest = item.defaultRequest && typeof item.defaultRequest === 'object' ? item.defaultRequest : {};
    // Only quantities are carried over: a bad one is reported once, where it was written.
    const copy = (from: unknown, to: Json) => {
      for (const [k, v] of Object.entries(from && typeof from === 'object' ? from : {})) if (!(k in to) && isValid(v)) to[k] = v;
    };
    copy(item.max, item.default);
    copy(item.default, item.defaultRequest);
    copy(item.min, item.defaultRequest);
    if (!Object.keys(item.default).length) delete item.default;
    if (!Object.keys(item.defaultRequest).length) delete item.defaultRequest;
  }
}

/** The requests and limits a container without its own gets from one LimitRange (defaultContainerResourceRequirements). */
export function containerDefaults(lr: KubeObject): { requests: ResourceList; limits: ResourceList } {
  let requests: ResourceList = {};
  let limits: ResourceList = {};
  for (const item of items(lr)) {
    if (item.type !== 'Container') continue;
    requests = { ...requests, ...parseList(item.defaultRequest) };
    limits = { ...limits, ...parseList(item.default) };
  }
  return { requests, limits };
}

/** Sets what one container lacks; returns the annotation fragments ("cpu, memory request for container c"). */
function mergeContainer(c: Json, defaults: { requests: ResourceList; limits: ResourceList }, prefix: string): string[] {
  if (!c.resources || typeof c.resources !== 'object') c.resources = {};
  const res = c.resources;
  const setRequests: string[] = [];
  const setLimits: string[] = [];
  for (const [k, v] of Object.entries(defaults.limits)) {
    res.limits = res.limits && typeof res.limits === 'object' ? res.limits : {};
    if (!(k in res.limits)) {
      res.limits[k] = formatQuantity(v);
      setLimits.push(k);
    }
  }
  for (const [k, v] of Object.entries(defaults.requests)) {
    res.requests = res.requests && typeof res.requests === 'object' ? res.requests : {};
    if (!(k in res.requests)) {
      res.requests[k] = formatQuantity(v);
      setRequests.push(k);
    }
  }
  if (res.limits && !Object.keys(res.limits).length) delete res.limits;
  if (res.requests && !Object.keys(res.requests).length) delete res.requests;
  const out: string[] = [];
  if (setRequests.length) out.push(`${setRequests.sort().join(', ')} request for ${prefix} ${c.name}`);
  if (setLimits.length) out.push(`${setLimits.sort().join(', ')} limit for ${prefix} ${c.name}`);
  return out;
}

/**
 * The LimitRanger's mutation for one LimitRange (mergePodResourceRequirements): each container
 * and init container without a request or limit of a resource gets the default, and the pod is
 * annotated with what was set. Returns whether anything changed.
 */
export function applyLimitRangeDefaults(pod: KubeObject, lr: KubeObject): boolean {
  const defaults = containerDefaults(lr);
  if (!Object.keys(defaults.requests).length && !Object.keys(defaults.limits).length) return false;
  const notes: string[] = [];
  for (const c of containersOf(pod, false)) notes.push(...mergeContainer(c, defaults, 'container'));
  for (const c of containersOf(pod, true)) notes.push(...mergeContainer(c, defaults, 'init container'));
  if (!notes.length) return false;
  pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [LIMIT_RANGER_ANNOTATION]: `LimitRanger plugin set: ${notes.join('; ')}` };
  return true;
}

// ---- validation (PodValidateLimitFunc) -----------------------------------------------------

/** Requests and limits of a container as written. */
function containerLists(c: Json): { requests: ResourceList; limits: ResourceList } {
  return { requests: parseList(c.resources?.requests), limits: parseList(c.resources?.limits) };
}

const show = (q: Quantity) => formatQuantity(q);

function minConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests[name];
  const lim = limits[name];
  if (!req) return `minimum ${name} usage per ${type} is ${show(enforced)}.  No request is specified`;
  if (milliValueOf(req) < milliValueOf(enforced)) return `minimum ${name} usage per ${type} is ${show(enforced)}, but request is ${show(req)}`;
  if (lim && milliValueOf(lim) < milliValueOf(enforced)) return `minimum ${name} usage per ${type} is ${show(enforced)}, but limit is ${show(lim)}`;
  return undefined;
}

function maxConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests[name];
  const lim = limits[name];
  if (!lim) return `maximum ${name} usage per ${type} is ${show(enforced)}.  No limit is specified`;
  if (milliValueOf(lim) > milliValueOf(enforced)) return `maximum ${name} usage per ${type} is ${show(enforced)}, but limit is ${show(lim)}`;
  if (req && milliValueOf(req) > milliValueOf(enforced)) return `maximum ${name} usage per ${type} is ${show(enforced)}, but request is ${show(req)}`;
  return undefined;
}

function ratioConstraint(type: string, name: string, enforced: Quantity, requests: ResourceList, limits: ResourceList): string | undefined {
  const req = requests[name];
  const lim = limits[name];
  if (!req || req.nanos === 0n) return `${name} max limit to request ratio per ${type} is ${show(enforced)}, but no request is specified or request is 0`;
  if (!lim || lim.nanos === 0n) return `${name} max limit to request ratio per ${type} is ${show(enforced)}, but no limit is specified or limit is 0`;
  const ratio = Number(milliValueOf(lim)) / Number(milliValueOf(req));
  if (ratio * 1000 > Number(milliValueOf(enforced))) return `${name} max limit to request ratio per ${type} is ${show(enforced)}, but provided ratio is ${ratio.toFixed(6)}`;
  return undefined;
}

/** Each constraint of one item over one requests/limits pair, in resource-name order. */
function checkItem(item: Json, requests: ResourceList, limits: ResourceList): string[] {
  const out: string[] = [];
  const type = String(item.type);
  const each = (list: unknown, check: typeof minConstraint) => {
    const parsed = parseList(list as Record<string, unknown>);
    for (const name of Object.keys(parsed).sort()) {
      const err = check(type, name, parsed[name], requests, limits);
      if (err) out.push(err);
    }
  };
  each(item.min, minConstraint);
  each(item.max, maxConstraint);
  each(item.maxLimitRequestRatio, ratioConstraint);
  return out;
}

/** A pod's requests and limits: containers summed, or the largest init container where that is more. */
export function podRequestsAndLimits(pod: KubeObject): { requests: ResourceList; limits: ResourceList } {
  let requests: ResourceList = {};
  let limits: ResourceList = {};
  for (const c of containersOf(pod, false)) {
    const l = containerLists(c);
    requests = addLists(requests, l.requests);
    limits = addLists(limits, l.limits);
  }
  for (const c of containersOf(pod, true)) {
    const l = containerLists(c);
    requests = maxLists(requests, l.requests);
    limits = maxLists(limits, l.limits);
  }
  return { requests, limits };
}

/** Every bound of one LimitRange the pod breaks, worded as Kubernetes' LimitRanger words them. */
export function limitRangeViolations(lr: KubeObject, pod: KubeObject): string[] {
  const out: string[] = [];
  for (const item of items(lr)) {
    if (item.type === 'Container') {
      for (const c of [...containersOf(pod, false), ...containersOf(pod, true)]) {
        const l = containerLists(c);
        out.push(...checkItem(item, l.requests, l.limits));
      }
    }
    if (item.type === 'Pod') {
      const l = podRequestsAndLimits(pod);
      out.push(...checkItem(item, l.requests, l.limits));
    }
  }
  return out;
}

/** utilerrors.NewAggregate(...).Error(): one message as is, several deduplicated in brackets. */
export function aggregateMessage(messages: string[]): string {
  const unique = [...new Set(messages)];
  return unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
}


/**
 * The LimitRanger admission for a new pod: each LimitRange of its namespace (in name order) sets
 * the defaults the pod's containers lack, then every bound is checked. Returns whether the pod
 * changed; throws the 403 Kubernetes words (`pods "x" is forbidden: maximum cpu usage per
 * Container is 500m, but limit is 1`).
 */
export async function admitLimitRanges(pod: KubeObject, reader: Pick<ClusterReader, 'list'>): Promise<boolean> {
  const namespace = pod.metadata.namespace;
  if (!namespace) return false;
  const { items } = await reader.list('limitranges', namespace);
  if (!items.length) return false;
  let changed = false;
  for (const lr of items) changed = applyLimitRangeDefaults(pod, lr) || changed;
  const violations = items.flatMap((lr) => limitRangeViolations(lr, pod));
  if (violations.length) {
    const name = pod.metadata.name ?? '';
    throw new ForbiddenError(`pods "${name}" is forbidden: ${aggregateMessage(violations)}`, { name, group: '', kind: 'pods' });
  }
  return changed;
}
