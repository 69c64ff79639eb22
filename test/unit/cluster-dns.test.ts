import test from 'ava';
import dnsPacket from 'dns-packet';
import { DnsIndex, podDnsConfig, type Resolution } from '../../services/node-agent/proxy/dns-records.ts';
import { answerQuery, parseUpstreamList, parseUpstreams } from '../../services/node-agent/proxy/dns-server.ts';
import type { KubeObject } from '../../shared/types.ts';

const svc = (name: string, spec: Record<string, any>, ns = 'default'): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec });
const eps = (name: string, subsets: any[], ns = 'default'): KubeObject => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: ns }, subsets });

const services = [
  svc('web', { type: 'ClusterIP', clusterIP: '10.43.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }, { name: 'metrics', port: 9100 }, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 8443 }] }),
  svc('db', { clusterIP: 'None', ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }),
  svc('empty', { clusterIP: 'None', ports: [{ name: 'x', port: 1 }] }),
  svc('ext', { type: 'ExternalName', externalName: 'example.com.' }),
  svc('kubernetes', { type: 'ClusterIP', clusterIP: '10.43.0.1', ports: [{ name: 'https', port: 443 }] }),
  svc('web', { type: 'NodePort', clusterIP: '10.43.0.20', ports: [{ name: 'http', port: 8080 }] }, 'staging'),
];
const endpoints = [
  eps('db', [
    { addresses: [{ ip: '10.42.0.7', hostname: 'db-1' }, { ip: '10.42.0.5', hostname: 'db-0' }, { ip: '10.42.0.6' }], notReadyAddresses: [{ ip: '10.42.0.9', hostname: 'db-2' }], ports: [{ name: 'pg', port: 5432 }] },
  ]),
  // Endpoints of a Service with a cluster IP never turn it into pod IPs.
  eps('web', [{ addresses: [{ ip: '10.42.0.30' }], ports: [{ name: 'http', port: 8080 }] }]),
];
const index = new DnsIndex('cluster.local', services, endpoints);

const A = (name: string, ...ips: string[]): Resolution => ({ kind: 'answer', answers: ips.map((ip) => ({ name, type: 'A', ttl: 5, data: ip })) });
const NODATA: Resolution = { kind: 'answer', answers: [] };
const NXDOMAIN: Resolution = { kind: 'nxdomain' };
const FORWARD: Resolution = { kind: 'forward' };
const srv = (name: string, port: number, target: string) => ({ name, type: 'SRV', ttl: 5, data: { priority: 0, weight: 100, port, target } });

// ---- DnsIndex.resolve ----

test('<svc>.<ns>.svc.<domain>: A is the cluster IP, in each namespace', (t) => {
  t.deepEqual(index.resolve('web.default.svc.cluster.local', 'A'), A('web.default.svc.cluster.local', '10.43.0.10'));
  t.deepEqual(index.resolve('web.staging.svc.cluster.local', 'A'), A('web.staging.svc.cluster.local', '10.43.0.20'));
  t.deepEqual(index.resolve('kubernetes.default.svc.cluster.local', 'A'), A('kubernetes.default.svc.cluster.local', '10.43.0.1'));
});

test('a trailing dot and upper case are the same name', (t) => {
  t.deepEqual(index.resolve('web.default.svc.cluster.local.', 'A'), A('web.default.svc.cluster.local', '10.43.0.10'));
  t.deepEqual(index.resolve('WEB.Default.SVC.Cluster.Local.', 'A'), A('web.default.svc.cluster.local', '10.43.0.10'));
  t.deepEqual(index.resolve('_HTTP._TCP.web.default.svc.cluster.local.', 'SRV'), { kind: 'answer', answers: [srv('_http._tcp.web.default.svc.cluster.local', 80, 'web.default.svc.cluster.local')] });
  t.deepEqual(index.resolve('10.0.43.10.IN-ADDR.ARPA.', 'PTR'), { kind: 'answer', answers: [{ name: '10.0.43.10.in-addr.arpa', type: 'PTR', ttl: 5, data: 'web.default.svc.cluster.local' }] });
});

test('headless: A is every ready pod IP, sorted; not-ready pods are left out; no ready pods is NODATA', (t) => {
  t.deepEqual(index.resolve('db.default.svc.cluster.local', 'A'), A('db.default.svc.cluster.local', '10.42.0.5', '10.42.0.6', '10.42.0.7'));
  t.deepEqual(index.resolve('empty.default.svc.cluster.local', 'A'), NODATA);
});

test('headless: <hostname>.<svc> and <a-b-c-d>.<svc> name one ready pod', (t) => {
  t.deepEqual(index.resolve('db-0.db.default.svc.cluster.local', 'A'), A('db-0.db.default.svc.cluster.local', '10.42.0.5'));
  t.deepEqual(index.resolve('db-1.db.default.svc.cluster.local', 'A'), A('db-1.db.default.svc.cluster.local', '10.42.0.7'));
  t.deepEqual(index.resolve('10-42-0-6.db.default.svc.cluster.local', 'A'), A('10-42-0-6.db.default.svc.cluster.local', '10.42.0.6'));
  t.deepEqual(index.resolve('db-0.db.default.svc.cluster.local', 'AAAA'), NODATA);
  t.deepEqual(index.resolve('db-2.db.default.svc.cluster.local', 'A'), NXDOMAIN, 'not ready');
  t.deepEqual(index.resolve('db-9.db.default.svc.cluster.local', 'A'), NXDOMAIN);
  t.deepEqual(index.resolve('db-0.web.default.svc.cluster.local', 'A'), NXDOMAIN, 'a Service with a cluster IP has no pod names');
  t.deepEqual(index.resolve('db-0.nosuch.default.svc.cluster.local', 'A'), NXDOMAIN);
});

test('an existing name without records of the type asked is NODATA, not NXDOMAIN', (t) => {
  t.deepEqual(index.resolve('web.default.svc.cluster.local', 'AAAA'), NODATA);
  t.deepEqual(index.resolve('web.default.svc.cluster.local', 'TXT'), NODATA);
  t.deepEqual(index.resolve('db.default.svc.cluster.local', 'AAAA'), NODATA);
  t.deepEqual(index.resolve('_http._tcp.web.default.svc.cluster.local', 'A'), NODATA);
  t.deepEqual(index.resolve('10.0.43.10.in-addr.arpa', 'A'), NODATA);
});

test('the zone, its sub-zones and known namespaces exist, empty', (t) => {
  for (const name of ['cluster.local', 'svc.cluster.local', 'pod.cluster.local', 'default.svc.cluster.local', 'staging.svc.cluster.local', 'default.pod.cluster.local', 'anything.pod.cluster.local']) {
    t.deepEqual(index.resolve(name, 'A'), NODATA, name);
  }
  t.deepEqual(index.resolve('_tcp.web.default.svc.cluster.local', 'A'), NODATA, 'the _proto label of a Service is an empty non-terminal');
});

test('NXDOMAIN: unknown service, namespace, zone, or too many labels', (t) => {
  for (const name of [
    'nosuch.default.svc.cluster.local',
    'web.nosuch.svc.cluster.local',
    'nosuch.svc.cluster.local',
    'web.default.foo.cluster.local',
    'foo.cluster.local',
    'a.b.c.d.default.svc.cluster.local',
    'web.default.svc.svc.cluster.local.x.cluster.local',
    '_tcp.nosuch.default.svc.cluster.local',
  ]) {
    t.deepEqual(index.resolve(name, 'A'), NXDOMAIN, name);
    t.deepEqual(index.resolve(name, 'AAAA'), NXDOMAIN, name);
  }
});

test('ExternalName: a CNAME to spec.externalName (without its trailing dot), whatever the type', (t) => {
  const cname: Resolution = { kind: 'answer', answers: [{ name: 'ext.default.svc.cluster.local', type: 'CNAME', ttl: 5, data: 'example.com' }] };
  t.deepEqual(index.resolve('ext.default.svc.cluster.local', 'A'), cname);
  t.deepEqual(index.resolve('ext.default.svc.cluster.local', 'AAAA'), cname);
  t.deepEqual(index.resolve('ext.default.svc.cluster.local', 'CNAME'), cname);
});

test('SRV _<port>._<proto>.<svc>.<ns>.svc: the named port, with the Service name as target', (t) => {
  t.deepEqual(index.resolve('_http._tcp.web.default.svc.cluster.local', 'SRV'), { kind: 'answer', answers: [srv('_http._tcp.web.default.svc.cluster.local', 80, 'web.default.svc.cluster.local')] });
  t.deepEqual(index.resolve('_metrics._tcp.web.default.svc.cluster.local', 'SRV'), { kind: 'answer', answers: [srv('_metrics._tcp.web.default.svc.cluster.local', 9100, 'web.default.svc.cluster.local')] }, 'protocol defaults to TCP');
  t.deepEqual(index.resolve('_dns._udp.web.default.svc.cluster.local', 'SRV'), { kind: 'answer', answers: [srv('_dns._udp.web.default.svc.cluster.local', 53, 'web.default.svc.cluster.local')] });
  t.deepEqual(index.resolve('_dns._tcp.web.default.svc.cluster.local', 'SRV'), NXDOMAIN, 'the port is UDP');
  t.deepEqual(index.resolve('_nosuch._tcp.web.default.svc.cluster.local', 'SRV'), NXDOMAIN);
  t.deepEqual(index.resolve('_http._tcp.nosuch.default.svc.cluster.local', 'SRV'), NXDOMAIN);
  t.deepEqual(index.resolve('_http._tcp.web.staging.svc.cluster.local', 'SRV'), { kind: 'answer', answers: [srv('_http._tcp.web.staging.svc.cluster.local', 8080, 'web.staging.svc.cluster.local')] });
});

test('SRV of a headless Service: one record per ready pod, by hostname or dashed IP', (t) => {
  const name = '_pg._tcp.db.default.svc.cluster.local';
  t.deepEqual(index.resolve(name, 'SRV'), {
    kind: 'answer',
    answers: [srv(name, 5432, 'db-0.db.default.svc.cluster.local'), srv(name, 5432, '10-42-0-6.db.default.svc.cluster.local'), srv(name, 5432, 'db-1.db.default.svc.cluster.local')],
  });
  // Every target resolves.
  const result = index.resolve(name, 'SRV');
  for (const a of result.kind === 'answer' ? result.answers : []) t.is(index.resolve((a.data as any).target, 'A').kind, 'answer');
});

test('SRV of a bare service name: all its named ports', (t) => {
  const name = 'web.default.svc.cluster.local';
  t.deepEqual(index.resolve(name, 'SRV'), { kind: 'answer', answers: [srv(name, 80, name), srv(name, 9100, name), srv(name, 53, name)] });
  t.deepEqual(index.resolve('ext.default.svc.cluster.local', 'SRV').kind, 'answer');
});

test('pods: <a-b-c-d>.<ns>.pod.<domain> is A a.b.c.d; anything else there is NXDOMAIN', (t) => {
  t.deepEqual(index.resolve('1-2-3-4.default.pod.cluster.local', 'A'), A('1-2-3-4.default.pod.cluster.local', '1.2.3.4'));
  t.deepEqual(index.resolve('10-42-0-255.anyns.pod.cluster.local.', 'A'), A('10-42-0-255.anyns.pod.cluster.local', '10.42.0.255'));
  t.deepEqual(index.resolve('1-2-3-4.default.pod.cluster.local', 'AAAA'), NODATA);
  for (const bad of ['1-2-3-256', '1-2-3', '1-2-3-4-5', 'a-b-c-d', '1-2-3-1000', '1.2.3.4', '-1-2-3']) {
    t.deepEqual(index.resolve(`${bad}.default.pod.cluster.local`, 'A'), NXDOMAIN, bad);
  }
  t.deepEqual(index.resolve('x.1-2-3-4.default.pod.cluster.local', 'A'), NXDOMAIN);
});

test('reverse: PTR of a cluster IP is the Service name; other addresses are forwarded', (t) => {
  t.deepEqual(index.resolve('10.0.43.10.in-addr.arpa', 'PTR'), { kind: 'answer', answers: [{ name: '10.0.43.10.in-addr.arpa', type: 'PTR', ttl: 5, data: 'web.default.svc.cluster.local' }] });
  t.deepEqual(index.resolve('20.0.43.10.in-addr.arpa', 'PTR'), { kind: 'answer', answers: [{ name: '20.0.43.10.in-addr.arpa', type: 'PTR', ttl: 5, data: 'web.staging.svc.cluster.local' }] });
  t.deepEqual(index.resolve('99.0.43.10.in-addr.arpa', 'PTR'), FORWARD);
  t.deepEqual(index.resolve('8.8.8.8.in-addr.arpa', 'PTR'), FORWARD);
  t.deepEqual(index.resolve('43.10.in-addr.arpa', 'PTR'), FORWARD);
  t.deepEqual(index.resolve('5.0.42.10.in-addr.arpa', 'PTR'), FORWARD, 'pod IPs of a headless Service have no PTR here');
});

test('names outside the cluster domain are forwarded', (t) => {
  for (const name of ['example.com', 'example.com.', 'localhost', 'local', 'evilcluster.local', 'cluster.local.example.com', 'web.default.svc', 'web.default', 'web']) {
    t.deepEqual(index.resolve(name, 'A'), FORWARD, name);
  }
});

test('a custom cluster domain', (t) => {
  const custom = new DnsIndex('corp.internal', services, endpoints);
  t.deepEqual(custom.resolve('web.default.svc.corp.internal', 'A'), A('web.default.svc.corp.internal', '10.43.0.10'));
  t.deepEqual(custom.resolve('web.default.svc.cluster.local', 'A'), FORWARD);
  t.deepEqual(custom.resolve('nosuch.default.svc.corp.internal', 'A'), NXDOMAIN);
  t.deepEqual(custom.resolve('1-2-3-4.default.pod.corp.internal', 'A'), A('1-2-3-4.default.pod.corp.internal', '1.2.3.4'));
  t.deepEqual(custom.resolve('_http._tcp.web.default.svc.corp.internal', 'SRV'), { kind: 'answer', answers: [srv('_http._tcp.web.default.svc.corp.internal', 80, 'web.default.svc.corp.internal')] });
  t.deepEqual(custom.resolve('_pg._tcp.db.default.svc.corp.internal', 'SRV').kind, 'answer');
  t.deepEqual(custom.resolve('10.0.43.10.in-addr.arpa', 'PTR'), { kind: 'answer', answers: [{ name: '10.0.43.10.in-addr.arpa', type: 'PTR', ttl: 5, data: 'web.default.svc.corp.internal' }] });
  t.deepEqual(custom.resolve('corp.internal', 'A'), NODATA);
  // A one-label domain.
  const single = new DnsIndex('wharf', services, endpoints);
  t.deepEqual(single.resolve('WEB.default.svc.wharf.', 'A'), A('web.default.svc.wharf', '10.43.0.10'));
  t.deepEqual(single.resolve('web.default.svc.cluster.local', 'A'), FORWARD);
});

test('an index with no Services: only the zone skeleton exists', (t) => {
  const empty = new DnsIndex('cluster.local', [], []);
  t.deepEqual(empty.resolve('svc.cluster.local', 'A'), NODATA);
  t.deepEqual(empty.resolve('default.svc.cluster.local', 'A'), NXDOMAIN);
  t.deepEqual(empty.resolve('web.default.svc.cluster.local', 'A'), NXDOMAIN);
  t.deepEqual(empty.resolve('10.0.43.10.in-addr.arpa', 'PTR'), FORWARD);
  t.deepEqual(empty.resolve('example.com', 'A'), FORWARD);
});

// ---- podDnsConfig ----

const cluster = { dnsServiceIp: '10.43.0.10', domain: 'cluster.local' };
const pod = (spec: Record<string, any> = {}, ns = 'team-a'): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: ns }, spec: { containers: [{ name: 'c', image: 'x' }], ...spec } });

test('ClusterFirst (the default): the cluster DNS, the namespace search path, ndots:5', (t) => {
  const expected = { nameservers: ['10.43.0.10'], searches: ['team-a.svc.cluster.local', 'svc.cluster.local', 'cluster.local'], options: ['ndots:5'] };
  t.deepEqual(podDnsConfig(pod(), cluster), expected);
  t.deepEqual(podDnsConfig(pod({ dnsPolicy: 'ClusterFirst' }), cluster), expected);
  t.deepEqual(podDnsConfig(pod({ dnsPolicy: 'ClusterFirstWithHostNet' }), cluster), expected);
  t.deepEqual(podDnsConfig(pod({}, 'default'), { dnsServiceIp: '10.96.0.10', domain: 'corp.internal' }), {
    nameservers: ['10.96.0.10'],
    searches: ['default.svc.corp.internal', 'svc.corp.internal', 'corp.internal'],
    options: ['ndots:5'],
  });
});

test('ClusterFirst with dnsConfig: extra nameservers and searches appended; options merged, overriding by name', (t) => {
  const config = podDnsConfig(
    pod({
      dnsConfig: {
        nameservers: ['1.1.1.1'],
        searches: ['corp.example', 'svc.cluster.local'],
        options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }, { name: 'timeout', value: '1' }, { name: 'timeout', value: '3' }],
      },
    }),
    cluster,
  );
  t.deepEqual(config, {
    nameservers: ['10.43.0.10', '1.1.1.1'],
    searches: ['team-a.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
    options: ['ndots:2', 'edns0', 'timeout:3'],
  });
});

test('ClusterFirst: at most three nameservers, the cluster DNS first', (t) => {
  const config = podDnsConfig(pod({ dnsConfig: { nameservers: ['1.1.1.1', '8.8.8.8', '9.9.9.9'] } }), cluster);
  t.deepEqual(config.nameservers, ['10.43.0.10', '1.1.1.1', '8.8.8.8']);
});

test('Default: the node resolver ({}), or only what dnsConfig says', (t) => {
  t.deepEqual(podDnsConfig(pod({ dnsPolicy: 'Default' }), cluster), {});
  t.deepEqual(podDnsConfig(pod({ dnsPolicy: 'Default', dnsConfig: {} }), cluster), {});
  const config = podDnsConfig(pod({ dnsPolicy: 'Default', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['corp.example'], options: [{ name: 'ndots', value: '1' }] } }), cluster);
  t.deepEqual(config, { nameservers: ['1.1.1.1'], searches: ['corp.example'], options: ['ndots:1'] });
  const onlyOptions = podDnsConfig(pod({ dnsPolicy: 'Default', dnsConfig: { options: [{ name: 'rotate' }] } }), cluster);
  t.deepEqual(onlyOptions.options, ['rotate']);
  t.falsy(onlyOptions.nameservers, 'no nameservers: the node keeps its own');
  t.falsy(onlyOptions.searches);
  t.false(JSON.stringify(podDnsConfig(pod({ dnsPolicy: 'Default', dnsConfig: { searches: ['x'] } }), cluster)).includes('10.43.0.10'));
});

test('None: only dnsConfig, nothing of the cluster', (t) => {
  t.deepEqual(podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'], searches: ['corp.example'], options: [{ name: 'ndots', value: '3' }] } }), cluster), {
    nameservers: ['1.1.1.1'],
    searches: ['corp.example'],
    options: ['ndots:3'],
  });
  t.deepEqual(podDnsConfig(pod({ dnsPolicy: 'None', dnsConfig: { nameservers: ['1.1.1.1'] } }), cluster), { nameservers: ['1.1.1.1'], searches: [], options: [] });
});

// ---- answerQuery: the wire format ----

const query = (name: string, type: dnsPacket.RecordType, opts: { id?: number; rd?: boolean } = {}) =>
  dnsPacket.encode({ type: 'query', id: opts.id ?? 4242, flags: opts.rd === false ? 0 : dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });

const ask = (name: string, type: dnsPacket.RecordType, opts?: { id?: number; rd?: boolean }) => {
  const out = answerQuery(index, query(name, type, opts));
  return out && (dnsPacket.decode(out) as dnsPacket.DecodedPacket & Record<string, any>);
};

test('A over the wire: same id and question, QR AA RA set, RD echoed, TTL 5', (t) => {
  const reply = ask('web.default.svc.cluster.local', 'A', { id: 31337 })!;
  t.is(reply.id, 31337);
  t.is(reply.type, 'response');
  t.like(reply, { flag_qr: true, flag_aa: true, flag_rd: true, flag_ra: true, flag_tc: false, rcode: 'NOERROR' });
  t.deepEqual(reply.questions, [{ name: 'web.default.svc.cluster.local', type: 'A', class: 'IN' }]);
  t.is(reply.answers!.length, 1);
  t.like(reply.answers![0], { name: 'web.default.svc.cluster.local', type: 'A', class: 'IN', ttl: 5, data: '10.43.0.10' });
  const noRd = ask('web.default.svc.cluster.local', 'A', { rd: false })!;
  t.like(noRd, { flag_qr: true, flag_aa: true, flag_rd: false, flag_ra: true });
});

test('headless A, SRV, CNAME and PTR over the wire', (t) => {
  t.deepEqual(ask('db.default.svc.cluster.local', 'A')!.answers!.map((a: any) => a.data), ['10.42.0.5', '10.42.0.6', '10.42.0.7']);
  t.like(ask('_http._tcp.web.default.svc.cluster.local', 'SRV')!.answers![0], { type: 'SRV', ttl: 5, data: { priority: 0, weight: 100, port: 80, target: 'web.default.svc.cluster.local' } });
  t.like(ask('ext.default.svc.cluster.local', 'A')!.answers![0], { type: 'CNAME', data: 'example.com' });
  t.like(ask('10.0.43.10.in-addr.arpa', 'PTR')!.answers![0], { type: 'PTR', data: 'web.default.svc.cluster.local' });
});

test('NODATA over the wire: NOERROR, authoritative, no answers', (t) => {
  const reply = ask('web.default.svc.cluster.local', 'AAAA')!;
  t.like(reply, { rcode: 'NOERROR', flag_aa: true, flag_qr: true });
  t.deepEqual(reply.answers, []);
});

test('NXDOMAIN over the wire: rcode 3, authoritative, with the zone SOA for negative caching', (t) => {
  const out = answerQuery(index, query('nosuch.default.svc.cluster.local', 'A', { id: 7 }))!;
  t.is(out.readUInt16BE(2) & 0xf, 3, 'rcode 3 in the header');
  const reply = dnsPacket.decode(out) as any;
  t.like(reply, { id: 7, rcode: 'NXDOMAIN', flag_qr: true, flag_aa: true, flag_rd: true, flag_ra: true });
  t.deepEqual(reply.answers, []);
  t.is(reply.authorities.length, 1);
  t.like(reply.authorities[0], { type: 'SOA', name: 'cluster.local', data: { minimum: 5 } });
});

test('names to forward and undecodable packets: undefined (the caller relays or drops them)', (t) => {
  t.is(answerQuery(index, query('example.com', 'A')), undefined);
  t.is(answerQuery(index, query('8.8.8.8.in-addr.arpa', 'PTR')), undefined);
  t.is(answerQuery(index, Buffer.from('not a dns message at all')), undefined);
  t.is(answerQuery(index, Buffer.alloc(0)), undefined);
  t.is(answerQuery(index, Buffer.from([0x12])), undefined);
});

test('a message with no question is answered NOTIMP', (t) => {
  const none = dnsPacket.decode(answerQuery(index, dnsPacket.encode({ type: 'query', id: 9, questions: [] }))!) as any;
  t.like(none, { id: 9, rcode: 'NOTIMP', flag_qr: true });
});

// ---- upstream resolvers ----

test('parseUpstreams: the nameserver lines of resolv.conf, port 53, without the cluster DNS itself', (t) => {
  const resolvConf = [
    '# Generated by NetworkManager',
    'search lan example.com',
    'nameserver 192.168.1.1',
    '  nameserver   1.1.1.1  # trailing comment',
    '#nameserver 9.9.9.9',
    '; nameserver 8.8.4.4',
    'nameserver 10.43.0.10',
    'nameserver 2606:4700:4700::1111',
    'options ndots:5 edns0',
    'nameserver\t8.8.8.8\r',
    '',
  ].join('\n');
  t.deepEqual(parseUpstreams(resolvConf, '10.43.0.10'), [
    { host: '192.168.1.1', port: 53 },
    { host: '1.1.1.1', port: 53 },
    { host: '2606:4700:4700::1111', port: 53 },
    { host: '8.8.8.8', port: 53 },
  ]);
  t.deepEqual(parseUpstreams('', '10.43.0.10'), []);
});

test('parseUpstreamList: comma separated, optional port, IPv6 bracketed or bare', (t) => {
  t.deepEqual(parseUpstreamList('127.0.0.1:5353,10.0.0.1'), [{ host: '127.0.0.1', port: 5353 }, { host: '10.0.0.1', port: 53 }]);
  t.deepEqual(parseUpstreamList(' 1.1.1.1 , ,8.8.8.8:53 '), [{ host: '1.1.1.1', port: 53 }, { host: '8.8.8.8', port: 53 }]);
  t.deepEqual(parseUpstreamList('[::1]:5353,[2001:db8::1]'), [{ host: '::1', port: 5353 }, { host: '2001:db8::1', port: 53 }]);
  t.deepEqual(parseUpstreamList('::1,2001:db8::53'), [{ host: '::1', port: 53 }, { host: '2001:db8::53', port: 53 }], 'a bare IPv6 address is all host');
  t.deepEqual(parseUpstreamList(''), []);
});

test('a pod on the node\'s network keeps the node\'s resolver under ClusterFirst, the cluster\'s under ClusterFirstWithHostNet', (t) => {
  t.deepEqual(podDnsConfig(pod({ hostNetwork: true }), cluster), {});
  t.deepEqual(podDnsConfig(pod({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }), cluster).nameservers, ['10.43.0.10']);
});
