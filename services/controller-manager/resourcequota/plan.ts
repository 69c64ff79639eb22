// The resource quota controller's pure part (Kubernetes pkg/controller/resourcequota
// syncResourceQuota, quota.CalculateUsage): which kinds a quota's hard limits count, and its
// status measured from the objects that exist, so usage heals after deletes, terminal pods,
// leaked admission charges and crashes.
import type { KubeObject } from '../../../shared/types.ts';
import { type ResourceList, addLists, maskList, parseList } from '../../../shared/api/exact-quantity.ts';
import { type Evaluator, evaluatorFor, parseObjectCountName, podCountsForQuota, scopeRequirements } from '../../../shared/quota/evaluators.ts';
import { quotaStatus } from '../../../shared/quota/quota-check.ts';

export interface GroupResource {
  plural: string;
  group: string;
}

const key = (gr: GroupResource) => (gr.group ? `${gr.plural}.${gr.group}` : gr.plural);

/**
 * The evaluators of the served kinds whose objects the quota's hard limits count (the kinds a
 * recount lists), given which namespaced group resources are served.
 */
export function evaluatorsFor(quota: KubeObject, served: GroupResource[]): Evaluator[] {
  const hard = Object.keys(quota.spec?.hard ?? {});
  const candidates = new Map<string, GroupResource>();
  const add = (gr: GroupResource) => {
    if (served.some((s) => s.plural === gr.plural && s.group === gr.group)) candidates.set(key(gr), gr);
  };
  add({ plural: 'pods', group: '' });
  add({ plural: 'services', group: '' });
  for (const name of hard) {
    const counted = parseObjectCountName(name);
    if (counted) add(counted);
    else if (!name.includes('/') && !name.includes('.')) add({ plural: name, group: '' });
  }
  const out: Evaluator[] = [];
  for (const gr of candidates.values()) {
    const ev = evaluatorFor(gr.plural, gr.group);
    if (ev && ev.matchingResources(hard).length) out.push(ev);
  }
  return out;
}

/** Whether the object is in every scope of the quota (kinds without scopes are in none). */
function inScopes(ev: Evaluator, quota: KubeObject, obj: KubeObject): boolean {
  return scopeRequirements(quota).every((req) => ev.matchesScope(req, obj));
}

/** Usage of the quota's hard resources by these objects: zero for each resource some evaluator counts. */
export function measureUsage(quota: KubeObject, objects: Map<Evaluator, KubeObject[]>, nowMs: number): ResourceList {
  const hard = Object.keys(quota.spec?.hard ?? {});
  let used: ResourceList = {};
  for (const [ev, items] of objects) {
    const names = ev.matchingResources(hard);
    used = { ...used, ...Object.fromEntries(names.map((n) => [n, parseList({ x: '0' }).x])) };
    for (const obj of items) if (inScopes(ev, quota, obj)) used = addLists(used, maskList(ev.usage(obj, nowMs), names));
  }
  return used;
}

/** The quota's status: spec.hard as status.hard, and what the objects use of it. */
export function computeStatus(quota: KubeObject, objects: Map<Evaluator, KubeObject[]>, nowMs: number): { hard: Record<string, string>; used: Record<string, string> } {
  return quotaStatus(quota, measureUsage(quota, objects, nowMs));
}

/** When the next pod being deleted stops counting (its grace period runs out), to recount then. */
export function nextRecountMs(pods: KubeObject[], nowMs: number): number | undefined {
  let next: number | undefined;
  for (const pod of pods) {
    const deletion = pod.metadata.deletionTimestamp;
    const grace = pod.metadata.deletionGracePeriodSeconds;
    if (!deletion || typeof grace !== 'number' || !podCountsForQuota(pod, nowMs)) continue;
    const at = Date.parse(deletion) + grace * 1000 - nowMs + 1;
    if (next === undefined || at < next) next = at;
  }
  return next;
}
