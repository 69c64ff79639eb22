// Configuration is read once at start-up: raw environment -> defaults -> validated, typed values
// with durations in milliseconds. Every service calls loadConfig() and reads only its own section.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { intToIpv4, ipv4ToInt } from './util.ts';
import type { AdmissionSettings, PodSecuritySettings } from './registry/strategy.ts';
import { LEVELS, parseVersion, type Level, type PolicyVersion } from './api/pod-security.ts';

export interface CommonConfig {
  redisUrl: string | undefined; // undefined: the local-cluster launcher decides (embedded redis)
  /** Redis Sentinel: when set, the primary is found through these sentinels and REDIS_URL gives only the user and password (shared/redis.ts). */
  redisSentinel: RedisSentinelConfig | undefined;
  /** Every object write waits for this many replicas to confirm it (Redis' WAIT) before it is acknowledged; 0: none. */
  redisWaitReplicas: number;
  /** How long that WAIT may take before the write fails with 504. */
  redisWaitTimeoutMs: number;
  /** Kubernetes' --encryption-provider-config: the EncryptionConfiguration file (shared/store/encryption.ts); none: nothing is encrypted. */
  encryptionConfig: string | undefined;
  keyPrefix: string;
  logLevel: string;
  watchHistory: number; // events kept per kind's change stream before older ones are compacted
  /** The address every process's Prometheus endpoint listens on (shared/metrics-endpoint.ts). */
  metricsBindAddress: string;
}

export interface RedisSentinelConfig {
  sentinels: { host: string; port: number }[];
  /** The monitored primary's name (sentinel.conf's `sentinel monitor <name> ...`). */
  masterName: string;
  /** The sentinels' own user and password (their `requirepass` / ACL), when they have one. */
  sentinelUsername?: string;
  sentinelPassword?: string;
}

export interface ApiConfig {
  host: string;
  port: number;
  maxBodyBytes: number;
  /** The longest a request other than a watch or a log stream may take (Kubernetes' --request-timeout), its body included. */
  requestTimeoutMs: number;
  /** How long the API server waits for a Redis reply before the request fails with 504. */
  redisTimeoutMs: number;
  /** A watch whose client has taken none of its pending data for this long is closed. */
  watchStallTimeoutMs: number;
  /** The address other components and pods reach this API server at (Kubernetes' --advertise-address); by default the host's first non-internal IPv4. */
  advertiseAddress?: string;
  /** How long an API server's Lease lasts without renewal before its address leaves default/kubernetes' Endpoints. */
  endpointLeaseTtlMs: number;
  /** A pod's or node's usage sample older than this is served as missing (metrics.k8s.io). */
  metricsMaxAgeMs: number;
  /** The `iss` of the ServiceAccount tokens this cluster signs (Kubernetes' --service-account-issuer). */
  serviceAccountIssuer: string;
  /** The audiences the API accepts in a token, the first the default of a TokenRequest (Kubernetes' --api-audiences; by default the issuer). */
  apiAudiences: string[];
  /** The longest lifetime a TokenRequest gets, in seconds; longer requests are shortened (--service-account-max-token-expiration; 0: no limit). */
  serviceAccountMaxTokenExpirationSeconds: number;
  /**
   * A file holding the administrator's bearer token (made, with a random token, when missing). The
   * server stores only its SHA-256 digest in Redis, so every replica accepts it. Unset: this server
   * sets none and accepts whatever admin token another replica set.
   */
  adminTokenFile?: string;
  /** Where to write an admin kubeconfig (the CA and the admin token) once serving, as k3s' --write-kubeconfig. */
  writeKubeconfig?: string;
  /** The server URL that kubeconfig names; by default https://<host, or 127.0.0.1 for 0.0.0.0>:<port>. */
  kubeconfigServer: string;
  /** Names and addresses the serving certificate holds besides the standard ones (k3s' --tls-san). */
  tlsSans: string[];
}

/** The Service network, which the API server allocates from and every node agent serves. */
export interface NetworkConfig {
  serviceCidr: string; // cluster IPs come from here (Kubernetes' --service-cluster-ip-range)
  nodePortRange: string; // "30000-32767" (Kubernetes' --service-node-port-range)
  clusterDomain: string;
  dnsServiceIp: string; // the cluster DNS server's address, by default the 10th of the range
  kubernetesServiceIp: string; // the default/kubernetes Service's address: the first of the range, as Kubernetes'
  proxy: boolean; // whether node agents proxy Service traffic and serve cluster DNS
  dnsUpstream?: string; // "host[:port],..." for names outside the cluster; by default the node's resolv.conf
  endpointDrainMs: number; // how long a terminating pod that serves a Service keeps running before it is signalled
  activatorHoldMs: number; // how long a proxy holds a connection to a Service at zero (HTTPScaledObject) for an endpoint to become ready
  trafficReportMs: number; // how often each proxy reports its Services' connection counts to Redis (HTTPScaledObject metrics)
  /**
   * The pod network spanning hosts (kube-controller-manager's --cluster-cidr with
   * --allocate-node-cidrs): when set, each Node gets a `spec.podCIDR` of nodeCidrMaskSize bits from
   * it, each agent gives its pod bridge that subnet and routes the other nodes' subnets to them
   * (host-gw). Unset: every node's pods are on its own engine's network only (one host).
   */
  clusterCidr?: string;
  nodeCidrMaskSize: number; // --node-cidr-mask-size
}

export interface SchedulerConfig {
  concurrency: number;
  retryUnschedulableMs: number;
  metricsPort: number; // 0: no /metrics endpoint
  /**
   * false: the scheduler keeps its cache current but takes no pods (no change feed, no scheduling
   * queue, no start-up sweep): what following the others costs, measured alone (bench/scheduling.ts's FOLLOWERS).
   */
  takesPods: boolean;
  /**
   * How long the follower of the pods' view waits after a read before the next (Informer's
   * gatherMs): the others' placements reach this scheduler's cache in batches, at most this late.
   * A decision that depends on them (pods with inter-pod terms or spread constraints, placed pods
   * with required anti-affinity, the one-pod path with its preemption) first catches up.
   */
  viewGatherMs: number;
  /**
   * How long the scheduler's feed of pending pods waits after a pass that was not behind before
   * the next (ChangeFeed's gatherMs): N schedulers share the pods, so each sees 1/N of the rate,
   * and without a longer wait than other workers' their bursts, and with them every pod's share
   * of a burst's fixed costs, shrink as schedulers are added. A pod waits at most this long.
   */
  feedGatherMs: number;
}

export interface ControllerConfig {
  concurrency: number;
  resyncMs: number;
  nodeMonitorGraceMs: number; // a node silent this long is Ready=Unknown (kube-controller-manager's --node-monitor-grace-period)
  /** ScaledObject triggers: the bound of each connect and command to a trigger's Redis (KEDA's KEDA_HTTP_DEFAULT_TIMEOUT is 3 s). */
  kedaScalerTimeoutMs: number;
  httpScalerSyncMs: number; // how often the HTTPScaledObject controller looks again at a Service's traffic (KEDA's pollingInterval)
  metricsPort: number; // 0: no /metrics endpoint
  /** How long the change feed waits after a pass that read no stream in full, to hand the next events over as one burst (ChangeFeed's gatherMs; the scheduler has its own, SchedulerConfig.feedGatherMs). */
  feedGatherMs: number;
  hpa: HpaControllerConfig;
}

/** The HorizontalPodAutoscaler controller's settings, as kube-controller-manager's --horizontal-pod-autoscaler-* flags. */
export interface HpaControllerConfig {
  syncPeriodMs: number; // how often each HPA is synced (--horizontal-pod-autoscaler-sync-period)
  downscaleStabilizationMs: number; // the scale-down window of an HPA that sets none (--horizontal-pod-autoscaler-downscale-stabilization)
  tolerance: number; // the usage ratio within which of 1.0 nothing changes (--horizontal-pod-autoscaler-tolerance)
  cpuInitializationPeriodMs: number; // a pod this young counts for CPU only once measured a full window after becoming ready
  initialReadinessDelayMs: number; // a pod this young may still turn ready (--horizontal-pod-autoscaler-initial-readiness-delay)
  metricsMaxAgeMs: number; // a usage sample older than this is missing
}

export interface NodeAgentConfig {
  nodeName: string;
  runtime: 'docker' | 'simulated';
  simulatedNodes: number; // with the simulated runtime one process may host many nodes
  dockerHost: string | undefined;
  podNetwork: string;
  pauseImage: string;
  /** 'auto': a pod of one container needs no sandbox (one container start); 'always': every pod has one. */
  podSandbox: 'auto' | 'always';
  heartbeatMs: number;
  resyncMs: number;
  concurrency: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  backoffResetMs: number;
  logPort: number; // the agent's own HTTPS endpoint the API server proxies logs through
  advertiseHost: string;
  /** The address the agent's endpoint listens on: by default the advertised host's, never every address. */
  bindAddress?: string;
  nodeAddress?: string; // the Node's InternalIP; by default the host's first non-internal IPv4
  dataDir: string; // where pod volumes live on the node (bind-mounted into containers)
  cpuMillis?: number;
  memoryBytes?: number;
  maxPods: number;
  metricsPort: number; // 0: no /metrics endpoint
  /** How often pods' and the node's CPU and memory are measured (metrics-server's --metric-resolution). */
  metricsPeriodMs: number;
  /** Where the host's cgroups are mounted; undefined: read the engine's stats instead. */
  cgroupRoot: string | undefined;
}

/** `npm start`'s launcher. */
export interface LocalClusterConfig {
  stateDir: string; // the kubeconfig it writes, and the embedded redis-server's data
}

export interface WharfConfig {
  common: CommonConfig;
  /** What every process's store applies to every write (the registry's admission settings). */
  admission: AdmissionSettings;
  local: LocalClusterConfig;
  api: ApiConfig;
  network: NetworkConfig;
  scheduler: SchedulerConfig;
  controller: ControllerConfig;
  nodeAgent: NodeAgentConfig;
}

export class ConfigError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function int(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(name, `expected an integer from ${min} to ${max}, got "${raw}"`);
  return n;
}

/** A number from 0 to 1 ("0.1"). */
function fraction(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new ConfigError(name, `expected a number from 0 to 1, got "${raw}"`);
  return n;
}

function port(env: Env, name: string, fallback: number): number {
  return int(env, name, fallback, 0, 65535);
}

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Durations accept "250ms", "10s", "5m", "1h" or a bare number of milliseconds. */
export function parseDurationMs(name: string, raw: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(raw.trim());
  if (!m) throw new ConfigError(name, `expected a duration like 500ms, 10s or 5m, got "${raw}"`);
  return Math.round(Number(m[1]) * UNITS_MS[m[2] ?? 'ms']);
}

function duration(env: Env, name: string, fallbackMs: number): number {
  const raw = env[name];
  return raw === undefined || raw === '' ? fallbackMs : parseDurationMs(name, raw);
}

/** A bound that must exist: 0 would mean "wait forever", which these settings are there to prevent. */
function positiveDuration(env: Env, name: string, fallbackMs: number): number {
  const ms = duration(env, name, fallbackMs);
  if (ms <= 0) throw new ConfigError(name, `expected a duration above 0, got "${env[name]}"`);
  return ms;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  return raw as T;
}

function optionalInt(env: Env, name: string): number | undefined {
  return env[name] ? int(env, name, 0, 1) : undefined;
}

/** The nodes one node-agent process registers: its node, or with the simulated runtime N numbered ones. */
export function agentNodeNames(cfg: Pick<NodeAgentConfig, 'nodeName' | 'runtime' | 'simulatedNodes'>): string[] {
  return cfg.runtime === 'simulated' && cfg.simulatedNodes > 1
    ? Array.from({ length: cfg.simulatedNodes }, (_, i) => `${cfg.nodeName}-${i}`)
    : [cfg.nodeName];
}

export function loadConfig(env: Env = process.env): WharfConfig {
  const nodeName = (env.WHARF_NODE_NAME || hostname()).toLowerCase();
  const network = networkConfig(env);
  const serviceAccountIssuer = env.WHARF_SERVICE_ACCOUNT_ISSUER || `https://kubernetes.default.svc.${network.clusterDomain}`;
  const apiHost = env.WHARF_API_HOST || '127.0.0.1';
  const apiPort = port(env, 'WHARF_API_PORT', 8080);
  return {
    common: {
      redisUrl: redisUrl(env),
      redisSentinel: redisSentinel(env),
      ...redisWait(env, Boolean(env.WHARF_REDIS_SENTINELS?.trim())),
      encryptionConfig: env.WHARF_ENCRYPTION_CONFIG ? resolve(env.WHARF_ENCRYPTION_CONFIG) : undefined,
      keyPrefix: env.WHARF_KEY_PREFIX || 'wharf',
      logLevel: env.WHARF_LOG_LEVEL || 'info',
      watchHistory: int(env, 'WHARF_WATCH_HISTORY', 20_000, 100),
      metricsBindAddress: env.WHARF_METRICS_BIND_ADDRESS || '127.0.0.1',
    },
    local: { stateDir: resolve(env.WHARF_STATE_DIR || '.wharf') },
    api: {
      host: apiHost,
      port: apiPort,
      maxBodyBytes: int(env, 'WHARF_API_MAX_BODY_BYTES', 3 * 1024 * 1024, 1024),
      requestTimeoutMs: positiveDuration(env, 'WHARF_API_REQUEST_TIMEOUT', 60_000),
      redisTimeoutMs: positiveDuration(env, 'WHARF_API_REDIS_TIMEOUT', 5_000),
      watchStallTimeoutMs: positiveDuration(env, 'WHARF_API_WATCH_STALL_TIMEOUT', 30_000),
      advertiseAddress: env.WHARF_API_ADVERTISE_ADDRESS ? String(intToIpv4(ipv4('WHARF_API_ADVERTISE_ADDRESS', env.WHARF_API_ADVERTISE_ADDRESS))) : undefined,
      // Kubernetes' --endpoint-reconciler-type=lease default TTL.
      endpointLeaseTtlMs: positiveDuration(env, 'WHARF_API_ENDPOINT_LEASE_TTL', 15_000),
      // Three of the node agents' default 15 s passes: one late pass does not blank `kubectl top`.
      metricsMaxAgeMs: positiveDuration(env, 'WHARF_API_METRICS_MAX_AGE', 45_000),
      serviceAccountIssuer,
      apiAudiences: list(env, 'WHARF_API_AUDIENCES') ?? [serviceAccountIssuer],
      serviceAccountMaxTokenExpirationSeconds: maxTokenExpirationSeconds(env),
      ...credentialFiles(env),
      kubeconfigServer: env.WHARF_API_KUBECONFIG_SERVER || `https://${apiHost === '0.0.0.0' ? '127.0.0.1' : apiHost}:${apiPort}`,
      tlsSans: (env.WHARF_API_TLS_SANS ?? '').split(',').map((x) => x.trim()).filter(Boolean),
    },
    admission: {
      serviceCidr: network.serviceCidr,
      nodePortRange: network.nodePortRange,
      // tolerationSeconds of the not-ready/unreachable NoExecute tolerations every pod gets (DefaultTolerationSeconds).
      podEvictionTolerationSeconds: Math.ceil(duration(env, 'WHARF_POD_EVICTION_TOLERATION', 300_000) / 1000),
      disabledPlugins: admissionPlugins(env, 'WHARF_DISABLE_ADMISSION_PLUGINS'),
      podSecurity: podSecurityConfig(env),
    },
    network,
    scheduler: {
      concurrency: int(env, 'WHARF_SCHEDULER_CONCURRENCY', 16, 1),
      retryUnschedulableMs: duration(env, 'WHARF_SCHEDULER_RETRY', 30_000),
      // kube-scheduler's port before it went HTTPS-only (10251).
      metricsPort: port(env, 'WHARF_SCHEDULER_METRICS_PORT', 10251),
      takesPods: oneOf(env, 'WHARF_SCHEDULER_PODS', ['take', 'follow'] as const, 'take') === 'take',
      viewGatherMs: duration(env, 'WHARF_SCHEDULER_VIEW_GATHER', 100),
      // Measured in bench/scheduling.ts (README, "How scheduling scales"): four schedulers' bursts
      // of 43-53 pods became 89-100, their CPU a pod a median 1.11x one's at 1,000 nodes and 1.20x at
      // 5,000; 250 ms made bursts of 97-104 and no better ratio, for twice the wait.
      feedGatherMs: duration(env, 'WHARF_SCHEDULER_FEED_GATHER', 100),
    },
    controller: {
      concurrency: int(env, 'WHARF_CONTROLLER_CONCURRENCY', 16, 1),
      resyncMs: duration(env, 'WHARF_CONTROLLER_RESYNC', 60_000),
      nodeMonitorGraceMs: duration(env, 'WHARF_NODE_MONITOR_GRACE', 50_000),
      kedaScalerTimeoutMs: positiveDuration(env, 'WHARF_KEDA_SCALER_TIMEOUT', 3_000),
      // Measured in bench/scheduling.ts (README, "How scheduling scales") before the scheduler had a
      // gather of its own: at 800 pods/s, 10 ms cut a scheduler's CPU a pod by about a quarter and
      // Redis' by a fifth.
      feedGatherMs: duration(env, 'WHARF_FEED_GATHER', 10),
      hpa: {
        syncPeriodMs: positiveDuration(env, 'WHARF_HPA_SYNC_PERIOD', 15_000),
        downscaleStabilizationMs: duration(env, 'WHARF_HPA_DOWNSCALE_STABILIZATION', 300_000),
        tolerance: fraction(env, 'WHARF_HPA_TOLERANCE', 0.1),
        cpuInitializationPeriodMs: duration(env, 'WHARF_HPA_CPU_INITIALIZATION_PERIOD', 300_000),
        initialReadinessDelayMs: duration(env, 'WHARF_HPA_INITIAL_READINESS_DELAY', 30_000),
        metricsMaxAgeMs: positiveDuration(env, 'WHARF_HPA_METRICS_MAX_AGE', 60_000),
      },
      // kube-controller-manager's port before it went HTTPS-only (10252).
      metricsPort: port(env, 'WHARF_CONTROLLER_METRICS_PORT', 10252),
      httpScalerSyncMs: positiveDuration(env, 'WHARF_HTTP_SCALER_SYNC', 5_000),
    },
    nodeAgent: {
      nodeName,
      runtime: oneOf(env, 'WHARF_RUNTIME', ['docker', 'simulated'] as const, 'docker'),
      simulatedNodes: int(env, 'WHARF_SIMULATED_NODES', 1, 1),
      dockerHost: env.DOCKER_HOST || undefined,
      podNetwork: env.WHARF_POD_NETWORK || 'wharf',
      pauseImage: env.WHARF_PAUSE_IMAGE || 'busybox:latest',
      podSandbox: oneOf(env, 'WHARF_POD_SANDBOX', ['auto', 'always'] as const, 'auto'),
      heartbeatMs: duration(env, 'WHARF_HEARTBEAT', 10_000),
      resyncMs: duration(env, 'WHARF_AGENT_RESYNC', 10_000),
      // Pods start in parallel as the kubelet's pod workers do; the engine, not this, should be the limit.
      concurrency: int(env, 'WHARF_AGENT_CONCURRENCY', 32, 1),
      backoffBaseMs: duration(env, 'WHARF_BACKOFF_BASE', 10_000),
      backoffMaxMs: duration(env, 'WHARF_BACKOFF_MAX', 300_000),
      backoffResetMs: duration(env, 'WHARF_BACKOFF_RESET', 600_000),
      logPort: port(env, 'WHARF_AGENT_PORT', 10250),
      advertiseHost: env.WHARF_AGENT_ADVERTISE_HOST || '127.0.0.1',
      bindAddress: env.WHARF_AGENT_BIND_ADDRESS || undefined,
      nodeAddress: env.WHARF_NODE_ADDRESS || undefined,
      dataDir: resolve(env.WHARF_AGENT_DATA_DIR || '.wharf/agent'),
      cpuMillis: optionalInt(env, 'WHARF_NODE_CPU_MILLIS'),
      memoryBytes: optionalInt(env, 'WHARF_NODE_MEMORY_BYTES'),
      maxPods: int(env, 'WHARF_NODE_MAX_PODS', 110, 1),
      // The kubelet's read-only port (10255), where its /metrics was scraped.
      metricsPort: port(env, 'WHARF_AGENT_METRICS_PORT', 10255),
      metricsPeriodMs: positiveDuration(env, 'WHARF_AGENT_METRICS_PERIOD', 15_000),
      cgroupRoot: env.WHARF_AGENT_CGROUP_ROOT === 'off' ? undefined : env.WHARF_AGENT_CGROUP_ROOT || '/sys/fs/cgroup',
    },
  };
}

/** A comma-separated list; undefined when the variable is unset or empty. */
function list(env: Env, name: string): string[] | undefined {
  const items = (env[name] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return items.length ? items : undefined;
}

/** The admission plugins a cluster may turn off (Kubernetes' --disable-admission-plugins), as for Kubernetes' own integration tests. */
export const OPTIONAL_ADMISSION_PLUGINS = ['ServiceAccount'] as const;

function admissionPlugins(env: Env, name: string): string[] {
  const names = list(env, name) ?? [];
  for (const n of names) {
    if (!(OPTIONAL_ADMISSION_PLUGINS as readonly string[]).includes(n)) throw new ConfigError(name, `unknown admission plugin "${n}"; plugins that may be disabled: ${OPTIONAL_ADMISSION_PLUGINS.join(', ')}`);
  }
  return names;
}

/** Kubernetes' ValidateTokenRequest bounds a lifetime to 10 minutes .. 2^32 seconds; 0 means no limit of the cluster's own. */
function maxTokenExpirationSeconds(env: Env): number {
  const name = 'WHARF_SERVICE_ACCOUNT_MAX_TOKEN_EXPIRATION';
  const ms = duration(env, name, 0);
  if (ms === 0) return 0;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 600 || seconds > 2 ** 32) throw new ConfigError(name, `expected a duration from 10m to 2^32 seconds, got "${env[name]}"`);
  return seconds;
}

/** The admin token's file and the kubeconfig that carries it: a kubeconfig needs the token it writes. */
function credentialFiles(env: Env): Pick<ApiConfig, 'adminTokenFile' | 'writeKubeconfig'> {
  const adminTokenFile = env.WHARF_ADMIN_TOKEN_FILE ? resolve(env.WHARF_ADMIN_TOKEN_FILE) : undefined;
  const writeKubeconfig = env.WHARF_API_WRITE_KUBECONFIG ? resolve(env.WHARF_API_WRITE_KUBECONFIG) : undefined;
  if (writeKubeconfig && !adminTokenFile) throw new ConfigError('WHARF_API_WRITE_KUBECONFIG', 'needs WHARF_ADMIN_TOKEN_FILE: the kubeconfig carries the admin token kept there');
  return { adminTokenFile, writeKubeconfig };
}

function policyVersion(env: Env, name: string, fallback: PolicyVersion): PolicyVersion {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const v = parseVersion(raw);
  if (v === undefined) throw new ConfigError(name, `expected "latest" or "v1.x", got "${raw}"`);
  return v;
}

/**
 * Pod Security admission's cluster defaults (Kubernetes' PodSecurityConfiguration): the enforce
 * level of a namespace without labels (baseline unless configured), the warn level (the enforce
 * level unless configured), and the exempt namespaces — kube-system always, plus any listed.
 * Audit stays privileged: Wharf keeps no audit log for its annotations to go to.
 */
function podSecurityConfig(env: Env): PodSecuritySettings {
  const enforce = oneOf<Level>(env, 'WHARF_POD_SECURITY_ENFORCE', LEVELS, 'baseline');
  const enforceVersion = policyVersion(env, 'WHARF_POD_SECURITY_ENFORCE_VERSION', 'latest');
  const warn = oneOf<Level>(env, 'WHARF_POD_SECURITY_WARN', LEVELS, enforce);
  const warnVersion = policyVersion(env, 'WHARF_POD_SECURITY_WARN_VERSION', enforceVersion);
  const listed = (env.WHARF_POD_SECURITY_EXEMPT_NAMESPACES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return {
    defaults: {
      enforce: { level: enforce, version: enforceVersion },
      audit: { level: 'privileged', version: 'latest' },
      warn: { level: warn, version: warnVersion },
    },
    exemptNamespaces: [...new Set(['kube-system', ...listed])],
  };
}

/**
 * REDIS_URL (redis://user:password@host:port), with the password read from
 * WHARF_REDIS_PASSWORD_FILE when that is given: a file mounted from a secret store, so the
 * password appears in no process's environment or command line.
 */
function redisUrl(env: Env): string | undefined {
  const url = env.REDIS_URL || undefined;
  const file = env.WHARF_REDIS_PASSWORD_FILE;
  if (!file) return url;
  if (!url) throw new ConfigError('WHARF_REDIS_PASSWORD_FILE', 'needs REDIS_URL (redis://user@host:port) to name the user and server');
  let password: string;
  try {
    password = readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new ConfigError('WHARF_REDIS_PASSWORD_FILE', `cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ConfigError('REDIS_URL', `expected a URL like redis://user@host:6379, got "${url}"`);
  }
  parsed.password = encodeURIComponent(password);
  return parsed.toString();
}

/** WHARF_REDIS_SENTINELS=host:port,... and WHARF_REDIS_MASTER_NAME, with the sentinels' own credentials when they need them. */
function redisSentinel(env: Env): RedisSentinelConfig | undefined {
  const listed = (env.WHARF_REDIS_SENTINELS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  if (!listed.length) {
    for (const name of ['WHARF_REDIS_MASTER_NAME', 'WHARF_REDIS_SENTINEL_USERNAME', 'WHARF_REDIS_SENTINEL_PASSWORD_FILE']) {
      if (env[name]) throw new ConfigError(name, 'needs WHARF_REDIS_SENTINELS (host:port,host:port,...)');
    }
    return undefined;
  }
  const sentinels = listed.map((entry) => {
    const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d+)$/.exec(entry);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65535) throw new ConfigError('WHARF_REDIS_SENTINELS', `expected host:port,host:port,..., got "${entry}"`);
    return { host: m[1].replace(/^\[|\]$/g, ''), port };
  });
  const masterName = env.WHARF_REDIS_MASTER_NAME;
  if (!masterName) throw new ConfigError('WHARF_REDIS_MASTER_NAME', 'needed with WHARF_REDIS_SENTINELS: the name the sentinels monitor the primary under');
  const file = env.WHARF_REDIS_SENTINEL_PASSWORD_FILE;
  let sentinelPassword: string | undefined;
  if (file) {
    try {
      sentinelPassword = readFileSync(file, 'utf8').trim();
    } catch (err) {
      throw new ConfigError('WHARF_REDIS_SENTINEL_PASSWORD_FILE', `cannot read ${file}: ${(err as Error).message}`);
    }
  }
  return { sentinels, masterName, sentinelUsername: env.WHARF_REDIS_SENTINEL_USERNAME || undefined, sentinelPassword };
}

/**
 * With sentinels a write waits for 1 replica unless told otherwise: replication being asynchronous,
 * that is what keeps a failover from losing acknowledged writes. A single Redis has no replica to wait for.
 */
function redisWait(env: Env, sentinels: boolean): { redisWaitReplicas: number; redisWaitTimeoutMs: number } {
  const redisWaitReplicas = int(env, 'WHARF_REDIS_WAIT_REPLICAS', sentinels ? 1 : 0, 0, 100);
  const redisWaitTimeoutMs = positiveDuration(env, 'WHARF_REDIS_WAIT_TIMEOUT', 1_000);
  // The API server's connection gives up on any command after WHARF_API_REDIS_TIMEOUT: a WAIT that
  // may take as long would fail as an unanswered Redis, not as an unconfirmed write.
  const commandTimeoutMs = duration(env, 'WHARF_API_REDIS_TIMEOUT', 5_000);
  if (redisWaitReplicas > 0 && redisWaitTimeoutMs >= commandTimeoutMs) {
    throw new ConfigError('WHARF_REDIS_WAIT_TIMEOUT', `must be shorter than WHARF_API_REDIS_TIMEOUT (${commandTimeoutMs}ms), got ${redisWaitTimeoutMs}ms`);
  }
  return { redisWaitReplicas, redisWaitTimeoutMs };
}

function ipv4(name: string, ip: string): number {
  const n = ipv4ToInt(ip);
  if (n === undefined) throw new ConfigError(name, `expected an IPv4 address, got "${ip}"`);
  return n;
}

function networkConfig(env: Env): NetworkConfig {
  const serviceCidr = env.WHARF_SERVICE_CIDR || '10.96.0.0/16';
  const [ip, bitsText] = serviceCidr.split('/');
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || bits < 8 || bits > 28) throw new ConfigError('WHARF_SERVICE_CIDR', `expected an IPv4 CIDR from /8 to /28, got "${serviceCidr}"`);
  const size = 2 ** (32 - bits);
  const start = ipv4('WHARF_SERVICE_CIDR', ip);
  const base = start - (start % size);
  const dnsServiceIp = env.WHARF_DNS_SERVICE_IP || intToIpv4(base + 10);
  const dns = ipv4('WHARF_DNS_SERVICE_IP', dnsServiceIp);
  if (dns <= base || dns >= base + size - 1) throw new ConfigError('WHARF_DNS_SERVICE_IP', `${dnsServiceIp} is not inside ${serviceCidr}`);
  const nodePortRange = env.WHARF_SERVICE_NODE_PORT_RANGE || '30000-32767';
  const m = /^(\d+)-(\d+)$/.exec(nodePortRange);
  if (!m || Number(m[1]) < 1 || Number(m[2]) > 65535 || Number(m[1]) > Number(m[2])) {
    throw new ConfigError('WHARF_SERVICE_NODE_PORT_RANGE', `expected a port range like 30000-32767, got "${nodePortRange}"`);
  }
  return {
    serviceCidr,
    nodePortRange,
    clusterDomain: env.WHARF_CLUSTER_DOMAIN || 'cluster.local',
    dnsServiceIp,
    kubernetesServiceIp: intToIpv4(base + 1),
    proxy: oneOf(env, 'WHARF_SERVICE_PROXY', ['on', 'off'] as const, 'on') === 'on',
    dnsUpstream: env.WHARF_DNS_UPSTREAM || undefined,
    endpointDrainMs: duration(env, 'WHARF_ENDPOINT_DRAIN', 1_000),
    activatorHoldMs: positiveDuration(env, 'WHARF_ACTIVATOR_TIMEOUT', 60_000),
    trafficReportMs: positiveDuration(env, 'WHARF_PROXY_TRAFFIC_INTERVAL', 1_000),
    ...clusterCidrConfig(env),
  };
}

function clusterCidrConfig(env: Env): { clusterCidr?: string; nodeCidrMaskSize: number } {
  const nodeCidrMaskSize = int(env, 'WHARF_NODE_CIDR_MASK_SIZE', 24, 8);
  const clusterCidr = env.WHARF_CLUSTER_CIDR || undefined;
  if (!clusterCidr) return { nodeCidrMaskSize };
  const [ip, bitsText] = clusterCidr.split('/');
  const bits = Number(bitsText);
  if (!Number.isInteger(bits) || bits < 8 || bits > 28) throw new ConfigError('WHARF_CLUSTER_CIDR', `expected an IPv4 CIDR from /8 to /28, got "${clusterCidr}"`);
  const start = ipv4('WHARF_CLUSTER_CIDR', ip);
  if (start % 2 ** (32 - bits) !== 0) throw new ConfigError('WHARF_CLUSTER_CIDR', `${clusterCidr} has host bits set`);
  if (nodeCidrMaskSize < bits || nodeCidrMaskSize > 30) throw new ConfigError('WHARF_NODE_CIDR_MASK_SIZE', `expected ${bits}-30 (within WHARF_CLUSTER_CIDR ${clusterCidr}), got ${nodeCidrMaskSize}`);
  return { clusterCidr, nodeCidrMaskSize };
}
