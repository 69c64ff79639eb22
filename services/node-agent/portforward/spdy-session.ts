// The server half of a SPDY/3.1 session over any byte stream (a hijacked TLS socket, or a
// WebSocket's binary messages in KEP-4006's tunnelling), the way the kubelet runs one through
// moby/spdystream: the client opens every stream; each is answered at once with an empty
// SYN_REPLY, or reset when the handler refuses it; pings are echoed.
//
// Back-pressure is the transport's, as in spdystream, which never sends or honours WINDOW_UPDATE:
// when a stream's reader falls behind, the session stops reading the transport until it catches
// up; a stream's writes complete only once the transport has taken them. WINDOW_UPDATEs are still
// sent for what was consumed, so a peer that does keep SPDY/3.1's windows never stalls.
import { Duplex } from 'node:stream';
import { createDeflate, createInflate, constants as zlibConstants, type Deflate, type Inflate } from 'node:zlib';
import { SPDY3_DICTIONARY } from './spdy-dictionary.ts';
import {
  FrameParser, RstStatus, SpdyProtocolError, encodeData, encodeGoAway, encodePing, encodeRstStream,
  encodeSynReply, encodeWindowUpdate, parseHeaders, serializeHeaders, type Frame,
} from './spdy-frames.ts';

/** The receiving half of header compression: one inflate stream for the session, flushed per block. */
class HeaderInflater {
  private readonly inflate: Inflate;
  private out: Buffer[] = [];
  private failure: Error | undefined;

  constructor() {
    this.inflate = createInflate({ dictionary: SPDY3_DICTIONARY });
    this.inflate.on('data', (d: Buffer) => this.out.push(d));
    this.inflate.on('error', (err) => (this.failure = err));
  }

  block(compressed: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.failure) return reject(this.failure);
      this.inflate.write(compressed);
      this.inflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        if (this.failure) return reject(new SpdyProtocolError(`header block does not inflate: ${this.failure.message}`));
        const raw = Buffer.concat(this.out);
        this.out = [];
        resolve(raw);
      });
    });
  }

  close(): void {
    this.inflate.destroy();
  }
}

/**
 * The sending half: one deflate stream against the same dictionary, sync-flushed per block, which
 * is exactly what Go's spdy framer writes and reads (zlib.NewWriterLevelDict, Flush).
 */
class HeaderDeflater {
  private readonly deflate: Deflate;
  private out: Buffer[] = [];

  constructor() {
    this.deflate = createDeflate({ dictionary: SPDY3_DICTIONARY });
    this.deflate.on('data', (d: Buffer) => this.out.push(d));
    this.deflate.on('error', () => undefined);
  }

  block(raw: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      this.deflate.write(raw);
      this.deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => {
        const block = Buffer.concat(this.out);
        this.out = [];
        resolve(block);
      });
    });
  }

  close(): void {
    this.deflate.destroy();
  }
}

/** Grant the peer more window once this much of it has been consumed. */
const WINDOW_UPDATE_THRESHOLD = 32 * 1024;
/** What a stream buffers from the peer before the session stops reading for it. */
const STREAM_BUFFER = 256 * 1024;
/** Data frames this side sends are cut at this size, so one stream cannot hold the transport long. */
const MAX_DATA_FRAME = 64 * 1024;

/**
 * One stream the client opened. Readable: what the client sends (ends at its FIN). Writable: what
 * goes back; end() sends FIN. destroy() before both sides are done resets it (RST_STREAM CANCEL).
 */
export class SpdyStream extends Duplex {
  /** Set once the reply or reset has been sent. */
  replied = false;
  private remoteFinished = false;
  private localFinished = false;
  private reset = false;
  /** The client reset it, or the session went away: whoever pipes it stops. */
  wasReset = false;
  private resumeSession: (() => void) | undefined;

  constructor(
    private readonly session: SpdySession,
    readonly id: number,
    readonly headers: Record<string, string[]>,
  ) {
    super({ readableHighWaterMark: STREAM_BUFFER, allowHalfOpen: true });
  }

  header(name: string): string | undefined {
    return this.headers[name.toLowerCase()]?.[0];
  }

  /** Data from the peer; resolves when the reader wants more (the session waits on it). */
  deliver(data: Buffer): Promise<void> | undefined {
    if (this.destroyed || this.remoteFinished) return undefined;
    this.session.consumed(this.id, data.length);
    if (this.push(data)) return undefined;
    return new Promise((resolve) => {
      this.resumeSession = resolve;
      this.once('close', resolve);
    });
  }

  remoteFin(): void {
    if (this.remoteFinished) return;
    this.remoteFinished = true;
    if (!this.destroyed) this.push(null);
    if (this.localFinished) this.destroy();
  }

  /** The peer reset the stream, or the session is gone. */
  remoteReset(): void {
    this.reset = true;
    this.wasReset = true;
    this.remoteFinished = true;
    this.localFinished = true;
    this.destroy();
  }

  override _read(): void {
    const resume = this.resumeSession;
    this.resumeSession = undefined;
    resume?.();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.reset) return cb(new Error(`stream ${this.id} was reset`));
    const frames: Buffer[] = [];
    for (let at = 0; at < chunk.length; at += MAX_DATA_FRAME) frames.push(encodeData(this.id, chunk.subarray(at, at + MAX_DATA_FRAME)));
    this.session.send(Buffer.concat(frames), cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    if (this.reset) return cb();
    this.localFinished = true;
    this.session.send(encodeData(this.id, Buffer.alloc(0), true), (err) => {
      cb(err);
      if (this.remoteFinished) this.destroy();
    });
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const resume = this.resumeSession;
    this.resumeSession = undefined;
    resume?.();
    if (!this.reset && !(this.localFinished && this.remoteFinished)) {
      this.reset = true;
      this.session.sendReset(this.id, RstStatus.CANCEL);
    }
    this.session.forget(this.id);
    cb(err);
  }
}

export interface SpdySessionOptions {
  /**
   * Called for every new stream before it is answered: return an error message to refuse it
   * (the stream is reset, as the kubelet's handler does), or nothing to accept it.
   */
  validate: (stream: SpdyStream) => string | void;
  /** Called once the stream has been answered (so whatever it writes follows the reply). */
  onStream: (stream: SpdyStream) => void;
  onError?: (err: Error) => void;
}

export class SpdySession {
  private readonly parser = new FrameParser();
  private readonly inflater = new HeaderInflater();
  private readonly deflater = new HeaderDeflater();
  private readonly streams = new Map<number, SpdyStream>();
  private readonly unacknowledged = new Map<number, number>();
  private drainWaiters: (() => void)[] = [];
  private lastStreamId = 0;
  private closed = false;
  /** Resolves once the transport is gone and every stream has been torn down. */
  readonly done: Promise<void>;

  constructor(private readonly transport: Duplex, private readonly opts: SpdySessionOptions) {
    transport.on('drain', () => this.flushWaiters());
    transport.on('error', (err) => this.opts.onError?.(err));
    this.done = this.run().catch((err) => this.opts.onError?.(err as Error)).finally(() => this.close());
  }

  get activeStreams(): number {
    return this.streams.size;
  }

  private async run(): Promise<void> {
    for await (const chunk of this.transport) {
      for (const frame of this.parser.push(chunk as Buffer)) {
        await this.handle(frame);
        if (this.closed) return;
      }
    }
  }

  private async handle(frame: Frame): Promise<void> {
    switch (frame.kind) {
      case 'syn_stream': {
        // The header block must be inflated even for a stream that is refused: the zlib state is the session's.
        const headers = parseHeaders(await this.inflater.block(frame.headerBlock));
        if (frame.streamId <= this.lastStreamId || frame.streamId % 2 === 0) {
          this.sendReset(frame.streamId, RstStatus.PROTOCOL_ERROR);
          return;
        }
        this.lastStreamId = frame.streamId;
        const stream = new SpdyStream(this, frame.streamId, headers);
        this.streams.set(frame.streamId, stream);
        const refused = this.opts.validate(stream);
        if (refused) {
          stream.replied = true;
          this.opts.onError?.(new Error(`stream rejected: ${refused}`));
          stream.remoteReset();
          this.sendReset(frame.streamId, RstStatus.REFUSED_STREAM);
          return;
        }
        stream.replied = true;
        // Frames are handled one at a time, so nothing of this stream can be sent before its reply.
        this.send(encodeSynReply(frame.streamId, await this.deflater.block(serializeHeaders({}))));
        if (frame.fin) stream.remoteFin();
        this.opts.onStream(stream);
        return;
      }
      case 'data': {
        const stream = this.streams.get(frame.streamId);
        if (!stream) return; // gone already, as spdystream drops it
        if (frame.data.length) await stream.deliver(frame.data);
        if (frame.fin) stream.remoteFin();
        return;
      }
      case 'rst_stream':
        this.streams.get(frame.streamId)?.remoteReset();
        return;
      case 'ping':
        // Client pings have odd ids; this side sends none, so every ping is the client's.
        this.send(encodePing(frame.id));
        return;
      case 'goaway':
        this.close();
        return;
      case 'headers':
        await this.inflater.block(frame.headerBlock); // keep the zlib state in step; nothing to do with them
        return;
      case 'syn_reply':
        throw new SpdyProtocolError(`SYN_REPLY for stream ${frame.streamId}, which this side never opened`);
      case 'settings':
      case 'window_update':
      case 'unknown':
        return;
    }
  }

  /** Writes frames in order; cb once the transport has taken them (back-pressure). */
  send(buf: Buffer, cb?: (err?: Error | null) => void): void {
    if (this.closed || this.transport.destroyed || this.transport.writableEnded) {
      cb?.(new Error('the port-forward session is closed'));
      return;
    }
    const ok = this.transport.write(buf);
    if (!cb) return;
    if (ok) cb();
    else this.drainWaiters.push(() => cb());
  }

  sendReset(streamId: number, status: number): void {
    this.send(encodeRstStream(streamId, status));
  }

  /** Counts what the peer sent, granting it back in WINDOW_UPDATEs (stream and session). */
  consumed(streamId: number, bytes: number): void {
    for (const id of [streamId, 0]) {
      const owed = (this.unacknowledged.get(id) ?? 0) + bytes;
      if (owed >= WINDOW_UPDATE_THRESHOLD) {
        this.unacknowledged.set(id, 0);
        this.send(encodeWindowUpdate(id, owed));
      } else this.unacknowledged.set(id, owed);
    }
  }

  forget(streamId: number): void {
    this.streams.delete(streamId);
    this.unacknowledged.delete(streamId);
  }

  private flushWaiters(): void {
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  /** Tears everything down: every stream is reset, the transport ended. Idempotent. */
  close(): void {
    if (this.closed) return;
    if (!this.transport.destroyed && !this.transport.writableEnded) this.transport.write(encodeGoAway(this.lastStreamId));
    this.closed = true;
    for (const s of [...this.streams.values()]) s.remoteReset();
    this.streams.clear();
    this.inflater.close();
    this.deflater.close();
    this.flushWaiters();
    this.transport.end();
    const t = setTimeout(() => this.transport.destroy(), 2_000);
    t.unref();
    this.transport.once('close', () => clearTimeout(t));
    this.transport.once('finish', () => this.transport.destroy());
  }
}
