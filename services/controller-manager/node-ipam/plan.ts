// Node IPAM decisions (Kubernetes' range allocator, pkg/controller/nodeipam/ipam/range_allocator.go):
// a node with no spec.podCIDR gets the next free block of the cluster CIDR; a node that names one
// already (it was given it before, or by hand) has that block marked as its own; a deleted node's
// block goes back. Pure; the controller reads and writes.
import { blockIndex, type Cidr } from '../../../shared/pod-cidr.ts';
import type { Node } from '../../../shared/types.ts';

export type IpamPlan =
  /** The node is gone: give its block back. */
  | { action: 'release' }
  /** Reserve a block (the one of this index, or any free one when -1) and write it to the spec. */
  | { action: 'allocate'; wanted: number }
  /** The spec names a block outside the cluster CIDR or of another size: nothing to reserve. */
  | { action: 'foreign'; cidr: string };

export function planNodeCidr(node: Node | null | undefined, cluster: Cidr, maskSize: number): IpamPlan {
  if (!node || node.metadata.deletionTimestamp) return { action: 'release' };
  const cidr = node.spec?.podCIDR;
  if (!cidr) return { action: 'allocate', wanted: -1 };
  const index = blockIndex(cluster, maskSize, cidr);
  return index === undefined ? { action: 'foreign', cidr } : { action: 'allocate', wanted: index };
}
