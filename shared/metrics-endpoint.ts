// A process's Prometheus endpoint: GET /metrics (and /healthz) on a port of its own, plain HTTP,
// as kube-scheduler's and kube-controller-manager's once-insecure ports and the kubelet's
// read-only port served them. Port 0 turns it off. A port that cannot be bound is reported, and the
// process runs on without it: metrics are not worth failing a scheduler for.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './log.ts';
import { metricsRegistry } from './metrics.ts';

export interface MetricsEndpoint {
  /** The port it listens on, or undefined when off or not bound. */
  port: number | undefined;
  close(): void;
}

/** Serves the process's metrics on host:port; port 0: off. */
export async function serveMetrics(port: number, host: string, log: Logger): Promise<MetricsEndpoint> {
  if (port === 0) return { port: undefined, close: () => undefined };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain' }).end('method not allowed\n');
    } else if (path === '/metrics') {
      metricsRegistry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': metricsRegistry.contentType }).end(text),
        (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`${err.message}\n`),
      );
    } else if (path === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
    } else {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('404 page not found\n');
    }
  });
  const bound = await new Promise<boolean>((resolve) => {
    server.once('error', (err) => {
      log.warn({ err: err.message, host, port }, 'metrics endpoint not served');
      resolve(false);
    });
    server.listen(port, host, () => resolve(true));
  });
  if (!bound) return { port: undefined, close: () => undefined };
  const actual = (server.address() as AddressInfo).port;
  log.info({ host, port: actual }, 'serving metrics');
  return { port: actual, close: () => server.close() };
}
