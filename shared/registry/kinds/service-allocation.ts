// Address allocation for Services, as Kubernetes' service REST storage and its IP and port
// allocators do it, run by admission in the store's write path for every writer: a Service of type
// ClusterIP, NodePort or LoadBalancer gets a free address from the service range, a NodePort or
// LoadBalancer Service a node port per port from the node-port range. Allocated values carry over on every update (a PUT that leaves them out keeps
// them) and the cluster IP may never change. Headless (clusterIP: None) and ExternalName Services get
// no address.
//
// Uniqueness is not decided here: the values are "claims" that the store's write script takes and
// releases atomically with the object (claimsOfService), so two writers racing for one port cannot
// both win. The allocator only picks likely-free values (recorded in the admission context, so the
// store retries a lost race for them) and turns a value the user asked for that is taken into a 422.
import type { KubeObject, StatusCause } from '../../types.ts';
import { InternalError, InvalidError } from '../../errors.ts';
import { intToIpv4, ipv4ToInt } from '../../util.ts';
import type { AdmissionContext, AdmissionSettings, ClusterReader } from '../strategy.ts';

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

/** The values a Service holds exclusively across the cluster: its cluster IP and node ports. */
export function claimsOfService(svc: KubeObject): string[] {
  const out: string[] = [];
  const ip = svc.spec?.clusterIP;
  if (typeof ip === 'string' && ip && ip !== 'None') out.push(clusterIpClaim(ip));
  for (const p of (svc.spec?.ports ?? []) as any[]) if (p?.nodePort) out.push(nodePortClaim(p.protocol, p.nodePort));
  return out;
}

function invalidValue(svc: KubeObject, field: string, value: unknown, message: string): InvalidError {
  const name = svc.metadata.name ?? svc.metadata.generateName ?? '';
  return new InvalidError('Service', name, [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${message}` }]);
}

/** The 422 for a value the user asked for that another Service holds. */
export function claimConflictError(svc: KubeObject, claim: string): InvalidError {
  if (claim.startsWith('clusterip:')) {
    const ip = claim.slice('clusterip:'.length);
    return invalidValue(svc, 'spec.clusterIPs', [ip], `failed to allocate IP ${ip}: provided IP is already allocated`);
  }
  const [, protocol, port] = claim.split(':');
  const index = ((svc.spec?.ports ?? []) as any[]).findIndex((p) => p?.nodePort === Number(port) && (p?.protocol ?? 'TCP') === protocol);
  return invalidValue(svc, `spec.ports[${Math.max(index, 0)}].nodePort`, Number(port), 'provided port is already allocated');
}

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
   * Sets spec.clusterIP/clusterIPs/ipFamilies/ipFamilyPolicy and node ports on a Service about to
   * be written. On update the allocated values carry over from `old`.
   */
  async admit(ctx: AdmissionContext, svc: KubeObject, old?: KubeObject): Promise<void> {
    const { reader, picked } = ctx;
    const spec = (svc.spec ??= {});
    const type = spec.type ?? 'ClusterIP';
    if (type === 'ExternalName') {
      delete spec.clusterIP;
      delete spec.clusterIPs;
      for (const p of (spec.ports ?? []) as any[]) delete p?.nodePort;
      return;
    }
    await this.admitClusterIp(reader, svc, old, picked);
    if (needsNodePorts(svc)) await this.admitNodePorts(reader, svc, old, picked);
  }

  private async admitClusterIp(reader: ClusterReader, svc: KubeObject, old: KubeObject | undefined, picked: Set<string>): Promise<void> {
    const spec = svc.spec!;
    const oldIp: string | undefined = old?.spec?.type !== 'ExternalName' ? old?.spec?.clusterIP : undefined;
    if (oldIp) {
      // As Kubernetes' patchAllocatedValues: a replace that leaves the address out keeps it.
      if (spec.clusterIP === undefined || spec.clusterIP === '') spec.clusterIP = oldIp;
      if (spec.clusterIP !== oldIp) throw invalidValue(svc, 'spec.clusterIPs[0]', spec.clusterIP, 'may not change once set');
      if (!Array.isArray(spec.clusterIPs) || !spec.clusterIPs.length) spec.clusterIPs = old!.spec.clusterIPs ?? [oldIp];
      spec.ipFamilies ??= old!.spec.ipFamilies;
      spec.ipFamilyPolicy ??= old!.spec.ipFamilyPolicy;
      return;
    }
    if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
    } else if (spec.clusterIP) {
      if (typeof spec.clusterIP !== 'string' || ipv4ToInt(spec.clusterIP) === undefined) throw invalidValue(svc, 'spec.clusterIPs[0]', spec.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
      if (!this.contains(spec.clusterIP)) throw invalidValue(svc, 'spec.clusterIPs[0]', spec.clusterIP, `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${this.cidr}`);
      if (await this.isClaimed(reader, clusterIpClaim(spec.clusterIP), svc)) throw claimConflictError(svc, clusterIpClaim(spec.clusterIP));
      spec.clusterIPs = [spec.clusterIP];
    } else {
      // The first usable address (.1) is left for the `kubernetes` Service, as in Kubernetes.
      const usable = this.size - 3;
      const ip = await this.pick(reader, usable, (i) => clusterIpClaim(intToIpv4(this.base + 2 + i)));
      if (ip === undefined) throw new InternalError('failed to allocate a serviceIP: range is full');
      spec.clusterIP = ip.slice('clusterip:'.length);
      spec.clusterIPs = [spec.clusterIP];
      picked.add(ip);
    }
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
  }

  private async admitNodePorts(reader: ClusterReader, svc: KubeObject, old: KubeObject | undefined, picked: Set<string>): Promise<void> {
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
      } else if (await this.isClaimed(reader, claim, svc)) {
        causes.push({ reason: 'FieldValueInvalid', field: `spec.ports[${i}].nodePort`, message: `Invalid value: ${p.nodePort}: provided port is already allocated` });
      }
    }
    if (causes.length) throw new InvalidError('Service', svc.metadata.name ?? svc.metadata.generateName ?? '', causes);
    for (const p of ports) {
      if (!p || typeof p !== 'object' || p.nodePort) continue;
      const taken = new Set(ports.map((q) => q?.nodePort).filter(Boolean));
      const claim = await this.pick(reader, size, (k) => nodePortClaim(p.protocol, base + k), (c) => taken.has(Number(c.split(':')[2])));
      if (claim === undefined) throw new InternalError(`failed to allocate a nodePort: range ${base}-${base + size - 1} is full`);
      p.nodePort = Number(claim.split(':')[2]);
      picked.add(claim);
    }
  }

  private async isClaimed(reader: ClusterReader, claim: string, svc: KubeObject): Promise<boolean> {
    const [owner] = await reader.claimHolders([claim]);
    return owner !== null && owner !== svc.metadata.uid;
  }

  /**
   * A random free value of `count` candidates: a few random probes in one round trip (the range is
   * mostly free), then a scan of the claims for a nearly full one.
   */
  private async pick(reader: ClusterReader, count: number, claimAt: (i: number) => string, skip: (claim: string) => boolean = () => false): Promise<string | undefined> {
    const probes = Array.from({ length: Math.min(16, count) }, () => claimAt(Math.floor(Math.random() * count))).filter((c) => !skip(c));
    if (probes.length) {
      const owners = await reader.claimHolders(probes);
      const free = probes.find((_, i) => owners[i] === null);
      if (free) return free;
    }
    const held = new Set(await reader.heldClaims(claimAt(0).split(':')[0]));
    const start = Math.floor(Math.random() * count);
    for (let i = 0; i < count; i++) {
      const claim = claimAt((start + i) % count);
      if (!held.has(claim) && !skip(claim)) return claim;
    }
    return undefined;
  }
}

const allocators = new Map<string, ServiceAllocator>();

/** The allocator of a cluster's settings (one per service range and node-port range). */
export function allocatorFor(settings: Pick<AdmissionSettings, 'serviceCidr' | 'nodePortRange'>): ServiceAllocator {
  const key = `${settings.serviceCidr}|${settings.nodePortRange}`;
  let allocator = allocators.get(key);
  if (!allocator) allocators.set(key, (allocator = new ServiceAllocator(settings.serviceCidr, settings.nodePortRange)));
  return allocator;
}
