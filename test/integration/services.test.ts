// Service addresses as the API server allocates them: cluster IPs from the configured range, node
// ports from the node-port range, both unique across API servers racing for them, kept across
// updates, freed on delete; requests for values already taken or out of range are 422s.
import test from 'ava';
import { startCluster, type Cluster } from '../helpers/cluster.ts';

let cluster: Cluster;
let portBase: number;

const svc = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }], ...spec },
});
const path = (name = '') => `/api/v1/namespaces/default/services${name ? `/${name}` : ''}`;

test.before(async () => {
  // Two API servers: allocation races between them must not hand out one value twice.
  cluster = await startCluster({ apiServers: 2, schedulers: 0, controllerManagers: 0, env: { WHARF_SERVICE_CIDR: '10.231.0.0/24', WHARF_SERVICE_NODE_PORT_RANGE: '31000-31019' } });
  portBase = 31000;
});

test.after.always(async () => {
  await cluster?.stop();
});

test.serial('the cluster DNS Service holds the 10th address of the range', async (t) => {
  const dns = await cluster.api.get('/api/v1/namespaces/kube-system/services/kube-dns');
  t.is(dns.status, 200);
  t.is(dns.body.spec.clusterIP, '10.231.0.10');
  const taken = await cluster.api.post(path(), svc('wants-dns-ip', { clusterIP: '10.231.0.10' }));
  t.is(taken.status, 422);
  t.regex(taken.body.message, /spec.clusterIPs: Invalid value: \["10.231.0.10"\]: failed to allocate IP 10.231.0.10: provided IP is already allocated/);
});

test.serial('NodePort Services get distinct node ports from the range, even when created at once on two API servers', async (t) => {
  const clients = cluster.apiUrls.map((url) => url);
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) =>
    cluster.fetch(`${clients[i % 2]}${path()}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(svc(`np-${i}`, { type: 'NodePort' })) }).then(async (r) => ({ status: r.status, body: await r.json() as any }))));
  t.deepEqual(results.map((r) => r.status), Array(12).fill(201), JSON.stringify(results.find((r) => r.status !== 201)?.body));
  const ports = results.map((r) => r.body.spec.ports[0].nodePort as number);
  t.is(new Set(ports).size, 12);
  t.true(ports.every((p) => p >= portBase && p < portBase + 20), String(ports));
  const ips = results.map((r) => r.body.spec.clusterIP as string);
  t.is(new Set(ips).size, 12);
  t.true(ips.every((ip) => /^10\.231\.0\.\d+$/.test(ip) && ip !== '10.231.0.1' && ip !== '10.231.0.10'), String(ips));
});

test.serial('a node port asked for that is taken or out of range is a 422 and writes nothing', async (t) => {
  const held = (await cluster.api.get(path('np-0'))).body.spec.ports[0].nodePort;
  const dup = await cluster.api.post(path(), svc('dup', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: held }] }));
  t.is(dup.status, 422);
  t.is(dup.body.kind, 'Status');
  t.is(dup.body.details.causes[0].field, 'spec.ports[0].nodePort');
  t.regex(dup.body.message, new RegExp(`spec.ports\\[0\\].nodePort: Invalid value: ${held}: provided port is already allocated`));
  const out = await cluster.api.post(path(), svc('out', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30500 }] }));
  t.is(out.status, 422);
  t.regex(out.body.message, /provided port is not in the valid range. The range of valid ports is 31000-31019/);
  t.is((await cluster.api.get(path('dup'))).status, 404);
  t.is((await cluster.api.get(path('out'))).status, 404);
  const range = await cluster.api.post(path(), svc('range', { clusterIP: '10.9.9.9' }));
  t.is(range.status, 422);
  t.regex(range.body.message, /not in the valid range. The range of valid IPs is 10.231.0.0\/24/);
});

test.serial('node ports survive a replace that leaves them out, and a type change to ClusterIP frees them', async (t) => {
  const current = (await cluster.api.get(path('np-1'))).body;
  const nodePort = current.spec.ports[0].nodePort;
  const replaced = structuredClone(current);
  delete replaced.spec.ports[0].nodePort;
  delete replaced.spec.clusterIP;
  delete replaced.spec.clusterIPs;
  replaced.spec.ports.push({ name: 'admin', port: 9090, targetPort: 9090 });
  const put = await cluster.api.put(path('np-1'), replaced);
  t.is(put.status, 200, JSON.stringify(put.body));
  t.is(put.body.spec.ports[0].nodePort, nodePort);
  t.is(put.body.spec.clusterIP, current.spec.clusterIP);
  const admin = put.body.spec.ports[1].nodePort;
  t.true(admin >= portBase && admin < portBase + 20 && admin !== nodePort);

  const toClusterIp = await cluster.api.patch(path('np-1'), { spec: { type: 'ClusterIP' } }, 'application/strategic-merge-patch+json');
  t.is(toClusterIp.status, 200, JSON.stringify(toClusterIp.body));
  t.deepEqual(toClusterIp.body.spec.ports.map((p: any) => p.nodePort), [undefined, undefined]);
  // The freed port can be asked for by another Service right away.
  const reuse = await cluster.api.post(path(), svc('reuse', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort }] }));
  t.is(reuse.status, 201, JSON.stringify(reuse.body));
});

test.serial('deleting a Service frees its cluster IP and node port', async (t) => {
  const before = (await cluster.api.get(path('np-2'))).body;
  t.is((await cluster.api.delete(path('np-2'))).status, 200);
  const again = await cluster.api.post(path(), svc('again', { type: 'NodePort', clusterIP: before.spec.clusterIP, ports: [{ name: 'http', port: 80, nodePort: before.spec.ports[0].nodePort }] }));
  t.is(again.status, 201, JSON.stringify(again.body));
  t.is(again.body.spec.clusterIP, before.spec.clusterIP);
});

test.serial('a full node-port range is an error, not a duplicate', async (t) => {
  const created: number[] = [];
  for (let i = 0; ; i++) {
    const res = await cluster.api.post(path(), svc(`fill-${i}`, { type: 'NodePort' }));
    if (res.status !== 201) {
      t.is(res.status, 500);
      t.regex(res.body.message, /range 31000-31019 is full/);
      break;
    }
    created.push(res.body.spec.ports[0].nodePort);
    if (i > 30) return t.fail('the range never filled');
  }
  const all = ((await cluster.api.get(path())).body.items as any[]).flatMap((s) => (s.spec.ports ?? []).map((p: any) => p.nodePort)).filter(Boolean);
  t.is(all.length, 20);
  t.is(new Set(all).size, 20);
});

test.serial('a LoadBalancer turned ClusterIP sheds its type-only fields', async (t) => {
  // The node-port range is full from the test above: free one port first.
  t.is((await cluster.api.delete(path('fill-0'))).status, 200);
  const created = await cluster.api.post(path(), svc('lb-shed', { type: 'LoadBalancer', loadBalancerClass: 'example.com/other', externalTrafficPolicy: 'Local' }));
  t.is(created.status, 201, JSON.stringify(created.body));
  const res = await cluster.api.patch(path('lb-shed'), { spec: { type: 'ClusterIP' } }, 'application/strategic-merge-patch+json');
  t.is(res.status, 200, JSON.stringify(res.body));
  t.is(res.body.spec.loadBalancerClass, undefined);
  t.is(res.body.spec.externalTrafficPolicy, undefined);
  t.is(res.body.spec.ports[0].nodePort, undefined);
});
