// A workload's rollout history as ControllerRevisions, as Kubernetes' DaemonSet (and StatefulSet)
// controllers keep it (pkg/controller/daemon/update.go constructHistory / cleanupHistory): one
// revision per template the workload has had, named after the template's hash, holding a strategic
// merge patch that puts that template back (what `kubectl rollout undo` sends), numbered in the
// order the templates were last used. The decisions are pure (planHistory); syncHistory writes them.
import type { KubeObject, Pod, PodTemplateSpec } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { isAlreadyExists, isNotFound } from '../../shared/errors.ts';
import { templateHash } from './deployment/plan.ts';
import { controlledBy } from './pods.ts';

/** The label that names a pod's (and a revision's) template hash. */
export const REVISION_HASH = 'controller-revision-hash';

export interface ControllerRevision extends KubeObject {
  data: { spec?: { template?: PodTemplateSpec & { $patch?: string } } };
  revision: number;
}

export interface TemplatedOwner extends KubeObject {
  spec: { template: PodTemplateSpec; revisionHistoryLimit?: number };
}

/** The revision's data: a patch that replaces the owner's whole template (Kubernetes' getPatch). */
export function templatePatch(template: PodTemplateSpec): ControllerRevision['data'] {
  return { spec: { template: { ...structuredClone(template), $patch: 'replace' } } };
}

/** The template a revision holds. */
export function revisionTemplate(rev: ControllerRevision): PodTemplateSpec | undefined {
  const template = rev.data?.spec?.template;
  if (!template) return undefined;
  const { $patch: _directive, ...rest } = template;
  return rest as PodTemplateSpec;
}

export interface HistoryPlan {
  /** The revision to create, when none holds the owner's template yet. */
  create?: { name: string; revision: number };
  /** The revision that holds the template, when it must take the next number (a rollback to it). */
  renumber?: { name: string; revision: number };
  /** Revisions to delete: doubles of the current one, and the oldest beyond the history limit that no live pod runs. */
  delete: string[];
}

const maxRevision = (revisions: ControllerRevision[]) => revisions.reduce((m, r) => Math.max(m, r.revision ?? 0), 0);

/**
 * What to write so that the history holds the owner's template (under `hash`) as its newest
 * revision and at most revisionHistoryLimit (default 10) others, never one still in use: `live`
 * names revisions by hash (what a DaemonSet's pods are labelled with) or by name (a StatefulSet's).
 */
export function planHistory(owner: TemplatedOwner, revisions: ControllerRevision[], hash: string, live: Set<string>): HistoryPlan {
  const holdsTemplate = (r: ControllerRevision) => {
    const template = revisionTemplate(r);
    return template !== undefined && templateHash(template) === hash;
  };
  const current = revisions.filter(holdsTemplate).sort((a, b) => b.revision - a.revision);
  const old = revisions.filter((r) => !holdsTemplate(r)).sort((a, b) => a.revision - b.revision);
  const next = maxRevision(old) + 1;
  const plan: HistoryPlan = { delete: current.slice(1).map((r) => r.metadata.name!) };
  if (current.length === 0) plan.create = { name: `${owner.metadata.name}-${hash}`, revision: next };
  else if (current[0].revision < next) plan.renumber = { name: current[0].metadata.name!, revision: next };

  let excess = old.length - (owner.spec.revisionHistoryLimit ?? 10);
  for (const r of old) {
    if (excess <= 0) break;
    if (live.has(r.metadata.name!) || live.has(r.metadata.labels?.[REVISION_HASH] ?? '')) continue;
    plan.delete.push(r.metadata.name!);
    excess--;
  }
  return plan;
}

/** What the pods' revision labels name: template hashes (DaemonSet) or revision names (StatefulSet). */
export function liveHashes(pods: Pod[]): Set<string> {
  return new Set(pods.map((p) => p.metadata.labels?.[REVISION_HASH]).filter((h): h is string => !!h));
}

/**
 * Brings the owner's ControllerRevisions in line with planHistory. A revision is labelled like the
 * owner's pods (so `kubectl rollout history`, which lists by the owner's selector, finds it) and
 * carries the owner's annotations (its kubernetes.io/change-cause is the history's CHANGE-CAUSE).
 */
export async function syncHistory(store: Store, owner: TemplatedOwner, apiVersion: string, hash: string, live: Set<string>): Promise<ControllerRevision[]> {
  const namespace = owner.metadata.namespace!;
  const revisions = await controlledBy<ControllerRevision>(store, owner, 'controllerrevisions');
  const plan = planHistory(owner, revisions, hash, live);
  if (plan.create) {
    const revision: ControllerRevision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: plan.create.name,
        namespace,
        labels: { ...(owner.spec.template.metadata?.labels ?? {}), [REVISION_HASH]: hash },
        annotations: owner.metadata.annotations,
        ownerReferences: [{ apiVersion, kind: owner.kind, name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      data: templatePatch(owner.spec.template),
      revision: plan.create.revision,
    };
    // An old owner of the same name may still have its revision of this name, until the garbage
    // collector removes it: the error requeues this owner until then.
    await store.create('controllerrevisions', revision).catch((err) => {
      if (!isAlreadyExists(err)) throw err;
      throw new Error(`controllerrevision ${namespace}/${plan.create!.name} exists and is not ${owner.metadata.name}'s yet`);
    });
  }
  if (plan.renumber) {
    const { name, revision } = plan.renumber;
    await store.guaranteedUpdate<ControllerRevision>('controllerrevisions', namespace, name, (cur) => ({ ...cur, revision }));
  }
  for (const name of plan.delete) {
    await store.delete('controllerrevisions', namespace, name).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
  return revisions;
}
