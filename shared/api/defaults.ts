// Kubernetes' defaulting (SetDefaults_*) for the kinds Wharf serves: what a field means when a
// manifest leaves it out. Idempotent: defaulting twice changes nothing.
import type { KubeObject } from '../types.ts';
import { loadConfig } from '../config.ts';

type Json = Record<string, any>;

function imagePullPolicy(image: string): string {
  // A digest pins the image; otherwise "latest" or no tag means "always pull".
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const tag = lastSegment.includes(':') ? lastSegment.slice(lastSegment.indexOf(':') + 1) : '';
  return tag === '' || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: Json | undefined): void {
  if (!probe) return;
  probe.timeoutSeconds ??= 1;
  probe.periodSeconds ??= 10;
  probe.successThreshold ??= 1;
  probe.failureThreshold ??= 3;
  if (probe.httpGet) {
    probe.httpGet.path ??= '/';
    probe.httpGet.scheme ??= 'HTTP';
  }
}

function defaultContainer(c: Json): void {
  if (typeof c.image === 'string') c.imagePullPolicy ??= imagePullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  c.resources ??= {};
  // Limits without requests: the requests are the limits.
  const limits = c.resources.limits;
  if (limits && typeof limits === 'object') {
    c.resources.requests = { ...limits, ...c.resources.requests };
  }
  for (const p of Array.isArray(c.ports) ? c.ports : []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
  for (const e of Array.isArray(c.env) ? c.env : []) {
    const ref = e?.valueFrom?.fieldRef;
    if (ref) ref.apiVersion ??= 'v1';
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

export function defaultPodSpec(spec: Json | undefined): void {
  if (!spec || typeof spec !== 'object') return;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  for (const list of [spec.containers, spec.initContainers]) {
    for (const c of Array.isArray(list) ? list : []) if (c && typeof c === 'object') defaultContainer(c);
  }
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (v?.configMap) v.configMap.defaultMode ??= 0o644;
    if (v?.secret) v.secret.defaultMode ??= 0o644;
    if (v?.hostPath) v.hostPath.type ??= '';
  }
}

let evictionTolerationSeconds: number | undefined;

/**
 * The DefaultTolerationSeconds admission plugin: a pod tolerates a not-ready or unreachable node
 * for WHARF_POD_EVICTION_TOLERATION (300 s) before the taint eviction controller deletes it,
 * unless it already says how long it tolerates that (a NoExecute toleration of the key, or of all keys).
 */
export function addDefaultTolerations(spec: Json | undefined, seconds?: number): void {
  if (!spec || typeof spec !== 'object' || (spec.tolerations != null && !Array.isArray(spec.tolerations))) return;
  seconds ??= evictionTolerationSeconds ??= loadConfig().api.podEvictionTolerationSeconds;
  const tolerations: Json[] = spec.tolerations ?? [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const covered = tolerations.some((t) => t && (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
    if (!covered) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  }
  spec.tolerations = tolerations;
}

function defaultTemplate(spec: Json | undefined): void {
  if (spec?.template && typeof spec.template === 'object') defaultPodSpec(spec.template.spec);
}

export function applyDefaults(kind: string, obj: KubeObject): void {
  const spec = obj.spec as Json | undefined;
  switch (kind) {
    case 'Pod':
      defaultPodSpec(spec);
      addDefaultTolerations(spec);
      break;
    case 'Deployment':
      if (!spec || typeof spec !== 'object') return;
      spec.replicas ??= 1;
      spec.strategy ??= {};
      spec.strategy.type ??= 'RollingUpdate';
      if (spec.strategy.type === 'RollingUpdate') {
        spec.strategy.rollingUpdate ??= {};
        spec.strategy.rollingUpdate.maxUnavailable ??= '25%';
        spec.strategy.rollingUpdate.maxSurge ??= '25%';
      }
      spec.revisionHistoryLimit ??= 10;
      spec.progressDeadlineSeconds ??= 600;
      defaultTemplate(spec);
      break;
    case 'ReplicaSet':
      if (!spec || typeof spec !== 'object') return;
      spec.replicas ??= 1;
      defaultTemplate(spec);
      break;
    case 'DaemonSet':
      if (!spec || typeof spec !== 'object') return;
      spec.updateStrategy ??= {};
      spec.updateStrategy.type ??= 'RollingUpdate';
      if (spec.updateStrategy.type === 'RollingUpdate') {
        spec.updateStrategy.rollingUpdate ??= {};
        spec.updateStrategy.rollingUpdate.maxUnavailable ??= 1;
        spec.updateStrategy.rollingUpdate.maxSurge ??= 0;
      }
      spec.revisionHistoryLimit ??= 10;
      defaultTemplate(spec);
      break;
    case 'Job':
      if (!spec || typeof spec !== 'object') return;
      if (spec.completions === undefined && spec.parallelism === undefined) spec.completions = 1;
      spec.parallelism ??= 1;
      spec.backoffLimit ??= 6;
      spec.completionMode ??= 'NonIndexed';
      spec.suspend ??= false;
      defaultTemplate(spec);
      break;
    case 'CronJob':
      if (!spec || typeof spec !== 'object') return;
      spec.concurrencyPolicy ??= 'Allow';
      spec.suspend ??= false;
      spec.successfulJobsHistoryLimit ??= 3;
      spec.failedJobsHistoryLimit ??= 1;
      if (spec.jobTemplate?.spec) applyDefaults('Job', { apiVersion: 'batch/v1', kind: 'Job', metadata: {}, spec: spec.jobTemplate.spec });
      break;
    case 'Service':
      if (!spec || typeof spec !== 'object') return;
      spec.type ??= 'ClusterIP';
      spec.sessionAffinity ??= 'None';
      if (spec.type !== 'ExternalName') {
        spec.internalTrafficPolicy ??= 'Cluster';
        spec.ipFamilyPolicy ??= 'SingleStack';
        spec.ipFamilies ??= ['IPv4'];
      }
      if (spec.type === 'NodePort' || spec.type === 'LoadBalancer' || (spec.type === 'ClusterIP' && spec.externalIPs?.length)) spec.externalTrafficPolicy ??= 'Cluster';
      if (spec.sessionAffinity === 'ClientIP' && spec.sessionAffinityConfig?.clientIP?.timeoutSeconds == null) spec.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
      for (const p of Array.isArray(spec.ports) ? spec.ports : []) {
        if (!p || typeof p !== 'object') continue;
        p.protocol ??= 'TCP';
        if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
      }
      break;
    case 'Namespace':
      obj.spec = { ...(spec ?? {}), finalizers: spec?.finalizers ?? ['kubernetes'] };
      obj.status = { phase: 'Active', ...(obj.status ?? {}) };
      break;
    case 'Secret':
      obj.type ??= 'Opaque';
      break;
    case 'Node':
      break;
    case 'EndpointSlice':
      // As Kubernetes' SetDefaults_EndpointPort: an unnamed port is named "", the protocol is TCP.
      for (const p of Array.isArray(obj.ports) ? obj.ports : []) {
        if (!p || typeof p !== 'object') continue;
        p.name ??= '';
        p.protocol ??= 'TCP';
      }
      break;
    default:
      break;
  }
}
