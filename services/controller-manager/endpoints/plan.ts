// Pure decision of the Endpoints controller: which pod addresses and ports back a Service. Ready
// pods are addresses, pods not yet ready are notReadyAddresses (unless publishNotReadyAddresses),
// terminating and finished pods are neither; a targetPort by name resolves per pod through its
// containers' named ports, and addresses with the same resolved ports share a subset.
import type { KubeObject, Pod } from '../../../shared/types.ts';
import { isPodReady } from '../../../shared/api/podutil.ts';
import { selectorMatches } from '../../../shared/api/selectors.ts';

export interface EndpointAddress {
  ip: string;
  /** The pod's hostname, when its subdomain is this Service: cluster DNS names it HOSTNAME.SERVICE. */
  hostname?: string;
  nodeName?: string;
  targetRef: { kind: 'Pod'; namespace: string; name: string; uid: string };
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports: EndpointPort[];
}

function resolveTargetPort(svcPort: any, pod: Pod): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(String(target))) return Number(target);
  for (const c of pod.spec.containers) {
    const p = (c.ports ?? []).find((x) => x.name === target && (x.protocol ?? 'TCP') === (svcPort.protocol ?? 'TCP'));
    if (p) return p.containerPort;
  }
  return undefined;
}

/** The subsets of a Service's Endpoints, or undefined when the Service has no selector (user-managed). */
export function endpointSubsets(svc: KubeObject, pods: Pod[]): EndpointSubset[] | undefined {
  const selector = svc.spec?.selector as Record<string, string> | undefined;
  if (!selector || Object.keys(selector).length === 0) return undefined;
  const publishNotReady = !!svc.spec?.publishNotReadyAddresses;
  const groups = new Map<string, EndpointSubset>();
  const candidates = pods
    .filter((p) => p.metadata.namespace === svc.metadata.namespace)
    .filter((p) => selectorMatches({ matchLabels: selector }, p.metadata.labels))
    .filter((p) => p.status?.podIP && !p.metadata.deletionTimestamp && p.status.phase !== 'Succeeded' && p.status.phase !== 'Failed')
    .sort((a, b) => (a.status!.podIP! < b.status!.podIP! ? -1 : a.status!.podIP! > b.status!.podIP! ? 1 : 0));
  for (const pod of candidates) {
    const ports: EndpointPort[] = [];
    for (const sp of (svc.spec?.ports ?? []) as any[]) {
      const port = resolveTargetPort(sp, pod);
      if (port !== undefined) ports.push({ ...(sp.name ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP' });
    }
    // A headless Service without ports still lists its pods.
    if (!ports.length && (svc.spec?.ports ?? []).length) continue;
    const key = JSON.stringify(ports);
    const subset = groups.get(key) ?? { ports };
    groups.set(key, subset);
    const address: EndpointAddress = {
      ip: pod.status!.podIP!,
      ...(pod.spec.hostname && pod.spec.subdomain === svc.metadata.name ? { hostname: pod.spec.hostname } : {}),
      ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
    };
    if (isPodReady(pod) || publishNotReady) (subset.addresses ??= []).push(address);
    else (subset.notReadyAddresses ??= []).push(address);
  }
  return [...groups.values()];
}
