// The Endpoints and EndpointSlice controllers on real containers: a Service's Endpoints and
// EndpointSlices follow its pods through scaling, a pod that stops being ready leaves the
// addresses (and is ready=false in its slice) within a second, and deleting the Service deletes
// its Endpoints and, through the garbage collector, its EndpointSlices.
import test from 'ava';
import Docker from 'dockerode';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';

const docker = new Docker();
const node = dockerNode('endpoints');
let cluster: Cluster;

const addresses = async () => {
  const ep = (await cluster.api.get('/api/v1/namespaces/default/endpoints/web')).body;
  return {
    ready: (ep.subsets ?? []).flatMap((s: any) => (s.addresses ?? []).map((a: any) => a.ip)).sort() as string[],
    notReady: (ep.subsets ?? []).flatMap((s: any) => (s.notReadyAddresses ?? []).map((a: any) => a.ip)).sort() as string[],
    ports: (ep.subsets ?? []).flatMap((s: any) => s.ports ?? []),
  };
};

const SLICES = '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb';
const slices = async () => (await cluster.api.get(SLICES)).body.items as any[];
/** The endpoints of the Service's slices by pod IP. */
const sliceEndpoints = async () => new Map((await slices()).flatMap((s) => s.endpoints ?? []).map((e: any) => [e.addresses[0], e]));

const kubectl = kubectlRunner(() => ({ kubeconfig: cluster.kubeconfig }));

test.before(async () => {
  cluster = await startDockerCluster(node, ['busybox:latest']);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
});

test.serial('Endpoints and EndpointSlices follow the ready pods of a Service', async (t) => {
  await cluster.api.post('/apis/apps/v1/namespaces/default/deployments', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{
            name: 'web',
            image: 'busybox:latest',
            command: ['sh', '-c', 'touch /tmp/ready; httpd -f -p 8080'],
            ports: [{ name: 'http', containerPort: 8080 }],
            readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
          }],
        },
      },
    },
  });
  const svc = await cluster.api.post('/api/v1/namespaces/default/services', {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' },
    spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  });
  t.is(svc.status, 201, JSON.stringify(svc.body));
  const pods = async () => ((await cluster.api.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).body.items as any[]).filter((p) => !p.metadata.deletionTimestamp);
  await eventually(async () => (await addresses()).ready.length === 3, { timeoutMs: 20_000, message: '3 ready addresses' });
  const current = await pods();
  t.deepEqual((await addresses()).ready, current.map((p) => p.status.podIP).sort());
  t.deepEqual((await addresses()).ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);

  // The EndpointSlice controller lists the same pods, in one slice named after the Service and owned by it.
  await eventually(async () => [...(await sliceEndpoints()).values()].filter((e: any) => e.conditions.ready).length === 3, { timeoutMs: 10_000, message: '3 ready endpoints in the slices' });
  const [slice, ...others] = await slices();
  t.deepEqual(others, []);
  t.regex(slice.metadata.name, /^web-[a-z0-9]{5}$/);
  t.is(slice.metadata.generateName, 'web-');
  t.deepEqual(slice.metadata.labels, { 'kubernetes.io/service-name': 'web', 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' });
  t.deepEqual(slice.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: svc.body.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  t.is(slice.addressType, 'IPv4');
  t.deepEqual(slice.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }], 'targetPort "http" resolved to the container port');
  t.deepEqual(slice.endpoints.map((e: any) => e.addresses[0]).sort(), current.map((p) => p.status.podIP).sort());
  for (const p of current) {
    t.deepEqual((await sliceEndpoints()).get(p.status.podIP), {
      addresses: [p.status.podIP],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', namespace: 'default', name: p.metadata.name, uid: p.metadata.uid },
      nodeName: node.name,
    });
  }
  const got = await kubectl(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=web']);
  t.is(got.code, 0, got.stderr);
  t.regex(got.stdout, new RegExp(`^NAME\\s+ADDRESSTYPE\\s+PORTS\\s+ENDPOINTS\\s+AGE\\n${slice.metadata.name}\\s+IPv4\\s+8080\\s+(\\d+\\.){3}\\d+,(\\d+\\.){3}\\d+,(\\d+\\.){3}\\d+\\s+\\d+s\\n$`));

  // A pod that stops being ready leaves the addresses within a second of its Ready=False.
  const victim = current[0];
  const [c] = await docker.listContainers({ filters: { label: [`io.wharf.pod.name=${victim.metadata.name}`, 'io.wharf.container.role=app'] } });
  const exec = await docker.getContainer(c.Id).exec({ Cmd: ['rm', '/tmp/ready'] });
  await exec.start({ hijack: true, stdin: false });
  await eventually(async () => {
    const p = (await cluster.api.get(`/api/v1/namespaces/default/pods/${victim.metadata.name}`)).body;
    return p.status.conditions.some((x: any) => x.type === 'Ready' && x.status === 'False');
  }, { timeoutMs: 10_000, intervalMs: 50, message: 'pod not ready' });
  const unreadyAt = Date.now();
  const lags = await Promise.all([
    eventually(async () => {
      const a = await addresses();
      return !a.ready.includes(victim.status.podIP) && a.notReady.includes(victim.status.podIP);
    }, { timeoutMs: 5000, intervalMs: 50, message: 'address moved to notReadyAddresses' }).then(() => Date.now() - unreadyAt),
    eventually(async () => {
      const e: any = (await sliceEndpoints()).get(victim.status.podIP);
      return e?.conditions.ready === false && e.conditions.serving === false && e.conditions.terminating === false;
    }, { timeoutMs: 5000, intervalMs: 50, message: 'endpoint ready=false in its slice' }).then(() => Date.now() - unreadyAt),
  ]);
  t.log(`endpoints updated ${lags[0]} ms, endpoint slices ${lags[1]} ms after the pod's Ready=False`);
  t.true(lags[0] <= 1000, `Endpoints: ${lags[0]} ms`);
  t.true(lags[1] <= 1000, `EndpointSlices: ${lags[1]} ms`);

  // Scaling down shrinks the Endpoints.
  await cluster.api.patch('/apis/apps/v1/namespaces/default/deployments/web', { spec: { replicas: 1 } });
  await eventually(async () => {
    const a = await addresses();
    return a.ready.length + a.notReady.length === 1;
  }, { timeoutMs: 15_000, message: 'one address left' });
  // The slice shrinks in place (terminating pods stay in it, terminating=true, until they are gone).
  await eventually(async () => (await sliceEndpoints()).size === 1, { timeoutMs: 15_000, message: 'one endpoint left in the slices' });
  t.deepEqual((await slices()).map((s) => s.metadata.name), [slice.metadata.name], 'the same slice, updated');

  // Deleting the Service deletes its Endpoints.
  await cluster.api.delete('/api/v1/namespaces/default/services/web');
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/default/endpoints/web')).status === 404, { timeoutMs: 10_000, message: 'endpoints deleted' });
  // ...and the garbage collector its EndpointSlices, by their ownerReference.
  await eventually(async () => (await slices()).length === 0, { timeoutMs: 10_000, message: 'endpoint slices collected' });
  t.is((await cluster.api.get(`/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/${slice.metadata.name}`)).status, 404);
});

test.serial('a Service without a selector keeps the Endpoints and EndpointSlices its user wrote', async (t) => {
  // As Kubernetes: a Service may select nothing, and its Endpoints are then its user's to write.
  const created = await cluster.api.post('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
  t.is(created.status, 201, JSON.stringify(created.body));
  t.truthy(created.body.spec.clusterIP, 'it has a cluster IP');
  const loopback = await cluster.api.post('/api/v1/namespaces/default/endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }] });
  t.is(loopback.status, 422, 'an address on the API server\'s own host is refused');
  t.is(loopback.body.message, 'Endpoints "manual" is invalid: subsets[0].addresses[0].ip: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128)');
  // A cluster IP (this Service's own) would send the Service's traffic to another virtual address.
  const clusterIp = created.body.spec.clusterIP;
  const range = cluster.env.WHARF_SERVICE_CIDR;
  const virtual = await cluster.api.post('/api/v1/namespaces/default/endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual' }, subsets: [{ notReadyAddresses: [{ ip: clusterIp }], ports: [{ port: 80 }] }] });
  t.is(virtual.status, 422, 'an address in the Service range is refused');
  t.is(virtual.body.message, `Endpoints "manual" is invalid: subsets[0].notReadyAddresses[0].ip: Invalid value: "${clusterIp}": may not be in the service IP range (${range})`);
  const virtualSlice = await cluster.api.post('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'manual-virtual' }, addressType: 'IPv4', endpoints: [{ addresses: ['10.1.2.3', clusterIp] }], ports: [{ port: 80 }] });
  t.is(virtualSlice.status, 422);
  t.is(virtualSlice.body.message, `EndpointSlice.discovery.k8s.io "manual-virtual" is invalid: endpoints[0].addresses[1]: Invalid value: "${clusterIp}": may not be in the service IP range (${range})`);
  const endpoints = await cluster.api.post('/api/v1/namespaces/default/endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ port: 80 }] }] });
  t.is(endpoints.status, 201, JSON.stringify(endpoints.body));
  const written = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'manual-1', labels: { 'kubernetes.io/service-name': 'manual' } }, addressType: 'IPv4', endpoints: [{ addresses: ['10.1.2.3'] }], ports: [{ port: 80 }] };
  const bad = await cluster.api.post('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', { ...written, addressType: 'IP', endpoints: [{ addresses: [] }] });
  t.is(bad.status, 422);
  t.is(bad.body.message, 'EndpointSlice.discovery.k8s.io "manual-1" is invalid: [addressType: Unsupported value: "IP": supported values: "FQDN", "IPv4", "IPv6", endpoints[0].addresses: Required value: must contain at least 1 address]');
  const slice = await cluster.api.post('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', written);
  t.is(slice.status, 201, JSON.stringify(slice.body));
  t.deepEqual(slice.body.ports, [{ port: 80, name: '', protocol: 'TCP' }], 'defaulted');
  // Proving the controllers leave them alone: they answer a Service change within ~100 ms, so 1.5 s is ample.
  await new Promise((r) => setTimeout(r, 1500));
  const ep = (await cluster.api.get('/api/v1/namespaces/default/endpoints/manual')).body;
  t.deepEqual(ep.subsets, [{ addresses: [{ ip: '10.1.2.3' }], ports: [{ port: 80, protocol: 'TCP' }] }]);
  const manual = (await cluster.api.get('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dmanual')).body.items;
  t.deepEqual(manual.map((s: any) => [s.metadata.name, s.metadata.resourceVersion]), [['manual-1', slice.body.metadata.resourceVersion]], 'untouched, and no other');
});
