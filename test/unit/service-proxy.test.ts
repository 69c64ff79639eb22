import test from 'ava';
import { Balancer, backendKey, backendsOf, planListeners, type Backend, type PlanOptions } from '../../services/node-agent/proxy/plan.ts';
import type { KubeObject } from '../../shared/types.ts';

const svc = (name: string, spec: Record<string, any>, opts: { ns?: string; created?: string } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: opts.ns ?? 'default', creationTimestamp: opts.created ?? '2026-01-01T00:00:00Z' },
  spec: { type: 'ClusterIP', ports: [{ name: 'http', port: 80, protocol: 'TCP' }], ...spec },
});

const eps = (name: string, subsets: any[], ns = 'default'): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns }, subsets });

const addrs = (...ips: string[]) => ips.map((ip) => ({ ip }));

const opts = (o: Partial<PlanOptions> = {}): PlanOptions => ({ nodeAddresses: ['192.168.1.5', '127.0.0.1'], reservedIps: new Set(), ...o });

const ids = (specs: { id: string }[]) => specs.map((s) => s.id).sort();

// ---- planListeners: which sockets ----

test('ClusterIP: one listener per port on the cluster IP, with the ready backends of that port', (t) => {
  const web = svc('web', { clusterIP: '10.43.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'metrics', port: 9100 }] });
  const ep = eps('web', [{ addresses: addrs('10.42.0.2', '10.42.0.1'), ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9000, protocol: 'TCP' }] }]);
  const specs = planListeners([web], [ep], opts());
  t.deepEqual(specs, [
    { id: 'TCP/10.43.0.10:80', host: '10.43.0.10', port: 80, protocol: 'TCP', servicePort: 'default/web:http', backends: [{ ip: '10.42.0.1', port: 8080 }, { ip: '10.42.0.2', port: 8080 }] },
    { id: 'TCP/10.43.0.10:9100', host: '10.43.0.10', port: 9100, protocol: 'TCP', servicePort: 'default/web:metrics', backends: [{ ip: '10.42.0.1', port: 9000 }, { ip: '10.42.0.2', port: 9000 }] },
  ]);
  t.false('affinityMs' in specs[0], 'no affinity unless sessionAffinity: ClientIP');
});

test('a type-less Service is a ClusterIP one; a Service without Endpoints still listens, with no backends', (t) => {
  const s = svc('web', { clusterIP: '10.43.0.10' });
  delete s.spec.type;
  const specs = planListeners([s], [], opts());
  t.deepEqual(ids(specs), ['TCP/10.43.0.10:80']);
  t.deepEqual(specs[0].backends, []);
});

test('NodePort adds 0.0.0.0:nodePort per port; the cluster IP listener stays', (t) => {
  const s = svc('web', { type: 'NodePort', clusterIP: '10.43.0.10', ports: [{ name: 'http', port: 80, nodePort: 30080 }, { name: 'https', port: 443, nodePort: 30443 }] });
  const specs = planListeners([s], [], opts());
  t.deepEqual(ids(specs), ['TCP/0.0.0.0:30080', 'TCP/0.0.0.0:30443', 'TCP/10.43.0.10:443', 'TCP/10.43.0.10:80']);
  const nodePort = specs.find((x) => x.id === 'TCP/0.0.0.0:30080')!;
  t.like(nodePort, { host: '0.0.0.0', port: 30080, servicePort: 'default/web:http' });
  t.false(specs.some((x) => x.host === '192.168.1.5'), 'a NodePort Service does not take its port on the node addresses');
});

test('LoadBalancer: cluster IP, node port, and the Service port on every node address, all with the same backends', (t) => {
  const s = svc('web', { type: 'LoadBalancer', clusterIP: '10.43.0.10', ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
  const ep = eps('web', [{ addresses: addrs('10.42.0.1'), ports: [{ name: 'http', port: 8080 }] }]);
  const specs = planListeners([s], [ep], opts());
  t.deepEqual(ids(specs), ['TCP/0.0.0.0:30080', 'TCP/10.43.0.10:80', 'TCP/127.0.0.1:80', 'TCP/192.168.1.5:80']);
  for (const spec of specs) t.deepEqual(spec.backends, [{ ip: '10.42.0.1', port: 8080 }], spec.id);
  for (const spec of specs) t.is(spec.servicePort, 'default/web:http');
});

test('a NodePort or LoadBalancer port without a nodePort (not allocated yet) gets no 0.0.0.0 listener', (t) => {
  const s = svc('web', { type: 'LoadBalancer', clusterIP: '10.43.0.10', ports: [{ name: 'http', port: 80 }] });
  t.deepEqual(ids(planListeners([s], [], opts({ nodeAddresses: ['192.168.1.5'] }))), ['TCP/10.43.0.10:80', 'TCP/192.168.1.5:80']);
});

test('no listeners: headless (None or no clusterIP), ExternalName, reserved IPs, SCTP ports', (t) => {
  const specs = planListeners(
    [
      svc('headless', { clusterIP: 'None' }),
      svc('unallocated', { clusterIP: undefined }),
      svc('headless-np', { type: 'NodePort', clusterIP: 'None', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
      svc('ext', { type: 'ExternalName', externalName: 'example.com', clusterIP: undefined }),
      svc('ext-with-ip', { type: 'ExternalName', externalName: 'example.com', clusterIP: '10.43.0.99' }),
      svc('kube-dns', { clusterIP: '10.43.0.53', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] }, { ns: 'kube-system' }),
      svc('kube-dns-lb', { type: 'LoadBalancer', clusterIP: '10.43.0.54', ports: [{ name: 'dns', port: 53, nodePort: 30053 }] }, { ns: 'kube-system' }),
      svc('sctp', { clusterIP: '10.43.0.20', ports: [{ name: 's', port: 9999, protocol: 'SCTP' }, { name: 't', port: 9998, protocol: 'TCP' }] }),
    ],
    [],
    opts({ reservedIps: new Set(['10.43.0.53', '10.43.0.54']) }),
  );
  t.deepEqual(ids(specs), ['TCP/10.43.0.20:9998'], 'only the TCP port of the Service that also has an SCTP one');
});

test('UDP ports listen as UDP and take UDP endpoint ports only', (t) => {
  const s = svc('dns', { clusterIP: '10.43.0.10', ports: [{ name: 'dns', port: 53, protocol: 'UDP' }, { name: 'dns-tcp', port: 53, protocol: 'TCP' }] });
  const ep = eps('dns', [
    {
      addresses: addrs('10.42.0.3'),
      ports: [{ name: 'dns', port: 5353, protocol: 'UDP' }, { name: 'dns-tcp', port: 5354, protocol: 'TCP' }, { name: 'dns', port: 7777, protocol: 'TCP' }],
    },
  ]);
  const specs = planListeners([s], [ep], opts());
  const udp = specs.find((x) => x.id === 'UDP/10.43.0.10:53')!;
  const tcp = specs.find((x) => x.id === 'TCP/10.43.0.10:53')!;
  t.like(udp, { protocol: 'UDP', servicePort: 'default/dns:dns' });
  t.deepEqual(udp.backends, [{ ip: '10.42.0.3', port: 5353 }], 'not the TCP endpoint port that shares the name');
  t.like(tcp, { protocol: 'TCP', servicePort: 'default/dns:dns-tcp' });
  t.deepEqual(tcp.backends, [{ ip: '10.42.0.3', port: 5354 }]);
});

test('backends: matched by port name across subsets, ready addresses only, sorted, from the same namespace only', (t) => {
  const s = svc('web', { clusterIP: '10.43.0.10', ports: [{ name: 'http', port: 80 }] });
  const specs = planListeners(
    [s],
    [
      eps('web', [
        { addresses: addrs('10.42.0.9', '10.42.0.3'), notReadyAddresses: addrs('10.42.0.1'), ports: [{ name: 'http', port: 8080 }] },
        { addresses: addrs('10.42.0.5'), notReadyAddresses: addrs('10.42.0.2'), ports: [{ name: 'http', port: 9090 }] },
        { addresses: addrs('10.42.0.7'), ports: [{ name: 'other', port: 8080 }] },
      ]),
      eps('web', [{ addresses: addrs('10.99.0.1'), ports: [{ name: 'http', port: 8080 }] }], 'elsewhere'),
    ],
    opts(),
  );
  t.deepEqual(specs[0].backends, [
    { ip: '10.42.0.3', port: 8080 },
    { ip: '10.42.0.5', port: 9090 },
    { ip: '10.42.0.9', port: 8080 },
  ]);
});

test('an unnamed Service port matches the unnamed Endpoints port', (t) => {
  const s = svc('web', { clusterIP: '10.43.0.10', ports: [{ port: 80 }] });
  const specs = planListeners([s], [eps('web', [{ addresses: addrs('10.42.0.1'), ports: [{ port: 8080 }] }])], opts());
  t.like(specs[0], { id: 'TCP/10.43.0.10:80', servicePort: 'default/web:' });
  t.deepEqual(specs[0].backends, [{ ip: '10.42.0.1', port: 8080 }]);
});

test('two Services wanting one host port: the older keeps it, whatever the input order', (t) => {
  const older = svc('first', { type: 'LoadBalancer', clusterIP: '10.43.0.1', ports: [{ name: 'http', port: 80, nodePort: 30001 }] }, { created: '2026-01-01T00:00:00Z' });
  const newer = svc('second', { type: 'LoadBalancer', clusterIP: '10.43.0.2', ports: [{ name: 'http', port: 80, nodePort: 30002 }] }, { ns: 'a', created: '2026-02-01T00:00:00Z' });
  for (const order of [[older, newer], [newer, older]]) {
    const specs = planListeners(order, [], opts({ nodeAddresses: ['192.168.1.5'] }));
    t.deepEqual(ids(specs), ['TCP/0.0.0.0:30001', 'TCP/0.0.0.0:30002', 'TCP/10.43.0.1:80', 'TCP/10.43.0.2:80', 'TCP/192.168.1.5:80']);
    t.is(specs.find((x) => x.id === 'TCP/192.168.1.5:80')!.servicePort, 'default/first:http');
    t.is(new Set(specs.map((x) => x.id)).size, specs.length, 'no duplicate ids');
  }
  // Same age: decided by namespace/name, so every node agrees.
  const a = svc('a', { type: 'LoadBalancer', clusterIP: '10.43.0.3', ports: [{ name: 'http', port: 80 }] });
  const b = svc('b', { type: 'LoadBalancer', clusterIP: '10.43.0.4', ports: [{ name: 'http', port: 80 }] });
  for (const order of [[a, b], [b, a]]) {
    t.is(planListeners(order, [], opts({ nodeAddresses: ['192.168.1.5'] })).find((x) => x.id === 'TCP/192.168.1.5:80')!.servicePort, 'default/a:http');
  }
});

test('TCP and UDP on one host port do not conflict', (t) => {
  const tcp = svc('t', { type: 'LoadBalancer', clusterIP: '10.43.0.1', ports: [{ name: 'x', port: 53, protocol: 'TCP' }] }, { created: '2026-01-01T00:00:00Z' });
  const udp = svc('u', { type: 'LoadBalancer', clusterIP: '10.43.0.2', ports: [{ name: 'x', port: 53, protocol: 'UDP' }] }, { created: '2026-02-01T00:00:00Z' });
  const specs = planListeners([tcp, udp], [], opts({ nodeAddresses: ['192.168.1.5'] }));
  t.like(specs.find((x) => x.id === 'TCP/192.168.1.5:53'), { servicePort: 'default/t:x' });
  t.like(specs.find((x) => x.id === 'UDP/192.168.1.5:53'), { servicePort: 'default/u:x' });
});

test('sessionAffinity ClientIP: its timeout from sessionAffinityConfig, else 10800 s; on every listener of the Service', (t) => {
  const configured = svc('a', { type: 'NodePort', clusterIP: '10.43.0.1', sessionAffinity: 'ClientIP', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } }, ports: [{ name: 'http', port: 80, nodePort: 30080 }] });
  const defaulted = svc('b', { clusterIP: '10.43.0.2', sessionAffinity: 'ClientIP' });
  const none = svc('c', { clusterIP: '10.43.0.3', sessionAffinity: 'None', sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } } });
  const specs = planListeners([configured, defaulted, none], [], opts());
  t.is(specs.find((x) => x.id === 'TCP/10.43.0.1:80')!.affinityMs, 60_000);
  t.is(specs.find((x) => x.id === 'TCP/0.0.0.0:30080')!.affinityMs, 60_000);
  t.is(specs.find((x) => x.id === 'TCP/10.43.0.2:80')!.affinityMs, 10_800_000);
  t.is(specs.find((x) => x.id === 'TCP/10.43.0.3:80')!.affinityMs, undefined);
});

test('planListeners is pure: inputs untouched, same output for the same input', (t) => {
  const services = [svc('b', { clusterIP: '10.43.0.2' }, { created: '2026-02-01T00:00:00Z' }), svc('a', { clusterIP: '10.43.0.1' })];
  const endpoints = [eps('a', [{ addresses: addrs('10.42.0.2', '10.42.0.1'), ports: [{ name: 'http', port: 8080 }] }])];
  const before = JSON.stringify({ services, endpoints });
  const first = planListeners(services, endpoints, opts());
  t.deepEqual(planListeners(services, endpoints, opts()), first);
  t.is(JSON.stringify({ services, endpoints }), before);
});

// ---- backendsOf ----

test('backendsOf: no Endpoints or no subsets is none; protocol defaults to TCP; addresses without an IP are skipped', (t) => {
  t.deepEqual(backendsOf(undefined, 'http', 'TCP'), []);
  t.deepEqual(backendsOf(eps('web', undefined as any), 'http', 'TCP'), []);
  const ep = eps('web', [{ addresses: [{ ip: '10.42.0.2' }, {}, null, { ip: '10.42.0.1' }], ports: [{ name: 'http', port: 8080 }] }, { ports: [{ name: 'http', port: 1 }] }]);
  t.deepEqual(backendsOf(ep, 'http', 'TCP'), [{ ip: '10.42.0.1', port: 8080 }, { ip: '10.42.0.2', port: 8080 }]);
  t.deepEqual(backendsOf(ep, 'http', 'UDP'), []);
  t.deepEqual(backendsOf(ep, 'nope', 'TCP'), []);
});

test('backendsOf: one IP on two ports (two subsets) is two backends, sorted by IP then port', (t) => {
  const ep = eps('web', [
    { addresses: addrs('10.42.0.1'), ports: [{ name: 'http', port: 9090 }] },
    { addresses: addrs('10.42.0.1', '10.42.0.0'), ports: [{ name: 'http', port: 8080 }] },
  ]);
  t.deepEqual(backendsOf(ep, 'http', 'TCP'), [
    { ip: '10.42.0.0', port: 8080 },
    { ip: '10.42.0.1', port: 8080 },
    { ip: '10.42.0.1', port: 9090 },
  ]);
});

// ---- Balancer ----

const b = (n: number): Backend => ({ ip: `10.42.0.${n}`, port: 8080 });
const balancer = (backends: Backend[], affinityMs?: number) => {
  const out = new Balancer(affinityMs);
  out.update(backends, affinityMs);
  return out;
};
const count = (picks: (Backend | undefined)[]) => {
  const out: Record<string, number> = {};
  for (const p of picks) out[p ? backendKey(p) : 'none'] = (out[p ? backendKey(p) : 'none'] ?? 0) + 1;
  return out;
};

test('round robin: every backend in turn, evenly, whoever the client', (t) => {
  const lb = balancer([b(1), b(2), b(3)]);
  t.is(lb.size, 3);
  const picks = Array.from({ length: 300 }, (_, i) => lb.pick(`192.168.0.${i % 7}`, i));
  t.deepEqual(picks.slice(0, 6).map((p) => p!.ip), ['10.42.0.1', '10.42.0.2', '10.42.0.3', '10.42.0.1', '10.42.0.2', '10.42.0.3']);
  t.deepEqual(count(picks), { '10.42.0.1:8080': 100, '10.42.0.2:8080': 100, '10.42.0.3:8080': 100 });
});

test('no backends: undefined; the backends of the latest update are the ones picked', (t) => {
  const lb = balancer([]);
  t.is(lb.pick('c', 0), undefined);
  lb.update([b(1), b(2), b(3)]);
  lb.pick('c', 0);
  lb.pick('c', 0); // the cursor is now past the end of a shorter list
  lb.update([b(4), b(5)]);
  const picks = Array.from({ length: 10 }, () => lb.pick('c', 0));
  t.deepEqual(count(picks), { '10.42.0.4:8080': 5, '10.42.0.5:8080': 5 });
  lb.update([]);
  t.is(lb.size, 0);
  t.is(lb.pick('c', 0), undefined);
});

test('tried backends are skipped; when all are tried there is none', (t) => {
  const lb = balancer([b(1), b(2), b(3)]);
  const tried = new Set<string>([backendKey(b(1))]);
  const first = lb.pick('c', 0, tried)!;
  t.is(first.ip, '10.42.0.2');
  tried.add(backendKey(first));
  t.is(lb.pick('c', 0, tried)!.ip, '10.42.0.3');
  tried.add(backendKey(b(3)));
  t.is(lb.pick('c', 0, tried), undefined);
  t.truthy(lb.pick('c', 0), 'a new connection with nothing tried gets one again');
  // Skipping does not unbalance the rotation for everyone else.
  const even = balancer([b(1), b(2)]);
  const picks = Array.from({ length: 100 }, (_, i) => even.pick('c', 0, i % 10 === 0 ? new Set([backendKey(b(1))]) : undefined));
  t.true(Object.values(count(picks)).every((n) => n >= 40), JSON.stringify(count(picks)));
});

test('affinity: a client keeps its backend while it comes back within the timeout; clients still spread', (t) => {
  const lb = balancer([b(1), b(2), b(3)], 1_000);
  const a = lb.pick('client-a', 0)!;
  const bb = lb.pick('client-b', 0)!;
  const c = lb.pick('client-c', 0)!;
  t.is(new Set([a, bb, c].map(backendKey)).size, 3, 'new clients are spread round robin');
  // Sliding: each use restarts the timeout, so 900 ms steps keep it for much longer than 1 s.
  for (let now = 900; now <= 9_000; now += 900) {
    t.is(lb.pick('client-a', now), a);
    t.is(lb.pick('client-b', now), bb);
  }
  t.is(lb.pick('client-a', 10_000)!.ip, a.ip, 'exactly the timeout after the last use still holds');
});

test('affinity: after the timeout the client is picked afresh (and pinned to the new one)', (t) => {
  const lb = balancer([b(1), b(2)], 1_000);
  t.is(lb.pick('client', 0)!.ip, '10.42.0.1');
  t.is(lb.pick('client', 1_001)!.ip, '10.42.0.2', 're-picked: round robin moved on');
  t.is(lb.pick('client', 1_500)!.ip, '10.42.0.2', 'pinned to the new one');
});

test('affinity: a tried (refusing) pinned backend is replaced for that client', (t) => {
  const lb = balancer([b(1), b(2)], 60_000);
  t.is(lb.pick('client', 0)!.ip, '10.42.0.1');
  const next = lb.pick('client', 1, new Set([backendKey(b(1))]))!;
  t.is(next.ip, '10.42.0.2');
  t.is(lb.pick('client', 2)!.ip, '10.42.0.2', 'now pinned to the one that worked');
});

test('update: affinity to removed backends is dropped, to remaining ones kept; no affinity clears all', (t) => {
  const lb = balancer([b(1), b(2), b(3)], 60_000);
  t.is(lb.pick('a', 0)!.ip, '10.42.0.1');
  t.is(lb.pick('b', 0)!.ip, '10.42.0.2');
  lb.update([b(2), b(3)], 60_000);
  t.not(lb.pick('a', 1)!.ip, '10.42.0.1');
  t.is(lb.pick('b', 1)!.ip, '10.42.0.2', 'kept');
  // Same IP, other port: a different backend, so the pin goes.
  const lb2 = balancer([b(1), b(2)], 60_000);
  t.is(lb2.pick('a', 0)!.ip, '10.42.0.1');
  lb2.update([{ ip: '10.42.0.1', port: 9090 }, b(2)], 60_000);
  t.deepEqual(lb2.pick('a', 1), b(2));
  // Affinity switched off: plain round robin, no pins remembered when it comes back.
  const lb3 = balancer([b(1), b(2)], 60_000);
  t.is(lb3.pick('a', 0)!.ip, '10.42.0.1');
  lb3.update([b(1), b(2)]);
  t.deepEqual([lb3.pick('a', 1), lb3.pick('a', 2)].map((p) => p!.ip), ['10.42.0.2', '10.42.0.1']);
  lb3.update([b(1), b(2)], 60_000);
  t.is(lb3.pick('a', 3)!.ip, '10.42.0.2', 'picked afresh, not the old pin');
});

test('remove(ip): every port of that IP goes at once, and the clients pinned to it', (t) => {
  const lb = balancer([b(1), { ip: '10.42.0.1', port: 9090 }, b(2)], 60_000);
  t.is(lb.pick('a', 0)!.ip, '10.42.0.1');
  t.true(lb.remove('10.42.0.1'));
  t.is(lb.size, 1);
  t.false(lb.remove('10.42.0.1'), 'already gone');
  t.false(lb.remove('10.42.0.99'));
  for (let i = 0; i < 5; i++) t.is(lb.pick('a', i)!.ip, '10.42.0.2');
  t.is(lb.pick('b', 0)!.ip, '10.42.0.2');
});

test('remove does not change the list it was given (the plan that owns it)', (t) => {
  const list = [b(1), b(2)];
  const lb = balancer(list);
  lb.remove('10.42.0.1');
  t.is(list.length, 2);
});

test('expire drops the pins not used within the timeout and keeps the others', (t) => {
  const run = (expire: boolean) => {
    const lb = balancer([b(1), b(2), b(3)], 1_000);
    lb.pick('a', 0); // b1
    lb.pick('b', 900); // b2; the cursor is now at b3
    if (expire) lb.expire(1_500);
    lb.update([b(1), b(2), b(3)], 10_000); // a longer timeout would revive a pin that is still there
    return { a: lb.pick('a', 1_600)!.ip, b: lb.pick('b', 1_600)!.ip };
  };
  t.deepEqual(run(false), { a: '10.42.0.1', b: '10.42.0.2' }, 'control: without expire the old pin is still there');
  t.deepEqual(run(true), { a: '10.42.0.3', b: '10.42.0.2' }, 'expired: a is picked afresh; b kept');
});

test('expire without affinity is a no-op', (t) => {
  const lb = balancer([b(1), b(2)]);
  lb.expire(Number.MAX_SAFE_INTEGER);
  t.deepEqual([lb.pick('a', 0), lb.pick('a', 0)].map((p) => p!.ip), ['10.42.0.1', '10.42.0.2']);
});
