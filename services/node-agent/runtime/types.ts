// The narrow interface between the node agent's pod logic and whatever runs containers: the
// Docker engine (docker.ts) or the simulated runtime used for scale tests (simulated.ts).
// Every container the runtime creates carries labels naming its pod, so that a restarted agent
// rediscovers what runs by listing, never by remembering.
import type { Duplex, Readable } from 'node:stream';
import type { RawUsage } from './cgroup-stats.ts';

export type { RawUsage };

export const LABELS = {
  podNamespace: 'io.wharf.pod.namespace',
  podName: 'io.wharf.pod.name',
  podUid: 'io.wharf.pod.uid',
  containerName: 'io.wharf.container.name',
  node: 'io.wharf.node',
  // 'sandbox' (the pause container that owns the pod's network namespace), 'init', 'app' or 'ephemeral'
  role: 'io.wharf.container.role',
  // how many times this container has been (re)started before: restartCount survives agent restarts
  attempt: 'io.wharf.container.attempt',
  /** 'own' on an app container that holds its pod's network namespace itself (a pod without a sandbox). */
  network: 'io.wharf.container.network',
} as const;

export type ContainerRole = 'sandbox' | 'init' | 'app' | 'ephemeral';

export interface PodIdentity {
  namespace: string;
  name: string;
  uid: string;
  node: string;
}

export interface SandboxSpec extends PodIdentity {
  hostname: string;
  /** The pod shares the node's network namespace (spec.hostNetwork): its IP is the node's, its ports the node's. */
  hostNetwork?: boolean;
  /** The pod shares the node's IPC namespace (spec.hostIPC). */
  hostIPC?: boolean;
  // ports with hostPort set are published on the node; others are reachable on the pod IP
  ports: { containerPort: number; hostPort?: number; protocol: 'TCP' | 'UDP' }[];
  dnsServers?: string[];
  dnsSearch?: string[];
  dnsOptions?: string[];
}

export interface ContainerSpec {
  name: string;
  role: Exclude<ContainerRole, 'sandbox'>;
  image: string;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  command?: string[]; // overrides the image ENTRYPOINT
  args?: string[]; // overrides the image CMD
  env: { name: string; value: string }[];
  workingDir?: string;
  nanoCpus?: number; // resources.limits.cpu
  memoryBytes?: number; // resources.limits.memory
  mounts?: { hostPath: string; containerPath: string; readOnly: boolean }[];
  attempt: number; // 0 for the first start, restartCount afterwards
  /** The container's stdio as the pod spec asks (stdin, stdinOnce, tty): what `kubectl attach` and `run -it` reach. */
  stdio?: { stdin: boolean; stdinOnce: boolean; tty: boolean };
  /** What the container may do to its node: the effective security context (see security-context.ts). */
  security?: ContainerSecurity;
  /**
   * The container whose process namespace this one joins (CRI's NamespaceMode TARGET): an
   * ephemeral container's target, or the sandbox when the pod shares one (shareProcessNamespace).
   * Absent: its own. The node's (hostPID) wins over both.
   */
  pidNamespaceOf?: string;
  /**
   * Set when this container is the pod's only one and holds the pod's network itself, with no
   * sandbox (see runsWithoutSandbox): what the sandbox would have had, and the IP it asks for again
   * when it replaces an earlier attempt (kept where the engine allows it).
   */
  ownNetwork?: SandboxSpec & { requestedIP?: string };
}

/**
 * A container's effective security settings, runtime-neutral (CRI's LinuxContainerSecurityContext):
 * the pod's securityContext as defaults, the container's overriding them.
 */
export interface ContainerSecurity {
  privileged: boolean;
  /** Capability names without the CAP_ prefix; "ALL" for all. */
  capAdd: string[];
  capDrop: string[];
  runAsUser?: number;
  runAsGroup?: number;
  /** Refuse to start when the process would run as uid 0 (image user included). */
  runAsNonRoot: boolean;
  /** supplementalGroups and fsGroup: extra groups of the process. */
  groups: number[];
  readOnlyRootFilesystem: boolean;
  /** allowPrivilegeEscalation: false — no setuid/file-capability gains (no_new_privs). */
  noNewPrivileges: boolean;
  /** undefined: the runtime's default profile. */
  seccomp?: { type: 'RuntimeDefault' } | { type: 'Unconfined' } | { type: 'Localhost'; profile: string; path: string };
  hostPID: boolean;
  hostIPC: boolean;
}

export interface ObservedContainer {
  id: string;
  pod: PodIdentity;
  name: string; // the spec container's name; 'POD' for the sandbox
  role: ContainerRole;
  image: string;
  imageId?: string;
  attempt: number;
  state: 'created' | 'running' | 'exited' | 'unknown';
  exitCode?: number;
  oomKilled?: boolean;
  error?: string; // the engine's own message when a start failed
  createdAt: string; // RFC 3339
  startedAt?: string;
  finishedAt?: string;
  ip?: string; // the holder of the pod's network only (its sandbox, or its only container): the pod IP
  /** An app container that holds its pod's network namespace (the pod has no sandbox). */
  ownsNetwork?: boolean;
}

export interface LogOptions {
  follow: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  timestamps: boolean;
}

export interface NodeResources {
  cpuMillis: number;
  memoryBytes: number;
  os: string;
  arch: string;
  kernelVersion: string;
  osImage: string;
  runtimeVersion: string; // e.g. docker://20.10.24
  address: string; // the node's InternalIP
}

/** Thrown when an image is absent and cannot be pulled: the pod shows ErrImagePull. */
export class ImagePullError extends Error {
  constructor(readonly image: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImagePullError';
  }
}

/**
 * Thrown when the engine refuses to create or start a container (bad command, a privilege the host
 * withholds, ...): the kubelet's CreateContainerError or RunContainerError. A container the engine
 * created but could not start has an id; it stays, failed, as the kubelet's does.
 */
export class ContainerStartError extends Error {
  readonly phase: 'create' | 'start';
  readonly containerId?: string;

  constructor(readonly container: string, message: string, options?: { cause?: unknown; phase?: 'create' | 'start'; containerId?: string }) {
    super(message, options);
    this.name = 'ContainerStartError';
    this.phase = options?.phase ?? 'create';
    this.containerId = options?.containerId;
  }

  /** The waiting reason the pod shows, as the kubelet's. */
  get reason(): 'CreateContainerError' | 'RunContainerError' {
    return this.phase === 'start' ? 'RunContainerError' : 'CreateContainerError';
  }
}

/**
 * Thrown when a container cannot be configured as its pod asks (a missing ConfigMap or Secret, an
 * image that would run as root under runAsNonRoot): the kubelet's CreateContainerConfigError.
 */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

/** What an exec or attach session connects to: a process's stdio. */
export interface StdioOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}

/**
 * A running exec or attach: the process's streams, each with back-pressure (a reader that stops
 * reading pauses the process's output at the engine). With a tty everything comes on stdout.
 */
export interface StdioSession {
  /** The process's stdin (when asked for); ending it closes the process's input. */
  stdin?: NodeJS.WritableStream & { end(): void };
  stdout?: Readable;
  stderr?: Readable;
  /** Sets the terminal's size (with a tty). */
  resize(width: number, height: number): Promise<void>;
  /** After the output has ended: the exec's exit code; undefined for an attach. */
  exitCode(): Promise<number | undefined>;
  /** Ends the session: the connection to the engine closed (an exec's process is left to finish on its own, as Docker does). */
  close(): void;
}

export interface ContainerRuntime {
  readonly kind: 'docker' | 'simulated';
  /** Capacity and identity of the machine, for the Node object. */
  describeNode(): Promise<NodeResources>;
  /** Every container (running or exited) labelled for this node; with pod, only those of pods of that namespace and name (any uid). */
  listContainers(node: string, pod?: { namespace: string; name: string }): Promise<ObservedContainer[]>;
  /** Creates and starts the pod's sandbox if it is not running; returns its id and the pod IP. Idempotent. */
  ensureSandbox(spec: SandboxSpec): Promise<{ id: string; ip: string }>;
  /**
   * Creates and starts one container inside the sandbox's network namespace (or, with
   * spec.ownNetwork, in a network namespace of its own on the pod network); returns its id.
   */
  startContainer(pod: PodIdentity, sandboxId: string, spec: ContainerSpec): Promise<string>;
  /** SIGTERM, then SIGKILL after graceSeconds. A container already stopped or gone is fine. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  /** Removes a stopped container; a container already gone is fine. */
  removeContainer(id: string): Promise<void>;
  /** The container's output as plain text (stdout and stderr interleaved). */
  logs(id: string, options: LogOptions): Promise<Readable>;
  /**
   * Runs a command inside a running container (exec probes, preStop hooks). Resolves with its
   * exit code and combined output; a command still running after timeoutMs counts as failed.
   */
  exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string; timedOut: boolean }>;
  /** `kubectl exec`: a command in a running container, connected to the caller's streams. Not every runtime has it. */
  execStream?(id: string, command: string[], stdio: StdioOptions): Promise<StdioSession>;
  /** `kubectl attach`: the running container's own stdio (as its spec's stdin and tty made it). */
  attachStream?(id: string, stdio: StdioOptions): Promise<StdioSession>;
  /**
   * Joins stream to localhost:port inside the pod's network namespace (CRI's PortForward): what
   * the stream gives goes to the pod (its end half-closes the connection), what the pod sends is
   * written to the stream, which is left open. Resolves once the pod's side is done or the stream
   * is destroyed (the connection into the pod is then torn down); rejects with what went wrong
   * (nothing listening, ...), in the runtime's words.
   */
  /**
   * podIP: the holder is the pod's own container, not a sandbox of the runtime's image; where it
   * has no way to connect from inside, the connection goes to podIP:port instead.
   */
  portForward(sandboxId: string, port: number, stream: Duplex, podIP?: string): Promise<void>;
  /**
   * Calls onChange with the pod uid whenever one of this node's containers dies, starts or is
   * removed, so the agent reconciles at once rather than at the next resync. Returns a stop function.
   */
  watch(node: string, onChange: (podUid: string) => void): () => void;
  /**
   * Cumulative CPU time and working set of each of these running containers that can be read (one
   * missing from the answer: gone, or not measurable), for the resource metrics. Not every runtime
   * measures.
   */
  containerUsage?(ids: string[]): Promise<Map<string, RawUsage>>;
  /**
   * The node's running containers as one listing tells them (no inspect: no startedAt), for
   * measuring them often and cheaply; without it, listContainers.
   */
  listRunning?(node: string): Promise<ObservedContainer[]>;
  /** The same for the whole machine, if the runtime can tell cheaply. */
  nodeUsage?(): Promise<RawUsage | undefined>;
  close(): Promise<void>;
}
