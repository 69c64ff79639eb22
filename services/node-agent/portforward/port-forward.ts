// Port-forward protocols as the kubelet serves them (pkg/kubelet/cri/streaming/portforward):
//  - over SPDY (legacy Upgrade: SPDY/3.1, or tunnelled in WebSocket binary messages, KEP-4006):
//    the client opens two streams per connection, an error stream and a data stream, both with
//    headers streamType, port and requestID; once both are there the data stream is joined to
//    the pod's port; what goes wrong is written as text on the error stream; both are then closed.
//  - over WebSocket channels (v4.channel.k8s.io, v4.base64.channel.k8s.io): one connection per
//    port in the `ports` query parameter, channel 2i its data and 2i+1 its errors, each opened by
//    the port as two little-endian bytes.
// The runtime's forwarder does the joining (CRI's PortForward(pod, port, stream)).
import { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { SpdySession, type SpdyStream } from './spdy-session.ts';

/** Joins a client stream to a port inside the pod, until either side is done; rejects with what went wrong. */
export type PortForwarder = (port: number, stream: Duplex) => Promise<void>;

export interface ForwardTarget {
  /** What the error names as the pod: the sandbox's id, as a CRI runtime gives it. */
  podLabel: string;
  uid: string;
  forward: PortForwarder;
  /** How long a connection's second stream may take to arrive (the kubelet's stream creation timeout). */
  streamCreationTimeoutMs?: number;
  onError?: (err: Error) => void;
}

export const PORT_HEADER = 'port';
export const STREAM_TYPE_HEADER = 'streamtype';
export const REQUEST_ID_HEADER = 'requestid';

/** The kubelet's wording for a failed forward (httpstream.go, websocket.go). */
export function forwardErrorMessage(port: number, podLabel: string, uid: string, err: Error): string {
  return `error forwarding port ${port} to pod ${podLabel}, uid ${uid}: ${err.message}`;
}

/** The kubelet's checks of a new stream's headers; a message refuses the stream. */
export function validateStreamHeaders(get: (name: string) => string | undefined): string | undefined {
  const port = get(PORT_HEADER);
  if (!port) return `"port" header is required`;
  if (!/^\d+$/.test(port) || Number(port) > 65535) return `unable to parse "${port}" as a port: strconv.ParseUint: parsing "${port}": invalid syntax`;
  if (Number(port) < 1) return `port "${port}" must be > 0`;
  const type = get(STREAM_TYPE_HEADER);
  if (!type) return `"streamType" header is required`;
  if (type !== 'error' && type !== 'data') return `invalid stream type "${type}"`;
  return undefined;
}

/**
 * The request a stream belongs to: its requestID header, or for old clients that send none, a
 * guess from its id (error stream n, data stream n+2), as the kubelet guesses.
 */
export function requestIdOf(streamId: number, get: (name: string) => string | undefined): string {
  const id = get(REQUEST_ID_HEADER);
  if (id) return id;
  return String(get(STREAM_TYPE_HEADER) === 'error' ? streamId : streamId - 2);
}

interface Pair {
  data?: SpdyStream;
  error?: SpdyStream;
  timer: NodeJS.Timeout;
}

/** Serves one SPDY session (either transport): pairs its streams and forwards each pair. */
export function servePortForwardSpdy(transport: Duplex, target: ForwardTarget): SpdySession {
  const pairs = new Map<string, Pair>();
  const timeoutMs = target.streamCreationTimeoutMs ?? 30_000;
  const session = new SpdySession(transport, {
    onError: target.onError,
    validate: (stream) => validateStreamHeaders((n) => stream.header(n)),
    onStream(stream) {
      const get = (n: string) => stream.header(n);
      const requestId = requestIdOf(stream.id, get);
      let pair = pairs.get(requestId);
      if (!pair) {
        const p: Pair = {
          timer: setTimeout(() => {
            pairs.delete(requestId);
            const message = `(conn=${stream.id}, request=${requestId}) timed out waiting for streams`;
            target.onError?.(new Error(message));
            if (p.error) p.error.end(message);
            p.data?.destroy();
          }, timeoutMs),
        };
        p.timer.unref();
        pairs.set(requestId, p);
        pair = p;
      }
      const type = get(STREAM_TYPE_HEADER) as 'data' | 'error';
      if (pair[type]) {
        const message = `error processing stream for request ${requestId}: ${type} stream already assigned`;
        target.onError?.(new Error(message));
        pair.error?.write(message);
        stream.destroy();
        return;
      }
      pair[type] = stream;
      if (pair.data && pair.error) {
        clearTimeout(pair.timer);
        pairs.delete(requestId);
        void forwardPair(pair.data, pair.error, target);
      }
    },
  });
  void session.done.then(() => {
    for (const p of pairs.values()) clearTimeout(p.timer);
    pairs.clear();
  });
  return session;
}

async function forwardPair(data: SpdyStream, error: SpdyStream, target: ForwardTarget): Promise<void> {
  const port = Number(data.header(PORT_HEADER));
  // The client closes its side of the error stream at once: nothing to read from it.
  error.resume();
  error.on('error', () => undefined);
  data.on('error', () => undefined);
  try {
    await target.forward(port, data);
  } catch (err) {
    const message = forwardErrorMessage(port, target.podLabel, target.uid, err as Error);
    target.onError?.(new Error(message));
    if (!error.destroyed) error.write(message);
  }
  if (!data.destroyed) data.end();
  if (!error.destroyed) error.end();
}

// --- WebSocket channels ----------------------------------------------------------------------

export const V4_BINARY = 'v4.channel.k8s.io';
export const V4_BASE64 = 'v4.base64.channel.k8s.io';

/** The kubelet's parse of the `ports` query parameter for WebSocket port-forward; throws its message. */
export function parsePortsQuery(values: string[]): number[] {
  if (values.length === 0) throw new Error(`query parameter "port" is required`);
  const ports: number[] = [];
  for (const value of values) {
    if (!value) throw new Error(`query parameter "port" cannot be empty`);
    for (const p of value.split(',')) {
      if (!/^\d+$/.test(p) || Number(p) > 65535) throw new Error(`unable to parse "${value}" as a port: strconv.ParseUint: parsing "${p}": invalid syntax`);
      if (Number(p) < 1) throw new Error(`port "${value}" must be > 0`);
      ports.push(Number(p));
    }
  }
  return ports;
}

/** One channel message: the channel number first (an ASCII digit in the base64 protocol). */
export function encodeChannelMessage(channel: number, data: Buffer, base64: boolean): Buffer | string {
  if (base64) return String.fromCharCode(48 + channel) + data.toString('base64');
  return Buffer.concat([Buffer.from([channel]), data]);
}

export function decodeChannelMessage(message: Buffer, base64: boolean): { channel: number; data: Buffer } | undefined {
  if (message.length === 0) return undefined;
  if (base64) return { channel: message[0] - 48, data: Buffer.from(message.subarray(1).toString('latin1'), 'base64') };
  return { channel: message[0], data: message.subarray(1) };
}

/** The 2-byte little-endian port that opens each channel. */
export function portPrefix(port: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(port);
  return b;
}

/** A data channel as a Duplex: reads what the client sends on it, writes go out as channel messages. */
class ChannelStream extends Duplex {
  resumeSocket: (() => void) | undefined;

  constructor(private readonly sendMessage: (data: Buffer, cb: (err?: Error) => void) => void) {
    super({ allowHalfOpen: true, readableHighWaterMark: 256 * 1024 });
  }

  override _read(): void {
    const r = this.resumeSocket;
    this.resumeSocket = undefined;
    r?.();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.sendMessage(chunk, (err) => cb(err ?? null));
  }
}

/** Serves one WebSocket (the channel protocol); closes it once every port's connection is done. */
export function servePortForwardWebSocket(ws: WebSocket, ports: number[], target: ForwardTarget): Promise<void> {
  const base64 = ws.protocol === V4_BASE64;
  const send = (channel: number, data: Buffer, cb?: (err?: Error) => void) => {
    if (ws.readyState !== ws.OPEN) return cb?.(new Error('the WebSocket is closed'));
    ws.send(encodeChannelMessage(channel, data, base64), { binary: !base64 }, cb);
  };
  const streams = ports.map((_, i) => new ChannelStream((data, cb) => send(i * 2, data, cb)));
  ws.on('message', (raw: Buffer, isBinary: boolean) => {
    const msg = decodeChannelMessage(isBinary ? raw : Buffer.from(raw), base64);
    if (!msg || msg.channel % 2 !== 0) return; // error channels are write-only; unknown ones ignored
    const stream = streams[msg.channel / 2];
    if (!stream || stream.destroyed || stream.readableEnded) return;
    if (!stream.push(msg.data)) {
      ws.pause();
      stream.resumeSocket = () => ws.resume();
    }
  });
  ws.on('close', () => {
    for (const s of streams) if (!s.destroyed) s.destroy();
  });
  ws.on('error', (err) => target.onError?.(err));
  ports.forEach((port, i) => {
    send(i * 2, portPrefix(port));
    send(i * 2 + 1, portPrefix(port));
  });
  return Promise.all(
    ports.map(async (port, i) => {
      const stream = streams[i];
      stream.on('error', () => undefined);
      try {
        await target.forward(port, stream);
      } catch (err) {
        const message = forwardErrorMessage(port, target.podLabel, target.uid, err as Error);
        target.onError?.(new Error(message));
        send(i * 2 + 1, Buffer.from(message));
      }
    }),
  ).then(() => {
    if (ws.readyState === ws.OPEN) ws.close(1000);
  });
}
