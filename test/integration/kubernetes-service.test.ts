// default/kubernetes: the Service every cluster has, whose Endpoints and EndpointSlice list the
// live API servers. Each API server renews a Lease naming its address (a 3 s term here); one that is
// killed leaves the endpoints once its Lease runs out, one that stops gives its Lease up at once.
// The advertised addresses are made up: nothing connects to them.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, freePort, startCluster, type Cluster } from '../helpers/cluster.ts';
import { kubectlAssertions, kubectlRunner } from '../helpers/kubectl.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-kubernetes-svc-'));
let cluster: Cluster;
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));
const { ok } = kubectlAssertions(kubectl);

test.before(async () => {
  cluster = await startCluster({ schedulers: 0, controllerManagers: 0, env: { WHARF_API_ENDPOINT_LEASE_TTL: '3s', WHARF_API_ADVERTISE_ADDRESS: '10.254.0.1' } });
});

test.after.always(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function endpointIps(): Promise<string[]> {
  const ep = (await cluster.api.get('/api/v1/namespaces/default/endpoints/kubernetes')).body;
  return (ep.subsets ?? []).flatMap((s: any) => s.addresses.map((a: any) => a.ip)).sort();
}

/** The addresses of the Service's EndpointSlices (one per port: the test's API servers listen on different ports). */
async function sliceIps(): Promise<string[]> {
  const slices = (await cluster.api.get('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dkubernetes')).body.items;
  return slices.flatMap((s: any) => (s.endpoints ?? []).flatMap((e: any) => e.addresses)).sort();
}

test.serial('kubectl get svc kubernetes: a ClusterIP Service at the first address of the range, port 443', async (t) => {
  const [ip, ports, type] = (await ok(t, 'get', 'svc', 'kubernetes', '-o', 'jsonpath={.spec.clusterIP} {.spec.ports[0].port}/{.spec.ports[0].name} {.spec.type}')).split(' ');
  t.is(ip.split('.')[3], '1');
  t.is(ports, '443/https');
  t.is(type, 'ClusterIP');
  t.deepEqual(await endpointIps(), ['10.254.0.1']);
  t.deepEqual(await sliceIps(), ['10.254.0.1']);
});

test.serial('the endpoints follow the API servers: a new one joins, a killed one leaves when its Lease runs out, a stopped one at once', async (t) => {
  const second = cluster.start('api', { WHARF_API_PORT: String(await freePort()), WHARF_API_ADVERTISE_ADDRESS: '10.254.0.2' }, 'api-second');
  // The Endpoints are written first, the EndpointSlice just after: wait for both.
  await eventually(async () => (await endpointIps()).length === 2 && (await sliceIps()).length === 2, { timeoutMs: 20_000, message: 'both API servers in the endpoints', detail: () => cluster.dumpLogs() });
  t.deepEqual(await endpointIps(), ['10.254.0.1', '10.254.0.2']);
  t.deepEqual(await sliceIps(), ['10.254.0.1', '10.254.0.2']);
  await second.kill('SIGKILL');
  const killed = Date.now();
  await eventually(async () => (await endpointIps()).length === 1 && (await sliceIps()).length === 1, { timeoutMs: 20_000, message: 'the killed API server gone from the endpoints' });
  t.log(`a killed API server left the endpoints after ${((Date.now() - killed) / 1000).toFixed(1)} s (Lease term 3 s)`);
  t.deepEqual(await sliceIps(), ['10.254.0.1']);

  // Its Lease term is 30 s: gone well before that, it gave the Lease up (a loaded machine may take
  // seconds to stop a process, so a 3 s term could not tell the two apart).
  const third = cluster.start('api', { WHARF_API_PORT: String(await freePort()), WHARF_API_ADVERTISE_ADDRESS: '10.254.0.3', WHARF_API_ENDPOINT_LEASE_TTL: '30s' }, 'api-third');
  await eventually(async () => (await endpointIps()).includes('10.254.0.3'), { timeoutMs: 20_000, message: 'the third API server in the endpoints' });
  await third.kill('SIGTERM');
  const stopped = Date.now();
  await eventually(async () => !(await endpointIps()).includes('10.254.0.3'), { timeoutMs: 15_000, message: 'the stopped API server gone well within its 30 s Lease' });
  t.log(`a stopped API server left the endpoints after ${((Date.now() - stopped) / 1000).toFixed(1)} s (Lease term 30 s)`);
});
