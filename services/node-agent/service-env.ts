// The Service environment variables a kubelet gives every container (pkg/kubelet/envvars and
// getServiceEnvVarMap): for each Service with a cluster IP in the pod's namespace (unless the pod
// turns enableServiceLinks off) and always for default/kubernetes, NAME_SERVICE_HOST and
// NAME_SERVICE_PORT — which in-cluster clients read to find the API — and Docker's link variables.
import type { KubeObject } from '../../shared/types.ts';

/** The Services whose variables a pod in `namespace` gets (Kubernetes' getServiceEnvVarMap). Pure. */
export function servicesForEnv(services: KubeObject[], namespace: string, enableServiceLinks: boolean): KubeObject[] {
  const byName = new Map<string, KubeObject>();
  for (const svc of services) {
    const ip = svc.spec?.clusterIP;
    if (!ip || ip === 'None') continue;
    const name = svc.metadata.name!;
    if (svc.metadata.namespace === 'default' && name === 'kubernetes') {
      if (!byName.has(name)) byName.set(name, svc);
    } else if (svc.metadata.namespace === namespace && enableServiceLinks) {
      byName.set(name, svc);
    }
  }
  return [...byName.values()];
}

const envName = (s: string) => s.replace(/-/g, '_').toUpperCase();

/** Kubernetes' envvars.FromServices: the variables of these Services, in its order. Pure. */
export function serviceEnvVars(services: KubeObject[]): [string, string][] {
  const out: [string, string][] = [];
  for (const svc of services) {
    const ip: string = svc.spec?.clusterIP;
    const ports: { name?: string; port: number; protocol?: string }[] = svc.spec?.ports ?? [];
    if (!ip || ip === 'None' || !ports.length) continue;
    const prefix = envName(svc.metadata.name!);
    out.push([`${prefix}_SERVICE_HOST`, ip]);
    out.push([`${prefix}_SERVICE_PORT`, String(ports[0].port)]);
    for (const p of ports) if (p.name) out.push([`${prefix}_SERVICE_PORT_${envName(p.name)}`, String(p.port)]);
    ports.forEach((p, i) => {
      const protocol = p.protocol || 'TCP';
      const url = `${protocol.toLowerCase()}://${ip}:${p.port}`;
      if (i === 0) out.push([`${prefix}_PORT`, url]);
      const portPrefix = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out.push([portPrefix, url], [`${portPrefix}_PROTO`, protocol.toLowerCase()], [`${portPrefix}_PORT`, String(p.port)], [`${portPrefix}_ADDR`, ip]);
    });
  }
  return out;
}
