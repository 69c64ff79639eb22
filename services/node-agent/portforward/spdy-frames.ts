// SPDY/3.1 framing, as far as a port-forward server needs it (draft-mbelshe-httpbis-spdy-00 and
// the SPDY/3.1 addendum): pure encoders and an incremental parser, no I/O. kubectl and the
// kubelet speak it through Go's moby/spdystream; this side is the kubelet's.
//
// Control frame: 1 bit set, 15-bit version (3), 16-bit type, 8-bit flags, 24-bit length, payload.
// Data frame: 1 bit clear, 31-bit stream id, 8-bit flags, 24-bit length, payload.
// Header blocks are zlib-compressed, one zlib stream per direction for the whole session.

export const SPDY_VERSION = 3;

export const FrameType = {
  SYN_STREAM: 1,
  SYN_REPLY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  HEADERS: 8,
  WINDOW_UPDATE: 9,
} as const;

export const FLAG_FIN = 0x01;

/** RST_STREAM status codes (SPDY/3 §2.6.3). */
export const RstStatus = {
  PROTOCOL_ERROR: 1,
  INVALID_STREAM: 2,
  REFUSED_STREAM: 3,
  UNSUPPORTED_VERSION: 4,
  CANCEL: 5,
  INTERNAL_ERROR: 6,
  FLOW_CONTROL_ERROR: 7,
  STREAM_IN_USE: 8,
  STREAM_ALREADY_CLOSED: 9,
} as const;

/** The most a frame's 24-bit length can say. */
export const MAX_FRAME_PAYLOAD = 0xffffff;

export type Frame =
  | { kind: 'data'; streamId: number; fin: boolean; data: Buffer }
  /** headerBlock is still compressed: the session's inflater owns the zlib state. */
  | { kind: 'syn_stream'; streamId: number; associatedTo: number; priority: number; fin: boolean; unidirectional: boolean; headerBlock: Buffer }
  | { kind: 'syn_reply'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: 'headers'; streamId: number; fin: boolean; headerBlock: Buffer }
  | { kind: 'rst_stream'; streamId: number; status: number }
  | { kind: 'settings'; settings: { id: number; flags: number; value: number }[] }
  | { kind: 'ping'; id: number }
  | { kind: 'goaway'; lastGoodStreamId: number; status: number }
  | { kind: 'window_update'; streamId: number; delta: number }
  /** A control frame of a type this side does not know: the spec says to ignore it. */
  | { kind: 'unknown'; type: number };

export class SpdyProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SpdyProtocolError';
  }
}

/**
 * Cuts a byte stream into frames. Feed it whatever arrives (a TCP read, a WebSocket message);
 * it hands back every frame that is whole and keeps the rest for the next push.
 */
export class FrameParser {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  push(chunk: Buffer): Frame[] {
    if (chunk.length) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.pendingBytes < 8) break;
      const head = this.peek(8);
      const length = head.readUInt32BE(4) & 0xffffff;
      if (this.pendingBytes < 8 + length) break;
      const whole = this.take(8 + length);
      frames.push(decodeFrame(whole));
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.pending[0].length >= n) return this.pending[0].subarray(0, n);
    const joined = Buffer.concat(this.pending);
    this.pending = [joined];
    return joined.subarray(0, n);
  }

  private take(n: number): Buffer {
    if (this.pending[0].length < n) this.pending = [Buffer.concat(this.pending)];
    const first = this.pending[0];
    const out = first.subarray(0, n);
    if (first.length === n) this.pending.shift();
    else this.pending[0] = first.subarray(n);
    this.pendingBytes -= n;
    return out;
  }
}

/** Decodes one whole frame (its 8-byte head and payload). */
export function decodeFrame(buf: Buffer): Frame {
  const first = buf.readUInt32BE(0);
  const flags = buf[4];
  const payload = buf.subarray(8);
  if ((first & 0x80000000) === 0) return { kind: 'data', streamId: first & 0x7fffffff, fin: (flags & FLAG_FIN) !== 0, data: payload };
  const version = (first >>> 16) & 0x7fff;
  if (version !== SPDY_VERSION) throw new SpdyProtocolError(`unsupported SPDY version ${version}`);
  const type = first & 0xffff;
  const need = (n: number) => {
    if (payload.length < n) throw new SpdyProtocolError(`control frame of type ${type} is too short (${payload.length} bytes)`);
  };
  switch (type) {
    case FrameType.SYN_STREAM:
      need(10);
      return {
        kind: 'syn_stream',
        streamId: payload.readUInt32BE(0) & 0x7fffffff,
        associatedTo: payload.readUInt32BE(4) & 0x7fffffff,
        priority: payload[8] >> 5,
        fin: (flags & FLAG_FIN) !== 0,
        unidirectional: (flags & 0x02) !== 0,
        headerBlock: payload.subarray(10),
      };
    case FrameType.SYN_REPLY:
    case FrameType.HEADERS:
      need(4);
      return { kind: type === FrameType.SYN_REPLY ? 'syn_reply' : 'headers', streamId: payload.readUInt32BE(0) & 0x7fffffff, fin: (flags & FLAG_FIN) !== 0, headerBlock: payload.subarray(4) };
    case FrameType.RST_STREAM:
      need(8);
      return { kind: 'rst_stream', streamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.readUInt32BE(4) };
    case FrameType.SETTINGS: {
      need(4);
      const n = payload.readUInt32BE(0);
      need(4 + n * 8);
      const settings = [];
      for (let i = 0; i < n; i++) {
        const idFlags = payload.readUInt32BE(4 + i * 8);
        settings.push({ flags: idFlags >>> 24, id: idFlags & 0xffffff, value: payload.readUInt32BE(8 + i * 8) });
      }
      return { kind: 'settings', settings };
    }
    case FrameType.PING:
      need(4);
      return { kind: 'ping', id: payload.readUInt32BE(0) };
    case FrameType.GOAWAY:
      need(8);
      return { kind: 'goaway', lastGoodStreamId: payload.readUInt32BE(0) & 0x7fffffff, status: payload.readUInt32BE(4) };
    case FrameType.WINDOW_UPDATE:
      need(8);
      return { kind: 'window_update', streamId: payload.readUInt32BE(0) & 0x7fffffff, delta: payload.readUInt32BE(4) & 0x7fffffff };
    default:
      return { kind: 'unknown', type };
  }
}

function controlFrame(type: number, flags: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE((0x80000000 | (SPDY_VERSION << 16) | type) >>> 0, 0);
  head.writeUInt32BE(((flags << 24) | payload.length) >>> 0, 4);
  return Buffer.concat([head, payload]);
}

export function encodeData(streamId: number, data: Buffer, fin = false): Buffer {
  if (data.length > MAX_FRAME_PAYLOAD) throw new RangeError(`a data frame holds at most ${MAX_FRAME_PAYLOAD} bytes`);
  const head = Buffer.alloc(8);
  head.writeUInt32BE(streamId & 0x7fffffff, 0);
  head.writeUInt32BE((((fin ? FLAG_FIN : 0) << 24) | data.length) >>> 0, 4);
  return data.length ? Buffer.concat([head, data]) : head;
}

/** headerBlock: already compressed (see HeaderBlockWriter). */
export function encodeSynReply(streamId: number, headerBlock: Buffer, fin = false): Buffer {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(streamId & 0x7fffffff);
  return controlFrame(FrameType.SYN_REPLY, fin ? FLAG_FIN : 0, Buffer.concat([id, headerBlock]));
}

export function encodeSynStream(streamId: number, headerBlock: Buffer, opts: { fin?: boolean; associatedTo?: number; priority?: number } = {}): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt32BE(streamId & 0x7fffffff, 0);
  fixed.writeUInt32BE((opts.associatedTo ?? 0) & 0x7fffffff, 4);
  fixed[8] = ((opts.priority ?? 0) & 0x7) << 5;
  return controlFrame(FrameType.SYN_STREAM, opts.fin ? FLAG_FIN : 0, Buffer.concat([fixed, headerBlock]));
}

export function encodeRstStream(streamId: number, status: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  p.writeUInt32BE(status, 4);
  return controlFrame(FrameType.RST_STREAM, 0, p);
}

export function encodePing(id: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(id >>> 0);
  return controlFrame(FrameType.PING, 0, p);
}

export function encodeGoAway(lastGoodStreamId: number, status = 0): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(lastGoodStreamId & 0x7fffffff, 0);
  p.writeUInt32BE(status, 4);
  return controlFrame(FrameType.GOAWAY, 0, p);
}

export function encodeWindowUpdate(streamId: number, delta: number): Buffer {
  const p = Buffer.alloc(8);
  p.writeUInt32BE(streamId & 0x7fffffff, 0);
  p.writeUInt32BE(delta & 0x7fffffff, 4);
  return controlFrame(FrameType.WINDOW_UPDATE, 0, p);
}

/**
 * A header block before compression: the number of pairs, then each name and value with a 4-byte
 * length. Names are lower case; a value with several entries joins them with NUL.
 */
export function serializeHeaders(headers: Record<string, string | string[]>): Buffer {
  const entries = Object.entries(headers);
  const parts: Buffer[] = [u32(entries.length)];
  for (const [name, value] of entries) {
    const n = Buffer.from(name.toLowerCase(), 'utf8');
    const v = Buffer.from([value].flat().join('\0'), 'utf8');
    parts.push(u32(n.length), n, u32(v.length), v);
  }
  return Buffer.concat(parts);
}

/** The inverse of serializeHeaders; a header named twice is a protocol error, as in spdystream. */
export function parseHeaders(block: Buffer): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let at = 0;
  const read = (n: number) => {
    if (at + n > block.length) throw new SpdyProtocolError('header block is truncated');
    const b = block.subarray(at, at + n);
    at += n;
    return b;
  };
  const count = read(4).readUInt32BE(0);
  for (let i = 0; i < count; i++) {
    const name = read(read(4).readUInt32BE(0)).toString('utf8').toLowerCase();
    const value = read(read(4).readUInt32BE(0)).toString('utf8');
    if (out[name]) throw new SpdyProtocolError(`header ${name} is named twice`);
    out[name] = value.split('\0');
  }
  return out;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}
