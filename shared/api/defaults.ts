// Kubernetes' defaulting (SetDefaults_*) that several kinds share — pod specs, pod templates —
// what a field means when a manifest leaves it out. Idempotent: defaulting twice changes nothing.
// Each kind's own defaults live in its strategy (shared/registry/kinds/).

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
  for (const list of [spec.containers, spec.initContainers, spec.ephemeralContainers]) {
    for (const c of Array.isArray(list) ? list : []) if (c && typeof c === 'object') defaultContainer(c);
  }
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (v?.configMap) v.configMap.defaultMode ??= 0o644;
    if (v?.secret) v.secret.defaultMode ??= 0o644;
    if (v?.hostPath) v.hostPath.type ??= '';
  }
}

/**
 * The DefaultTolerationSeconds admission plugin: a pod tolerates a not-ready or unreachable node
 * for WHARF_POD_EVICTION_TOLERATION (300 s) before the taint eviction controller deletes it,
 * unless it already says how long it tolerates that (a NoExecute toleration of the key, or of all keys).
 */
export function addDefaultTolerations(spec: Json | undefined, seconds: number): void {
  if (!spec || typeof spec !== 'object' || (spec.tolerations != null && !Array.isArray(spec.tolerations))) return;
  const tolerations: Json[] = spec.tolerations ?? [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    const covered = tolerations.some((t) => t && (!t.key || t.key === key) && (!t.effect || t.effect === 'NoExecute'));
    if (!covered) tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
  }
  spec.tolerations = tolerations;
}

export function defaultTemplate(spec: Json | undefined): void {
  if (spec?.template && typeof spec.template === 'object') defaultPodSpec(spec.template.spec);
}
