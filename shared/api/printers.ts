// Pure printing helpers for the Table columns of `kubectl get`, as kubectl's and Kubernetes'
// printers compute them (pkg/printers/internalversion/printers.go); each kind's strategy lists its
// columns with these.
import type { Pod } from '../types.ts';
import type { Column } from '../registry/strategy.ts';

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

export function age(ts: string | undefined, nowMs: number): string {
  return ts ? humanDuration(nowMs - Date.parse(ts)) : '<unknown>';
}

export const NAME: Column = { name: 'Name', format: 'name', description: 'Name must be unique within a namespace.', cell: (o) => o.metadata.name };
export const AGE: Column = { name: 'Age', description: 'CreationTimestamp', cell: (o, now) => age(o.metadata.creationTimestamp, now) };

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

export function podRestarts(pod: Pod, now: number): string {
  let restarts = 0;
  let lastRestart = 0;
  for (const c of pod.status?.containerStatuses ?? []) {
    restarts += c.restartCount ?? 0;
    const finished = c.lastState?.terminated?.finishedAt;
    if (finished) lastRestart = Math.max(lastRestart, Date.parse(finished));
  }
  return lastRestart ? `${restarts} (${humanDuration(now - lastRestart)} ago)` : String(restarts);
}

export function nodeStatus(node: any): string {
  const ready = (node.status?.conditions ?? []).find((c: any) => c.type === 'Ready');
  const parts = [ready ? (ready.status === 'True' ? 'Ready' : ready.status === 'False' ? 'NotReady' : 'Unknown') : 'Unknown'];
  if (node.spec?.unschedulable) parts.push('SchedulingDisabled');
  return parts.join(',');
}

export function nodeRoles(node: any): string {
  const roles = Object.keys(node.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length) || '');
  return roles.filter(Boolean).join(',') || '<none>';
}

export function servicePorts(svc: any): string {
  const ports = svc.spec?.ports ?? [];
  if (!ports.length) return '<none>';
  return ports.map((p: any) => `${p.port}${p.nodePort ? `:${p.nodePort}` : ''}/${p.protocol ?? 'TCP'}`).join(',');
}

export function serviceExternalIp(svc: any): string {
  const type = svc.spec?.type ?? 'ClusterIP';
  const external: string[] = [...(svc.spec?.externalIPs ?? [])];
  if (type === 'LoadBalancer') {
    for (const i of svc.status?.loadBalancer?.ingress ?? []) external.push(i.ip ?? i.hostname);
    return external.length ? external.join(',') : '<pending>';
  }
  if (type === 'ExternalName') return svc.spec?.externalName ?? '<none>';
  return external.length ? external.join(',') : '<none>';
}

export function endpointsList(ep: any): string {
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
export function listWithMore(list: string[]): string {
  if (list.length > 3) return `${list.slice(0, 3).join(',')} + ${list.length - 3} more...`;
  return list.length ? list.join(',') : '<unset>';
}

export function endpointSlicePorts(slice: any): string {
  return listWithMore((slice.ports ?? []).map((p: any) => (p.port != null ? String(p.port) : p.name ?? '*')));
}

export function endpointSliceEndpoints(slice: any): string {
  return listWithMore((slice.endpoints ?? []).flatMap((e: any) => e.addresses ?? []));
}

export function jobStatus(j: any): string {
  const conditions = (j.status?.conditions ?? []).filter((c: any) => c.status === 'True');
  if (conditions.some((c: any) => c.type === 'Complete')) return 'Complete';
  if (conditions.some((c: any) => c.type === 'Failed')) return 'Failed';
  if (j.spec?.suspend) return 'Suspended';
  return 'Running';
}

export function containers(o: any): string {
  return (o.spec?.template?.spec?.containers ?? []).map((c: any) => c.name).join(',');
}

export function images(o: any): string {
  return (o.spec?.template?.spec?.containers ?? []).map((c: any) => c.image).join(',');
}

