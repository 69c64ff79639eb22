// Scheduling as small pure plugins over a snapshot, as kube-scheduler's framework: each filter
// says whether a pod fits a node (and why not), each scorer ranks the nodes that fit.
import type { LabelSelector, Node, Pod, Taint } from '../../shared/types.ts';
import { podRequests, tolerates } from '../../shared/api/podutil.ts';
import { selectorMatches, selectorRequirements } from '../../shared/api/selectors.ts';
import { nodeSelectorTermMatches, requiredNodeAffinityMatches } from '../../shared/api/node-affinity.ts';

export interface NodeInfo {
  node: Node;
  allocatable: { cpuMillis: number; memoryBytes: number; pods: number };
  used: { cpuMillis: number; memoryBytes: number; pods: number };
  /** Pods bound to the node that are not terminal, when the snapshot has read them (inter-pod plugins need them). */
  pods?: Pod[];
  /**
   * Those of `pods` with inter-pod terms of their own, kept by the scheduler's cache as pods come
   * and go (kube-scheduler's NodeInfo.PodsWithAffinity), with the pods array they were taken from:
   * a copy of the NodeInfo with other pods (preemption's what-ifs) derives its own.
   */
  podsWithAffinity?: { of: Pod[]; pods: Pod[] };
  /**
   * What the node filters read of the Node, taken from it once as the cache applies it
   * (nodeTraits): a cycle reads them for hundreds of nodes a pod, and walking each Node's
   * conditions and spec, objects far apart in the heap, cost more than the rest of the filters.
   * A NodeInfo made without them has them derived from its node when read.
   */
  traits?: NodeTraits;
}

export interface NodeTraits {
  /** The status of the node's Ready condition (undefined: none). */
  ready: string | undefined;
  unschedulable: boolean;
  taints: Taint[];
}

const NO_TAINTS: Taint[] = [];

export function nodeTraits(node: Node): NodeTraits {
  const taints = node.spec?.taints;
  return { ready: readyCondition(node)?.status, unschedulable: !!node.spec?.unschedulable, taints: taints?.length ? taints : NO_TAINTS };
}

const traitsOf = (info: NodeInfo): NodeTraits => info.traits ?? nodeTraits(info.node);

export type FilterResult = { fits: true } | { fits: false; reason: string; reasons: string[] };

function unfit(...reasons: string[]): FilterResult {
  return { fits: false, reason: reasons.join(', '), reasons };
}

/** What a preFilter or preScore returns when the plugin has nothing to say about this pod (kube-scheduler's Skip status): its filter or score is not run. */
export const SKIP = Symbol('skip');

export interface FilterPlugin {
  name: string;
  /** Computed once per scheduling cycle over every node; what it returns is handed to filter as `state`, or SKIP. */
  preFilter?(pod: Pod, nodes: NodeInfo[]): unknown;
  filter(pod: Pod, info: NodeInfo, state?: any): FilterResult;
}

export interface ScorePlugin {
  name: string;
  weight: number;
  /** Computed once per cycle over all nodes and the feasible ones; handed to score as `state`, or SKIP. */
  preScore?(pod: Pod, nodes: NodeInfo[], feasible: NodeInfo[]): unknown;
  /** 0..100 after normalize (or directly, without one), higher is better. */
  score(pod: Pod, info: NodeInfo, state?: any): number;
  /** Maps the raw scores of the feasible nodes onto 0..100 (kube-scheduler's NormalizeScore). */
  normalize?(scores: number[]): number[];
}

const FITS: FilterResult = { fits: true };

// A pod's requests are parsed once per scheduling cycle, not once per node: quantity parsing was
// the largest single cost of a cycle. Pods in a snapshot are never mutated, so the cache holds.
const requestsCache = new WeakMap<Pod, ReturnType<typeof podRequests>>();
export function requestsOf(pod: Pod): ReturnType<typeof podRequests> {
  let req = requestsCache.get(pod);
  if (!req) requestsCache.set(pod, (req = podRequests(pod)));
  return req;
}

export const hasPodAffinityTerms = (p: Pod): boolean => !!(p.spec.affinity?.podAffinity || p.spec.affinity?.podAntiAffinity);
// The pods of a node that carry inter-pod terms: a pod without terms of its own need only look at
// these. The scheduler's cache keeps them; a NodeInfo made elsewhere (preemption's what-ifs, tests)
// has them derived once per pods array, which is never changed in place.
const affinityPodsCache = new WeakMap<Pod[], Pod[]>();
export function podsWithAffinity(info: NodeInfo): Pod[] {
  if (info.podsWithAffinity && info.podsWithAffinity.of === info.pods) return info.podsWithAffinity.pods;
  const all = info.pods;
  if (!all) return [];
  let pods = affinityPodsCache.get(all);
  if (!pods) affinityPodsCache.set(all, (pods = all.filter(hasPodAffinityTerms)));
  return pods;
}

export function readyCondition(node: Node) {
  for (const c of node.status?.conditions ?? []) if (c.type === 'Ready') return c;
  return undefined;
}

export const nodeReady: FilterPlugin = {
  name: 'NodeReady',
  filter(pod, info) {
    const { ready } = traitsOf(info);
    if (ready === 'True') return FITS;
    // A node that is not ready is tainted as such; pods that tolerate the taint may still go there.
    const key = ready === 'Unknown' ? 'node.kubernetes.io/unreachable' : 'node.kubernetes.io/not-ready';
    return tolerates(pod.spec.tolerations, { key, effect: 'NoSchedule' }) ? FITS : unfit(`node(s) had untolerated taint {${key}: }`);
  },
};

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(pod, info) {
    if (!traitsOf(info).unschedulable) return FITS;
    const taint: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
    return tolerates(pod.spec.tolerations, taint) ? FITS : unfit('node(s) were unschedulable');
  },
};

export const taintToleration: FilterPlugin = {
  name: 'TaintToleration',
  filter(pod, info) {
    for (const taint of traitsOf(info).taints) {
      if (taint.effect === 'PreferNoSchedule') continue;
      if (!tolerates(pod.spec.tolerations, taint)) {
        return unfit(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
      }
    }
    return FITS;
  },
};

export const nodeAffinity: FilterPlugin = {
  name: 'NodeAffinity',
  preFilter(pod) {
    const required = pod.spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    return Object.keys(pod.spec.nodeSelector ?? {}).length || required?.nodeSelectorTerms?.length ? undefined : SKIP;
  },
  filter(pod, { node }) {
    return requiredNodeAffinityMatches(pod.spec, node) ? FITS : unfit("node(s) didn't match Pod's node affinity/selector");
  },
};

type Requests = ReturnType<typeof podRequests>;

export const nodeResourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  // The pod's requests, looked up once a cycle rather than once a node.
  preFilter: (pod) => requestsOf(pod),
  filter(pod, { allocatable, used }, given?: Requests) {
    const req = given ?? requestsOf(pod);
    const tooMany = used.pods + 1 > allocatable.pods;
    const cpu = req.cpuMillis > 0 && used.cpuMillis + req.cpuMillis > allocatable.cpuMillis;
    const memory = req.memoryBytes > 0 && used.memoryBytes + req.memoryBytes > allocatable.memoryBytes;
    if (!tooMany && !cpu && !memory) return FITS;
    // Every shortage is reported, and only the resources the pod asks for are checked.
    const reasons: string[] = [];
    if (tooMany) reasons.push('Too many pods');
    if (cpu) reasons.push('Insufficient cpu');
    if (memory) reasons.push('Insufficient memory');
    return unfit(...reasons);
  },
};

export const nodeName: FilterPlugin = {
  name: 'NodeName',
  preFilter: (pod) => (pod.spec.nodeName ? undefined : SKIP),
  filter(pod, { node }) {
    const wanted = pod.spec.nodeName;
    return !wanted || wanted === node.metadata.name ? FITS : unfit("node(s) didn't match the requested node name");
  },
};

/** LeastAllocated: prefer the node with the most room left after placing the pod. */
export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  weight: 1,
  preScore: (pod) => requestsOf(pod),
  score(pod, { allocatable, used }, given?: Requests) {
    const req = given ?? requestsOf(pod);
    // Pods that request nothing still spread by pod count.
    const cpu = free(allocatable.cpuMillis, used.cpuMillis, req.cpuMillis);
    const mem = free(allocatable.memoryBytes, used.memoryBytes, req.memoryBytes);
    const pods = free(allocatable.pods, used.pods, 1);
    return (cpu + mem + pods) / 3;
  },
};

function free(capacity: number, used: number, requested: number): number {
  return capacity <= 0 ? 0 : Math.max(0, ((capacity - used - requested) * 100) / capacity);
}

/** PreferNoSchedule taints count against a node. */
export const taintPreference: ScorePlugin = {
  name: 'TaintToleration',
  weight: 1,
  score(pod, info) {
    let intolerable = 0;
    for (const t of traitsOf(info).taints) if (t.effect === 'PreferNoSchedule' && !tolerates(pod.spec.tolerations, t)) intolerable++;
    return Math.max(0, 100 - intolerable * 50);
  },
};

/** NodeAffinity scoring: the summed weights of the preferred terms a node matches, scaled so the best node gets 100. */
export const nodeAffinityPreference: ScorePlugin = {
  name: 'NodeAffinity',
  weight: 2,
  preScore: (pod) => (pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ? undefined : SKIP),
  score(pod, { node }) {
    let sum = 0;
    for (const p of pod.spec.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (p.weight && nodeSelectorTermMatches(p.preference ?? {}, node.metadata.labels, node.metadata.name!)) sum += p.weight;
    }
    return sum;
  },
  normalize: scaleToMax,
};

/** kube-scheduler's DefaultNormalizeScore: the highest raw score becomes 100, the others in proportion. */
function scaleToMax(scores: number[]): number[] {
  const max = Math.max(0, ...scores);
  return scores.map((s) => (max > 0 ? (s * 100) / max : 0));
}

// ---------------------------------------------------------------------------------------------
// Inter-pod affinity and anti-affinity (kube-scheduler's InterPodAffinity), over any topology key
// ---------------------------------------------------------------------------------------------

interface PodAffinityTerm {
  labelSelector?: LabelSelector | null;
  namespaces?: string[];
  namespaceSelector?: LabelSelector | null;
  topologyKey: string;
}

/** Whether a term of `owner` selects `other`: its namespaces (the owner's own by default) and its label selector. */
export function termMatches(term: PodAffinityTerm, owner: Pod, other: Pod): boolean {
  // A nil selector selects no pod; an empty one selects all (Kubernetes' LabelSelectorAsSelector).
  if (!term.labelSelector) return false;
  const namespaces = term.namespaces ?? [];
  // An empty namespaceSelector ({}) means every namespace; a non-empty one is not supported (namespace labels are not in the snapshot).
  const allNamespaces = !!term.namespaceSelector && !selectorRequirements(term.namespaceSelector).length;
  if (!allNamespaces && !(namespaces.length ? namespaces : [owner.metadata.namespace]).includes(other.metadata.namespace)) return false;
  return selectorMatches(term.labelSelector, other.metadata.labels ?? {});
}

const requiredTerms = (pod: Pod, kind: 'podAffinity' | 'podAntiAffinity'): PodAffinityTerm[] =>
  pod.spec.affinity?.[kind]?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
const preferredTerms = (pod: Pod, kind: 'podAffinity' | 'podAntiAffinity'): { weight: number; podAffinityTerm: PodAffinityTerm }[] =>
  pod.spec.affinity?.[kind]?.preferredDuringSchedulingIgnoredDuringExecution ?? [];

/** "key=value" of a topology domain. */
const domain = (key: string, value: string) => `${key}\u0000${value}`;
const nodeDomain = (info: NodeInfo, key: string): string | undefined => {
  const v = info.node.metadata.labels?.[key];
  return v === undefined ? undefined : domain(key, v);
};
const samePod = (a: Pod, b: Pod) => a.metadata.namespace === b.metadata.namespace && a.metadata.name === b.metadata.name;

interface InterPodState {
  /** Per required affinity term of the incoming pod: the domains holding a pod it selects. */
  affinity: Set<string>[];
  /** No existing pod matches any affinity term, and the pod matches its own terms: the first of a group may go anywhere. */
  affinityBootstrap: boolean;
  /** Per required anti-affinity term of the incoming pod: the domains holding a pod it selects. */
  antiAffinity: Set<string>[];
  /** Domains where an existing pod's required anti-affinity selects the incoming pod (symmetry). */
  existingAntiAffinity: Set<string>;
}

export const interPodAffinity: FilterPlugin = {
  name: 'InterPodAffinity',
  preFilter(pod, nodes): InterPodState | typeof SKIP {
    const aff = requiredTerms(pod, 'podAffinity');
    const anti = requiredTerms(pod, 'podAntiAffinity');
    const state: InterPodState = { affinity: aff.map(() => new Set()), affinityBootstrap: false, antiAffinity: anti.map(() => new Set()), existingAntiAffinity: new Set() };
    let anyAffinityMatch = false;
    // Without terms of its own, only the placed pods' anti-affinity (symmetry) can rule a node out.
    const ownTerms = aff.length > 0 || anti.length > 0;
    for (const info of nodes) {
      for (const other of ownTerms ? info.pods ?? [] : podsWithAffinity(info)) {
        if (samePod(other, pod)) continue;
        for (let i = 0; i < aff.length; i++) {
          if (!termMatches(aff[i], pod, other)) continue;
          anyAffinityMatch = true;
          const d = nodeDomain(info, aff[i].topologyKey);
          if (d) state.affinity[i].add(d);
        }
        for (let i = 0; i < anti.length; i++) {
          const d = nodeDomain(info, anti[i].topologyKey);
          if (d && termMatches(anti[i], pod, other)) state.antiAffinity[i].add(d);
        }
        for (const term of requiredTerms(other, 'podAntiAffinity')) {
          const d = nodeDomain(info, term.topologyKey);
          if (d && termMatches(term, other, pod)) state.existingAntiAffinity.add(d);
        }
      }
    }
    state.affinityBootstrap = aff.length > 0 && !anyAffinityMatch && aff.every((term) => termMatches(term, pod, pod));
    return ownTerms || state.existingAntiAffinity.size ? state : SKIP;
  },
  filter(pod, info, given?: InterPodState | typeof SKIP) {
    const state = given ?? (this.preFilter!(pod, [info]) as InterPodState | typeof SKIP);
    if (state === SKIP) return FITS;
    const aff = requiredTerms(pod, 'podAffinity');
    for (let i = 0; i < aff.length; i++) {
      const d = nodeDomain(info, aff[i].topologyKey);
      if (!d || !(state.affinityBootstrap || state.affinity[i].has(d))) return unfit("node(s) didn't match pod affinity rules");
    }
    const anti = requiredTerms(pod, 'podAntiAffinity');
    for (let i = 0; i < anti.length; i++) {
      const d = nodeDomain(info, anti[i].topologyKey);
      if (d && state.antiAffinity[i].has(d)) return unfit("node(s) didn't match pod anti-affinity rules");
    }
    for (const d of state.existingAntiAffinity) {
      const [key, value] = d.split('\u0000');
      if (info.node.metadata.labels?.[key] === value) return unfit("node(s) didn't satisfy existing pods anti-affinity rules");
    }
    return FITS;
  },
};

/** Preferred inter-pod (anti-)affinity of the incoming pod and, symmetrically, of the pods already placed. */
export const interPodAffinityPreference: ScorePlugin = {
  name: 'InterPodAffinity',
  weight: 2,
  preScore(pod, nodes): Map<string, number> | typeof SKIP {
    const byDomain = new Map<string, number>();
    const add = (info: NodeInfo, key: string, w: number) => {
      const d = nodeDomain(info, key);
      if (d) byDomain.set(d, (byDomain.get(d) ?? 0) + w);
    };
    const aff = preferredTerms(pod, 'podAffinity');
    const anti = preferredTerms(pod, 'podAntiAffinity');
    // Without preferred terms of its own, only placed pods with terms can score a node.
    const ownTerms = aff.length > 0 || anti.length > 0;
    for (const info of nodes) {
      for (const other of ownTerms ? info.pods ?? [] : podsWithAffinity(info)) {
        if (samePod(other, pod)) continue;
        for (const t of aff) if (termMatches(t.podAffinityTerm, pod, other)) add(info, t.podAffinityTerm.topologyKey, t.weight);
        for (const t of anti) if (termMatches(t.podAffinityTerm, pod, other)) add(info, t.podAffinityTerm.topologyKey, -t.weight);
        // Existing pods' terms that select the incoming pod count too; their required affinity with weight 1 (hardPodAffinityWeight).
        for (const t of requiredTerms(other, 'podAffinity')) if (termMatches(t, other, pod)) add(info, t.topologyKey, 1);
        for (const t of preferredTerms(other, 'podAffinity')) if (termMatches(t.podAffinityTerm, other, pod)) add(info, t.podAffinityTerm.topologyKey, t.weight);
        for (const t of preferredTerms(other, 'podAntiAffinity')) if (termMatches(t.podAffinityTerm, other, pod)) add(info, t.podAffinityTerm.topologyKey, -t.weight);
      }
    }
    return byDomain.size ? byDomain : SKIP;
  },
  score(pod, info, byDomain?: Map<string, number> | typeof SKIP) {
    if (byDomain === SKIP || !byDomain) return 0;
    let sum = 0;
    for (const [d, w] of byDomain ?? []) {
      const [key, value] = d.split('\u0000');
      if (info.node.metadata.labels?.[key] === value) sum += w;
    }
    return sum;
  },
  normalize: minMax,
};

/** Scores spread over 0..100 from the lowest to the highest; all equal gives 0 (as InterPodAffinity's NormalizeScore). */
function minMax(scores: number[]): number[] {
  if (!scores.length) return scores;
  const min = Math.min(...scores);
  const max = Math.max(...scores);
  return scores.map((s) => (max > min ? ((s - min) * 100) / (max - min) : 0));
}

// ---------------------------------------------------------------------------------------------
// Pod topology spread (kube-scheduler's PodTopologySpread): maxSkew over the domains of a node label
// ---------------------------------------------------------------------------------------------

interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector?: LabelSelector | null;
  minDomains?: number;
  nodeTaintsPolicy?: 'Honor' | 'Ignore';
}

const spreadConstraints = (pod: Pod, when: SpreadConstraint['whenUnsatisfiable']): SpreadConstraint[] =>
  ((pod.spec.topologySpreadConstraints ?? []) as SpreadConstraint[]).filter((c) => c.whenUnsatisfiable === when);

/**
 * Matching pods per domain of each constraint, counted over the nodes the pod's node affinity and
 * nodeSelector allow that carry every constraint's key (nodeAffinityPolicy Honor, Kubernetes'
 * default); with nodeTaintsPolicy Honor (the default is Ignore) only over the nodes whose taints the
 * pod tolerates, so a lost node's empty domain does not hold its pods' replacements back.
 * Terminating pods are not counted.
 */
function countSpread(pod: Pod, constraints: SpreadConstraint[], nodes: NodeInfo[]): Map<string, number>[] {
  const counts = constraints.map(() => new Map<string, number>());
  for (const info of nodes) {
    const labels = info.node.metadata.labels ?? {};
    if (!constraints.every((c) => c.topologyKey in labels)) continue;
    if (!nodeAffinity.filter(pod, info).fits) continue;
    constraints.forEach((c, i) => {
      if (c.nodeTaintsPolicy === 'Honor' && !taintToleration.filter(pod, info).fits) return;
      const value = labels[c.topologyKey];
      let n = counts[i].get(value) ?? 0;
      for (const other of info.pods ?? []) {
        if (other.metadata.deletionTimestamp || other.metadata.namespace !== pod.metadata.namespace || samePod(other, pod)) continue;
        if (c.labelSelector && selectorMatches(c.labelSelector, other.metadata.labels ?? {})) n++;
      }
      counts[i].set(value, n);
    });
  }
  return counts;
}

const selfMatch = (c: SpreadConstraint, pod: Pod) => (c.labelSelector && selectorMatches(c.labelSelector, pod.metadata.labels ?? {}) ? 1 : 0);

export const podTopologySpread: FilterPlugin = {
  name: 'PodTopologySpread',
  preFilter(pod, nodes) {
    const constraints = spreadConstraints(pod, 'DoNotSchedule');
    if (!constraints.length) return SKIP;
    const counts = countSpread(pod, constraints, nodes);
    // With fewer domains than minDomains the global minimum is taken as 0.
    const minima = counts.map((m, i) => (m.size < (constraints[i].minDomains ?? 1) ? 0 : Math.min(...m.values())));
    return { constraints, counts, minima };
  },
  filter(pod, info, given?: { constraints: SpreadConstraint[]; counts: Map<string, number>[]; minima: number[] } | typeof SKIP) {
    const state = given ?? (this.preFilter!(pod, [info]) as typeof given);
    if (state === SKIP) return FITS;
    const { constraints, counts, minima } = state!;
    const labels = info.node.metadata.labels ?? {};
    for (let i = 0; i < constraints.length; i++) {
      const c = constraints[i];
      if (!(c.topologyKey in labels)) return unfit("node(s) didn't match pod topology spread constraints (missing required label)");
      const skew = (counts[i].get(labels[c.topologyKey]) ?? 0) + selfMatch(c, pod) - (Number.isFinite(minima[i]) ? minima[i] : 0);
      if (skew > c.maxSkew) return unfit("node(s) didn't match pod topology spread constraints");
    }
    return FITS;
  },
};

/** ScheduleAnyway constraints: fewer matching pods in a node's domains scores higher; nodes missing a key score 0. */
export const podTopologySpreadPreference: ScorePlugin = {
  name: 'PodTopologySpread',
  weight: 2,
  preScore(pod, nodes, feasible) {
    const constraints = spreadConstraints(pod, 'ScheduleAnyway');
    if (!constraints.length) return SKIP;
    const counts = countSpread(pod, constraints, nodes);
    // Kubernetes weighs each constraint by log(domains + 2), domains counted among the feasible nodes.
    const weights = constraints.map((c) => Math.log(new Set(feasible.map((n) => n.node.metadata.labels?.[c.topologyKey]).filter((v) => v !== undefined)).size + 2));
    return { constraints, counts, weights };
  },
  score(pod, info, state?: { constraints: SpreadConstraint[]; counts: Map<string, number>[]; weights: number[] } | typeof SKIP) {
    if (!state || state === SKIP) return 0;
    const labels = info.node.metadata.labels ?? {};
    if (!state.constraints.every((c) => c.topologyKey in labels)) return -1; // ignored: scored 0 by normalize
    return state.constraints.reduce((sum, c, i) => sum + (state.counts[i].get(labels[c.topologyKey]) ?? 0) * state.weights[i] + (c.maxSkew - 1), 0);
  },
  normalize(scores) {
    const kept = scores.filter((s) => s >= 0);
    if (!kept.length) return scores.map(() => 0);
    const min = Math.min(...kept);
    const max = Math.max(...kept);
    return scores.map((s) => (s < 0 ? 0 : max === 0 ? 100 : (100 * (max + min - s)) / max));
  },
};

export const DEFAULT_FILTERS: FilterPlugin[] = [nodeName, nodeUnschedulable, nodeReady, taintToleration, nodeAffinity, nodeResourcesFit, interPodAffinity, podTopologySpread];
export const DEFAULT_SCORERS: ScorePlugin[] = [leastAllocated, taintPreference, nodeAffinityPreference, interPodAffinityPreference, podTopologySpreadPreference];

export interface ScheduleDecision {
  /** Feasible nodes, best first (the best `limit` of them, when decide was given one). */
  ranked: string[];
  /** For "0/N nodes are available: ..." when nothing fits. */
  reasons: Map<string, number>;
  total: number;
}

export function decide(pod: Pod, nodes: NodeInfo[], allFilters = DEFAULT_FILTERS, allScorers = DEFAULT_SCORERS, random = Math.random, limit = Infinity): ScheduleDecision {
  const reasons = new Map<string, number>();
  const filters: FilterPlugin[] = [];
  const states: unknown[] = [];
  for (const f of allFilters) {
    const state = f.preFilter?.(pod, nodes);
    if (state === SKIP) continue;
    filters.push(f);
    states.push(state);
  }
  const feasible: NodeInfo[] = [];
  for (const info of nodes) {
    let failed: string[] | undefined;
    for (let i = 0; i < filters.length; i++) {
      const r = filters[i].filter(pod, info, states[i]);
      if (!r.fits) {
        failed = r.reasons;
        break;
      }
    }
    if (failed) {
      for (const reason of failed) reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      continue;
    }
    feasible.push(info);
  }
  // Typed arrays and indices rather than an object a node: a cycle scores a few hundred nodes,
  // and what it allocates per node was a fifth of its time, in the garbage collector.
  const totals = new Float64Array(feasible.length);
  for (const p of allScorers) {
    const state = p.preScore?.(pod, nodes, feasible);
    if (state === SKIP) continue;
    if (p.normalize) {
      const scores = p.normalize(feasible.map((info) => p.score(pod, info, state)));
      for (let i = 0; i < scores.length; i++) totals[i] += p.weight * scores[i];
    } else for (let i = 0; i < feasible.length; i++) totals[i] += p.weight * p.score(pod, feasible[i], state);
  }
  const ties = new Float64Array(feasible.length);
  for (let i = 0; i < ties.length; i++) ties[i] = random();
  const better = (a: number, b: number) => totals[b] - totals[a] || ties[a] - ties[b];
  const indices = Array.from({ length: feasible.length }, (_, i) => i);
  return { ranked: best(indices, limit, better).map((i) => feasible[i].node.metadata.name!), reasons, total: nodes.length };
}

/** The `limit` first of items in order, without sorting them all when only a few are wanted (a scheduler binds the best node, or one of the next two). */
function best<T>(items: T[], limit: number, order: (a: T, b: T) => number): T[] {
  if (limit >= items.length / 8) return items.sort(order).slice(0, limit);
  const top: T[] = [];
  for (const item of items) {
    if (top.length === limit && order(item, top[limit - 1]) >= 0) continue;
    let i = Math.min(top.length, limit - 1);
    while (i > 0 && order(item, top[i - 1]) < 0) i--;
    top.splice(i, 0, item);
    if (top.length > limit) top.pop();
  }
  return top;
}

/** Kubernetes' message: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable." */
export function unschedulableMessage(d: ScheduleDecision): string {
  if (d.total === 0) return 'no nodes available to schedule pods';
  const parts = [...d.reasons.entries()].map(([reason, n]) => `${n} ${reason}`).sort();
  return `0/${d.total} nodes are available: ${parts.join(', ')}.`;
}
