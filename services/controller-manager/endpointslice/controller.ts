// The EndpointSlice controller: keeps the discovery.k8s.io/v1 EndpointSlices of each
// selector-based Service equal to the pods behind it, beside the Endpoints controller. The
// decision is planEndpointSlices (plan.ts); this adapter reads the Service, its namespace's pods
// and slices and the pods' nodes from the store, and writes the plan: creates, then updates
// (each conditional on the resourceVersion the plan was made from, so a slice changed meanwhile
// makes the reconcile fail and run again on fresh state), then deletes.
//
// Keyed by "namespace/name" of the Service, so the work queue's per-key lock means one reconcile
// per Service at a time across all replicas; every run re-reads everything, so running it again
// changes nothing. A deleted Service's slices are left to the garbage collector, which follows
// their ownerReference.
import type { KubeObject, Pod } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { isNotFound } from '../../../shared/errors.ts';
import { now } from '../../../shared/util.ts';
import { managesSlicesOf, planEndpointSlices, selectedPods, type EndpointSlice } from './plan.ts';

export class PodsOnUnknownNodesError extends Error {
  constructor(readonly service: string, readonly pods: string[]) {
    super(`EndpointSlices of Service ${service} leave out pods whose Node does not exist: ${pods.join(', ')}`);
    this.name = 'PodsOnUnknownNodesError';
  }
}

export class EndpointSliceController {
  constructor(
    private readonly store: Store,
    private readonly clock: () => string = now,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const service = await this.store.get('services', namespace, name);
    if (!service || !managesSlicesOf(service)) return;
    const [pods, slices] = await Promise.all([
      this.store.list<Pod>('pods', namespace),
      this.store.list<EndpointSlice>('endpointslices', namespace),
    ]);
    const nodes = await this.nodesOf(selectedPods(service, pods.items));
    const plan = planEndpointSlices({ service, pods: pods.items, nodes, slices: slices.items, triggerTime: this.clock() });
    if (!plan) return;
    // As the API server would refuse them: no new slices in a namespace being deleted.
    if (plan.create.length && !(await this.namespaceTerminating(namespace))) {
      for (const slice of plan.create) await this.store.create('endpointslices', slice);
    }
    for (const slice of plan.update) await this.store.update('endpointslices', slice);
    for (const slice of plan.delete) {
      await this.store.delete('endpointslices', namespace, slice.metadata.name!, { preconditions: { uid: slice.metadata.uid } }).catch(ignoreNotFound);
    }
    // As Kubernetes: the other pods are written, and the Service is retried (with back-off).
    if (plan.podsOnUnknownNodes.length) throw new PodsOnUnknownNodesError(key, plan.podsOnUnknownNodes);
  }

  private async namespaceTerminating(namespace: string): Promise<boolean> {
    return !!(await this.store.get('namespaces', undefined, namespace))?.metadata.deletionTimestamp;
  }

  /** The nodes the pods run on: their zones label the endpoints. */
  private async nodesOf(pods: Pod[]): Promise<KubeObject[]> {
    const names = [...new Set(pods.map((p) => p.spec.nodeName).filter((n): n is string => !!n))];
    const nodes = await Promise.all(names.map((n) => this.store.get('nodes', undefined, n)));
    return nodes.filter((n): n is KubeObject => !!n);
  }
}

function ignoreNotFound(err: unknown): void {
  if (!isNotFound(err)) throw err;
}
