// core/v1 Node (Kubernetes pkg/registry/core/node/strategy.go). Nodes are registered by their
// agents with their status; their allocatable resources feed the store's node accounting.
import { schemaFor } from '../../api/schemas.ts';
import { forbidden } from '../../api/validation.ts';
import { nodeAllocatable } from '../../api/podutil.ts';
import { AGE, NAME, nodeRoles, nodeStatus } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo, type UsageOp } from '../strategy.ts';

export const nodeStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'nodes', kind: 'Node', namespaced: false, shortNames: ['no'], subresources: ['status'] }),
  schema: schemaFor('Node'),
  statusSubresource: true,
  nameErrors: NAMES.subdomain,
  // As Kubernetes' ValidateNodeUpdate: a node's pod CIDRs are set once (by the node IPAM controller)
  // and never changed, since its pods' addresses and every host's routes follow from them.
  validateUpdate: (node, old) => {
    const cidrs = (n: typeof node) => n.spec?.podCIDRs ?? (n.spec?.podCIDR ? [n.spec.podCIDR] : []);
    const before = cidrs(old);
    const after = cidrs(node);
    if (!before.length || (before.length === after.length && before.every((c: string, i: number) => c === after[i]))) return [];
    return [forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid')];
  },
  nodeUsage(op, node): UsageOp {
    const name = node.metadata.name!;
    if (op === 'delete') return { op: 'allocatable', node: name, cpu: 0, mem: 0, pods: 0 };
    const alloc = nodeAllocatable(node);
    return alloc ? { op: 'allocatable', node: name, cpu: alloc.cpuMillis, mem: alloc.memoryBytes, pods: alloc.pods } : { op: '' };
  },
  columns: [
    NAME,
    { name: 'Status', description: 'The status of the node', cell: nodeStatus },
    { name: 'Roles', description: 'The roles of the node', cell: nodeRoles },
    AGE,
    { name: 'Version', description: 'Kubelet Version reported by the node.', cell: (n) => n.status?.nodeInfo?.kubeletVersion ?? '' },
    { name: 'Internal-IP', priority: 1, description: 'List of internal IPs for the node.', cell: (n) => (n.status?.addresses ?? []).find((a: any) => a.type === 'InternalIP')?.address ?? '<none>' },
    { name: 'External-IP', priority: 1, description: 'List of external IPs for the node.', cell: (n) => (n.status?.addresses ?? []).find((a: any) => a.type === 'ExternalIP')?.address ?? '<none>' },
    { name: 'OS-Image', priority: 1, description: 'OS image reported by the node.', cell: (n) => n.status?.nodeInfo?.osImage ?? '<unknown>' },
    { name: 'Kernel-Version', priority: 1, description: 'Kernel version reported by the node.', cell: (n) => n.status?.nodeInfo?.kernelVersion ?? '<unknown>' },
    { name: 'Container-Runtime', priority: 1, description: 'Container runtime reported by the node.', cell: (n) => n.status?.nodeInfo?.containerRuntimeVersion ?? '<unknown>' },
  ],
});
