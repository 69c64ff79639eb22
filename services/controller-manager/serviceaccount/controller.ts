// The ServiceAccounts controller (Kubernetes' serviceaccounts-controller): every active namespace
// has a ServiceAccount named `default`, made again if deleted. Pods name it when they name none,
// and the ServiceAccount admission refuses pods whose ServiceAccount is missing, so it is made as
// soon as the namespace appears (a namespace event is enough; resync is the safety net).
//
// Keys: a namespace's name.
import type { KubeObject } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { isAlreadyExists, isNotFound } from '../../../shared/errors.ts';
import { DEFAULT_SERVICE_ACCOUNT } from '../../../shared/auth/service-account-admission.ts';

/** Whether the namespace should have its default ServiceAccount made now. Pure. */
export function needsDefaultServiceAccount(ns: KubeObject | null, existing: KubeObject | null): boolean {
  if (!ns || ns.metadata.deletionTimestamp || (ns.status?.phase ?? 'Active') !== 'Active') return false;
  return !existing;
}

export class ServiceAccountsController {
  constructor(private readonly store: Store) {}

  async reconcile(namespace: string): Promise<ReconcileResult> {
    const ns = await this.store.get('namespaces', undefined, namespace);
    const existing = ns ? await this.store.get('serviceaccounts', namespace, DEFAULT_SERVICE_ACCOUNT) : null;
    if (!needsDefaultServiceAccount(ns, existing)) return;
    await this.store.create('serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } }).catch((err) => {
      // Made by another replica, or the namespace began terminating meanwhile (403) or went (404).
      if (isAlreadyExists(err) || isNotFound(err) || (err as { code?: number }).code === 403) return;
      throw err;
    });
  }
}
