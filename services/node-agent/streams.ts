// The agent's exec and attach endpoints (the kubelet's /exec/{ns}/{pod}/{container} and
// /attach/...): the API server tunnels a client's WebSocket upgrade here; the agent finds the
// running container, opens an exec instance or attaches to the container's stdio on the runtime,
// and speaks the remote-command protocol (stream-protocol.ts) over the WebSocket. Back-pressure
// both ways: a channel's output is read on only once the WebSocket has written the last message;
// the WebSocket is not read while the process's stdin is full. Either side going ends the other.
import type { IncomingMessage } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex, Readable } from 'node:stream';
import { Writable } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import type { Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import type { Logger } from '../../shared/log.ts';
import type { ContainerRuntime, StdioSession } from './runtime/types.ts';
import { latestAttempt } from './pod-logic.ts';
import {
  chooseStreamProtocol, channelMessage, exitStatus, internalErrorStatus, parseClientMessage, streamOptions, successStatus,
  ERROR, STDERR, STDIN, STDOUT, type StreamOptions, type StreamStatus,
} from './stream-protocol.ts';

export interface StreamDeps {
  store: Store;
  runtimeFor: (node: string) => ContainerRuntime | undefined;
  log: Logger;
}

/** An upgrade request the agent serves: its path pattern and what serves it. */
export interface UpgradeRoute {
  pattern: RegExp;
  serve(req: IncomingMessage, socket: Duplex, head: Buffer, params: string[], query: URLSearchParams): Promise<void>;
}

/** Answers an upgrade request with an HTTP error (a short text, as the kubelet's) and closes the connection. */
export function refuseUpgrade(socket: Duplex, code: number, message: string, headers: Record<string, string> = {}): void {
  if (!socket.writable) return;
  const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  socket.end(`HTTP/1.1 ${code} ${STATUS_CODES[code]}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n${extra}Content-Length: ${Buffer.byteLength(message)}\r\nConnection: close\r\n\r\n${message}`);
}

/** Thrown before the upgrade: answered as an HTTP error with the kubelet's wording. */
class StreamRequestError extends Error {
  constructor(readonly code: number, message: string) {
    super(message);
  }
}

/** The exec and attach routes. */
export function execAttachRoutes(deps: StreamDeps): UpgradeRoute[] {
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    // Up to 16 MiB a message from the client (stdin), as the kubelet's reader takes any size.
    maxPayload: 16 * 1024 * 1024,
    handleProtocols: (offered) => chooseStreamProtocol(offered) ?? false,
  });
  const route = (kind: 'exec' | 'attach'): UpgradeRoute => ({
    pattern: new RegExp(`^/${kind}/([^/]+)/([^/]+)/([^/]+)$`),
    serve: async (req, socket, head, [namespace, name, container], query) => {
      try {
        const options = streamOptions(query, kind);
        if ('error' in options) throw new StreamRequestError(400, options.error);
        const { runtime, id } = await runningContainer(deps, namespace, name, container);
        if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
          throw new StreamRequestError(400, `this node agent serves ${kind} over WebSocket only (${['v5.channel.k8s.io', 'v4.channel.k8s.io'].join(', ')}), not ${req.headers.upgrade}`);
        }
        const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
        if (!chooseStreamProtocol(offered)) throw new StreamRequestError(400, `none of the offered subprotocols [${offered.join(', ')}] is served: v5.channel.k8s.io, v4.channel.k8s.io`);
        const open = kind === 'exec'
          ? runtime.execStream && (() => runtime.execStream!(id, options.command, options))
          : runtime.attachStream && (() => runtime.attachStream!(id, options));
        if (!open) throw new StreamRequestError(400, `the ${runtime.kind} runtime does not support ${kind}`);
        let session: StdioSession;
        try {
          session = await open();
        } catch (err) {
          throw new StreamRequestError(500, `error ${kind === 'exec' ? 'executing command in' : 'attaching to'} container: ${(err as Error).message}`);
        }
        let upgraded = false;
        // A handshake ws refuses (it answers it itself) leaves no session behind.
        socket.once('close', () => upgraded || session.close());
        wss.handleUpgrade(req, socket, head, (ws) => {
          upgraded = true;
          runSession(ws, session, kind, options, deps.log);
        });
      } catch (err) {
        if (err instanceof StreamRequestError) return refuseUpgrade(socket, err.code, err.message);
        deps.log.warn({ err: (err as Error).message, kind, pod: `${namespace}/${name}` }, 'stream request failed');
        refuseUpgrade(socket, 500, (err as Error).message);
      }
    },
  });
  return [route('exec'), route('attach')];
}

/** The running container a stream is for, or the kubelet's error: a pod it does not run, a container not running. */
async function runningContainer(deps: StreamDeps, namespace: string, name: string, container: string): Promise<{ runtime: ContainerRuntime; id: string }> {
  const pod = await deps.store.get<Pod>('pods', namespace, name);
  const runtime = pod?.spec.nodeName ? deps.runtimeFor(pod.spec.nodeName) : undefined;
  if (!pod || !runtime) throw new StreamRequestError(404, 'pod does not exist');
  const containers = (await runtime.listContainers(pod.spec.nodeName!, { namespace, name })).filter((c) => c.pod.uid === pod.metadata.uid && c.name === container);
  const latest = latestAttempt(containers, container);
  if (!latest || latest.state !== 'running') throw new StreamRequestError(404, `container not found ("${container}")`);
  return { runtime, id: latest.id };
}

/**
 * Connects a WebSocket to a session: stdout and stderr to their channels, stdin and resizes from
 * the client; when the output has ended, the Status on the error channel, then a normal close.
 */
function runSession(ws: WebSocket, session: StdioSession, kind: 'exec' | 'attach', options: StreamOptions, log: Logger): void {
  let stdinOpen = !!session.stdin;
  let resizing: Promise<unknown> = Promise.resolve();
  const endStdin = () => {
    if (!stdinOpen) return;
    stdinOpen = false;
    session.stdin!.end();
  };
  ws.on('message', (data: Buffer) => {
    const message = parseClientMessage(data, ws.protocol);
    switch (message.type) {
      case 'stdin':
        if (!stdinOpen || message.data.length === 0) return;
        if (!session.stdin!.write(message.data)) {
          ws.pause();
          session.stdin!.once('drain', () => ws.resume());
        }
        return;
      case 'resize': {
        // Applied one after another, in the order sent: kubectl attach sends a size one larger, then
        // the real one (so the program redraws); applied out of order, the larger one would stay.
        const { width, height } = message;
        resizing = resizing.then(() => session.resize(width, height)).catch((err) => log.debug({ err: (err as Error).message }, 'resize failed'));
        return;
      }
      case 'close':
        if (message.channel === STDIN) endStdin();
        return;
    }
  });
  let closed = false;
  ws.on('close', () => {
    closed = true;
    session.close();
  });
  ws.on('error', () => ws.terminate());

  const outputs = [toChannel(ws, session.stdout, STDOUT), toChannel(ws, session.stderr, STDERR)];
  void Promise.all(outputs)
    .then(async (): Promise<StreamStatus> => {
      if (kind === 'attach') return successStatus();
      const code = await session.exitCode();
      return code === undefined ? successStatus() : exitStatus(options.command, code);
    })
    .catch((err) => internalErrorStatus(`error executing command in container: ${(err as Error).message}`))
    .then((status) => {
      session.close();
      if (closed || ws.readyState !== WebSocket.OPEN) return;
      ws.send(channelMessage(ERROR, JSON.stringify(status)), () => ws.close(1000));
    });
}

/** Copies a stream onto a channel, one message at a time: the next chunk is read once the last is written to the socket. */
function toChannel(ws: WebSocket, source: Readable | undefined, channel: number): Promise<void> {
  if (!source) return Promise.resolve();
  return new Promise((resolve) => {
    const sink = new Writable({
      highWaterMark: 64 * 1024,
      write(chunk: Buffer, _enc, done) {
        if (ws.readyState !== WebSocket.OPEN) return done();
        ws.send(channelMessage(channel, chunk), { binary: true }, () => done());
      },
    });
    source.pipe(sink);
    sink.once('finish', () => resolve());
    source.once('error', () => resolve());
    ws.once('close', () => {
      source.unpipe(sink);
      source.destroy();
      resolve();
    });
  });
}
