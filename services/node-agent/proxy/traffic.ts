// What one node's service proxy counts of the Services an HTTPScaledObject scales: connections in
// flight, connections held while the Service has no ready endpoint, connections opened per second,
// and when the Service last saw any. The proxy's connections update it; the reporter
// (ServiceProxy) takes a snapshot every interval and writes it to Redis (shared/http-scaling.ts).
import type { NodeTraffic } from '../../../shared/http-scaling.ts';

/** Seconds of connections-opened counts kept in Redis: the longest requestRate window measured. */
export const RATE_HISTORY_SECONDS = 600;

interface Counter {
  inFlight: number;
  held: number;
  lastActive: number;
  /** Opened per unix second, not yet reported. */
  opened: Map<number, number>;
  /** Seconds this node wrote, to forget once older than the history. */
  written: number[];
  /** Whether anything changed since the last report. */
  dirty: boolean;
}

export interface TrafficSnapshot {
  service: string;
  report: NodeTraffic;
  opened: Map<number, number>;
  forget: number[];
}

export class TrafficCounters {
  private readonly counters = new Map<string, Counter>();

  constructor(private readonly onDemand: (service: string) => void = () => undefined) {}

  private counter(service: string): Counter {
    let c = this.counters.get(service);
    if (!c) this.counters.set(service, (c = { inFlight: 0, held: 0, lastActive: 0, opened: new Map(), written: [], dirty: true }));
    return c;
  }

  /** A connection arrived (relayed at once, or held first). */
  accepted(service: string, now = Date.now()): void {
    const c = this.counter(service);
    const second = Math.floor(now / 1000);
    c.opened.set(second, (c.opened.get(second) ?? 0) + 1);
    c.lastActive = now;
    c.dirty = true;
  }

  /**
   * A connection is being held for lack of endpoints: the Service must wake up. Said once when the
   * first is held (a burst of 20 is one signal); the reports repeat it while any is held.
   */
  hold(service: string, now = Date.now()): void {
    const c = this.counter(service);
    c.held++;
    c.lastActive = now;
    c.dirty = true;
    if (c.held === 1) this.onDemand(service);
  }

  unhold(service: string, now = Date.now()): void {
    const c = this.counter(service);
    c.held = Math.max(0, c.held - 1);
    c.lastActive = now;
    c.dirty = true;
  }

  relayed(service: string, now = Date.now()): void {
    const c = this.counter(service);
    c.inFlight++;
    c.lastActive = now;
    c.dirty = true;
  }

  closed(service: string, now = Date.now()): void {
    const c = this.counter(service);
    c.inFlight = Math.max(0, c.inFlight - 1);
    c.lastActive = now;
    c.dirty = true;
  }

  /** The node's traffic for one Service now (for an immediate demand report). */
  current(service: string, now = Date.now()): NodeTraffic {
    const c = this.counter(service);
    return { at: now, inFlight: c.inFlight, held: c.held, lastActive: c.held || c.inFlight ? now : c.lastActive };
  }

  /**
   * What to report: every Service with open or held connections (their reports must stay fresh)
   * or with a change since the last report. Takes the opened counts (they are summed in Redis).
   */
  snapshot(now = Date.now()): TrafficSnapshot[] {
    const out: TrafficSnapshot[] = [];
    const oldest = Math.floor(now / 1000) - RATE_HISTORY_SECONDS;
    for (const [service, c] of this.counters) {
      if (!c.dirty && !c.inFlight && !c.held) {
        // Idle and reported: nothing to say until it changes; a long-idle Service is forgotten.
        if (now - c.lastActive > RATE_HISTORY_SECONDS * 1000 && !c.written.length) this.counters.delete(service);
        continue;
      }
      const opened = c.opened;
      c.opened = new Map();
      c.written.push(...[...opened.keys()].filter((s) => !c.written.includes(s)));
      const forget = c.written.filter((s) => s < oldest);
      c.written = c.written.filter((s) => s >= oldest);
      c.dirty = false;
      out.push({ service, report: this.current(service, now), opened, forget });
    }
    return out;
  }

  /** Services no HTTPScaledObject scales any more: their counts go (connections still open are not counted back). */
  retain(services: Set<string>): void {
    for (const service of this.counters.keys()) if (!services.has(service)) this.counters.delete(service);
  }
}
