// Address allocation for Services, the API server's job in Kubernetes (the service REST strategy
// and its IP and port allocators): a Service of type ClusterIP, NodePort or LoadBalancer gets a
// free address from the service range, a NodePort or LoadBalancer Service a node port per port from
// the node-port range. Allocated values carry over on every update (a PUT that leaves them out keeps
// them) and the cluster IP may never change. Headless (clusterIP: None) and ExternalName Services get
// no address.
//
// Uniqueness is not decided here: the values are "claims" that the store's write script takes and
// releases atomically with the object (see claimsOf), so two API servers racing for one port cannot
// both win. The allocator only picks likely-free values and turns a lost race into a retry (for a
// value it picked) or a 422 (for a value the user asked for).
import type { KubeObject } from '../../shared/types.ts';
import { ClaimedError, type Store } from '../../shared/store/store.ts';
import type { StatusCause } from '../../shared/types.ts';
import { InternalError, InvalidError } from '../../shared/errors.ts';
import { intToIpv4, ipv4ToInt } from '../../shared/util.ts';

export interface PortRange {
  base: number;
  size: number;
}

/** "30000-32767" (Kubernetes' --service-node-port-range syntax). */
export function parsePortRange(text: string): PortRange {
  const m = /^(\d+)-(\d+)$/.exec(text.trim());
  const lo = m ? Number(m[1]) : NaN;
  const hi = m ? Number(m[2]) : NaN;
  if (!m || lo < 1 || hi > 65535 || lo > hi) throw new Error(`invalid node port range "${text}"`);
  return { base: lo, size: hi - lo + 1 };
}

const needsNodePorts = (svc: KubeObject | undefined): boolean => {
  const type = svc?.spec?.type ?? 'ClusterIP';
  return type === 'NodePort' || (type === 'LoadBalancer' && svc?.spec?.allocateLoadBalancerNodePorts !== false);
};

export const clusterIpClaim = (ip: string) => `clusterip:${ip}`;
export const nodePortClaim = (protocol: string | undefined, port: number) => `nodeport:${protocol ?? 'TCP'}:${port}`;

/**
 * As Kubernetes' dropTypeDependentFields: a Service leaving NodePort/LoadBalancer loses the node
 * ports it was given, unless the user changed them in the same request (then validation speaks).
 * Runs before validation, so `kubectl apply` of a type change is not refused for stale values.
 */
export function dropTypeDependentFields(svc: KubeObject, old: KubeObject): void {
  const spec = svc.spec ?? {};
  const type = spec.type ?? 'ClusterIP';
  if (needsNodePorts(old) && !needsNodePorts(svc)) {
    const oldPorts = new Map(((old.spec?.ports ?? []) as any[]).map((p) => [p?.name ?? '', p?.nodePort]));
    const ports = (spec.ports ?? []) as any[];
    if (ports.every((p) => !p?.nodePort || oldPorts.get(p?.name ?? '') === p.nodePort)) {
      for (const p of ports) if (p && typeof p === 'object') delete p.nodePort;
    }
  }
  // Fields that only mean something for the old type go with it, if the request left them unchanged.
  if (type !== 'NodePort' && type !== 'LoadBalancer' && !(spec.externalIPs ?? []).length && spec.externalTrafficPolicy === old.spec?.externalTrafficPolicy) {
    delete spec.externalTrafficPolicy;
  }
  if (type !== 'LoadBalancer' && old.spec?.type === 'LoadBalancer') {
    delete spec.healthCheckNodePort;
    if (spec.loadBalancerClass === old.spec?.loadBalancerClass) delete spec.loadBalancerClass;
    if (spec.allocateLoadBalancerNodePorts === old.spec?.allocateLoadBalancerNodePorts) delete spec.allocateLoadBalancerNodePorts;
  }
}

/** What the allocator chose by itself for one write: losing a race for these is retried, not refused. */
export type Picked = Set<string>;

export class ServiceAllocator {
  private readonly base: number;
  private readonly size: number;
  readonly nodePorts: PortRange;

  constructor(readonly cidr: string, readonly nodePortRange = '30000-32767') {
    const [ip, bitsText] = cidr.split('/');
    const bits = Number(bitsText);
    const base = ipv4ToInt(ip);
    if (base === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30) throw new Error(`invalid service CIDR "${cidr}"`);
    this.size = 2 ** (32 - bits);
    this.base = base - (base % this.size);
    this.nodePorts = parsePortRange(nodePortRange);
  }

  contains(ip: string): boolean {
    const n = ipv4ToInt(ip);
    return n !== undefined && n > this.base && n < this.base + this.size - 1;
  }

  /**
   * Writes a Service through `write`, allocating first; a value this allocator picked that another
   * writer took in the meantime is picked again, a value the user asked for is a 422.
   */
  async write<T>(store: Store, svc: KubeObject, old: KubeObject | undefined, write: (svc: KubeObject) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const candidate = structuredClone(svc);
      const picked = await this.admit(store, candidate, old);
      try {
        return await write(candidate);
      } catch (err) {
        if (!(err instanceof ClaimedError)) throw err;
        if (!picked.has(err.claim) || attempt >= 10) throw this.claimedError(candidate, err.claim);
      }
    }
  }

  /**
   * Sets spec.clusterIP/clusterIPs/ipFamilies/ipFamilyPolicy and node ports on a Service about to
   * be written. On update the allocated values carry over from `old`.
   */
  async admit(store: Store, svc: KubeObject, old?: KubeObject): Promise<Picked> {
    const picked: Picked = new Set();
    const spec = (svc.spec ??= {});
    const type = spec.type ?? 'ClusterIP';
    if (type === 'ExternalName') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
      for (const p of (spec.ports ?? []) as any[]) delete p?.nodePort;
      return picked;
    }
    await this.admitClusterIp(store, svc, old, picked);
    if (needsNodePorts(svc)) await this.admitNodePorts(store, svc, old, picked);
    return picked;
  }

  private invalid(svc: KubeObject, field: string, value: unknown, message: string): InvalidError {
    const name = svc.metadata.name ?? svc.metadata.generateName ?? '';
    return new InvalidError('Service', name, [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${message}` }]);
  }

  private claimedError(svc: KubeObject, claim: string): InvalidError {
    if (claim.startsWith('clusterip:')) {
      const ip = claim.slice('clusterip:'.length);
      return this.invalid(svc, 'spec.clusterIPs', [ip], `failed to allocate IP ${ip}: provided IP is already allocated`);
    }
    const [, protocol, port] = claim.split(':');
    const index = ((svc.spec?.ports ?? []) as any[]).findIndex((p) => p?.nodePort === Number(port) && (p?.protocol ?? 'TCP') === protocol);
    return this.invalid(svc, `spec.ports[${Math.max(index, 0)}].nodePort`, Number(port), 'provided port is already allocated');
  }

  private async admitClusterIp(store: Store, svc: KubeObject, old: KubeObject | undefined, picked: Picked): Promise<void> {
    const spec = svc.spec!;
    const oldIp: string | undefined = old?.spec?.type !== 'ExternalName' ? old?.spec?.clusterIP : undefined;
    if (oldIp) {
      // As Kubernetes' patchAllocatedValues: a replace that leaves the address out keeps it.
      if (spec.clusterIP === undefined || spec.clusterIP === '') spec.clusterIP = oldIp;
      if (spec.clusterIP !== oldIp) throw this.invalid(svc, 'spec.clusterIPs[0]', spec.clusterIP, 'may not change once set');
      if (!Array.isArray(spec.clusterIPs) || !spec.clusterIPs.length) spec.clusterIPs = old!.spec.clusterIPs ?? [oldIp];
      spec.ipFamilies ??= old!.spec.ipFamilies;
      spec.ipFamilyPolicy ??= old!.spec.ipFamilyPolicy;
      return;
    }
    if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
    } else if (spec.clusterIP) {
      if (typeof spec.clusterIP !== 'string' || ipv4ToInt(spec.clusterIP) === undefined) throw this.invalid(svc, 'spec.clusterIPs[0]', spec.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
      if (!this.contains(spec.clusterIP)) throw this.invalid(svc, 'spec.clusterIPs[0]', spec.clusterIP, `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${this.cidr}`);
      if (await this.isClaimed(store, clusterIpClaim(spec.clusterIP), svc)) throw this.claimedError(svc, clusterIpClaim(spec.clusterIP));
      spec.clusterIPs = [spec.clusterIP];
    } else {
      // The first usable address (.1) is left for the `kubernetes` Service, as in Kubernetes.
      const usable = this.size - 3;
      const ip = await this.pick(store, usable, (i) => clusterIpClaim(intToIpv4(this.base + 2 + i)));
      if (ip === undefined) throw new InternalError('failed to allocate a serviceIP: range is full');
      spec.clusterIP = ip.slice('clusterip:'.length);
      spec.clusterIPs = [spec.clusterIP];
      picked.add(ip);
    }
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
  }

  private async admitNodePorts(store: Store, svc: KubeObject, old: KubeObject | undefined, picked: Picked): Promise<void> {
    const ports = (svc.spec!.ports ?? []) as any[];
    if (needsNodePorts(old)) {
      // As Kubernetes: node ports left out of a replace come back by port name, unless reused.
      const inNew = new Set(ports.map((p) => p?.nodePort).filter(Boolean));
      const byName = new Map(((old!.spec?.ports ?? []) as any[]).map((p) => [p?.name ?? '', p?.nodePort]));
      for (const p of ports) {
        if (!p || typeof p !== 'object' || p.nodePort) continue;
        const previous = byName.get(p.name ?? '');
        if (previous && !inNew.has(previous)) {
          p.nodePort = previous;
          inNew.add(previous);
        }
      }
    }
    const held = new Set(((old?.spec?.ports ?? []) as any[]).filter((p) => p?.nodePort).map((p) => nodePortClaim(p.protocol, p.nodePort)));
    const causes: StatusCause[] = [];
    const { base, size } = this.nodePorts;
    for (const [i, p] of ports.entries()) {
      if (!p || typeof p !== 'object' || !p.nodePort) continue;
      const claim = nodePortClaim(p.protocol, p.nodePort);
      if (held.has(claim)) continue;
      if (p.nodePort < base || p.nodePort >= base + size) {
        causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is not in the valid range. The range of valid ports is ${base}-${base + size - 1}` });
      } else if (await this.isClaimed(store, claim, svc)) {
        causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is already allocated` });
      }
    }
    if (causes.length) throw new InvalidError('Service', svc.metadata.name ?? svc.metadata.generateName ?? '', causes);
    for (const p of ports) {
      if (!p || typeof p !== 'object' || p.nodePort) continue;
      const taken = new Set(ports.map((q) => q?.nodePort).filter(Boolean));
      const claim = await this.pick(store, size, (k) => nodePortClaim(p.protocol, base + k), (c) => taken.has(Number(c.split(':')[2])));
      if (claim === undefined) throw new InternalError(`failed to allocate a nodePort: range ${base}-${base + size - 1} is full`);
      p.nodePort = Number(claim.split(':')[2]);
      picked.add(claim);
    }
  }

  private async isClaimed(store: Store, claim: string, svc: KubeObject): Promise<boolean> {
    const owner = await store.redis.hget(store.keys.claims, claim);
    return owner !== null && owner !== svc.metadata.uid;
  }

  /**
   * A random free value of `count` candidates: a few random probes in one round trip (the range is
   * mostly free), then a scan of the claims for a nearly full one.
   */
  private async pick(store: Store, count: number, claimAt: (i: number) => string, skip: (claim: string) => boolean = () => false): Promise<string | undefined> {
    const probes = Array.from({ length: Math.min(16, count) }, () => claimAt(Math.floor(Math.random() * count))).filter((c) => !skip(c));
    if (probes.length) {
      const owners = await store.redis.hmget(store.keys.claims, ...probes);
      const free = probes.find((_, i) => owners[i] === null);
      if (free) return free;
    }
    const held = new Set(await store.redis.hkeys(store.keys.claims));
    const start = Math.floor(Math.random() * count);
    for (let i = 0; i < count; i++) {
      const claim = claimAt((start + i) % count);
      if (!held.has(claim) && !skip(claim)) return claim;
    }
    return undefined;
  }
}
