// A client that watches for a long time keeps its view exact through a Redis restart and an API
// server restart: the watch continues or ends cleanly, the client re-watches from its last
// resourceVersion (or relists after 410 Expired), and no event is missed.
import test from 'ava';
import { startCluster, eventually, freePort, type Cluster } from '../helpers/cluster.ts';

let cluster: Cluster;

test.before(async () => {
  cluster = await startCluster({});
});

test.after.always(async () => {
  await cluster?.stop();
});

/** A small informer: list, watch from the list's resourceVersion, re-watch on end, relist on 410. */
class Informer {
  readonly objects = new Map<string, { rv: string; data: unknown }>();
  readonly log: string[] = [];
  rv = '';
  relists = 0;
  rewatches = 0;
  private stopped = false;
  private controller = new AbortController();
  private loop?: Promise<void>;

  constructor(private readonly base: () => string, private readonly path: string) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.controller.abort();
    await this.loop;
  }

  private async list(): Promise<void> {
    const res = await cluster.fetch(`${this.base()}${this.path}`);
    if (!res.ok) throw new Error(`list: ${res.status}`);
    const body = (await res.json()) as any;
    this.objects.clear();
    for (const o of body.items) this.objects.set(o.metadata.name, { rv: o.metadata.resourceVersion, data: o.data });
    this.rv = body.metadata.resourceVersion;
    this.relists++;
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList) {
          await this.list();
          needList = false;
        }
        this.controller = new AbortController();
        const res = await cluster.fetch(`${this.base()}${this.path}?watch=true&allowWatchBookmarks=true&resourceVersion=${this.rv}&timeoutSeconds=60`, { signal: this.controller.signal });
        if (res.status === 410) {
          needList = true;
          continue;
        }
        if (!res.ok || !res.body) throw new Error(`watch: ${res.status}`);
        const decoder = new TextDecoder();
        let buffer = '';
        for await (const chunk of res.body as any) {
          buffer += decoder.decode(chunk, { stream: true });
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (!line.trim()) continue;
            const ev = JSON.parse(line);
            if (ev.type === 'ERROR') {
              this.log.push(`ERROR ${ev.object.code} ${ev.object.reason}`);
              if (ev.object.code === 410) needList = true;
              continue;
            }
            this.rv = ev.object.metadata.resourceVersion;
            if (ev.type === 'BOOKMARK') continue;
            const name = ev.object.metadata.name;
            this.log.push(`${ev.type} ${name} ${this.rv}`);
            if (ev.type === 'DELETED') this.objects.delete(name);
            else this.objects.set(name, { rv: this.rv, data: ev.object.data });
          }
        }
        this.rewatches++;
      } catch (err) {
        if (this.stopped) return;
        this.log.push(`watch failed: ${(err as Error).message}`);
        this.rewatches++;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
}

async function write(i: number, base = cluster.apiUrls[0]): Promise<void> {
  // Writes go through whichever API server is up; retried while Redis or the API is restarting.
  await eventually(async () => {
    const res = await cluster.fetch(`${base}/api/v1/namespaces/default/configmaps`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ metadata: { name: `cm-${i}` }, data: { i: String(i) } }),
    }).catch(() => undefined);
    if (res?.status === 409) return true; // an earlier attempt got through
    return res?.status === 201;
  }, { timeoutMs: 20_000, message: `write ${i}` });
}

async function serverState(): Promise<Map<string, string>> {
  const body = (await cluster.api.get('/api/v1/namespaces/default/configmaps')).body;
  return new Map(body.items.map((o: any) => [o.metadata.name, o.metadata.resourceVersion]));
}

function same(informer: Informer, server: Map<string, string>): boolean {
  if (informer.objects.size !== server.size) return false;
  for (const [name, rv] of server) if (informer.objects.get(name)?.rv !== rv) return false;
  return true;
}

test.serial('the watch survives a Redis restart and an API server restart without missing events', async (t) => {
  const informer = new Informer(() => cluster.apiUrls[0], '/api/v1/namespaces/default/configmaps');
  informer.start();
  try {
    for (let i = 0; i < 5; i++) await write(i);
    await eventually(async () => same(informer, await serverState()), { message: 'informer in sync' });

    // Redis restart (append-only persistence keeps objects, streams and the resourceVersion).
    await cluster.redis.restart();
    for (let i = 5; i < 10; i++) await write(i);
    await eventually(async () => same(informer, await serverState()), { timeoutMs: 20_000, message: 'in sync after the Redis restart' });
    t.is(informer.objects.size, 10 + 1, 'the ConfigMaps written and kube-root-ca.crt');

    // Writes while the watch is down must still arrive: kill the API server, write through a
    // second one, then bring the first back on the same port.
    const port = new URL(cluster.apiUrls[0]).port;
    const otherPort = await freePort();
    const other = `https://127.0.0.1:${otherPort}`;
    cluster.start('api', { WHARF_API_PORT: String(otherPort), WHARF_API_HOST: '127.0.0.1' }, 'api-other');
    await eventually(async () => (await cluster.fetch(`${other}/readyz`).catch(() => undefined))?.ok, { timeoutMs: 20_000, message: 'second API server' });
    const api = cluster.services.find((s) => s.name === 'api')!;
    await api.kill('SIGKILL');
    for (let i = 10; i < 13; i++) await write(i, other);
    const restarted = cluster.start('api', { WHARF_API_PORT: port, WHARF_API_HOST: '127.0.0.1' }, 'api-restarted');
    await eventually(async () => (await cluster.fetch(`${cluster.apiUrls[0]}/readyz`).catch(() => undefined))?.ok, { timeoutMs: 20_000, message: 'restarted API server' });
    await write(13);
    await eventually(async () => same(informer, await serverState()), { timeoutMs: 20_000, message: 'in sync after the API was killed' });

    // A graceful stop (SIGTERM) ends the watch stream cleanly rather than cutting the connection.
    const before = informer.log.length;
    await restarted.kill('SIGTERM');
    await write(14, other);
    cluster.start('api', { WHARF_API_PORT: port, WHARF_API_HOST: '127.0.0.1' }, 'api-restarted-again');
    await eventually(async () => (await cluster.fetch(`${cluster.apiUrls[0]}/readyz`).catch(() => undefined))?.ok, { timeoutMs: 20_000, message: 'API server started again' });
    // Updates and deletes too.
    await cluster.api.patch('/api/v1/namespaces/default/configmaps/cm-0', { data: { i: 'changed' } });
    await cluster.api.delete('/api/v1/namespaces/default/configmaps/cm-1');
    await eventually(async () => same(informer, await serverState()), { timeoutMs: 20_000, message: 'in sync after the API restart' });
    t.false(informer.log.slice(before).some((l) => l.includes('terminated')), `the stream ended cleanly:\n${informer.log.slice(before).join('\n')}`);
    t.is(informer.objects.size, 14 + 1, 'the ConfigMaps written and kube-root-ca.crt');
    t.deepEqual(informer.objects.get('cm-0')?.data, { i: 'changed' });
    t.false(informer.objects.has('cm-1'));
    // Every object was seen ADDED exactly once: nothing missed, nothing replayed twice.
    for (let i = 0; i < 15; i++) {
      const adds = informer.log.filter((l) => l.startsWith(`ADDED cm-${i} `)).length;
      t.true(adds <= 1, `cm-${i} added ${adds} times\n${informer.log.join('\n')}`);
    }
    t.true(informer.rewatches >= 1, 'the watch was re-established');
    t.log(`relists=${informer.relists} rewatches=${informer.rewatches}`);
    t.log(informer.log.filter((l) => !/^(ADDED|MODIFIED|DELETED) /.test(l)).slice(0, 8).join('\n'));
  } finally {
    await informer.stop();
  }
});
