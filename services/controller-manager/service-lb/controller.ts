// The service load-balancer controller (k3s's ServiceLB on a local cluster): keeps each
// LoadBalancer Service's status.loadBalancer equal to the ready nodes' addresses, through the
// status subresource, and clears it when a Service stops being a LoadBalancer. The decisions are
// in plan.ts; this adapter reads, writes only on a difference, and records the events Kubernetes'
// service controller records.
//
// Keys: "namespace/name" reconciles one Service. NODES_KEY, enqueued on any change of a Node,
// finds the Services whose status the nodes have made stale and enqueues them, so each Service is
// still written by its own key's reconcile (one at a time across replicas, by the queue's lock).
import type { KubeObject, Node } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { isNotFound } from '../../../shared/errors.ts';
import { concernsServiceLb, planServiceLb, servicesOutOfSync, wantsLoadBalancer, type Plan } from './plan.ts';

/** The key of "the nodes changed" (no '/', so never a Service's key). */
export const NODES_KEY = 'nodes';

export class ServiceLoadBalancerController {
  constructor(
    private readonly store: Store,
    private readonly recorder: EventRecorder,
    private readonly enqueue: (keys: string[]) => Promise<void>,
  ) {}

  async reconcile(key: string): Promise<ReconcileResult> {
    if (key === NODES_KEY) return this.syncNodes();
    const [namespace, name] = key.split('/');
    const svc = await this.store.get('services', namespace, name);
    if (!svc || !concernsServiceLb(svc)) return;
    const nodes = wantsLoadBalancer(svc) ? (await this.store.list<Node>('nodes')).items : [];
    const plan = planServiceLb(svc, nodes);
    if (plan.action === 'none') return;

    await this.before(svc, plan);
    const outcome: { svc?: KubeObject; plan?: Plan } = {};
    try {
      await this.store.guaranteedUpdate('services', namespace, name, (cur) => {
        // Decide again on what is stored now: a conflict retry may find the Service changed.
        const again = planServiceLb(cur, nodes);
        outcome.svc = outcome.plan = undefined;
        if (again.action === 'none') return null;
        cur.status = { ...cur.status, loadBalancer: again.loadBalancer };
        Object.assign(outcome, { svc: cur, plan: again });
        return cur;
      }, { subresource: 'status' });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    if (outcome.svc && outcome.plan) await this.after(outcome.svc, outcome.plan);
  }

  /** After any node change: enqueue the LoadBalancer Services whose ingress no longer matches. */
  private async syncNodes(): Promise<ReconcileResult> {
    const services = (await this.store.list('services')).items.filter(wantsLoadBalancer);
    if (!services.length) return;
    const nodes = (await this.store.list<Node>('nodes')).items;
    const stale = servicesOutOfSync(services, nodes);
    if (stale.length) await this.enqueue(stale.map((s) => `${s.metadata.namespace}/${s.metadata.name}`));
  }

  private async before(svc: KubeObject, plan: Plan): Promise<void> {
    if (plan.action === 'clear') return this.recorder.normal(svc, 'DeletingLoadBalancer', 'Deleting load balancer');
    if (plan.action === 'ensure') await this.recorder.normal(svc, 'EnsuringLoadBalancer', 'Ensuring load balancer');
    if ((plan.action === 'ensure' || plan.action === 'update-hosts') && !plan.available) {
      await this.recorder.warning(svc, 'UnAvailableLoadBalancer', 'There are no available nodes for LoadBalancer');
    }
  }

  private async after(svc: KubeObject, plan: Plan): Promise<void> {
    if (plan.action === 'clear') return this.recorder.normal(svc, 'DeletedLoadBalancer', 'Deleted load balancer');
    if (plan.action === 'ensure') return this.recorder.normal(svc, 'EnsuredLoadBalancer', 'Ensured load balancer');
    if (plan.action === 'update-hosts') return this.recorder.normal(svc, 'UpdatedLoadBalancer', 'Updated load balancer with new hosts');
  }
}
