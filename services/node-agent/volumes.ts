// What a container sees besides its image: volumes (emptyDir, configMap, secret, hostPath) laid
// out as directories under the agent's data directory and bind-mounted, and environment variables
// from literal values, the downward API, ConfigMaps and Secrets. A missing reference is a
// ContainerConfigError, shown as Kubernetes shows it (CreateContainerConfigError).
import { mkdir, readFile, rm, writeFile, readdir, unlink } from 'node:fs/promises';
import { join, dirname, normalize } from 'node:path';
import type { Container, KubeObject, Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { DecryptionError } from '../../shared/store/encryption.ts';

export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

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

export async function prepareVolumes(store: Store, dataDir: string, pod: Pod): Promise<Map<string, { path: string; readOnly: boolean }>> {
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

export function mountsFor(c: Container, volumes: Map<string, { path: string; readOnly: boolean }>): Mount[] {
  return ((c.volumeMounts ?? []) as any[]).map((m) => {
    const v = volumes.get(m.name);
    if (!v) throw new ContainerConfigError(`volumeMount "${m.name}" of container "${c.name}" names no volume of the pod`);
    return { hostPath: m.subPath ? join(v.path, m.subPath) : v.path, containerPath: m.mountPath, readOnly: m.readOnly ?? v.readOnly };
  });
}

export async function removePodData(dataDir: string, uid: string): Promise<void> {
  await rm(podDir(dataDir, uid), { recursive: true, force: true });
}

/** $(VAR) references to earlier variables, as Kubernetes expands them; $$ escapes. */
function expandVars(value: string, defined: Map<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name) => {
    if (m === '$$') return '$';
    return defined.has(name) ? defined.get(name)! : m;
  });
}

/**
 * The container's environment in Kubernetes' order: envFrom sources first, then env entries
 * (later ones win), with the downward API, ConfigMap and Secret references resolved.
 */
export async function resolveEnv(store: Store, pod: Pod, podIP: string, c: Container, nodeName: string, hostIP: string): Promise<{ name: string; value: string }[]> {
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
      env.set(e.name, expandVars(e.value, env));
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
  return [...env.entries()].map(([name, value]) => ({ name, value }));
}
