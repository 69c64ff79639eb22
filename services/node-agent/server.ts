// The agent's own small HTTP endpoint (the kubelet's port): container logs, which the API server
// proxies for `kubectl logs`. It only reads; everything it serves comes from the runtime.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import type { Logger } from '../../shared/log.ts';
import type { ContainerRuntime } from './runtime/types.ts';
import { latestAttempt } from './pod-logic.ts';

export interface AgentServerOptions {
  port: number;
  host: string;
  store: Store;
  runtimeFor: (node: string) => ContainerRuntime | undefined;
  log: Logger;
}

function fail(res: import('node:http').ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain' });
  res.end(message);
}

export async function startAgentServer(opts: AgentServerOptions): Promise<Server & { port: number }> {
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://agent');
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (req.method !== 'GET' || !m) return fail(res, 404, 'not found');
      const [namespace, name, container] = m.slice(1).map(decodeURIComponent);
      const pod = await opts.store.get<Pod>('pods', namespace, name);
      if (!pod?.spec.nodeName) return fail(res, 404, `pod ${namespace}/${name} is not running on a node`);
      const runtime = opts.runtimeFor(pod.spec.nodeName);
      if (!runtime) return fail(res, 404, `node ${pod.spec.nodeName} is not served here`);
      const containers = (await runtime.listContainers(pod.spec.nodeName, { namespace: pod.metadata.namespace!, name: pod.metadata.name! })).filter((c) => c.pod.uid === pod.metadata.uid && c.name === container);
      const latest = latestAttempt(containers, container);
      const previous = url.searchParams.get('previous') === 'true';
      const target = previous ? containers.filter((c) => c !== latest).sort((a, b) => b.attempt - a.attempt)[0] : latest;
      if (!target) {
        return fail(res, 400, previous
          ? `previous terminated container "${container}" in pod "${name}" not found`
          : `container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
      }
      const tail = url.searchParams.get('tailLines');
      const since = url.searchParams.get('sinceSeconds');
      const stream = await runtime.logs(target.id, {
        follow: url.searchParams.get('follow') === 'true',
        tailLines: tail ? Number(tail) : undefined,
        sinceSeconds: since ? Number(since) : undefined,
        timestamps: url.searchParams.get('timestamps') === 'true',
      });
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
      res.flushHeaders();
      stream.pipe(res);
      res.on('close', () => stream.destroy());
    })().catch((err) => {
      opts.log.warn({ err: (err as Error).message }, 'log request failed');
      if (!res.headersSent) fail(res, 500, (err as Error).message);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`node agent endpoint ${opts.host}:${opts.port}: ${err.message}`)));
    server.listen(opts.port, opts.host, resolve);
  });
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}
