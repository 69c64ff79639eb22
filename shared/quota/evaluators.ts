// Quota evaluators (Kubernetes pkg/quota/v1/evaluator/core and apiserver's generic object-count
// evaluator): for one kind, which quota resource names it charges, what one object uses, which
// writes it charges, what a pod must declare, and which quota scopes an object falls in. Pure;
// the admission (quota-check.ts) and the resource quota controller both measure with these.
import type { KubeObject } from '../types.ts';
import { type ResourceList, addLists, maxLists, parseList } from '../api/exact-quantity.ts';
import { COUNT_PREFIX, LEGACY_COUNTS } from './resource-names.ts';

/** One requirement on an object's scopes: a quota's `scopes` entry, or a scopeSelector expression. */
export interface ScopeRequirement {
  scopeName: string;
  operator: string;
  values?: string[];
}

export interface Evaluator {
  /** The kind's plural and group (the group resource it measures). */
  plural: string;
  group: string;
  /** The quota resource names among `names` this kind charges. */
  matchingResources(names: string[]): string[];
  /** What one object uses. */
  usage(obj: KubeObject, nowMs: number): ResourceList;
  /** Whether a write of this kind is charged (creates; updates only where usage may change). */
  handles(op: 'create' | 'update', obj: KubeObject, old: KubeObject | undefined): boolean;
  /** What the object lacks that a quota of these resources requires, or undefined. */
  constraints(required: string[], obj: KubeObject): string | undefined;
  /** Whether the object is in a scope; kinds without scopes are in none. */
  matchesScope(req: ScopeRequirement, obj: KubeObject): boolean;
}

/** Kinds quota never counts (Kubernetes' default ignored resources). */
const IGNORED = new Set(['events', 'events.events.k8s.io']);

/** The object-count name of a group resource: count/pods, count/deployments.apps. */
export function objectCountName(plural: string, group: string): string {
  return `${COUNT_PREFIX}${group ? `${plural}.${group}` : plural}`;
}

/** The group resource a count/ name counts ("count/deployments.apps" → deployments, apps), if it is one. */
export function parseObjectCountName(name: string): { plural: string; group: string } | undefined {
  if (!name.startsWith(COUNT_PREFIX)) return undefined;
  const rest = name.slice(COUNT_PREFIX.length);
  const dot = rest.indexOf('.');
  return dot < 0 ? { plural: rest, group: '' } : { plural: rest.slice(0, dot), group: rest.slice(dot + 1) };
}

const one = () => parseList({ x: '1' }).x;
const none = () => parseList({ x: '0' }).x;

/** generic.ObjectCountEvaluator: one per object, charged on create. */
function objectCountEvaluator(plural: string, group: string): Evaluator {
  const names = [objectCountName(plural, group)];
  if (!group && LEGACY_COUNTS.has(plural)) names.push(plural);
  return {
    plural,
    group,
    matchingResources: (input) => input.filter((n) => names.includes(n)),
    usage: () => Object.fromEntries(names.map((n) => [n, one()])),
    handles: (op) => op === 'create',
    constraints: () => undefined,
    matchesScope: () => false,
  };
}

// ---- services --------------------------------------------------------------------------

const SERVICE_RESOURCES = ['count/services', 'services', 'services.nodeports', 'services.loadbalancers'];

/** A Service: one service, and its node ports and load balancer when its type has them. */
export function serviceUsage(svc: KubeObject): ResourceList {
  const ports = Array.isArray(svc.spec?.ports) ? svc.spec.ports : [];
  const count = (n: number) => parseList({ x: String(n) }).x;
  const out: ResourceList = { 'count/services': one(), services: one(), 'services.loadbalancers': none(), 'services.nodeports': none() };
  switch (svc.spec?.type) {
    case 'NodePort':
      out['services.nodeports'] = count(ports.length);
      break;
    case 'LoadBalancer':
      // With allocation turned off only the ports that name a node port take one.
      out['services.nodeports'] = count(svc.spec.allocateLoadBalancerNodePorts === false ? ports.filter((p: any) => p?.nodePort).length : ports.length);
      out['services.loadbalancers'] = one();
      break;
  }
  return out;
}

const serviceEvaluator: Evaluator = {
  plural: 'services',
  group: '',
  matchingResources: (input) => input.filter((n) => SERVICE_RESOURCES.includes(n)),
  usage: (obj) => serviceUsage(obj),
  handles: (op) => op === 'create' || op === 'update',
  constraints: () => undefined,
  matchesScope: () => false,
};

// ---- pods ------------------------------------------------------------------------------

const POD_RESOURCES = new Set([
  'count/pods',
  'cpu',
  'memory',
  'ephemeral-storage',
  'requests.cpu',
  'requests.memory',
  'requests.ephemeral-storage',
  'limits.cpu',
  'limits.memory',
  'limits.ephemeral-storage',
  'pods',
]);

/** Quota names that, when limited, every container must request or limit explicitly (a Kubernetes wart it keeps). */
const VALIDATION_SET = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);

function isNativeResource(name: string): boolean {
  return !name.includes('/') || name.includes('kubernetes.io/');
}

/** requests.<extended resource>, the only form quota takes for extended resources. */
function isExtendedQuotaName(name: string): boolean {
  return name.startsWith('requests.') && !isNativeResource(name);
}

type Json = Record<string, any>;

const containers = (pod: KubeObject, init: boolean): Json[] => {
  const list = init ? pod.spec?.initContainers : pod.spec?.containers;
  return Array.isArray(list) ? list.filter((c: unknown) => c && typeof c === 'object') : [];
};

/** podComputeUsageHelper: the quota names a pod's (or one container's) requests and limits charge. */
export function computeUsage(requests: ResourceList, limits: ResourceList): ResourceList {
  const out: ResourceList = { pods: one() };
  for (const r of ['cpu', 'memory', 'ephemeral-storage']) {
    if (requests[r]) {
      out[r] = requests[r];
      out[`requests.${r}`] = requests[r];
    }
    if (limits[r]) out[`limits.${r}`] = limits[r];
  }
  for (const [r, q] of Object.entries(requests)) {
    if (r.startsWith('hugepages-')) {
      out[r] = q;
      out[`requests.${r}`] = q;
    } else if (!isNativeResource(r)) {
      out[`requests.${r}`] = q;
    }
  }
  return out;
}

/** resourcehelper.PodRequests / PodLimits: containers summed, the largest init container where more, plus overhead. */
export function podResources(pod: KubeObject): { requests: ResourceList; limits: ResourceList } {
  let requests: ResourceList = {};
  let limits: ResourceList = {};
  for (const c of containers(pod, false)) {
    requests = addLists(requests, parseList(c.resources?.requests));
    limits = addLists(limits, parseList(c.resources?.limits));
  }
  for (const c of containers(pod, true)) {
    requests = maxLists(requests, parseList(c.resources?.requests));
    limits = maxLists(limits, parseList(c.resources?.limits));
  }
  const overhead = parseList(pod.spec?.overhead);
  requests = addLists(requests, overhead);
  // Overhead adds to a limit only where the pod has one.
  for (const [k, v] of Object.entries(overhead)) if (k in limits) limits = addLists(limits, { [k]: v });
  return { requests, limits };
}

/**
 * QuotaV1Pod: a pod counts against compute quota until it is terminal, or until its deletion's
 * grace period has run out (a pod stuck terminating on a lost node must not hold its share).
 */
export function podCountsForQuota(pod: KubeObject, nowMs: number): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const deletion = pod.metadata?.deletionTimestamp;
  const grace = pod.metadata?.deletionGracePeriodSeconds;
  if (deletion && typeof grace === 'number' && nowMs > Date.parse(deletion) + grace * 1000) return false;
  return true;
}

/** PodUsageFunc: count/pods always (it counts every stored pod); the rest while the pod counts. */
export function podUsage(pod: KubeObject, nowMs: number): ResourceList {
  const out: ResourceList = { 'count/pods': one() };
  if (!podCountsForQuota(pod, nowMs)) return out;
  const { requests, limits } = podResources(pod);
  return { ...out, ...computeUsage(requests, limits) };
}

/** Whether the pod has an active deadline: the Terminating scope. */
export function isTerminating(pod: KubeObject): boolean {
  const d = pod.spec?.activeDeadlineSeconds;
  return typeof d === 'number' && d >= 0;
}

/** QoS BestEffort: no container requests or limits cpu or memory. */
export function isBestEffort(pod: KubeObject): boolean {
  return [...containers(pod, false), ...containers(pod, true)].every((c) => {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    return !['cpu', 'memory'].some((r) => r in req || r in lim);
  });
}

function usesCrossNamespaceAffinity(pod: KubeObject): boolean {
  const terms = (a: any): any[] => [
    ...(a?.requiredDuringSchedulingIgnoredDuringExecution ?? []),
    ...(a?.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((w: any) => w?.podAffinityTerm),
  ];
  const affinity = pod.spec?.affinity ?? {};
  return [...terms(affinity.podAffinity), ...terms(affinity.podAntiAffinity)].some((t) => t && ((t.namespaces ?? []).length || t.namespaceSelector));
}

/** podMatchesScopeFunc. PriorityClass compares the class name as a label selector would. */
export function podMatchesScope(req: ScopeRequirement, pod: KubeObject): boolean {
  switch (req.scopeName) {
    case 'Terminating':
      return isTerminating(pod);
    case 'NotTerminating':
      return !isTerminating(pod);
    case 'BestEffort':
      return isBestEffort(pod);
    case 'NotBestEffort':
      return !isBestEffort(pod);
    case 'CrossNamespacePodAffinity':
      return usesCrossNamespaceAffinity(pod);
    case 'PriorityClass': {
      const name: string = pod.spec?.priorityClassName ?? '';
      const values = req.values ?? [];
      switch (req.operator) {
        case 'Exists':
          return name !== '';
        case 'DoesNotExist':
          return name === '';
        case 'In':
          return name !== '' && values.includes(name);
        case 'NotIn':
          return name === '' || !values.includes(name);
      }
      return false;
    }
  }
  return false;
}

/** podEvaluator.Constraints: with cpu or memory quota'd, each container states it. */
export function podConstraints(required: string[], pod: KubeObject): string | undefined {
  const requiredSet = required.filter((r) => VALIDATION_SET.has(r));
  if (!requiredSet.length) return undefined;
  const missing = new Map<string, Set<string>>();
  for (const c of [...containers(pod, false), ...containers(pod, true)]) {
    const has = computeUsage(parseList(c.resources?.requests), parseList(c.resources?.limits));
    for (const r of requiredSet) {
      if (r in has) continue;
      if (!missing.has(r)) missing.set(r, new Set());
      missing.get(r)!.add(String(c.name));
    }
  }
  if (!missing.size) return undefined;
  const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
  return `must specify ${parts.join('; ')}`;
}

const podEvaluator: Evaluator = {
  plural: 'pods',
  group: '',
  matchingResources: (input) => input.filter((n) => POD_RESOURCES.has(n) || n.startsWith('hugepages-') || n.startsWith('requests.hugepages-') || isExtendedQuotaName(n)),
  usage: podUsage,
  // A pod's resources never change; an update moves it between scopes only by its deadline.
  handles: (op, obj, old) => op === 'create' || (!!old && isTerminating(old) !== isTerminating(obj)),
  constraints: podConstraints,
  matchesScope: podMatchesScope,
};

/** The evaluator of a namespaced group resource, or undefined for kinds quota ignores. */
export function evaluatorFor(plural: string, group: string): Evaluator | undefined {
  if (IGNORED.has(group ? `${plural}.${group}` : plural)) return undefined;
  if (!group && plural === 'pods') return podEvaluator;
  if (!group && plural === 'services') return serviceEvaluator;
  return objectCountEvaluator(plural, group);
}

/** A quota's scopes and scope selector as one list of requirements (getScopeSelectorsFromQuota). */
export function scopeRequirements(quota: KubeObject): ScopeRequirement[] {
  const out: ScopeRequirement[] = [];
  for (const s of Array.isArray(quota.spec?.scopes) ? quota.spec.scopes : []) out.push({ scopeName: String(s), operator: 'Exists' });
  for (const e of Array.isArray(quota.spec?.scopeSelector?.matchExpressions) ? quota.spec.scopeSelector.matchExpressions : []) {
    if (e && typeof e === 'object') out.push({ scopeName: String(e.scopeName ?? ''), operator: String(e.operator ?? ''), values: Array.isArray(e.values) ? e.values.map(String) : undefined });
  }
  return out;
}

/** generic.Matches: the quota limits something this kind charges, and the object is in all its scopes. */
export function quotaMatches(ev: Evaluator, quota: KubeObject, obj: KubeObject): boolean {
  const hard = Object.keys(quota.status?.hard ?? {});
  if (!ev.matchingResources(hard).length) return false;
  return scopeRequirements(quota).every((req) => ev.matchesScope(req, obj));
}
