// A node's share of the Service network (what kube-proxy and the cluster DNS do on a Kubernetes
// node): it follows Services and Endpoints, makes the whole service range local to the node (so
// that pods, whose traffic leaves through the node, reach any cluster IP), listens on every cluster
// IP, node port and load-balancer port, and answers cluster DNS on the DNS Service's address.
// Everything it knows is re-read from Redis on start, so it is safe to kill at any time.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import type { NetworkConfig } from '../../../shared/config.ts';
import type { Logger } from '../../../shared/log.ts';
import type { Store } from '../../../shared/store/store.ts';
import { Informer } from '../../../shared/store/informer.ts';
import { planListeners, type ListenerSpec } from './plan.ts';
import { Proxier } from './proxier.ts';
import { TrafficCounters } from './traffic.ts';
import { writeTraffic } from '../../../shared/http-scaling.ts';
import { DnsIndex } from './dns-records.ts';
import { ClusterDnsServer, parseUpstreamList, parseUpstreams, type Upstream } from './dns-server.ts';
import { CoalescedRun } from '../../../shared/coalesced-run.ts';

const run = promisify(execFile);
const RETRY_MS = 2_000;
/** How long a drained pod IP stays out of rotation: longer than any pod's Endpoints take to follow. */
const DRAIN_MEMORY_MS = 60_000;

export interface ServiceProxyOptions {
  store: Store;
  connect: () => Redis;
  log: Logger;
  network: NetworkConfig;
  /** The node's addresses, where LoadBalancer ports answer (loopback is added). */
  nodeAddresses: string[];
  dnsPort?: number;
  /** Runs `ip ...` another way when this process has no iproute2 (the Docker runtime's helper container). */
  runIp?: (args: string[]) => Promise<void>;
  /** The node whose traffic this proxy reports (the activator's field in each Service's traffic hash). */
  nodeName: string;
}

export class ServiceProxy {
  private readonly services: Informer;
  private readonly endpoints: Informer;
  /** HTTPScaledObjects: the Services whose traffic is counted and held at zero (the activator). */
  private readonly scaledObjects: Informer;
  private readonly counters: TrafficCounters;
  private readonly reporter: Redis;
  private reportTimer?: NodeJS.Timeout;
  private reporting = false;
  private readonly proxier: Proxier;
  private dns?: ClusterDnsServer;
  private index: DnsIndex;
  private timer?: NodeJS.Timeout;
  private readonly syncs = new CoalescedRun(() => this.sync());
  /** Services or Endpoints changed since the listeners and DNS names were last planned. */
  private changed = true;
  private specs: ListenerSpec[] = [];
  private readonly log: Logger;

  constructor(private readonly opts: ServiceProxyOptions) {
    this.log = opts.log.child({ component: 'service-proxy' });
    const onChange = () => {
      this.changed = true;
      this.requestSync();
    };
    this.services = new Informer({ store: opts.store, resource: 'services', connection: opts.connect(), log: this.log, onChange });
    this.endpoints = new Informer({ store: opts.store, resource: 'endpoints', connection: opts.connect(), log: this.log, onChange });
    this.scaledObjects = new Informer({ store: opts.store, resource: 'httpscaledobjects', connection: opts.connect(), log: this.log, onChange });
    this.reporter = opts.connect();
    this.counters = new TrafficCounters((service) => void this.signalDemand(service));
    this.proxier = new Proxier(this.log, { counters: this.counters, holdMs: opts.network.activatorHoldMs });
    this.index = new DnsIndex(opts.network.clusterDomain, [], []);
  }

  async start(): Promise<void> {
    await this.makeServiceRangeLocal();
    const upstreams = await this.upstreams();
    this.dns = new ClusterDnsServer(this.opts.network.dnsServiceIp, this.opts.dnsPort ?? 53, () => this.index, upstreams, this.log);
    await Promise.all([this.services.start(), this.endpoints.start(), this.scaledObjects.start()]);
    await this.syncs.request();
    this.reportTimer = setInterval(() => void this.report(), this.opts.network.trafficReportMs);
    // Retries what could not bind (an address another agent on this host holds, until it stops).
    this.timer = setInterval(() => this.requestSync(), RETRY_MS);
    this.log.info({ serviceCidr: this.opts.network.serviceCidr, dns: `${this.opts.network.dnsServiceIp}:${this.opts.dnsPort ?? 53}`, upstreams }, 'service proxy started');
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.reportTimer);
    this.proxier.close();
    this.dns?.close();
    await this.report();
    await Promise.all([this.services.stop(), this.endpoints.stop(), this.scaledObjects.stop()]);
    this.reporter.disconnect();
  }

  /**
   * Before a pod is signalled: if this node sends it Service traffic, stop at once and give the
   * other nodes' proxies (which follow its Endpoints) time to do the same.
   */
  async drainPod(podIp: string | undefined, graceMs: number): Promise<void> {
    if (!podIp || !this.proxier.serves(podIp)) return;
    this.proxier.drain(podIp, DRAIN_MEMORY_MS);
    const wait = Math.min(this.opts.network.endpointDrainMs, graceMs);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }

  private requestSync(): void {
    void this.syncs.request();
  }

  private async sync(): Promise<void> {
    try {
      // The retry timer only re-binds what is pending; planning waits for a change.
      if (this.changed) {
        this.changed = false;
        const services = this.services.list();
        const endpoints = this.endpoints.list();
        const { network } = this.opts;
        this.index = new DnsIndex(network.clusterDomain, services, endpoints);
        const activatable = new Set(this.scaledObjects.list().map((o) => `${o.metadata.namespace}/${(o.spec as any)?.scaleTargetRef?.service}`));
        this.counters.retain(activatable);
        this.specs = planListeners(services, endpoints, {
          nodeAddresses: [...new Set([...this.opts.nodeAddresses, '127.0.0.1'])],
          reservedIps: new Set([network.dnsServiceIp]),
          activatable,
        });
      }
      await this.proxier.sync(this.specs);
      if (this.dns && !this.dns.listening) await this.dns.start().catch((err) => this.log.debug({ err: err.message }, 'cluster DNS cannot listen yet'));
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'service proxy sync failed');
    }
  }

  /**
   * A connection is held for a Service at zero: say so at once (this node's report and a message on
   * the activation channel, which the controller managers follow), without waiting for the next
   * report. The periodic reports say it again while connections are held, so a message lost (no
   * controller manager listening) delays the wake-up by one report interval at most.
   */
  private async signalDemand(service: string): Promise<void> {
    const [namespace, name] = service.split('/');
    const { keys } = this.opts.store;
    try {
      const tx = this.reporter.multi();
      writeTraffic(tx, keys, namespace, name, this.opts.nodeName, this.counters.current(service), new Map(), []);
      tx.publish(keys.activationChannel, service);
      await tx.exec();
    } catch (err) {
      this.log.warn({ err: (err as Error).message, service }, 'activator: cannot signal demand');
    }
  }

  /** Writes this node's traffic of every Service with something to say (see TrafficCounters.snapshot). */
  private async report(): Promise<void> {
    if (this.reporting) return;
    this.reporting = true;
    const { keys } = this.opts.store;
    try {
      const snapshots = this.counters.snapshot();
      if (!snapshots.length) return;
      const tx = this.reporter.multi();
      for (const snap of snapshots) {
        const [namespace, name] = snap.service.split('/');
        writeTraffic(tx, keys, namespace, name, this.opts.nodeName, snap.report, snap.opened, snap.forget);
        if (snap.report.held > 0) tx.publish(keys.activationChannel, snap.service);
      }
      await tx.exec();
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot report service traffic');
    } finally {
      this.reporting = false;
    }
  }

  /**
   * A local route for the whole service range: the kernel then accepts any cluster IP as its own,
   * so a listener can bind it and pod traffic to it (routed through the node) arrives here.
   */
  private async makeServiceRangeLocal(): Promise<void> {
    const args = ['route', 'replace', 'local', this.opts.network.serviceCidr, 'dev', 'lo', 'table', 'local'];
    try {
      // No iproute2 here (the Wharf image) or no CAP_NET_ADMIN (a user in the docker group): a
      // helper container in the host's network does it.
      await run('ip', args).catch((err) => {
        if (!this.opts.runIp) throw err;
        return this.opts.runIp(args);
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message.split('\n')[0], cidr: this.opts.network.serviceCidr }, 'cannot route the service range to this node (needs iproute2 and CAP_NET_ADMIN); cluster IPs will not answer here, node ports will');
    }
  }

  private async upstreams(): Promise<Upstream[]> {
    if (this.opts.network.dnsUpstream) return parseUpstreamList(this.opts.network.dnsUpstream);
    const text = await readFile('/etc/resolv.conf', 'utf8').catch(() => '');
    return parseUpstreams(text, this.opts.network.dnsServiceIp);
  }
}
