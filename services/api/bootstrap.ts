// Start-up routines of the API server: the namespaces every cluster has, created by whichever API
// server gets there first, and the one-time backfills an upgraded cluster's data needs.
import type { Store } from '../../shared/store/store.ts';
import { strategyFor } from '../../shared/registry/registry.ts';
import { SYSTEM_NAMESPACES } from '../../shared/registry/kinds/namespace.ts';
import { InvalidError, isAlreadyExists } from '../../shared/errors.ts';
import { kubernetesService } from './apiserver-endpoints.ts';
import type { Logger } from '../../shared/log.ts';
import { sleep } from '../../shared/util.ts';
import { SYSTEM_PRIORITY_CLASSES, systemPriorityClass } from '../../shared/api/priority.ts';
import { LOCAL_PATH_CLASS, localPathStorageClass } from '../../shared/api/storage.ts';

export async function ensureSystemNamespaces(store: Store, log: Logger): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      for (const name of SYSTEM_NAMESPACES) {
        if (await store.get('namespaces', undefined, name)) continue;
        try {
          await store.create('namespaces', {
            apiVersion: 'v1',
            kind: 'Namespace',
            metadata: { name, labels: { 'kubernetes.io/metadata.name': name } },
            spec: { finalizers: ['kubernetes'] },
            status: { phase: 'Active' },
          });
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
        }
      }
      // The system priority classes, as Kubernetes' API server creates them.
      for (const { name } of SYSTEM_PRIORITY_CLASSES) {
        if (await store.get('priorityclasses', undefined, name)) continue;
        await store.create('priorityclasses', systemPriorityClass(name)).catch((err) => {
          if (!isAlreadyExists(err)) throw err;
        });
      }
      // The default StorageClass, as k3s ships it (local-path, provisioned by the node agents).
      if (!(await store.get('storageclasses', undefined, LOCAL_PATH_CLASS))) {
        await store.create('storageclasses', localPathStorageClass()).catch((err) => {
          if (!isAlreadyExists(err)) throw err;
        });
      }
      return;
    } catch (err) {
      // Redis may still be starting: keep trying rather than exit.
      log.warn({ err: (err as Error).message, attempt }, 'could not create system namespaces yet');
      await sleep(Math.min(200 * 2 ** attempt, 2000));
    }
  }
}

/**
 * The cluster DNS Service, kube-system/kube-dns, as Kubernetes clusters have it: it holds the DNS
 * address so no other Service is given it. Node agents answer on it themselves (no pods behind it).
 */
export async function ensureDnsService(store: Store, dnsServiceIp: string, log: Logger): Promise<void> {
  if (await store.get('services', 'kube-system', 'kube-dns')) return;
  try {
    await store.create('services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'kube-dns',
        namespace: 'kube-system',
        labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
        annotations: { 'wharf.io/served-by': 'node-agent' },
      },
      spec: {
        type: 'ClusterIP',
        clusterIP: dnsServiceIp,
        clusterIPs: [dnsServiceIp],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        sessionAffinity: 'None',
        internalTrafficPolicy: 'Cluster',
        ports: [
          { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
          { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
        ],
      },
      status: { loadBalancer: {} },
    });
  } catch (err) {
    if (isAlreadyExists(err)) return;
    if (err instanceof InvalidError) log.warn({ ip: dnsServiceIp, err: err.message }, 'the cluster DNS address is held by another Service; pods will not resolve cluster names');
    else throw err;
  }
}

/** default/kubernetes, the Service every cluster has (its endpoints are the API servers': ApiServerEndpoints). */
export async function ensureKubernetesService(store: Store, clusterIp: string, apiPort: number, log: Logger): Promise<void> {
  if (await store.get('services', 'default', 'kubernetes')) return;
  try {
    await store.create('services', kubernetesService(clusterIp, apiPort));
  } catch (err) {
    if (isAlreadyExists(err)) return;
    if (err instanceof InvalidError) log.warn({ ip: clusterIp, err: err.message }, 'the kubernetes Service\'s address is held by another Service');
    else throw err;
  }
}

/**
 * Services written before their addresses were claims (an older Wharf) claim them now, so the
 * allocator never hands them out twice. Idempotent: HSETNX leaves existing claims alone.
 */
export async function backfillServiceClaims(store: Store): Promise<void> {
  const { items } = await store.list('services');
  const services = strategyFor('services');
  for (const svc of items) await store.recordClaims(svc.metadata.uid!, services.claims(svc));
}

/**
 * Objects written before the object index existed (an older Wharf) are indexed now; until a kind
 * is, its paged lists sort every key as before. Every API server runs this at start; each kind's
 * marker makes it a no-op once done, and an interrupted run is finished by the next.
 */
export async function backfillObjectIndex(store: Store, log: Logger): Promise<void> {
  const started = Date.now();
  const indexed = await store.buildObjectIndex();
  if (indexed.length) log.info({ resources: indexed, ms: Date.now() - started }, 'indexed existing objects for paged lists');
}
