// A watch client that stops reading costs the API server a bounded amount of memory: the server
// stops reading events for it from Redis while its socket does not drain, and closes it once it
// has taken nothing for the stall timeout (as Kubernetes closes an unresponsive watcher), while a
// watcher alongside keeps receiving every event. Each wait of a watch takes its abort listener
// away again, so a watch woken many times leaks none (no MaxListenersExceededWarning).
import test from 'ava';
import { readFileSync } from 'node:fs';
import { connect as connectTls, type TLSSocket } from 'node:tls';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { Store } from '../../shared/store/store.ts';
import type { KubeObject } from '../../shared/types.ts';
import { startCluster, eventually, type Cluster, type ServiceHandle } from '../helpers/cluster.ts';

let cluster: Cluster;
let connection: Redis;
/** Writes straight into the store, so that the API server's memory is its watches' alone. */
let store: Store;
const STALL_MS = 3_000;
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';

test.before(async () => {
  // Only the API server.
  cluster = await startCluster({ schedulers: 0, controllerManagers: 0, env: { WHARF_API_WATCH_STALL_TIMEOUT: `${STALL_MS}ms` } });
  connection = new Redis(cluster.redis.url);
  store = new Store(connection, new Keys(cluster.prefix));
});

test.after.always(async () => {
  connection?.disconnect();
  await cluster?.stop();
});

const MIB = 1024 * 1024;

function rssBytes(service: ServiceHandle): number {
  const status = readFileSync(`/proc/${service.child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

/** A watch read as a client would, event by event. */
function follow(path: string): { events: { type: string; name: string; v: string }[]; stop: () => Promise<void> } {
  const events: { type: string; name: string; v: string }[] = [];
  const abort = new AbortController();
  const done = (async () => {
    const res = await cluster.fetch(`${cluster.apiUrls[0]}${path}`, { signal: abort.signal });
    let buffer = '';
    for await (const chunk of res.body as any) {
      buffer += new TextDecoder().decode(chunk);
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const ev = JSON.parse(buffer.slice(0, nl));
        buffer = buffer.slice(nl + 1);
        events.push({ type: ev.type, name: ev.object.metadata?.name, v: ev.object.data?.seq });
      }
    }
  })().catch(() => undefined);
  return {
    events,
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

test('a watcher that never reads is closed with bounded memory, while one alongside gets every event', async (t) => {
  const api = cluster.services.find((s) => s.name === 'api')!;
  // Events of 100 KiB, under V8's large-object size: once sent, each is young garbage, collected
  // soon, so the server's memory shows what it holds more than when its collector last ran.
  const filler = 'x'.repeat(100 * 1024);
  const names = Array.from({ length: 8 }, (_, i) => `big-${i}`);
  let from = '';
  for (const name of names) {
    const configMap: KubeObject = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { seq: '0', filler } };
    from = (await store.create('configmaps', configMap)).metadata.resourceVersion!;
  }
  const write = (name: string, seq: number) => store.guaranteedUpdate('configmaps', 'default', name, (cm) => ({ ...cm, data: { ...cm.data, seq: String(seq) } }));
  const round = (seq: number) => Promise.all(names.map((name) => write(name, seq)));
  const steady = follow(`${CONFIGMAPS}?watch=true&resourceVersion=${from}`);
  // Warm the server up on the same work before the baseline: its garbage collector sizes its young
  // generation to the rate of allocation, which is no memory held for the stuck watcher.
  const warmUp = 30;
  for (let seq = 1; seq <= warmUp; seq++) await round(seq);

  await eventually(() => steady.events.length >= warmUp * names.length, { message: 'the steady watcher caught up on the warm-up' });
  const now = String(await store.currentResourceVersion());
  // The stuck one: a raw TLS connection that sends its request and never reads a byte of the answer.
  const stuck: TLSSocket = connectTls({ port: Number(new URL(cluster.apiUrls[0]).port), host: '127.0.0.1', ca: cluster.ca }, () => {
    stuck.write(`GET ${CONFIGMAPS}?watch=true&resourceVersion=${now} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${cluster.adminToken}\r\n\r\n`);
  });
  stuck.pause();
  let stuckClosed = false;
  stuck.on('close', () => (stuckClosed = true));
  stuck.on('error', () => undefined);
  await new Promise((resolve) => stuck.once('secureConnect', resolve));

  const baseline = rssBytes(api);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(api))), 100);
  const rounds = 150;
  const last = warmUp + rounds;
  try {
    // 1,200 events of 100 KiB: 117 MiB that the stuck watcher leaves unread.
    for (let seq = warmUp + 1; seq <= warmUp + rounds; seq++) await round(seq);
    await eventually(() => names.every((name) => steady.events.some((e) => e.name === name && e.v === String(last))), { timeoutMs: 60_000, message: `the steady watcher got the last events (${steady.events.length} so far)` });
  } finally {
    clearInterval(sampler);
  }
  const growth = peak - baseline;
  const unread = rounds * names.length * filler.length;
  t.log(`API server RSS: ${(baseline / MIB).toFixed(0)} MiB before, at most ${(peak / MIB).toFixed(0)} MiB while ${(unread / MIB).toFixed(0)} MiB of events went unread`);
  // The garbage the collector has yet to collect comes and goes: with no stuck watcher at all,
  // this load grew the server's RSS by 20 to 70 MiB. Without backpressure the stuck watcher held
  // everything it was sent: this test then saw 380 to 470 MiB.
  t.true(growth < 100 * MIB, `RSS grew by ${(growth / MIB).toFixed(0)} MiB`);
  // Events kept coming for far longer than the stall timeout: the stuck watch was closed, holding
  // no more than an event or two that its client had not taken.
  const closed = await eventually(() => api.logs().split('\n').find((line) => line.includes('watch closed: the client is not reading its events')), { timeoutMs: STALL_MS * 3, message: 'the server closed the stuck watch', detail: () => api.logs() });
  const unsent = JSON.parse(closed).unsentBytes as number;
  t.log(`closed holding ${(unsent / 1024).toFixed(0)} KiB the client had not taken`);
  t.true(unsent < 2 * filler.length + 64 * 1024, `${unsent} bytes unsent`);

  // Every event reached the steady watcher, each object's in order.
  for (const name of names) {
    const seqs = steady.events.filter((e) => e.name === name && e.type === 'MODIFIED').map((e) => Number(e.v));
    t.deepEqual(seqs, Array.from({ length: last }, (_, i) => i + 1), name);
  }
  await steady.stop();

  // The stuck client, once it reads, finds its connection closed by the server.
  stuck.resume();
  await eventually(() => stuckClosed, { timeoutMs: 10_000, message: 'the stuck connection was closed by the server' });
  t.false(/MaxListenersExceededWarning/.test(api.logs()), api.logs());
  t.is((await cluster.api.get('/readyz')).status, 200);
});
