// Server-side printing: the meta.k8s.io/v1 Table that `kubectl get` asks for, with the columns
// Kubernetes prints for each kind. Priority-1 columns appear with `-o wide`.
import type { Request } from 'express';
import type { KubeObject, Pod, WatchEventType } from '../../shared/types.ts';
import { type ResourceInfo, apiVersionOf } from '../../shared/api/resources.ts';
import { formatSelector } from '../../shared/api/selectors.ts';

interface Column {
  name: string;
  type?: string;
  format?: string;
  priority?: number;
  description?: string;
  cell: (obj: any, nowMs: number) => string | number;
}

export function wantsTable(req: Request): boolean {
  const accept = req.headers.accept ?? '';
  return accept.split(',')[0].includes('as=Table');
}

/** Kubernetes' HumanDuration: "45s", "5m3s", "7m", "3h12m", "2d4h", "400d", "3y". */
export function humanDuration(ms: number): string {
  // Go's Duration.Seconds() truncates toward zero.
  const s = Math.trunc(ms / 1000);
  if (s < -1) return '<invalid>';
  if (s < 0) return '0s';
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  const d = Math.floor(h / 24);
  if (h < 24 * 8) return h % 24 === 0 ? `${d}d` : `${d}d${h % 24}h`;
  if (d < 365 * 2) return `${d}d`;
  const y = Math.floor(d / 365);
  if (d < 365 * 8) return d % 365 === 0 ? `${y}y` : `${y}y${d % 365}d`;
  return `${y}y`;
}

function age(ts: string | undefined, nowMs: number): string {
  return ts ? humanDuration(nowMs - Date.parse(ts)) : '<unknown>';
}

const NAME: Column = { name: 'Name', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name };
const AGE: Column = { name: 'Age', description: 'CreationTimestamp', cell: (o, now) => age(o.metadata.creationTimestamp, now) };

/** kubectl's pod STATUS column: the most telling reason, as printPod computes it. */
export function podStatusReason(pod: Pod): string {
  let reason = pod.status?.reason || pod.status?.phase || 'Pending';
  const initStatuses = (pod.status as any)?.initContainerStatuses ?? [];
  let initializing = false;
  initStatuses.forEach((c: any, i: number) => {
    if (initializing) return;
    const t = c.state?.terminated;
    if (t && t.exitCode === 0) return;
    initializing = true;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${(pod.spec.initContainers ?? []).length}`;
  });
  if (!initializing) {
    let hasRunning = false;
    const statuses = [...(pod.status?.containerStatuses ?? [])].reverse();
    for (const c of statuses) {
      const st = c.state ?? {};
      if (st.waiting?.reason) reason = st.waiting.reason;
      else if (st.terminated?.reason) reason = st.terminated.reason;
      else if (st.terminated) reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode}`;
      else if (st.running && c.ready) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }
  // A finished pod keeps its final status while it is deleted (kubectl since 1.27).
  const finished = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
  if (pod.metadata.deletionTimestamp && !finished) reason = pod.status?.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return reason;
}

function podRestarts(pod: Pod, now: number): string {
  let restarts = 0;
  let lastRestart = 0;
  for (const c of pod.status?.containerStatuses ?? []) {
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
  }
  return lastRestart ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
}

function nodeStatus(node: any): string {
  const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

function nodeRoles(node: any): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length) || '');
  return roles.filter(Boolean).join(',') || '<none>';
}

function servicePorts(svc: any): string {
  const ports = svc.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p: any) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

function serviceExternalIp(svc: any): string {
  const type = svc.spec?.type ?? 'ClusterIP';
  const external: string[] = [...(svc.spec?.externalIPs ?? [])];
  if (type === 'LoadBalancer') {
    for (const i of svc.status?.loadBalancer?.ingress ?? []) external.push(i.ip ?? i.hostname);
    return external.length ? external.join(',') : '<pending>';
  }
  if (type === 'ExternalName') return svc.spec?.externalName ?? '<none>';
  return external.length ? external.join(',') : '<none>';
}

function endpointsList(ep: any): string {
  const out: string[] = [];
  for (const s of ep.subsets ?? []) {
    for (const a of s.addresses ?? []) {
      const ports = s.ports ?? [];
      if (!ports.length) out.push(a.ip);
      for (const p of ports) out.push(`${a.ip}:${p.port}`);
    }
  }
  if (!out.length) return '<none>';
  return out.length > 3 ? `${out.slice(0, 3).join(',')} + ${out.length - 3} more...` : out.join(',');
}

/** kubectl's listWithMoreString: the first three, then "+ N more...", or <unset> for none. */
function listWithMore(list: string[]): string {
  if (list.length > 3) return `${list.slice(0, 3).join(',')} + ${list.length - 3} more...`;
  return list.length ? list.join(',') : '<unset>';
}

function endpointSlicePorts(slice: any): string {
  return listWithMore((slice.ports ?? []).map((p: any) => (p.port != null ? String(p.port) : p.name ?? '*')));
}

function endpointSliceEndpoints(slice: any): string {
  return listWithMore((slice.endpoints ?? []).flatMap((e: any) => e.addresses ?? []));
}

function jobStatus(j: any): string {
  const conditions = (j.status?.conditions ?? []).filter((c: any) => c.status === 'True');
  if (conditions.some((c: any) => c.type === 'Complete')) return 'Complete';
  if (conditions.some((c: any) => c.type === 'Failed')) return 'Failed';
  if (j.spec?.suspend) return 'Suspended';
  return 'Running';
}

function containers(o: any): string {
  return (o.spec?.template?.spec?.containers ?? []).map((c: any) => c.name).join(',');
}

function images(o: any): string {
  return (o.spec?.template?.spec?.containers ?? []).map((c: any) => c.image).join(',');
}

const COLUMNS: Record<string, Column[]> = {
  Pod: [
    NAME,
    { name: 'Ready', description: 'The aggregate readiness state of this pod for accepting traffic.', cell: (p) => `${(p.status?.containerStatuses ?? []).filter((c: any) => c.ready).length}/${(p.spec?.containers ?? []).length}` },
    { name: 'Status', description: 'The aggregate status of the containers in this pod.', cell: (p) => podStatusReason(p) },
    { name: 'Restarts', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.', cell: (p, now) => podRestarts(p, now) },
    AGE,
    { name: 'IP', priority: 1, description: 'IP address assigned to the pod', cell: (p) => p.status?.podIP ?? '<none>' },
    { name: 'Node', priority: 1, description: 'Name of the node assigned to the pod', cell: (p) => p.spec?.nodeName ?? '<none>' },
    { name: 'Nominated Node', priority: 1, description: 'Name of the nominated node', cell: (p) => p.status?.nominatedNodeName ?? '<none>' },
    { name: 'Readiness Gates', priority: 1, description: 'Pod readiness gates', cell: (p) => (p.spec?.readinessGates?.length ? `0/${p.spec.readinessGates.length}` : '<none>') },
  ],
  Deployment: [
    NAME,
    { name: 'Ready', description: 'Number of the pod with ready state', cell: (d) => `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 0}` },
    { name: 'Up-to-date', type: 'integer', description: 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.', cell: (d) => d.status?.updatedReplicas ?? 0 },
    { name: 'Available', type: 'integer', description: 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.', cell: (d) => d.status?.availableReplicas ?? 0 },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: containers },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: images },
    { name: 'Selector', priority: 1, description: 'Label selector for pods.', cell: (d) => formatSelector(d.spec?.selector) || '<none>' },
  ],
  ReplicaSet: [
    NAME,
    { name: 'Desired', type: 'integer', description: 'Number of desired pods.', cell: (r) => r.spec?.replicas ?? 0 },
    { name: 'Current', type: 'integer', description: 'Number of actual replicas.', cell: (r) => r.status?.replicas ?? 0 },
    { name: 'Ready', type: 'integer', description: 'Number of ready replicas.', cell: (r) => r.status?.readyReplicas ?? 0 },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: containers },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: images },
    { name: 'Selector', priority: 1, description: 'Label selector for pods.', cell: (r) => formatSelector(r.spec?.selector) || '<none>' },
  ],
  DaemonSet: [
    NAME,
    { name: 'Desired', type: 'integer', description: 'The total number of nodes that should be running the daemon pod.', cell: (d) => d.status?.desiredNumberScheduled ?? 0 },
    { name: 'Current', type: 'integer', description: 'The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod.', cell: (d) => d.status?.currentNumberScheduled ?? 0 },
    { name: 'Ready', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.', cell: (d) => d.status?.numberReady ?? 0 },
    { name: 'Up-to-date', type: 'integer', description: 'The total number of nodes that are running updated daemon pod', cell: (d) => d.status?.updatedNumberScheduled ?? 0 },
    { name: 'Available', type: 'integer', description: 'The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)', cell: (d) => d.status?.numberAvailable ?? 0 },
    { name: 'Node Selector', description: 'NodeSelector is a selector which must be true for the pod to fit on a node.', cell: (d) => Object.entries(d.spec?.template?.spec?.nodeSelector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>' },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: containers },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: images },
    { name: 'Selector', priority: 1, description: 'Label selector for pods.', cell: (d) => formatSelector(d.spec?.selector) || '<none>' },
  ],
  Node: [
    NAME,
    { name: 'Status', description: 'The status of the node', cell: nodeStatus },
    { name: 'Roles', description: 'The roles of the node', cell: nodeRoles },
    AGE,
    { name: 'Version', description: 'Kubelet Version reported by the node.', cell: (n) => n.status?.nodeInfo?.kubeletVersion ?? '' },
    { name: 'Internal-IP', priority: 1, description: 'List of internal IPs for the node.', cell: (n) => (n.status?.addresses ?? []).find((a: any) => a.type === 'InternalIP')?.address ?? '<none>' },
    { name: 'External-IP', priority: 1, description: 'List of external IPs for the node.', cell: (n) => (n.status?.addresses ?? []).find((a: any) => a.type === 'ExternalIP')?.address ?? '<none>' },
    { name: 'OS-Image', priority: 1, description: 'OS image reported by the node.', cell: (n) => n.status?.nodeInfo?.osImage ?? '<unknown>' },
    { name: 'Kernel-Version', priority: 1, description: 'Kernel version reported by the node.', cell: (n) => n.status?.nodeInfo?.kernelVersion ?? '<unknown>' },
    { name: 'Container-Runtime', priority: 1, description: 'Container runtime reported by the node.', cell: (n) => n.status?.nodeInfo?.containerRuntimeVersion ?? '<unknown>' },
  ],
  Namespace: [
    NAME,
    { name: 'Status', description: 'The status of the namespace', cell: (n) => n.status?.phase ?? 'Active' },
    AGE,
  ],
  Service: [
    NAME,
    { name: 'Type', description: 'The type of the service.', cell: (s) => s.spec?.type ?? 'ClusterIP' },
    { name: 'Cluster-IP', description: 'The cluster IP of the service.', cell: (s) => s.spec?.clusterIP || '<none>' },
    { name: 'External-IP', description: 'The external IP of the service.', cell: serviceExternalIp },
    { name: 'Port(s)', description: 'The ports of the service.', cell: servicePorts },
    AGE,
    { name: 'Selector', priority: 1, description: 'The label selector of the service.', cell: (s) => Object.entries(s.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).join(',') || '<none>' },
  ],
  Endpoints: [NAME, { name: 'Endpoints', description: 'Endpoints of the service.', cell: endpointsList }, AGE],
  EndpointSlice: [
    NAME,
    { name: 'AddressType', description: 'addressType specifies the type of address carried by this EndpointSlice.', cell: (s) => s.addressType ?? '' },
    { name: 'Ports', description: 'ports specifies the list of network ports exposed by each endpoint in this slice.', cell: endpointSlicePorts },
    { name: 'Endpoints', description: 'endpoints is a list of unique endpoints in this slice.', cell: endpointSliceEndpoints },
    AGE,
  ],
  Event: [
    { name: 'Last Seen', description: 'Time since the event was last seen.', cell: (e, now) => age(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp, now) },
    { name: 'Type', description: 'Type of this event.', cell: (e) => e.type ?? 'Normal' },
    { name: 'Reason', description: 'Why the action was taken.', cell: (e) => e.reason ?? '' },
    { name: 'Object', description: 'The object this event is about.', cell: (e) => `${(e.involvedObject?.kind ?? '').toLowerCase()}/${e.involvedObject?.name ?? ''}` },
    { name: 'Subobject', priority: 1, description: 'The subobject this event is about.', cell: (e) => e.involvedObject?.fieldPath ?? '' },
    { name: 'Source', priority: 1, description: 'The component reporting this event.', cell: (e) => [e.source?.component, e.source?.host].filter(Boolean).join(', ') },
    { name: 'Message', description: 'A human-readable description of the status of this operation.', cell: (e) => e.message ?? '' },
    { name: 'First Seen', priority: 1, description: 'Time since the event was first seen.', cell: (e, now) => age(e.firstTimestamp ?? e.metadata.creationTimestamp, now) },
    { name: 'Count', priority: 1, type: 'integer', description: 'How many times this event has occurred.', cell: (e) => e.count ?? 1 },
    { name: 'Name', priority: 1, format: 'name', description: 'Name of the event.', cell: (e) => e.metadata.name },
  ],
  ConfigMap: [NAME, { name: 'Data', type: 'integer', description: 'Number of data items.', cell: (c) => Object.keys(c.data ?? {}).length + Object.keys(c.binaryData ?? {}).length }, AGE],
  Secret: [
    NAME,
    { name: 'Type', description: 'The type of the secret', cell: (s) => s.type ?? 'Opaque' },
    { name: 'Data', type: 'integer', description: 'Number of data items.', cell: (s) => Object.keys(s.data ?? {}).length },
    AGE,
  ],
  Job: [
    NAME,
    { name: 'Status', description: 'Status of the job.', cell: jobStatus },
    { name: 'Completions', description: 'The completion status of the job.', cell: (j) => `${j.status?.succeeded ?? 0}/${j.spec?.completions ?? 1}` },
    { name: 'Duration', description: 'Time required to complete the job.', cell: (j, now) => (j.status?.startTime ? humanDuration((j.status.completionTime ? Date.parse(j.status.completionTime) : now) - Date.parse(j.status.startTime)) : '') },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: containers },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: images },
    { name: 'Selector', priority: 1, description: 'Label selector for pods.', cell: (j) => formatSelector(j.spec?.selector) || `batch.kubernetes.io/controller-uid=${j.metadata.uid}` },
  ],
  CronJob: [
    NAME,
    { name: 'Schedule', description: 'The schedule in Cron format.', cell: (c) => c.spec?.schedule ?? '' },
    { name: 'Timezone', description: 'The time zone of the schedule.', cell: (c) => c.spec?.timeZone ?? '<none>' },
    { name: 'Suspend', type: 'boolean', description: 'Whether scheduling is suspended.', cell: (c) => (c.spec?.suspend ? 'True' : 'False') },
    { name: 'Active', type: 'integer', description: 'The number of running jobs.', cell: (c) => (c.status?.active ?? []).length },
    { name: 'Last Schedule', description: 'When the job was last scheduled.', cell: (c, now) => (c.status?.lastScheduleTime ? humanDuration(now - Date.parse(c.status.lastScheduleTime)) : '<none>') },
    AGE,
    { name: 'Containers', priority: 1, description: 'Names of each container in the template.', cell: (c) => (c.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []).map((x: any) => x.name).join(',') },
    { name: 'Images', priority: 1, description: 'Images referenced by each container in the template.', cell: (c) => (c.spec?.jobTemplate?.spec?.template?.spec?.containers ?? []).map((x: any) => x.image).join(',') },
  ],
  PodDisruptionBudget: [
    NAME,
    { name: 'Min Available', description: 'The minimum number of pods that must be available.', cell: (p) => (p.spec?.minAvailable != null ? String(p.spec.minAvailable) : 'N/A') },
    { name: 'Max Unavailable', description: 'The maximum number of pods that may be unavailable.', cell: (p) => (p.spec?.maxUnavailable != null ? String(p.spec.maxUnavailable) : 'N/A') },
    { name: 'Allowed Disruptions', type: 'integer', description: 'Calculated number of pods that may be disrupted at this time.', cell: (p) => p.status?.disruptionsAllowed ?? 0 },
    AGE,
  ],
  Lease: [NAME, { name: 'Holder', description: 'The holder of the lease.', cell: (l) => l.spec?.holderIdentity ?? '' }, AGE],
  PriorityClass: [
    NAME,
    { name: 'Value', type: 'integer', description: 'The value of this priority class.', cell: (p) => p.value ?? 0 },
    { name: 'Global-Default', type: 'boolean', description: 'Whether this is the default priority for pods that name no class.', cell: (p) => (p.globalDefault ? 'true' : 'false') },
    AGE,
    { name: 'PreemptionPolicy', priority: 1, description: 'Whether pods of this class may preempt lower-priority pods.', cell: (p) => p.preemptionPolicy ?? 'PreemptLowerPriority' },
  ],
};

function columnsFor(r: ResourceInfo): Column[] {
  return COLUMNS[r.kind] ?? [NAME, AGE];
}

function partialMetadata(r: ResourceInfo, obj: KubeObject): KubeObject {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

function includeObject(req: Request): 'None' | 'Metadata' | 'Object' {
  const v = req.query.includeObject;
  return v === 'None' || v === 'Object' ? v : 'Metadata';
}

function row(r: ResourceInfo, obj: KubeObject, req: Request, nowMs: number) {
  const mode = includeObject(req);
  const object = mode === 'Object' ? { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(r), kind: obj.kind ?? r.kind } : mode === 'Metadata' ? partialMetadata(r, obj) : undefined;
  return { cells: columnsFor(r).map((c) => c.cell(obj, nowMs)), object };
}

function columnDefinitions(r: ResourceInfo) {
  return columnsFor(r).map((c) => ({
    name: c.name,
    type: c.type ?? 'string',
    format: c.format ?? '',
    description: c.description ?? '',
    priority: c.priority ?? 0,
  }));
}

export function renderList(r: ResourceInfo, items: KubeObject[], resourceVersion: string, req: Request) {
  const nowMs = Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columnDefinitions(r),
    rows: items.map((o) => row(r, o, req, nowMs)),
  };
}

/** A watch event's object: the object itself, or a one-row Table (column definitions only in the first). */
export function renderWatchObject(r: ResourceInfo, obj: KubeObject, req: Request, first: boolean): unknown {
  if (!wantsTable(req)) return { ...obj, apiVersion: obj.apiVersion ?? apiVersionOf(r), kind: obj.kind ?? r.kind };
  const table = renderList(r, [obj], obj.metadata.resourceVersion ?? '', req);
  return first ? table : { ...table, columnDefinitions: [] };
}

export type { WatchEventType };
