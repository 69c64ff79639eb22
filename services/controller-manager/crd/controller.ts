// Kubernetes' CRD finalizer controller (apiextensions-apiserver pkg/controller/finalizer): a
// CustomResourceDefinition being deleted carries the customresourcecleanup finalizer and a
// Terminating condition; this removes every object of its kind (each object's own finalizers are
// honoured: it waits for them), then says so in the condition and removes the finalizer, which
// lets the CRD go. Keyed by the CRD's name.
import type { KubeObject } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import { isNotFound } from '../../../shared/errors.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { CRD_CLEANUP_FINALIZER, CRD_PLURAL } from '../../../shared/registry/kinds/customresourcedefinition.ts';
import { findByPath } from '../../../shared/api/resources.ts';

const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');

/** What a CRD's cleanup does next, from the objects of its kind still stored. */
export function cleanupPlan(remaining: KubeObject[]): { delete: KubeObject[]; done: boolean } {
  return { delete: remaining.filter((o) => !o.metadata.deletionTimestamp), done: remaining.length === 0 };
}

export class CrdCleanupController {
  constructor(private readonly store: Store) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const crd = await this.store.get(CRD_PLURAL, undefined, name);
    if (!crd || !crd.metadata.deletionTimestamp || !(crd.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) return;
    const storage = (crd.spec?.versions ?? []).find((v: any) => v?.storage)?.name;
    const resource = findByPath(crd.spec.group, storage, crd.spec.names.plural);
    // This process has not installed the kind yet (its CRD sync is a moment behind): look again soon.
    if (!resource) return { requeueAfterMs: 500 };
    const { items } = await this.store.list(resource);
    const plan = cleanupPlan(items);
    for (const obj of plan.delete) {
      await this.store.delete(resource, obj.metadata.namespace, obj.metadata.name!).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
    if (!plan.done) return { requeueAfterMs: 1000 };
    await this.store.guaranteedUpdate(CRD_PLURAL, undefined, name, (cur) => {
      if (cur.metadata.uid !== crd.metadata.uid) return null;
      const conditions = (cur.status?.conditions ?? []).filter((c: any) => c.type !== 'Terminating');
      conditions.push({ type: 'Terminating', status: 'False', lastTransitionTime: nowIso(), reason: 'InstanceDeletionCompleted', message: 'removed all instances' });
      return { ...cur, status: { ...cur.status, conditions } };
    }, { subresource: 'status' }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
    await this.store.guaranteedUpdate(CRD_PLURAL, undefined, name, (cur) => {
      if (cur.metadata.uid !== crd.metadata.uid) return null;
      const finalizers = (cur.metadata.finalizers ?? []).filter((f) => f !== CRD_CLEANUP_FINALIZER);
      if (finalizers.length) cur.metadata.finalizers = finalizers;
      else delete cur.metadata.finalizers;
      return cur;
    }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
