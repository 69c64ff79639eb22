// The streaming subresources (pods/exec, pods/attach, pods/portforward): the API server checks the
// request against the pod, then tunnels the client's upgrade request to the agent of the pod's
// node and, once the agent switches protocols, pipes the two connections together byte for byte,
// as kube-apiserver's UpgradeAwareHandler proxies to the kubelet
// (k8s.io/apimachinery/pkg/util/proxy/upgradeaware.go). The API server never reads the protocol
// inside (WebSocket channels, SPDY streams): the agent terminates it. Back-pressure is pipe()'s;
// either side closing closes both.
//
// Node only hands an upgrade request to the 'upgrade' event, with the bare socket; serveUpgrades
// gives it to the express app like any request (authentication, RBAC and the handlers run as for
// every other), and the handler for these subresources calls tunnelToAgent.
import { request as httpsRequest } from 'node:https';
import { ServerResponse, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Request, Response } from 'express';
import type { Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { BadRequestError, ServiceUnavailableError } from '../../shared/errors.ts';
import type { AgentClientCredentials } from './logs.ts';

/** The pod subresources served by tunnelling to the node agent. */
export const STREAMING_SUBRESOURCES = ['exec', 'attach', 'portforward'] as const;
export type StreamingSubresource = (typeof STREAMING_SUBRESOURCES)[number];

export function isStreamingSubresource(sub: string | undefined): sub is StreamingSubresource {
  return (STREAMING_SUBRESOURCES as readonly string[]).includes(sub ?? '');
}

/** How long a tunnel waits for the node agent to answer its upgrade request (kube-apiserver dials the kubelet for 30 s). */
const AGENT_DIAL_TIMEOUT_MS = 30_000;

/** The request headers a tunnel passes on to the agent: the upgrade handshake of WebSocket and SPDY. */
const FORWARDED_HEADERS = /^(upgrade|connection|sec-websocket-.*|x-stream-protocol-version)$/i;

/** Where on a node's agent a tunnel goes, and what it asks. */
export interface AgentStreamTarget {
  /** The node whose agent serves the stream. */
  node: string;
  /** The agent's path, as the kubelet names it: /exec/{ns}/{pod}/{container}, /attach/..., /portForward/{ns}/{pod}. */
  path: string;
  /** The client's query, passed on as it came (command=..&command=..&stdin=true, ports=...). */
  query: string;
}

/**
 * Kubernetes' validateContainer (pkg/registry/core/pod/strategy.go): the container a request
 * names, or the pod's only one, among its containers, init and ephemeral containers included.
 */
export function streamContainer(pod: Pod, container: string | undefined): string {
  const name = pod.metadata.name!;
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers, ...((pod.spec.ephemeralContainers as { name: string }[] | undefined) ?? [])].map((c) => c.name);
  if (!container) {
    if (pod.spec.containers.length === 1) return pod.spec.containers[0].name;
    if (pod.spec.containers.length === 0) throw new BadRequestError(`a container name must be specified for pod ${name}`);
    throw new BadRequestError(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
  }
  if (!all.includes(container)) throw new BadRequestError(`container ${container} is not valid for pod ${name}`);
  return container;
}

/**
 * Where a streaming request for a pod goes (Kubernetes' ExecLocation, AttachLocation,
 * PortForwardLocation): its node's agent, at the kubelet's path. Throws the Status Kubernetes
 * answers for a container that is not the pod's or a pod no node runs.
 */
export function podStreamTarget(pod: Pod, subresource: StreamingSubresource, query: URLSearchParams): AgentStreamTarget {
  const ns = encodeURIComponent(pod.metadata.namespace!);
  const name = encodeURIComponent(pod.metadata.name!);
  let path: string;
  if (subresource === 'portforward') {
    path = `/portForward/${ns}/${name}`;
  } else {
    const container = streamContainer(pod, query.get('container') ?? undefined);
    path = `/${subresource}/${ns}/${name}/${encodeURIComponent(container)}`;
  }
  if (!pod.spec.nodeName) throw new BadRequestError(`pod ${pod.metadata.name} does not have a host assigned`);
  return { node: pod.spec.nodeName, path, query: query.toString() };
}

/** The handler of GET/POST pods/{name}/{exec,attach,portforward}: checks the pod, then tunnels to its agent. */
export async function podStreamRequest(store: Store, client: AgentClientCredentials, req: Request, res: Response, namespace: string, name: string, subresource: StreamingSubresource): Promise<void> {
  const pod = await store.mustGet<Pod>('pods', namespace, name);
  const query = new URLSearchParams(req.originalUrl.includes('?') ? req.originalUrl.slice(req.originalUrl.indexOf('?') + 1) : '');
  const target = podStreamTarget(pod, subresource, query);
  await tunnelToAgent(store, client, req, res, target);
}

/**
 * Tunnels an upgrade request to a node's agent: the request (method, target path and query, the
 * upgrade headers) goes to the agent over TLS with the API server's client certificate; the
 * agent's answer comes back to the client as it is (a 101 and its headers, or an error and its
 * body), and after a 101 the two connections are piped together until either closes.
 *
 * The port-forward handler calls this as it is, with the target podStreamTarget makes for
 * 'portforward'. It resolves when the tunnel is up (or the error answered); it throws an
 * ApiError (answered as a Status by the caller's error handler) when the request is no upgrade
 * or the agent cannot be reached.
 */
export async function tunnelToAgent(store: Store, client: AgentClientCredentials, req: Request, res: Response, target: AgentStreamTarget): Promise<void> {
  if (!req.headers.upgrade) throw new BadRequestError('Upgrade request required');
  const socket = upgradeSocket(req);
  if (!socket) throw new BadRequestError('Upgrade request required');
  const endpoint = await store.agentEndpoint(target.node);
  if (!endpoint) throw new ServiceUnavailableError(`no agent endpoint is known for node ${target.node}`);
  const [host, port] = endpoint.split(':');
  // The request has no body (a SPDY client's POST included): the upgraded connection carries everything.
  const headers: [string, string][] = [['Host', endpoint], ...(req.method === 'GET' ? [] : [['Content-Length', '0'] as [string, string]])];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    if (FORWARDED_HEADERS.test(req.rawHeaders[i])) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
  }
  await new Promise<void>((resolve, reject) => {
    const upstream = httpsRequest({
      host,
      port: Number(port),
      method: req.method,
      path: target.query ? `${target.path}?${target.query}` : target.path,
      // Repeated headers (X-Stream-Protocol-Version, one per protocol kubectl speaks) stay repeated.
      headers: headers.flat() as unknown as Record<string, string>,
      cert: client.cert,
      key: client.key,
      // As logs.ts: the agent's certificate is its own making, which the API server does not verify.
      rejectUnauthorized: false,
      agent: false,
    });
    const clientGone = () => upstream.destroy();
    socket.once('close', clientGone);
    // An agent whose host is gone may never answer the connect: give up as kube-apiserver's dialer does.
    const dialTimer = setTimeout(() => upstream.destroy(new Error(`no answer within ${AGENT_DIAL_TIMEOUT_MS / 1000} s`)), AGENT_DIAL_TIMEOUT_MS);
    const answered = () => clearTimeout(dialTimer);
    upstream.once('upgrade', answered).once('response', answered).once('error', answered);
    upstream.on('upgrade', (agentRes: IncomingMessage, agentSocket: Duplex, agentHead: Buffer) => {
      socket.off('close', clientGone);
      res.statusCode = agentRes.statusCode ?? 101; // for the request metrics
      let head = `HTTP/1.1 ${agentRes.statusCode} ${agentRes.statusMessage}\r\n`;
      for (let i = 0; i < agentRes.rawHeaders.length; i += 2) head += `${agentRes.rawHeaders[i]}: ${agentRes.rawHeaders[i + 1]}\r\n`;
      socket.write(`${head}\r\n`);
      if (agentHead.length) socket.write(agentHead);
      splice(socket, agentSocket);
      resolve();
    });
    upstream.on('response', (agentRes) => {
      // The agent refused (the kubelet's errors: a container not running, a protocol it does not
      // speak): its answer, a short text, goes back as it came, as kube-apiserver relays it.
      socket.off('close', clientGone);
      res.status(agentRes.statusCode ?? 502);
      const type = agentRes.headers['content-type'];
      if (type) res.setHeader('Content-Type', type);
      agentRes.pipe(res);
      agentRes.on('end', resolve);
      agentRes.on('error', resolve);
    });
    upstream.on('error', (err) => {
      socket.off('close', clientGone);
      if (socket.destroyed) return resolve();
      reject(new ServiceUnavailableError(`error dialing backend: cannot reach the agent of node ${target.node}: ${err.message}`));
    });
    upstream.end();
  });
}

/** Pipes two connections together: each one's bytes to the other, with back-pressure; when either closes, both do. */
export function splice(a: Duplex, b: Duplex): void {
  a.pipe(b);
  b.pipe(a);
  const closeBoth = () => {
    a.destroy();
    b.destroy();
  };
  a.once('close', closeBoth);
  b.once('close', closeBoth);
  a.on('error', closeBoth);
  b.on('error', closeBoth);
}

const UPGRADE_SOCKET = Symbol('upgradeSocket');

/** The bare socket of a request serveUpgrades dispatched, or undefined for an ordinary request. */
function upgradeSocket(req: Request): Duplex | undefined {
  return (req as unknown as { [UPGRADE_SOCKET]?: Duplex })[UPGRADE_SOCKET];
}

/**
 * Lets the app serve upgrade requests (which Node emits as 'upgrade', not 'request'): each goes
 * through the app with a response written to its socket, so authentication, authorization and
 * the handlers treat it as any request; an error is answered as a Status and the connection
 * closed. A handler that tunnels takes the socket over (tunnelToAgent).
 */
export function serveUpgrades(server: Server, app: (req: IncomingMessage, res: ServerResponse) => void): void {
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    if (head.length) socket.unshift(head);
    (req as unknown as { [UPGRADE_SOCKET]: Duplex })[UPGRADE_SOCKET] = socket;
    // The request has no body to read: an upgrade's bytes after its head belong to the new protocol.
    if (!req.readableEnded) req.push(null);
    const res = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket as never);
    res.on('finish', () => {
      res.detachSocket(socket as never);
      socket.end();
    });
    app(req, res);
  });
}
