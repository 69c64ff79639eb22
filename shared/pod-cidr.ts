// The pod network across hosts (host-gw, as flannel's backend of that name): the cluster CIDR is cut
// into one block per node (Kubernetes' node IPAM, the range allocator of kube-controller-manager),
// each node's pods take addresses from its own block, and every host routes the other blocks to
// their nodes' addresses. Pure functions over IPv4 CIDRs, for the controller and the agents.
import { intToIpv4, ipv4ToInt } from './util.ts';

export interface Cidr {
  base: number;
  bits: number;
}

export function parseCidr(text: string): Cidr | undefined {
  const [ip, bitsText] = text.split('/');
  const n = ipv4ToInt(ip ?? '');
  const bits = Number(bitsText);
  if (n === undefined || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  if (n % size !== 0) return undefined;
  return { base: n, bits };
}

export function formatCidr(c: Cidr): string {
  return `${intToIpv4(c.base)}/${c.bits}`;
}

/** How many node blocks of `maskSize` bits the cluster CIDR holds. */
export function blockCount(cluster: Cidr, maskSize: number): number {
  return 2 ** (maskSize - cluster.bits);
}

/** The index-th node block, as "a.b.c.d/m". */
export function blockAt(cluster: Cidr, maskSize: number, index: number): string {
  return formatCidr({ base: cluster.base + index * 2 ** (32 - maskSize), bits: maskSize });
}

/** Which block of the cluster CIDR `cidr` is, or undefined when it is not exactly one of them. */
export function blockIndex(cluster: Cidr, maskSize: number, cidr: string): number | undefined {
  const c = parseCidr(cidr);
  if (!c || c.bits !== maskSize || !contains(cluster, c.base)) return undefined;
  return (c.base - cluster.base) / 2 ** (32 - maskSize);
}

export function contains(c: Cidr, ip: number): boolean {
  return ip >= c.base && ip < c.base + 2 ** (32 - c.bits);
}

/** The address of a pod bridge's gateway in a node block: its first. */
export function gatewayOf(cidr: string): string | undefined {
  const c = parseCidr(cidr);
  return c ? intToIpv4(c.base + 1) : undefined;
}

export interface NodeRoute {
  cidr: string;
  via: string;
}

interface NodeLike {
  metadata: { name?: string };
  spec?: { podCIDR?: string };
  status?: { addresses?: { type: string; address: string }[] };
}

/**
 * The routes a host needs: every other node's pod block via that node's InternalIP. A node with no
 * block or no address yet has no route; so has one whose block is not in the cluster CIDR.
 */
export function planRoutes(self: string, nodes: NodeLike[], cluster: Cidr): NodeRoute[] {
  const routes: NodeRoute[] = [];
  for (const n of nodes) {
    if (n.metadata.name === self) continue;
    const cidr = n.spec?.podCIDR;
    const via = n.status?.addresses?.find((a) => a.type === 'InternalIP')?.address;
    const c = cidr ? parseCidr(cidr) : undefined;
    if (!c || !via || ipv4ToInt(via) === undefined || !contains(cluster, c.base)) continue;
    routes.push({ cidr: formatCidr(c), via });
  }
  return routes.sort((a, b) => a.cidr.localeCompare(b.cidr));
}

/** What to change: routes to add or replace (new or moved), and the blocks no longer routed. */
export function diffRoutes(installed: Map<string, string>, wanted: NodeRoute[]): { replace: NodeRoute[]; remove: string[] } {
  const want = new Map(wanted.map((r) => [r.cidr, r.via]));
  return {
    replace: wanted.filter((r) => installed.get(r.cidr) !== r.via),
    remove: [...installed.keys()].filter((cidr) => !want.has(cidr)),
  };
}
