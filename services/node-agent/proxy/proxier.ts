// The sockets of a node's service proxy (a userspace proxy, as kube-proxy's first mode was): one
// listener per ListenerSpec, each connection relayed to a backend its Balancer picks. Changing
// backends never touches open connections, so a removed endpoint drains; a backend that refuses a
// connection is skipped for the next one, so a client does not see a pod that just went away.
import net from 'node:net';
import dgram from 'node:dgram';
import type { Logger } from '../../../shared/log.ts';
import { Balancer, backendKey, type Backend, type ListenerSpec } from './plan.ts';
import type { TrafficCounters } from './traffic.ts';

const CONNECT_TIMEOUT_MS = 3_000;
const UDP_SESSION_IDLE_MS = 30_000;
/** While a Service wakes up, how soon a held connection tries again a backend that refused it (its app not listening yet). */
const ACTIVATION_RETRY_MS = 20;

interface UdpSession {
  upstream: dgram.Socket;
  connected: boolean;
  queued: Buffer[];
  timer: NodeJS.Timeout;
}

interface Listener {
  spec: ListenerSpec;
  balancer: Balancer;
  /** Held connections waiting for the listener to have a backend (the activator's). */
  waiters: Set<() => void>;
  close(): void;
}

export interface ActivatorOptions {
  counters: TrafficCounters;
  /** How long a connection is held for a Service at zero before it is closed. */
  holdMs: number;
}

export class Proxier {
  private readonly listeners = new Map<string, Listener>();
  /** Wanted but not bound yet (address taken by another process, or not yet local): retried on every sync. */
  private readonly pending = new Map<string, ListenerSpec>();
  private readonly binding = new Set<string>();
  /** Pod IPs being killed: left out of every listener whatever the Endpoints still say. */
  private readonly draining = new Map<string, number>();
  private readonly warned = new Set<string>();

  constructor(private readonly log: Logger, private readonly activator?: ActivatorOptions) {}

  /** Whether any listener currently sends to this IP. */
  serves(ip: string): boolean {
    for (const l of this.listeners.values()) if (l.spec.backends.some((b) => b.ip === ip)) return true;
    for (const s of this.pending.values()) if (s.backends.some((b) => b.ip === ip)) return true;
    return false;
  }

  /** Stops picking this IP at once, for `forMs` (its pod is being killed; the Endpoints will follow). */
  drain(ip: string, forMs: number): void {
    this.draining.set(ip, Date.now() + forMs);
    for (const l of this.listeners.values()) l.balancer.remove(ip);
  }

  /** Converges the open sockets on `specs`. Idempotent; cheap when nothing changed. */
  async sync(specs: ListenerSpec[]): Promise<void> {
    const now = Date.now();
    // A drained IP is forgotten once the Endpoints no longer list it (they have followed): the
    // engine may give the same IP to the next pod, which must be served at once (a Deployment
    // woken from zero gets its old pod's IP back).
    const listed = new Set(specs.flatMap((s) => s.backends.map((b) => b.ip)));
    for (const [ip, until] of this.draining) if (until < now || !listed.has(ip)) this.draining.delete(ip);
    const wanted = new Map(specs.map((s) => [s.id, { ...s, backends: s.backends.filter((b) => !this.draining.has(b.ip)) }]));
    for (const [id, listener] of this.listeners) {
      if (!wanted.has(id)) {
        listener.close();
        this.listeners.delete(id);
      }
    }
    for (const id of this.pending.keys()) if (!wanted.has(id)) this.pending.delete(id);
    const binds: Promise<void>[] = [];
    for (const [id, spec] of wanted) {
      const existing = this.listeners.get(id);
      if (existing) {
        existing.spec = spec;
        existing.balancer.update(spec.backends, spec.affinityMs);
        existing.balancer.expire(now);
        if (existing.balancer.size > 0) wake(existing);
        continue;
      }
      this.pending.set(id, spec);
      if (!this.binding.has(id)) binds.push(this.bind(id));
    }
    await Promise.all(binds);
  }

  close(): void {
    for (const l of this.listeners.values()) {
      l.close();
      wake(l);
    }
    this.listeners.clear();
    this.pending.clear();
  }

  private async bind(id: string): Promise<void> {
    this.binding.add(id);
    try {
      const spec = this.pending.get(id);
      if (!spec) return;
      const balancer = new Balancer(spec.affinityMs);
      balancer.update(spec.backends, spec.affinityMs);
      const listener = spec.protocol === 'UDP' ? await this.bindUdp(spec, balancer) : await this.bindTcp(spec, balancer);
      const latest = this.pending.get(id);
      if (!latest) {
        listener.close(); // no longer wanted while we were binding
        return;
      }
      this.pending.delete(id);
      listener.spec = latest;
      balancer.update(latest.backends, latest.affinityMs);
      this.listeners.set(id, listener);
      this.warned.delete(id);
      this.log.debug({ listener: id, service: latest.servicePort }, 'proxy listening');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // EADDRINUSE: another agent on this host serves it (it takes over if that one stops).
      if (!this.warned.has(id)) {
        this.warned.add(id);
        this.log[code === 'EADDRINUSE' ? 'info' : 'warn']({ listener: id, code, err: (err as Error).message }, 'proxy cannot listen yet; will retry');
      }
    } finally {
      this.binding.delete(id);
    }
  }

  private bindTcp(spec: ListenerSpec, balancer: Balancer): Promise<Listener> {
    const server = net.createServer({ pauseOnConnect: true }, (client) => void this.relayTcp(client, listener));
    const listener: Listener = {
      spec,
      balancer,
      waiters: new Set(),
      // Stop accepting; connections already relayed run to their end (they drain).
      close: () => server.close(),
    };
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port: spec.port, host: spec.host, exclusive: true }, () => {
        server.off('error', reject);
        server.on('error', (err) => this.log.warn({ listener: spec.id, err: err.message }, 'proxy listener error'));
        resolve(listener);
      });
    });
  }

  private async relayTcp(client: net.Socket, listener: Listener): Promise<void> {
    client.on('error', () => undefined);
    const { balancer } = listener;
    const clientIp = (client.remoteAddress ?? '').replace(/^::ffff:/, '');
    // A Service an HTTPScaledObject scales: counted, and held rather than refused while at zero.
    const service = this.activator ? listener.spec.activate : undefined;
    const counters = this.activator?.counters;
    if (service) counters!.accepted(service);
    let deadline = 0;
    let holding = false;
    let heldSince = 0;
    let refused = 0;
    const release = () => {
      if (!holding) return;
      holding = false;
      counters!.unhold(service!);
      this.log.debug({ service, heldMs: Date.now() - heldSince, waits: refused }, 'activator: held connection released');
    };
    const tried = new Set<string>();
    for (;;) {
      const backend = balancer.pick(clientIp, Date.now(), tried);
      if (!backend) {
        if (!service || client.destroyed) {
          // No endpoint: refuse, as kube-proxy's REJECT rule does.
          release();
          client.resetAndDestroy();
          return;
        }
        if (!holding) {
          holding = true;
          heldSince = Date.now();
          deadline = heldSince + this.activator!.holdMs;
          counters!.hold(service);
        }
        const woken = await this.waitForBackend(listener, tried, deadline);
        refused++;
        if (!woken || client.destroyed) {
          // Held as long as allowed: close cleanly (FIN after nothing), never a reset.
          release();
          if (!client.destroyed) client.end();
          if (!woken) this.log.info({ service, holdMs: this.activator!.holdMs }, 'activator: no endpoint became ready in time; connection closed');
          return;
        }
        continue;
      }
      tried.add(backendKey(backend));
      const upstream = await connect(backend).catch(() => undefined);
      if (!upstream) continue;
      release();
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      if (service) {
        counters!.relayed(service);
        client.once('close', () => counters!.closed(service));
      }
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
      return;
    }
  }

  /**
   * Waits until the listener has a backend not yet tried, or the deadline. A backend tried already
   * (it refused: its pod's app is not listening yet) is tried again after a short pause.
   */
  private waitForBackend(listener: Listener, tried: Set<string>, deadline: number): Promise<boolean> {
    const remaining = deadline - Date.now();
    if (remaining <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout;
      const done = (ok: boolean) => {
        clearTimeout(timer);
        listener.waiters.delete(onBackends);
        resolve(ok && Date.now() < deadline);
      };
      const onBackends = () => done(true);
      if (listener.balancer.size > 0) {
        // Every backend refused: try them all again shortly.
        tried.clear();
        timer = setTimeout(() => done(true), Math.min(ACTIVATION_RETRY_MS, remaining));
        return;
      }
      listener.waiters.add(onBackends);
      timer = setTimeout(() => done(false), remaining);
    });
  }

  private bindUdp(spec: ListenerSpec, balancer: Balancer): Promise<Listener> {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    // One upstream socket per client address and port, so replies find their way back.
    const sessions = new Map<string, UdpSession>();
    const listener: Listener = {
      spec,
      balancer,
      waiters: new Set(),
      close: () => {
        for (const s of sessions.values()) {
          clearTimeout(s.timer);
          s.upstream.close();
        }
        socket.close();
      },
    };
    socket.on('message', (msg, from) => {
      const key = `${from.address}:${from.port}`;
      let session = sessions.get(key);
      if (!session) {
        const backend = balancer.pick(from.address, Date.now());
        if (!backend) return;
        const upstream = dgram.createSocket('udp4');
        const created: UdpSession = { upstream, connected: false, queued: [msg], timer: setTimeout(() => undefined, 0) };
        upstream.on('message', (reply) => socket.send(reply, from.port, from.address));
        upstream.on('error', () => undefined);
        upstream.connect(backend.port, backend.ip, () => {
          created.connected = true;
          for (const m of created.queued.splice(0)) upstream.send(m);
        });
        sessions.set(key, (session = created));
      } else if (!session.connected) {
        session.queued.push(msg);
      } else {
        session.upstream.send(msg);
      }
      const current = session;
      clearTimeout(current.timer);
      current.timer = setTimeout(() => {
        current.upstream.close();
        sessions.delete(key);
      }, UDP_SESSION_IDLE_MS);
    });
    return new Promise((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: spec.port, address: spec.host, exclusive: true }, () => {
        socket.off('error', reject);
        socket.on('error', (err) => this.log.warn({ listener: spec.id, err: err.message }, 'proxy listener error'));
        resolve(listener);
      });
    });
  }
}

/** Lets the connections held for this listener try its backends. */
function wake(listener: Listener): void {
  for (const waiter of [...listener.waiters]) waiter();
}

function connect(backend: Backend): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: backend.ip, port: backend.port });
    socket.setTimeout(CONNECT_TIMEOUT_MS, () => {
      socket.destroy();
      reject(new Error('connect timed out'));
    });
    socket.once('connect', () => {
      socket.setTimeout(0);
      socket.off('error', reject);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
