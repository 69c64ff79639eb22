// The node's local-path provisioner (rancher.io/local-path, as k3s ships it), run by the node agent
// because the agent owns the node's disk: a claim of a local-path class whose first pod the
// scheduler placed here (volume.kubernetes.io/selected-node) gets a directory under the agent's
// data directory, <dataDir>/storage/pvc-UID_NAMESPACE_NAME, and a hostPath PersistentVolume
// pinned to this node by nodeAffinity on kubernetes.io/hostname, which the PV controller binds.
// A released volume of this node whose policy is Delete loses its directory, then its object;
// Retain leaves both. Level-triggered: every change of a claim or volume runs one pass over all.
import { mkdir, rm } from 'node:fs/promises';
import { join, relative, isAbsolute } from 'node:path';
import type { Redis } from 'ioredis';
import type { Store } from '../../shared/store/store.ts';
import type { Logger } from '../../shared/log.ts';
import type { EventRecorder } from '../../shared/events.ts';
import { Informer } from '../../shared/store/informer.ts';
import { isAlreadyExists, isNotFound } from '../../shared/errors.ts';
import {
  ANN_PROVISIONED_BY, ANN_SELECTED_NODE, ANN_STORAGE_PROVISIONER, HOSTNAME_LABEL, LOCAL_PATH_PROVISIONER, pinnedNodes,
  type PersistentVolume, type PersistentVolumeClaim, type StorageClass,
} from '../../shared/api/storage.ts';

export interface LocalPathOptions {
  store: Store;
  nodeName: string;
  dataDir: string;
  connect: () => Redis;
  log: Logger;
  /** Events on claims, as the provisioner reports them. */
  events: EventRecorder;
  resyncMs: number;
}

/** The volume a claim gets: its name, its directory, and the object to create. */
export function provisionedVolume(claim: PersistentVolumeClaim, cls: StorageClass, nodeName: string, storageDir: string): PersistentVolume {
  const name = `pvc-${claim.metadata.uid}`;
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, annotations: { [ANN_PROVISIONED_BY]: LOCAL_PATH_PROVISIONER, 'local.path.provisioner/selected-node': nodeName } },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.storage ?? '0' },
      accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: cls.reclaimPolicy ?? 'Delete',
      storageClassName: cls.metadata.name,
      volumeMode: claim.spec.volumeMode ?? 'Filesystem',
      claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion },
      hostPath: { path: join(storageDir, `${name}_${claim.metadata.namespace}_${claim.metadata.name}`), type: 'DirectoryOrCreate' },
      nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [nodeName] }] }] } },
    },
  };
}

/** Claims this node should provision: unbound, alive, local-path, their first pod placed here. */
export function claimsToProvision(claims: PersistentVolumeClaim[], classes: Map<string, StorageClass>, volumes: Set<string>, nodeName: string): { claim: PersistentVolumeClaim; cls: StorageClass }[] {
  const out: { claim: PersistentVolumeClaim; cls: StorageClass }[] = [];
  for (const claim of claims) {
    if (claim.spec.volumeName || claim.metadata.deletionTimestamp) continue;
    const a = claim.metadata.annotations ?? {};
    if (a[ANN_SELECTED_NODE] !== nodeName || a[ANN_STORAGE_PROVISIONER] !== LOCAL_PATH_PROVISIONER) continue;
    const cls = classes.get(claim.spec.storageClassName ?? '');
    if (!cls || cls.provisioner !== LOCAL_PATH_PROVISIONER) continue;
    if (volumes.has(`pvc-${claim.metadata.uid}`)) continue;
    out.push({ claim, cls });
  }
  return out;
}

/** Volumes of this node to delete: made here by local-path, released, policy Delete. */
export function volumesToDelete(volumes: PersistentVolume[], nodeName: string): PersistentVolume[] {
  return volumes.filter((v) => !v.metadata.deletionTimestamp && v.metadata.annotations?.[ANN_PROVISIONED_BY] === LOCAL_PATH_PROVISIONER
    && (pinnedNodes(v) ?? []).includes(nodeName)
    && v.status?.phase === 'Released'
    && v.spec.persistentVolumeReclaimPolicy === 'Delete');
}

export class LocalPathProvisioner {
  private readonly claims: Informer<PersistentVolumeClaim>;
  private readonly volumes: Informer<PersistentVolume>;
  private readonly storageDir: string;
  private running = false;
  private again = false;
  private timer?: NodeJS.Timeout;

  constructor(private readonly opts: LocalPathOptions) {
    this.storageDir = join(opts.dataDir, 'storage');
    const onChange = () => this.kick();
    this.claims = new Informer<PersistentVolumeClaim>({ store: opts.store, resource: 'persistentvolumeclaims', connection: opts.connect(), log: opts.log, onChange });
    this.volumes = new Informer<PersistentVolume>({ store: opts.store, resource: 'persistentvolumes', connection: opts.connect(), log: opts.log, onChange });
  }

  async start(): Promise<void> {
    await this.claims.start();
    await this.volumes.start();
    this.timer = setInterval(() => this.kick(), this.opts.resyncMs);
    this.kick();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.claims.stop();
    await this.volumes.stop();
  }

  /** One pass at a time; changes during a pass run another after it. */
  private kick(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.sync()
      .catch((err) => this.opts.log.warn({ err: err.message }, 'local-path provisioning pass failed'))
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.kick();
        }
      });
  }

  private async sync(): Promise<void> {
    const { store, nodeName, events } = this.opts;
    const volumes = this.volumes.list();
    const names = new Set(volumes.map((v) => v.metadata.name!));
    const classes = new Map((await store.list<StorageClass>('storageclasses')).items.map((c) => [c.metadata.name!, c]));
    for (const { claim, cls } of claimsToProvision(this.claims.list(), classes, names, nodeName)) {
      const pv = provisionedVolume(claim, cls, nodeName, this.storageDir);
      const key = `${claim.metadata.namespace}/${claim.metadata.name}`;
      await events.normal(claim, 'Provisioning', `External provisioner is provisioning volume for claim "${key}"`);
      await mkdir(pv.spec.hostPath!.path, { recursive: true, mode: 0o777 });
      try {
        await store.create('persistentvolumes', pv);
        await events.normal(claim, 'ProvisioningSucceeded', `Successfully provisioned volume ${pv.metadata.name}`);
      } catch (err) {
        if (!isAlreadyExists(err)) {
          await events.warning(claim, 'ProvisioningFailed', `failed to provision volume with StorageClass "${cls.metadata.name}": ${(err as Error).message}`);
          throw err;
        }
      }
    }
    for (const pv of volumesToDelete(volumes, nodeName)) {
      const path = pv.spec.hostPath?.path;
      // Only ever a directory this provisioner made, under its own storage directory.
      const rel = path ? relative(this.storageDir, path) : '';
      if (path && rel && !rel.startsWith('..') && !isAbsolute(rel)) await rm(path, { recursive: true, force: true });
      await store.delete('persistentvolumes', undefined, pv.metadata.name!, { preconditions: { uid: pv.metadata.uid } }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
      this.opts.log.info({ volume: pv.metadata.name, path }, 'deleted a released local-path volume');
    }
  }
}
