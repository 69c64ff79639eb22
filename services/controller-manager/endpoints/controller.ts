// The Endpoints controller: keeps each selector-based Service's Endpoints object equal to the
// addresses of the pods behind it, so that whatever routes Service traffic follows pods as they
// come, go and change readiness.
import type { KubeObject, Pod } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import { isAlreadyExists, isNotFound } from '../../../shared/errors.ts';
import { deepEqual, now } from '../../../shared/util.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { endpointSubsets } from './plan.ts';

const HEADLESS = 'service.kubernetes.io/headless';

export class EndpointsController {
  constructor(private readonly store: Store) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const svc = await this.store.get('services', namespace, name);
    const current = await this.store.get('endpoints', namespace, name);
    if (!svc) {
      if (current) await this.store.delete('endpoints', namespace, name).catch(ignoreNotFound);
      return;
    }
    const { items } = await this.store.list<Pod>('pods', namespace);
    const subsets = endpointSubsets(svc, items);
    if (subsets === undefined) return; // no selector: the user manages this Service's Endpoints
    const labels: Record<string, string> = { ...svc.metadata.labels };
    if (svc.spec?.clusterIP === 'None') labels[HEADLESS] = '';
    if (current && deepEqual(current.subsets ?? [], subsets) && deepEqual(current.metadata.labels ?? {}, labels)) return;
    const desired: KubeObject = {
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: {
        name,
        namespace,
        labels,
        annotations: { 'endpoints.kubernetes.io/last-change-trigger-time': now() },
      },
      subsets,
    };
    if (!current) {
      await this.store.create('endpoints', desired).catch((err) => {
        if (!isAlreadyExists(err)) throw err;
      });
      return;
    }
    await this.store.guaranteedUpdate('endpoints', namespace, name, (cur) => {
      cur.metadata.labels = labels;
      cur.metadata.annotations = { ...cur.metadata.annotations, ...desired.metadata.annotations };
      cur.subsets = subsets;
      return cur;
    }).catch(ignoreNotFound);
  }
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}
