// The namespace controller: a namespace being deleted is emptied of every namespaced object,
// then its "kubernetes" finalizer is removed and the namespace itself goes.
import type { Store } from '../../../shared/store/store.ts';
import { STORED_RESOURCES } from '../../../shared/api/resources.ts';
import { isNotFound } from '../../../shared/errors.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';

export class NamespaceController {
  constructor(private readonly store: Store) {}

  async reconcile(name: string): Promise<ReconcileResult> {
    const ns = await this.store.get('namespaces', undefined, name);
    if (!ns || !ns.metadata.deletionTimestamp) return;
    let remaining = 0;
    for (const r of STORED_RESOURCES.filter((x) => x.namespaced)) {
      const { items } = await this.store.list(r, name);
      remaining += items.length;
      for (const obj of items) {
        if (obj.metadata.deletionTimestamp) continue;
        await this.store.delete(r, name, obj.metadata.name!, { propagationPolicy: 'Background' }).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
      }
    }
    if (remaining > 0) return { requeueAfterMs: 1000 };
    await this.store.guaranteedUpdate('namespaces', undefined, name, (cur) => {
      cur.spec = { ...cur.spec, finalizers: (cur.spec?.finalizers ?? []).filter((f: string) => f !== 'kubernetes') };
      return cur;
    }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}
