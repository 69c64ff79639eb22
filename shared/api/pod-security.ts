// The Pod Security Standards as Kubernetes' pod-security-admission (k8s.io/pod-security-admission,
// v1.32) evaluates them: the levels privileged, baseline and restricted, each check in the versions
// it changed in, the namespace labels that pick a level per mode (enforce, warn, audit), and the
// messages word for word — a user reads the same refusal as from Kubernetes. Pure: no I/O; the
// admission that reads namespaces and pods is shared/registry/pod-security-admission.ts.
import type { KubeObject, StatusCause } from '../types.ts';
import { invalid } from './validation.ts';

export type Level = 'privileged' | 'baseline' | 'restricted';
export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

/** A policy version: "latest" or the minor of "v1.<minor>". */
export type PolicyVersion = 'latest' | number;

export interface LevelVersion {
  level: Level;
  version: PolicyVersion;
}

/** The level and version of each mode of a namespace. */
export interface PodSecurityPolicy {
  enforce: LevelVersion;
  audit: LevelVersion;
  warn: LevelVersion;
}

/** The newest version of the standards this implementation knows: "latest" evaluates as v1.32. */
export const LATEST_MINOR = 32;

const PREFIX = 'pod-security.kubernetes.io/';
export const POD_SECURITY_LABELS = {
  enforce: `${PREFIX}enforce`,
  enforceVersion: `${PREFIX}enforce-version`,
  audit: `${PREFIX}audit`,
  auditVersion: `${PREFIX}audit-version`,
  warn: `${PREFIX}warn`,
  warnVersion: `${PREFIX}warn-version`,
} as const;

export function formatLevelVersion(lv: LevelVersion): string {
  return `${lv.level}:${lv.version === 'latest' ? 'latest' : `v1.${lv.version}`}`;
}

export function sameLevelVersion(a: LevelVersion, b: LevelVersion): boolean {
  return a.level === b.level && a.version === b.version;
}

/** -1, 0 or 1 as a is less strict than, as strict as, or stricter than b. */
export function compareLevels(a: Level, b: Level): number {
  return Math.sign(LEVELS.indexOf(a) - LEVELS.indexOf(b));
}

export function isLevel(value: string): value is Level {
  return (LEVELS as readonly string[]).includes(value);
}

const VERSION = /^v1\.(0|[1-9][0-9]*)$/;

/** "latest" or "v1.x" (x a number without leading zeros); undefined for anything else. */
export function parseVersion(value: string): PolicyVersion | undefined {
  if (value === 'latest') return 'latest';
  const m = VERSION.exec(value);
  if (!m) return undefined;
  const minor = Number(m[1]);
  return Number.isSafeInteger(minor) ? minor : undefined;
}

const labelField = (label: string) => `metadata.labels[${label}]`;

/**
 * The policy a namespace's labels ask for over the cluster's defaults, and the errors of labels
 * that say nothing valid. As Kubernetes' PolicyToEvaluate: an invalid enforce level enforces
 * restricted (fail closed), an invalid audit or warn level is privileged (fail open), an invalid
 * version is latest; without a warn label, warn is at least as strict as an enforce label.
 */
export function policyFromLabels(labels: Record<string, string> | undefined, defaults: PodSecurityPolicy): { policy: PodSecurityPolicy; errors: StatusCause[] } {
  const policy: PodSecurityPolicy = { enforce: { ...defaults.enforce }, audit: { ...defaults.audit }, warn: { ...defaults.warn } };
  const errors: StatusCause[] = [];
  if (!labels) return { policy, errors };
  const level = (label: string, failed: Level): Level | undefined => {
    const value = labels[label];
    if (value === undefined) return undefined;
    if (isLevel(value)) return value;
    errors.push(invalid(labelField(label), value, `must be one of ${LEVELS.join(', ')}`));
    return failed;
  };
  const version = (label: string): PolicyVersion | undefined => {
    const value = labels[label];
    if (value === undefined) return undefined;
    const v = parseVersion(value);
    if (v !== undefined) return v;
    errors.push(invalid(labelField(label), value, 'must be "latest" or "v1.x"'));
    return 'latest';
  };
  const enforceLevel = level(POD_SECURITY_LABELS.enforce, 'restricted');
  const validEnforceLevel = enforceLevel !== undefined && isLevel(labels[POD_SECURITY_LABELS.enforce]);
  if (enforceLevel) policy.enforce.level = enforceLevel;
  const enforceVersion = version(POD_SECURITY_LABELS.enforceVersion);
  if (enforceVersion !== undefined) policy.enforce.version = enforceVersion;
  const auditLevel = level(POD_SECURITY_LABELS.audit, 'privileged');
  if (auditLevel) policy.audit.level = auditLevel;
  const auditVersion = version(POD_SECURITY_LABELS.auditVersion);
  if (auditVersion !== undefined) policy.audit.version = auditVersion;
  const warnLevel = level(POD_SECURITY_LABELS.warn, 'privileged');
  if (warnLevel) policy.warn.level = warnLevel;
  const warnVersion = version(POD_SECURITY_LABELS.warnVersion);
  if (warnVersion !== undefined) policy.warn.version = warnVersion;
  if (warnLevel === undefined && validEnforceLevel && compareLevels(policy.enforce.level, policy.warn.level) > 0) {
    policy.warn.level = policy.enforce.level;
    if (warnVersion === undefined) policy.warn.version = policy.enforce.version;
  }
  return { policy, errors };
}

export function fullyPrivileged(p: PodSecurityPolicy): boolean {
  return p.enforce.level === 'privileged' && p.audit.level === 'privileged' && p.warn.level === 'privileged';
}

// ---- the checks -------------------------------------------------------------------------------

/** Why a check refuses a pod: a short reason, always shown, and a detail shown for one pod. */
export interface Violation {
  reason: string;
  detail: string;
}

type PodSpecLike = Record<string, any>;
type PodMetaLike = { annotations?: Record<string, string> };
type PodCheck = (meta: PodMetaLike, spec: PodSpecLike) => Violation | undefined;

interface VersionedCheck {
  /** The first v1.<since> this form of the check applies to. */
  since: number;
  check: PodCheck;
  /** Baseline checks this restricted one replaces. */
  overrides?: string[];
}

interface Check {
  id: string;
  level: 'baseline' | 'restricted';
  versions: VersionedCheck[];
}

const joinQuote = (items: string[]) => (items.length ? `"${items.join('", "')}"` : '');
const plural = (one: string, many: string, n: number) => (n === 1 ? one : many);
const sortedSet = (items: Iterable<string>) => [...new Set(items)].sort();
const quoteGo = (s: string) => JSON.stringify(s);
const isSet = (v: unknown): boolean => v !== undefined && v !== null;

/** Init containers, containers and ephemeral containers, in that order (the checks' visit order). */
function containersOf(spec: PodSpecLike): Record<string, any>[] {
  const list = (v: unknown) => (Array.isArray(v) ? v.filter((c) => c && typeof c === 'object') : []);
  return [...list(spec.initContainers), ...list(spec.containers), ...list(spec.ephemeralContainers)];
}

const scOf = (c: Record<string, any>): Record<string, any> | undefined => (c.securityContext && typeof c.securityContext === 'object' ? c.securityContext : undefined);
const podScOf = (spec: PodSpecLike): Record<string, any> | undefined => (spec.securityContext && typeof spec.securityContext === 'object' ? spec.securityContext : undefined);
const isWindows = (spec: PodSpecLike) => spec.os?.name === 'windows';
const names = (cs: Record<string, any>[]) => cs.map((c) => String(c.name ?? ''));

/** "container "a"" / "containers "a", "b"". */
const containersPhrase = (bad: string[]) => `${plural('container', 'containers', bad.length)} ${joinQuote(bad)}`;

const hostProcess: PodCheck = (_meta, spec) => {
  const bad = names(containersOf(spec).filter((c) => scOf(c)?.windowsOptions?.hostProcess === true));
  const setters: string[] = [];
  if (podScOf(spec)?.windowsOptions?.hostProcess === true) setters.push('pod');
  if (bad.length) setters.push(containersPhrase(bad));
  if (!setters.length) return undefined;
  return { reason: 'hostProcess', detail: `${setters.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` };
};

const hostNamespaces: PodCheck = (_meta, spec) => {
  const shared = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((f) => spec[f] === true).map((f) => `${f}=true`);
  return shared.length ? { reason: 'host namespaces', detail: shared.join(', ') } : undefined;
};

const privileged: PodCheck = (_meta, spec) => {
  const bad = names(containersOf(spec).filter((c) => scOf(c)?.privileged === true));
  return bad.length ? { reason: 'privileged', detail: `${containersPhrase(bad)} must not set securityContext.privileged=true` } : undefined;
};

const BASELINE_CAPABILITIES = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);

const addedCapabilities = (c: Record<string, any>): string[] => (Array.isArray(scOf(c)?.capabilities?.add) ? scOf(c)!.capabilities.add.map(String) : []);
const droppedCapabilities = (c: Record<string, any>): string[] => (Array.isArray(scOf(c)?.capabilities?.drop) ? scOf(c)!.capabilities.drop.map(String) : []);

const capabilitiesBaseline: PodCheck = (_meta, spec) => {
  const bad: string[] = [];
  const caps: string[] = [];
  for (const c of containersOf(spec)) {
    const extra = addedCapabilities(c).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
    if (extra.length) {
      bad.push(String(c.name ?? ''));
      caps.push(...extra);
    }
  }
  if (!bad.length) return undefined;
  return { reason: 'non-default capabilities', detail: `${containersPhrase(bad)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add` };
};

const hostPathVolumes: PodCheck = (_meta, spec) => {
  const volumes = Array.isArray(spec.volumes) ? spec.volumes : [];
  const bad = volumes.filter((v: any) => isSet(v?.hostPath)).map((v: any) => String(v.name ?? ''));
  return bad.length ? { reason: 'hostPath volumes', detail: `${plural('volume', 'volumes', bad.length)} ${joinQuote(bad)}` } : undefined;
};

const hostPorts: PodCheck = (_meta, spec) => {
  const bad: string[] = [];
  const ports: string[] = [];
  for (const c of containersOf(spec)) {
    const used = (Array.isArray(c.ports) ? c.ports : []).filter((p: any) => p && p.hostPort !== undefined && p.hostPort !== null && p.hostPort !== 0).map((p: any) => String(p.hostPort));
    if (used.length) {
      bad.push(String(c.name ?? ''));
      ports.push(...used);
    }
  }
  if (!bad.length) return undefined;
  const unique = sortedSet(ports);
  return { reason: 'hostPort', detail: `${containersPhrase(bad)} ${plural('uses', 'use', bad.length)} ${plural('hostPort', 'hostPorts', unique.length)} ${unique.join(', ')}` };
};

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const appArmorTypeAllowed = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';
const appArmorAnnotationAllowed = (v: string) => v === '' || v === 'runtime/default' || v.startsWith('localhost/');

const appArmor: PodCheck = (meta, spec) => {
  const setters: string[] = [];
  const values = new Set<string>();
  const podProfile = podScOf(spec)?.appArmorProfile;
  if (isSet(podProfile) && !appArmorTypeAllowed(podProfile.type)) {
    setters.push('pod');
    values.add(String(podProfile.type ?? ''));
  }
  const bad: string[] = [];
  for (const c of containersOf(spec)) {
    const profile = scOf(c)?.appArmorProfile;
    if (isSet(profile) && !appArmorTypeAllowed(profile.type)) {
      bad.push(String(c.name ?? ''));
      values.add(String(profile.type ?? ''));
    }
  }
  if (bad.length) setters.push(containersPhrase(bad));
  const annotations = Object.entries(meta.annotations ?? {})
    .filter(([k, v]) => k.startsWith(APPARMOR_ANNOTATION_PREFIX) && !appArmorAnnotationAllowed(String(v)))
    .map(([k, v]) => `${k}=${quoteGo(String(v))}`)
    .sort();
  const valueList = [...[...values].sort(), ...annotations];
  if (annotations.length) setters.push(plural('annotation', 'annotations', annotations.length));
  if (!setters.length) return undefined;
  return {
    reason: plural('forbidden AppArmor profile', 'forbidden AppArmor profiles', valueList.length),
    detail: `${setters.join(' and ')} must not set AppArmor profile type to ${joinQuote(valueList)}`,
  };
};

function seLinuxCheck(allowedTypes: Set<string>): PodCheck {
  return (_meta, spec) => {
    const badTypes = new Set<string>();
    let user = false;
    let role = false;
    const valid = (o: Record<string, any>) => {
      let ok = true;
      const type = String(o.type ?? '');
      if (!allowedTypes.has(type)) {
        ok = false;
        badTypes.add(type);
      }
      if (o.user) {
        ok = false;
        user = true;
      }
      if (o.role) {
        ok = false;
        role = true;
      }
      return ok;
    };
    const setters: string[] = [];
    const podOptions = podScOf(spec)?.seLinuxOptions;
    if (isSet(podOptions) && !valid(podOptions)) setters.push('pod');
    const bad = names(containersOf(spec).filter((c) => {
      const o = scOf(c)?.seLinuxOptions;
      return isSet(o) && !valid(o);
    }));
    if (bad.length) setters.push(containersPhrase(bad));
    if (!setters.length) return undefined;
    const data: string[] = [];
    if (badTypes.size) data.push(`${plural('type', 'types', badTypes.size)} ${joinQuote(sortedSet(badTypes))}`);
    if (user) data.push('user may not be set');
    if (role) data.push('role may not be set');
    return { reason: 'seLinuxOptions', detail: `${setters.join(' and ')} set forbidden securityContext.seLinuxOptions: ${data.join('; ')}` };
  };
}

const procMount: PodCheck = (_meta, spec) => {
  const bad: string[] = [];
  const types: string[] = [];
  for (const c of containersOf(spec)) {
    const mount = scOf(c)?.procMount;
    if (isSet(mount) && mount !== 'Default') {
      bad.push(String(c.name ?? ''));
      types.push(String(mount));
    }
  }
  if (!bad.length) return undefined;
  return { reason: 'procMount', detail: `${containersPhrase(bad)} must not set securityContext.procMount to ${joinQuote(sortedSet(types))}` };
};

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
const seccompTypeAllowed = (t: unknown) => t === 'RuntimeDefault' || t === 'Localhost';
const seccompAnnotationAllowed = (v: string) => v === 'runtime/default' || v === 'docker/default' || v.startsWith('localhost/');

/** Before v1.19 the profile was an annotation. */
const seccompBaselineAnnotations: PodCheck = (meta, spec) => {
  const annotations = meta.annotations ?? {};
  const forbidden = new Set<string>();
  const pod = annotations[SECCOMP_POD_ANNOTATION];
  if (pod !== undefined && !seccompAnnotationAllowed(pod)) forbidden.add(`${SECCOMP_POD_ANNOTATION}=${quoteGo(pod)}`);
  for (const c of containersOf(spec)) {
    const key = `${SECCOMP_CONTAINER_ANNOTATION_PREFIX}${c.name ?? ''}`;
    const v = annotations[key];
    if (v !== undefined && !seccompAnnotationAllowed(v)) forbidden.add(`${key}=${quoteGo(v)}`);
  }
  if (!forbidden.size) return undefined;
  return { reason: 'seccompProfile', detail: `forbidden ${plural('annotation', 'annotations', forbidden.size)} ${sortedSet(forbidden).join(', ')}` };
};

/** Explicitly bad seccomp profiles; with requireSet (restricted), also containers that have none. */
function seccompFields(requireSet: boolean): PodCheck {
  return (_meta, spec) => {
    const setters: string[] = [];
    const values = new Set<string>();
    let podSet = false;
    const podProfile = podScOf(spec)?.seccompProfile;
    if (isSet(podProfile)) {
      if (!seccompTypeAllowed(podProfile.type)) {
        setters.push('pod');
        values.add(String(podProfile.type ?? ''));
      } else podSet = true;
    }
    const explicit: string[] = [];
    const implicit: string[] = [];
    for (const c of containersOf(spec)) {
      const profile = scOf(c)?.seccompProfile;
      if (isSet(profile)) {
        if (!seccompTypeAllowed(profile.type)) {
          explicit.push(String(c.name ?? ''));
          values.add(String(profile.type ?? ''));
        }
      } else if (!podSet) implicit.push(String(c.name ?? ''));
    }
    if (explicit.length) setters.push(containersPhrase(explicit));
    if (setters.length) return { reason: 'seccompProfile', detail: `${setters.join(' and ')} must not set securityContext.seccompProfile.type to ${joinQuote(sortedSet(values))}` };
    if (requireSet && implicit.length) {
      return { reason: 'seccompProfile', detail: `pod or ${containersPhrase(implicit)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"` };
    }
    return undefined;
  };
}

const SYSCTLS_1_0 = ['kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range', 'net.ipv4.ip_unprivileged_port_start'];
const SYSCTLS_1_27 = [...SYSCTLS_1_0, 'net.ipv4.ip_local_reserved_ports'];
const SYSCTLS_1_29 = [...SYSCTLS_1_27, 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes'];
const SYSCTLS_1_32 = [...SYSCTLS_1_29, 'net.ipv4.tcp_rmem', 'net.ipv4.tcp_wmem'];

function sysctlCheck(allowed: string[]): PodCheck {
  const set = new Set(allowed);
  return (_meta, spec) => {
    const sysctls = Array.isArray(podScOf(spec)?.sysctls) ? podScOf(spec)!.sysctls : [];
    const bad = sysctls.map((s: any) => String(s?.name ?? '')).filter((n: string) => !set.has(n));
    return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
  };
}

const allowPrivilegeEscalation: PodCheck = (_meta, spec) => {
  const bad = names(containersOf(spec).filter((c) => scOf(c)?.allowPrivilegeEscalation !== false));
  return bad.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${containersPhrase(bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
};

const capabilitiesRestricted: PodCheck = (_meta, spec) => {
  const missingDrop: string[] = [];
  const adding: string[] = [];
  const caps: string[] = [];
  for (const c of containersOf(spec)) {
    if (!isSet(scOf(c)?.capabilities)) {
      missingDrop.push(String(c.name ?? ''));
      continue;
    }
    if (!droppedCapabilities(c).includes('ALL')) missingDrop.push(String(c.name ?? ''));
    const extra = addedCapabilities(c).filter((cap) => cap !== 'NET_BIND_SERVICE');
    if (extra.length) {
      adding.push(String(c.name ?? ''));
      caps.push(...extra);
    }
  }
  const details: string[] = [];
  if (missingDrop.length) details.push(`${containersPhrase(missingDrop)} must set securityContext.capabilities.drop=["ALL"]`);
  if (adding.length) details.push(`${containersPhrase(adding)} must not include ${joinQuote(sortedSet(caps))} in securityContext.capabilities.add`);
  return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
};

const ALLOWED_VOLUME_SOURCES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];
const RESTRICTED_VOLUME_SOURCES = [
  'hostPath', 'gcePersistentDisk', 'awsElasticBlockStore', 'gitRepo', 'nfs', 'iscsi', 'glusterfs', 'rbd', 'flexVolume', 'cinder', 'cephfs',
  'flocker', 'fc', 'azureFile', 'vsphereVolume', 'quobyte', 'azureDisk', 'photonPersistentDisk', 'portworxVolume', 'scaleIO', 'storageos',
];

const restrictedVolumes: PodCheck = (_meta, spec) => {
  const bad: string[] = [];
  const types = new Set<string>();
  for (const v of Array.isArray(spec.volumes) ? spec.volumes : []) {
    if (!v || typeof v !== 'object') continue;
    if (ALLOWED_VOLUME_SOURCES.some((s) => isSet(v[s]))) continue;
    bad.push(String(v.name ?? ''));
    types.add(RESTRICTED_VOLUME_SOURCES.find((s) => isSet(v[s])) ?? 'unknown');
  }
  if (!bad.length) return undefined;
  const list = sortedSet(types);
  return {
    reason: 'restricted volume types',
    detail: `${plural('volume', 'volumes', bad.length)} ${joinQuote(bad)} ${plural('uses', 'use', bad.length)} ${plural('restricted volume type', 'restricted volume types', list.length)} ${joinQuote(list)}`,
  };
};

const runAsNonRoot: PodCheck = (_meta, spec) => {
  const setters: string[] = [];
  const podValue = podScOf(spec)?.runAsNonRoot;
  if (podValue === false) setters.push('pod');
  const podNonRoot = podValue === true;
  const explicit: string[] = [];
  const implicit: string[] = [];
  for (const c of containersOf(spec)) {
    const v = scOf(c)?.runAsNonRoot;
    if (isSet(v)) {
      if (v === false) explicit.push(String(c.name ?? ''));
    } else if (!podNonRoot) implicit.push(String(c.name ?? ''));
  }
  if (explicit.length) setters.push(containersPhrase(explicit));
  if (setters.length) return { reason: 'runAsNonRoot != true', detail: `${setters.join(' and ')} must not set securityContext.runAsNonRoot=false` };
  if (implicit.length) return { reason: 'runAsNonRoot != true', detail: `pod or ${containersPhrase(implicit)} must set securityContext.runAsNonRoot=true` };
  return undefined;
};

const runAsUser: PodCheck = (_meta, spec) => {
  const setters: string[] = [];
  if (podScOf(spec)?.runAsUser === 0) setters.push('pod');
  const bad = names(containersOf(spec).filter((c) => scOf(c)?.runAsUser === 0));
  if (bad.length) setters.push(containersPhrase(bad));
  return setters.length ? { reason: 'runAsUser=0', detail: `${setters.join(' and ')} must not set runAsUser=0` } : undefined;
};

/** A restricted check that exempts pods declaring spec.os.name=windows (from v1.25). */
const exceptWindows = (check: PodCheck): PodCheck => (meta, spec) => (isWindows(spec) ? undefined : check(meta, spec));

const CHECKS: Check[] = [
  { id: 'appArmorProfile', level: 'baseline', versions: [{ since: 0, check: appArmor }] },
  { id: 'capabilities_baseline', level: 'baseline', versions: [{ since: 0, check: capabilitiesBaseline }] },
  { id: 'hostNamespaces', level: 'baseline', versions: [{ since: 0, check: hostNamespaces }] },
  { id: 'hostPathVolumes', level: 'baseline', versions: [{ since: 0, check: hostPathVolumes }] },
  { id: 'hostPorts', level: 'baseline', versions: [{ since: 0, check: hostPorts }] },
  { id: 'privileged', level: 'baseline', versions: [{ since: 0, check: privileged }] },
  { id: 'procMount', level: 'baseline', versions: [{ since: 0, check: procMount }] },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    versions: [
      { since: 0, check: seLinuxCheck(new Set(['', 'container_t', 'container_init_t', 'container_kvm_t'])) },
      { since: 31, check: seLinuxCheck(new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'])) },
    ],
  },
  { id: 'seccompProfile_baseline', level: 'baseline', versions: [{ since: 0, check: seccompBaselineAnnotations }, { since: 19, check: seccompFields(false) }] },
  {
    id: 'sysctls',
    level: 'baseline',
    versions: [
      { since: 0, check: sysctlCheck(SYSCTLS_1_0) },
      { since: 27, check: sysctlCheck(SYSCTLS_1_27) },
      { since: 29, check: sysctlCheck(SYSCTLS_1_29) },
      { since: 32, check: sysctlCheck(SYSCTLS_1_32) },
    ],
  },
  { id: 'windowsHostProcess', level: 'baseline', versions: [{ since: 0, check: hostProcess }] },
  { id: 'allowPrivilegeEscalation', level: 'restricted', versions: [{ since: 8, check: allowPrivilegeEscalation }, { since: 25, check: exceptWindows(allowPrivilegeEscalation) }] },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    versions: [
      { since: 22, check: capabilitiesRestricted, overrides: ['capabilities_baseline'] },
      { since: 25, check: exceptWindows(capabilitiesRestricted), overrides: ['capabilities_baseline'] },
    ],
  },
  { id: 'restrictedVolumes', level: 'restricted', versions: [{ since: 0, check: restrictedVolumes, overrides: ['hostPathVolumes'] }] },
  { id: 'runAsNonRoot', level: 'restricted', versions: [{ since: 0, check: runAsNonRoot }] },
  { id: 'runAsUser', level: 'restricted', versions: [{ since: 23, check: runAsUser }] },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    versions: [
      { since: 19, check: seccompFields(true), overrides: ['seccompProfile_baseline'] },
      { since: 25, check: exceptWindows(seccompFields(true)), overrides: ['seccompProfile_baseline'] },
    ],
  },
];

/** Kubernetes orders results by check id, baseline checks first (Go's byte-wise string order). */
const byId = (a: Check, b: Check) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
const ORDERED = [...CHECKS.filter((c) => c.level === 'baseline').sort(byId), ...CHECKS.filter((c) => c.level === 'restricted').sort(byId)];

function versionAt(c: Check, minor: number): VersionedCheck | undefined {
  let found: VersionedCheck | undefined;
  for (const v of c.versions) if (v.since <= minor) found = v;
  return found;
}

/** What the checks of a level and version say of a pod: every violation, in Kubernetes' order. */
export function evaluatePod(lv: LevelVersion, meta: PodMetaLike | undefined, spec: PodSpecLike | undefined): Violation[] {
  if (lv.level === 'privileged' || !spec || typeof spec !== 'object') return [];
  const minor = lv.version === 'latest' ? LATEST_MINOR : Math.min(lv.version, LATEST_MINOR);
  const applicable = ORDERED.map((c) => ({ c, v: versionAt(c, minor) })).filter((x): x is { c: Check; v: VersionedCheck } => !!x.v);
  const wanted = applicable.filter((x) => x.c.level === 'baseline' || lv.level === 'restricted');
  const overridden = new Set(lv.level === 'restricted' ? wanted.flatMap((x) => (x.c.level === 'restricted' ? x.v.overrides ?? [] : [])) : []);
  const out: Violation[] = [];
  for (const { c, v } of wanted) {
    if (overridden.has(c.id)) continue;
    const violation = v.check(meta ?? {}, spec);
    if (violation) out.push(violation);
  }
  return out;
}

/** "host namespaces (hostNetwork=true), hostPath volumes (volume "root")": reasons with their details. */
export function forbiddenDetail(violations: Violation[]): string {
  return violations.map((v) => (v.detail ? `${v.reason} (${v.detail})` : v.reason)).join(', ');
}

/** "host namespaces, hostPath volumes": the reasons alone, as a namespace's pods are summed up. */
export function forbiddenReason(violations: Violation[]): string {
  return violations.map((v) => v.reason).join(', ');
}

/** The pod template of a workload kind Kubernetes checks (warnings only), or undefined. */
export function podTemplateOf(kind: string, obj: KubeObject): { meta: PodMetaLike; spec: PodSpecLike } | undefined {
  const template = kind === 'CronJob' ? obj.spec?.jobTemplate?.spec?.template : obj.spec?.template;
  if (!template || typeof template !== 'object') return undefined;
  return { meta: template.metadata ?? {}, spec: template.spec ?? {} };
}

/**
 * The warnings of a namespace whose enforce level becomes stricter, about its existing pods, as
 * Kubernetes' EvaluatePodsInNamespace: pods grouped by their reasons, one pod per controller
 * first, at most maxPods of them.
 */
export function existingPodWarnings(namespace: string, enforce: LevelVersion, pods: KubeObject[], maxPods = 3000): string[] {
  const first: KubeObject[] = [];
  const duplicates: KubeObject[] = [];
  const controllers = new Set<string>();
  for (const pod of pods) {
    const controller = (pod.metadata.ownerReferences ?? []).find((o) => o.controller);
    if (!controller) first.push(pod);
    else if (controllers.has(controller.uid)) duplicates.push(pod);
    else {
      controllers.add(controller.uid);
      first.push(pod);
    }
  }
  const ordered = [...first, ...duplicates];
  const checked = ordered.slice(0, maxPods);
  const groups = new Map<string, { name: string; count: number }>();
  const reasons: string[] = [];
  for (const pod of checked) {
    const violations = evaluatePod(enforce, pod.metadata, pod.spec);
    if (!violations.length) continue;
    const reason = forbiddenReason(violations);
    const g = groups.get(reason);
    if (!g) {
      groups.set(reason, { name: pod.metadata.name ?? '', count: 1 });
      reasons.push(reason);
    } else {
      g.count++;
      if ((pod.metadata.name ?? '') < g.name) g.name = pod.metadata.name ?? '';
    }
  }
  const out: string[] = [];
  if (checked.length < ordered.length) out.push(`new PodSecurity enforce level only checked against the first ${checked.length} of ${ordered.length} existing pods`);
  if (reasons.length) out.push(`existing pods in namespace ${quoteGo(namespace)} violate the new PodSecurity enforce level ${quoteGo(formatLevelVersion(enforce))}`);
  const decorated = reasons.map((reason) => {
    const g = groups.get(reason)!;
    if (g.count === 1) return `${g.name}: ${reason}`;
    if (g.count === 2) return `${g.name} (and 1 other pod): ${reason}`;
    return `${g.name} (and ${g.count - 1} other pods): ${reason}`;
  });
  return [...out, ...decorated.sort()];
}

/**
 * The warning for Pod Security labels on an exempt namespace, which are ignored; undefined when
 * they ask for nothing beyond the defaults.
 */
export function exemptNamespaceWarning(namespace: string, policy: PodSecurityPolicy, defaults: PodSecurityPolicy, labels: Record<string, string> | undefined): string | undefined {
  const equivalent = (a: LevelVersion, b: LevelVersion) => (a.level === 'privileged' && b.level === 'privileged') || sameLevelVersion(a, b);
  if (fullyPrivileged(policy) || (equivalent(policy.enforce, defaults.enforce) && equivalent(policy.audit, defaults.audit) && equivalent(policy.warn, defaults.warn))) return undefined;
  const has = (...keys: string[]) => keys.some((k) => labels?.[k] !== undefined);
  const parts: string[] = [];
  if (policy.enforce.level !== 'privileged' && has(POD_SECURITY_LABELS.enforce, POD_SECURITY_LABELS.enforceVersion)) parts.push(`enforce=${formatLevelVersion(policy.enforce)}`);
  if (policy.audit.level !== 'privileged' && has(POD_SECURITY_LABELS.audit, POD_SECURITY_LABELS.auditVersion)) parts.push(`audit=${formatLevelVersion(policy.audit)}`);
  if (policy.warn.level !== 'privileged' && has(POD_SECURITY_LABELS.warn, POD_SECURITY_LABELS.warnVersion)) parts.push(`warn=${formatLevelVersion(policy.warn)}`);
  return `namespace ${quoteGo(namespace)} is exempt from Pod Security, and the policy (${parts.join(', ')}) will be ignored`;
}
