// The root CA publisher (Kubernetes' root-ca-cert-publisher): every active namespace has the
// ConfigMap kube-root-ca.crt holding the cluster CA's certificate under `ca.crt`, which pods'
// kube-api-access volumes project next to their token, so in-cluster clients can verify the API
// server. The certificate is the cluster's public "ca.crt" (made by the API servers' PKI); while
// there is none, nothing is published and the namespace is looked at again later.
//
// Keys: a namespace's name.
import type { KubeObject } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { isAlreadyExists, isNotFound } from '../../../shared/errors.ts';
import { ROOT_CA_CONFIGMAP } from '../../../shared/auth/service-account-admission.ts';

export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
export const DESCRIPTION = 'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** How soon a namespace is looked at again while the cluster has no CA yet. */
export const NO_CA_RETRY_MS = 5_000;

export type RootCaPlan =
  | { action: 'none' }
  | { action: 'wait' }
  | { action: 'create'; configMap: KubeObject }
  | { action: 'update'; data: Record<string, string>; annotations: Record<string, string> };

/** What the namespace's kube-root-ca.crt should become, given the CA. Pure. */
export function planRootCa(ns: KubeObject | null, existing: KubeObject | null, caPem: string | null): RootCaPlan {
  if (!ns || ns.metadata.deletionTimestamp || (ns.status?.phase ?? 'Active') !== 'Active') return { action: 'none' };
  if (!caPem) return { action: 'wait' };
  const data = { 'ca.crt': caPem };
  if (!existing) {
    return {
      action: 'create',
      configMap: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: ROOT_CA_CONFIGMAP, namespace: ns.metadata.name, annotations: { [DESCRIPTION_ANNOTATION]: DESCRIPTION } }, data },
    };
  }
  const annotations = existing.metadata.annotations ?? {};
  const sameData = JSON.stringify(existing.data ?? {}) === JSON.stringify(data) && !existing.binaryData;
  if (sameData && annotations[DESCRIPTION_ANNOTATION] === DESCRIPTION) return { action: 'none' };
  return { action: 'update', data, annotations: { ...annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION } };
}

export class RootCaPublisher {
  constructor(private readonly store: Store) {}

  async reconcile(namespace: string): Promise<ReconcileResult> {
    const ns = await this.store.get('namespaces', undefined, namespace);
    const [existing, ca] = ns ? await Promise.all([this.store.get('configmaps', namespace, ROOT_CA_CONFIGMAP), this.store.clusterCaCertificate()]) : [null, null];
    const plan = planRootCa(ns, existing, ca);
    switch (plan.action) {
      case 'none':
        return;
      case 'wait':
        return { requeueAfterMs: NO_CA_RETRY_MS };
      case 'create':
        await this.store.create('configmaps', plan.configMap).catch((err) => {
          if (isAlreadyExists(err) || isNotFound(err) || (err as { code?: number }).code === 403) return;
          throw err;
        });
        return;
      case 'update':
        await this.store.guaranteedUpdate('configmaps', namespace, ROOT_CA_CONFIGMAP, (cm) => {
          const again = planRootCa(ns, cm, ca);
          if (again.action !== 'update') return null;
          delete cm.binaryData;
          return { ...cm, data: again.data, metadata: { ...cm.metadata, annotations: again.annotations } };
        }).catch((err) => {
          if (!isNotFound(err)) throw err;
        });
    }
  }
}
