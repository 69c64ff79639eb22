// What a node's service proxy should serve, decided from Services and Endpoints alone (pure): one
// listener per (address, port, protocol) — the cluster IP and port, the node port on every address
// of the node, the Service port on the node's addresses for a LoadBalancer (as k3s's ServiceLB
// does) — each with the ready endpoints of its Service port. And how a listener picks a backend:
// round robin, or the same backend per client address with sessionAffinity: ClientIP.
import type { KubeObject } from '../../../shared/types.ts';

export type Protocol = 'TCP' | 'UDP';

export interface Backend {
  ip: string;
  port: number;
}

export interface ListenerSpec {
  /** `${protocol}/${host}:${port}`: what a socket is bound to. */
  id: string;
  host: string;
  port: number;
  protocol: Protocol;
  /** namespace/name:portName */
  servicePort: string;
  backends: Backend[];
  /** sessionAffinity: ClientIP, with its timeout. */
  affinityMs?: number;
  /**
   * "namespace/name" of the Service when an HTTPScaledObject scales it (TCP only): its connections
   * are counted, and held while it has no ready endpoint instead of refused (the activator).
   */
  activate?: string;
}

export interface PlanOptions {
  /** Addresses a LoadBalancer Service's port answers on (the node's, and loopback on a local cluster). */
  nodeAddresses: string[];
  /** Cluster IPs served by something else (the node's own DNS server). */
  reservedIps: Set<string>;
  /** "namespace/name" of the Services an HTTPScaledObject scales. */
  activatable?: Set<string>;
}

const DEFAULT_AFFINITY_SECONDS = 10_800; // Kubernetes' default for sessionAffinityConfig.clientIP.timeoutSeconds

/** The class Wharf's own load balancer serves (no class counts as ours), as the controller manager's. */
export const LOAD_BALANCER_CLASS = 'wharf.io/service-lb';
const ownLoadBalancer = (spec: any) => !spec.loadBalancerClass || spec.loadBalancerClass === LOAD_BALANCER_CLASS;

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** The ready backends of one Service port, from its Endpoints (ports matched by name, as kube-proxy does). */
export function backendsOf(endpoints: KubeObject | undefined, portName: string, protocol: Protocol): Backend[] {
  const out: Backend[] = [];
  for (const subset of (endpoints?.subsets ?? []) as any[]) {
    const port = (subset.ports ?? []).find((p: any) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === protocol);
    if (!port) continue;
    for (const a of subset.addresses ?? []) if (a?.ip) out.push({ ip: a.ip, port: port.port });
  }
  return out.sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

export function planListeners(services: KubeObject[], endpoints: KubeObject[], opts: PlanOptions): ListenerSpec[] {
  const endpointsByKey = new Map(endpoints.map((e) => [keyOf(e), e]));
  const byId = new Map<string, ListenerSpec>();
  const add = (l: Omit<ListenerSpec, 'id'>) => {
    const id = `${l.protocol}/${l.host}:${l.port}`;
    // Two Services asking for one host port (two LoadBalancers on port 80): the older one keeps it.
    if (!byId.has(id)) byId.set(id, { id, ...l });
  };
  const ordered = [...services].sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || keyOf(a).localeCompare(keyOf(b)));
  for (const svc of ordered) {
    const spec = svc.spec ?? {};
    const type = spec.type ?? 'ClusterIP';
    if (type === 'ExternalName') continue;
    const clusterIP: string | undefined = spec.clusterIP && spec.clusterIP !== 'None' ? spec.clusterIP : undefined;
    if (clusterIP && opts.reservedIps.has(clusterIP)) continue;
    const affinityMs = spec.sessionAffinity === 'ClientIP'
      ? (spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? DEFAULT_AFFINITY_SECONDS) * 1000
      : undefined;
    const ep = endpointsByKey.get(keyOf(svc));
    for (const p of (spec.ports ?? []) as any[]) {
      const protocol: Protocol = p.protocol === 'UDP' ? 'UDP' : 'TCP';
      if (p.protocol === 'SCTP') continue;
      const portName = p.name ?? '';
      const activate = protocol === 'TCP' && opts.activatable?.has(keyOf(svc)) ? { activate: keyOf(svc) } : {};
      const common = { protocol, servicePort: `${keyOf(svc)}:${portName}`, backends: backendsOf(ep, portName, protocol), ...(affinityMs ? { affinityMs } : {}), ...activate };
      // A headless Service has no virtual address: clients reach pods directly through DNS.
      if (!clusterIP) continue;
      add({ host: clusterIP, port: p.port, ...common });
      if ((type === 'NodePort' || type === 'LoadBalancer') && p.nodePort) add({ host: '0.0.0.0', port: p.nodePort, ...common });
      if (type === 'LoadBalancer' && ownLoadBalancer(spec)) for (const host of opts.nodeAddresses) add({ host, port: p.port, ...common });
    }
  }
  return [...byId.values()];
}

/**
 * Picks backends for one listener. Round robin over the current backends; with affinity, a client
 * address keeps its backend while that backend stays and the client keeps coming back in time.
 */
export class Balancer {
  private next = 0;
  private backends: Backend[] = [];
  private readonly affinity = new Map<string, { backend: Backend; lastUsed: number }>();

  constructor(private affinityMs?: number) {}

  update(backends: Backend[], affinityMs?: number): void {
    this.backends = backends;
    this.affinityMs = affinityMs;
    if (!affinityMs) this.affinity.clear();
    const live = new Set(backends.map(backendKey));
    for (const [client, entry] of this.affinity) if (!live.has(backendKey(entry.backend))) this.affinity.delete(client);
  }

  get size(): number {
    return this.backends.length;
  }

  /** A backend for this client, avoiding those already tried for this connection. */
  pick(clientIp: string, now: number, tried: Set<string> = new Set()): Backend | undefined {
    if (this.affinityMs) {
      const held = this.affinity.get(clientIp);
      if (held && now - held.lastUsed <= this.affinityMs && !tried.has(backendKey(held.backend))) {
        held.lastUsed = now;
        return held.backend;
      }
    }
    for (let i = 0; i < this.backends.length; i++) {
      const candidate = this.backends[(this.next + i) % this.backends.length];
      if (tried.has(backendKey(candidate))) continue;
      this.next = (this.next + i + 1) % this.backends.length;
      if (this.affinityMs) this.affinity.set(clientIp, { backend: candidate, lastUsed: now });
      return candidate;
    }
    return undefined;
  }

  /** Drops a backend at once (its pod is being killed), before the Endpoints say so. */
  remove(ip: string): boolean {
    const before = this.backends.length;
    this.backends = this.backends.filter((b) => b.ip !== ip);
    for (const [client, entry] of this.affinity) if (entry.backend.ip === ip) this.affinity.delete(client);
    return this.backends.length !== before;
  }

  expire(now: number): void {
    if (!this.affinityMs) return;
    for (const [client, entry] of this.affinity) if (now - entry.lastUsed > this.affinityMs) this.affinity.delete(client);
  }
}

export const backendKey = (b: Backend) => `${b.ip}:${b.port}`;
