// Endpoints and EndpointSlices refuse addresses in the Service IP range (cluster IPs), besides the
// loopback, link-local and unspecified addresses their validation refuses: a hand-written endpoint
// at a cluster IP would have a Service forward to another Service's virtual address.
import test from 'ava';
import { strategyFor } from '../../shared/registry/registry.ts';
import { DEFAULT_ADMISSION } from '../../shared/registry/admission.ts';
import { serviceRangeErrors } from '../../shared/api/validation.ts';
import type { AdmissionContext } from '../../shared/registry/strategy.ts';
import type { KubeObject } from '../../shared/types.ts';

const ctx = (serviceCidr: string): AdmissionContext => ({
  reader: undefined as never, // the check reads nothing of the cluster
  settings: { ...DEFAULT_ADMISSION, serviceCidr },
  picked: new Set(),
});

test('serviceRangeErrors: inside the range refused, outside and other families accepted', (t) => {
  t.deepEqual(serviceRangeErrors('ip', '10.96.0.1', '10.96.0.0/16').map((c) => c.message), ['Invalid value: "10.96.0.1": may not be in the service IP range (10.96.0.0/16)']);
  t.deepEqual(serviceRangeErrors('ip', '10.96.255.254', '10.96.0.0/16').length, 1);
  t.deepEqual(serviceRangeErrors('ip', '10.97.0.1', '10.96.0.0/16'), []);
  t.deepEqual(serviceRangeErrors('ip', '10.244.0.5', '10.96.0.0/16'), []);
  t.deepEqual(serviceRangeErrors('ip', 'fd00::1', '10.96.0.0/16'), []);
  t.deepEqual(serviceRangeErrors('ip', 'not-an-ip', '10.96.0.0/16'), []);
});

test('Endpoints: a cluster IP among addresses or notReadyAddresses is refused, naming the field', async (t) => {
  const ep: KubeObject = {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'manual', namespace: 'default' },
    subsets: [{ addresses: [{ ip: '10.244.0.5' }, { ip: '10.100.3.7' }], notReadyAddresses: [{ ip: '10.100.0.10' }], ports: [{ port: 80 }] }],
  } as KubeObject;
  const s = strategyFor('endpoints');
  const err = await t.throwsAsync(s.admit!(ep, undefined, ctx('10.100.0.0/16')));
  t.is((err as any).code, 422);
  t.is(err!.message, 'Endpoints "manual" is invalid: [subsets[0].addresses[1].ip: Invalid value: "10.100.3.7": may not be in the service IP range (10.100.0.0/16), subsets[0].notReadyAddresses[0].ip: Invalid value: "10.100.0.10": may not be in the service IP range (10.100.0.0/16)]');
  await t.notThrowsAsync(s.admit!(ep, undefined, ctx('10.96.0.0/16')));
});

test('EndpointSlice: a cluster IP is refused for IPv4 slices; FQDN slices are not addresses', async (t) => {
  const slice = (addressType: string, addresses: string[]): KubeObject => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'web-abc12', namespace: 'default' },
    addressType,
    endpoints: [{ addresses }],
  }) as KubeObject;
  const s = strategyFor('endpointslices');
  const err = await t.throwsAsync(s.admit!(slice('IPv4', ['10.96.0.1']), undefined, ctx('10.96.0.0/16')));
  t.is(err!.message, 'EndpointSlice.discovery.k8s.io "web-abc12" is invalid: endpoints[0].addresses[0]: Invalid value: "10.96.0.1": may not be in the service IP range (10.96.0.0/16)');
  await t.notThrowsAsync(s.admit!(slice('IPv4', ['10.244.1.1']), undefined, ctx('10.96.0.0/16')));
  await t.notThrowsAsync(s.admit!(slice('FQDN', ['example.com']), undefined, ctx('10.96.0.0/16')));
});
