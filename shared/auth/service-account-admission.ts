// Kubernetes' ServiceAccount admission plugin (plugin/pkg/admission/serviceaccount), run on every
// pod create in the store's write path, so pods of controllers get it exactly as users' do: a pod
// runs as `default` unless it names a ServiceAccount; one that names a ServiceAccount that does not
// exist is refused (a ReplicaSet's controller retries, as in Kubernetes); and unless
// automountServiceAccountToken is false on the pod (or, when the pod says nothing, on the
// ServiceAccount), every container and init container gets the projected volume
// kube-api-access-xxxxx (a bound token, the cluster CA, the namespace) at
// /var/run/secrets/kubernetes.io/serviceaccount.
import { randomBytes } from 'node:crypto';
import type { KubeObject, Pod } from '../types.ts';
import { ForbiddenError } from '../errors.ts';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
/** Where in-cluster clients look for the token, the CA and the namespace. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** The ConfigMap the root-CA publisher keeps in every namespace. */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** The lifetime the plugin asks for (Kubernetes' WarnOnlyBoundTokenExpirationSeconds: an hour and 7 s). */
export const INJECTED_TOKEN_EXPIRATION_SECONDS = 3607;

/** The projected volume Kubernetes injects (TokenVolumeSource), named `name`. */
export function tokenVolume(name: string): Record<string, unknown> {
  return {
    name,
    projected: {
      sources: [
        { serviceAccountToken: { expirationSeconds: INJECTED_TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
      defaultMode: 0o644,
    },
  };
}

/** Whether the token is mounted: the pod's own setting wins, then the ServiceAccount's; by default it is. */
export function shouldAutomount(pod: Pod, sa: KubeObject): boolean {
  if (typeof pod.spec.automountServiceAccountToken === 'boolean') return pod.spec.automountServiceAccountToken;
  return sa.automountServiceAccountToken !== false;
}

const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** apimachinery's SimpleNameGenerator suffix: 5 characters without vowels or look-alikes. */
function nameSuffix(): string {
  let s = '';
  for (const b of randomBytes(5)) s += ALPHANUMS[b % ALPHANUMS.length];
  return s;
}

/**
 * Mounts the token volume in every container and init container that has nothing mounted at the
 * ServiceAccount path yet, adding the volume if one needs it (mountServiceAccountToken). A pod that
 * already has a kube-api-access-* volume keeps it and gets it mounted. Ephemeral containers are
 * left alone, as in Kubernetes. Mutates pod.spec.
 */
export function mountServiceAccountToken(spec: Pod['spec'], suffix = nameSuffix()): void {
  const volumes = (spec.volumes ?? []) as { name: string }[];
  const existing = volumes.find((v) => typeof v?.name === 'string' && v.name.startsWith(TOKEN_VOLUME_PREFIX));
  const volumeName = existing?.name ?? `${TOKEN_VOLUME_PREFIX}${suffix}`;
  let needed = false;
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const mounts = (c.volumeMounts ?? []) as { mountPath?: string }[];
    if (mounts.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
    c.volumeMounts = [...mounts, { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
    needed = true;
  }
  if (needed && !existing) spec.volumes = [...volumes, tokenVolume(volumeName)];
}

/** The image pull secrets of the ServiceAccount, for a pod that names none. */
export function inheritImagePullSecrets(spec: Pod['spec'], sa: KubeObject): void {
  if ((spec.imagePullSecrets ?? []).length || !(sa.imagePullSecrets ?? []).length) return;
  spec.imagePullSecrets = (sa.imagePullSecrets as { name: string }[]).map((s) => ({ name: s.name }));
}

/**
 * The name admission errors give a pod: with generateName, the prefix (Kubernetes admits before the
 * name is generated, so its messages say `pods "web-7c5dd-" is forbidden`).
 */
export function admissionName(obj: KubeObject): string {
  const { name = '', generateName } = obj.metadata;
  if (generateName) {
    const prefix = generateName.slice(0, 58);
    if (name.length === prefix.length + 5 && name.startsWith(prefix)) return generateName;
  }
  return name || generateName || '';
}

export interface ServiceAccountLookup {
  get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | null>;
}

/**
 * Reads the pod's ServiceAccount as Kubernetes' getServiceAccount does: `default` is looked for up
 * to 10 times, 100-200 ms apart, since its controller creates it just after the namespace.
 */
async function lookUp(reader: ServiceAccountLookup, namespace: string, name: string, sleep: (ms: number) => Promise<void>): Promise<KubeObject | null> {
  const attempts = name === DEFAULT_SERVICE_ACCOUNT ? 10 : 1;
  const interval = 100 + Math.floor(Math.random() * 100);
  for (let i = 0; i < attempts; i++) {
    if (i > 0) await sleep(interval);
    const sa = await reader.get('serviceaccounts', namespace, name);
    if (sa) return sa;
  }
  return null;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The plugin's Admit for a new pod: names, checks and mounts its ServiceAccount. Throws 403. */
export async function admitPodServiceAccount(pod: Pod, reader: ServiceAccountLookup, sleep = realSleep): Promise<void> {
  const spec = pod.spec;
  // The v1 conversion: the deprecated serviceAccount names it when serviceAccountName does not.
  if (!spec.serviceAccountName) spec.serviceAccountName = spec.serviceAccount || DEFAULT_SERVICE_ACCOUNT;
  const namespace = pod.metadata.namespace ?? 'default';
  const name = spec.serviceAccountName as string;
  const sa = await lookUp(reader, namespace, name, sleep);
  if (!sa) {
    throw new ForbiddenError(`pods "${admissionName(pod)}" is forbidden: error looking up service account ${namespace}/${name}: serviceaccount "${name}" not found`, { name: admissionName(pod), kind: 'pods' });
  }
  if (shouldAutomount(pod, sa)) mountServiceAccountToken(spec);
  inheritImagePullSecrets(spec, sa);
  // ... and it names the ServiceAccount again on the way out.
  spec.serviceAccount = spec.serviceAccountName;
}
