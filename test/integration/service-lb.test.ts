// The service load-balancer controller against the real services (two controller managers, two
// simulated nodes with addresses of their own): a LoadBalancer Service shows the ready nodes'
// addresses in status.loadBalancer.ingress and as kubectl's EXTERNAL-IP, follows nodes that become
// NotReady, Ready again or are deleted, loses its ingress when it stops being a LoadBalancer, and a
// Service of another load-balancer class is left alone.
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, eventually, type Cluster } from '../helpers/cluster.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';

const ADDRESS_A = '192.0.2.12';
const ADDRESS_B = '192.0.2.11';
const SERVICES = '/api/v1/namespaces/default/services';

const work = mkdtempSync(join(tmpdir(), 'wharf-service-lb-'));
let cluster: Cluster;

const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig, timeout: 30_000 }));

const service = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { type: 'LoadBalancer', selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec },
});

const ingressOf = async (name: string): Promise<unknown[] | undefined> => {
  const res = await cluster.api.get(`${SERVICES}/${name}`);
  return res.status === 200 ? res.body.status?.loadBalancer?.ingress ?? [] : undefined;
};

const ingress = (...ips: string[]) => ips.map((ip) => ({ ip, ipMode: 'VIP' }));

async function ingressBecomes(name: string, expected: unknown[], message: string): Promise<void> {
  let last: unknown;
  await eventually(async () => {
    last = await ingressOf(name);
    return JSON.stringify(last) === JSON.stringify(expected);
  }, { timeoutMs: 20_000, message: `${message} (last: ${JSON.stringify(last)})` });
}

async function reasonsFor(name: string): Promise<string[]> {
  const { items } = (await cluster.api.get('/api/v1/namespaces/default/events')).body;
  return (items as any[]).filter((e) => e.involvedObject?.kind === 'Service' && e.involvedObject?.name === name).map((e) => e.reason);
}

const readyCondition = (status: 'True' | 'False') => ({
  type: 'Ready',
  status,
  reason: status === 'True' ? 'KubeletReady' : 'NodeStatusUnknown',
  message: status === 'True' ? 'kubelet is posting ready status' : 'Kubelet stopped posting node status.',
  lastHeartbeatTime: new Date().toISOString(),
  lastTransitionTime: new Date().toISOString(),
});

test.before(async () => {
  cluster = await startCluster({
    controllerManagers: 2,
    agents: [
      { WHARF_NODE_NAME: 'lb-a', WHARF_RUNTIME: 'simulated', WHARF_NODE_ADDRESS: ADDRESS_A },
      { WHARF_NODE_NAME: 'lb-b', WHARF_RUNTIME: 'simulated', WHARF_NODE_ADDRESS: ADDRESS_B },
    ],
  });
  await cluster.waitForNodes(['lb-a', 'lb-b']);
});

test.after.always(async () => {
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.afterEach.always((t) => {
  if (!t.passed) t.log(cluster?.dumpLogs());
});

test.serial('a LoadBalancer Service shows every ready node\'s address, and kubectl shows it as EXTERNAL-IP', async (t) => {
  // Another implementation's Service is created first: it must stay untouched throughout.
  const foreign = await cluster.api.post(SERVICES, service('metal', { loadBalancerClass: 'example.com/metal' }));
  t.is(foreign.status, 201, JSON.stringify(foreign.body));
  const created = await cluster.api.post(SERVICES, service('web'));
  t.is(created.status, 201, JSON.stringify(created.body));
  t.deepEqual(created.body.status, { loadBalancer: {} });

  await ingressBecomes('web', ingress(ADDRESS_B, ADDRESS_A), 'both nodes in the ingress, sorted');
  await eventually(async () => {
    const reasons = await reasonsFor('web');
    return reasons.includes('EnsuringLoadBalancer') && reasons.includes('EnsuredLoadBalancer');
  }, { timeoutMs: 10_000, message: 'EnsuringLoadBalancer and EnsuredLoadBalancer events' });

  const get = await kubectl(['get', 'svc', 'web', 'metal']);
  t.is(get.code, 0, get.stderr);
  t.regex(get.stdout, /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\n/);
  t.regex(get.stdout, new RegExp(`\\nweb\\s+LoadBalancer\\s+10\\.\\d+\\.\\d+\\.\\d+\\s+${ADDRESS_B},${ADDRESS_A}\\s+80:3\\d{4}/TCP\\s+\\d+s`));
  t.regex(get.stdout, /\nmetal\s+LoadBalancer\s+\S+\s+<pending>\s+/);
  const jsonpath = await kubectl(['get', 'svc', 'web', '-o', 'jsonpath={.status.loadBalancer.ingress[*].ip}']);
  t.is(jsonpath.stdout, `${ADDRESS_B} ${ADDRESS_A}`);
  t.deepEqual(await ingressOf('metal'), []);
});

test.serial('nodes becoming NotReady, Ready again and deleted update the ingress', async (t) => {
  // Stop node b's agent so that its heartbeat does not undo what a node lifecycle controller would write.
  const agentB = cluster.services.find((s) => s.logFile.includes('node-agent-1'))!;
  await agentB.kill('SIGKILL');
  const setReady = async (status: 'True' | 'False') => {
    const node = (await cluster.api.get('/api/v1/nodes/lb-b')).body;
    const conditions = (node.status.conditions as any[]).map((c) => (c.type === 'Ready' ? readyCondition(status) : c));
    const res = await cluster.api.patch('/api/v1/nodes/lb-b/status', { status: { conditions } });
    t.is(res.status, 200, JSON.stringify(res.body));
  };

  await setReady('False');
  await ingressBecomes('web', ingress(ADDRESS_A), 'the NotReady node left out');
  await eventually(async () => (await reasonsFor('web')).includes('UpdatedLoadBalancer'), { timeoutMs: 10_000, message: 'UpdatedLoadBalancer event' });

  await setReady('True');
  await ingressBecomes('web', ingress(ADDRESS_B, ADDRESS_A), 'the node back once Ready');

  t.is((await cluster.api.delete('/api/v1/nodes/lb-b')).status, 200);
  await ingressBecomes('web', ingress(ADDRESS_A), 'the deleted node left out');
  t.deepEqual(await ingressOf('metal'), []);
});

test.serial('a Service created while the nodes are known gets them at once; one that stops being a LoadBalancer loses its ingress', async (t) => {
  t.is((await cluster.api.post(SERVICES, service('api', { ports: [{ name: 'https', port: 443, targetPort: 8443 }] }))).status, 201);
  await ingressBecomes('api', ingress(ADDRESS_A), 'the ready node');

  const patched = await cluster.api.patch(`${SERVICES}/api`, { spec: { type: 'ClusterIP' } });
  t.is(patched.status, 200, JSON.stringify(patched.body));
  await ingressBecomes('api', [], 'no ingress once ClusterIP');
  t.deepEqual((await cluster.api.get(`${SERVICES}/api`)).body.status, { loadBalancer: {} });
  await eventually(async () => {
    const reasons = await reasonsFor('api');
    return reasons.includes('DeletingLoadBalancer') && reasons.includes('DeletedLoadBalancer');
  }, { timeoutMs: 10_000, message: 'DeletingLoadBalancer and DeletedLoadBalancer events' });

  const get = await kubectl(['get', 'svc', 'api']);
  t.regex(get.stdout, /\napi\s+ClusterIP\s+\S+\s+<none>\s+443\/TCP\s+/);
  // And back: a LoadBalancer again, the address again.
  t.is((await cluster.api.patch(`${SERVICES}/api`, { spec: { type: 'LoadBalancer' } })).status, 200);
  await ingressBecomes('api', ingress(ADDRESS_A), 'the ready node again');
});

test.serial('the status is written only when it changes: the resourceVersion holds still', async (t) => {
  const before = (await cluster.api.get(`${SERVICES}/web`)).body.metadata.resourceVersion;
  // Several node heartbeats and a resync of the controllers (5 s in tests) pass.
  await new Promise((r) => setTimeout(r, 6_000));
  const after = (await cluster.api.get(`${SERVICES}/web`)).body;
  t.is(after.metadata.resourceVersion, before);
  t.deepEqual(after.status.loadBalancer.ingress, ingress(ADDRESS_A));
  const events = ((await cluster.api.get('/api/v1/namespaces/default/events')).body.items as any[])
    .filter((e) => e.involvedObject?.name === 'web' && e.reason === 'EnsuredLoadBalancer');
  t.is(events.length, 1);
  t.is(events[0].count, 1);
});
