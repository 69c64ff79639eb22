// What a container sees besides its image: volumes (emptyDir, configMap, secret, projected,
// downwardAPI, hostPath, persistentVolumeClaim) laid out as directories under the agent's data directory and
// bind-mounted, and environment variables from literal values, the downward API, ConfigMaps,
// Secrets and the Services of the pod's namespace. A missing reference is a
// ContainerConfigError, shown as Kubernetes shows it (CreateContainerConfigError).
import { chmod, lstat, mkdir, readFile, realpath, rm, stat, writeFile, readdir, unlink } from 'node:fs/promises';
import { join, dirname, normalize, relative, isAbsolute } from 'node:path';
import type { Container, KubeObject, Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { ContainerConfigError } from './runtime/types.ts';
import { DecryptionError } from '../../shared/store/encryption.ts';

export { ContainerConfigError };

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

function podDir(dataDir: string, uid: string): string {
  return join(dataDir, 'pods', uid);
}

/** Files of a ConfigMap or Secret volume: every key, or the listed items at their paths. */
export function projectedFiles(data: Record<string, string>, items: { key: string; path: string }[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (items?.length) {
    for (const item of items) if (item.key in data) out.set(item.path, data[item.key]);
  } else {
    for (const [k, v] of Object.entries(data)) out.set(k, v);
  }
  for (const path of out.keys()) {
    if (path.startsWith('/') || normalize(path).startsWith('..')) throw new ContainerConfigError(`invalid path "${path}" in volume items`);
  }
  return out;
}

function decodedSecret(secret: KubeObject): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries((secret.data ?? {}) as Record<string, string>)) out[k] = Buffer.from(v, 'base64').toString('utf8');
  for (const [k, v] of Object.entries((secret.stringData ?? {}) as Record<string, string>)) out[k] = v;
  return out;
}

function configMapData(cm: KubeObject): Record<string, string> {
  const out: Record<string, string> = { ...(cm.data ?? {}) };
  for (const [k, v] of Object.entries((cm.binaryData ?? {}) as Record<string, string>)) out[k] = Buffer.from(v, 'base64').toString('latin1');
  return out;
}

/** Writes the files, replacing changed ones and removing keys that went away. */
async function syncDirectory(dir: string, files: Map<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [path, content] of files) {
    const target = join(dir, path);
    await mkdir(dirname(target), { recursive: true });
    const current = await readFile(target, 'utf8').catch(() => undefined);
    if (current !== content) {
      // Write then rename, so a reader never sees half a file.
      await writeFile(`${target}.tmp`, content);
      const { rename } = await import('node:fs/promises');
      await rename(`${target}.tmp`, target);
    }
  }
  const top = new Set([...files.keys()].map((p) => p.split('/')[0]));
  for (const entry of await readdir(dir)) if (!top.has(entry)) await rm(join(dir, entry), { recursive: true, force: true }).catch(() => unlink(join(dir, entry)));
}

/** Go's %q of a string, as the downward API writes label and annotation values. */
function goQuote(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A map as the downward API writes it to a file: `key="value"` lines, sorted by key. */
function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {}).sort().map((k) => `${k}=${goQuote(map![k])}`).join('\n');
}

/** The value of a downward API file item: a field of the pod's metadata, or a container's resource. */
export function downwardValue(pod: Pod, item: { path: string; fieldRef?: { fieldPath: string }; resourceFieldRef?: { containerName?: string; resource: string } }): string {
  if (item.fieldRef) {
    const path = item.fieldRef.fieldPath;
    const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
    const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
    if (label) return pod.metadata.labels?.[label[1]] ?? '';
    if (annotation) return pod.metadata.annotations?.[annotation[1]] ?? '';
    switch (path) {
      case 'metadata.name':
        return pod.metadata.name ?? '';
      case 'metadata.namespace':
        return pod.metadata.namespace ?? '';
      case 'metadata.uid':
        return pod.metadata.uid ?? '';
      case 'metadata.labels':
        return formatMap(pod.metadata.labels);
      case 'metadata.annotations':
        return formatMap(pod.metadata.annotations);
      default:
        throw new ContainerConfigError(`unsupported fieldPath "${path}" in downward API volume item "${item.path}"`);
    }
  }
  if (item.resourceFieldRef) {
    const r = item.resourceFieldRef;
    const c = pod.spec.containers.find((x) => x.name === r.containerName) ?? pod.spec.containers[0];
    return String(c?.resources?.limits?.[r.resource.replace(/^limits\./, '')] ?? c?.resources?.requests?.[r.resource.replace(/^requests\./, '')] ?? '');
  }
  return '';
}

function checkedPath(path: string): string {
  if (path.startsWith('/') || normalize(path).startsWith('..')) throw new ContainerConfigError(`invalid path "${path}" in volume items`);
  return path;
}

/** A pod's token for a serviceAccountToken projection (node-agent/pod-tokens.ts). */
export type ProjectedToken = (pod: Pod, projection: { audience?: string; expirationSeconds?: number; path: string }) => Promise<string>;

/**
 * The files of a projected volume: its ConfigMaps', Secrets' and downward API's items and its
 * ServiceAccount token, in one directory (Kubernetes' projected volume). Without a token source
 * (simulated nodes) the token is left out.
 */
async function projectedVolumeFiles(store: Store, pod: Pod, sources: any[], token: ProjectedToken | undefined): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  const ns = pod.metadata.namespace;
  for (const source of sources) {
    if (source.configMap) {
      const cm = await store.get('configmaps', ns, source.configMap.name);
      if (!cm && !source.configMap.optional) throw new ContainerConfigError(`configmap "${source.configMap.name}" not found`);
      for (const [k, v] of cm ? projectedFiles(configMapData(cm), source.configMap.items) : []) files.set(k, v);
    } else if (source.secret) {
      const secret = await readSource(store, 'secrets', ns, source.secret.name);
      if (!secret && !source.secret.optional) throw new ContainerConfigError(`secret "${source.secret.name}" not found`);
      for (const [k, v] of secret ? projectedFiles(decodedSecret(secret), source.secret.items) : []) files.set(k, v);
    } else if (source.downwardAPI) {
      for (const item of source.downwardAPI.items ?? []) files.set(checkedPath(item.path), downwardValue(pod, item));
    } else if (source.serviceAccountToken && token) {
      try {
        files.set(checkedPath(source.serviceAccountToken.path), await token(pod, source.serviceAccountToken));
      } catch (err) {
        if (err instanceof ContainerConfigError) throw err;
        throw new ContainerConfigError(`failed to fetch token: ${(err as Error).message}`);
      }
    }
  }
  return files;
}

/** Prepares every volume of the pod; returns volume name → host directory. */
/**
 * A ConfigMap or Secret a pod uses. One this node cannot decrypt (its key is not in this agent's
 * encryption configuration, or the value was altered) is the pod's configuration error, shown on
 * the pod, not a failure of the agent.
 */
async function readSource(store: Store, resource: 'configmaps' | 'secrets', namespace: string | undefined, name: string): Promise<KubeObject | null> {
  try {
    return await store.get(resource, namespace, name);
  } catch (err) {
    if (err instanceof DecryptionError) throw new ContainerConfigError(`${resource === 'secrets' ? 'secret' : 'configmap'} "${name}" cannot be read: ${err.message}`);
    throw err;
  }
}

export async function prepareVolumes(store: Store, dataDir: string, pod: Pod, token?: ProjectedToken): Promise<Map<string, { path: string; readOnly: boolean }>> {
  const out = new Map<string, { path: string; readOnly: boolean }>();
  const base = join(podDir(dataDir, pod.metadata.uid!), 'volumes');
  const ns = pod.metadata.namespace;
  for (const v of (pod.spec.volumes ?? []) as any[]) {
    if (v.emptyDir) {
      const dir = join(base, 'empty-dir', v.name);
      await mkdir(dir, { recursive: true, mode: 0o777 });
      out.set(v.name, { path: dir, readOnly: false });
    } else if (v.configMap) {
      const cm = await store.get('configmaps', ns, v.configMap.name);
      if (!cm && !v.configMap.optional) throw new ContainerConfigError(`configmap "${v.configMap.name}" not found`);
      const dir = join(base, 'configmap', v.name);
      await syncDirectory(dir, cm ? projectedFiles(configMapData(cm), v.configMap.items) : new Map());
      out.set(v.name, { path: dir, readOnly: true });
    } else if (v.secret) {
      const secret = await readSource(store, 'secrets', ns, v.secret.secretName);
      if (!secret && !v.secret.optional) throw new ContainerConfigError(`secret "${v.secret.secretName}" not found`);
      const dir = join(base, 'secret', v.name);
      await syncDirectory(dir, secret ? projectedFiles(decodedSecret(secret), v.secret.items) : new Map());
      out.set(v.name, { path: dir, readOnly: true });
    } else if (v.projected) {
      const dir = join(base, 'projected', v.name);
      await syncDirectory(dir, await projectedVolumeFiles(store, pod, v.projected.sources ?? [], token));
      out.set(v.name, { path: dir, readOnly: true });
    } else if (v.downwardAPI) {
      const dir = join(base, 'downward-api', v.name);
      await syncDirectory(dir, await projectedVolumeFiles(store, pod, [{ downwardAPI: v.downwardAPI }], token));
      out.set(v.name, { path: dir, readOnly: true });
    } else if (v.persistentVolumeClaim) {
      out.set(v.name, await claimVolume(store, pod, v.persistentVolumeClaim));
    } else if (v.hostPath) {
      if (v.hostPath.type === 'DirectoryOrCreate') await mkdir(v.hostPath.path, { recursive: true });
      out.set(v.name, { path: v.hostPath.path, readOnly: false });
    } else {
      const kind = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
      throw new ContainerConfigError(`volume "${v.name}": volume type ${kind} is not supported by this node`);
    }
  }
  return out;
}

/**
 * A claim's volume: the directory of the PersistentVolume bound to it (hostPath or local), created
 * where its type says so. A claim not bound yet is the pod's configuration error, retried as the
 * kubelet retries its mount.
 */
async function claimVolume(store: Store, pod: Pod, source: { claimName: string; readOnly?: boolean }): Promise<{ path: string; readOnly: boolean }> {
  const ns = pod.metadata.namespace;
  const claim = await store.get('persistentvolumeclaims', ns, source.claimName);
  if (!claim) throw new ContainerConfigError(`persistentvolumeclaim "${source.claimName}" not found`);
  if (!claim.spec?.volumeName) throw new ContainerConfigError(`error processing PVC ${ns}/${source.claimName}: PVC is not bound`);
  const pv = await store.get('persistentvolumes', undefined, claim.spec.volumeName);
  if (!pv) throw new ContainerConfigError(`persistentvolume "${claim.spec.volumeName}" not found`);
  if (pv.spec?.claimRef?.uid !== claim.metadata.uid) throw new ContainerConfigError(`error processing PVC ${ns}/${source.claimName}: PVC is not bound`);
  const path = pv.spec?.hostPath?.path ?? pv.spec?.local?.path;
  if (!path) throw new ContainerConfigError(`volume "${claim.spec.volumeName}": this node mounts only hostPath and local persistent volumes`);
  if (pv.spec.hostPath?.type === 'DirectoryOrCreate') await mkdir(path, { recursive: true, mode: 0o777 });
  return { path, readOnly: !!source.readOnly };
}

export async function mountsFor(c: Container, volumes: Map<string, { path: string; readOnly: boolean }>): Promise<Mount[]> {
  const out: Mount[] = [];
  for (const m of (c.volumeMounts ?? []) as any[]) {
    const v = volumes.get(m.name);
    if (!v) throw new ContainerConfigError(`volumeMount "${m.name}" of container "${c.name}" names no volume of the pod`);
    let hostPath = v.path;
    if (m.subPath) {
      const safe = await safeSubPath(v.path, m.subPath);
      // As the kubelet: the user learns which mount failed, not where on the host it pointed.
      if (!safe) throw new ContainerConfigError(`failed to prepare subPath for volumeMount "${m.name}" of container "${c.name}"`);
      hostPath = safe;
    }
    out.push({ hostPath, containerPath: m.mountPath, readOnly: m.readOnly ?? v.readOnly });
  }
  return out;
}

/** Whether path is base itself or below it (both real paths). */
function within(path: string, base: string): boolean {
  const rel = relative(base, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * The real path a subPath of a volume names, created (as directories, with the volume's mode) where
 * it does not exist yet — or undefined when it leaves the volume. Validation already refuses `..`
 * and absolute subPaths; what is left is a symlink inside the volume (one a container wrote into
 * an emptyDir) pointing elsewhere, which Docker would follow when it binds the path. So each
 * component is resolved, and checked to stay under the volume's real directory, as the kubelet's
 * safe subpath does; the engine is handed the resolved path.
 */
export async function safeSubPath(volumePath: string, subPath: string): Promise<string | undefined> {
  let base: string;
  try {
    base = await realpath(volumePath);
  } catch {
    return undefined;
  }
  const mode = (await stat(base)).mode & 0o7777;
  let current = base;
  for (const segment of subPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') return undefined;
    const next = join(current, segment);
    const exists = await lstat(next).then(() => true, () => false);
    if (!exists) {
      const created = await mkdir(next, { mode }).then(() => true, (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
        return false;
      });
      // The umask took bits away: the new directory gets the volume's own mode, as the kubelet's.
      if (created) await chmod(next, mode);
    }
    let real: string;
    try {
      real = await realpath(next);
    } catch {
      // A symlink to nowhere (or to a place this agent cannot see): not inside the volume either.
      return undefined;
    }
    if (!within(real, base)) return undefined;
    current = real;
  }
  return current;
}

export async function removePodData(dataDir: string, uid: string): Promise<void> {
  await rm(podDir(dataDir, uid), { recursive: true, force: true });
}

/** $(VAR) references to earlier variables, then to the Service variables, as Kubernetes expands them; $$ escapes. */
function expandVars(value: string, defined: Map<string, string>, serviceEnv: Map<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) => {
    if (m === '$$') return '$';
    return defined.has(name) ? defined.get(name)! : serviceEnv.has(name) ? serviceEnv.get(name)! : m;
  });
}

/**
 * The container's environment in Kubernetes' order: envFrom sources first, then env entries
 * (later ones win), with the downward API, ConfigMap and Secret references resolved; then the
 * Service variables (serviceEnv) the container does not set itself.
 */
export async function resolveEnv(store: Store, pod: Pod, podIP: string, c: Container, nodeName: string, hostIP: string, serviceEnv: Map<string, string> = new Map()): Promise<{ name: string; value: string }[]> {
  const env = new Map<string, string>();
  const ns = pod.metadata.namespace;
  const cache = new Map<string, KubeObject | null>();
  const lookup = async (resource: 'configmaps' | 'secrets', name: string) => {
    const key = `${resource}/${name}`;
    if (!cache.has(key)) cache.set(key, await readSource(store, resource, ns, name));
    return cache.get(key)!;
  };
  for (const src of (c.envFrom ?? []) as any[]) {
    const ref = src.configMapRef ?? src.secretRef;
    const resource = src.configMapRef ? 'configmaps' : 'secrets';
    const obj = await lookup(resource, ref.name);
    if (!obj) {
      if (ref.optional) continue;
      throw new ContainerConfigError(`${resource === 'configmaps' ? 'configmap' : 'secret'} "${ref.name}" not found`);
    }
    const data = resource === 'configmaps' ? configMapData(obj) : decodedSecret(obj);
    for (const [k, v] of Object.entries(data)) env.set(`${src.prefix ?? ''}${k}`, v);
  }
  for (const e of c.env ?? []) {
    if (e.value !== undefined) {
      env.set(e.name, expandVars(e.value, env, serviceEnv));
      continue;
    }
    const from = e.valueFrom ?? {};
    if (from.fieldRef) {
      const path = from.fieldRef.fieldPath as string;
      const fields: Record<string, string | undefined> = {
        'metadata.name': pod.metadata.name,
        'metadata.namespace': pod.metadata.namespace,
        'metadata.uid': pod.metadata.uid,
        'spec.nodeName': nodeName,
        'spec.serviceAccountName': pod.spec.serviceAccountName ?? 'default',
        'status.podIP': podIP,
        'status.hostIP': hostIP,
      };
      const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
      const annotation = /^metadata\.annotations\['(.+)'\]$/.exec(path);
      env.set(e.name, (label ? pod.metadata.labels?.[label[1]] : annotation ? pod.metadata.annotations?.[annotation[1]] : fields[path]) ?? '');
    } else if (from.configMapKeyRef || from.secretKeyRef) {
      const ref = from.configMapKeyRef ?? from.secretKeyRef;
      const resource = from.configMapKeyRef ? 'configmaps' : 'secrets';
      const what = resource === 'configmaps' ? 'configmap' : 'secret';
      const obj = await lookup(resource, ref.name);
      const data = obj ? (resource === 'configmaps' ? configMapData(obj) : decodedSecret(obj)) : undefined;
      if (!data) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`${what} "${ref.name}" not found`);
      }
      if (!(ref.key in data)) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in ${what[0].toUpperCase()}${what.slice(1)} ${ns}/${ref.name}`);
      }
      env.set(e.name, data[ref.key]);
    } else if (from.resourceFieldRef) {
      const r = from.resourceFieldRef;
      const value = c.resources?.limits?.[r.resource.replace(/^limits\./, '')] ?? c.resources?.requests?.[r.resource.replace(/^requests\./, '')] ?? '';
      env.set(e.name, String(value));
    }
  }
  for (const [name, value] of serviceEnv) if (!env.has(name)) env.set(name, value);
  return [...env.entries()].map(([name, value]) => ({ name, value }));
}
