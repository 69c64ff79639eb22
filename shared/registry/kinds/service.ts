// core/v1 Service (Kubernetes pkg/registry/core/service/strategy.go, with the address allocation
// its REST storage does: service-allocation.ts).
import type { StatusCause } from '../../types.ts';
import { isIP } from 'node:net';
import { schemaFor } from '../../api/schemas.ts';
import { dnsLabelErrors, dnsSubdomainErrors, duplicate, forbidden, invalid, labelErrors, portNameErrors, portNumErrors, qualifiedNameErrors, required } from '../../api/validation.ts';
import { AGE, NAME, serviceExternalIp, servicePorts } from '../../api/printers.ts';
import { defineStrategy, NAMES, resetStatus } from '../define.ts';
import { resourceInfo } from '../strategy.ts';
import { allocatorFor, claimConflictError, claimsOfService, dropTypeDependentFields } from './service-allocation.ts';

const MAX_CLIENT_IP_AFFINITY_SECONDS = 86400;

/** The (protocol, port) key of a duplicate port, printed as Kubernetes prints its Go value. */
function goServicePort(protocol: string, port: unknown): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

/** As Kubernetes' ExternallyAccessible: where externalTrafficPolicy means something. */
function externallyAccessible(spec: any): boolean {
  const type = spec?.type ?? 'ClusterIP';
  return type === 'LoadBalancer' || type === 'NodePort' || (type === 'ClusterIP' && (spec?.externalIPs ?? []).length > 0);
}

/**
 * Kubernetes' ValidateService (and validateServicePort, validateClientIPAffinityConfig,
 * validateLoadBalancerClassField, validateServiceExternalTrafficPolicy) for what Wharf implements.
 * A Service without a selector is valid: its Endpoints are written by hand (or, for
 * default/kubernetes, by the API servers).
 *
 * Node ports are checked here only as numbers and for duplicates within the Service; the
 * configured range and uniqueness across Services are the allocation's. Values a type change
 * leaves behind unchanged (externalTrafficPolicy after leaving NodePort, loadBalancerClass after
 * leaving LoadBalancer) never reach this: prepareForUpdate drops them first.
 */
function serviceErrors(spec: any): StatusCause[] {
  const out: StatusCause[] = [];
  const type = spec.type ?? 'ClusterIP';
  const headless = spec.clusterIP === 'None';
  const ports: any[] = Array.isArray(spec.ports) ? spec.ports : [];
  if (type !== 'ExternalName' && !headless && ports.length === 0) out.push(required('spec.ports'));
  if (headless && (type === 'LoadBalancer' || type === 'NodePort')) out.push(invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`));
  if (type === 'ExternalName') {
    // The value (a CNAME) may end in a dot, as a fully qualified name.
    const cname = typeof spec.externalName === 'string' ? spec.externalName.replace(/\.$/, '') : '';
    if (cname) out.push(...dnsSubdomainErrors('spec.externalName', cname));
    else out.push(required('spec.externalName'));
  }

  const names = new Set<string>();
  ports.forEach((p: any, i: number) => {
    const f = `spec.ports[${i}]`;
    if (!p || typeof p !== 'object') return;
    if (ports.length > 1 && !p.name) out.push(required(`${f}.name`));
    else if (p.name) {
      out.push(...dnsLabelErrors(`${f}.name`, p.name));
      if (names.has(p.name)) out.push(duplicate(`${f}.name`, p.name));
      names.add(p.name);
    }
    if (p.port !== undefined) out.push(...portNumErrors(`${f}.port`, p.port));
    if (typeof p.targetPort === 'number') out.push(...portNumErrors(`${f}.targetPort`, p.targetPort));
    else if (typeof p.targetPort === 'string') out.push(...portNameErrors(`${f}.targetPort`, p.targetPort));
    if (p.nodePort !== undefined && p.nodePort !== 0) {
      if (type === 'ClusterIP') out.push(forbidden(`${f}.nodePort`, "may not be used when `type` is 'ClusterIP'"));
      else out.push(...portNumErrors(`${f}.nodePort`, p.nodePort));
    }
    if (typeof p.appProtocol === 'string') out.push(...qualifiedNameErrors(`${f}.appProtocol`, p.appProtocol));
  });
  // Duplicates consider (protocol, port) pairs, and (protocol, nodePort) pairs.
  const nodePorts = new Set<string>();
  const pairs = new Set<string>();
  ports.forEach((p: any, i: number) => {
    if (!p || typeof p !== 'object') return;
    const protocol = p.protocol ?? 'TCP';
    if (p.nodePort) {
      const key = `${protocol}/${p.nodePort}`;
      if (nodePorts.has(key)) out.push(duplicate(`spec.ports[${i}].nodePort`, p.nodePort));
      nodePorts.add(key);
    }
    const key = `${protocol}/${p.port}`;
    if (pairs.has(key)) out.push({ reason: 'FieldValueDuplicate', field: `spec.ports[${i}]`, message: `Duplicate value: ${goServicePort(protocol, p.port)}` });
    pairs.add(key);
  });

  out.push(...labelErrors('spec.selector', spec.selector));

  const affinity = spec.sessionAffinity ?? 'None';
  const affinityConfig = spec.sessionAffinityConfig;
  if (affinity === 'ClientIP') {
    const why = 'when session affinity type is ClientIP';
    const timeout = affinityConfig?.clientIP?.timeoutSeconds;
    if (!affinityConfig || typeof affinityConfig !== 'object') out.push(required('spec.sessionAffinityConfig', why));
    else if (!affinityConfig.clientIP || typeof affinityConfig.clientIP !== 'object') out.push(required('spec.sessionAffinityConfig.clientIP', why));
    else if (timeout === undefined || timeout === null) out.push(required('spec.sessionAffinityConfig.clientIP.timeoutSeconds', why));
    else if (!Number.isInteger(timeout) || timeout <= 0 || timeout > MAX_CLIENT_IP_AFFINITY_SECONDS) {
      out.push(invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout, `must be greater than 0 and less than ${MAX_CLIENT_IP_AFFINITY_SECONDS}`));
    }
  } else if (affinity === 'None' && affinityConfig !== undefined && affinityConfig !== null) {
    out.push(forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None'));
  }

  (Array.isArray(spec.externalIPs) ? spec.externalIPs : []).forEach((ip: unknown, i: number) => {
    if (typeof ip !== 'string' || !isIP(ip)) out.push(invalid(`spec.externalIPs[${i}]`, ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });

  const policy = spec.externalTrafficPolicy;
  if (policy !== undefined && policy !== '' && !externallyAccessible(spec)) {
    out.push(invalid('spec.externalTrafficPolicy', policy, 'may only be set for externally-accessible services'));
  }

  const lbClass = spec.loadBalancerClass;
  if (type === 'LoadBalancer') {
    if (typeof lbClass === 'string') out.push(...qualifiedNameErrors('spec.loadBalancerClass', lbClass));
  } else if (lbClass !== undefined && lbClass !== null) {
    out.push(forbidden('spec.loadBalancerClass', "may only be used when `type` is 'LoadBalancer'"));
  }
  return out;
}

function serviceDefaults(spec: any): void {
  if (!spec || typeof spec !== 'object') return;
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.type !== 'ExternalName') {
    spec.internalTrafficPolicy ??= 'Cluster';
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.ipFamilies ??= ['IPv4'];
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || (spec.type === 'ClusterIP' && spec.externalIPs?.length)) spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == null) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
    if (!p || typeof p !== 'object') continue;
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
}

export const serviceStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'services', kind: 'Service', shortNames: ['svc'], categories: ['all'], subresources: ['status'] }),
  schema: schemaFor('Service'),
  statusSubresource: true,
  // A Service's name becomes a DNS label and environment variable names: a DNS-1035 label.
  nameErrors: NAMES.dns1035,
  defaults: (svc) => serviceDefaults(svc.spec),
  prepareForCreate: resetStatus(() => ({ loadBalancer: {} })),
  prepareForUpdate: dropTypeDependentFields,
  validate: (svc) => serviceErrors(svc.spec ?? {}),
  validateUpdate(svc, old) {
    const out: StatusCause[] = [];
    const spec = svc.spec ?? {};
    if (old.spec?.clusterIP && spec.clusterIP !== undefined && spec.clusterIP !== old.spec.clusterIP) out.push(invalid('spec.clusterIPs[0]', spec.clusterIP, 'may not change once set'));
    if (spec.type === 'LoadBalancer' && old.spec?.type === 'LoadBalancer' && (old.spec.loadBalancerClass ?? null) !== (spec.loadBalancerClass ?? null)) {
      out.push(invalid('spec.loadBalancerClass', spec.loadBalancerClass, 'may not change once set'));
    }
    return out;
  },
  admit: (svc, old, ctx) => allocatorFor(ctx.settings).admit(ctx, svc, old),
  claims: claimsOfService,
  claimConflict: claimConflictError,
  columns: [
    NAME,
    { name: 'Type', description: 'The type of the service.', cell: (s) => s.spec?.type ?? 'ClusterIP' },
    { name: 'Cluster-IP', description: 'The cluster IP of the service.', cell: (s) => s.spec?.clusterIP || '<none>' },
    { name: 'External-IP', description: 'The external IP of the service.', cell: serviceExternalIp },
    { name: 'Port(s)', description: 'The ports of the service.', cell: servicePorts },
    AGE,
    { name: 'Selector', priority: 1, description: 'The label selector of the service.', cell: (s) => Object.entries(s.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>' },
  ],
});
