// Controller manager entry point: the Deployment, ReplicaSet, garbage-collector and namespace
// controllers, fed by one consumer group over the change streams. Stateless; run as many as you like.
import { hostname } from 'node:os';
import type { KubeObject } from '../../shared/types.ts';
import { loadConfig } from '../../shared/config.ts';
import { serveMetrics } from '../../shared/metrics-endpoint.ts';
import { QUEUES, GROUPS } from '../../shared/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { openStore } from '../../shared/store/open.ts';
import { FOREGROUND_FINALIZER, ORPHAN_FINALIZER, type StoredEvent } from '../../shared/store/store.ts';
import { ChangeFeed } from '../../shared/store/changefeed.ts';
import { WorkQueue } from '../../shared/queue/workqueue.ts';
import { EventRecorder } from '../../shared/events.ts';
import { controllerOf } from '../../shared/api/podutil.ts';
import { ReplicaSetController } from './replicaset/controller.ts';
import { DeploymentController } from './deployment/controller.ts';
import { GarbageCollector } from './gc/controller.ts';
import { NamespaceController } from './namespace/controller.ts';
import { JobController } from './job/controller.ts';
import { CronJobController } from './cronjob/controller.ts';
import { EndpointsController } from './endpoints/controller.ts';
import { EndpointSliceController } from './endpointslice/controller.ts';
import { DaemonSetController } from './daemonset/controller.ts';
import { StatefulSetController } from './statefulset/controller.ts';
import { PersistentVolumeController } from './volume/controller.ts';
import { podClaimNames, type PersistentVolume, type PersistentVolumeClaim, type StorageClass } from '../../shared/api/storage.ts';
import { NODES_KEY, ServiceLoadBalancerController } from './service-lb/controller.ts';
import { concernsServiceLb } from './service-lb/plan.ts';
import { NodeLifecycleController } from './node-lifecycle/controller.ts';
import { DisruptionController } from './disruption/controller.ts';
import { NodeIpamController } from './node-ipam/controller.ts';
import { parseCidr } from '../../shared/pod-cidr.ts';
import { LEASE_NAMESPACE } from './node-lifecycle/plan.ts';
import { ServiceAccountsController } from './serviceaccount/controller.ts';
import { RootCaPublisher } from './root-ca/controller.ts';
import { DEFAULT_SERVICE_ACCOUNT, ROOT_CA_CONFIGMAP } from '../../shared/auth/service-account-admission.ts';
import { Informer } from '../../shared/store/informer.ts';
import { ClusterRoleAggregationController } from './clusterrole-aggregation/controller.ts';
import { RESOURCE_QUOTA_WATCHES, ResourceQuotaController } from './resourcequota/controller.ts';
import { HPA_RESOURCE, HorizontalPodAutoscalerController } from './hpa/controller.ts';
import { HistoryStore } from './hpa/history.ts';
import { readPodUsage } from '../../shared/resource-metrics.ts';
import { ScaledObjectController } from './scaledobject/controller.ts';
import { HttpScaledObjectController } from './http-scaler/controller.ts';
import { redisTrafficSource } from './http-scaler/traffic-source.ts';
import { structuralErrors } from '../../shared/api/validation.ts';
import { strategyFor } from '../../shared/registry/registry.ts';
import { CustomKindsSync } from '../../shared/store/custom-kinds-sync.ts';
import { WebhookConfigSync } from '../../shared/store/webhook-config-sync.ts';
import { AdmissionPolicySync } from '../../shared/store/admission-policy-sync.ts';
import { CrdCleanupController } from './crd/controller.ts';
import { CRD_PLURAL } from '../../shared/registry/kinds/customresourcedefinition.ts';

const config = loadConfig();
const log = createLogger('controller-manager', config.common.logLevel);
const { connect, redis, keys, store } = openStore(config, log);
const identity = `${hostname()}-${process.pid}`;
// The schemas of what the controllers write most, compiled now rather than by the first write that
// needs them (a Pod's takes 0.2 s on a quiet machine, seconds on a loaded one): otherwise the first
// pods of a Deployment woken from zero would wait for it.
for (const resource of ['pods', 'replicasets', 'deployments']) structuralErrors(strategyFor(resource).schema!, {});
const recorder = (component: string) => new EventRecorder(store, component, identity, log);

const replicaSets = new ReplicaSetController(store, recorder('replicaset-controller'));
const deployments = new DeploymentController(store, recorder('deployment-controller'));
const daemonSets = new DaemonSetController(store, recorder('daemonset-controller'));
const statefulSets = new StatefulSetController(store, recorder('statefulset-controller'));
const gc = new GarbageCollector(store);
// Volumes, claims and classes: the PV controller matches every pending claim against them.
const volumeInformer = new Informer<PersistentVolume>({ store, resource: 'persistentvolumes', connection: connect(), log });
const claimInformer = new Informer<PersistentVolumeClaim>({ store, resource: 'persistentvolumeclaims', connection: connect(), log });
const classInformer = new Informer<StorageClass>({ store, resource: 'storageclasses', connection: connect(), log });
const volumes = new PersistentVolumeController(store, recorder('persistentvolume-controller'), (key) => queues.claims.add(key), {
  caughtUp: async () => {
    const deadline = Date.now() + 5000;
    await Promise.all([volumeInformer.caughtUp(deadline), classInformer.caughtUp(deadline)]);
  },
  volumes: () => volumeInformer.list(),
  classes: () => classInformer.list(),
});
/** Claims not bound yet: a new or freed volume, or a new class, may be what they wait for. */
const pendingClaims = () => claimInformer.list().filter((c) => !c.spec?.volumeName).map(nsKey);
const namespaces = new NamespaceController(store);
const jobs = new JobController(store, recorder('job-controller'));
const cronJobs = new CronJobController(store, recorder('cronjob-controller'));
const endpoints = new EndpointsController(store);
const endpointSlices = new EndpointSliceController(store);
const nodeLifecycle = new NodeLifecycleController(store, recorder('node-controller'), recorder('taint-eviction-controller'), { graceMs: config.controller.nodeMonitorGraceMs, log });
const disruption = new DisruptionController(store);
// Per-node pod CIDRs only when the pod network spans hosts (WHARF_CLUSTER_CIDR).
const nodeIpam = config.network.clusterCidr ? new NodeIpamController(store, recorder('node-ipam-controller'), parseCidr(config.network.clusterCidr)!, config.network.nodeCidrMaskSize, log) : undefined;
const serviceAccounts = new ServiceAccountsController(store);
const rootCa = new RootCaPublisher(store);
// ClusterRoles are few and every change concerns every aggregated one: a cache of them all.
const clusterRoles = new Informer({
  store,
  resource: 'clusterroles',
  connection: connect(),
  log,
  onChange: () => void queues.clusterRoleAggregation.addAll(clusterRoleAggregation.aggregatedRoles()).catch((err) => log.warn({ err: err.message }, 'could not enqueue aggregated cluster roles')),
});
const clusterRoleAggregation = new ClusterRoleAggregationController(store, clusterRoles);
const quotaInformer = new Informer({ store, resource: 'resourcequotas', connection: connect(), log });
// Services, PodDisruptionBudgets and DaemonSets: few, and every pod or node change asks which of
// them it concerns. Asked of Redis, that was a list per event; a cache answers from memory. A cache
// that lags a new one loses nothing: its own event reconciles it against the pods and nodes.
const serviceInformer = new Informer({ store, resource: 'services', connection: connect(), log });
const budgetInformer = new Informer({ store, resource: 'poddisruptionbudgets', connection: connect(), log });
const daemonSetInformer = new Informer({ store, resource: 'daemonsets', connection: connect(), log });
const followers = [serviceInformer, budgetInformer, daemonSetInformer];
const resourceQuotas = new ResourceQuotaController(store, quotaInformer);
const hpas = new HorizontalPodAutoscalerController(
  store,
  recorder('horizontal-pod-autoscaler'),
  (namespace) => readPodUsage(redis, keys, namespace, config.controller.hpa.metricsMaxAgeMs),
  new HistoryStore(redis, keys),
  config.controller.hpa,
  log,
);
const scaledObjects = new ScaledObjectController(store, recorder('keda-operator'), {
  redis,
  keys,
  log,
  scalerTimeoutMs: config.controller.kedaScalerTimeoutMs,
  // KEDA hands its cpu trigger to an HPA: the HPA's freshness limit applies.
  metricsMaxAgeMs: config.controller.hpa.metricsMaxAgeMs,
});
// HTTPScaledObjects: a cache, to map a Service, a Deployment or a proxy's activation message to them.
const httpScaledObjects = new Informer({ store, resource: 'httpscaledobjects', connection: connect(), log });
const httpScaler = new HttpScaledObjectController(store, httpScaledObjects, redisTrafficSource(redis, keys, config.network.trafficReportMs), recorder('keda-http-add-on'), { syncMs: config.controller.httpScalerSyncMs });
// Proxies holding connections for a Service at zero say so here: its HTTPScaledObjects run at once.
const activations = connect();
activations.on('message', (_channel: string, service: string) => {
  const [namespace, name] = service.split('/');
  for (const key of httpScaler.keysFor(namespace, { service: name })) {
    void httpScaler.activate(key).catch((err) => log.warn({ err: err.message, key }, 'could not activate'));
    void queues.httpScaledObjects.add(key).catch((err) => log.warn({ err: err.message }, 'could not enqueue an activation'));
  }
});
const crdCleanup = new CrdCleanupController(store);
const serviceLb = new ServiceLoadBalancerController(store, recorder('service-controller'), (keys) => queues.serviceLb.addAll(keys));

function queue(name: string, reconcile: (key: string) => Promise<any>): WorkQueue {
  return new WorkQueue({
    name: QUEUES.controller(name),
    keys,
    redis,
    connect,
    reconcile,
    log,
    concurrency: config.controller.concurrency,
  });
}

const queues = {
  deployments: queue('deployment', (k) => deployments.reconcile(k)),
  replicasets: queue('replicaset', (k) => replicaSets.reconcile(k)),
  daemonsets: queue('daemonset', (k) => daemonSets.reconcile(k)),
  statefulsets: queue('statefulset', (k) => statefulSets.reconcile(k)),
  gc: queue('gc', (k) => gc.reconcile(k)),
  claims: queue('persistentvolumeclaim', (k) => volumes.reconcileClaim(k)),
  volumes: queue('persistentvolume', (k) => volumes.reconcileVolume(k)),
  namespaces: queue('namespace', (k) => namespaces.reconcile(k)),
  jobs: queue('job', (k) => jobs.reconcile(k)),
  cronjobs: queue('cronjob', (k) => cronJobs.reconcile(k)),
  endpoints: queue('endpoints', (k) => endpoints.reconcile(k)),
  endpointSlices: queue('endpointslice', (k) => endpointSlices.reconcile(k)),
  serviceLb: queue('service-lb', (k) => serviceLb.reconcile(k)),
  nodeLifecycle: queue('node-lifecycle', (k) => nodeLifecycle.reconcile(k)),
  disruption: queue('disruption', (k) => disruption.reconcile(k)),
  ...(nodeIpam ? { nodeIpam: queue('node-ipam', (k) => nodeIpam.reconcile(k)) } : {}),
  serviceAccounts: queue('serviceaccount', (k) => serviceAccounts.reconcile(k)),
  rootCa: queue('root-ca-cert-publisher', (k) => rootCa.reconcile(k)),
  clusterRoleAggregation: queue('clusterrole-aggregation', (k) => clusterRoleAggregation.reconcile(k)),
  resourceQuotas: queue('resourcequota', (k) => resourceQuotas.reconcile(k)),
  hpas: queue('horizontal-pod-autoscaler', (k) => hpas.reconcile(k)),
  scaledObjects: queue('scaledobject', (k) => scaledObjects.reconcile(k)),
  httpScaledObjects: queue('httpscaledobject', (k) => httpScaler.reconcile(k)),
  crdCleanup: queue('crd-finalizer', (k) => crdCleanup.reconcile(k)),
};

const nsKey = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;

/** Maps one change to the keys it concerns. Cheap, idempotent: duplicates collapse in the queues. */
async function onChange(resource: string, ev: StoredEvent): Promise<void> {
  const obj = ev.object;
  const owner = controllerOf(obj);
  if (RESOURCE_QUOTA_WATCHES.includes(resource)) await queues.resourceQuotas.addAll(resourceQuotas.keysFor(resource, obj));
  switch (resource) {
    case 'deployments':
      await queues.deployments.add(nsKey(obj));
      await queues.httpScaledObjects.addAll(httpScaler.keysFor(obj.metadata.namespace!, { deployment: obj.metadata.name }));
      break;
    case 'httpscaledobjects':
      await queues.httpScaledObjects.add(nsKey(obj));
      break;
    case 'replicasets':
      await queues.replicasets.add(nsKey(obj));
      if (owner?.kind === 'Deployment') await queues.deployments.add(`${obj.metadata.namespace}/${owner.name}`);
      break;
    case 'pods':
      if (owner?.kind === 'ReplicaSet') await queues.replicasets.add(`${obj.metadata.namespace}/${owner.name}`);
      if (owner?.kind === 'DaemonSet') await queues.daemonsets.add(`${obj.metadata.namespace}/${owner.name}`);
      if (owner?.kind === 'StatefulSet') await queues.statefulsets.add(`${obj.metadata.namespace}/${owner.name}`);
      if (owner?.kind === 'Job') await queues.jobs.add(`${obj.metadata.namespace}/${owner.name}`);
      await enqueueServicesOf(obj);
      if (obj.spec?.nodeName) await queues.nodeLifecycle.add(obj.spec.nodeName);
      await queues.disruption.addAll(disruption.budgetsOf(obj, budgetInformer.list()));
      // pvc-protection: a claim being deleted waits for the pods that use it.
      await queues.claims.addAll(podClaimNames(obj as any).map((c) => `${obj.metadata.namespace}/${c}`));
      break;
    case 'persistentvolumeclaims':
      await queues.claims.add(nsKey(obj));
      if (obj.spec?.volumeName) await queues.volumes.add(obj.spec.volumeName);
      break;
    case 'persistentvolumes':
      await queues.volumes.add(obj.metadata.name!);
      if (obj.spec?.claimRef?.name) await queues.claims.add(`${obj.spec.claimRef.namespace}/${obj.spec.claimRef.name}`);
      // A new or freed volume may be the one a pending claim waits for.
      await queues.claims.addAll(pendingClaims());
      break;
    case 'storageclasses':
      await queues.claims.addAll(pendingClaims());
      break;
    case 'poddisruptionbudgets':
      await queues.disruption.add(nsKey(obj));
      break;
    case HPA_RESOURCE:
      // As Kubernetes' HPA queue: every add waits one sync period and collapses with the one pending.
      await queues.hpas.add(nsKey(obj), hpas.syncPeriodMs);
      break;
    case 'services':
      await queues.endpoints.add(nsKey(obj));
      await queues.endpointSlices.add(nsKey(obj));
      if (concernsServiceLb(obj)) await queues.serviceLb.add(nsKey(obj));
      await queues.httpScaledObjects.addAll(httpScaler.keysFor(obj.metadata.namespace!, { service: obj.metadata.name }));
      break;
    case 'nodes':
      await queues.serviceLb.add(NODES_KEY);
      await queues.nodeLifecycle.add(obj.metadata.name!);
      await queues.nodeIpam?.add(obj.metadata.name!);
      // Any node change may start or stop a daemon pod there: every DaemonSet looks again.
      await queues.daemonsets.addAll(daemonSetInformer.list().map(nsKey));
      break;
    case 'leases':
      if (obj.metadata.namespace === LEASE_NAMESPACE) await queues.nodeLifecycle.add(obj.metadata.name!);
      break;
    case 'endpointslices':
      // Whoever changed or deleted a slice, its Service's slices are reconciled again, a second
      // later (Kubernetes' endpointSliceChangeMinSyncDelay), so a burst of slice writes costs one.
      if (obj.metadata.labels?.['kubernetes.io/service-name']) await queues.endpointSlices.add(`${obj.metadata.namespace}/${obj.metadata.labels['kubernetes.io/service-name']}`, 1000);
      break;
    case 'daemonsets':
      await queues.daemonsets.add(nsKey(obj));
      break;
    case 'statefulsets':
      await queues.statefulsets.add(nsKey(obj));
      break;
    case 'jobs':
      await queues.jobs.add(nsKey(obj));
      if (owner?.kind === 'CronJob') await queues.cronjobs.add(`${obj.metadata.namespace}/${owner.name}`);
      break;
    case 'cronjobs':
      await queues.cronjobs.add(nsKey(obj));
      break;
    case 'namespaces':
      if (obj.metadata.deletionTimestamp) await queues.namespaces.add(obj.metadata.name!);
      else {
        await queues.serviceAccounts.add(obj.metadata.name!);
        await queues.rootCa.add(obj.metadata.name!);
      }
      break;
    case 'serviceaccounts':
      if (ev.type === 'DELETED' && obj.metadata.name === DEFAULT_SERVICE_ACCOUNT) await queues.serviceAccounts.add(obj.metadata.namespace!);
      break;
    case 'configmaps':
      if (obj.metadata.name === ROOT_CA_CONFIGMAP) await queues.rootCa.add(obj.metadata.namespace!);
      break;
    case 'scaledobjects':
      // Its own status writes come back here too: the reconcile polls no more often than pollingInterval.
      await queues.scaledObjects.add(nsKey(obj));
      break;
    case CRD_PLURAL:
      if (obj.metadata.deletionTimestamp) await queues.crdCleanup.add(obj.metadata.name!);
      break;
  }
  const finalizers = obj.metadata.finalizers ?? [];
  if (ev.type === 'DELETED') {
    if (await redis.exists(keys.dependents(obj.metadata.uid!))) await queues.gc.add(obj.metadata.uid!);
    // An owner deleted in the foreground waits for this dependent.
    for (const ref of obj.metadata.ownerReferences ?? []) await queues.gc.add(ref.uid);
  } else if (obj.metadata.deletionTimestamp && (finalizers.includes(ORPHAN_FINALIZER) || finalizers.includes(FOREGROUND_FINALIZER))) {
    await queues.gc.add(obj.metadata.uid!);
  }
}

/**
 * A pod change concerns every Service in its namespace that selects pods: its labels may have
 * started or stopped matching, and nothing in the event says what they were before.
 */
async function enqueueServicesOf(pod: KubeObject): Promise<void> {
  const selecting = serviceInformer.list().filter((s) => s.metadata.namespace === pod.metadata.namespace && Object.keys(s.spec?.selector ?? {}).length).map(nsKey);
  await queues.endpoints.addAll(selecting);
  await queues.endpointSlices.addAll(selecting);
}

/** Enqueues everything of a resource: the start-up sync, the periodic safety net, and recovery after a gap. */
async function resync(resource: string): Promise<void> {
  switch (resource) {
    case 'deployments':
      await queues.deployments.addAll((await store.list('deployments')).items.map(nsKey));
      break;
    case 'replicasets':
      await queues.replicasets.addAll((await store.list('replicasets')).items.map(nsKey));
      break;
    case 'daemonsets':
      await queues.daemonsets.addAll((await store.list('daemonsets')).items.map(nsKey));
      break;
    case 'statefulsets':
      await queues.statefulsets.addAll((await store.list('statefulsets')).items.map(nsKey));
      break;
    case 'jobs':
      await queues.jobs.addAll((await store.list('jobs')).items.map(nsKey));
      break;
    case 'persistentvolumeclaims':
      await queues.claims.addAll((await store.list('persistentvolumeclaims')).items.map(nsKey));
      break;
    case 'persistentvolumes':
      await queues.volumes.addAll((await store.list('persistentvolumes')).items.map((v) => v.metadata.name!));
      break;
    case 'services': {
      const { items } = await store.list('services');
      await queues.endpoints.addAll(items.map(nsKey));
      await queues.serviceLb.addAll(items.filter(concernsServiceLb).map(nsKey));
      break;
    }
    case 'nodes':
      await queues.serviceLb.add(NODES_KEY);
      await queues.nodeLifecycle.addAll(await nodeLifecycle.resyncKeys());
      if (nodeIpam) await queues.nodeIpam?.addAll(await nodeIpam.resyncKeys());
      break;
    case 'poddisruptionbudgets':
      await queues.disruption.addAll((await store.list('poddisruptionbudgets')).items.map(nsKey));
      break;
    case 'cronjobs':
      await queues.cronjobs.addAll((await store.list('cronjobs')).items.map(nsKey));
      break;
    case 'endpointslices':
      await queues.endpointSlices.addAll((await store.list('services')).items.map(nsKey));
      break;
    case 'namespaces': {
      const { items } = await store.list('namespaces');
      await queues.namespaces.addAll(items.filter((n) => n.metadata.deletionTimestamp).map((n) => n.metadata.name!));
      const active = items.filter((n) => !n.metadata.deletionTimestamp).map((n) => n.metadata.name!);
      await queues.serviceAccounts.addAll(active);
      await queues.rootCa.addAll(active);
      break;
    }
    case 'resourcequotas':
      await queues.resourceQuotas.addAll(resourceQuotas.allKeys());
      break;
    case HPA_RESOURCE:
      for (const hpa of (await store.list(HPA_RESOURCE)).items) await queues.hpas.add(nsKey(hpa), hpas.syncPeriodMs);
      break;
    case 'scaledobjects': {
      const all = (await store.list('scaledobjects')).items.map(nsKey);
      scaledObjects.sweep(all);
      await queues.scaledObjects.addAll(all);
      break;
    }
    case 'httpscaledobjects':
      await queues.httpScaledObjects.addAll((await store.list('httpscaledobjects')).items.map(nsKey));
      break;
    case CRD_PLURAL:
      await queues.crdCleanup.addAll((await store.list(CRD_PLURAL)).items.filter((c) => c.metadata.deletionTimestamp).map((c) => c.metadata.name!));
      break;
    case 'pods': {
      // Orphans whose owner vanished while nobody listened: the collector finds them by owner uid.
      let cursor = '0';
      do {
        const [next, found] = await redis.scan(cursor, 'MATCH', keys.dependents('*'), 'COUNT', 1000);
        cursor = next;
        for (const key of found) {
          const uid = key.slice(keys.dependents('').length);
          if (!(await store.locateUid(uid))) await queues.gc.add(uid);
        }
      } while (cursor !== '0');
      await queues.replicasets.addAll((await store.list('replicasets')).items.map(nsKey));
      break;
    }
  }
}

const resources = ['deployments', 'replicasets', 'pods', 'namespaces', 'jobs', 'cronjobs', 'services', 'nodes', 'leases', 'poddisruptionbudgets', 'daemonsets', 'statefulsets', 'endpointslices', 'serviceaccounts', 'resourcequotas', 'configmaps', 'secrets', 'persistentvolumeclaims', 'persistentvolumes', 'storageclasses', HPA_RESOURCE, 'httpscaledobjects', 'scaledobjects', CRD_PLURAL];
const feed = new ChangeFeed({
  keys,
  encryption: store.encryption,
  connection: connect(),
  group: GROUPS.controller('manager'),
  consumer: identity,
  resources,
  handle: onChange,
  onGap: resync,
  log,
  gatherMs: config.controller.feedGatherMs,
});

// The kinds CRDs define: installed here too (the collector, the namespace controller and the
// HPA reach custom resources through the store), and followed by a change feed of their own,
// started again whenever the set of custom kinds changes, so the collector hears of a custom
// owner's deletion as of a built-in one's.
let customFeed: ChangeFeed | undefined;
let customPlurals = '';
const customKinds = new CustomKindsSync(store, connect(), keys, log, (crds) => {
  const plurals = crds.map((c) => c.spec?.names?.plural).filter((p): p is string => typeof p === 'string').sort();
  if (plurals.join(',') === customPlurals) return;
  customPlurals = plurals.join(',');
  const previous = customFeed;
  customFeed = plurals.length ? new ChangeFeed({ keys, encryption: store.encryption, connection: connect(), group: GROUPS.controller('manager-custom'), consumer: identity, resources: plurals, handle: onChange, onGap: async () => {}, log }) : undefined;
  const next = customFeed;
  void (async () => {
    await previous?.stop();
    await next?.start();
  })().catch((err) => log.warn({ err: err.message }, 'could not follow the custom resources'));
});
await customKinds.start();
// Admission webhooks: the controllers' writes are admitted as users' are.
const webhookConfigs = new WebhookConfigSync(store, connect(), keys, log);
await webhookConfigs.start();
// Validating admission policies: the controllers' writes are held to them as users' are.
const admissionPolicies = new AdmissionPolicySync(store, connect(), keys, log);
await admissionPolicies.start();

for (const q of Object.values(queues)) q.start();
await quotaInformer.start();
for (const i of [volumeInformer, claimInformer, classInformer]) await i.start();
await httpScaledObjects.start();
await Promise.all(followers.map((i) => i.start()));
await activations.subscribe(keys.activationChannel);
await feed.start();
await clusterRoles.start();
/**
 * Whether this replica runs this period's resync: the first replica to ask in a period does. The
 * queues collapse the keys a resync enqueues, but not the lists that find them: with every
 * replica resyncing, N replicas would read every object N times a period. (The turn lapses a
 * tenth of a period early, so that a replica's next turn is not lost to its own last one.)
 */
async function takeResyncTurn(): Promise<boolean> {
  const leaseMs = Math.max(100, Math.floor(config.controller.resyncMs * 0.9));
  return (await redis.set(keys.resyncTurn('controller-manager'), identity, 'PX', leaseMs, 'NX')) === 'OK';
}

async function resyncEverything(): Promise<void> {
  for (const r of resources) await resync(r).catch((err) => log.warn({ err: err.message, r }, 'resync failed'));
  await queues.clusterRoleAggregation.addAll(clusterRoleAggregation.aggregatedRoles());
}

/** What each replica keeps of its own: the scalers' connections of ScaledObjects that are gone are closed. */
async function upkeep(): Promise<void> {
  scaledObjects.sweep((await store.list('scaledobjects')).items.map(nsKey));
}

const resyncPass = () =>
  takeResyncTurn()
    .then((mine) => {
      log.debug({ mine }, 'resync turn');
      return mine ? resyncEverything() : upkeep();
    })
    .catch((err) => log.warn({ err: err.message }, 'resync failed'));
await resyncPass();
const resyncTimer = setInterval(() => void resyncPass(), config.controller.resyncMs);
const metricsEndpoint = await serveMetrics(config.controller.metricsPort, config.common.metricsBindAddress, log);
log.info({ identity }, 'controller manager started');

async function shutdown(signal: string) {
  log.info({ signal }, 'shutting down');
  clearInterval(resyncTimer);
  await feed.stop();
  await customKinds.stop();
  await webhookConfigs.stop();
  await admissionPolicies.stop();
  await customFeed?.stop();
  await clusterRoles.stop();
  await quotaInformer.stop();
  for (const i of [volumeInformer, claimInformer, classInformer]) await i.stop();
  await httpScaledObjects.stop();
  await Promise.all(followers.map((i) => i.stop()));
  activations.disconnect();
  await Promise.all(Object.values(queues).map((q) => q.close()));
  scaledObjects.close();
  redis.disconnect();
  metricsEndpoint.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
