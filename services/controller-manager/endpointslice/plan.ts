// Pure decision of the EndpointSlice controller, as Kubernetes' endpointslice reconciler
// (staging/src/k8s.io/endpointslice) makes it: given a Service, the pods in its namespace, the
// nodes they run on and the slices this controller already manages for it, which slices to
// create, update and delete.
//
// - One set of slices per address type the Service serves (spec.ipFamilies), and within it one
//   group per set of resolved ports: a targetPort by name can resolve to different numbers in
//   different pods, and each slice carries one port list.
// - Every pod with an IP that has not finished is an endpoint, terminating ones included:
//   serving is its readiness, terminating its deletionTimestamp, and ready is serving and not
//   terminating (or publishNotReadyAddresses).
// - Existing slices are reused so that names stay stable and nothing churns: endpoints stay in
//   the slice that has them, changed endpoints are updated in place, new ones fill the slices
//   being updated anyway before an unchanged slice that can take them all, and only then a new
//   slice; at most 100 endpoints per slice. A creation that would pair with a deletion becomes an
//   update of the slice that would have gone.
// - A Service with no endpoints still has one empty "placeholder" slice.
import { isIP } from 'node:net';
import type { KubeObject, OwnerReference, Pod } from '../../../shared/types.ts';
import { isPodReady } from '../../../shared/api/podutil.ts';
import { selectorMatches } from '../../../shared/api/selectors.ts';
import { deepEqual } from '../../../shared/util.ts';

export const LABEL_SERVICE_NAME = 'kubernetes.io/service-name';
export const LABEL_MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
export const LABEL_HEADLESS = 'service.kubernetes.io/headless';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
/** kube-controller-manager's --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

export type AddressType = 'IPv4' | 'IPv6' | 'FQDN';

export interface EndpointPort {
  name: string;
  protocol: string;
  port: number;
  appProtocol?: string;
}

export interface Endpoint {
  addresses: string[];
  conditions: { ready?: boolean; serving?: boolean; terminating?: boolean };
  hostname?: string;
  targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string; apiVersion?: string; resourceVersion?: string; fieldPath?: string };
  nodeName?: string;
  zone?: string;
  [other: string]: unknown;
}

export interface EndpointSlice extends KubeObject {
  addressType: string;
  /** null when empty, as Kubernetes writes it. */
  endpoints: Endpoint[] | null;
  ports: EndpointPort[] | null;
}

export interface SliceInputs {
  service: KubeObject;
  /** The pods of the Service's namespace (or any superset: the selector is applied here). */
  pods: Pod[];
  /** The nodes the selected pods run on (more do no harm); a pod on an unknown node is left out. */
  nodes: KubeObject[];
  /** The EndpointSlices of the Service's namespace (only the ones this controller manages for it count). */
  slices: EndpointSlice[];
  /** Written to the last-change-trigger-time annotation of every slice created or updated. */
  triggerTime?: string;
  maxEndpointsPerSlice?: number;
}

export interface SlicePlan {
  create: EndpointSlice[];
  /** Whole objects, carrying the resourceVersion of the slice they replace. */
  update: EndpointSlice[];
  delete: EndpointSlice[];
  /** Pods left out because their node does not exist: Kubernetes writes the rest and retries. */
  podsOnUnknownNodes: string[];
}

/** Whether this controller maintains the Service's slices: it selects pods and is not an ExternalName. */
export function managesSlicesOf(svc: KubeObject): boolean {
  return svc.spec?.type !== 'ExternalName' && Object.keys(svc.spec?.selector ?? {}).length > 0;
}

/** The pods a Service selects (namespace and labels), whatever their state. */
export function selectedPods(svc: KubeObject, pods: Pod[]): Pod[] {
  const selector = svc.spec?.selector as Record<string, string> | undefined;
  if (!selector || !Object.keys(selector).length) return [];
  return pods.filter((p) => p.metadata.namespace === svc.metadata.namespace && selectorMatches({ matchLabels: selector }, p.metadata.labels ?? {}));
}

/** The slices this controller manages for the Service: labelled with its name and our name, not being deleted. */
export function managedSlicesOf(svc: KubeObject, slices: EndpointSlice[]): EndpointSlice[] {
  return slices.filter((s) =>
    s.metadata.namespace === svc.metadata.namespace &&
    s.metadata.labels?.[LABEL_SERVICE_NAME] === svc.metadata.name &&
    s.metadata.labels?.[LABEL_MANAGED_BY] === CONTROLLER_NAME &&
    !s.metadata.deletionTimestamp);
}

/** The address types of a Service's slices: its IP families, or failing those its cluster IP's, or both. */
export function addressTypesOf(svc: KubeObject): AddressType[] {
  const types = new Set<AddressType>();
  for (const family of svc.spec?.ipFamilies ?? []) {
    if (family === 'IPv4') types.add('IPv4');
    if (family === 'IPv6') types.add('IPv6');
  }
  if (types.size) return [...types];
  const clusterIP = svc.spec?.clusterIP;
  if (clusterIP && clusterIP !== 'None') return [isIP(clusterIP) === 6 ? 'IPv6' : 'IPv4'];
  return ['IPv4', 'IPv6'];
}

/** Kubernetes' FindPort: a number as is; a name among the containers' (and sidecars') ports of the same protocol. */
export function findPort(pod: Pod, svcPort: any): number | undefined {
  const target = svcPort.targetPort ?? svcPort.port;
  if (typeof target === 'number') return target;
  const protocol = svcPort.protocol ?? 'TCP';
  const sidecars = (pod.spec.initContainers ?? []).filter((c) => c.restartPolicy === 'Always');
  for (const c of [...pod.spec.containers, ...sidecars]) {
    const p = (c.ports ?? []).find((x) => x.name === target && (x.protocol ?? 'TCP') === protocol);
    if (p) return p.containerPort;
  }
  return undefined;
}

/** The ports of a pod's endpoint: each Service port whose target resolves in this pod. */
export function endpointPorts(svc: KubeObject, pod: Pod): EndpointPort[] {
  const ports: any[] = svc.spec?.ports ?? [];
  const out: EndpointPort[] = [];
  for (const sp of ports) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({ name: sp.name ?? '', protocol: sp.protocol ?? 'TCP', port, ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

/** Kubernetes' ShouldPodBeInEndpoints, terminating pods included: not finished, and an IP. */
function podHasEndpoint(pod: Pod): boolean {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  return podIPs(pod).length > 0;
}

function podIPs(pod: Pod): string[] {
  const listed = ((pod.status as any)?.podIPs ?? []).map((x: any) => x?.ip).filter(Boolean) as string[];
  if (listed.length) return listed;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

/** Kubernetes' podToEndpoint: the endpoint of a pod for one address type (no addresses if it has none of that family). */
export function podToEndpoint(pod: Pod, node: KubeObject | undefined, svc: KubeObject, addressType: AddressType): Endpoint {
  const serving = isPodReady(pod);
  const terminating = !!pod.metadata.deletionTimestamp;
  const ready = !!svc.spec?.publishNotReadyAddresses || (serving && !terminating);
  const family = addressType === 'IPv6' ? 6 : 4;
  const hostname = pod.spec.hostname && pod.spec.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace ? pod.spec.hostname : undefined;
  const zone = node?.metadata.labels?.[LABEL_ZONE];
  return {
    addresses: addressType === 'FQDN' ? [] : podIPs(pod).filter((ip) => isIP(ip) === family),
    conditions: { ready, serving, terminating },
    ...(hostname ? { hostname } : {}),
    targetRef: { kind: 'Pod', namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid! },
    ...(pod.spec.nodeName ? { nodeName: pod.spec.nodeName } : {}),
    ...(zone ? { zone } : {}),
  };
}

/** What identifies an endpoint across syncs (Kubernetes' hashEndpoint): addresses, hostname, pod. */
function endpointKey(ep: Endpoint): string {
  return JSON.stringify([[...(ep.addresses ?? [])].sort(), ep.hostname ?? '', ep.targetRef?.namespace ?? '', ep.targetRef?.name ?? '']);
}

/** Kubernetes' EndpointsEqualBeyondHash: node, zone, conditions and target (its resourceVersion aside). */
function sameBeyondKey(a: Endpoint, b: Endpoint): boolean {
  const ref = (e: Endpoint) => {
    if (!e.targetRef) return undefined;
    const { resourceVersion: _ignored, ...rest } = e.targetRef;
    return rest;
  };
  return a.nodeName === b.nodeName && a.zone === b.zone &&
    a.conditions?.ready === b.conditions?.ready && a.conditions?.serving === b.conditions?.serving && a.conditions?.terminating === b.conditions?.terminating &&
    deepEqual(ref(a), ref(b));
}

/** The group a port list belongs to, whatever its order. */
function portsKey(ports: EndpointPort[] | null | undefined): string {
  return JSON.stringify((ports ?? []).map((p) => JSON.stringify([p.name ?? '', p.protocol ?? '', p.port ?? null, p.appProtocol ?? null])).sort());
}

function ownedBy(slice: EndpointSlice, svc: KubeObject): boolean {
  return (slice.metadata.ownerReferences ?? []).some((o) => o.uid === svc.metadata.uid && o.kind === 'Service' && o.apiVersion === 'v1');
}

const isReservedLabel = (k: string) => k === LABEL_SERVICE_NAME || k === LABEL_MANAGED_BY || k === LABEL_HEADLESS;

/**
 * Kubernetes' setEndpointSliceLabels: the Service's labels plus the reserved ones (service name,
 * managed-by, headless when it has no cluster IP); changed says whether the slice's own
 * non-reserved labels differ from the Service's.
 */
export function sliceLabels(svc: KubeObject, slice?: EndpointSlice): { labels: Record<string, string>; changed: boolean } {
  const own = Object.fromEntries(Object.entries(slice?.metadata.labels ?? {}).filter(([k]) => !isReservedLabel(k)));
  const labels: Record<string, string> = Object.fromEntries(Object.entries(svc.metadata.labels ?? {}).filter(([k]) => !isReservedLabel(k)));
  const changed = !deepEqual(own, labels);
  const clusterIP = svc.spec?.clusterIP;
  if (!clusterIP || clusterIP === 'None') labels[LABEL_HEADLESS] = '';
  labels[LABEL_SERVICE_NAME] = svc.metadata.name!;
  labels[LABEL_MANAGED_BY] = CONTROLLER_NAME;
  return { labels, changed };
}

function controllerRef(svc: KubeObject): OwnerReference {
  return { apiVersion: 'v1', kind: 'Service', name: svc.metadata.name!, uid: svc.metadata.uid!, controller: true, blockOwnerDeletion: true };
}

/** A new, empty slice for the Service (named by the API server from `<service>-`). */
function newSlice(svc: KubeObject, addressType: AddressType, ports: EndpointPort[]): EndpointSlice {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { generateName: `${svc.metadata.name}-`, namespace: svc.metadata.namespace, labels: sliceLabels(svc).labels, ownerReferences: [controllerRef(svc)] },
    addressType,
    endpoints: [],
    ports,
  };
}

/** Kubernetes' placeholderSliceCompare: same namespace, labels, address type, and nothing in it. */
function isPlaceholderLike(slice: EndpointSlice, placeholder: EndpointSlice): boolean {
  return slice.metadata.namespace === placeholder.metadata.namespace &&
    deepEqual(slice.metadata.labels ?? {}, placeholder.metadata.labels ?? {}) &&
    slice.addressType === placeholder.addressType &&
    !(slice.endpoints ?? []).length && !(slice.ports ?? []).length;
}

const endpointCount = (s: EndpointSlice) => (s.endpoints ?? []).length;

function takeFirst(desired: Map<string, Endpoint>): Endpoint {
  const [key, ep] = desired.entries().next().value as [string, Endpoint];
  desired.delete(key);
  return ep;
}

/** Kubernetes' getSliceToFill: the slice closest to full once n more endpoints are in it, if any can take them. */
function sliceToFill(slices: EndpointSlice[], n: number, max: number): EndpointSlice | undefined {
  let best: EndpointSlice | undefined;
  let bestRoom = max;
  for (const s of slices) {
    const room = max - (n + endpointCount(s));
    if (room >= 0 && room < bestRoom) {
      bestRoom = room;
      best = s;
      if (room === 0) break;
    }
  }
  return best;
}

interface Changes {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

/** Kubernetes' reconcileByPortMapping: one group of slices with the same ports. */
function reconcilePortGroup(svc: KubeObject, existing: EndpointSlice[], desired: Map<string, Endpoint>, addressType: AddressType, ports: EndpointPort[], max: number): Changes {
  const byName = new Map<string, EndpointSlice>();
  const unchanged = new Set<string>();
  const toUpdate = new Set<string>();
  const toDelete = new Set<string>();

  // 1. Keep the endpoints still desired where they are, refreshed; drop the others.
  for (const slice of existing) {
    const name = slice.metadata.name!;
    byName.set(name, slice);
    const kept: Endpoint[] = [];
    let refreshed = false;
    for (const ep of slice.endpoints ?? []) {
      const key = endpointKey(ep);
      const want = desired.get(key);
      if (!want) continue;
      kept.push(want);
      if (!sameBeyondKey(want, ep)) refreshed = true;
      desired.delete(key);
    }
    const { labels, changed } = sliceLabels(svc, slice);
    if (refreshed || kept.length !== endpointCount(slice)) {
      if (!kept.length) toDelete.add(name);
      else {
        byName.set(name, { ...structuredClone(slice), endpoints: kept, metadata: { ...structuredClone(slice.metadata), labels } });
        toUpdate.add(name);
      }
    } else if (changed) {
      byName.set(name, { ...structuredClone(slice), metadata: { ...structuredClone(slice.metadata), labels } });
      toUpdate.add(name);
    } else {
      unchanged.add(name);
    }
  }

  // 2. New endpoints go first into the slices written anyway, fullest first.
  if (desired.size && toUpdate.size) {
    const slices = [...toUpdate].map((n) => byName.get(n)!).sort((a, b) => endpointCount(b) - endpointCount(a));
    for (const slice of slices) {
      while (desired.size && endpointCount(slice) < max) slice.endpoints!.push(takeFirst(desired));
    }
  }

  // 3. Then into one unchanged slice that can take them all, or into new slices.
  const create: EndpointSlice[] = [];
  while (desired.size) {
    let fill: EndpointSlice | undefined;
    if (desired.size < max && unchanged.size) fill = sliceToFill([...unchanged].map((n) => byName.get(n)!), desired.size, max);
    if (fill) {
      fill = structuredClone(fill);
      fill.endpoints = [...(fill.endpoints ?? [])];
      byName.set(fill.metadata.name!, fill);
    } else {
      fill = newSlice(svc, addressType, ports);
    }
    while (desired.size && endpointCount(fill) < max) fill.endpoints!.push(takeFirst(desired));
    if (fill.metadata.name) {
      toUpdate.add(fill.metadata.name);
      unchanged.delete(fill.metadata.name);
    } else {
      create.push(fill);
    }
  }
  return { create, update: [...toUpdate].map((n) => byName.get(n)!), delete: [...toDelete].map((n) => byName.get(n)!) };
}

/** Kubernetes' reconcileByAddressType plus its finalize: the changes for one address type. */
function reconcileAddressType(svc: KubeObject, pods: Pod[], nodes: Map<string, KubeObject>, existing: EndpointSlice[], addressType: AddressType, max: number, skipped: Set<string>): Changes {
  const changes: Changes = { create: [], update: [], delete: [] };
  const existingByPorts = new Map<string, EndpointSlice[]>();
  for (const slice of existing) {
    if (!ownedBy(slice, svc)) {
      changes.delete.push(slice); // a previous Service's of the same name
      continue;
    }
    const key = portsKey(slice.ports);
    existingByPorts.set(key, [...(existingByPorts.get(key) ?? []), slice]);
  }

  const desiredByPorts = new Map<string, { ports: EndpointPort[]; endpoints: Map<string, Endpoint> }>();
  for (const pod of pods) {
    if (!podHasEndpoint(pod)) continue;
    const ports = endpointPorts(svc, pod);
    const key = portsKey(ports);
    if (!desiredByPorts.has(key)) desiredByPorts.set(key, { ports, endpoints: new Map() });
    const node = nodes.get(pod.spec.nodeName ?? '');
    if (!node && !svc.spec?.publishNotReadyAddresses) {
      skipped.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
      continue;
    }
    const ep = podToEndpoint(pod, node, svc, addressType);
    if (ep.addresses.length) desiredByPorts.get(key)!.endpoints.set(endpointKey(ep), ep);
  }

  for (const [key, desired] of desiredByPorts) {
    const group = reconcilePortGroup(svc, existingByPorts.get(key) ?? [], desired.endpoints, addressType, desired.ports, max);
    changes.create.push(...group.create);
    changes.update.push(...group.update);
    changes.delete.push(...group.delete);
  }
  for (const [key, slices] of existingByPorts) {
    if (!desiredByPorts.has(key)) changes.delete.push(...slices);
  }

  // A Service without endpoints keeps one empty slice.
  if (existing.length === changes.delete.length && !changes.create.length) {
    const placeholder = newSlice(svc, addressType, []);
    if (changes.delete.length === 1 && isPlaceholderLike(changes.delete[0], placeholder)) changes.delete = [];
    else changes.create.push(placeholder);
  }

  // A creation paired with a deletion becomes an update of the slice that would have gone.
  for (let i = 0; i < changes.delete.length && changes.create.length;) {
    const gone = changes.delete[i];
    if (gone.addressType === addressType && ownedBy(gone, svc)) {
      const slice = changes.create.pop()!;
      slice.metadata = { ...slice.metadata, name: gone.metadata.name, uid: gone.metadata.uid, resourceVersion: gone.metadata.resourceVersion };
      changes.update.push(slice);
      changes.delete.splice(i, 1);
    } else {
      i++;
    }
  }
  return changes;
}

/** As Kubernetes stores them: an empty list is null. */
function finish(slice: EndpointSlice, triggerTime: string | undefined): EndpointSlice {
  const annotations = { ...slice.metadata.annotations };
  if (triggerTime) annotations[TRIGGER_TIME_ANNOTATION] = triggerTime;
  else delete annotations[TRIGGER_TIME_ANNOTATION];
  const metadata = { ...slice.metadata };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return { ...slice, metadata, endpoints: (slice.endpoints ?? []).length ? slice.endpoints : null, ports: (slice.ports ?? []).length ? slice.ports : null };
}

/** The slices to create, update and delete for a Service, or undefined when it is not this controller's to manage. */
export function planEndpointSlices(input: SliceInputs): SlicePlan | undefined {
  const { service: svc } = input;
  if (!managesSlicesOf(svc)) return undefined;
  const max = input.maxEndpointsPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const pods = selectedPods(svc, input.pods);
  const nodes = new Map(input.nodes.map((n) => [n.metadata.name!, n]));
  const types = addressTypesOf(svc);
  const existing = managedSlicesOf(svc, input.slices);
  const plan: SlicePlan = { create: [], update: [], delete: [], podsOnUnknownNodes: [] };
  const skipped = new Set<string>();
  for (const type of types) {
    const changes = reconcileAddressType(svc, pods, nodes, existing.filter((s) => s.addressType === type), type, max, skipped);
    plan.create.push(...changes.create);
    plan.update.push(...changes.update);
    plan.delete.push(...changes.delete);
  }
  // Slices of an address type the Service no longer serves go.
  plan.delete.push(...existing.filter((s) => !types.includes(s.addressType as AddressType)));
  // A Service being deleted gets no new slices: the garbage collector is removing them.
  if (svc.metadata.deletionTimestamp) plan.create = [];
  plan.create = plan.create.map((s) => finish(s, input.triggerTime));
  plan.update = plan.update.map((s) => finish(s, input.triggerTime));
  plan.podsOnUnknownNodes = [...skipped];
  return plan;
}
