// The disruption controller: keeps each PodDisruptionBudget's status (expected, healthy and desired
// pods, disruptions allowed) up to date as its pods come, go and change readiness, so that the
// Eviction subresource can answer from the budget alone.
import type { KubeObject, Pod } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import { isConflict, isNotFound } from '../../../shared/errors.ts';
import { deepEqual } from '../../../shared/util.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { computeStatus } from './plan.ts';
import { pdbSelects } from '../../../shared/api/disruption.ts';

const SCALABLE: Record<string, string> = { ReplicaSet: 'replicasets', Deployment: 'deployments', StatefulSet: 'statefulsets', ReplicationController: 'replicationcontrollers' };

export class DisruptionController {
  constructor(private readonly store: Store) {}

  /** Of these budgets (a cache of them all), those in the pod's namespace that select it: the keys a pod change concerns. */
  budgetsOf(pod: KubeObject, budgets: KubeObject[]): string[] {
    return budgets.filter((pdb) => pdb.metadata.namespace === pod.metadata.namespace && pdbSelects(pdb, pod as Pod)).map((pdb) => `${pdb.metadata.namespace}/${pdb.metadata.name}`);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const pdb = await this.store.get('poddisruptionbudgets', namespace, name);
    if (!pdb || pdb.metadata.deletionTimestamp) return;
    const pods = (await this.store.list<Pod>('pods', namespace)).items.filter((p) => pdbSelects(pdb, p));
    const scale = new Map<string, number | undefined>();
    for (const p of pods) {
      const ref = (p.metadata.ownerReferences ?? []).find((o) => o.controller);
      if (!ref || scale.has(`${ref.kind}/${ref.name}`)) continue;
      const plural = SCALABLE[ref.kind];
      const owner = plural ? await this.store.get(plural, namespace, ref.name).catch(() => null) : null;
      scale.set(`${ref.kind}/${ref.name}`, owner && owner.metadata.uid === ref.uid ? (owner.spec?.replicas ?? 1) : undefined);
    }
    const { status, recheckAfterMs } = computeStatus(pdb, pods, (kind, n) => scale.get(`${kind}/${n}`), Date.now());
    if (!deepEqual(pdb.status ?? {}, status)) {
      // Compare-and-set on the read resourceVersion: an eviction that spent a disruption meanwhile
      // makes this write fail, and the retry recomputes from the budget it wrote.
      try {
        await this.store.update('poddisruptionbudgets', { ...pdb, status }, { subresource: 'status' });
      } catch (err) {
        if (isConflict(err)) return { requeueAfterMs: 50 };
        if (!isNotFound(err)) throw err;
      }
    }
    return recheckAfterMs !== undefined ? { requeueAfterMs: recheckAfterMs + 100 } : undefined;
  }
}
