// discovery.k8s.io/v1 EndpointSlice (Kubernetes pkg/registry/discovery/endpointslice/strategy.go).
import type { StatusCause } from '../../types.ts';
import { schemaFor } from '../../api/schemas.ts';
import { LABEL_VALUE, dnsLabelErrors, dnsSubdomainErrors, duplicate, endpointIpErrors, fqdnErrors, immutableErrors, invalid, labelErrors, qualifiedNameErrors, required, serviceRangeErrors, tooMany, unsupported } from '../../api/validation.ts';
import { InvalidError } from '../../errors.ts';
import { AGE, NAME, endpointSliceEndpoints, endpointSlicePorts } from '../../api/printers.ts';
import { defineStrategy, NAMES } from '../define.ts';
import { resourceInfo } from '../strategy.ts';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const ENDPOINT_PORT_PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_SLICE_ENDPOINTS = 1000;
const MAX_ENDPOINT_ADDRESSES = 100;
const MAX_SLICE_PORTS = 20000;
const MAX_TOPOLOGY_LABELS = 16;
const MAX_ZONE_HINTS = 8;

/**
 * Kubernetes' ValidateEndpointSlice (discovery/v1): the address type, at most 1000 endpoints of
 * 1 to 100 addresses each of that type, node names, hostnames, topology and zone hints, and ports
 * with unique names and a supported protocol.
 */
function endpointSliceErrors(slice: any): StatusCause[] {
  const out: StatusCause[] = [];
  const addressType = slice.addressType ?? '';
  if (addressType === '') out.push(required('addressType'));
  else if (!ADDRESS_TYPES.includes(addressType)) out.push(unsupported('addressType', addressType, ADDRESS_TYPES));

  const endpoints: any[] = Array.isArray(slice.endpoints) ? slice.endpoints : [];
  if (endpoints.length > MAX_SLICE_ENDPOINTS) out.push(tooMany('endpoints', endpoints.length, MAX_SLICE_ENDPOINTS));
  else {
    endpoints.forEach((ep: any, i: number) => {
      const f = `endpoints[${i}]`;
      const addresses: string[] = Array.isArray(ep?.addresses) ? ep.addresses : [];
      if (!addresses.length) out.push(required(`${f}.addresses`, 'must contain at least 1 address'));
      else if (addresses.length > MAX_ENDPOINT_ADDRESSES) out.push(tooMany(`${f}.addresses`, addresses.length, MAX_ENDPOINT_ADDRESSES));
      addresses.forEach((address, j) => {
        const af = `${f}.addresses[${j}]`;
        if (addressType === 'IPv4') out.push(...endpointIpErrors(af, address, 4));
        else if (addressType === 'IPv6') out.push(...endpointIpErrors(af, address, 6));
        else if (addressType === 'FQDN') out.push(...fqdnErrors(af, address));
      });
      if (typeof ep?.nodeName === 'string') out.push(...dnsSubdomainErrors(`${f}.nodeName`, ep.nodeName));
      const topology = ep?.deprecatedTopology ?? {};
      if (Object.keys(topology).length > MAX_TOPOLOGY_LABELS) out.push(tooMany(`${f}.deprecatedTopology`, Object.keys(topology).length, MAX_TOPOLOGY_LABELS));
      out.push(...labelErrors(`${f}.deprecatedTopology`, topology));
      if (typeof ep?.hostname === 'string') out.push(...dnsLabelErrors(`${f}.hostname`, ep.hostname));
      const zones: any[] = ep?.hints?.forZones ?? [];
      if (zones.length > MAX_ZONE_HINTS) out.push(tooMany(`${f}.hints.forZones`, zones.length, MAX_ZONE_HINTS));
      else {
        const seen = new Set<string>();
        zones.forEach((z: any, k: number) => {
          const zf = `${f}.hints.forZones[${k}].name`;
          if (seen.has(z.name)) out.push(duplicate(zf, z.name));
          seen.add(z.name);
          if (z.name.length > 63 || !LABEL_VALUE.test(z.name)) out.push(invalid(zf, z.name, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
        });
      }
    });
  }

  const ports: any[] = Array.isArray(slice.ports) ? slice.ports : [];
  if (ports.length > MAX_SLICE_PORTS) out.push(tooMany('ports', ports.length, MAX_SLICE_PORTS));
  else {
    const names = new Set<string>();
    ports.forEach((p: any, i: number) => {
      const f = `ports[${i}]`;
      const name = p?.name ?? '';
      if (name) out.push(...dnsLabelErrors(`${f}.name`, name));
      if (names.has(name)) out.push(duplicate(`${f}.name`, name));
      names.add(name);
      if (p?.protocol === undefined) out.push(required(`${f}.protocol`));
      else if (!ENDPOINT_PORT_PROTOCOLS.includes(p.protocol)) out.push(unsupported(`${f}.protocol`, p.protocol, ENDPOINT_PORT_PROTOCOLS));
      if (typeof p?.appProtocol === 'string') out.push(...qualifiedNameErrors(`${f}.appProtocol`, p.appProtocol));
    });
  }

  return out;
}

export const endpointSliceStrategy = defineStrategy({
  resource: resourceInfo({ group: 'discovery.k8s.io', plural: 'endpointslices', kind: 'EndpointSlice' }),
  schema: schemaFor('EndpointSlice'),
  nameErrors: NAMES.subdomain,
  defaults(slice) {
    // As Kubernetes' SetDefaults_EndpointPort: an unnamed port is named "", the protocol is TCP.
    for (const p of Array.isArray(slice.ports) ? slice.ports : []) {
      if (!p || typeof p !== 'object') continue;
      p.name ??= '';
      p.protocol ??= 'TCP';
    }
  },
  validate: endpointSliceErrors,
  validateUpdate: (slice, old) => immutableErrors('addressType', slice.addressType ?? '', old.addressType ?? ''),
  // The Service range is the cluster's setting, so it is checked here rather than in validate.
  async admit(slice, _old, ctx) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') return;
    const causes = (Array.isArray(slice.endpoints) ? slice.endpoints : []).flatMap((ep: any, i: number) =>
      (Array.isArray(ep?.addresses) ? ep.addresses : []).flatMap((a: unknown, j: number) =>
        typeof a === 'string' ? serviceRangeErrors(`endpoints[${i}].addresses[${j}]`, a, ctx.settings.serviceCidr) : [],
      ),
    );
    if (causes.length) throw new InvalidError('EndpointSlice', slice.metadata.name!, causes, 'discovery.k8s.io');
  },
  columns: [
    NAME,
    { name: 'AddressType', description: 'addressType specifies the type of address carried by this EndpointSlice.', cell: (s) => s.addressType ?? '' },
    { name: 'Ports', description: 'ports specifies the list of network ports exposed by each endpoint in this slice.', cell: endpointSlicePorts },
    { name: 'Endpoints', description: 'endpoints is a list of unique endpoints in this slice.', cell: endpointSliceEndpoints },
    AGE,
  ],
});
