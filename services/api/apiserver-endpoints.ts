// The default/kubernetes Service and its endpoints, as Kubernetes' API servers keep them (the
// "lease" endpoint reconciler): every API server renews a Lease in kube-system that names its
// address, and each in turn writes the addresses of the live ones into the Endpoints and the
// EndpointSlice default/kubernetes, so in-cluster clients find every replica and none that died.
import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import type { Logger } from '../../shared/log.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../shared/errors.ts';
import { deepEqual } from '../../shared/util.ts';

export const LEASE_NAMESPACE = 'kube-system';
/** The label Kubernetes gives API server identity leases. */
export const IDENTITY_LABEL = 'apiserver.kubernetes.io/identity';
/** Where a Lease says which address its API server serves on ("ip:port"). */
export const ADDRESS_ANNOTATION = 'wharf.io/advertise-address';
const SERVICE = 'kubernetes';
const PORT_NAME = 'https';

export interface ApiServerAddress {
  ip: string;
  port: number;
}

/** The addresses of the API servers whose Lease is still fresh at nowMs, sorted, each once. */
export function liveAddresses(leases: KubeObject[], nowMs: number): ApiServerAddress[] {
  const seen = new Map<string, ApiServerAddress>();
  for (const lease of leases) {
    const renewed = Date.parse(lease.spec?.renewTime ?? '');
    const ttlMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    if (!Number.isFinite(renewed) || renewed + ttlMs < nowMs) continue;
    const m = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/.exec(lease.metadata.annotations?.[ADDRESS_ANNOTATION] ?? '');
    if (m) seen.set(m[0], { ip: m[1], port: Number(m[2]) });
  }
  return [...seen.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : a.ip < b.ip ? -1 : 1));
}

/** Leases whose API server has been gone for a whole further term: nobody will renew them. */
export function abandonedLeases(leases: KubeObject[], nowMs: number): KubeObject[] {
  return leases.filter((lease) => {
    const renewed = Date.parse(lease.spec?.renewTime ?? '');
    return Number.isFinite(renewed) && renewed + 2 * (lease.spec?.leaseDurationSeconds ?? 0) * 1000 < nowMs;
  });
}

/** The Endpoints subsets of these addresses: one subset per port, as Kubernetes' reconciler writes them. */
export function subsetsFor(addresses: ApiServerAddress[]): unknown[] {
  const byPort = new Map<number, string[]>();
  for (const a of addresses) byPort.set(a.port, [...(byPort.get(a.port) ?? []), a.ip]);
  return [...byPort].map(([port, ips]) => ({ addresses: ips.map((ip) => ({ ip })), ports: [{ name: PORT_NAME, port, protocol: 'TCP' }] }));
}

/** The Service every Kubernetes cluster has, naming the API at the first address of the range. */
export function kubernetesService(clusterIp: string, apiPort: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: SERVICE, namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: { type: 'ClusterIP', clusterIP: clusterIp, ports: [{ name: PORT_NAME, port: 443, protocol: 'TCP', targetPort: apiPort }], sessionAffinity: 'None' },
  };
}

export interface ApiServerEndpointsOptions {
  store: Store;
  log: Logger;
  /** This API server's address, or undefined when the host has none to advertise (no Lease then). */
  address: ApiServerAddress | undefined;
  ttlMs: number;
}

export class ApiServerEndpoints {
  private readonly leaseName = `kube-apiserver-${randomUUID().slice(0, 13)}`;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** The pass under way (or the last one): stop() waits for it, so no renewal lands after the Lease is given up. */
  private pass: Promise<void> = Promise.resolve();

  constructor(private readonly opts: ApiServerEndpointsOptions) {}

  /** Renews this server's Lease and reconciles the endpoints (resolving once that is done), then again every third of the TTL. */
  async start(): Promise<void> {
    const tick = async () => {
      try {
        await this.renew();
        await this.reconcile();
      } catch (err) {
        this.opts.log.warn({ err: (err as Error).message }, 'could not reconcile the kubernetes Service endpoints');
      }
      if (!this.stopped) this.timer = setTimeout(() => void (this.pass = tick()), Math.max(500, this.opts.ttlMs / 3));
    };
    this.pass = tick();
    await this.pass;
  }

  /** Gives up this server's Lease, so its address leaves the endpoints at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.pass;
    if (!this.opts.address) return;
    await this.opts.store.delete('leases', LEASE_NAMESPACE, this.leaseName).catch(() => undefined);
    await this.reconcile().catch((err) => this.opts.log.warn({ err: err.message }, 'could not take this API server out of the endpoints; its Lease is gone, another server will'));
  }

  private async renew(): Promise<void> {
    const { address, store, ttlMs } = this.opts;
    if (!address) return;
    const renewTime = new Date().toISOString().replace(/Z$/, '000Z');
    const spec = { holderIdentity: this.leaseName, leaseDurationSeconds: Math.ceil(ttlMs / 1000), renewTime };
    try {
      await store.guaranteedUpdate('leases', LEASE_NAMESPACE, this.leaseName, (lease) => ({ ...lease, spec: { ...lease.spec, ...spec } }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await store.create('leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.leaseName, namespace: LEASE_NAMESPACE, labels: { [IDENTITY_LABEL]: 'kube-apiserver' }, annotations: { [ADDRESS_ANNOTATION]: `${address.ip}:${address.port}` } },
        spec: { ...spec, acquireTime: renewTime },
      }).catch((e) => {
        if (!isAlreadyExists(e)) throw e;
      });
    }
  }

  private async reconcile(): Promise<void> {
    const { store } = this.opts;
    const nowMs = Date.now();
    const leases = (await store.list('leases', LEASE_NAMESPACE)).items.filter((l) => l.metadata.labels?.[IDENTITY_LABEL] === 'kube-apiserver');
    for (const gone of abandonedLeases(leases, nowMs)) await store.delete('leases', LEASE_NAMESPACE, gone.metadata.name!).catch(() => undefined);
    const addresses = liveAddresses(leases, nowMs);
    await this.writeEndpoints(subsetsFor(addresses));
    await this.writeSlices(addresses);
  }

  private async writeEndpoints(subsets: unknown[]): Promise<void> {
    const { store } = this.opts;
    const current = await store.get('endpoints', 'default', SERVICE);
    if (!current) {
      await store.create('endpoints', { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: SERVICE, namespace: 'default', labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } }, subsets }).catch(ignoreRace);
      return;
    }
    if (deepEqual(current.subsets ?? [], subsets)) return;
    await store.guaranteedUpdate('endpoints', 'default', SERVICE, (ep) => ({ ...ep, subsets })).catch(ignoreRace);
  }

  /** One EndpointSlice per port (a slice's ports apply to all its endpoints), "kubernetes" for the first. */
  private async writeSlices(addresses: ApiServerAddress[]): Promise<void> {
    const { store } = this.opts;
    const desired = slicesFor(addresses);
    const existing = (await store.list('endpointslices', 'default')).items.filter((s) => s.metadata.labels?.[MANAGED_BY] === MANAGER && s.metadata.labels?.['kubernetes.io/service-name'] === SERVICE);
    for (const slice of desired) {
      const current = existing.find((s) => s.metadata.name === slice.metadata.name);
      if (!current) await store.create('endpointslices', slice).catch(ignoreRace);
      else if (!deepEqual(current.endpoints ?? null, slice.endpoints) || !deepEqual(current.ports ?? null, slice.ports)) {
        await store.guaranteedUpdate('endpointslices', 'default', slice.metadata.name!, (cur) => ({ ...cur, endpoints: slice.endpoints, ports: slice.ports })).catch(ignoreRace);
      }
    }
    for (const stale of existing.filter((s) => !desired.some((d) => d.metadata.name === s.metadata.name))) {
      await store.delete('endpointslices', 'default', stale.metadata.name!).catch(() => undefined);
    }
  }
}

const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
const MANAGER = 'kube-apiserver';

/** The EndpointSlices of these addresses: one per port, "kubernetes" (empty when there is none) first. */
export function slicesFor(addresses: ApiServerAddress[]): KubeObject[] {
  const ports = [...new Set(addresses.map((a) => a.port))].sort((a, b) => a - b);
  const slice = (name: string, port: number | undefined): KubeObject => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': SERVICE, [MANAGED_BY]: MANAGER } },
    addressType: 'IPv4',
    endpoints: port === undefined ? null : addresses.filter((a) => a.port === port).map((a) => ({ addresses: [a.ip], conditions: { ready: true } })),
    ports: port === undefined ? null : [{ name: PORT_NAME, port, protocol: 'TCP' }],
  });
  if (!ports.length) return [slice(SERVICE, undefined)];
  return ports.map((port, i) => slice(i === 0 ? SERVICE : `${SERVICE}-${port}`, port));
}

/** Several API servers reconcile at once: whoever loses a race leaves it to the winner's result. */
function ignoreRace(err: unknown): void {
  if (!isAlreadyExists(err) && !isConflict(err)) throw err;
}
