// The Endpoints controller on real containers: a Service's Endpoints follow its pods through
// scaling, a pod that stops being ready leaves the addresses within a second, and deleting the
// Service deletes its Endpoints.
import test from 'ava';
import Docker from 'dockerode';
import { eventually, type Cluster } from '../helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../helpers/docker-node.ts';

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

test.before(async () => {
  cluster = await startDockerCluster(node, ['busybox:latest']);
});

test.after.always(async () => {
  await cluster?.stop();
  await removeDockerNode(node, docker);
});

test.serial('Endpoints follow the ready pods of a Service', async (t) => {
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
  await eventually(async () => {
    const a = await addresses();
    return !a.ready.includes(victim.status.podIP) && a.notReady.includes(victim.status.podIP);
  }, { timeoutMs: 5000, intervalMs: 50, message: 'address moved to notReadyAddresses' });
  const lag = Date.now() - unreadyAt;
  t.log(`endpoints updated ${lag} ms after the pod's Ready=False`);
  t.true(lag <= 1000, `${lag} ms`);

  // Scaling down shrinks the Endpoints.
  await cluster.api.patch('/apis/apps/v1/namespaces/default/deployments/web', { spec: { replicas: 1 } });
  await eventually(async () => {
    const a = await addresses();
    return a.ready.length + a.notReady.length === 1;
  }, { timeoutMs: 15_000, message: 'one address left' });

  // Deleting the Service deletes its Endpoints.
  await cluster.api.delete('/api/v1/namespaces/default/services/web');
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/default/endpoints/web')).status === 404, { timeoutMs: 10_000, message: 'endpoints deleted' });
  t.pass();
});

test.serial('a Service without a selector keeps the Endpoints its user wrote', async (t) => {
  // Wharf refuses selectorless Services with a cluster IP; an ExternalName Service selects nothing.
  const refused = await cluster.api.post('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { ports: [{ port: 80 }] } });
  t.is(refused.status, 422);
  t.is(refused.body.message, 'Service "manual" is invalid: spec.selector: Required value');
  const created = await cluster.api.post('/api/v1/namespaces/default/services', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'manual' }, spec: { type: 'ExternalName', externalName: 'example.com', ports: [{ port: 80 }] } });
  t.is(created.status, 201, JSON.stringify(created.body));
  await cluster.api.post('/api/v1/namespaces/default/endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'manual' }, subsets: [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }] });
  await new Promise((r) => setTimeout(r, 1500));
  const ep = (await cluster.api.get('/api/v1/namespaces/default/endpoints/manual')).body;
  t.deepEqual(ep.subsets, [{ addresses: [{ ip: '127.0.0.1' }], ports: [{ port: 80 }] }]);
});
