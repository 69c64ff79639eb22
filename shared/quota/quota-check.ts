// The ResourceQuota admission's decision (apiserver plugin/resourcequota controller.go
// checkRequest), pure over the namespace's quotas as last read: which quotas a write concerns,
// whether it declares what they require, whether it fits, and each concerned quota's new
// status.used. The adapter (admission.ts) writes those with a resourceVersion precondition.
import type { KubeObject } from '../types.ts';
import {
  type ResourceList,
  addLists,
  formatList,
  lessThanOrEqual,
  maskList,
  parseList,
  prettyPrint,
  removeZeros,
  subtractNonNegative,
} from '../api/exact-quantity.ts';
import { type Evaluator, quotaMatches } from './evaluators.ts';

export interface QuotaCharge {
  quota: KubeObject;
  /** The quota's status.used with this write's usage added. */
  used: Record<string, string>;
}

export type QuotaDecision = { refused: string } | { charges: QuotaCharge[] };

/** Every resource the quota limits that this kind charges has a usage observed (hasUsageStats). */
function hasUsageStats(quota: KubeObject, restricted: string[]): boolean {
  const used = quota.status?.used ?? {};
  return Object.keys(quota.status?.hard ?? {}).every((name) => !restricted.includes(name) || name in used);
}

/**
 * Decides one write (a create, or an update with its old object) against the namespace's quotas.
 * Quotas are taken in name order; a refusal names the first quota that refuses, in Kubernetes'
 * words (`exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2`).
 */
export function checkRequest(quotas: KubeObject[], ev: Evaluator, op: 'create' | 'update', obj: KubeObject, old: KubeObject | undefined, nowMs: number): QuotaDecision {
  if (!ev.handles(op, obj, old)) return { charges: [] };
  const sorted = [...quotas].sort((a, b) => (a.metadata.name! < b.metadata.name! ? -1 : a.metadata.name! > b.metadata.name! ? 1 : 0));
  const interesting: KubeObject[] = [];
  for (const quota of sorted) {
    if (!quotaMatches(ev, quota, obj)) continue;
    const restricted = ev.matchingResources(Object.keys(quota.status?.hard ?? {}));
    const missing = ev.constraints(restricted, obj);
    if (missing) return { refused: `failed quota: ${quota.metadata.name}: ${missing}` };
    if (!hasUsageStats(quota, restricted)) return { refused: `status unknown for quota: ${quota.metadata.name}, resources: ${[...restricted].sort().join(',')}` };
    interesting.push(quota);
  }
  if (!interesting.length) return { charges: [] };
  const usage = ev.usage(obj, nowMs);
  const charges: QuotaCharge[] = [];
  for (const quota of interesting) {
    // An update pays what it adds over the old object, where the old object counted against this quota too.
    const oldCounted = op === 'update' && old && quotaMatches(ev, quota, old);
    const delta = removeZeros(oldCounted ? subtractNonNegative(usage, ev.usage(old, nowMs)) : usage);
    const hard = parseList(quota.status?.hard);
    const used = parseList(quota.status?.used);
    const requested = maskList(delta, Object.keys(hard));
    if (!Object.keys(requested).length) continue;
    const newUsage = addLists(used, requested);
    const { allowed, exceeded } = lessThanOrEqual(maskList(newUsage, Object.keys(requested)), hard);
    if (!allowed) {
      return {
        refused: `exceeded quota: ${quota.metadata.name}, requested: ${prettyPrint(maskList(requested, exceeded))}, used: ${prettyPrint(maskList(used, exceeded))}, limited: ${prettyPrint(maskList(hard, exceeded))}`,
      };
    }
    charges.push({ quota, used: formatList(maskList(newUsage, Object.keys(hard))) });
  }
  return { charges };
}

/** The quota's status as the controller computes it: hard from spec, used for each hard resource. */
export function quotaStatus(quota: KubeObject, measured: ResourceList): { hard: Record<string, string>; used: Record<string, string> } {
  const hard = parseList(quota.spec?.hard);
  return { hard: formatList(hard), used: formatList(maskList(measured, Object.keys(hard))) };
}
