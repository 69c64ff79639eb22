// The service proxy as activator, with real sockets on loopback: a connection to a scaled Service
// with no endpoint is held (not refused, not reset) and forwarded once a backend appears, even one
// whose app is still starting; held too long, it is closed cleanly; a Service no HTTPScaledObject
// names is still refused at once, as kube-proxy does.
import test from 'ava';
import net from 'node:net';
import { createLogger } from '../../shared/log.ts';
import { Proxier } from '../../services/node-agent/proxy/proxier.ts';
import { TrafficCounters } from '../../services/node-agent/proxy/traffic.ts';
import type { ListenerSpec } from '../../services/node-agent/proxy/plan.ts';

const log = createLogger('test', 'silent');

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((r) => s.close(r));
  return port;
}

const spec = (port: number, backends: { ip: string; port: number }[], activate?: string): ListenerSpec => ({
  id: `TCP/127.0.0.1:${port}`, host: '127.0.0.1', port, protocol: 'TCP', servicePort: 'default/web:http', backends, ...(activate ? { activate } : {}),
});

/** Connects, sends a line, and resolves with what came back and how the connection ended. */
function exchange(port: number): { result: Promise<{ data: string; ending: 'end' | 'reset' | 'error' }>; connected: Promise<void> } {
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  const connected = new Promise<void>((r) => socket.once('connect', () => r()));
  const result = new Promise<{ data: string; ending: 'end' | 'reset' | 'error' }>((resolve) => {
    socket.on('data', (c) => (data += c));
    socket.on('end', () => resolve({ data, ending: 'end' }));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve({ data, ending: err.code === 'ECONNRESET' ? 'reset' : 'error' }));
  });
  socket.write('ping\n');
  return { result, connected };
}

function echoServer(port: number, reply: string): Promise<net.Server> {
  const server = net.createServer((s) => s.once('data', () => s.end(reply)));
  return new Promise((r) => server.listen(port, '127.0.0.1', () => r(server)));
}

test('a connection to a scaled Service at zero is held, signals demand once, and is answered when a backend appears', async (t) => {
  const demands: string[] = [];
  const counters = new TrafficCounters((s) => demands.push(s));
  const proxier = new Proxier(log, { counters, holdMs: 10_000 });
  const port = await freePort();
  const backendPort = await freePort();
  await proxier.sync([spec(port, [], 'default/web')]);
  const { result, connected } = exchange(port);
  await connected;
  await new Promise((r) => setTimeout(r, 200));
  t.deepEqual(demands, ['default/web']);
  t.like(counters.current('default/web'), { held: 1, inFlight: 0 });
  // The endpoint shows up before its app listens: the proxy retries until it does.
  await proxier.sync([spec(port, [{ ip: '127.0.0.1', port: backendPort }], 'default/web')]);
  await new Promise((r) => setTimeout(r, 150));
  const backend = await echoServer(backendPort, 'pong');
  t.deepEqual(await result, { data: 'pong', ending: 'end' });
  await new Promise((r) => setTimeout(r, 50));
  t.like(counters.current('default/web'), { held: 0, inFlight: 0 });
  proxier.close();
  backend.close();
});

test('held past the timeout, the connection is closed cleanly, not reset', async (t) => {
  const proxier = new Proxier(log, { counters: new TrafficCounters(), holdMs: 300 });
  const port = await freePort();
  await proxier.sync([spec(port, [], 'default/web')]);
  const started = Date.now();
  const { result } = exchange(port);
  t.deepEqual(await result, { data: '', ending: 'end' });
  t.true(Date.now() - started >= 280, `held ${Date.now() - started} ms`);
  proxier.close();
});

test('a Service no HTTPScaledObject names is refused at once when it has no endpoint', async (t) => {
  const proxier = new Proxier(log, { counters: new TrafficCounters(), holdMs: 10_000 });
  const port = await freePort();
  await proxier.sync([spec(port, [])]);
  const started = Date.now();
  const { result } = exchange(port);
  t.is((await result).ending, 'reset');
  t.true(Date.now() - started < 1000);
  proxier.close();
});
