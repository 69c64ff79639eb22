// Port-forward throughput: one HTTP GET of a file of N MiB (default 100) from busybox httpd in a
// pod, straight to the pod IP from the host, then through `kubectl port-forward` (kubectl ->
// API server -> node agent -> Docker exec of nc in the pod's sandbox), over kubectl's WebSocket
// tunnel and over its SPDY fallback. Each path three times; the best run counts.
//
//   node --import tsx bench/port-forward.ts [mib=100]
import Docker from 'dockerode';
import { mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { request as httpRequest } from 'node:http';
import { spawn } from 'node:child_process';
import { eventually } from '../test/helpers/cluster.ts';
import { dockerNode, removeDockerNode, startDockerCluster } from '../test/helpers/docker-node.ts';

const mib = Number(process.argv[2] ?? 100);
const docker = new Docker();
const node = dockerNode('bench-pf');
const work = mkdtempSync(join(tmpdir(), 'wharf-bench-pf-'));

function download(host: string, port: number): Promise<{ bytes: number; seconds: number }> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host, port, path: '/big', agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ bytes, seconds: Number(process.hrtime.bigint() - start) / 1e9 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

async function best(label: string, host: string, port: number): Promise<number> {
  let top = 0;
  for (let i = 0; i < 3; i++) {
    const r = await download(host, port);
    if (r.bytes !== mib * 1024 * 1024) throw new Error(`${label}: ${r.bytes} bytes`);
    top = Math.max(top, r.bytes / 1024 / 1024 / r.seconds);
  }
  console.log(`${label}: ${top.toFixed(0)} MiB/s (best of 3, ${mib} MiB)`);
  return top;
}

const cluster = await startDockerCluster(node, ['busybox:latest']);
try {
  await cluster.api.post('/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'big' },
    spec: { terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: 'busybox:latest', command: ['sh', '-c', `mkdir -p /www && head -c ${mib * 1024 * 1024} /dev/urandom > /www/big && exec httpd -f -p 8080 -h /www`] }] },
  });
  const podIp = await eventually(async () => {
    const p = (await cluster.api.get('/api/v1/namespaces/default/pods/big')).body;
    return p.status?.phase === 'Running' && p.status.podIP;
  }, { timeoutMs: 60_000, message: 'pod running' });
  await eventually(async () => (await download(podIp, 8080).catch(() => ({ bytes: 0 }))).bytes === mib * 1024 * 1024, { timeoutMs: 60_000, message: 'file served' });
  const direct = await best('direct to the pod IP', podIp, 8080);
  for (const [label, env] of [['kubectl port-forward (WebSocket tunnel)', {}], ['kubectl port-forward (SPDY fallback)', { KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false' }]] as const) {
    const child = spawn('kubectl', ['--cache-dir', join(work, 'cache'), 'port-forward', 'pod/big', '0:8080'], { env: { ...process.env, KUBECONFIG: cluster.kubeconfig, ...env } });
    const port = await new Promise<number>((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        const m = /127\.0\.0\.1:(\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      });
    });
    const through = await best(label, '127.0.0.1', port);
    console.log(`  ${(through / direct).toFixed(2)}x direct`);
    child.kill();
  }
  console.log(`load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`);
} finally {
  await cluster.stop();
  await removeDockerNode(node, docker);
}
