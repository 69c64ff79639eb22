// API latency, as Kubernetes' API SLOs measure it: p50/p99 of single-object reads and writes under
// a steady open-loop mixed load (default 500 requests/s for 20 s against one API server), and the
// time to list 10,000 pods (whole, and in pages of 500 as kubectl and informers do).
//
//   node --import tsx bench/api-latency.ts [rate=500] [seconds=20] [pods=10000]
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import { Keys } from '../shared/keys.ts';
import { Store } from '../shared/store/store.ts';
import type { Pod } from '../shared/types.ts';
import { startCluster } from '../test/helpers/cluster.ts';

const rate = Number(process.argv[2] ?? 500);
const seconds = Number(process.argv[3] ?? 20);
const podCount = Number(process.argv[4] ?? 10_000);

const pct = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
};
const fmt = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms (n=${xs.length})`;

function pod(i: number): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `bench-${i}`, namespace: 'default', labels: { app: 'bench', shard: String(i % 10) } },
    spec: { containers: [{ name: 'c', image: 'sim:1', resources: { requests: { cpu: '100m', memory: '128Mi' } } }], restartPolicy: 'Always' },
    status: { phase: 'Pending' },
  };
}

async function main() {
  const cluster = await startCluster({ schedulers: 0, controllerManagers: 0, env: { WHARF_LOG_LEVEL: 'warn' } });
  const base = cluster.apiUrls[0];
  // Over HTTPS, as the administrator: the cluster CA trusted and the admin token sent.
  const fetch = cluster.fetch;
  const redis = new Redis(cluster.redis.url);
  const store = new Store(redis, new Keys(cluster.prefix), 100_000);
  try {
    for (let i = 0; i < podCount; i += 500) {
      await Promise.all(Array.from({ length: Math.min(500, podCount - i) }, (_, j) => store.create('pods', pod(i + j))));
    }
    const lists: number[] = [];
    const paged: number[] = [];
    for (let i = 0; i < 5; i++) {
      let t = performance.now();
      const whole = (await (await fetch(`${base}/api/v1/namespaces/default/pods`)).json()) as any;
      lists.push(performance.now() - t);
      if (whole.items.length !== podCount) throw new Error(`listed ${whole.items.length} pods`);
      t = performance.now();
      let token = '';
      let seen = 0;
      do {
        const page = (await (await fetch(`${base}/api/v1/namespaces/default/pods?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`)).json()) as any;
        seen += page.items.length;
        token = page.metadata.continue ?? '';
      } while (token);
      paged.push(performance.now() - t);
      if (seen !== podCount) throw new Error(`paged ${seen} pods`);
    }
    console.log(`list ${podCount} pods: ${fmt(lists)}; in pages of 500: ${fmt(paged)}  [load ${loadavg()[0].toFixed(2)}]`);

    // Open loop: requests leave on schedule whatever the latency, so slow answers cannot hide.
    const reads: number[] = [];
    const writes: number[] = [];
    let errors = 0;
    let seq = 0;
    const cm = (name: string, value: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: value } });
    const names: string[] = [];
    for (let i = 0; i < 100; i++) {
      const name = `cm-${i}`;
      await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(cm(name, '0')) });
      names.push(name);
    }
    const one = async () => {
      const i = seq++;
      const kind = i % 10;
      const name = names[i % names.length];
      const t = performance.now();
      let res: Response;
      if (kind < 5) res = await fetch(`${base}/api/v1/namespaces/default/configmaps/${name}`);
      else if (kind < 6) res = await fetch(`${base}/api/v1/namespaces/default/pods/bench-${i % podCount}`);
      else if (kind < 9) res = await fetch(`${base}/api/v1/namespaces/default/configmaps/${name}`, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: JSON.stringify({ data: { v: String(i) } }) });
      else res = await fetch(`${base}/api/v1/namespaces/default/configmaps`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(cm(`new-${randomBytes(4).toString('hex')}`, String(i))) });
      await res.arrayBuffer();
      const ms = performance.now() - t;
      if (!res.ok) errors++;
      (kind < 6 ? reads : writes).push(ms);
    };
    const inflight: Promise<void>[] = [];
    const started = performance.now();
    const total = rate * seconds;
    for (let sent = 0; sent < total; ) {
      const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * rate));
      while (sent < due) {
        inflight.push(one().catch(() => void errors++));
        sent++;
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(inflight);
    const elapsed = (performance.now() - started) / 1000;
    console.log(`mixed load ${(total / elapsed).toFixed(0)} req/s for ${elapsed.toFixed(1)} s, ${errors} errors`);
    console.log(`  single-object reads  (GET configmap/pod): ${fmt(reads)}`);
    console.log(`  single-object writes (PATCH/POST configmap): ${fmt(writes)}  [load ${loadavg()[0].toFixed(2)}]`);
    console.log(`  Kubernetes' SLO: p99 <= 1000 ms for single-object mutating and read-only calls`);
  } finally {
    redis.disconnect();
    await cluster.stop();
  }
}

await main();
