// ClusterIP allocation for Services, the API server's job in Kubernetes (the service REST
// strategy): a Service of type ClusterIP, NodePort or LoadBalancer gets a free address from the
// service range on create, keeps it on every update (a PUT that leaves it out carries it over), and
// may never change it. Headless Services (clusterIP: None) and ExternalName Services get none.
import type { KubeObject } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { InternalError, InvalidError } from '../../shared/errors.ts';

function ipToInt(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
    n = n * 256 + Number(p);
  }
  return n;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export class ClusterIpAllocator {
  private readonly base: number;
  private readonly size: number;

  constructor(readonly cidr: string) {
    const [ip, bitsText] = cidr.split('/');
    const bits = Number(bitsText);
    const base = ipToInt(ip);
    if (base === undefined || !Number.isInteger(bits) || bits < 8 || bits > 30) throw new Error(`invalid service CIDR "${cidr}"`);
    this.size = 2 ** (32 - bits);
    this.base = base - (base % this.size);
  }

  contains(ip: string): boolean {
    const n = ipToInt(ip);
    return n !== undefined && n > this.base && n < this.base + this.size - 1;
  }

  /**
   * Sets spec.clusterIP/clusterIPs/ipFamilies/ipFamilyPolicy on a Service about to be written.
   * On update the allocated values carry over from `old` and may not change.
   */
  async admit(store: Store, svc: KubeObject, old?: KubeObject): Promise<void> {
    const spec = (svc.spec ??= {});
    const name = svc.metadata.name ?? svc.metadata.generateName ?? '';
    const invalid = (field: string, value: unknown, message: string) =>
      new InvalidError('Service', name, [{ reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${message}` }]);
    const type = spec.type ?? 'ClusterIP';
    if (type === 'ExternalName') {
      if (old?.spec?.type !== 'ExternalName') return;
      delete spec.clusterIP;
      delete spec.clusterIPs;
      return;
    }
    const oldIp: string | undefined = old?.spec?.type !== 'ExternalName' ? old?.spec?.clusterIP : undefined;
    if (oldIp) {
      // As Kubernetes' patchAllocatedValues: a replace that leaves the address out keeps it.
      if (spec.clusterIP === undefined || spec.clusterIP === '') spec.clusterIP = oldIp;
      if (spec.clusterIP !== oldIp) throw invalid('spec.clusterIPs[0]', spec.clusterIP, 'may not change once set');
      if (!Array.isArray(spec.clusterIPs) || !spec.clusterIPs.length) spec.clusterIPs = old!.spec.clusterIPs ?? [oldIp];
      spec.ipFamilies ??= old!.spec.ipFamilies;
      spec.ipFamilyPolicy ??= old!.spec.ipFamilyPolicy;
      return;
    }
    if (spec.clusterIP === 'None') {
      spec.clusterIPs = ['None'];
    } else if (spec.clusterIP) {
      if (typeof spec.clusterIP !== 'string' || ipToInt(spec.clusterIP) === undefined) throw invalid('spec.clusterIPs[0]', spec.clusterIP, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)');
      if (!this.contains(spec.clusterIP)) throw invalid('spec.clusterIPs[0]', spec.clusterIP, `failed to allocate IP ${spec.clusterIP}: the provided IP (${spec.clusterIP}) is not in the valid range. The range of valid IPs is ${this.cidr}`);
      if ((await this.inUse(store)).has(spec.clusterIP)) throw invalid('spec.clusterIPs[0]', spec.clusterIP, `failed to allocate IP ${spec.clusterIP}: provided IP is already allocated`);
      spec.clusterIPs = [spec.clusterIP];
    } else {
      spec.clusterIP = await this.pick(store);
      spec.clusterIPs = [spec.clusterIP];
    }
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
  }

  private async inUse(store: Store): Promise<Set<string>> {
    const { items } = await store.list('services');
    return new Set(items.map((s) => s.spec?.clusterIP).filter((ip): ip is string => typeof ip === 'string' && ip !== 'None'));
  }

  /** A random free address (the first usable one, .1, is left for the `kubernetes` Service as in Kubernetes). */
  private async pick(store: Store): Promise<string> {
    const used = await this.inUse(store);
    const usable = this.size - 3;
    const start = Math.floor(Math.random() * usable);
    for (let i = 0; i < usable; i++) {
      const ip = intToIp(this.base + 2 + ((start + i) % usable));
      if (!used.has(ip)) return ip;
    }
    throw new InternalError('failed to allocate a serviceIP: range is full');
  }
}
