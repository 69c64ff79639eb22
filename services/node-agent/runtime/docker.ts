// The Docker engine as a ContainerRuntime. A pod is a sandbox ("pause") container that owns the
// network and IPC namespaces, plus one container per spec container joined to them, so the
// containers of a pod share localhost and the pod IP — the same shape as dockershim/cri-dockerd.
// Everything the agent needs to know later is in the containers' labels (see types.ts).
import os from 'node:os';
import { once } from 'node:events';
import { PassThrough, Writable, type Duplex, type Readable } from 'node:stream';
import { DockerFrameReader, execStartFailure } from '../stream-protocol.ts';
import Docker from 'dockerode';
import type { Logger } from '../../../shared/log.ts';
import { hostIPv4, now, sleep } from '../../../shared/util.ts';
import { gatewayOf } from '../../../shared/pod-cidr.ts';
import { processUser, runAsNonRootError } from '../security-context.ts';
import { dockerPortForward, forwardToAddress } from './docker-port-forward.ts';
import { workingSet, type CgroupStats, type RawUsage } from './cgroup-stats.ts';
import {
  ContainerConfigError,
  ContainerStartError,
  ImagePullError,
  LABELS,
  type ContainerRole,
  type ContainerRuntime,
  type ContainerSecurity,
  type ContainerSpec,
  type LogOptions,
  type NodeResources,
  type ObservedContainer,
  type PodIdentity,
  type SandboxSpec,
  type StdioOptions,
  type StdioSession,
} from './types.ts';

export interface DockerRuntimeOptions {
  /** Defaults to DOCKER_HOST, else /var/run/docker.sock. */
  docker?: Docker;
  /** The bridge network every sandbox joins; created if missing. */
  network?: string;
  pauseImage?: string;
  /** Defaults to a shell loop for the default busybox pause image, to the image's own command otherwise. */
  pauseCommand?: string[];
  /** The node's InternalIP; defaults to the host's first non-internal IPv4 (see describeNode). */
  address?: string;
  log?: Logger;
  /**
   * The engine's containers' cgroups as this host mounts them, for resource usage; none (an engine
   * on another machine, or cgroups not readable here): the engine's one-shot stats instead.
   */
  cgroups?: CgroupStats;
  /**
   * The pod network's subnet when the pods of every host share one network (the Node's
   * spec.podCIDR): the bridge is created with it, once it is known. None: the engine picks one.
   */
  podSubnet?: () => Promise<string>;
}

// Keeps running with nothing to do, and exits at once on SIGTERM: a shell as PID 1 ignores
// signals it has no trap for, and `wait` (unlike a foreground sleep) is interrupted by the trap.
export const DEFAULT_PAUSE_COMMAND = ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

const DEFAULT_PAUSE_IMAGE = 'busybox:latest';
const SANDBOX_NAME = 'POD';
const WATCHED_EVENTS = ['start', 'die', 'oom', 'destroy'];
const WATCH_BACKOFF_MIN_MS = 250;
const WATCH_BACKOFF_MAX_MS = 30_000;
const INSPECT_CONCURRENCY = 8;
const STATS_CONCURRENCY = 8;

type InspectInfo = Docker.ContainerInspectInfo;

export class DockerRuntime implements ContainerRuntime {
  readonly kind = 'docker' as const;
  private readonly docker: Docker;
  private readonly network: string;
  private readonly pauseImage: string;
  private readonly pauseCommand: string[] | undefined;
  private readonly address: string | undefined;
  private readonly log: Logger | undefined;
  private networkReady: Promise<Docker.NetworkInspectInfo> | undefined;
  /** The pod network assigns addresses only by itself (no subnet given at its creation): a restarted pod gets a new IP. */
  private addressesByRequestRefused = false;
  private readonly netcatIn = new Map<string, Promise<boolean>>();
  // Inspect results by container id, valid while the listed state is unchanged: a running
  // container's start time and an exited container's exit status cannot change without a state
  // change, so a steady node costs one list call per resync.
  private readonly inspectCache = new Map<string, { state: string; info: InspectInfo }>();
  // Containers the engine sent an 'oom' event for. Docker 20.10 sets State.OOMKilled only when the
  // kernel's OOM event reaches it before the exit; under load it can come after, and then only the
  // event tells that the memory limit killed the container.
  private readonly oomEvents = new Set<string>();
  private readonly watchers = new Set<() => void>();
  private readonly cgroups: CgroupStats | undefined;
  private readonly podSubnet: (() => Promise<string>) | undefined;

  constructor(options: DockerRuntimeOptions = {}) {
    this.docker = options.docker ?? new Docker();
    this.network = options.network ?? 'wharf';
    this.pauseImage = options.pauseImage ?? DEFAULT_PAUSE_IMAGE;
    // A custom pause image (e.g. registry.k8s.io/pause) brings its own entrypoint.
    this.pauseCommand = options.pauseCommand ?? (this.pauseImage === DEFAULT_PAUSE_IMAGE ? DEFAULT_PAUSE_COMMAND : undefined);
    this.address = options.address;
    this.log = options.log;
    this.cgroups = options.cgroups;
    this.podSubnet = options.podSubnet;
  }

  /**
   * The address is the host's first non-internal IPv4 outside Docker's own bridges: it is the one
   * address reachable from the host, from pods (the bridge routes to it) and from other machines,
   * and hostPorts are published on it. The Wharf network's gateway is only a fallback for a host
   * with no such interface, because it is unreachable from anywhere but this host.
   */
  async describeNode(): Promise<NodeResources> {
    const info = await this.docker.info();
    // (Not with a pod subnet from the Node: the Node is registered with this address first.)
    const address = this.address ?? hostIPv4() ?? (this.podSubnet ? undefined : await this.networkGateway()) ?? '127.0.0.1';
    return {
      cpuMillis: Number(info.NCPU) * 1000,
      memoryBytes: Number(info.MemTotal),
      os: String(info.OSType ?? 'linux'),
      arch: goArch(String(info.Architecture ?? os.arch())),
      kernelVersion: String(info.KernelVersion ?? ''),
      osImage: String(info.OperatingSystem ?? ''),
      runtimeVersion: `docker://${info.ServerVersion}`,
      address,
    };
  }

  async listContainers(node: string, pod?: { namespace: string; name: string }): Promise<ObservedContainer[]> {
    // One pod's reconcile asks for its own containers only: listing the whole node would inspect
    // every other pod's just-created containers too, for each of N pods starting at once.
    const labels = [`${LABELS.node}=${node}`, ...(pod ? [`${LABELS.podNamespace}=${pod.namespace}`, `${LABELS.podName}=${pod.name}`] : [])];
    const listed = await this.docker.listContainers({ all: true, filters: { label: labels } });
    if (!pod) {
      const seen = new Set(listed.map((c) => c.Id));
      for (const id of this.inspectCache.keys()) if (!seen.has(id)) this.inspectCache.delete(id);
      for (const id of this.oomEvents) if (!seen.has(id)) this.oomEvents.delete(id);
    }

    const observed = await mapLimit(listed, INSPECT_CONCURRENCY, async (c) => {
      try {
        return toObserved(await this.inspectCached(c), this.network, this.oomEvents.has(c.Id));
      } catch (err) {
        if (statusCode(err) === 404) return undefined; // removed between list and inspect
        return fromListing(c, this.network, engineMessage(err));
      }
    });
    return observed.filter((c): c is ObservedContainer => c !== undefined);
  }

  async ensureSandbox(spec: SandboxSpec): Promise<{ id: string; ip: string }> {
    const name = containerName(spec, SANDBOX_NAME);
    try {
      await this.ensureNetwork();
      const existing = await this.docker.listContainers({
        all: true,
        filters: { label: [`${LABELS.podUid}=${spec.uid}`, `${LABELS.role}=sandbox`, `${LABELS.node}=${spec.node}`] },
      });
      const running = existing.find((c) => c.State === 'running');
      if (running) return { id: running.Id, ip: await this.sandboxIp(running.Id) };

      // A sandbox created but never started (the agent stopped in between) is started as is; one
      // that has exited lost its network namespace, so it is replaced by a new attempt — the agent
      // sees the new id and restarts the pod's containers in it, as the kubelet does.
      let attempt = 0;
      for (const c of existing) {
        attempt = Math.max(attempt, labelAttempt(c.Labels) + 1);
        if (c.State === 'created' && existing.length === 1) {
          const info = await this.docker.getContainer(c.Id).inspect();
          if (!info.State.Error) return await this.startSandbox(c.Id, spec);
        }
        await this.removeContainer(c.Id);
      }

      await this.ensureImage(this.pauseImage, 'IfNotPresent');
      const id = await this.createNamed(name, this.sandboxConfig(spec, attempt));
      return await this.startSandbox(id, spec);
    } catch (err) {
      throw asStartError(SANDBOX_NAME, err);
    }
  }

  async startContainer(pod: PodIdentity, sandboxId: string, spec: ContainerSpec): Promise<string> {
    let id: string | undefined;
    try {
      await this.ensureImage(spec.image, spec.imagePullPolicy);
      // The image's own user decides runAsNonRoot (and the user a bare runAsGroup goes with).
      const security = spec.security;
      const needsImageUser = security && (security.runAsNonRoot || (security.runAsGroup !== undefined && security.runAsUser === undefined));
      const configuredUser = needsImageUser ? String((await this.docker.getImage(spec.image).inspect()).Config?.User ?? '') : undefined;
      const refused = security ? runAsNonRootError(security, configuredUser, pod, spec.name) : undefined;
      if (refused) throw new ContainerConfigError(refused);
      if (spec.ownNetwork) await this.ensureNetwork();
      const name = containerName(pod, spec.name, spec.attempt);
      if (spec.ownNetwork?.requestedIP && this.addressesByRequestRefused) spec = { ...spec, ownNetwork: { ...spec.ownNetwork, requestedIP: undefined } };
      try {
        id = await this.createNamed(name, this.containerConfig(pod, sandboxId, spec, configuredUser));
        await startIfNeeded(this.docker.getContainer(id));
      } catch (err) {
        if (!spec.ownNetwork?.requestedIP) throw err;
        // The pod's earlier IP is taken, or the network has no subnet of its own (the engine
        // assigns addresses on request only on those): a new one, rather than no pod.
        this.log?.info({ pod: `${pod.namespace}/${pod.name}`, ip: spec.ownNetwork.requestedIP, err: engineMessage(err) }, 'pod IP not kept across the restart');
        if (/user configured subnets/i.test(engineMessage(err))) this.addressesByRequestRefused = true;
        if (id) await this.removeContainer(id);
        id = await this.createNamed(name, this.containerConfig(pod, sandboxId, { ...spec, ownNetwork: { ...spec.ownNetwork, requestedIP: undefined } }, configuredUser));
        await startIfNeeded(this.docker.getContainer(id));
      }
      return id;
    } catch (err) {
      throw asStartError(spec.name, err, id);
    }
  }

  async stopContainer(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.docker.getContainer(id).stop({ t: Math.max(0, Math.ceil(graceSeconds)) });
    } catch (err) {
      const code = statusCode(err);
      if (code !== 304 && code !== 404) throw err;
    }
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (err) {
      const code = statusCode(err);
      // 409: a removal is already in progress, which is what we asked for
      if (code !== 404 && code !== 409) throw err;
    }
    this.inspectCache.delete(id);
  }

  /**
   * Runs a command of the pause image (busybox) in the host's network namespace with NET_ADMIN, for
   * an agent whose own image has no iproute2; it changes the host only if the agent runs in the
   * host's network namespace too (compose's network_mode: host), which is where it is needed.
   */
  async runInHostNetwork(command: string[]): Promise<{ exitCode: number; output: string }> {
    await this.ensureImage(this.pauseImage, 'IfNotPresent');
    const container = await this.docker.createContainer({
      Image: this.pauseImage,
      Entrypoint: command.slice(0, 1),
      Cmd: command.slice(1),
      Labels: { 'io.wharf.helper': 'host-network' },
      HostConfig: { NetworkMode: 'host', CapAdd: ['NET_ADMIN'], RestartPolicy: { Name: 'no' } },
    });
    try {
      await container.start();
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      const logs = (await container.logs({ stdout: true, stderr: true })) as unknown as Buffer;
      return { exitCode: StatusCode, output: logs.toString('utf8') };
    } finally {
      await container.remove({ force: true }).catch(() => undefined);
    }
  }

  async portForward(sandboxId: string, port: number, stream: Duplex, podIP?: string): Promise<void> {
    // A pod without a sandbox: its own image may lack nc, and then localhost in the pod cannot be
    // reached from inside; its IP can (a server bound to 127.0.0.1 only is out of reach then).
    if (podIP && !(await this.canConnectFromInside(sandboxId))) return forwardToAddress(podIP, port, stream);
    return dockerPortForward(this.docker, sandboxId, port, stream);
  }

  /** Whether the container has the shell and nc that a port-forward runs inside it; asked once per container. */
  private canConnectFromInside(id: string): Promise<boolean> {
    let known = this.netcatIn.get(id);
    if (!known) {
      known = this.exec(id, ['sh', '-c', 'command -v nc'], 5_000).then((r) => r.exitCode === 0, () => false);
      this.netcatIn.set(id, known);
      if (this.netcatIn.size > 1000) this.netcatIn.delete(this.netcatIn.keys().next().value!);
    }
    return known;
  }

  async exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const exec = await this.docker.getContainer(id).exec({ Cmd: command, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    const sink = new PassThrough();
    let output = '';
    sink.on('data', (d: Buffer) => {
      if (output.length < 10_240) output += d.toString('utf8');
    });
    this.docker.modem.demuxStream(stream, sink, sink);
    const finished = new Promise<boolean>((resolve) => {
      stream.on('end', () => resolve(false));
      stream.on('close', () => resolve(false));
      stream.on('error', () => resolve(false));
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([finished, new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)))]);
    clearTimeout(timer);
    if (timedOut) {
      stream.destroy();
      return { exitCode: -1, output, timedOut: true };
    }
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? -1, output, timedOut: false };
  }

  async execStream(id: string, command: string[], stdio: StdioOptions): Promise<StdioSession> {
    const exec = await this.docker.getContainer(id).exec({ Cmd: command, AttachStdin: stdio.stdin, AttachStdout: stdio.stdout, AttachStderr: stdio.stderr, Tty: stdio.tty });
    const stream = (await exec.start({ hijack: true, stdin: stdio.stdin, Tty: stdio.tty })) as Duplex;
    let failedStart: number | undefined;
    return stdioSession(stream, stdio, stdio.tty, {
      resize: (width, height) => exec.resize({ w: width, h: height }),
      onFirstOutput: (text) => (failedStart = execStartFailure(text)) !== undefined,
      exitCode: async () => {
        if (failedStart !== undefined) return failedStart;
        // The output ends as the process does; the engine may record its exit a moment later.
        for (let i = 0; ; i++) {
          const info = await exec.inspect();
          if (!info.Running || i >= 50) return info.ExitCode ?? undefined;
          await sleep(20);
        }
      },
    });
  }

  async attachStream(id: string, stdio: StdioOptions): Promise<StdioSession> {
    const container = this.docker.getContainer(id);
    // The stream is raw when the container has a tty, whatever the client asked for.
    const tty = !!(await container.inspect()).Config.Tty;
    const stream = (await container.attach({ stream: true, stdin: stdio.stdin, stdout: stdio.stdout, stderr: stdio.stderr, hijack: true })) as unknown as Duplex;
    return stdioSession(stream, stdio, tty, {
      resize: (width, height) => container.resize({ w: width, h: height }),
      exitCode: async () => undefined,
    });
  }

  async logs(id: string, options: LogOptions): Promise<Readable> {
    const query: Record<string, unknown> = {
      stdout: true,
      stderr: true,
      follow: options.follow,
      timestamps: options.timestamps,
      tail: options.tailLines === undefined ? 'all' : Math.max(0, Math.floor(options.tailLines)),
    };
    if (options.sinceSeconds !== undefined) query.since = Math.floor(Date.now() / 1000 - options.sinceSeconds);

    // A container with a TTY (kubectl debug -it) has one stream, which the engine sends as it is.
    const tty = await this.docker.getContainer(id).inspect().then((i) => i.Config?.Tty === true, () => false);
    // Streamed even when not following, so a long log is never buffered whole in memory.
    const raw = await new Promise<NodeJS.ReadableStream & { destroy(): void }>((resolve, reject) => {
      this.docker.modem.dial(
        {
          path: `/containers/${encodeURIComponent(id)}/logs?`,
          method: 'GET',
          isStream: true,
          statusCodes: { 200: true, 404: 'no such container', 500: 'server error' },
          options: query,
        },
        (err: unknown, stream: unknown) => (err ? reject(new Error(engineMessage(err), { cause: err })) : resolve(stream as never)),
      );
    });

    const out = new PassThrough();
    // Otherwise the engine multiplexes stdout and stderr frames.
    if (tty) raw.pipe(out);
    else this.docker.modem.demuxStream(raw, out, out);
    // 'close' without 'end' is a dropped connection: the reader still gets an ending stream.
    const finish = () => {
      if (!out.writableEnded && !out.destroyed) out.end();
    };
    raw.on('end', finish);
    raw.on('close', finish);
    raw.on('error', (err: Error) => out.destroy(err));
    out.on('close', () => raw.destroy()); // the reader went away: drop the engine connection
    return out;
  }

  watch(node: string, onChange: (podUid: string) => void): () => void {
    let stopped = false;
    let stream: (NodeJS.ReadableStream & { destroy(): void }) | undefined;
    let retry: NodeJS.Timeout | undefined;
    let backoff = WATCH_BACKOFF_MIN_MS;
    // After a reconnect, replay from the last event seen so that nothing that happened while the
    // stream was down is missed; a repeated event only costs the agent one idempotent reconcile.
    let since: number | undefined;

    const notify = (line: string) => {
      let event: { id?: string; time?: number; Action?: string; status?: string; Actor?: { ID?: string; Attributes?: Record<string, string> } };
      try {
        event = JSON.parse(line);
      } catch {
        return;
      }
      if (event.time) since = event.time;
      const id = event.Actor?.ID ?? event.id;
      if (id) {
        this.inspectCache.delete(id);
        const action = event.Action ?? event.status;
        if (action === 'oom') this.oomEvents.add(id);
        if (action === 'destroy') this.oomEvents.delete(id);
      }
      const podUid = event.Actor?.Attributes?.[LABELS.podUid];
      if (!podUid) return;
      try {
        onChange(podUid);
      } catch (err) {
        this.log?.error({ err, podUid }, 'watch callback failed');
      }
    };

    const reconnect = (err?: unknown) => {
      stream = undefined;
      if (stopped || retry) return;
      this.log?.warn({ err: err ? engineMessage(err) : undefined, retryMs: backoff }, 'docker event stream lost; reconnecting');
      retry = setTimeout(() => {
        retry = undefined;
        void connect();
      }, backoff);
      backoff = Math.min(backoff * 2, WATCH_BACKOFF_MAX_MS);
    };

    const connect = async () => {
      let s: NodeJS.ReadableStream & { destroy(): void };
      try {
        s = (await this.docker.getEvents({
          ...(since !== undefined ? { since } : {}),
          filters: { type: ['container'], label: [`${LABELS.node}=${node}`], event: WATCHED_EVENTS },
        })) as never;
      } catch (err) {
        return reconnect(err);
      }
      if (stopped) return s.destroy();
      stream = s;
      backoff = WATCH_BACKOFF_MIN_MS;
      since ??= Math.floor(Date.now() / 1000);
      let buffered = '';
      s.on('data', (chunk: Buffer) => {
        buffered += chunk.toString('utf8');
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) notify(line);
        }
      });
      let ended = false;
      const onEnd = (err?: unknown) => {
        if (ended) return;
        ended = true;
        if (stream === s) reconnect(err);
      };
      s.on('error', onEnd);
      s.on('end', () => onEnd());
      s.on('close', () => onEnd());
    };

    const stop = () => {
      stopped = true;
      if (retry) clearTimeout(retry);
      stream?.destroy();
      stream = undefined;
      this.watchers.delete(stop);
    };
    this.watchers.add(stop);
    void connect();
    return stop;
  }

  /**
   * Each container's cgroup files when this host has them (a few small reads, no engine call);
   * otherwise the engine's one-shot stats (an API call per container, ~10x dearer).
   */
  async containerUsage(ids: string[]): Promise<Map<string, RawUsage>> {
    const out = new Map<string, RawUsage>();
    this.cgroups?.retain(new Set(ids));
    await mapLimit(ids, STATS_CONCURRENCY, async (id) => {
      const usage = (await this.cgroups?.container(id)) ?? (await this.engineStats(id));
      if (usage) out.set(id, usage);
    });
    return out;
  }

  async listRunning(node: string): Promise<ObservedContainer[]> {
    const listed = await this.docker.listContainers({ filters: { label: [`${LABELS.node}=${node}`], status: ['running'] } });
    return listed.map((c) => fromListing(c, this.network));
  }

  async nodeUsage(): Promise<RawUsage | undefined> {
    return this.cgroups?.node();
  }

  private async engineStats(id: string): Promise<RawUsage | undefined> {
    try {
      const stats = await this.docker.getContainer(id).stats({ stream: false, 'one-shot': true });
      const memory = stats.memory_stats;
      const cpuNanos = stats.cpu_stats?.cpu_usage?.total_usage;
      if (!memory?.usage || cpuNanos === undefined) return undefined;
      // cgroup v1 reports total_inactive_file, v2 inactive_file (Docker passes memory.stat on as is).
      const inactive = (memory.stats as Record<string, number> | undefined)?.total_inactive_file ?? (memory.stats as Record<string, number> | undefined)?.inactive_file;
      return { cpuNanos, memoryWorkingSetBytes: workingSet(memory.usage, inactive) };
    } catch {
      return undefined; // gone between listing and reading
    }
  }

  async close(): Promise<void> {
    for (const stop of [...this.watchers]) stop();
  }

  // --- sandbox -------------------------------------------------------------------------------

  private sandboxConfig(spec: SandboxSpec, attempt: number): Docker.ContainerCreateOptions {
    const pause = this.pauseCommand ? { Entrypoint: this.pauseCommand, Cmd: [] } : {};
    const network = this.podNetworkConfig(spec);
    return {
      Image: this.pauseImage,
      ...pause,
      ...network,
      Labels: labelsFor(spec, SANDBOX_NAME, 'sandbox', attempt),
      HostConfig: { ...network.HostConfig, RestartPolicy: { Name: 'no' } },
    };
  }

  /**
   * What makes a container the holder of its pod's network: the pod's hostname, resolver, host
   * ports and IPC namespace, an endpoint on the pod network (asking for requestedIP when given).
   */
  private podNetworkConfig(spec: SandboxSpec & { requestedIP?: string }): Pick<Docker.ContainerCreateOptions, 'Hostname' | 'ExposedPorts' | 'HostConfig' | 'NetworkingConfig'> {
    const dns = { Dns: spec.dnsServers ?? [], DnsSearch: spec.dnsSearch ?? [], DnsOptions: spec.dnsOptions ?? [] };
    // shareable: so the pod's containers can join it; host: the node's (hostIPC).
    const ipc = spec.hostIPC ? 'host' : 'shareable';
    if (spec.hostNetwork) {
      // The node's network namespace: its hostname, addresses and ports are the node's own.
      return { HostConfig: { NetworkMode: 'host', ...dns, IpcMode: ipc } };
    }
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostPort: string }[]> = {};
    for (const p of spec.ports) {
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      if (p.hostPort) (bindings[key] ??= []).push({ HostPort: String(p.hostPort) });
    }
    const endpoint = spec.requestedIP ? { IPAMConfig: { IPv4Address: spec.requestedIP } } : {};
    return {
      Hostname: spec.hostname,
      ExposedPorts: exposed,
      HostConfig: { NetworkMode: this.network, PortBindings: bindings, ...dns, IpcMode: ipc },
      NetworkingConfig: { EndpointsConfig: { [this.network]: endpoint } },
    };
  }

  /** Starts the sandbox; its IP on the pod network ('' on the host's network, where the pod has the node's). */
  private async startSandbox(id: string, spec: SandboxSpec): Promise<{ id: string; ip: string }> {
    await startIfNeeded(this.docker.getContainer(id));
    if (spec.hostNetwork) return { id, ip: '' };
    const ip = await this.sandboxIp(id);
    if (!ip) throw new ContainerStartError(SANDBOX_NAME, `sandbox of pod ${spec.namespace}/${spec.name} has no IP on network ${this.network}`);
    return { id, ip };
  }

  private async sandboxIp(id: string): Promise<string> {
    const info = await this.docker.getContainer(id).inspect();
    return info.NetworkSettings.Networks?.[this.network]?.IPAddress ?? '';
  }

  private ensureNetwork(): Promise<Docker.NetworkInspectInfo> {
    this.networkReady ??= (async () => {
      const network = this.docker.getNetwork(this.network);
      const subnet = await this.podSubnet?.();
      try {
        const info = await network.inspect();
        if (!subnet || info.IPAM?.Config?.some((c) => c.Subnet === subnet)) return info;
        // This node's block changed (the Node was deleted and registered again): a bridge with no
        // pods left is made again with the new one.
        this.log?.warn({ network: this.network, subnet }, 'pod network has another subnet than the node\'s podCIDR: recreating it');
        await network.remove();
      } catch (err) {
        if (statusCode(err) !== 404) throw err;
      }
      for (let tries = 1; ; tries++) {
        try {
          // The node's own block (several hosts), else the subnet the engine would choose, given explicitly.
          const ipam = subnet ? { Driver: 'default', Config: [{ Subnet: subnet, Gateway: gatewayOf(subnet) }] } : await this.freeSubnet();
          await this.docker.createNetwork({ Name: this.network, Driver: 'bridge', CheckDuplicate: true, Labels: { 'io.wharf.network': 'true' }, IPAM: ipam });
          break;
        } catch (err) {
          if (statusCode(err) === 409) break; // another agent on this engine created it first
          // The subnet was taken between asking and creating: ask again.
          if (subnet || tries >= 3 || !/overlap/i.test(engineMessage(err))) throw err;
        }
      }
      return await network.inspect();
    })();
    // A failure is not remembered: the next pod tries again.
    this.networkReady.catch(() => (this.networkReady = undefined));
    return this.networkReady;
  }

  /**
   * The subnet the engine would give a new network, as an explicit IPAM config: Docker assigns an
   * address on request (what keeps a pod's IP across a restart of a pod without a sandbox) only on
   * a network created with a subnet of its own.
   */
  private async freeSubnet(): Promise<{ Driver: string; Config: { Subnet: string; Gateway?: string }[] }> {
    const probe = await this.docker.createNetwork({ Name: `${this.network}-subnet-probe-${process.pid}-${Date.now()}`, Driver: 'bridge' });
    try {
      const config = (await probe.inspect()).IPAM?.Config?.find((c: { Subnet?: string }) => c.Subnet && !c.Subnet.includes(':'));
      return { Driver: 'default', Config: config?.Subnet ? [{ Subnet: config.Subnet, ...(config.Gateway ? { Gateway: config.Gateway } : {}) }] : [] };
    } finally {
      await probe.remove().catch(() => undefined);
    }
  }

  private async networkGateway(): Promise<string | undefined> {
    try {
      const info = await this.ensureNetwork();
      return info.IPAM?.Config?.find((c) => c.Gateway && !c.Gateway.includes(':'))?.Gateway;
    } catch {
      return undefined;
    }
  }

  // --- app containers ------------------------------------------------------------------------

  private containerConfig(pod: PodIdentity, sandboxId: string, spec: ContainerSpec, configuredUser?: string): Docker.ContainerCreateOptions {
    // Kubernetes semantics: command replaces ENTRYPOINT (and drops the image's CMD), args replace
    // CMD; args alone keep the image's ENTRYPOINT. Docker's create does exactly that when
    // Entrypoint is set non-empty and Cmd is left out.
    const command = spec.command?.length ? spec.command : undefined;
    const args = spec.args?.length ? spec.args : undefined;
    const user = spec.security ? processUser(spec.security, configuredUser) : undefined;
    const own = spec.ownNetwork ? this.podNetworkConfig(spec.ownNetwork) : undefined;
    const labels = labelsFor(pod, spec.name, spec.role, spec.attempt);
    if (own) labels[LABELS.network] = 'own';
    return {
      ...(own ? { Hostname: own.Hostname, ExposedPorts: own.ExposedPorts, NetworkingConfig: own.NetworkingConfig } : {}),
      Image: spec.image,
      ...(command ? { Entrypoint: command } : {}),
      ...(args ? { Cmd: args } : command ? { Cmd: [] } : {}),
      Env: spec.env.map((e) => `${e.name}=${e.value}`),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      // The pod spec's stdin, stdinOnce and tty, as the kubelet gives them to the runtime: what attach reaches.
      ...(spec.stdio?.stdin ? { OpenStdin: true, StdinOnce: spec.stdio.stdinOnce, AttachStdin: true } : {}),
      ...(spec.stdio?.tty ? { Tty: true } : {}),
      ...(user !== undefined ? { User: user } : {}),
      Labels: labels,
      HostConfig: {
        ...(own ? own.HostConfig : { NetworkMode: `container:${sandboxId}`, IpcMode: `container:${sandboxId}` }),
        ...(spec.pidNamespaceOf ? { PidMode: `container:${spec.pidNamespaceOf}` } : {}),
        ...securityHostConfig(spec.security),
        ...(spec.nanoCpus ? { NanoCpus: Math.floor(spec.nanoCpus) } : {}),
        // Swap equal to memory: without it the container swaps instead of being OOM-killed.
        ...(spec.memoryBytes ? { Memory: Math.floor(spec.memoryBytes), MemorySwap: Math.floor(spec.memoryBytes) } : {}),
        Binds: (spec.mounts ?? []).map((m) => `${m.hostPath}:${m.containerPath}${m.readOnly ? ':ro' : ''}`),
        // The agent restarts containers itself, as new attempts.
        RestartPolicy: { Name: 'no' },
      },
    };
  }

  /** Images present locally are never pulled, whatever the policy: this cluster is offline and images are side-loaded. */
  private async ensureImage(image: string, policy: ContainerSpec['imagePullPolicy']): Promise<void> {
    try {
      await this.docker.getImage(image).inspect();
      return;
    } catch (err) {
      if (statusCode(err) !== 404) throw err;
    }
    if (policy === 'Never') throw new ImagePullError(image, `Container image "${image}" is not present with pull policy of Never`);
    try {
      const stream = await this.docker.pull(image);
      await followPull(stream);
    } catch (err) {
      throw new ImagePullError(image, engineMessage(err), { cause: err });
    }
  }

  /**
   * Creates a container under a name that is unique per pod, container and attempt. The name may
   * already exist when an earlier call got this far and then failed or the agent restarted: a
   * container that is running or can still be started is reused, any other is replaced.
   */
  private async createNamed(name: string, config: Docker.ContainerCreateOptions): Promise<string> {
    try {
      return (await this.docker.createContainer({ name, ...config })).id;
    } catch (err) {
      if (statusCode(err) !== 409) throw err;
    }
    const existing = await this.docker.getContainer(name).inspect();
    const state = existing.State;
    if (state.Running || (state.Status === 'created' && !state.Error)) return existing.Id;
    await this.removeContainer(existing.Id);
    return (await this.docker.createContainer({ name, ...config })).id;
  }

  private async inspectCached(c: Docker.ContainerInfo): Promise<InspectInfo> {
    const cached = this.inspectCache.get(c.Id);
    if (cached && cached.state === c.State) return cached.info;
    const container = this.docker.getContainer(c.Id);
    let info = await container.inspect();
    for (let i = 0; i < 5 && oomFlagMayFollow(info, Date.now(), this.oomEvents.has(c.Id)); i++) {
      await sleep(200);
      info = await container.inspect();
    }
    // A created container may still be starting (or fail to), and one just SIGKILLed under a memory
    // limit may yet be flagged OOMKilled: look again next time.
    if (c.State !== 'created' && !oomFlagMayFollow(info, Date.now(), this.oomEvents.has(c.Id))) this.inspectCache.set(c.Id, { state: c.State, info });
    return info;
  }
}

// --- mapping ---------------------------------------------------------------------------------

function containerName(pod: Pick<PodIdentity, 'namespace' | 'name' | 'uid'>, container: string, attempt?: number): string {
  const uid8 = pod.uid.replace(/-/g, '').slice(0, 8);
  const parts = ['wharf', pod.namespace, pod.name, container, uid8];
  if (attempt !== undefined) parts.push(String(attempt));
  return parts.map((p) => p.replace(/[^a-zA-Z0-9.-]/g, '-')).join('_');
}

function labelsFor(pod: PodIdentity, container: string, role: ContainerRole, attempt: number): Record<string, string> {
  return {
    [LABELS.podNamespace]: pod.namespace,
    [LABELS.podName]: pod.name,
    [LABELS.podUid]: pod.uid,
    [LABELS.containerName]: container,
    [LABELS.node]: pod.node,
    [LABELS.role]: role,
    [LABELS.attempt]: String(attempt),
  };
}

function labelAttempt(labels: Record<string, string> | undefined): number {
  const n = Number.parseInt(labels?.[LABELS.attempt] ?? '', 10);
  return Number.isFinite(n) && n >= 0 ? n : 0;
}

function podOf(labels: Record<string, string>): PodIdentity {
  return {
    namespace: labels[LABELS.podNamespace] ?? '',
    name: labels[LABELS.podName] ?? '',
    uid: labels[LABELS.podUid] ?? '',
    node: labels[LABELS.node] ?? '',
  };
}

function roleOf(labels: Record<string, string>): ContainerRole {
  const role = labels[LABELS.role];
  return role === 'sandbox' || role === 'init' || role === 'ephemeral' ? role : 'app';
}

/**
 * Whether the engine may still tell that this container was OOMKilled, by the flag or by an 'oom'
 * event: it handles the kernel's OOM event apart from the exit, and under load the exit can show
 * first. Only for a container that just (within 2 s) died of SIGKILL under a memory limit.
 */
export function oomFlagMayFollow(info: InspectInfo, nowMs: number, oomEventSeen = false): boolean {
  const s = info.State;
  return !oomEventSeen && s.Status === 'exited' && s.ExitCode === 137 && !s.OOMKilled && (info.HostConfig?.Memory ?? 0) > 0 && nowMs - Date.parse(s.FinishedAt) < 2000;
}

export function toObserved(info: InspectInfo, network: string, oomEventSeen = false): ObservedContainer {
  const labels = info.Config.Labels ?? {};
  const s = info.State;
  // A container whose start failed stays 'created' in Docker, with the error and exit code 127/128;
  // for the agent it is a container that ran and failed, as the kubelet reports it.
  const failedStart = s.Status === 'created' && Boolean(s.Error);
  const state = failedStart ? 'exited' : mapState(s.Status);
  const role = roleOf(labels);
  const observed: ObservedContainer = {
    id: info.Id,
    pod: podOf(labels),
    name: labels[LABELS.containerName] ?? info.Name.replace(/^\//, ''),
    role,
    image: info.Config.Image,
    imageId: info.Image,
    attempt: labelAttempt(labels),
    state,
    createdAt: rfc3339(info.Created) ?? now(),
  };
  if (s.Error) observed.error = s.Error;
  const startedAt = rfc3339(s.StartedAt);
  if (startedAt) observed.startedAt = startedAt;
  if (state === 'exited') {
    observed.exitCode = s.ExitCode;
    observed.oomKilled = s.OOMKilled || (oomEventSeen && s.ExitCode === 137);
    const finishedAt = rfc3339(s.FinishedAt);
    if (finishedAt) observed.finishedAt = finishedAt;
  }
  const ownsNetwork = role === 'app' && labels[LABELS.network] === 'own';
  if (ownsNetwork) observed.ownsNetwork = true;
  if ((role === 'sandbox' || ownsNetwork) && state === 'running') {
    const ip = info.NetworkSettings.Networks?.[network]?.IPAddress;
    if (ip) observed.ip = ip;
  }
  return observed;
}

/** What the listing alone says: for measuring, or when inspecting failed for a reason other than the container being gone. */
function fromListing(c: Docker.ContainerInfo, network: string, error?: string): ObservedContainer {
  const labels = c.Labels ?? {};
  const role = roleOf(labels);
  const state = mapState(c.State);
  const ownsNetwork = role === 'app' && labels[LABELS.network] === 'own';
  const ip = (role === 'sandbox' || ownsNetwork) && state === 'running' ? c.NetworkSettings?.Networks?.[network]?.IPAddress : undefined;
  return {
    ...(ownsNetwork ? { ownsNetwork } : {}),
    id: c.Id,
    pod: podOf(labels),
    name: labels[LABELS.containerName] ?? '',
    role,
    image: c.Image,
    imageId: c.ImageID,
    attempt: labelAttempt(labels),
    state,
    ...(error !== undefined ? { error } : {}),
    createdAt: now(new Date(c.Created * 1000)),
    ...(ip ? { ip } : {}),
  };
}

function mapState(status: string): ObservedContainer['state'] {
  switch (status) {
    case 'created':
      return 'created';
    case 'running':
    case 'paused':
    case 'restarting':
      return 'running';
    case 'exited':
    case 'dead':
      return 'exited';
    default:
      return 'unknown';
  }
}

/** Docker writes nanosecond timestamps and the zero time for "never". */
function rfc3339(ts: string | undefined): string | undefined {
  if (!ts || ts.startsWith('0001-01-01')) return undefined;
  const d = new Date(ts);
  return Number.isNaN(d.getTime()) ? undefined : now(d);
}

// --- engine helpers --------------------------------------------------------------------------

async function startIfNeeded(container: Docker.Container): Promise<void> {
  try {
    await container.start();
  } catch (err) {
    if (statusCode(err) !== 304) throw err; // 304: already started
  }
}

/** Resolves when a pull finished; rejects with the engine's message, which may arrive mid-stream. */
function followPull(stream: NodeJS.ReadableStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let failure: string | undefined;
    const scan = (line: string) => {
      try {
        const msg = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
        failure ??= msg.errorDetail?.message ?? msg.error;
      } catch {
        // progress lines we cannot read do not matter
      }
    };
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        scan(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    stream.on('error', reject);
    stream.on('end', () => {
      if (buffered.trim()) scan(buffered);
      if (failure) reject(new Error(failure));
      else resolve();
    });
  });
}

function statusCode(err: unknown): number | undefined {
  const code = (err as { statusCode?: unknown } | undefined)?.statusCode;
  return typeof code === 'number' ? code : undefined;
}

/** The engine's own words, without dockerode's "(HTTP code 404) no such container - " prefix. */
function engineMessage(err: unknown): string {
  const json = (err as { json?: { message?: unknown } } | undefined)?.json;
  if (json && typeof json.message === 'string') return json.message.trim();
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^\(HTTP code \d+\) .*? - /, '').trim();
}

/** The engine's refusal, as the kubelet names it: before the container existed (create) or when it was started. */
function asStartError(container: string, err: unknown, containerId?: string): Error {
  if (err instanceof ImagePullError || err instanceof ContainerStartError || err instanceof ContainerConfigError) return err;
  return new ContainerStartError(container, engineMessage(err), { cause: err, phase: containerId ? 'start' : 'create', containerId });
}

/**
 * What a container's security settings are in Docker's HostConfig (as dockershim mapped the CRI's):
 * privileged, capabilities, a read-only root, no-new-privileges, the seccomp profile (Docker's
 * default unless Unconfined or a Localhost profile), extra groups, and the node's PID or IPC
 * namespace instead of the pod's.
 */
export function securityHostConfig(s: ContainerSecurity | undefined): Docker.HostConfig {
  if (!s) return {};
  const securityOpt: string[] = [];
  if (s.noNewPrivileges) securityOpt.push('no-new-privileges');
  if (s.seccomp?.type === 'Unconfined') securityOpt.push('seccomp=unconfined');
  if (s.seccomp?.type === 'Localhost') securityOpt.push(`seccomp=${s.seccomp.profile}`);
  return {
    ...(s.privileged ? { Privileged: true } : {}),
    ...(s.capAdd.length ? { CapAdd: s.capAdd } : {}),
    ...(s.capDrop.length ? { CapDrop: s.capDrop } : {}),
    ...(s.readOnlyRootFilesystem ? { ReadonlyRootfs: true } : {}),
    ...(securityOpt.length ? { SecurityOpt: securityOpt } : {}),
    ...(s.groups.length ? { GroupAdd: s.groups.map(String) } : {}),
    ...(s.hostPID ? { PidMode: 'host' } : {}),
    ...(s.hostIPC ? { IpcMode: 'host' } : {}),
  };
}

/** Kubernetes names architectures as Go does. */
function goArch(arch: string): string {
  const known: Record<string, string> = { x86_64: 'amd64', x64: 'amd64', aarch64: 'arm64', armv7l: 'arm', i386: '386', i686: '386' };
  return known[arch] ?? arch;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * A hijacked exec or attach connection as a StdioSession: with a tty its bytes are stdout; without,
 * Docker's frames are split onto stdout and stderr. Back-pressure holds: a frame is not read on
 * until the stream it is for has taken it.
 */
function stdioSession(stream: Duplex, stdio: StdioOptions, tty: boolean, engine: {
  resize(width: number, height: number): Promise<unknown>;
  exitCode(): Promise<number | undefined>;
  /** Sees the first output; true when it is the engine's error (the command never started), which then goes to stderr. */
  onFirstOutput?(text: string): boolean;
}): StdioSession {
  stream.on('error', () => stream.destroy());
  let stdout: Readable | undefined;
  let stderr: Readable | undefined;
  if (tty) {
    stdout = stream;
  } else {
    const out = stdio.stdout ? new PassThrough() : undefined;
    const err = stdio.stderr ? new PassThrough() : undefined;
    const reader = new DockerFrameReader();
    let first = true;
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        const full = new Set<PassThrough>();
        for (const piece of reader.push(chunk)) {
          let target = piece.stream === 2 ? err : out;
          if (first && piece.stream === 1 && engine.onFirstOutput?.(piece.data.toString('utf8'))) target = err ?? out;
          first = false;
          if (target && !target.write(piece.data)) full.add(target);
        }
        if (!full.size) return done();
        Promise.all([...full].map((t) => once(t, 'drain'))).then(() => done(), done);
      },
      final(done) {
        out?.end();
        err?.end();
        done();
      },
    });
    stream.pipe(sink);
    stream.once('close', () => {
      // A connection cut before its end: the readers see the end rather than wait forever.
      if (!out?.writableEnded) out?.end();
      if (!err?.writableEnded) err?.end();
    });
    stdout = out;
    stderr = err;
  }
  return {
    stdin: stdio.stdin ? stream : undefined,
    stdout,
    stderr,
    resize: async (width, height) => {
      await engine.resize(width, height);
    },
    exitCode: engine.exitCode,
    close: () => stream.destroy(),
  };
}
