// What a pod's securityContext means for one of its containers, as the kubelet works it out
// (securitycontext.DetermineEffectiveSecurityContext, verifyRunAsNonRoot): the pod's settings are
// the defaults, the container's override them; capabilities, privileged, readOnlyRootFilesystem
// and allowPrivilegeEscalation are the container's alone; supplementalGroups and fsGroup the pod's.
// Pure: the runtime applies the result (runtime/docker.ts).
import type { Container, PodSpec } from '../../shared/types.ts';
import type { ContainerSecurity, PodIdentity } from './runtime/types.ts';

const int = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) ? v : undefined);

/** Capability names as Docker and the CRI take them: without the CAP_ prefix Kubernetes users sometimes write. */
export function capabilityName(name: string): string {
  return name.replace(/^CAP_/i, '');
}

/** The container's effective settings, without the Localhost seccomp profile's content (see withSeccompProfile). */
export function effectiveSecurity(spec: PodSpec | { securityContext?: unknown; hostPID?: unknown; hostIPC?: unknown }, container: Container | { securityContext?: unknown }): ContainerSecurity & { seccompLocalhost?: string } {
  const pod = (spec.securityContext ?? {}) as Record<string, any>;
  const c = (container.securityContext ?? {}) as Record<string, any>;
  const pick = <T>(key: string): T | undefined => (c[key] !== undefined && c[key] !== null ? c[key] : pod[key] ?? undefined);
  const runAsUser = int(pick('runAsUser'));
  const runAsGroup = int(pick('runAsGroup'));
  const groups = [...(Array.isArray(pod.supplementalGroups) ? pod.supplementalGroups : []), ...(int(pod.fsGroup) !== undefined ? [pod.fsGroup] : [])].filter((g) => int(g) !== undefined);
  const seccomp = pick<{ type?: string; localhostProfile?: string }>('seccompProfile');
  const out: ContainerSecurity & { seccompLocalhost?: string } = {
    privileged: c.privileged === true,
    capAdd: (Array.isArray(c.capabilities?.add) ? c.capabilities.add : []).map((n: string) => capabilityName(String(n))),
    capDrop: (Array.isArray(c.capabilities?.drop) ? c.capabilities.drop : []).map((n: string) => capabilityName(String(n))),
    runAsNonRoot: pick('runAsNonRoot') === true,
    groups: [...new Set<number>(groups)],
    readOnlyRootFilesystem: c.readOnlyRootFilesystem === true,
    noNewPrivileges: c.allowPrivilegeEscalation === false,
    hostPID: spec.hostPID === true,
    hostIPC: spec.hostIPC === true,
  };
  if (runAsUser !== undefined) out.runAsUser = runAsUser;
  if (runAsGroup !== undefined) out.runAsGroup = runAsGroup;
  if (seccomp?.type === 'RuntimeDefault' || seccomp?.type === 'Unconfined') out.seccomp = { type: seccomp.type };
  else if (seccomp?.type === 'Localhost' && seccomp.localhostProfile) out.seccompLocalhost = seccomp.localhostProfile;
  return out;
}

/** kubelet's format.Pod: name_namespace(uid). */
function podRef(pod: Pick<PodIdentity, 'namespace' | 'name' | 'uid'>): string {
  return `${pod.name}_${pod.namespace}(${pod.uid})`;
}

/** The user an image's config names, as the runtime reports it: a numeric uid, or a name it cannot vouch for. */
export function imageUser(user: string | undefined): { uid?: number; name?: string } {
  const u = (user ?? '').split(':')[0];
  // No user: the process runs as uid 0.
  if (u === '') return { uid: 0 };
  return /^\d+$/.test(u) ? { uid: Number(u) } : { name: u };
}

/**
 * The kubelet's verifyRunAsNonRoot: under runAsNonRoot a container whose process would run as
 * uid 0 is not started; its reason is CreateContainerConfigError with these words. undefined: fine.
 */
export function runAsNonRootError(security: ContainerSecurity, configuredUser: string | undefined, pod: Pick<PodIdentity, 'namespace' | 'name' | 'uid'>, container: string): string | undefined {
  if (!security.runAsNonRoot) return undefined;
  const where = `(pod: ${JSON.stringify(podRef(pod))}, container: ${container})`;
  if (security.runAsUser !== undefined) return security.runAsUser === 0 ? `container's runAsUser breaks non-root policy ${where}` : undefined;
  const user = imageUser(configuredUser);
  if (user.uid === 0) return `container has runAsNonRoot and image will run as root ${where}`;
  if (user.name !== undefined) return `container has runAsNonRoot and image has non-numeric user (${user.name}), cannot verify user is non-root ${where}`;
  return undefined;
}

/**
 * The process's user for the runtime ("uid", "uid:gid"), or undefined for the image's own. A
 * group without a user keeps the image's user (a name, or uid 0 when it names none).
 */
export function processUser(security: ContainerSecurity, configuredUser: string | undefined): string | undefined {
  if (security.runAsUser === undefined && security.runAsGroup === undefined) return undefined;
  const user = security.runAsUser !== undefined ? String(security.runAsUser) : (configuredUser ?? '').split(':')[0] || '0';
  return security.runAsGroup !== undefined ? `${user}:${security.runAsGroup}` : user;
}
