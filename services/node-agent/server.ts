// The agent's own small HTTPS endpoint (the kubelet's port): container logs, which the API server
// proxies for `kubectl logs`, and the upgrade requests of exec and attach (streams.ts), which it
// tunnels for `kubectl exec` and `attach`. Everything it serves comes from the runtime. It
// answers the API server alone: a request must come with a client certificate the cluster CA
// issued to the API server (kubeadm's apiserver-kubelet-client) or to system:masters. The agent
// reads only the CA's certificate (the public credentials); its own serving certificate is
// self-signed, as a kubelet's is by default.
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import type { Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import type { Logger } from '../../shared/log.ts';
import type { ContainerRuntime } from './runtime/types.ts';
import { latestAttempt } from './pod-logic.ts';
import { KUBELET_CLIENT, selfSignedCertificate, subjectAltNames } from '../../shared/auth/pki.ts';
import { SYSTEM_MASTERS } from '../../shared/auth/user.ts';
import { clusterCaCertificate } from '../../shared/auth/cluster-credentials.ts';
import { handlePortForwardUpgrade, isPortForwardPath } from './portforward/upgrade.ts';
import { execAttachRoutes, refuseUpgrade, type UpgradeRoute } from './streams.ts';

export interface AgentServerOptions {
  port: number;
  host: string;
  /** The names the serving certificate holds (the advertised host). */
  names: string[];
  store: Store;
  runtimeFor: (node: string) => ContainerRuntime | undefined;
  log: Logger;
  /** How often to look for the cluster CA until an API server has made it. */
  caPollMs?: number;
}

/** Whether a request came with a client certificate the cluster CA issued for the API server, and why not. */
export function apiServerCaller(req: IncomingMessage): { ok: true } | { ok: false; code: 401 | 403; message: string } {
  const socket = req.socket as TLSSocket;
  const cert = socket.getPeerCertificate?.();
  if (!cert || !Object.keys(cert).length || !socket.authorized) return { ok: false, code: 401, message: 'Unauthorized' };
  const cn = [cert.subject?.CN ?? []].flat();
  const groups = [cert.subject?.O ?? []].flat();
  if (cn.includes(KUBELET_CLIENT.commonName) || groups.includes(SYSTEM_MASTERS)) return { ok: true };
  return { ok: false, code: 403, message: `Forbidden (user=${cn.at(-1)}, verb=get, resource=nodes, subresource=proxy)` };
}

function fail(res: import('node:http').ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'Content-Type': 'text/plain' });
  res.end(message);
}

export async function startAgentServer(opts: AgentServerOptions): Promise<Server & { port: number }> {
  const serving = selfSignedCertificate({ commonName: opts.names[0] ?? 'wharf-node', usages: ['server'], ...subjectAltNames([...opts.names, opts.host, '127.0.0.1', 'localhost']) });
  // Until an API server has made the cluster CA, no client certificate can be verified: every request is refused.
  const server = createServer({ key: serving.key, cert: serving.cert, requestCert: true, rejectUnauthorized: false }, (req, res) => {
    const caller = apiServerCaller(req);
    if (!caller.ok) return fail(res, caller.code, caller.message);
    void (async () => {
      const url = new URL(req.url ?? '/', 'https://agent');
      const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
      if (req.method !== 'GET' || !m) return fail(res, 404, `the node agent serves no ${req.method} ${url.pathname}`);
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
  // Streaming subresources arrive as upgrade requests (exec and attach: WebSocket; port-forward:
  // WebSocket, or a SPDY/3.1 POST as kubectl's fallback sends it), from the API server only: the
  // same caller check, then the first route whose path matches.
  const portForward: UpgradeRoute = {
    pattern: /^(\/portForward\/.*)$/,
    serve: async (req, socket, head, [path]) => {
      if ((req.method === 'GET' || req.method === 'POST') && isPortForwardPath(path)) return handlePortForwardUpgrade({ store: opts.store, runtimeFor: opts.runtimeFor, log: opts.log }, req, socket, head);
      refuseUpgrade(socket, 404, `the node agent serves no ${req.method} ${path}`);
    },
  };
  const upgradeRoutes: UpgradeRoute[] = [...execAttachRoutes(opts), portForward];
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const caller = apiServerCaller(req);
    if (!caller.ok) return refuseUpgrade(socket, caller.code, caller.message);
    const url = new URL(req.url ?? '/', 'https://agent');
    for (const route of upgradeRoutes) {
      const m = route.pattern.exec(url.pathname);
      if (m) return void route.serve(req, socket, head, m.slice(1).map(decodeURIComponent), url.searchParams);
    }
    refuseUpgrade(socket, 404, `the node agent serves no ${req.method} ${url.pathname}`);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`node agent endpoint ${opts.host}:${opts.port}: ${err.message}`)));
    server.listen(opts.port, opts.host, resolve);
  });
  let stopped = false;
  server.once('close', () => (stopped = true));
  void (async () => {
    for (;;) {
      const ca = await clusterCaCertificate(opts.store).catch(() => null);
      if (stopped) return;
      if (ca) {
        server.setSecureContext({ key: serving.key, cert: serving.cert, ca: [ca] });
        opts.log.info('node agent endpoint: trusting client certificates of the cluster CA');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, opts.caPollMs ?? 1_000).unref());
    }
  })();
  return Object.assign(server, { port: (server.address() as AddressInfo).port });
}
