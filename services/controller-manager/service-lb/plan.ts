// Pure decisions of the service load-balancer controller, a local cluster's stand-in for a cloud's
// load balancers as k3s's ServiceLB is: a Service of type LoadBalancer is reachable on every ready
// node, so its status.loadBalancer.ingress lists those nodes' InternalIPs (sorted, each once, in
// the Service's IP families). A Service that stops being a LoadBalancer loses its ingress; a
// Service whose spec.loadBalancerClass names another implementation is never touched.
import { isIP } from 'node:net';
import type { KubeObject, Node } from '../../../shared/types.ts';
import { deepEqual } from '../../../shared/util.ts';

/** The spec.loadBalancerClass this controller implements; Services without a class are ours too. */
export const SERVICE_LB_CLASS = 'wharf.io/service-lb';

/** As Kubernetes' service controller: nodes carrying this label are left out of load balancers. */
export const EXCLUDE_FROM_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

export interface LoadBalancerIngress {
  ip: string;
  ipMode: 'VIP';
}

export type LoadBalancerStatus = { ingress?: LoadBalancerIngress[] };

/**
 * What to do about one Service: nothing; provision it (its first ingress, or still none because no
 * node is ready); point it at a changed set of nodes; or take its ingress away.
 */
export type Plan =
  | { action: 'none' }
  | { action: 'ensure'; loadBalancer: LoadBalancerStatus; available: boolean }
  | { action: 'update-hosts'; loadBalancer: LoadBalancerStatus; available: boolean }
  | { action: 'clear'; loadBalancer: LoadBalancerStatus };

/** True when the Service's class leaves it to this controller. */
export function isOurClass(svc: KubeObject): boolean {
  const cls = svc.spec?.loadBalancerClass;
  return cls === undefined || cls === null || cls === SERVICE_LB_CLASS;
}

/** A Service this controller should give a load balancer. */
export function wantsLoadBalancer(svc: KubeObject): boolean {
  return svc.spec?.type === 'LoadBalancer' && isOurClass(svc) && !svc.metadata.deletionTimestamp;
}

function currentIngress(svc: KubeObject): unknown[] {
  const ingress = svc.status?.loadBalancer?.ingress;
  return Array.isArray(ingress) ? ingress : [];
}

/** Whether a change of this Service can concern the controller (a cheap filter for the change feed). */
export function concernsServiceLb(svc: KubeObject): boolean {
  return isOurClass(svc) && (svc.spec?.type === 'LoadBalancer' || currentIngress(svc).length > 0);
}

/** As the service controller's node predicate: Ready, not going away, not excluded by label. */
export function nodeServesLoadBalancers(node: Node): boolean {
  if (node.metadata.deletionTimestamp) return false;
  if (node.metadata.labels && EXCLUDE_FROM_LB_LABEL in node.metadata.labels) return false;
  return (node.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

function compareIps(a: string, b: string): number {
  if (isIP(a) === 4 && isIP(b) === 4) {
    const n = (ip: string) => ip.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    return n(a) - n(b);
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The ingress a LoadBalancer Service should show: one entry per ready node's InternalIP. */
export function desiredIngress(svc: KubeObject, nodes: Node[]): LoadBalancerIngress[] {
  const families: string[] = Array.isArray(svc.spec?.ipFamilies) && svc.spec.ipFamilies.length ? svc.spec.ipFamilies : ['IPv4'];
  const ips = new Set<string>();
  for (const node of nodes) {
    if (!nodeServesLoadBalancers(node)) continue;
    for (const a of node.status?.addresses ?? []) if (a.type === 'InternalIP' && isIP(a.address)) ips.add(a.address);
  }
  const ordered: string[] = [];
  for (const family of families) {
    const version = family === 'IPv6' ? 6 : 4;
    ordered.push(...[...ips].filter((ip) => isIP(ip) === version).sort(compareIps));
  }
  return ordered.map((ip) => ({ ip, ipMode: 'VIP' }));
}

/** The one decision: compares what the Service shows with what it should show. */
export function planServiceLb(svc: KubeObject, nodes: Node[]): Plan {
  if (!isOurClass(svc)) return { action: 'none' };
  const current = currentIngress(svc);
  if (!wantsLoadBalancer(svc)) {
    // Like Kubernetes, a Service that no longer wants a load balancer shows an empty status.
    return current.length ? { action: 'clear', loadBalancer: {} } : { action: 'none' };
  }
  const ingress = desiredIngress(svc, nodes);
  if (deepEqual(current, ingress) && svc.status?.loadBalancer) return { action: 'none' };
  const loadBalancer: LoadBalancerStatus = ingress.length ? { ingress } : {};
  return { action: current.length ? 'update-hosts' : 'ensure', loadBalancer, available: ingress.length > 0 };
}

/** The Services whose status is behind the nodes: what a change of nodes must resync. */
export function servicesOutOfSync(services: KubeObject[], nodes: Node[]): KubeObject[] {
  return services.filter((s) => wantsLoadBalancer(s) && planServiceLb(s, nodes).action !== 'none');
}
