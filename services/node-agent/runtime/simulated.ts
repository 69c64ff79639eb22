// A kwok-style runtime: containers exist only in memory, so one machine can host hundreds of
// simulated nodes for scale tests of the control plane. It honours the same contract as the
// Docker runtime, including the few behaviours tests lean on: `command: ['false']` exits 1 at once
// (crash loops), `['true']` exits 0 (Jobs), and images ending in `:missing` cannot be pulled.
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, type Duplex } from 'node:stream';
import { intToIpv4, ipv4ToInt, now } from '../../../shared/util.ts';
import {
  ContainerStartError,
  ImagePullError,
  type ContainerRuntime,
  type ContainerSpec,
  type LogOptions,
  type NodeResources,
  type ObservedContainer,
  type PodIdentity,
  type SandboxSpec,
} from './types.ts';

export interface SimulatedRuntimeOptions {
  cpuMillis?: number;
  memoryBytes?: number;
  /** Pod IPs are handed out from here upwards; give each simulated node its own range. */
  podIpBase?: string;
  address?: string;
}

interface Watcher {
  node: string;
  onChange: (podUid: string) => void;
}

export class SimulatedRuntime implements ContainerRuntime {
  readonly kind = 'simulated' as const;
  private readonly cpuMillis: number;
  private readonly memoryBytes: number;
  private readonly podIpBase: number;
  private readonly address: string;
  private nextIp = 2; // .0 is the network, .1 its gateway
  private readonly containers = new Map<string, ObservedContainer>();
  private readonly followers = new Map<string, Set<PassThrough>>();
  private readonly watchers = new Set<Watcher>();

  constructor(options: SimulatedRuntimeOptions = {}) {
    this.cpuMillis = options.cpuMillis ?? 4000;
    this.memoryBytes = options.memoryBytes ?? 8 * 1024 ** 3;
    const base = options.podIpBase ?? '10.244.0.0';
    const parsed = ipv4ToInt(base);
    if (parsed === undefined) throw new Error(`podIpBase must be an IPv4 address, got ${JSON.stringify(base)}`);
    this.podIpBase = parsed;
    this.address = options.address ?? '127.0.0.1';
  }

  async describeNode(): Promise<NodeResources> {
    return {
      cpuMillis: this.cpuMillis,
      memoryBytes: this.memoryBytes,
      os: 'linux',
      arch: 'amd64',
      kernelVersion: 'simulated',
      osImage: 'Wharf simulated node',
      runtimeVersion: 'simulated://0.1.0',
      address: this.address,
    };
  }

  async listContainers(node: string, pod?: { namespace: string; name: string }): Promise<ObservedContainer[]> {
    return [...this.containers.values()]
      .filter((c) => c.pod.node === node && (!pod || (c.pod.namespace === pod.namespace && c.pod.name === pod.name)))
      .map((c) => structuredClone(c));
  }

  async ensureSandbox(spec: SandboxSpec): Promise<{ id: string; ip: string }> {
    const existing = [...this.containers.values()].filter((c) => c.pod.uid === spec.uid && c.role === 'sandbox');
    const running = existing.find((c) => c.state === 'running');
    if (running) return { id: running.id, ip: running.ip ?? '' };

    const attempt = existing.reduce((max, c) => Math.max(max, c.attempt + 1), 0);
    for (const c of existing) this.containers.delete(c.id);
    const at = now();
    const sandbox: ObservedContainer = {
      id: newId(),
      pod: { namespace: spec.namespace, name: spec.name, uid: spec.uid, node: spec.node },
      name: 'POD',
      role: 'sandbox',
      image: 'simulated/pause',
      attempt,
      state: 'running',
      createdAt: at,
      startedAt: at,
      ip: intToIpv4(this.podIpBase + this.nextIp++),
    };
    this.containers.set(sandbox.id, sandbox);
    this.changed(sandbox);
    return { id: sandbox.id, ip: sandbox.ip! };
  }

  async startContainer(pod: PodIdentity, sandboxId: string, spec: ContainerSpec): Promise<string> {
    if (spec.image.endsWith(':missing')) {
      throw new ImagePullError(spec.image, `pull access denied for ${spec.image.replace(/:missing$/, '')}, repository does not exist (simulated)`);
    }
    const sandbox = this.containers.get(sandboxId);
    if (!sandbox || sandbox.state !== 'running') {
      throw new ContainerStartError(spec.name, `cannot join network of a non running container: ${sandboxId}`);
    }
    // Idempotent like the Docker runtime: the same pod, container and attempt is the same container.
    const same = [...this.containers.values()].find(
      (c) => c.pod.uid === pod.uid && c.name === spec.name && c.attempt === spec.attempt && c.role !== 'sandbox',
    );
    if (same?.state === 'running') return same.id;
    if (same) this.containers.delete(same.id);

    const at = now();
    const exitCode = exitCodeOf(spec.command);
    const container: ObservedContainer = {
      id: newId(),
      pod: { ...pod },
      name: spec.name,
      role: spec.role,
      image: spec.image,
      imageId: `sha256:${newId()}`,
      attempt: spec.attempt,
      state: exitCode === undefined ? 'running' : 'exited',
      createdAt: at,
      startedAt: at,
      ...(exitCode === undefined ? {} : { exitCode, oomKilled: false, finishedAt: at }),
    };
    this.containers.set(container.id, container);
    this.changed(container);
    return container.id;
  }

  async stopContainer(id: string, _graceSeconds: number): Promise<void> {
    const c = this.containers.get(id);
    if (!c || c.state === 'exited') return;
    // A simulated process always honours SIGTERM.
    Object.assign(c, { state: 'exited', exitCode: 0, oomKilled: false, finishedAt: now() });
    this.changed(c);
  }

  async removeContainer(id: string): Promise<void> {
    const c = this.containers.get(id);
    if (!c) return;
    this.containers.delete(id);
    this.changed(c);
  }

  /** Simulated commands succeed, except exactly ['false'] (exit 1), mirroring the container commands. */
  async portForward(sandboxId: string, port: number, _stream: Duplex, _podIP?: string): Promise<void> {
    // Simulated pods have no network namespace to connect into.
    throw new Error(`failed to connect to localhost:${port} inside namespace "${sandboxId}": the simulated runtime runs no processes`);
  }

  async exec(id: string, command: string[]): Promise<{ exitCode: number; output: string; timedOut: boolean }> {
    const c = this.containers.get(id);
    if (!c || c.state !== 'running') return { exitCode: 126, output: 'container is not running', timedOut: false };
    return { exitCode: command.length === 1 && command[0] === 'false' ? 1 : 0, output: '', timedOut: false };
  }

  async logs(id: string, options: LogOptions): Promise<Readable> {
    const c = this.containers.get(id);
    if (!c) throw new Error(`No such container: ${id}`);
    const lines: string[] = [];
    if (options.tailLines !== 0) {
      lines.push(`${options.timestamps ? `${c.startedAt ?? c.createdAt} ` : ''}simulated container ${c.name}\n`);
    }
    if (!options.follow || c.state !== 'running') return Readable.from(lines);

    // Following a running container: the stream stays open until it stops or is removed.
    const out = new PassThrough();
    for (const line of lines) out.write(line);
    let set = this.followers.get(id);
    if (!set) this.followers.set(id, (set = new Set()));
    set.add(out);
    out.on('close', () => set.delete(out));
    return out;
  }

  watch(node: string, onChange: (podUid: string) => void): () => void {
    const watcher: Watcher = { node, onChange };
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  async close(): Promise<void> {
    this.watchers.clear();
    for (const set of this.followers.values()) for (const out of set) out.end();
    this.followers.clear();
  }

  private changed(c: ObservedContainer): void {
    if (c.state !== 'running' || !this.containers.has(c.id)) {
      for (const out of this.followers.get(c.id) ?? []) out.end();
      this.followers.delete(c.id);
    }
    // Asynchronously, as engine events arrive: a callback never runs inside the caller's await.
    const podUid = c.pod.uid;
    for (const w of this.watchers) {
      if (w.node !== c.pod.node) continue;
      setImmediate(() => {
        if (!this.watchers.has(w)) return;
        try {
          w.onChange(podUid);
        } catch {
          // a failing callback must not stop the others
        }
      });
    }
  }
}

function exitCodeOf(command: string[] | undefined): number | undefined {
  if (command?.length !== 1) return undefined;
  if (command[0] === 'false') return 1;
  if (command[0] === 'true') return 0;
  return undefined;
}

function newId(): string {
  return randomBytes(32).toString('hex');
}

