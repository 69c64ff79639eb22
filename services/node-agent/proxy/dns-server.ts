// The cluster DNS server a node serves on the DNS Service's address (UDP and TCP port 53): cluster
// names from the DnsIndex, everything else relayed as-is to the node's upstream resolvers. The
// wire format is dns-packet's (a small, widely used codec) rather than hand-written parsing.
import dgram from 'node:dgram';
import net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Logger } from '../../../shared/log.ts';
import type { DnsIndex } from './dns-records.ts';

export interface Upstream {
  host: string;
  port: number;
}

const FLAG_RD = 1 << 8;
const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;
const RCODE_NOTIMP = 4;
const UPSTREAM_TIMEOUT_MS = 4_000;

/** Answers one query; undefined means "relay to upstream". Exported for the unit tests. */
export function answerQuery(index: DnsIndex, query: Buffer): Buffer | undefined {
  let packet: dnsPacket.Packet;
  try {
    packet = dnsPacket.decode(query);
  } catch {
    return undefined;
  }
  const question = packet.questions?.[0];
  const reply = (rcode: number, answers: dnsPacket.Answer[] = [], authoritative = true) =>
    dnsPacket.encode({
      id: packet.id,
      type: 'response',
      flags: (packet.flags ?? 0) & FLAG_RD | dnsPacket.RECURSION_AVAILABLE | (authoritative ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcode,
      questions: packet.questions,
      answers,
    });
  if (!question || packet.type !== 'query') return reply(RCODE_NOTIMP, [], false);
  const result = index.resolve(question.name, question.type);
  if (result.kind === 'forward') return undefined;
  if (result.kind === 'nxdomain') {
    return dnsPacket.encode({
      id: packet.id,
      type: 'response',
      flags: (packet.flags ?? 0) & FLAG_RD | dnsPacket.RECURSION_AVAILABLE | dnsPacket.AUTHORITATIVE_ANSWER | RCODE_NXDOMAIN,
      questions: packet.questions,
      // The SOA tells resolvers how long "no such name" may be cached (negative caching).
      authorities: [soa(index.domain)],
    });
  }
  return reply(0, result.answers.map((a) => ({ name: a.name, type: a.type, ttl: a.ttl, class: 'IN', data: a.data }) as dnsPacket.Answer), true);
}

function soa(domain: string): dnsPacket.Answer {
  return {
    name: domain,
    type: 'SOA',
    ttl: 5,
    class: 'IN',
    data: { mname: `ns.dns.${domain}`, rname: `hostmaster.${domain}`, serial: 1, refresh: 7200, retry: 1800, expire: 86400, minimum: 5 },
  } as dnsPacket.Answer;
}

function servfail(query: Buffer): Buffer | undefined {
  try {
    const packet = dnsPacket.decode(query);
    return dnsPacket.encode({ id: packet.id, type: 'response', flags: (packet.flags ?? 0) & FLAG_RD | dnsPacket.RECURSION_AVAILABLE | RCODE_SERVFAIL, questions: packet.questions });
  } catch {
    return undefined;
  }
}

export class ClusterDnsServer {
  private udp?: dgram.Socket;
  private tcp?: net.Server;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly index: () => DnsIndex,
    private readonly upstreams: Upstream[],
    private readonly log: Logger,
  ) {}

  get listening(): boolean {
    return !!this.udp && !!this.tcp;
  }

  /** Binds UDP and TCP; rejects (and holds nothing) if either address is taken or missing. */
  async start(): Promise<void> {
    const udp = dgram.createSocket('udp4');
    const tcp = net.createServer((socket) => this.serveTcp(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(this.port, this.host, () => resolve());
      });
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(this.port, this.host, () => resolve());
      });
    } catch (err) {
      udp.close();
      tcp.close();
      throw err;
    }
    udp.on('error', (err) => this.log.warn({ err: err.message }, 'cluster DNS socket error'));
    udp.on('message', (msg, from) => void this.handle(msg).then((out) => out && udp.send(out, from.port, from.address)));
    this.udp = udp;
    this.tcp = tcp;
  }

  close(): void {
    this.udp?.close();
    this.tcp?.close();
    this.udp = undefined;
    this.tcp = undefined;
  }

  private async handle(query: Buffer): Promise<Buffer | undefined> {
    // A response (QR bit) is never answered, so two servers cannot bounce messages forever.
    if (query.length < 12 || (query[2] & 0x80) !== 0) return undefined;
    const local = answerQuery(this.index(), query);
    if (local) return local;
    for (const upstream of this.upstreams) {
      const relayed = await relayUdp(query, upstream).catch(() => undefined);
      if (relayed) return relayed;
    }
    return servfail(query);
  }

  /** DNS over TCP: two-byte length prefix per message (RFC 1035 4.2.2); clients retry here after a truncated UDP reply. */
  private serveTcp(socket: net.Socket): void {
    let buffered = Buffer.alloc(0);
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => socket.destroy());
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
        const query = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
        buffered = buffered.subarray(2 + query.length);
        void this.handle(Buffer.from(query)).then((out) => {
          if (!out || socket.destroyed) return;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          socket.write(Buffer.concat([len, out]));
        });
      }
    });
  }
}

function relayUdp(query: Buffer, upstream: Upstream): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(net.isIPv6(upstream.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(new Error('upstream timed out')), UPSTREAM_TIMEOUT_MS);
    const finish = (err?: Error, reply?: Buffer) => {
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    socket.on('error', (err) => finish(err));
    socket.on('message', (msg) => {
      // Only the reply to this query (same id) counts.
      if (msg.length >= 2 && msg.readUInt16BE(0) === query.readUInt16BE(0)) finish(undefined, msg);
    });
    socket.send(query, upstream.port, upstream.host, (err) => err && finish(err));
  });
}

/** The node's resolvers, from its resolv.conf (or WHARF_DNS_UPSTREAM), excluding the cluster's own address. */
export function parseUpstreams(text: string, exclude: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && m[1] !== exclude) out.push({ host: m[1], port: 53 });
  }
  return out;
}

export function parseUpstreamList(text: string): Upstream[] {
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
    if (net.isIPv6(s)) return { host: s, port: 53 }; // bare IPv6: its colons are not a port
    const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(s);
    return { host: m?.[1] ?? s, port: m?.[2] ? Number(m[2]) : 53 };
  });
}
