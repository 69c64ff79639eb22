// The pure parts of port-forward: SPDY/3.1 frames and header blocks, the kubelet's checks and
// wording, the WebSocket channel framing, Docker's exec stream framing, and a whole SPDY session
// driven the way kubectl drives it (header blocks deflated against the SPDY/3 dictionary, as Go's
// spdystream does), joined to an in-memory echo in place of a pod.
import test from 'ava';
import { Duplex, PassThrough } from 'node:stream';
import { createDeflate, inflateSync, constants as zlibConstants, type Deflate } from 'node:zlib';
import { createHash } from 'node:crypto';
import { SPDY3_DICTIONARY } from '../../services/node-agent/portforward/spdy-dictionary.ts';
import {
  FrameParser, decodeFrame, encodeData, encodeGoAway, encodePing, encodeRstStream, encodeSynReply, encodeSynStream,
  encodeWindowUpdate, parseHeaders, serializeHeaders, RstStatus, type Frame,
} from '../../services/node-agent/portforward/spdy-frames.ts';
import {
  decodeChannelMessage, encodeChannelMessage, forwardErrorMessage, parsePortsQuery, portPrefix, requestIdOf, servePortForwardSpdy, validateStreamHeaders,
} from '../../services/node-agent/portforward/port-forward.ts';
import { upgradeKind } from '../../services/node-agent/portforward/upgrade.ts';
import { DockerStreamDemuxer, portForwardFailure, splitPidLine } from '../../services/node-agent/runtime/docker-port-forward.ts';

test('the SPDY/3 dictionary has the length and checksum of the spec', (t) => {
  t.is(SPDY3_DICTIONARY.length, 1423);
  t.is(createHash('sha256').update(SPDY3_DICTIONARY).digest('hex').length, 64);
  t.true(SPDY3_DICTIONARY.subarray(0, 11).equals(Buffer.from([0, 0, 0, 7, ...Buffer.from('options')])));
  t.true(SPDY3_DICTIONARY.toString('latin1').endsWith(',*,enq=0.'));
});

test('header blocks serialize and parse', (t) => {
  const a = serializeHeaders({ streamtype: 'data', port: '8080', requestid: '0' });
  const b = serializeHeaders({});
  t.deepEqual(parseHeaders(a), { streamtype: ['data'], port: ['8080'], requestid: ['0'] });
  t.deepEqual(parseHeaders(b), {});
});

test('header values with several entries are NUL-joined; a name given twice is refused', (t) => {
  t.deepEqual(parseHeaders(serializeHeaders({ 'X-Many': ['a', 'b'] })), { 'x-many': ['a', 'b'] });
  const dup = Buffer.concat([serializeHeaders({ a: '1' }).subarray(4), serializeHeaders({ a: '2' }).subarray(4)]);
  const block = Buffer.concat([Buffer.from([0, 0, 0, 2]), dup]);
  t.throws(() => parseHeaders(block), { message: /named twice/ });
  t.throws(() => parseHeaders(Buffer.from([0, 0, 0, 1, 0, 0, 0, 9])), { message: /truncated/ });
});

test('every frame type round-trips through the encoders and decodeFrame', (t) => {
  t.like(decodeFrame(encodeData(5, Buffer.from('hi'), true)), { kind: 'data', streamId: 5, fin: true });
  t.like(decodeFrame(encodeSynStream(7, Buffer.from('hb'), { fin: true, priority: 3 })), { kind: 'syn_stream', streamId: 7, fin: true, priority: 3 });
  t.like(decodeFrame(encodeSynReply(7, Buffer.from('hb'))), { kind: 'syn_reply', streamId: 7, fin: false });
  t.like(decodeFrame(encodeRstStream(9, RstStatus.CANCEL)), { kind: 'rst_stream', streamId: 9, status: 5 });
  t.like(decodeFrame(encodePing(3)), { kind: 'ping', id: 3 });
  t.like(decodeFrame(encodeGoAway(11)), { kind: 'goaway', lastGoodStreamId: 11, status: 0 });
  t.like(decodeFrame(encodeWindowUpdate(0, 65536)), { kind: 'window_update', streamId: 0, delta: 65536 });
  const unknown = encodePing(1);
  unknown.writeUInt16BE(0x0a, 2);
  t.like(decodeFrame(unknown), { kind: 'unknown', type: 10 });
  const v2 = encodePing(1);
  v2.writeUInt16BE(0x8002, 0);
  t.throws(() => decodeFrame(v2), { message: /unsupported SPDY version 2/ });
});

test('the parser finds frames across any cut of the byte stream', (t) => {
  const bytes = Buffer.concat([encodePing(1), encodeData(1, Buffer.alloc(70_000, 7)), encodeData(3, Buffer.alloc(0), true), encodeRstStream(1, 5)]);
  for (const size of [1, 3, 8, 4096, bytes.length]) {
    const p = new FrameParser();
    const frames: Frame[] = [];
    for (let at = 0; at < bytes.length; at += size) frames.push(...p.push(bytes.subarray(at, at + size)));
    t.deepEqual(frames.map((f) => f.kind), ['ping', 'data', 'data', 'rst_stream'], `cut every ${size} bytes`);
    t.is((frames[1] as { data: Buffer }).data.length, 70_000);
  }
});

test('stream headers are checked as the kubelet checks them', (t) => {
  const h = (o: Record<string, string>) => (n: string) => o[n];
  t.is(validateStreamHeaders(h({ port: '8080', streamtype: 'data' })), undefined);
  t.is(validateStreamHeaders(h({ streamtype: 'data' })), '"port" header is required');
  t.is(validateStreamHeaders(h({ port: '0', streamtype: 'data' })), 'port "0" must be > 0');
  t.regex(validateStreamHeaders(h({ port: 'x', streamtype: 'data' }))!, /unable to parse "x" as a port/);
  t.is(validateStreamHeaders(h({ port: '80' })), '"streamType" header is required');
  t.is(validateStreamHeaders(h({ port: '80', streamtype: 'stdin' })), 'invalid stream type "stdin"');
  t.is(requestIdOf(1, h({ requestid: '4' })), '4');
  t.is(requestIdOf(1, h({ streamtype: 'error' })), '1');
  t.is(requestIdOf(3, h({ streamtype: 'data' })), '1');
  t.is(forwardErrorMessage(8080, 'abc', '', new Error('boom')), 'error forwarding port 8080 to pod abc, uid : boom');
});

test('WebSocket port lists and channel messages', (t) => {
  t.deepEqual(parsePortsQuery(['80', '443,8080']), [80, 443, 8080]);
  t.throws(() => parsePortsQuery([]), { message: 'query parameter "port" is required' });
  t.throws(() => parsePortsQuery(['0']), { message: 'port "0" must be > 0' });
  t.throws(() => parsePortsQuery(['']), { message: 'query parameter "port" cannot be empty' });
  t.deepEqual([...portPrefix(8080)], [0x90, 0x1f]);
  const bin = encodeChannelMessage(2, Buffer.from('abc'), false) as Buffer;
  t.deepEqual([...bin], [2, 97, 98, 99]);
  t.deepEqual(decodeChannelMessage(bin, false), { channel: 2, data: Buffer.from('abc') });
  const b64 = encodeChannelMessage(1, Buffer.from('abc'), true) as string;
  t.is(b64, '1YWJj');
  t.deepEqual(decodeChannelMessage(Buffer.from(b64), true), { channel: 1, data: Buffer.from('abc') });
});

test('the upgrade asked for decides the protocol', (t) => {
  t.deepEqual(upgradeKind({ upgrade: 'websocket', 'sec-websocket-protocol': 'SPDY/3.1+portforward.k8s.io' }), { kind: 'spdy-over-websocket' });
  t.deepEqual(upgradeKind({ upgrade: 'websocket', 'sec-websocket-protocol': 'v5.channel.k8s.io, v4.channel.k8s.io' }), { kind: 'websocket-channels', protocol: 'v4.channel.k8s.io' });
  t.deepEqual(upgradeKind({ upgrade: 'websocket' }), { kind: 'websocket-channels', protocol: undefined });
  t.like(upgradeKind({ upgrade: 'websocket', 'sec-websocket-protocol': 'v5.channel.k8s.io' }), { kind: 'refuse', code: 403 });
  t.deepEqual(upgradeKind({ upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'portforward.k8s.io' }), { kind: 'spdy' });
  t.like(upgradeKind({ upgrade: 'SPDY/3.1' }), { kind: 'refuse', code: 400, message: 'unable to upgrade: X-Stream-Protocol-Version is required' });
  t.like(upgradeKind({ upgrade: 'SPDY/3.1', 'x-stream-protocol-version': 'v4.channel.k8s.io' }), { kind: 'refuse', code: 403 });
});

test("Docker's exec stream framing is undone across cuts; nc's failures read as Kubernetes words them", (t) => {
  const frame = (kind: number, s: string) => {
    const h = Buffer.alloc(8);
    h[0] = kind;
    h.writeUInt32BE(Buffer.byteLength(s), 4);
    return Buffer.concat([h, Buffer.from(s)]);
  };
  const bytes = Buffer.concat([frame(2, '42\n'), frame(1, 'hello'), frame(1, ' world')]);
  const d = new DockerStreamDemuxer();
  const parts = [];
  for (let i = 0; i < bytes.length; i += 5) parts.push(...d.push(bytes.subarray(i, i + 5)));
  t.deepEqual(parts.map((p) => [p.stream, p.data.toString()]), [['stderr', '42\n'], ['stdout', 'hello'], ['stdout', ' world']]);
  t.deepEqual(splitPidLine('42\nnc: oops\n'), { pid: 42, rest: 'nc: oops\n' });
  t.deepEqual(splitPidLine('42'), { pid: 42, rest: '' });
  t.is(
    portForwardFailure(8080, 'sb1', 1, "nc: can't connect to remote host (127.0.0.1): Connection refused\n"),
    'failed to connect to localhost:8080 inside namespace "sb1", IPv4: dial tcp4 127.0.0.1:8080: connect: connection refused',
  );
  t.is(portForwardFailure(80, 'sb1', 127, 'sh: nc: not found'), 'unable to do port forwarding: nc not found');
});

// --- a whole session, as kubectl's spdystream drives it --------------------------------------

/** The client side: its own zlib stream with the dictionary, sync-flushed per block, as Go's framer writes. */
class Client {
  readonly frames: Frame[] = [];
  private readonly parser = new FrameParser();
  private readonly deflate: Deflate = createDeflate({ dictionary: SPDY3_DICTIONARY });
  private waiters: (() => void)[] = [];

  constructor(readonly wire: Duplex) {
    wire.on('data', (c: Buffer) => {
      this.frames.push(...this.parser.push(c));
      for (const w of this.waiters.splice(0)) w();
    });
  }

  async headerBlock(h: Record<string, string>): Promise<Buffer> {
    const out: Buffer[] = [];
    const onData = (d: Buffer) => out.push(d);
    this.deflate.on('data', onData);
    this.deflate.write(serializeHeaders(h));
    await new Promise<void>((r) => this.deflate.flush(zlibConstants.Z_SYNC_FLUSH, () => r()));
    await new Promise((r) => setImmediate(r));
    this.deflate.off('data', onData);
    return Buffer.concat(out);
  }

  async open(id: number, h: Record<string, string>): Promise<void> {
    this.wire.write(encodeSynStream(id, await this.headerBlock(h)));
  }

  async until(pred: (frames: Frame[]) => boolean): Promise<void> {
    while (!pred(this.frames)) await new Promise<void>((r) => this.waiters.push(r));
  }

  dataOf(id: number): Buffer {
    return Buffer.concat(this.frames.filter((f): f is Extract<Frame, { kind: 'data' }> => f.kind === 'data' && f.streamId === id).map((f) => f.data));
  }

  finished(id: number): boolean {
    return this.frames.some((f) => f.kind === 'data' && f.streamId === id && f.fin);
  }
}

function wirePair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  return [Duplex.from({ readable: bToA, writable: aToB }), Duplex.from({ readable: aToB, writable: bToA })];
}

test('a session answers each stream, echoes pings, forwards each pair and reports a failed one on its error stream', async (t) => {
  const [serverSide, clientSide] = wirePair();
  // In place of a pod: port 7 echoes what it is sent, upper-cased, until the client's FIN; any other port refuses.
  const session = servePortForwardSpdy(serverSide, {
    podLabel: 'sandbox-1',
    uid: '',
    forward: async (port, stream) => {
      if (port !== 7) throw new Error('connection refused');
      for await (const chunk of stream.iterator({ destroyOnReturn: false })) if (!stream.write(Buffer.from(String(chunk).toUpperCase()))) await new Promise((r) => stream.once('drain', r));
    },
  });
  const c = new Client(clientSide);
  clientSide.write(encodePing(1));
  await c.open(1, { streamtype: 'error', port: '7', requestid: '0' });
  await c.open(3, { streamtype: 'data', port: '7', requestid: '0' });
  await c.open(5, { streamtype: 'error', port: '9', requestid: '1' });
  await c.open(7, { streamtype: 'data', port: '9', requestid: '1' });
  await c.open(9, { streamtype: 'bogus', port: '9', requestid: '2' });
  clientSide.write(encodeData(1, Buffer.alloc(0), true));
  clientSide.write(encodeData(3, Buffer.from('hello ')));
  clientSide.write(encodeData(3, Buffer.from('world'), true));
  await c.until(() => c.finished(3) && c.finished(1) && c.finished(5) && c.finished(7));
  t.true(c.frames.some((f) => f.kind === 'ping' && f.id === 1));
  t.deepEqual(c.frames.filter((f) => f.kind === 'syn_reply').map((f) => (f as { streamId: number }).streamId), [1, 3, 5, 7]);
  t.true(c.frames.some((f) => f.kind === 'rst_stream' && f.streamId === 9 && f.status === RstStatus.REFUSED_STREAM));
  t.is(c.dataOf(3).toString(), 'HELLO WORLD');
  t.is(c.dataOf(1).length, 0);
  t.is(c.dataOf(5).toString(), 'error forwarding port 9 to pod sandbox-1, uid : connection refused');
  // Replies are empty header blocks, readable by an inflater that shares the session's state.
  const replies = c.frames.filter((f): f is Extract<Frame, { kind: 'syn_reply' }> => f.kind === 'syn_reply').map((f) => f.headerBlock);
  const raw = inflateSync(Buffer.concat(replies), { finishFlush: zlibConstants.Z_SYNC_FLUSH, dictionary: SPDY3_DICTIONARY });
  t.true(raw.equals(Buffer.concat(replies.map(() => Buffer.alloc(4)))));
  clientSide.end();
  await session.done;
  t.is(session.activeStreams, 0);
});

test('a reset from the client ends its forward; many streams and large data pass with back-pressure', async (t) => {
  const [serverSide, clientSide] = wirePair();
  let aborted = 0;
  const session = servePortForwardSpdy(serverSide, {
    podLabel: 'sb',
    uid: '',
    forward: async (port, stream) => {
      if (port === 2) {
        await new Promise<void>((r) => stream.once('close', () => r()));
        aborted++;
        return;
      }
      // 1 MiB per connection from the "pod", written with back-pressure.
      const piece = Buffer.alloc(16 * 1024, port & 0xff);
      for (let i = 0; i < 64; i++) if (!stream.write(piece)) await new Promise((r) => stream.once('drain', r));
    },
  });
  const c = new Client(clientSide);
  await c.open(1, { streamtype: 'error', port: '2', requestid: 'r' });
  await c.open(3, { streamtype: 'data', port: '2', requestid: 'r' });
  const ids: number[] = [];
  for (let i = 0; i < 20; i++) {
    const base = 5 + i * 4;
    await c.open(base, { streamtype: 'error', port: String(100 + i), requestid: String(i) });
    await c.open(base + 2, { streamtype: 'data', port: String(100 + i), requestid: String(i) });
    ids.push(base + 2);
  }
  clientSide.write(encodeRstStream(3, RstStatus.CANCEL));
  await c.until(() => ids.every((id) => c.finished(id)) && c.finished(1));
  t.is(aborted, 1);
  for (const [i, id] of ids.entries()) {
    const data = c.dataOf(id);
    t.is(data.length, 1024 * 1024);
    t.true(data.every((b) => b === ((100 + i) & 0xff)));
  }
  clientSide.end();
  await session.done;
});
