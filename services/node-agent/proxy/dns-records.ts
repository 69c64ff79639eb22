// The cluster's DNS names, as Kubernetes' DNS specification defines them (what CoreDNS's kubernetes
// plugin serves), decided from Services and Endpoints alone (pure):
//   <svc>.<ns>.svc.<domain>            A: the cluster IP; a headless Service: its ready pods' IPs
//   <host>.<svc>.<ns>.svc.<domain>     A: a headless Service's pod that has a hostname
//   _<port>._<proto>.<svc>.<ns>.svc.<domain>   SRV: each named port
//   <a-b-c-d>.<ns>.pod.<domain>        A: a.b.c.d
//   <svc>.<ns>.svc.<domain> of an ExternalName Service: CNAME to spec.externalName
//   reverse (in-addr.arpa) of a cluster IP: PTR to the Service's name
// Anything outside the cluster domain is someone else's: the server forwards it.
import type { KubeObject } from '../../../shared/types.ts';

export type RecordType = 'A' | 'AAAA' | 'SRV' | 'PTR' | 'CNAME' | 'TXT' | string;

export interface Answer {
  name: string;
  type: 'A' | 'SRV' | 'PTR' | 'CNAME';
  ttl: number;
  data: string | { priority: number; weight: number; port: number; target: string };
}

export type Resolution =
  | { kind: 'answer'; answers: Answer[] } // NOERROR; no answers = the name exists but not with this type
  | { kind: 'nxdomain' }
  | { kind: 'forward' };

const TTL = 5; // short: Services and pods change; CoreDNS's default is 5 s too

interface ServiceEntry {
  clusterIP?: string;
  headless: { ip: string; hostname?: string }[];
  ports: { name: string; protocol: string; port: number }[];
  externalName?: string;
}

export class DnsIndex {
  private readonly services = new Map<string, ServiceEntry>(); // "<svc>.<ns>"
  private readonly namespaces = new Set<string>();
  private readonly reverse = new Map<string, string>(); // cluster IP -> fqdn

  constructor(readonly domain: string, services: KubeObject[], endpoints: KubeObject[]) {
    const eps = new Map(endpoints.map((e) => [`${e.metadata.name}.${e.metadata.namespace}`, e]));
    for (const svc of services) {
      const key = `${svc.metadata.name}.${svc.metadata.namespace}`;
      const spec = svc.spec ?? {};
      this.namespaces.add(svc.metadata.namespace!);
      const entry: ServiceEntry = { headless: [], ports: [] };
      if (spec.type === 'ExternalName') entry.externalName = spec.externalName;
      else if (spec.clusterIP && spec.clusterIP !== 'None') entry.clusterIP = spec.clusterIP;
      else {
        for (const subset of (eps.get(key)?.subsets ?? []) as any[]) {
          for (const a of subset.addresses ?? []) if (a?.ip) entry.headless.push({ ip: a.ip, hostname: a.hostname });
        }
        entry.headless.sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
      }
      for (const p of (spec.ports ?? []) as any[]) if (p?.name) entry.ports.push({ name: p.name, protocol: (p.protocol ?? 'TCP').toLowerCase(), port: p.port });
      this.services.set(key, entry);
      if (entry.clusterIP) this.reverse.set(entry.clusterIP, `${key}.svc.${domain}`);
    }
  }

  resolve(rawName: string, type: RecordType): Resolution {
    const name = rawName.toLowerCase().replace(/\.$/, '');
    if (name.endsWith('.in-addr.arpa')) return this.resolveReverse(name, type);
    const suffix = `.${this.domain}`;
    if (name !== this.domain && !name.endsWith(suffix)) return { kind: 'forward' };
    const labels = name === this.domain ? [] : name.slice(0, -suffix.length).split('.');
    // <...>.svc.<domain> and <...>.pod.<domain>; the bare zone and its two sub-zones exist, empty.
    if (labels.length === 0 || (labels.length === 1 && (labels[0] === 'svc' || labels[0] === 'pod'))) return { kind: 'answer', answers: [] };
    const zone = labels[labels.length - 1];
    if (zone === 'pod') return this.resolvePod(name, labels.slice(0, -1), type);
    if (zone !== 'svc') return { kind: 'nxdomain' };
    const rest = labels.slice(0, -1);
    if (rest.length === 1) return this.namespaces.has(rest[0]) ? { kind: 'answer', answers: [] } : { kind: 'nxdomain' };
    if (rest.length === 2) return this.resolveService(name, rest[0], rest[1], type);
    if (rest.length === 3 && rest[0].startsWith('_')) return this.services.has(`${rest[1]}.${rest[2]}`) ? { kind: 'answer', answers: [] } : { kind: 'nxdomain' }; // _proto.<svc>.<ns>: an empty non-terminal
    if (rest.length === 4 && rest[0].startsWith('_') && rest[1].startsWith('_')) return this.resolveSrv(name, rest[0].slice(1), rest[1].slice(1), rest[2], rest[3], type);
    if (rest.length === 3) return this.resolveEndpointHost(name, rest[0], rest[1], rest[2], type);
    return { kind: 'nxdomain' };
  }

  private resolveService(name: string, svc: string, ns: string, type: RecordType): Resolution {
    const entry = this.services.get(`${svc}.${ns}`);
    if (!entry) return { kind: 'nxdomain' };
    if (entry.externalName) {
      return { kind: 'answer', answers: [{ name, type: 'CNAME', ttl: TTL, data: entry.externalName.replace(/\.$/, '') }] };
    }
    if (type === 'A') {
      const ips = entry.clusterIP ? [entry.clusterIP] : entry.headless.map((h) => h.ip);
      return { kind: 'answer', answers: ips.map((ip) => ({ name, type: 'A', ttl: TTL, data: ip })) };
    }
    if (type === 'SRV') {
      // All ports of the Service, as CoreDNS answers a bare service name's SRV query.
      return { kind: 'answer', answers: entry.ports.map((p) => ({ name, type: 'SRV', ttl: TTL, data: { priority: 0, weight: 100, port: p.port, target: name } })) };
    }
    return { kind: 'answer', answers: [] };
  }

  private resolveSrv(name: string, port: string, proto: string, svc: string, ns: string, type: RecordType): Resolution {
    const entry = this.services.get(`${svc}.${ns}`);
    const p = entry?.ports.find((x) => x.name === port && x.protocol === proto);
    if (!entry || !p) return { kind: 'nxdomain' };
    if (type !== 'SRV') return { kind: 'answer', answers: [] };
    const target = `${svc}.${ns}.svc.${this.domain}`;
    if (entry.clusterIP) return { kind: 'answer', answers: [{ name, type: 'SRV', ttl: TTL, data: { priority: 0, weight: 100, port: p.port, target } }] };
    return {
      kind: 'answer',
      answers: entry.headless.map((h) => ({ name, type: 'SRV', ttl: TTL, data: { priority: 0, weight: 100, port: p.port, target: `${h.hostname ?? h.ip.replaceAll('.', '-')}.${target}` } })),
    };
  }

  private resolveEndpointHost(name: string, host: string, svc: string, ns: string, type: RecordType): Resolution {
    const entry = this.services.get(`${svc}.${ns}`);
    const match = entry?.headless.find((h) => h.hostname === host || h.ip.replaceAll('.', '-') === host);
    if (!match) return { kind: 'nxdomain' };
    return { kind: 'answer', answers: type === 'A' ? [{ name, type: 'A', ttl: TTL, data: match.ip }] : [] };
  }

  private resolvePod(name: string, labels: string[], type: RecordType): Resolution {
    if (labels.length !== 2) return labels.length === 1 ? { kind: 'answer', answers: [] } : { kind: 'nxdomain' };
    const m = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$/.exec(labels[0]);
    if (!m || m.slice(1).some((o) => Number(o) > 255)) return { kind: 'nxdomain' };
    return { kind: 'answer', answers: type === 'A' ? [{ name, type: 'A', ttl: TTL, data: m.slice(1).join('.') }] : [] };
  }

  private resolveReverse(name: string, type: RecordType): Resolution {
    const octets = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (octets.length !== 4) return { kind: 'forward' };
    const fqdn = this.reverse.get(octets.reverse().join('.'));
    if (!fqdn) return { kind: 'forward' };
    return { kind: 'answer', answers: type === 'PTR' ? [{ name, type: 'PTR', ttl: TTL, data: fqdn }] : [] };
  }
}

/** resolv.conf of a pod, from its dnsPolicy and dnsConfig (as the kubelet builds it). */
export interface PodDns {
  /** undefined: the node's own resolver configuration (dnsPolicy: Default). */
  nameservers?: string[];
  searches?: string[];
  options?: string[];
}

export function podDnsConfig(pod: KubeObject, cluster: { dnsServiceIp: string; domain: string }): PodDns {
  const spec = pod.spec ?? {};
  const policy = spec.dnsPolicy ?? 'ClusterFirst';
  const extra = spec.dnsConfig ?? {};
  const options = (extra.options ?? []).map((o: { name: string; value?: string }) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name));
  // As the kubelet: a pod on the node's network keeps the node's resolver under ClusterFirst; it
  // asks for the cluster's with ClusterFirstWithHostNet.
  const clusterFirst = policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && spec.hostNetwork !== true);
  if (policy === 'None') return { nameservers: extra.nameservers ?? [], searches: extra.searches ?? [], options };
  if (!clusterFirst) {
    return extra.nameservers || extra.searches || options.length ? { nameservers: extra.nameservers, searches: extra.searches, options } : {};
  }
  const ns = pod.metadata.namespace ?? 'default';
  const searches = [`${ns}.svc.${cluster.domain}`, `svc.${cluster.domain}`, cluster.domain, ...(extra.searches ?? [])];
  const merged = new Map<string, string>([['ndots', 'ndots:5']]);
  for (const o of options) merged.set(o.split(':')[0], o);
  return { nameservers: [cluster.dnsServiceIp, ...(extra.nameservers ?? [])].slice(0, 3), searches: [...new Set(searches)].slice(0, 32), options: [...merged.values()] };
}
