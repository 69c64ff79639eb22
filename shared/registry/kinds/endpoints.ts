// core/v1 Endpoints (Kubernetes pkg/registry/core/endpoint/strategy.go): written by the endpoints
// controller for Services with a selector, and by hand (or by the API servers, for
// default/kubernetes) for Services without one.
import type { StatusCause } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { dnsLabelErrors, dnsSubdomainErrors, endpointIpErrors, portNumErrors, required, serviceRangeErrors, unsupported } from '../../api/validation.ts';
import { InvalidError } from '../../errors.ts';
import { AGE, NAME, endpointsList } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];

/** Kubernetes' validateEndpointAddress: a real, non-special IP (no loopback, link-local, unspecified). */
function addressErrors(field: string, address: any): StatusCause[] {
  const out = typeof address?.ip === 'string' ? endpointIpErrors(`${field}.ip`, address.ip) : [required(`${field}.ip`)];
  if (typeof address?.hostname === 'string' && address.hostname) out.push(...dnsLabelErrors(`${field}.hostname`, address.hostname));
  if (typeof address?.nodeName === 'string' && address.nodeName) out.push(...dnsSubdomainErrors(`${field}.nodeName`, address.nodeName));
  return out;
}

function subsetErrors(field: string, subset: any): StatusCause[] {
  const out: StatusCause[] = [];
  const addresses: any[] = Array.isArray(subset?.addresses) ? subset.addresses : [];
  const notReady: any[] = Array.isArray(subset?.notReadyAddresses) ? subset.notReadyAddresses : [];
  if (!addresses.length && !notReady.length) out.push(required(field, 'must specify `addresses` or `notReadyAddresses`'));
  addresses.forEach((a, i) => out.push(...addressErrors(`${field}.addresses[${i}]`, a)));
  notReady.forEach((a, i) => out.push(...addressErrors(`${field}.notReadyAddresses[${i}]`, a)));
  const ports: any[] = Array.isArray(subset?.ports) ? subset.ports : [];
  ports.forEach((p, i) => {
    const f = `${field}.ports[${i}]`;
    if (ports.length > 1 && !p?.name) out.push(required(`${f}.name`));
    else if (typeof p?.name === 'string' && p.name) out.push(...dnsLabelErrors(`${f}.name`, p.name));
    out.push(...portNumErrors(`${f}.port`, p?.port));
    if (p?.protocol === undefined) out.push(required(`${f}.protocol`));
    else if (!PROTOCOLS.includes(p.protocol)) out.push(unsupported(`${f}.protocol`, p.protocol, PROTOCOLS));
  });
  return out;
}

export const endpointsStrategy = defineStrategy({
  resource: resourceInfo({ plural: 'endpoints', kind: 'Endpoints', singular: 'endpoints', shortNames: ['ep'] }),
  schema: schemaFor('Endpoints'),
  nameErrors: NAMES.subdomain,
  defaults(ep) {
    for (const s of Array.isArray(ep.subsets) ? ep.subsets : []) {
      for (const p of Array.isArray(s?.ports) ? s.ports : []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
    }
  },
  validate: (ep) => (Array.isArray(ep.subsets) ? ep.subsets : []).flatMap((s: any, i: number) => subsetErrors(`subsets[${i}]`, s)),
  // The Service range is the cluster's setting, so it is checked here rather than in validate.
  async admit(ep, _old, ctx) {
    const causes = (Array.isArray(ep.subsets) ? ep.subsets : []).flatMap((s: any, i: number) =>
      (['addresses', 'notReadyAddresses'] as const).flatMap((list) =>
        (Array.isArray(s?.[list]) ? s[list] : []).flatMap((a: any, j: number) =>
          typeof a?.ip === 'string' ? serviceRangeErrors(`subsets[${i}].${list}[${j}].ip`, a.ip, ctx.settings.serviceCidr) : [],
        ),
      ),
    );
    if (causes.length) throw new InvalidError('Endpoints', ep.metadata.name!, causes);
  },
  columns: [NAME, { name: 'Endpoints', description: 'Endpoints of the service.', cell: endpointsList }, AGE],
});
