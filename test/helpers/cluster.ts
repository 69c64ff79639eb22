// Real processes for integration tests: a redis-server per test file on a free port, and Wharf's
// services as child processes (so tests can kill them mid-way, as the brief demands).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtempSync, createWriteStream, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes, randomInt } from 'node:crypto';
import { request as httpsRequest, Agent as HttpsAgent } from 'node:https';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { parseKubeconfig } from '../../shared/auth/kubeconfig.ts';
import { Keys } from '../../shared/keys.ts';
import { ADMIN_USER, aclUsers, redisUrlFor, redisUserName, REDIS_USER_KINDS, type RedisUserKind } from '../../shared/redis-acl.ts';
import { generateEncryptionConfig } from '../../shared/store/encryption.ts';
import { serviceCommand } from './service-bundle.ts';

export const ROOT = resolve(import.meta.dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, opts: { timeoutMs?: number; intervalMs?: number; message?: string; detail?: () => string } = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? `: ${lastError.message}` : '';
      const detail = `\n${opts.detail ? opts.detail() : runningClustersLogs()}`;
      throw new Error(`timed out waiting for ${opts.message ?? 'condition'}${why}${detail}`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 100));
  }
}

export interface RedisHandle {
  port: number;
  /** An administrator's URL (every command, every key): for tests that inspect or arrange Redis. */
  url: string;
  /** The URL of the Redis user of a kind of Wharf process, confined by the ACLs (shared/redis-acl.ts). */
  urlFor(kind: RedisUserKind): string;
  /** The server's address without credentials: refused everything (NOAUTH). */
  anonymousUrl: string;
  dir: string;
  stop(): Promise<void>;
  /** Stops it (if it still runs) and starts it again on the same port and data. */
  restart(): Promise<void>;
  /**
   * Sends the redis-server a signal: SIGSTOP / SIGCONT hang and resume it; SIGKILL crashes it
   * (resolving once it is gone; restart() brings it back).
   */
  signal(signal: NodeJS.Signals): Promise<void>;
}

async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const { connect } = await import('node:net');
  await eventually(() => new Promise<boolean>((res) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
  }), { timeoutMs, message: `port ${port}` });
}

/**
 * A private redis-server with append-only persistence, so a restart keeps the data (like etcd),
 * and ACL users as a real deployment has them: one user per kind of Wharf process confined to the
 * keys of the cluster whose prefix is given, and the administrator (the default user, behind a
 * password): a client without credentials gets NOAUTH.
 */
export async function startRedis(opts: { prefix?: string; /** Another address to listen on besides 127.0.0.1 (agents in Docker-in-Docker hosts). */ bind?: string } = {}): Promise<RedisHandle> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'wharf-redis-'));
  const users = aclUsers(new Keys(opts.prefix ?? 'wharf'));
  const aclFile = join(dir, 'users.acl');
  writeFileSync(aclFile, users.file, { mode: 0o600 });
  const base = `redis://127.0.0.1:${port}`;
  let child: ChildProcess;
  const launch = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', ...(opts.bind ? ['127.0.0.1', opts.bind] : ['127.0.0.1']), '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--aclfile', aclFile], { stdio: 'ignore' });
    await waitForPort(port);
  };
  await launch();
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const stopChild = () => new Promise<void>((res) => {
    if (exited()) return res();
    child.once('exit', () => res());
    child.kill('SIGCONT'); // a stopped server cannot shut down
    child.kill('SIGTERM');
  });
  return {
    port,
    url: redisUrlFor(base, ADMIN_USER, users.passwords[ADMIN_USER]),
    urlFor: (kind) => redisUrlFor(base, redisUserName(kind), users.passwords[redisUserName(kind)]),
    anonymousUrl: base,
    dir,
    async stop() {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await stopChild();
      await launch();
    },
    async signal(signal: NodeJS.Signals) {
      if (exited()) return;
      const gone = signal === 'SIGKILL' || signal === 'SIGTERM' ? new Promise<void>((res) => child.once('exit', () => res())) : undefined;
      child.kill(signal);
      await gone;
    },
  };
}

export interface ServiceHandle {
  name: string;
  label: string;
  child: ChildProcess;
  logFile: string;
  kill(signal?: NodeJS.Signals): Promise<void>;
  logs(): string;
  /** How the process ended ("exit code 1", "signal SIGKILL"), or undefined while it runs. */
  ended(): string | undefined;
  /** The process's resident memory now and at its peak (VmRSS, VmHWM of /proc/<pid>/status), in KiB. */
  memory(): { rssKiB: number; peakKiB: number };
}

const LOG_DIR = mkdtempSync(join(tmpdir(), 'wharf-test-logs-'));

/** Starts services/<name>/main.ts as its own process with the given environment (bundled: service-bundle.ts). */
export function startService(name: string, env: Record<string, string>, label = name): ServiceHandle {
  const logFile = join(LOG_DIR, `${label}-${randomBytes(3).toString('hex')}.log`);
  const out = createWriteStream(logFile);
  // WHARF_PROFILE_DIR=dir: each service writes a V8 CPU profile there when it exits (SIGTERM).
  const profile = process.env.WHARF_PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', process.env.WHARF_PROFILE_DIR] : [];
  // WHARF_NODE_FLAGS in env: flags for node itself (V8's, which NODE_OPTIONS refuses), space-separated.
  const nodeFlags = (env.WHARF_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...profile, ...nodeFlags, ...serviceCommand(name)], {
    cwd: ROOT,
    env: { ...process.env, WHARF_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.pipe(out);
  child.stderr!.pipe(out);
  const ended = () => {
    if (child.signalCode !== null) return `signal ${child.signalCode}`;
    if (child.exitCode !== null) return `exit code ${child.exitCode}`;
    return undefined;
  };
  return {
    name,
    label,
    child,
    logFile,
    ended,
    kill(signal: NodeJS.Signals = 'SIGKILL') {
      return new Promise((res) => {
        if (ended()) return res();
        child.once('exit', () => res());
        child.kill(signal);
      });
    },
    logs() {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)![1]);
      return { rssKiB: field('VmRSS'), peakKiB: field('VmHWM') };
    },
  };
}

/**
 * What Redis refused the cluster's processes (ACL LOG), written beside the services' logs and named
 * on stderr: a command a process needs but its user lacks shows up here, rather than only as a
 * retrying warning in one service's log.
 */
async function reportAclRefusals(redis: RedisHandle, prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  admin.on('error', () => undefined); // a Redis already gone is reported by connect() below
  try {
    await admin.connect();
    const entries = ((await admin.call('ACL', 'LOG', '1000')) as unknown[][]).map((e) => Object.fromEntries(Array.from({ length: e.length / 2 }, (_, i) => [e[2 * i], e[2 * i + 1]])) as Record<string, string>);
    const lines = entries.map((e) => `${e.count}x ${e.username} ${e.reason} ${e.context} ${e.object}`);
    if (!lines.length) return;
    const file = join(LOG_DIR, `redis-acl-refusals-${prefix}.log`);
    writeFileSync(file, `${lines.join('\n')}\n`);
    console.error(`Redis refused ${lines.length} kinds of commands or keys (tests that probe the ACLs expect some): ${file}`);
  } catch {
    // Redis already gone (a test stopped it): nothing to report.
  } finally {
    admin.disconnect();
  }
}

export interface ClusterOptions {
  apiServers?: number;
  schedulers?: number;
  controllerManagers?: number;
  /** Node agents: each an env override (WHARF_NODE_NAME, WHARF_RUNTIME, ...). */
  agents?: Record<string, string>[];
  env?: Record<string, string>;
  /**
   * The cluster's Redis, made for its key prefix (ACL users confined to it): startRedis unless
   * given (a Sentinel-managed group, test/helpers/redis-sentinel.ts), with the environment that
   * points the cluster's processes at it beside REDIS_URL.
   */
  redis?: (prefix: string) => Promise<RedisHandle & { env?: Record<string, string> }>;
  /** The address API servers listen on (127.0.0.1 unless given): 0.0.0.0 lets pods reach them through default/kubernetes. */
  apiHost?: string;
  /** Another address Redis listens on besides 127.0.0.1, for node agents outside this machine's network namespace. */
  redisBind?: string;
}

export interface Cluster {
  redis: RedisHandle;
  prefix: string;
  env: Record<string, string>;
  /** https://127.0.0.1:<port> of each API server started with the cluster. */
  apiUrls: string[];
  /** A client of the first API server, as the administrator (the admin token, the cluster CA trusted). */
  api: ApiClient;
  /** The cluster CA's certificate (PEM), which every API server's serving certificate chains to. */
  ca: string;
  /** The administrator's bearer token (user system:admin, group system:masters). */
  adminToken: string;
  /** The admin credentials: { ca, token }. */
  credentials: ApiCredentials;
  /** A kubeconfig file for the first API server with the CA and the admin token, for kubectl and the official clients. */
  kubeconfig: string;
  /** A directory of the cluster's own, removed by stop(): the admin token's file, the kubeconfig, the CA as a file (ca.crt). */
  dir: string;
  /** fetch() against the cluster's API servers: the cluster CA trusted and the admin token sent unless init.headers carries an Authorization of its own. */
  fetch: Fetch;
  /** An ApiClient for another API server URL (one a test started itself), as the administrator unless credentials are given. */
  client(base: string, credentials?: ApiCredentials): ApiClient;
  services: ServiceHandle[];
  start(name: string, env?: Record<string, string>, label?: string): ServiceHandle;
  stop(): Promise<void>;
  dumpLogs(): string;
  /** Waits until the API lists every named Node; on timeout the error carries the services' logs. */
  waitForNodes(names: string[], timeoutMs?: number): Promise<void>;
}

function nodePortBlock(): string {
  const base = 30000 + randomInt(54) * 50;
  return `${base}-${base + 49}`;
}

/**
 * Starts an API server on a port picked just before, and waits until it is ready (its kubeconfig
 * written, /readyz answering over HTTPS). A port picked in advance can be taken by another process
 * before the server binds it; the server then exits, and is started again on another port.
 */
async function startApiServer(start: (name: string, env: Record<string, string>, label: string) => ServiceHandle, index: number, dir: string, dumpLogs: () => string, host = '127.0.0.1'): Promise<{ url: string; kubeconfig: string }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const kubeconfig = join(dir, `kubeconfig-api-${index}`);
    rmSync(kubeconfig, { force: true });
    const server = start('api', { WHARF_API_PORT: String(port), WHARF_API_HOST: host, WHARF_API_WRITE_KUBECONFIG: kubeconfig }, attempt === 1 ? `api-${index}` : `api-${index}-attempt-${attempt}`);
    const url = `https://127.0.0.1:${port}`;
    const ready = await eventually(async () => {
      if (server.ended()) return server.ended();
      if (!existsSync(kubeconfig)) return false;
      const { caPem } = parseKubeconfig(readFileSync(kubeconfig, 'utf8'));
      return (await credentialedFetch({ ca: caPem })(`${url}/readyz`)).ok;
    }, { timeoutMs: 60_000, message: `${url}/readyz`, detail: dumpLogs });
    if (ready === true) return { url, kubeconfig };
    if (attempt === 3) throw new Error(`API server ${index} ${ready} three times\n${dumpLogs()}`);
  }
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const prefix = `t${randomBytes(3).toString('hex')}`;
  const dir = mkdtempSync(join(tmpdir(), 'wharf-cluster-'));
  // The admin token, as `npm start` keeps it: a file every API server of the cluster reads.
  const adminToken = randomBytes(32).toString('hex');
  writeFileSync(join(dir, 'admin-token'), `${adminToken}\n`, { mode: 0o600 });
  const redis: RedisHandle & { env?: Record<string, string> } = await (opts.redis ?? ((p: string) => startRedis({ prefix: p, bind: opts.redisBind })))(prefix);
  // Secrets encrypted at rest, as npm start and Compose run: a key of this cluster's own.
  const encryptionConfig = join(redis.dir, 'encryption-config.yaml');
  writeFileSync(encryptionConfig, generateEncryptionConfig(), { mode: 0o600 });
  const env: Record<string, string> = {
    // The administrator's: for tests that start processes of their own. The cluster's services
    // each get their own kind's user (start, below).
    REDIS_URL: redis.url,
    WHARF_ADMIN_TOKEN_FILE: join(dir, 'admin-token'),
    ...('env' in redis ? redis.env : {}),
    WHARF_ENCRYPTION_CONFIG: encryptionConfig,
    WHARF_KEY_PREFIX: prefix,
    WHARF_CONTROLLER_RESYNC: '5s',
    WHARF_AGENT_RESYNC: '3s',
    WHARF_HEARTBEAT: '2s',
    WHARF_SCHEDULER_RETRY: '1s',
    WHARF_BACKOFF_BASE: '1s',
    WHARF_BACKOFF_MAX: '4s',
    // Each cluster its own Service addresses and node ports: node agents of test files running in
    // parallel serve them on this one machine.
    WHARF_SERVICE_CIDR: `10.${100 + randomInt(100)}.${randomInt(256)}.0/24`,
    WHARF_SERVICE_NODE_PORT_RANGE: nodePortBlock(),
    // API servers renew their endpoint Lease once an hour here, so the store holds still between a
    // test's snapshots (tests of the endpoints set their own).
    WHARF_API_ENDPOINT_LEASE_TTL: '1h',
    // No Prometheus endpoints on fixed ports: clusters of test files running side by side would
    // race for them (tests of the endpoints give each a free port).
    WHARF_SCHEDULER_METRICS_PORT: '0',
    WHARF_CONTROLLER_METRICS_PORT: '0',
    WHARF_AGENT_METRICS_PORT: '0',
    // Without a controller manager nobody makes ServiceAccounts: pods are admitted without one, as
    // Kubernetes' own integration tests run with --disable-admission-plugins=ServiceAccount.
    ...(opts.controllerManagers === 0 ? { WHARF_DISABLE_ADMISSION_PLUGINS: 'ServiceAccount' } : {}),
    ...opts.env,
  };
  const services: ServiceHandle[] = [];
  const start = (name: string, extra: Record<string, string> = {}, label = name) => {
    const kind = REDIS_USER_KINDS.find((k) => k === name);
    const s = startService(name, { ...env, ...(kind && { REDIS_URL: redis.urlFor(kind) }), ...extra }, label);
    services.push(s);
    return s;
  };
  const dumpLogs = () => services.map((s) => `==== ${s.label} (${s.ended() ?? 'running'}) ${s.logFile}\n${s.logs().split('\n').slice(-40).join('\n')}`).join('\n');
  const apiUrls: string[] = [];
  for (let i = 0; i < (opts.schedulers ?? 1); i++) start('scheduler', {}, `scheduler-${i}`);
  for (let i = 0; i < (opts.controllerManagers ?? 1); i++) start('controller-manager', {}, `controller-manager-${i}`);
  // Port 0: each agent takes a port the kernel gives it and advertises that one, so agents of test
  // files running side by side never race for a port picked in advance.
  for (const [i, agentEnv] of (opts.agents ?? []).entries()) start('node-agent', { WHARF_AGENT_PORT: '0', ...agentEnv }, `node-agent-${i}`);
  const kubeconfigs: string[] = [];
  for (let i = 0; i < (opts.apiServers ?? 1); i++) {
    const started = await startApiServer(start, i, dir, dumpLogs, opts.apiHost);
    apiUrls.push(started.url);
    kubeconfigs.push(started.kubeconfig);
  }
  const ca = parseKubeconfig(readFileSync(kubeconfigs[0], 'utf8')).caPem;
  writeFileSync(join(dir, 'ca.crt'), ca);
  const credentials: ApiCredentials = { ca, token: adminToken };
  const registration = { credentials, kubeconfig: kubeconfigs[0], urls: apiUrls, dumpLogs };
  RUNNING_CLUSTERS.add(registration);
  const api = new ApiClient(apiUrls[0], credentials);
  await eventually(async () => (await api.get('/api/v1/namespaces/default')).status === 200, { timeoutMs: 10_000, message: 'default namespace', detail: dumpLogs });
  // Pods are admitted only once their ServiceAccount exists: the controller manager makes default/default,
  // and publishes kube-root-ca.crt, which lists of ConfigMaps then hold from the first test on.
  if ((opts.controllerManagers ?? 1) > 0) {
    await eventually(async () => (await api.get('/api/v1/namespaces/default/serviceaccounts/default')).status === 200, { timeoutMs: 30_000, message: 'default ServiceAccount', detail: dumpLogs });
    await eventually(async () => (await api.get('/api/v1/namespaces/default/configmaps/kube-root-ca.crt')).status === 200, { timeoutMs: 30_000, message: 'kube-root-ca.crt', detail: dumpLogs });
  }
  return {
    redis,
    prefix,
    env,
    apiUrls,
    api,
    ca,
    adminToken,
    credentials,
    kubeconfig: kubeconfigs[0],
    dir,
    fetch: credentialedFetch(credentials),
    client: (base: string, creds: ApiCredentials = credentials) => new ApiClient(base, creds),
    services,
    start,
    async stop() {
      RUNNING_CLUSTERS.delete(registration);
      await Promise.all(services.map((s) => s.kill('SIGTERM')));
      await reportAclRefusals(redis, prefix);
      await redis.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    dumpLogs,
    async waitForNodes(names: string[], timeoutMs = 60_000) {
      await eventually(async () => {
        const listed = new Set(((await api.get('/api/v1/nodes')).body.items ?? []).map((n: any) => n.metadata.name));
        return names.every((n) => listed.has(n));
      }, { timeoutMs, message: `nodes ${names.join(', ')}`, detail: dumpLogs });
    },
  };
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/**
 * What a client presents to a Wharf API server: the CA it trusts (the cluster's), and its
 * credential: a bearer token, or a client certificate and key (PEM). None: an anonymous client.
 */
export interface ApiCredentials {
  ca?: string;
  token?: string;
  cert?: string;
  key?: string;
}

export type Fetch = (url: string | URL, init?: RequestInit) => Promise<Response>;

/** The clusters this process runs, so a client made from a URL alone (new ApiClient(url), kubectl --server) finds their credentials. */
const RUNNING_CLUSTERS = new Set<{ credentials: ApiCredentials; kubeconfig: string; urls: string[]; dumpLogs: () => string }>();

/**
 * The last lines of every service of the clusters this test file runs: what a failure message
 * carries when its test named nothing else, so a failure in CI says what the services were doing.
 */
export function runningClustersLogs(): string {
  return [...RUNNING_CLUSTERS].map((c) => c.dumpLogs()).join('\n');
}

/**
 * The credentials and kubeconfig of the running cluster whose API server this URL names; with no
 * exact match, those of the only cluster running (a test's own API server on another port).
 */
export function clusterFor(url: string): { credentials: ApiCredentials; kubeconfig: string } | undefined {
  const origin = (() => {
    try {
      return new URL(url).origin;
    } catch {
      return url;
    }
  })();
  const all = [...RUNNING_CLUSTERS];
  return all.find((c) => c.urls.some((u) => new URL(u).origin === origin)) ?? (all.length === 1 ? all[0] : undefined);
}

const keepAlive = new HttpsAgent({ keepAlive: true });

/**
 * fetch() over node:https with the given credentials (global fetch cannot be given a CA): a real
 * Response, whose body streams (watches read it with getReader()). The token goes in an
 * Authorization header unless init.headers carries one. http:// URLs (a pod's server) go plain.
 */
export function credentialedFetch(credentials: ApiCredentials = {}): Fetch {
  return (input, init = {}) => new Promise<Response>((resolve, reject) => {
    const url = new URL(String(input));
    const headers = new Headers(init.headers);
    if (credentials.token && !headers.has('authorization')) headers.set('authorization', `Bearer ${credentials.token}`);
    const body = init.body;
    if (body !== undefined && body !== null && typeof body !== 'string' && !(body instanceof Uint8Array)) {
      return reject(new TypeError('credentialedFetch sends string and Uint8Array bodies only'));
    }
    // Node frames a body it is handed at end() only for some methods (not DELETE's): say its length, as fetch does.
    if (body !== undefined && body !== null && !headers.has('content-length')) headers.set('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength));
    const signal = init.signal ?? undefined;
    if (signal?.aborted) return reject(signal.reason);
    const method = (init.method ?? 'GET').toUpperCase();
    const options = {
      method,
      headers: Object.fromEntries(headers),
      ...(url.protocol === 'https:' ? { ca: credentials.ca, cert: credentials.cert, key: credentials.key, agent: keepAlive } : {}),
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const responseHeaders = new Headers();
      for (const [name, value] of Object.entries(res.headers)) {
        for (const v of [value ?? []].flat()) responseHeaders.append(name, v);
      }
      const status = res.statusCode ?? 0;
      const empty = method === 'HEAD' || [101, 204, 205, 304].includes(status);
      if (empty) res.resume();
      resolve(new Response(empty ? null : (Readable.toWeb(res) as ReadableStream), { status, statusText: res.statusMessage, headers: responseHeaders }));
    });
    const abort = () => req.destroy(signal?.reason ?? new DOMException('This operation was aborted', 'AbortError'));
    signal?.addEventListener('abort', abort, { once: true });
    req.on('error', (err) => reject(err));
    req.on('close', () => signal?.removeEventListener('abort', abort));
    req.end(body ?? undefined);
  });
}

/** A deliberately plain HTTPS client: tests assert on exactly what the API answers. */
export class ApiClient {
  /** fetch() with this client's credentials. */
  readonly fetch: Fetch;

  /** Without credentials: those of the running cluster this base URL belongs to (as the administrator). */
  constructor(readonly base: string, readonly credentials: ApiCredentials = clusterFor(base)?.credentials ?? {}) {
    this.fetch = credentialedFetch(credentials);
  }

  /** The same server with other credentials; the cluster CA is kept unless given. {} keeps only the CA: an anonymous client. */
  as(credentials: Omit<ApiCredentials, 'ca'> & { ca?: string }): ApiClient {
    return new ApiClient(this.base, { ca: this.credentials.ca, ...credentials });
  }

  async request<T = any>(method: string, path: string, body?: unknown, contentType = 'application/json', headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const init: RequestInit = { method, headers: { ...headers } };
    if (body !== undefined) {
      (init.headers as Record<string, string>)['Content-Type'] = contentType;
      init.body = typeof body === 'string' || body instanceof Uint8Array ? (body as any) : JSON.stringify(body);
    }
    const res = await this.fetch(`${this.base}${path}`, init);
    const text = await res.text();
    let parsed: any = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed as T, headers: res.headers };
  }

  /**
   * Reads a watch's events until `until` holds, the server ends the stream, or timeoutMs passes. A
   * refusal (not 200) comes back as its one Status, with ended set.
   */
  async watch(path: string, until: (events: any[]) => boolean, timeoutMs = 5000): Promise<{ status: number; events: any[]; ended: boolean }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const events: any[] = [];
    let status = 0;
    let ended = false;
    try {
      const res = await this.fetch(`${this.base}${path}`, { signal: controller.signal });
      status = res.status;
      if (status !== 200) {
        events.push(await res.json());
        return { status, events, ended: true };
      }
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      while (!until(events)) {
        const { value, done } = await reader.read();
        if (done) {
          ended = true;
          break;
        }
        buffer += decoder.decode(value, { stream: true });
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
        }
      }
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
    return { status, events, ended };
  }

  get<T = any>(path: string, headers?: Record<string, string>) {
    return this.request<T>('GET', path, undefined, undefined, headers);
  }
  post<T = any>(path: string, body: unknown, contentType?: string) {
    return this.request<T>('POST', path, body, contentType);
  }
  put<T = any>(path: string, body: unknown, contentType?: string) {
    return this.request<T>('PUT', path, body, contentType);
  }
  patch<T = any>(path: string, body: unknown, contentType = 'application/merge-patch+json') {
    return this.request<T>('PATCH', path, body, contentType);
  }
  delete<T = any>(path: string, body?: unknown) {
    return this.request<T>('DELETE', path, body);
  }
}
