// The node IPAM controller (kube-controller-manager's nodeipam with --allocate-node-cidrs and the
// RangeAllocator): every Node gets one block of the cluster's pod network in spec.podCIDR (and
// spec.podCIDRs), which its agent gives its pod bridge and every other agent routes to it. Blocks
// are reserved in Redis by a script, so controller managers running side by side never give one
// block to two nodes; a deleted node's block is given back. Key = node name.
import type { Node } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { EventRecorder } from '../../../shared/events.ts';
import type { Logger } from '../../../shared/log.ts';
import type { ReconcileResult } from '../../../shared/queue/workqueue.ts';
import { blockAt, blockCount, type Cidr } from '../../../shared/pod-cidr.ts';
import { isNotFound } from '../../../shared/errors.ts';
import { planNodeCidr } from './plan.ts';

/** How soon a node is looked at again when the cluster CIDR is full (a node may be deleted meanwhile). */
const FULL_RETRY_MS = 10_000;

export class NodeIpamController {
  private readonly blocks: number;

  constructor(
    private readonly store: Store,
    private readonly events: EventRecorder,
    private readonly cluster: Cidr,
    private readonly maskSize: number,
    private readonly log: Logger,
  ) {
    this.blocks = blockCount(cluster, maskSize);
  }

  async reconcile(name: string): Promise<ReconcileResult> {
    const node = await this.store.get<Node>('nodes', undefined, name);
    const plan = planNodeCidr(node, this.cluster, this.maskSize);
    if (plan.action === 'release') {
      const released = await this.store.releasePodCidr(name);
      if (released) this.log.info({ node: name }, 'node IPAM: released the pod CIDR of a deleted node');
      return;
    }
    if (plan.action === 'foreign') {
      this.log.warn({ node: name, podCIDR: plan.cidr }, 'node IPAM: the node\'s podCIDR is not a block of the cluster CIDR; left alone');
      return;
    }
    const index = await this.store.allocatePodCidr(name, this.blocks, plan.wanted);
    if (index === 'full') {
      await this.events.record(node!, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      return { requeueAfterMs: FULL_RETRY_MS };
    }
    if (index === 'taken') {
      await this.events.record(node!, 'Warning', 'CIDRAssignmentFailed', `Node ${name} names podCIDR ${node!.spec!.podCIDR}, which is allocated to another node`);
      return;
    }
    const cidr = blockAt(this.cluster, this.maskSize, index);
    if (node!.spec?.podCIDR === cidr) return;
    try {
      await this.store.guaranteedUpdate<Node>('nodes', undefined, name, (cur) => {
        if (cur.spec?.podCIDR) return null; // set meanwhile (by another replica: the same block)
        cur.spec = { ...cur.spec, podCIDR: cidr, podCIDRs: [cidr] };
        return cur;
      });
      this.log.info({ node: name, podCIDR: cidr }, 'node IPAM: allocated a pod CIDR');
    } catch (err) {
      if (isNotFound(err)) return this.reconcile(name); // deleted meanwhile: give the block back
      await this.events.record(node!, 'Warning', 'CIDRAssignmentFailed', `Node ${name} status is now: CIDRAssignmentFailed`).catch(() => undefined);
      throw err;
    }
  }

  /** Every node, and every holder of a block (a node deleted while no controller ran). */
  async resyncKeys(): Promise<string[]> {
    const names = new Set((await this.store.list('nodes')).items.map((n) => n.metadata.name!));
    for (const holder of await this.store.podCidrHolders()) names.add(holder);
    return [...names];
  }
}
