// The discovery.k8s.io/v1 EndpointSlice kind at the API edge: registration, defaulting and
// validation as Kubernetes' (pkg/apis/discovery/validation), the kubectl table columns, the
// OpenAPI definition, and strategic merge patches treating its ports as an atomic list.
import test from 'ava';
import { applyDefaults, validateObject } from '../../shared/registry/admission.ts';
import { findByKind, findByPath, mustFindByPlural } from '../../shared/api/resources.ts';
import { strategicMergePatch } from '../../shared/api/strategic-merge.ts';
import { apiGroupList, apiResourceList } from '../../services/api/discovery.ts';
import { groupVersionDocument } from '../../services/api/openapi.ts';
import { renderList } from '../../services/api/tables.ts';
import type { KubeObject } from '../../shared/types.ts';

const slice = (extra: Record<string, any> = {}): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: 'web-abc12', namespace: 'default' },
  addressType: 'IPv4',
  endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }],
  ports: [{ name: 'http', port: 8080 }],
  ...extra,
});

function causesOf(obj: KubeObject, old?: KubeObject) {
  applyDefaults('EndpointSlice', obj);
  return validateObject('EndpointSlice', obj, old ? { old } : {}).causes.map((c) => `${c.field}: ${c.message}`);
}

test('registered as discovery.k8s.io/v1 endpointslices, namespaced, no short names, served in discovery', (t) => {
  const r = findByPath('discovery.k8s.io', 'v1', 'endpointslices')!;
  t.like(r, { kind: 'EndpointSlice', listKind: 'EndpointSliceList', singular: 'endpointslice', namespaced: true, shortNames: [], subresources: [] });
  t.is(findByKind('EndpointSlice', 'discovery.k8s.io/v1'), r);
  t.true(apiGroupList().groups.some((g) => g.name === 'discovery.k8s.io' && g.preferredVersion.groupVersion === 'discovery.k8s.io/v1'));
  const list = apiResourceList('discovery.k8s.io', 'v1')!;
  t.deepEqual(list.resources, [{
    name: 'endpointslices', singularName: 'endpointslice', namespaced: true, kind: 'EndpointSlice',
    verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  }]);
  const doc = groupVersionDocument('discovery.k8s.io', 'v1') as any;
  t.truthy(doc.components.schemas['io.k8s.api.discovery.v1.EndpointSlice'].properties.endpoints);
  t.truthy(doc.paths['/apis/discovery.k8s.io/v1/namespaces/{namespace}/endpointslices/{name}']);
});

test('a valid slice passes; ports default to name "" and protocol TCP; unknown fields are pruned', (t) => {
  const obj = slice({ ports: [{ port: 80 }], endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true }, bogus: 1 }] });
  applyDefaults('EndpointSlice', obj);
  const result = validateObject('EndpointSlice', obj);
  t.deepEqual(result.causes, []);
  t.deepEqual(obj.ports, [{ port: 80, name: '', protocol: 'TCP' }]);
  t.deepEqual(result.unknownFields, ['endpoints[0].bogus']);
  t.deepEqual(causesOf(slice({ endpoints: null, ports: null })), [], 'an empty slice, as the controller writes it');
  t.deepEqual(causesOf(slice({ addressType: 'FQDN', endpoints: [{ addresses: ['api.example.com'] }] })), []);
  t.deepEqual(causesOf(slice({ addressType: 'IPv6', endpoints: [{ addresses: ['fd00::5'] }] })), []);
});

test('addressType is required, one of FQDN, IPv4, IPv6, and immutable', (t) => {
  t.deepEqual(causesOf(slice({ addressType: undefined })), ['addressType: Required value']);
  t.deepEqual(causesOf(slice({ addressType: 'IP' })), ['addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6"']);
  t.deepEqual(causesOf(slice({ addressType: 'IPv6', endpoints: null }), slice()), ['addressType: Invalid value: "IPv6": field is immutable']);
});

test('every endpoint has 1 to 100 addresses of the slice\'s type', (t) => {
  t.deepEqual(causesOf(slice({ endpoints: [{ addresses: [] }, { conditions: { ready: true } }] })), [
    'endpoints[0].addresses: Required value: must contain at least 1 address',
    'endpoints[1].addresses: Required value: must contain at least 1 address',
  ]);
  const many = Array.from({ length: 101 }, (_, i) => `10.244.1.${i + 1}`);
  t.deepEqual(causesOf(slice({ endpoints: [{ addresses: many }] })), ['endpoints[0].addresses: Too many: 101: must have at most 100 items']);
  t.deepEqual(causesOf(slice({ endpoints: [{ addresses: ['fd00::1', 'nope', '127.0.0.1', '0.0.0.0', '169.254.1.1'] }] })), [
    'endpoints[0].addresses[0]: Invalid value: "fd00::1": must be a valid IPv4 address',
    'endpoints[0].addresses[1]: Invalid value: "nope": must be a valid IPv4 address',
    'endpoints[0].addresses[1]: Invalid value: "nope": must be a valid IP address',
    'endpoints[0].addresses[2]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)',
    'endpoints[0].addresses[3]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0)',
    'endpoints[0].addresses[4]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10)',
  ]);
  t.deepEqual(causesOf(slice({ addressType: 'FQDN', endpoints: [{ addresses: ['localhost'] }] })), ['endpoints[0].addresses[0]: Invalid value: "localhost": should be a domain with at least two segments separated by dots']);
  t.deepEqual(causesOf(slice({ endpoints: [{ addresses: ['10.244.0.5'], nodeName: 'Node_1', hostname: 'a.b' }] })).map((c) => c.split(':')[0]), ['endpoints[0].nodeName', 'endpoints[0].hostname']);
  t.deepEqual(causesOf(slice({ endpoints: [{ addresses: 'x' }] })), ['endpoints[0].addresses: Invalid value: "x": must be of type array or null']);
});

test('ports: DNS-label names, unique, a supported protocol', (t) => {
  t.deepEqual(causesOf(slice({ ports: [{ name: 'Web', port: 80 }, { name: 'a', protocol: 'ICMP' }, { name: 'a', port: 81 }, { port: 1 }, { port: 2 }] })), [
    "ports[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    'ports[1].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    'ports[2].name: Duplicate value: "a"',
    'ports[4].name: Duplicate value: ""',
  ]);
  t.deepEqual(causesOf(slice({ ports: [{ name: 'p', port: 'http' }] })), ['ports[0].port: Invalid value: "http": must be of type integer']);
});

test('strategic merge patch replaces an EndpointSlice\'s ports and endpoints whole', (t) => {
  const merged = strategicMergePatch('EndpointSlice', slice({ ports: [{ name: 'a', port: 1, protocol: 'TCP' }, { name: 'b', port: 2, protocol: 'TCP' }] }), { ports: [{ name: 'c', port: 3, protocol: 'TCP' }] });
  t.deepEqual(merged.ports, [{ name: 'c', port: 3, protocol: 'TCP' }]);
});

test('kubectl columns: NAME, ADDRESSTYPE, PORTS, ENDPOINTS, AGE, with kubectl\'s "+ N more..." and <unset>', (t) => {
  const r = mustFindByPlural('endpointslices');
  const created = new Date(Date.now() - 42_000).toISOString();
  const meta = (name: string) => ({ name, namespace: 'default', creationTimestamp: created });
  const table = renderList(r, [
    slice({ metadata: meta('web-abc12'), ports: [{ name: 'http', protocol: 'TCP', port: 8080 }], endpoints: [{ addresses: ['10.244.0.5'] }, { addresses: ['10.244.0.6'] }] }),
    slice({ metadata: meta('web-def34'), ports: [{ name: 'a', port: 1 }, { name: 'b', port: 2 }, { name: 'c', port: 3 }, { name: 'd', port: 4 }, { name: 'e' }], endpoints: [1, 2, 3, 4, 5].map((i) => ({ addresses: [`10.0.0.${i}`] })) }),
    slice({ metadata: meta('web-ghi56'), ports: null, endpoints: null }),
  ], '7', { headers: {}, query: {} } as any);
  t.deepEqual(table.columnDefinitions.map((c: any) => c.name), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
  t.deepEqual(table.rows.map((row: any) => row.cells), [
    ['web-abc12', 'IPv4', '8080', '10.244.0.5,10.244.0.6', '42s'],
    ['web-def34', 'IPv4', '1,2,3 + 2 more...', '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...', '42s'],
    ['web-ghi56', 'IPv4', '<unset>', '<unset>', '42s'],
  ]);
});
