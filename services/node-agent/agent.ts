// One node: registers its Node, heartbeats (Node status and a Lease), and reconciles the pods
// bound to it from its own queue, against whatever the container runtime actually runs. All it
// needs to remember is in Redis (back-off) or in the containers' labels, so a restarted agent
// converges instead of duplicating or losing containers.
import type { Container, KubeObject, Node, Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { isAlreadyExists, isConflict, isNotFound } from '../../shared/errors.ts';
import type { EventRecorder } from '../../shared/events.ts';
import { WorkQueue, type ReconcileResult } from '../../shared/queue/workqueue.ts';
import { QUEUES } from '../../shared/keys.ts';
import type { Logger } from '../../shared/log.ts';
import { deepEqual, now } from '../../shared/util.ts';
import { cpuMillis, memoryBytes } from '../../shared/api/quantity.ts';
import type { Redis } from 'ioredis';
import {
  ContainerStartError,
  ImagePullError,
  type ContainerRuntime,
  type ContainerSecurity,
  type ContainerSpec,
  type NodeResources,
  type ObservedContainer,
  type PodIdentity,
  type SandboxSpec,
} from './runtime/types.ts';
import { Prober } from './prober.ts';
import type { PodDns } from './proxy/dns-records.ts';
import { ContainerConfigError, mountsFor, prepareVolumes, removePodData, resolveEnv } from './volumes.ts';
import type { PodTokens } from './pod-tokens.ts';
import { serviceEnvVars, servicesForEnv } from './service-env.ts';
import { isSettled } from './settled.ts';
import { effectiveSecurity } from './security-context.ts';
import { readFile } from 'node:fs/promises';
import { join, relative, resolve, isAbsolute } from 'node:path';
import {
  afterExit,
  computePodStatus,
  containerStep,
  latestAttempt,
  networkHolder,
  runsWithoutSandbox,
  type BackoffEntry,
  type PodSandboxMode,
  type BackoffPolicy,
  type BackoffState,
} from './pod-logic.ts';

export interface AgentOptions {
  nodeName: string;
  store: Store;
  runtime: ContainerRuntime;
  events: EventRecorder;
  log: Logger;
  /** The process's shared connection (the work queue's commands); blocking readers get their own through connect. */
  redis: Redis;
  connect: () => Redis;
  backoff: BackoffPolicy;
  heartbeatMs: number;
  resyncMs: number;
  concurrency: number;
  maxPods: number;
  cpuMillis?: number;
  memoryBytes?: number;
  labels?: Record<string, string>;
  endpoint?: { host: string; port: number };
  dataDir: string;
  /**
   * 'auto': a pod of one container (no init containers) runs without a sandbox, its container
   * holding the pod's network, one container start instead of two; 'always' (the default here):
   * every pod has a sandbox, as the kubelet's.
   */
  podSandbox?: PodSandboxMode;
  /** The resolver configuration of a pod's sandbox (cluster DNS); none: the node's own. */
  podDns?: (pod: Pod) => PodDns;
  /** Called before a terminating pod is signalled: stop sending it Service traffic (may wait). */
  drainPod?: (podIp: string | undefined, graceMs: number) => Promise<void>;
  /** The pods' ServiceAccount tokens (projected volumes); none: tokens are left out (simulated nodes). */
  podTokens?: PodTokens;
  /**
   * Hosted mode (many simulated nodes in one process): the pod keys of this node go to a queue
   * the host shares between its nodes, and the host drives heartbeats and resyncs; the agent
   * then starts no queue worker and no timers of its own.
   */
  hosted?: { queue: PodQueue; requestResync: () => void };
}

/** Where an agent asks for a pod key of its node to be reconciled. */
export interface PodQueue {
  add(key: string, delayMs?: number): Promise<void>;
  addAll(keys: Iterable<string>): Promise<void>;
}

const KUBELET_VERSION = 'v1.32.0-wharf';

export class NodeAgent {
  private readonly queue: PodQueue;
  private readonly ownQueue?: WorkQueue;
  private lastStatusAt = 0;
  private readonly store: Store;
  private readonly runtime: ContainerRuntime;
  private readonly log: Logger;
  private resources?: NodeResources;
  private timers: NodeJS.Timeout[] = [];
  private stopWatch?: () => void;
  private readonly keyByUid = new Map<string, string>();
  private readonly prober: Prober;

  constructor(private readonly opts: AgentOptions) {
    this.store = opts.store;
    this.runtime = opts.runtime;
    this.log = opts.log.child({ node: opts.nodeName });
    this.prober = new Prober(opts.runtime, {
      changed: (key) => void this.queue.add(key).catch(() => undefined),
      failed: (key, container, kind, message) => void this.restartUnhealthy(key, container, kind, message),
      unhealthy: (key, container, kind, message) => void this.recordUnhealthy(key, container, kind, message),
    });
    if (opts.hosted) {
      this.queue = opts.hosted.queue;
      return;
    }
    this.queue = this.ownQueue = new WorkQueue({
      name: QUEUES.node(opts.nodeName),
      keys: opts.store.keys,
      redis: opts.redis,
      connect: opts.connect,
      reconcile: (key) => this.reconcile(key),
      log: this.log,
      concurrency: opts.concurrency,
      // Held locks are renewed, so the TTL only decides how soon a killed agent's keys free up.
      lockTtlMs: 8_000,
    });
  }

  get name(): string {
    return this.opts.nodeName;
  }

  async start(): Promise<void> {
    this.resources = await this.runtime.describeNode();
    await this.register();
    this.stopWatch = this.runtime.watch(this.opts.nodeName, (uid) => this.onContainerChange(uid));
    if (!this.ownQueue) return; // hosted: the host starts the queue, resyncs and heartbeats
    await this.ownQueue.clearLocks();
    this.ownQueue.start();
    await this.resync();
    this.timers.push(setInterval(() => void this.heartbeat().catch((err) => this.log.warn({ err: err.message }, 'heartbeat failed')), this.opts.heartbeatMs));
    this.timers.push(setInterval(() => void this.resync().catch((err) => this.log.warn({ err: err.message }, 'resync failed')), this.opts.resyncMs));
  }

  async stop(): Promise<void> {
    this.prober.close();
    for (const t of this.timers) clearInterval(t);
    this.stopWatch?.();
    await this.ownQueue?.close();
  }

  // ---- the Node ----------------------------------------------------------------------------

  private nodeStatus(previous?: Node['status']): Node['status'] {
    const r = this.resources!;
    const cpu = this.opts.cpuMillis ?? r.cpuMillis;
    const memory = this.opts.memoryBytes ?? r.memoryBytes;
    const capacity = { cpu: cpu % 1000 === 0 ? String(cpu / 1000) : `${cpu}m`, memory: `${Math.floor(memory / 1024)}Ki`, pods: String(this.opts.maxPods) };
    const ts = now();
    const ready = (previous?.conditions ?? []).find((c) => c.type === 'Ready');
    const cond = (type: string, status: 'True' | 'False', reason: string, message: string) => {
      const prev = (previous?.conditions ?? []).find((c) => c.type === type);
      return { type, status, reason, message, lastHeartbeatTime: ts, lastTransitionTime: prev?.status === status ? prev.lastTransitionTime ?? ts : ts };
    };
    void ready;
    return {
      capacity,
      allocatable: capacity,
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: r.address },
        { type: 'Hostname', address: this.opts.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.opts.endpoint?.port ?? 10250 } },
      nodeInfo: {
        machineID: this.opts.nodeName,
        systemUUID: this.opts.nodeName,
        bootID: '',
        kernelVersion: r.kernelVersion,
        osImage: r.osImage,
        containerRuntimeVersion: r.runtimeVersion,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: r.os,
        architecture: r.arch,
      },
    };
  }

  private async register(): Promise<void> {
    const labels = {
      'kubernetes.io/hostname': this.opts.nodeName,
      'kubernetes.io/os': this.resources!.os,
      'kubernetes.io/arch': this.resources!.arch,
      'wharf.io/runtime': this.runtime.kind,
      ...(this.runtime.kind === 'simulated' ? { type: 'kwok' } : {}),
      ...this.opts.labels,
    };
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: this.opts.nodeName,
        labels,
        annotations: { 'wharf.io/runtime': this.runtime.kind, ...(this.runtime.kind === 'simulated' ? { 'kwok.x-k8s.io/node': 'fake' } : {}) },
      },
      spec: {},
      status: this.nodeStatus(),
    };
    try {
      const created = await this.store.create('nodes', node);
      await this.renewLease(created.metadata.uid!);
      this.log.info('node registered');
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      await this.store.guaranteedUpdate<Node>('nodes', undefined, this.opts.nodeName, (cur) => {
        cur.metadata.labels = { ...cur.metadata.labels, ...labels };
        return cur;
      });
      await this.heartbeat();
      this.log.info('node re-registered');
    }
    if (this.opts.endpoint) {
      await this.store.setAgentEndpoint(this.opts.nodeName, `${this.opts.endpoint.host}:${this.opts.endpoint.port}`);
    }
  }

  /**
   * Node status and Lease. With statusEveryMs (hosted nodes), the status is written only that often
   * or when it is not what this agent would post (Ready taken away by the lifecycle controller),
   * as the kubelet does with nodeStatusReportFrequency; the Lease is renewed every time.
   */
  async heartbeat(statusEveryMs = 0): Promise<void> {
    const fresh = Date.now() - this.lastStatusAt < statusEveryMs;
    const node = await this.store.guaranteedUpdate<Node>('nodes', undefined, this.opts.nodeName, (cur) => {
      const ready = (cur.status?.conditions ?? []).find((c) => c.type === 'Ready');
      if (fresh && ready?.status === 'True') return null;
      cur.status = this.nodeStatus(cur.status);
      return cur;
    }, { subresource: 'status' });
    const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
    if (!fresh || ready?.status !== 'True') this.lastStatusAt = Date.now();
    await this.renewLease(node.metadata.uid!);
  }

  /** The node's Lease, as the kubelet keeps it: renewed every heartbeat, owned by the Node (it goes with it). */
  private async renewLease(nodeUid: string): Promise<void> {
    const ns = 'kube-node-lease';
    const renewTime = new Date().toISOString().replace('Z', '000Z');
    const owner = [{ apiVersion: 'v1', kind: 'Node', name: this.opts.nodeName, uid: nodeUid }];
    try {
      await this.store.guaranteedUpdate('leases', ns, this.opts.nodeName, (lease) => {
        lease.spec = { ...lease.spec, holderIdentity: this.opts.nodeName, leaseDurationSeconds: 40, renewTime };
        if (!(lease.metadata.ownerReferences ?? []).some((r) => r.kind === 'Node' && r.uid === nodeUid)) lease.metadata.ownerReferences = owner;
        return lease;
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
      await this.store.create('leases', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: this.opts.nodeName, namespace: ns, ownerReferences: owner },
        spec: { holderIdentity: this.opts.nodeName, leaseDurationSeconds: 40, renewTime },
      }).catch((e) => {
        if (isAlreadyExists(e)) return;
        // The API server makes kube-node-lease when it first starts, and an agent may register
        // before that: the next heartbeat tries again, as the kubelet's lease controller does.
        if (isNotFound(e)) return this.log.info({ err: (e as Error).message }, 'namespace kube-node-lease does not exist yet; the Lease is made at the next heartbeat');
        throw e;
      });
    }
  }

  // ---- pods --------------------------------------------------------------------------------

  private onContainerChange(uid: string): void {
    const key = this.keyByUid.get(uid);
    if (key) void this.queue.add(key).catch(() => undefined);
    else if (this.opts.hosted) this.opts.hosted.requestResync();
    else void this.resync().catch(() => undefined);
  }

  /**
   * Queues every pod of this node, and every pod the runtime still has containers of. With
   * onlyUnsettled (a host of many simulated nodes), pods whose status already matches the runtime
   * are left out, and so are their containers.
   */
  async resync(pods?: Pod[], onlyUnsettled = false): Promise<void> {
    const [items, containers] = await Promise.all([
      pods ?? this.store.list<Pod>('pods').then((l) => l.items),
      this.runtime.listContainers(this.opts.nodeName),
    ]);
    const keys = new Set<string>();
    const settledUids = new Set<string>();
    for (const pod of items) {
      if (pod.spec.nodeName !== this.opts.nodeName) continue;
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      this.keyByUid.set(pod.metadata.uid!, key);
      if (onlyUnsettled && isSettled(pod, containers)) settledUids.add(pod.metadata.uid!);
      else keys.add(key);
    }
    for (const c of containers) if (!settledUids.has(c.pod.uid)) keys.add(`${c.pod.namespace}/${c.pod.name}`);
    await this.queue.addAll(keys);
  }

  async reconcile(key: string): Promise<ReconcileResult> {
    const [namespace, name] = key.split('/');
    const pod = await this.store.get<Pod>('pods', namespace, name);
    const mine = await this.runtime.listContainers(this.opts.nodeName, { namespace, name });
    const stale = mine.filter((c) => !pod || c.pod.uid !== pod.metadata.uid || pod.spec.nodeName !== this.opts.nodeName);
    if (stale.length) {
      // Containers of a pod that is gone, replaced (same name, new uid) or moved elsewhere.
      this.prober.forget(stale.map((c) => c.id));
      await this.killAll(stale, 0);
      for (const uid of new Set(stale.map((c) => c.pod.uid))) {
        await this.store.clearBackoff(uid);
        await removePodData(this.opts.dataDir, uid);
        this.opts.podTokens?.forget(uid);
      }
    }
    if (!pod || pod.spec.nodeName !== this.opts.nodeName) return;
    this.keyByUid.set(pod.metadata.uid!, key);
    const current = mine.filter((c) => c.pod.uid === pod.metadata.uid);
    if (pod.metadata.deletionTimestamp) return this.terminate(pod, current);
    return this.run(pod, current);
  }

  private async terminate(pod: Pod, current: ObservedContainer[]): Promise<ReconcileResult> {
    const grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
    this.prober.forget(current.map((c) => c.id));
    const started = Date.now();
    const running = current.some((c) => c.role === 'app' && c.state === 'running');
    if (running) await this.opts.drainPod?.(networkHolder(current)?.ip ?? pod.status?.podIP, grace * 1000);
    await this.runPreStopHooks(pod, current, Math.max(0, grace - Math.floor((Date.now() - started) / 1000)));
    // The hooks' time counts against the grace period, as in Kubernetes.
    await this.killAll(current, Math.max(0, grace - Math.floor((Date.now() - started) / 1000)));
    await this.store.clearBackoff(pod.metadata.uid!);
    await removePodData(this.opts.dataDir, pod.metadata.uid!);
    this.opts.podTokens?.forget(pod.metadata.uid!);
    this.keyByUid.delete(pod.metadata.uid!);
    await this.store.delete('pods', pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } }).catch((err) => {
      if (!isNotFound(err) && !isConflict(err)) throw err;
    });
  }

  /** Runs each running container's preStop hook (exec or httpGet), all at once, within the grace period. */
  private async runPreStopHooks(pod: Pod, current: ObservedContainer[], graceSeconds: number): Promise<void> {
    const podIP = networkHolder(current)?.ip;
    await Promise.all(pod.spec.containers.map(async (spec) => {
      const hook = spec.lifecycle?.preStop;
      const running = current.find((c) => c.role === 'app' && c.name === spec.name && c.state === 'running');
      if (!hook || !running || graceSeconds <= 0) return;
      const timeoutMs = graceSeconds * 1000;
      try {
        if (hook.exec) {
          const r = await this.runtime.exec(running.id, hook.exec.command ?? [], timeoutMs);
          if (r.exitCode !== 0) throw new Error(r.timedOut ? 'timed out' : `exited with ${r.exitCode}: ${r.output.trim()}`);
        } else if (hook.httpGet && podIP) {
          const port = typeof hook.httpGet.port === 'number' ? hook.httpGet.port : (spec.ports ?? []).find((p) => p.name === hook.httpGet.port)?.containerPort ?? Number(hook.httpGet.port);
          await fetch(`http://${hook.httpGet.host || podIP}:${port}${hook.httpGet.path ?? '/'}`, { signal: AbortSignal.timeout(timeoutMs) });
        } else if (hook.sleep?.seconds) {
          await new Promise((r) => setTimeout(r, Math.min(hook.sleep.seconds, graceSeconds) * 1000));
        }
      } catch (err) {
        await this.opts.events.record(pod, 'Warning', 'FailedPreStopHook', `PreStopHook failed: ${(err as Error).message}`, `spec.containers{${spec.name}}`);
      }
    }));
  }

  /** Stops app containers first (with the grace period), then the sandbox; removes them all. */
  private async killAll(containers: ObservedContainer[], graceSeconds: number): Promise<void> {
    const apps = containers.filter((c) => c.role !== 'sandbox');
    await Promise.all(apps.filter((c) => c.state === 'running').map((c) => this.runtime.stopContainer(c.id, graceSeconds)));
    const sandboxes = containers.filter((c) => c.role === 'sandbox');
    await Promise.all(sandboxes.map((c) => this.runtime.stopContainer(c.id, 0)));
    await Promise.all(containers.map((c) => this.runtime.removeContainer(c.id)));
  }

  /** A liveness or startup probe gave up: kill the container; its restart policy brings it back. */
  private async restartUnhealthy(key: string, container: ObservedContainer, kind: string, message: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const pod = await this.store.get<Pod>('pods', namespace, name).catch(() => null);
    if (pod) {
      const why = kind === 'liveness' ? 'failed liveness probe' : 'failed startup probe';
      await this.opts.events.record(pod, 'Normal', 'Killing', `Container ${container.name} ${why}, will be restarted`, `spec.containers{${container.name}}`);
    }
    this.log.info({ pod: key, container: container.name, kind, message }, 'probe failed; restarting container');
    await this.runtime.stopContainer(container.id, pod?.spec.terminationGracePeriodSeconds ?? 30).catch(() => undefined);
    await this.queue.add(key).catch(() => undefined);
  }

  private async recordUnhealthy(key: string, container: string, kind: string, message: string): Promise<void> {
    const [namespace, name] = key.split('/');
    const pod = await this.store.get<Pod>('pods', namespace, name).catch(() => null);
    if (!pod) return;
    const label = kind[0].toUpperCase() + kind.slice(1);
    await this.opts.events.record(pod, 'Warning', 'Unhealthy', `${label} probe failed: ${message}`, `spec.containers{${container}}`);
  }

  private identity(pod: Pod): PodIdentity {
    return { namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid: pod.metadata.uid!, node: this.opts.nodeName };
  }

  private async loadBackoff(uid: string): Promise<BackoffState> {
    const raw = await this.store.backoffOf(uid);
    const out: BackoffState = {};
    for (const [k, v] of Object.entries(raw)) out[k] = JSON.parse(v);
    return out;
  }

  private async saveBackoff(uid: string, container: string, entry: BackoffEntry & { seen?: string }): Promise<void> {
    await this.store.setBackoff(uid, container, JSON.stringify(entry));
  }

  private async run(pod: Pod, current: ObservedContainer[]): Promise<ReconcileResult> {
    const identity = this.identity(pod);
    const restartPolicy = pod.spec.restartPolicy ?? 'Always';
    const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    const backoff = await this.loadBackoff(identity.uid);
    let waits: number[] = [];
    const solo = this.runtime.kind === 'docker' && runsWithoutSandbox(pod, current, this.opts.podSandbox ?? 'always');
    let podIP = networkHolder(current)?.ip;
    if (pod.spec.hostNetwork && current.some((c) => c.role === 'sandbox' && c.state === 'running')) podIP = this.resources!.address;
    // The only container of a pod without a sandbox is being restarted: the pod keeps its IP (asked
    // for again by the next attempt), as a pod whose sandbox outlives its containers does.
    if (solo && !podIP) podIP = pod.status?.podIP;

    if (!terminal) {
      // Count each exit once towards the crash-loop back-off.
      const policy = this.opts.backoff;
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        const latest = latestAttempt(current, c.name);
        const entry = backoff[c.name] as (BackoffEntry & { seen?: string }) | undefined;
        if (latest?.state === 'exited' && entry?.seen !== latest.id) {
          const ran = (Date.parse(latest.finishedAt ?? '') || Date.now()) - (Date.parse(latest.startedAt ?? '') || Date.now());
          const next = { ...afterExit(entry, ran, Date.parse(latest.finishedAt ?? '') || Date.now(), policy), seen: latest.id };
          backoff[c.name] = next;
          await this.saveBackoff(identity.uid, c.name, next);
        }
      }
      const dns = this.opts.podDns?.(pod) ?? {};
      const network: SandboxSpec = {
        ...identity,
        hostname: pod.spec.hostname ?? pod.metadata.name!,
        hostNetwork: pod.spec.hostNetwork === true,
        hostIPC: pod.spec.hostIPC === true,
        dnsServers: dns.nameservers,
        dnsSearch: dns.searches,
        dnsOptions: dns.options,
        ports: pod.spec.containers.flatMap((c) => (c.ports ?? []).filter((p) => p.hostPort).map((p) => ({ containerPort: p.containerPort, hostPort: p.hostPort, protocol: (p.protocol ?? 'TCP') as 'TCP' | 'UDP' }))),
      };
      if (solo) {
        waits = await this.startContainers(pod, networkHolder(current)?.id ?? '', podIP ?? '', current, backoff, restartPolicy, { ...network, requestedIP: pod.status?.podIP });
      } else {
        const sandbox = await this.runtime.ensureSandbox(network);
        // A pod on the node's network has the node's address.
        podIP = pod.spec.hostNetwork ? this.resources!.address : sandbox.ip;
        waits = await this.startContainers(pod, sandbox.id, podIP, current, backoff, restartPolicy);
      }
    }
    const refreshed = (await this.runtime.listContainers(this.opts.nodeName, { namespace: identity.namespace, name: identity.name })).filter((c) => c.pod.uid === identity.uid);
    if (solo) podIP = networkHolder(refreshed)?.ip ?? podIP;
    await this.pruneOldAttempts(refreshed);
    if (!terminal) this.prober.sync(pod, podIP, refreshed);
    await this.writeStatus(pod, refreshed, await this.loadBackoff(identity.uid), podIP);
    if (waits.length) return { requeueAfterMs: Math.max(50, Math.min(...waits)) };
  }

  /**
   * Init containers one at a time, in order; then every app container. Returns back-off waits.
   * With ownNetwork the pod has no sandbox: its only container holds the pod's network (sandboxId
   * is then that container's running instance, if any, for ephemeral containers to join).
   */
  private async startContainers(pod: Pod, sandboxId: string, podIP: string, current: ObservedContainer[], backoff: BackoffState, restartPolicy: string, ownNetwork?: ContainerSpec['ownNetwork']): Promise<number[]> {
    const waits: number[] = [];
    let volumes: Map<string, { path: string; readOnly: boolean }>;
    try {
      const tokens = this.opts.podTokens;
      volumes = await prepareVolumes(this.store, this.opts.dataDir, pod, tokens && ((p, projection) => tokens.token(p, projection)));
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      // Nothing can start until the volume's source exists; every container waits with the reason.
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        if (!latestAttempt(current, c.name)) waits.push(await this.recordConfigError(pod, c, err, backoff));
      }
      await this.opts.events.record(pod, 'Warning', 'FailedMount', `MountVolume.SetUp failed: ${err.message}`);
      return waits;
    }
    // Ephemeral containers start once each, whether or not the pod has finished initialising, as the kubelet's.
    waits.push(...(await this.startEphemeralContainers(pod, sandboxId, podIP, current, backoff, volumes)));
    const initPolicy = restartPolicy === 'Never' ? 'Never' : 'OnFailure';
    for (const c of pod.spec.initContainers ?? []) {
      const latest = latestAttempt(current, c.name);
      if (latest?.state === 'exited' && latest.exitCode === 0) continue;
      const step = containerStep(c, latest, initPolicy, backoff[c.name], Date.now());
      if (step.kind === 'start') {
        const wait = await this.startOne(pod, sandboxId, podIP, c, 'init', step.attempt, backoff, volumes);
        if (wait) waits.push(wait);
      }
      if (step.kind === 'backoff') waits.push(step.waitMs);
      return waits; // the next init container waits for this one
    }
    await Promise.all(pod.spec.containers.map(async (c) => {
      const step = containerStep(c, latestAttempt(current, c.name), restartPolicy, backoff[c.name], Date.now());
      if (step.kind === 'start') {
        const wait = await this.startOne(pod, sandboxId, podIP, c, 'app', step.attempt, backoff, volumes, undefined, ownNetwork);
        if (wait) waits.push(wait);
      }
      if (step.kind === 'backoff') waits.push(step.waitMs);
    }));
    return waits;
  }

  /**
   * Each ephemeral container not yet created is started, once: never restarted, in the target
   * container's process namespace when it names one (the target's current instance, running or
   * not, as the kubelet's getTargetID finds it), in the pod's when the pod shares one.
   */
  private async startEphemeralContainers(pod: Pod, sandboxId: string, podIP: string, current: ObservedContainer[], backoff: BackoffState, volumes: Map<string, { path: string; readOnly: boolean }>): Promise<number[]> {
    const waits: number[] = [];
    for (const c of pod.spec.ephemeralContainers ?? []) {
      if (latestAttempt(current, c.name)) continue;
      if (!sandboxId) {
        // A pod without a sandbox whose only container is not running: nothing to join yet.
        waits.push(1000);
        continue;
      }
      if (backoff[c.name] && backoff[c.name].notBefore > Date.now()) {
        waits.push(backoff[c.name].notBefore - Date.now());
        continue;
      }
      let pidNamespaceOf: string | undefined;
      if (pod.spec.shareProcessNamespace) pidNamespaceOf = sandboxId;
      else if (c.targetContainerName) {
        pidNamespaceOf = latestAttempt(current, c.targetContainerName)?.id;
        if (!pidNamespaceOf) {
          waits.push(await this.recordConfigError(pod, c, new ContainerConfigError(`unable to find target container ${c.targetContainerName}`), backoff));
          continue;
        }
      }
      const wait = await this.startOne(pod, sandboxId, podIP, c, 'ephemeral', 0, backoff, volumes, pidNamespaceOf);
      if (wait) waits.push(wait);
    }
    return waits;
  }

  private async startOne(pod: Pod, sandboxId: string, podIP: string, c: Container, role: 'init' | 'app' | 'ephemeral', attempt: number, backoff: BackoffState, volumes: Map<string, { path: string; readOnly: boolean }>, pidNamespaceOf?: string, ownNetwork?: ContainerSpec['ownNetwork']): Promise<number | undefined> {
    const field = role === 'init' ? 'initContainers' : role === 'ephemeral' ? 'ephemeralContainers' : 'containers';
    try {
      const spec = await this.containerSpec(pod, podIP, c, role, attempt, volumes);
      // A pod that shares one process namespace has it in its sandbox; an ephemeral container may name its own.
      spec.pidNamespaceOf = pidNamespaceOf ?? (pod.spec.shareProcessNamespace ? sandboxId : undefined);
      if (ownNetwork) spec.ownNetwork = ownNetwork;
      await this.runtime.startContainer(this.identity(pod), sandboxId, spec);
      if (backoff[c.name]?.message) {
        // The image arrived: pulls no longer count against the container.
        await this.store.clearBackoff(pod.metadata.uid!, c.name);
        delete backoff[c.name];
      }
      await this.opts.events.record(pod, 'Normal', 'Started', `Started container ${c.name}`, `spec.${field}{${c.name}}`);
      return undefined;
    } catch (err) {
      if (err instanceof ContainerConfigError) return this.recordConfigError(pod, c, err, backoff);
      if (err instanceof ContainerStartError) return this.recordStartError(pod, c, err, backoff);
      if (err instanceof ImagePullError) {
        const prev = backoff[c.name];
        const failures = prev?.message ? prev.failures : 0;
        const delay = Math.min(this.opts.backoff.baseMs * 2 ** failures, this.opts.backoff.maxMs);
        const entry = { failures: failures + 1, notBefore: Date.now() + delay, delayMs: delay, message: err.message };
        backoff[c.name] = entry;
        await this.saveBackoff(pod.metadata.uid!, c.name, entry);
        await this.opts.events.record(pod, 'Warning', 'Failed', `Failed to pull image "${c.image}": ${err.message}`, `spec.containers{${c.name}}`);
        return delay;
      }
      await this.opts.events.record(pod, 'Warning', 'Failed', `Error: ${(err as Error).message}`, `spec.containers{${c.name}}`);
      throw err;
    }
  }

  /** A container that cannot be configured (missing ConfigMap, Secret, key): waits, retried with back-off. */
  private async recordConfigError(pod: Pod, c: Container, err: Error, backoff: BackoffState): Promise<number> {
    const prev = backoff[c.name];
    const failures = prev?.reason === 'CreateContainerConfigError' ? prev.failures : 0;
    const delay = Math.min(this.opts.backoff.baseMs * 2 ** failures, this.opts.backoff.maxMs);
    const entry: BackoffEntry = { failures: failures + 1, notBefore: Date.now() + delay, delayMs: delay, message: err.message, reason: 'CreateContainerConfigError' };
    backoff[c.name] = entry;
    await this.saveBackoff(pod.metadata.uid!, c.name, entry);
    await this.opts.events.record(pod, 'Warning', 'Failed', `Error: ${err.message}`, `spec.containers{${c.name}}`);
    return delay;
  }

  /**
   * The engine refused to create or start the container (a privilege this host withholds, a bad
   * command): the container waits with the engine's words (CreateContainerError, RunContainerError)
   * and is tried again after the crash-loop back-off, as the kubelet does.
   */
  private async recordStartError(pod: Pod, c: Container, err: ContainerStartError, backoff: BackoffState): Promise<number> {
    const prev = backoff[c.name] as (BackoffEntry & { seen?: string }) | undefined;
    const next = afterExit(prev, 0, Date.now(), this.opts.backoff);
    // A container that was created and failed to start is this failure: its exit is not counted again.
    const entry = { ...next, message: err.message, reason: err.reason, seen: err.containerId ?? prev?.seen };
    backoff[c.name] = entry;
    await this.saveBackoff(pod.metadata.uid!, c.name, entry);
    await this.opts.events.record(pod, 'Warning', 'Failed', `Error: ${err.message}`, `spec.containers{${c.name}}`);
    return Math.max(entry.notBefore - Date.now(), 0);
  }

  /** The container's security settings, with a Localhost seccomp profile read from the node's profile directory. */
  private async securityOf(pod: Pod, c: Container): Promise<ContainerSecurity> {
    const { seccompLocalhost, ...security } = effectiveSecurity(pod.spec, c);
    if (seccompLocalhost === undefined) return security;
    // As the kubelet's <root-dir>/seccomp: the profile path is relative to it and stays inside.
    const root = resolve(this.opts.dataDir, 'seccomp');
    const path = resolve(root, seccompLocalhost);
    const inside = relative(root, path);
    if (!inside || inside.startsWith('..') || isAbsolute(inside)) throw new ContainerConfigError(`invalid seccomp profile path "${seccompLocalhost}"`);
    try {
      return { ...security, seccomp: { type: 'Localhost', path, profile: await readFile(join(root, inside), 'utf8') } };
    } catch (err) {
      throw new ContainerConfigError(`failed to load seccomp profile "${path}": ${(err as Error).message}`);
    }
  }

  private async containerSpec(pod: Pod, podIP: string, c: Container, role: 'init' | 'app' | 'ephemeral', attempt: number, volumes: Map<string, { path: string; readOnly: boolean }>): Promise<ContainerSpec> {
    const limits = c.resources?.limits ?? {};
    return {
      security: await this.securityOf(pod, c),
      name: c.name,
      role,
      image: c.image,
      imagePullPolicy: (c.imagePullPolicy ?? 'IfNotPresent') as ContainerSpec['imagePullPolicy'],
      command: c.command,
      args: c.args,
      env: await resolveEnv(this.store, pod, podIP, c, this.opts.nodeName, this.resources!.address, await this.serviceEnv(pod)),
      mounts: await mountsFor(c, volumes),
      workingDir: c.workingDir,
      nanoCpus: limits.cpu ? cpuMillis(limits.cpu) * 1_000_000 : undefined,
      memoryBytes: limits.memory ? memoryBytes(limits.memory) : undefined,
      attempt,
      stdio: { stdin: !!c.stdin, stdinOnce: !!c.stdinOnce, tty: !!c.tty },
    };
  }

  /** The Service variables of a container of the pod (read when a container starts, as the kubelet does). */
  private async serviceEnv(pod: Pod): Promise<Map<string, string>> {
    const ns = pod.metadata.namespace!;
    const links = pod.spec.enableServiceLinks !== false;
    const [own, master] = await Promise.all([links ? this.store.list('services', ns).then((l) => l.items) : [], this.store.get('services', 'default', 'kubernetes')]);
    return new Map(serviceEnvVars(servicesForEnv([...(master ? [master] : []), ...own], ns, links)));
  }

  /** Keeps the newest two instances of each container (the current one and the previous, for logs --previous). */
  private async pruneOldAttempts(containers: ObservedContainer[]): Promise<void> {
    const byName = new Map<string, ObservedContainer[]>();
    for (const c of containers) {
      if (c.role === 'sandbox') continue;
      byName.set(c.name, [...(byName.get(c.name) ?? []), c]);
    }
    for (const list of byName.values()) {
      const old = list.sort((a, b) => b.attempt - a.attempt).slice(2).filter((c) => c.state === 'exited');
      await Promise.all(old.map((c) => this.runtime.removeContainer(c.id)));
    }
  }

  private async writeStatus(pod: Pod, observed: ObservedContainer[], backoff: BackoffState, podIP: string | undefined): Promise<void> {
    const status = computePodStatus({
      pod,
      observed,
      backoff,
      podIP,
      hostIP: this.resources!.address,
      nowIso: now(),
      runtime: this.runtime.kind === 'docker' ? 'docker' : 'simulated',
      probes: (id, kind) => this.prober.verdict(id, kind),
    });
    if (deepEqual(status, pod.status)) return;
    const previousPhase = pod.status?.phase;
    await this.store.guaranteedUpdate<Pod>('pods', pod.metadata.namespace, pod.metadata.name!, (cur) => {
      if (cur.metadata.uid !== pod.metadata.uid) return null;
      // Conditions the agent does not own (PodScheduled, DisruptionTarget) are kept as they are.
      const foreign = (cur.status?.conditions ?? []).filter((c) => c.type === 'PodScheduled' || c.type === 'DisruptionTarget');
      cur.status = { ...status, conditions: [...(status.conditions ?? []).filter((c) => !foreign.some((f) => f.type === c.type)), ...foreign] };
      return cur;
    }, { subresource: 'status' }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
    if (previousPhase !== status.phase) this.log.debug({ pod: pod.metadata.name, phase: status.phase }, 'pod phase changed');
  }
}

export type { KubeObject };
