// The node's share of the pod network across hosts (host-gw, as flannel's backend of that name):
// the pod bridge takes this node's block (its Node's spec.podCIDR, given by the node IPAM
// controller), every other node's block is routed to that node's InternalIP, and two iptables rules
// let pod-to-pod traffic between hosts through unchanged — accepted by Docker's forwarding chain
// and never masqueraded, so the receiver sees the sending pod's own address. Level-triggered: the
// routes follow the Node objects as they come and go, and are all applied again every resync, so a
// route deleted by hand, or lost with a restarted host, comes back.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import type { Logger } from '../../shared/log.ts';
import type { Store } from '../../shared/store/store.ts';
import type { Node } from '../../shared/types.ts';
import { Informer } from '../../shared/store/informer.ts';
import { diffRoutes, formatCidr, parseCidr, planRoutes, type Cidr } from '../../shared/pod-cidr.ts';
import { CoalescedRun } from '../../shared/coalesced-run.ts';

const run = promisify(execFile);

export interface PodNetworkOptions {
  store: Store;
  connect: () => Redis;
  log: Logger;
  nodeName: string;
  clusterCidr: string;
  resyncMs: number;
}

export class PodNetwork {
  private readonly nodes: Informer<Node>;
  private readonly cluster: Cidr;
  private readonly log: Logger;
  /** Routes this agent installed: pod block -> next hop. */
  private readonly installed = new Map<string, string>();
  private readonly waiters: ((cidr: string) => void)[] = [];
  private timer?: NodeJS.Timeout;
  private readonly syncs = new CoalescedRun(() => this.sync());
  private rulesReady = false;

  constructor(private readonly opts: PodNetworkOptions) {
    this.log = opts.log.child({ component: 'pod-network' });
    this.cluster = parseCidr(opts.clusterCidr)!;
    this.nodes = new Informer<Node>({ store: opts.store, resource: 'nodes', connection: opts.connect(), log: this.log, onChange: () => this.requestSync() });
  }

  async start(): Promise<void> {
    await this.nodes.start();
    this.timer = setInterval(() => {
      this.installed.clear(); // the periodic pass applies every route again
      this.rulesReady = false;
      this.requestSync();
    }, this.opts.resyncMs);
    this.requestSync();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.nodes.stop();
  }

  /** This node's pod block, once the node IPAM controller has given it one. */
  podCidr(): Promise<string> {
    const own = this.ownCidr();
    if (own) return Promise.resolve(own);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private ownCidr(): string | undefined {
    return this.nodes.list().find((n) => n.metadata.name === this.opts.nodeName)?.spec?.podCIDR;
  }

  private requestSync(): void {
    void this.syncs.request();
  }

  private async sync(): Promise<void> {
    const own = this.ownCidr();
    if (own) for (const resolve of this.waiters.splice(0)) resolve(own);
    await this.ensureRules();
    const { replace, remove } = diffRoutes(this.installed, planRoutes(this.opts.nodeName, this.nodes.list(), this.cluster));
    for (const route of replace) {
      try {
        await run('ip', ['route', 'replace', route.cidr, 'via', route.via]);
        this.installed.set(route.cidr, route.via);
        this.log.info(route, 'pod network: route to another node\'s pods');
      } catch (err) {
        this.log.warn({ ...route, err: firstLine(err) }, 'pod network: cannot add the route (needs iproute2 and CAP_NET_ADMIN)');
      }
    }
    for (const cidr of remove) {
      await run('ip', ['route', 'del', cidr]).catch(() => undefined); // gone already: as wanted
      this.installed.delete(cidr);
      this.log.info({ cidr }, 'pod network: route removed (its node is gone)');
    }
  }

  /**
   * Pod-to-pod traffic between hosts: accepted by Docker's forwarding chain (which otherwise drops
   * what arrives for a container from outside) and left out of the masquerading of traffic leaving
   * a bridge. Inserted first, once; checked again every resync.
   */
  private async ensureRules(): Promise<void> {
    if (this.rulesReady) return;
    const cidr = formatCidr(this.cluster);
    const rules: [string | undefined, string, string[]][] = [
      [undefined, 'DOCKER-USER', ['-d', cidr, '-j', 'ACCEPT']],
      [undefined, 'DOCKER-USER', ['-s', cidr, '-j', 'ACCEPT']],
      ['nat', 'POSTROUTING', ['-s', cidr, '-d', cidr, '-j', 'RETURN']],
    ];
    try {
      for (const [table, chain, rule] of rules) {
        const t = table ? ['-t', table] : [];
        const present = await run('iptables', ['-w', ...t, '-C', chain, ...rule]).then(() => true, () => false);
        if (!present) await run('iptables', ['-w', ...t, '-I', chain, '1', ...rule]);
      }
      this.rulesReady = true;
    } catch (err) {
      this.log.warn({ err: firstLine(err) }, 'pod network: cannot install the iptables rules (needs iptables and CAP_NET_ADMIN); pods on other hosts may be unreachable');
    }
  }
}

function firstLine(err: unknown): string {
  return ((err as { stderr?: string }).stderr || (err as Error).message).split('\n')[0];
}
