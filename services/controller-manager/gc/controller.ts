// The garbage collector, keyed by owner uid: when an owner is gone its dependents go too
// (or lose their reference, if another owner remains); an owner deleted with Orphan releases its
// dependents first, one deleted in Foreground waits until its dependents are gone.
import type { KubeObject } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER } from '../../../shared/store/store.ts';
import { isNotFound } from '../../../shared/errors.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';

export class GarbageCollector {
  constructor(private readonly store: Store) {}

  async reconcile(ownerUid: string): Promise<ReconcileResult> {
    const where = await this.store.locateUid(ownerUid);
    const owner = where ? await this.store.get(where.resource, where.namespace || undefined, where.name) : null;
    const dependents = await this.store.dependentsOf(ownerUid);
    if (owner && owner.metadata.uid === ownerUid) {
      const finalizers = owner.metadata.finalizers ?? [];
      if (!owner.metadata.deletionTimestamp) return;
      if (finalizers.includes(ORPHAN_FINALIZER)) {
        for (const dep of dependents) await this.dropOwnerRef(dep, ownerUid);
        await this.removeFinalizer(where!, ownerUid, ORPHAN_FINALIZER);
        return;
      }
      if (finalizers.includes(FOREGROUND_FINALIZER)) {
        for (const dep of dependents) await this.deleteDependent(dep, 'Foreground');
        if ((await this.store.dependentsOf(ownerUid)).length === 0) {
          await this.removeFinalizer(where!, ownerUid, FOREGROUND_FINALIZER);
          return;
        }
        return { requeueAfterMs: 1000 };
      }
      return;
    }
    // The owner is gone.
    for (const dep of dependents) {
      const obj = await this.store.get(dep.resource, dep.namespace || undefined, dep.name);
      if (!obj) continue;
      const others = (obj.metadata.ownerReferences ?? []).filter((o) => o.uid !== ownerUid);
      const survivors = await Promise.all(others.map((o) => this.store.locateUid(o.uid)));
      if (survivors.some(Boolean)) await this.dropOwnerRef(dep, ownerUid);
      else await this.deleteDependent(dep, 'Background');
    }
    if ((await this.store.dependentsOf(ownerUid)).length === 0) await this.store.forgetDependents(ownerUid);
  }

  private async dropOwnerRef(dep: { resource: string; namespace: string; name: string }, ownerUid: string): Promise<void> {
    await this.store.guaranteedUpdate(dep.resource, dep.namespace || undefined, dep.name, (obj: KubeObject) => {
      const refs = (obj.metadata.ownerReferences ?? []).filter((o) => o.uid !== ownerUid);
      if (refs.length === (obj.metadata.ownerReferences ?? []).length) return null;
      obj.metadata.ownerReferences = refs.length ? refs : undefined;
      if (!refs.length) delete obj.metadata.ownerReferences;
      return obj;
    }).catch(ignoreNotFound);
  }

  private async deleteDependent(dep: { resource: string; namespace: string; name: string }, policy: 'Background' | 'Foreground'): Promise<void> {
    await this.store.delete(dep.resource, dep.namespace || undefined, dep.name, { propagationPolicy: policy }).catch(ignoreNotFound);
  }

  private async removeFinalizer(where: { resource: string; namespace: string; name: string }, uid: string, finalizer: string): Promise<void> {
    await this.store.guaranteedUpdate(where.resource, where.namespace || undefined, where.name, (obj: KubeObject) => {
      if (obj.metadata.uid !== uid) return null;
      const rest = (obj.metadata.finalizers ?? []).filter((f) => f !== finalizer);
      obj.metadata.finalizers = rest;
      if (!rest.length) delete obj.metadata.finalizers;
      return obj;
    }).catch(ignoreNotFound);
  }
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}
