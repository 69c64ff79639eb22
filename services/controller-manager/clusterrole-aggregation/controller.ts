// The ClusterRole aggregation controller (Kubernetes pkg/controller/clusterroleaggregation): a
// ClusterRole with an aggregationRule holds the rules of every other ClusterRole its selectors pick
// (admin, edit and view gather the roles labelled aggregate-to-admin|edit|view, so a user's
// ClusterRole labelled aggregate-to-view extends view). The rules are decided by aggregateRules
// (shared/auth/rbac.ts) over an informer cache of ClusterRoles; a key is the aggregated role's name.
// Any ClusterRole change may change what any aggregated role picks, so each enqueues them all,
// which the queue collapses; a role the controller rewrites changes nothing the next time.
import type { KubeObject } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { Informer } from '../../../shared/store/informer.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { aggregateRules, rulesEqual, type PolicyRule } from '../../../shared/auth/rbac.ts';
import { selectorMatches } from '../../../shared/api/selectors.ts';
import { isNotFound } from '../../../shared/errors.ts';

const CATCH_UP_MS = 2_000;

/** The rules an aggregated ClusterRole should hold, from every ClusterRole there is. */
export function desiredRules(role: KubeObject, all: KubeObject[]): PolicyRule[] {
  const selectors: any[] = role.aggregationRule?.clusterRoleSelectors ?? [];
  return aggregateRules(role.metadata.name!, selectors.map((s) => (labels: Record<string, string>) => selectorMatches(s, labels)), all as any);
}

export class ClusterRoleAggregationController {
  constructor(
    private readonly store: Store,
    private readonly clusterRoles: Informer,
  ) {}

  /** The names of the ClusterRoles that aggregate: what every ClusterRole change enqueues. */
  aggregatedRoles(): string[] {
    return this.clusterRoles.list().filter((r) => r.aggregationRule).map((r) => r.metadata.name!);
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    // The cache may trail the change that enqueued this key (it may have come from another replica's
    // informer): decide only on one that has caught up, else look again shortly.
    if (!(await this.clusterRoles.caughtUp(Date.now() + CATCH_UP_MS))) return { requeueAfterMs: CATCH_UP_MS };
    const all = this.clusterRoles.list();
    const role = all.find((r) => r.metadata.name === name);
    if (!role?.aggregationRule) return;
    const rules = desiredRules(role, all);
    if (rulesEqual(rules, role.rules ?? [])) return;
    try {
      await this.store.guaranteedUpdate('clusterroles', undefined, name, (current) => {
        if (!current.aggregationRule) return null;
        const wanted = desiredRules(current, all);
        if (rulesEqual(wanted, current.rules ?? [])) return null;
        current.rules = wanted;
        return current;
      });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
  }
}
