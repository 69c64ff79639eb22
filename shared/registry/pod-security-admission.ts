// The PodSecurity admission plugin in the store's write path, as Kubernetes' pod-security-admission
// runs it: pods are refused (403) when they break their namespace's enforce level and warned about
// under its warn level; the pod templates of workloads are only warned about; a namespace's labels
// are validated, and raising its enforce level warns about the pods already there. Because the
// store admits every writer alike, a controller's pod is refused exactly as a user's.
import type { KubeObject } from '../types.ts';
import { ForbiddenError, InvalidError } from '../errors.ts';
import {
  evaluatePod,
  existingPodWarnings,
  exemptNamespaceWarning,
  formatLevelVersion,
  forbiddenDetail,
  fullyPrivileged,
  compareLevels,
  policyFromLabels,
  podTemplateOf,
  sameLevelVersion,
  type PodSecurityPolicy,
} from '../api/pod-security.ts';
import type { AdmissionContext } from './strategy.ts';

function exempt(ctx: AdmissionContext, namespace: string | undefined): boolean {
  return !!namespace && ctx.settings.podSecurity.exemptNamespaces.includes(namespace);
}

/** The policy of the pod's namespace (its labels over the cluster defaults), or undefined when it is exempt or gone. */
async function namespacePolicy(ctx: AdmissionContext, namespace: string | undefined): Promise<{ policy: PodSecurityPolicy; invalid: boolean } | undefined> {
  if (!namespace || exempt(ctx, namespace)) return undefined;
  const ns = await ctx.reader.get('namespaces', undefined, namespace);
  // The store refuses writes into a missing namespace before admission gets here.
  if (!ns) return undefined;
  const { policy, errors } = policyFromLabels(ns.metadata.labels, ctx.settings.podSecurity.defaults);
  return { policy, invalid: errors.length > 0 };
}

/** Kubernetes re-checks a pod update only when it changes images or adds containers (isSignificantPodUpdate). */
function significantPodUpdate(pod: KubeObject, old: KubeObject): boolean {
  const list = (spec: any, key: string): any[] => (Array.isArray(spec?.[key]) ? spec[key] : []);
  for (const key of ['containers', 'initContainers']) {
    const a = list(pod.spec, key);
    const b = list(old.spec, key);
    if (a.length !== b.length || a.some((c, i) => c?.image !== b[i]?.image)) return true;
  }
  const before = new Map(list(old.spec, 'ephemeralContainers').map((c) => [c?.name, c]));
  return list(pod.spec, 'ephemeralContainers').some((c) => !before.has(c?.name) || before.get(c?.name)?.image !== c?.image);
}

/** A pod create or update: refused under the enforce level, warned about under the warn level. */
export async function admitPodSecurity(pod: KubeObject, old: KubeObject | undefined, ctx: AdmissionContext): Promise<void> {
  if (old && !significantPodUpdate(pod, old)) return;
  const found = await namespacePolicy(ctx, pod.metadata.namespace);
  if (!found || (!found.invalid && fullyPrivileged(found.policy))) return;
  const { policy } = found;
  const enforced = evaluatePod(policy.enforce, pod.metadata, pod.spec);
  if (enforced.length) {
    const name = pod.metadata.name ?? '';
    throw new ForbiddenError(`pods "${name}" is forbidden: violates PodSecurity "${formatLevelVersion(policy.enforce)}": ${forbiddenDetail(enforced)}`, { name, kind: 'pods' });
  }
  if (!ctx.warnings) return;
  const warned = sameLevelVersion(policy.warn, policy.enforce) ? enforced : evaluatePod(policy.warn, pod.metadata, pod.spec);
  if (warned.length) ctx.warnings.push(`would violate PodSecurity "${formatLevelVersion(policy.warn)}": ${forbiddenDetail(warned)}`);
}

/** A workload's pod template: never refused, only warned about under the warn level (its pods are enforced when created). */
export async function warnPodTemplate(kind: string, obj: KubeObject, ctx: AdmissionContext): Promise<void> {
  // Nobody reads the warnings of a controller's write; audit has no log to go to.
  if (!ctx.warnings) return;
  const template = podTemplateOf(kind, obj);
  if (!template) return;
  const found = await namespacePolicy(ctx, obj.metadata.namespace);
  if (!found || found.policy.warn.level === 'privileged') return;
  const warned = evaluatePod(found.policy.warn, template.meta, template.spec);
  if (warned.length) ctx.warnings.push(`would violate PodSecurity "${formatLevelVersion(found.policy.warn)}": ${forbiddenDetail(warned)}`);
}

/**
 * A namespace create or update: Pod Security labels must say something valid (an update may keep
 * the invalid labels it already had); labels on an exempt namespace are warned about as ignored;
 * a stricter enforce level warns about the pods that already break it.
 */
export async function admitNamespacePodSecurity(ns: KubeObject, old: KubeObject | undefined, ctx: AdmissionContext): Promise<void> {
  const defaults = ctx.settings.podSecurity.defaults;
  const name = ns.metadata.name ?? '';
  const next = policyFromLabels(ns.metadata.labels, defaults);
  const before = old ? policyFromLabels(old.metadata.labels, defaults) : undefined;
  if (next.errors.length && (!before || !before.errors.length || JSON.stringify(before.errors) !== JSON.stringify(next.errors))) {
    throw new InvalidError('Namespace', name, next.errors);
  }
  const exemptWarning = () => {
    const w = exemptNamespaceWarning(name, next.policy, defaults, ns.metadata.labels);
    if (w) ctx.warnings?.push(w);
  };
  if (!before) {
    if (exempt(ctx, name)) exemptWarning();
    return;
  }
  const enforce = next.policy.enforce;
  const previous = before.policy.enforce;
  if (sameLevelVersion(enforce, previous) || enforce.level === 'privileged') return;
  if (enforce.version === previous.version && compareLevels(enforce.level, previous.level) < 1) return;
  if (exempt(ctx, name)) return exemptWarning();
  if (!ctx.warnings) return;
  const { items } = await ctx.reader.list('pods', name);
  ctx.warnings.push(...existingPodWarnings(name, enforce, items));
}
