// The agent's port-forward endpoint, `/portForward/{namespace}/{pod}[/{uid}]` (the kubelet's path),
// reached through the API server's streaming tunnel, which passes the client's upgrade request
// through untouched. Which protocol the client wants decides how the upgrade is answered:
//  - WebSocket with subprotocol SPDY/3.1+portforward.k8s.io (KEP-4006, kubectl's first try): a
//    SPDY session inside the WebSocket's binary messages;
//  - Upgrade: SPDY/3.1 with X-Stream-Protocol-Version: portforward.k8s.io (kubectl's fallback);
//  - WebSocket with v4.channel.k8s.io / v4.base64.channel.k8s.io (client libraries): channels.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Socket } from 'node:net';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { Pod } from '../../../shared/types.ts';
import type { Store } from '../../../shared/store/store.ts';
import type { Logger } from '../../../shared/log.ts';
import type { ContainerRuntime } from '../runtime/types.ts';
import { refuseUpgrade } from '../streams.ts';
import { networkHolder } from '../pod-logic.ts';
import { V4_BASE64, V4_BINARY, parsePortsQuery, servePortForwardSpdy, servePortForwardWebSocket, type ForwardTarget } from './port-forward.ts';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
export const SPDY_TUNNEL_PREFIX = 'SPDY/3.1+';
const TUNNEL_PROTOCOL = SPDY_TUNNEL_PREFIX + PORT_FORWARD_PROTOCOL;
const PATH = /^\/portForward\/([^/]+)\/([^/]+)(?:\/([^/]+))?\/?$/;

export interface PortForwardEndpointOptions {
  store: Store;
  runtimeFor: (node: string) => ContainerRuntime | undefined;
  log: Logger;
  streamCreationTimeoutMs?: number;
}

/** How the client asks to upgrade, decided from its headers alone. */
export type UpgradeKind =
  | { kind: 'spdy-over-websocket' }
  | { kind: 'websocket-channels'; protocol: string | undefined }
  | { kind: 'spdy' }
  | { kind: 'refuse'; code: number; message: string; headers?: Record<string, string> };

function listHeader(value: string | string[] | undefined): string[] {
  return [value ?? []].flat().flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export function upgradeKind(headers: IncomingMessage['headers']): UpgradeKind {
  const upgrade = String(headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'websocket') {
    const protocols = listHeader(headers['sec-websocket-protocol']);
    if (protocols.includes(TUNNEL_PROTOCOL)) return { kind: 'spdy-over-websocket' };
    if (protocols.length === 0) return { kind: 'websocket-channels', protocol: undefined };
    const chosen = protocols.find((p) => p === V4_BINARY || p === V4_BASE64);
    if (chosen) return { kind: 'websocket-channels', protocol: chosen };
    return { kind: 'refuse', code: 403, message: `requested protocol(s) are not supported: [${protocols.join(' ')}]; supports [${V4_BINARY} ${V4_BASE64}]` };
  }
  if (upgrade.includes('spdy/3.1')) {
    const versions = listHeader(headers['x-stream-protocol-version']);
    if (versions.length === 0) return { kind: 'refuse', code: 400, message: 'unable to upgrade: X-Stream-Protocol-Version is required' };
    if (!versions.includes(PORT_FORWARD_PROTOCOL)) {
      return {
        kind: 'refuse',
        code: 403,
        message: `unable to upgrade: unable to negotiate protocol: client supports [${versions.join(' ')}], server accepts [${PORT_FORWARD_PROTOCOL}]`,
        headers: { 'X-Accepted-Stream-Protocol-Versions': PORT_FORWARD_PROTOCOL },
      };
    }
    return { kind: 'spdy' };
  }
  return { kind: 'refuse', code: 400, message: `unable to upgrade: missing upgrade headers in request` };
}

/** Whether a request path is this endpoint's. */
export function isPortForwardPath(path: string): boolean {
  return PATH.test(path);
}

/**
 * Handles an upgrade request to the port-forward path. The caller has already checked that the
 * request comes from the API server.
 */
export function handlePortForwardUpgrade(opts: PortForwardEndpointOptions, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  void (async () => {
    const url = new URL(req.url ?? '/', 'https://agent');
    const m = PATH.exec(url.pathname);
    if (!m) return refuseUpgrade(socket, 404, 'not found');
    const [namespace, name, uid] = m.slice(1).map((s) => (s === undefined ? undefined : decodeURIComponent(s)));
    const how = upgradeKind(req.headers);
    if (how.kind === 'refuse') return refuseUpgrade(socket, how.code, how.message, how.headers);
    let ports: number[] = [];
    if (how.kind === 'websocket-channels') {
      try {
        // `ports` as the API takes it (PodPortForwardOptions); `port` as the API server passes it on to a kubelet.
        ports = parsePortsQuery([...url.searchParams.getAll('ports'), ...url.searchParams.getAll('port')]);
      } catch (err) {
        return refuseUpgrade(socket, 400, (err as Error).message);
      }
    }

    const pod = await opts.store.get<Pod>('pods', namespace!, name!);
    if (!pod || (uid && pod.metadata.uid !== uid)) return refuseUpgrade(socket, 404, `pod not found ("${name}_${namespace}")`);
    const runtime = pod.spec.nodeName ? opts.runtimeFor(pod.spec.nodeName) : undefined;
    if (!runtime) return refuseUpgrade(socket, 404, `pod not found ("${name}_${namespace}")`);
    const sandbox = networkHolder((await runtime.listContainers(pod.spec.nodeName!, { namespace: namespace!, name: name! })).filter((c) => c.pod.uid === pod.metadata.uid));
    if (!sandbox) return refuseUpgrade(socket, 400, `pod ${name} is not running: its sandbox is not running`);

    const log = opts.log.child({ pod: `${namespace}/${name}`, subresource: 'portforward', protocol: how.kind });
    const target: ForwardTarget = {
      podLabel: sandbox.id,
      uid: '',
      forward: (port, stream) => runtime.portForward(sandbox.id, port, stream, sandbox.ownsNetwork ? sandbox.ip : undefined),
      streamCreationTimeoutMs: opts.streamCreationTimeoutMs,
      onError: (err) => log.warn({ err: err.message }, 'port-forward'),
    };
    (socket as Socket).setNoDelay?.(true);

    switch (how.kind) {
      case 'spdy': {
        socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: ${PORT_FORWARD_PROTOCOL}\r\n\r\n`);
        if (head.length) socket.unshift(head);
        const session = servePortForwardSpdy(socket, target);
        log.debug('port-forward session (SPDY) open');
        await session.done;
        return;
      }
      case 'spdy-over-websocket': {
        // `ws` takes only RFC 7230 tokens as subprotocols and "SPDY/3.1+..." has a '/': the header
        // is taken off the request before the handshake and the chosen protocol put in the answer.
        delete req.headers['sec-websocket-protocol'];
        wss.once('headers', (lines: string[]) => lines.push(`Sec-WebSocket-Protocol: ${TUNNEL_PROTOCOL}`));
        wss.handleUpgrade(req, socket, head, (ws) => {
          const transport = createWebSocketStream(ws, { allowHalfOpen: false });
          const session = servePortForwardSpdy(transport, target);
          log.debug('port-forward session (SPDY over WebSocket) open');
          void session.done.then(() => ws.terminate());
        });
        return;
      }
      case 'websocket-channels': {
        const protocol = how.protocol;
        wss.options.handleProtocols = () => protocol ?? false;
        wss.handleUpgrade(req, socket, head, (ws) => {
          void servePortForwardWebSocket(ws, ports, target);
        });
        return;
      }
    }
  })().catch((err) => {
    opts.log.warn({ err: (err as Error).message }, 'port-forward upgrade failed');
    if (!socket.destroyed) refuseUpgrade(socket, 500, (err as Error).message);
  });
}
