// `npm start`: an all-in-one local cluster — Redis (an embedded redis-server when none answers),
// the API server, a scheduler, a controller manager and a node agent for the local Docker engine,
// each its own process. As k3s does, the API server writes an admin kubeconfig under .wharf/ (the
// cluster CA and the admin token, whose file .wharf/admin-token keeps it across restarts), which
// kubectl uses with no other flags. The embedded Redis has a user per kind of process and no
// default user, and Secrets are encrypted at rest: the ACL file, the passwords and the encryption
// key are made under .wharf/secrets/ on the first start and kept.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { agentNodeNames, loadConfig } from '../../shared/config.ts';
import { ensureClusterSecrets, type ClusterSecrets } from '../../shared/cluster-secrets.ts';
import { Keys } from '../../shared/keys.ts';
import { redisUserName, type RedisUserKind } from '../../shared/redis-acl.ts';
import { createLogger } from '../../shared/log.ts';
import { parseKubeconfig, type KubeconfigParts } from '../../shared/auth/kubeconfig.ts';
import type { Node } from '../../shared/types.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const config = loadConfig();
const STATE_DIR = config.local.stateDir;
const KUBECONFIG = config.api.writeKubeconfig ?? join(STATE_DIR, 'kubeconfig');
const ADMIN_TOKEN_FILE = config.api.adminTokenFile ?? join(STATE_DIR, 'admin-token');
const log = createLogger('local-cluster', config.common.logLevel);
const children: ChildProcess[] = [];
let embeddedRedis: ChildProcess | undefined;
let stopping = false;

/** How long each part may take to come up: generous, for a loaded laptop compiling TypeScript. */
const REDIS_START_TIMEOUT_MS = 30_000;
const API_START_TIMEOUT_MS = 45_000;
const NODE_START_TIMEOUT_MS = 60_000;

function portAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, host);
    s.setTimeout(500);
    s.on('connect', () => {
      s.destroy();
      res(true);
    });
    s.on('error', () => res(false));
    s.on('timeout', () => {
      s.destroy();
      res(false);
    });
  });
}

/**
 * Waits until `missing` names nothing missing; past the deadline, fails with what it last named,
 * so a slow start says which part of the cluster never came.
 */
async function until(missing: () => Promise<string | undefined>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const what = await missing();
    if (what === undefined) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s: ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** A GET over HTTPS as the kubeconfig's user, trusting the kubeconfig's CA. */
function get(kubeconfig: KubeconfigParts, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${kubeconfig.server}${path}`, { ca: kubeconfig.caPem, headers: { authorization: `Bearer ${kubeconfig.token}` }, timeout: 2_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
    req.on('error', reject);
    req.end();
  });
}

/** The kubeconfig this run's API server wrote, once it has. */
function writtenKubeconfig(): KubeconfigParts | undefined {
  return existsSync(KUBECONFIG) ? parseKubeconfig(readFileSync(KUBECONFIG, 'utf8')) : undefined;
}

/** What the API server lacks to be ready, from its kubeconfig and /readyz; undefined once it answers ok. */
async function apiNotReady(): Promise<string | undefined> {
  const kubeconfig = writtenKubeconfig();
  if (!kubeconfig) return `the API server has not written ${KUBECONFIG} yet`;
  try {
    const res = await get(kubeconfig, '/readyz');
    if (res.status === 200) return undefined;
    return `the API server at ${kubeconfig.server} is not ready: /readyz answers ${res.status} ${res.body.trim()}`;
  } catch (err) {
    return `the API server at ${kubeconfig.server} does not answer /readyz (${(err as Error).message})`;
  }
}

/**
 * What keeps the node from being Ready for kubectl, or undefined once it is: registered, Ready
 * True, and posted by this run's node agent (a Node kept in Redis from an earlier run may still
 * say Ready until the lifecycle controller notices its silence).
 */
function nodeNotReady(name: string, node: Node | undefined, sinceMs: number): string | undefined {
  if (!node) return `node "${name}" is not registered yet (the node agent has not posted it)`;
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') {
    const why = ready ? `Ready=${ready.status}${ready.reason ? ` ${ready.reason}` : ''}${ready.message ? `: ${ready.message}` : ''}` : 'no Ready condition';
    return `node "${name}" is registered but not Ready (${why})`;
  }
  // Heartbeat times have whole seconds.
  const heartbeat = Date.parse(ready.lastHeartbeatTime ?? '');
  if (!(heartbeat >= Math.floor(sinceMs / 1000) * 1000)) {
    return `node "${name}" has not been posted by this run's node agent yet (last heartbeat ${ready.lastHeartbeatTime ?? 'never'})`;
  }
  return undefined;
}

async function fetchNode(kubeconfig: KubeconfigParts, name: string): Promise<Node | undefined> {
  const res = await get(kubeconfig, `/api/v1/nodes/${encodeURIComponent(name)}`);
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET node "${name}" answered ${res.status}`);
  return JSON.parse(res.body) as Node;
}

function launch(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, ownGroup = false): ChildProcess {
  // ownGroup: out of the terminal's process group, so that Ctrl-C reaches it only through shutdown().
  const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'inherit'], detached: ownGroup });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      log.error({ service: name, code, signal }, 'a component exited; stopping the local cluster');
      void shutdown(1);
    }
  });
  if (!ownGroup) children.push(child);
  return child;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<void> {
  return new Promise((res) => {
    if (child.exitCode !== null || child.signalCode !== null) return res();
    const timer = setTimeout(res, timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      res();
    });
  });
}

/** How each kind of process reaches Redis: environment variables for it. */
type RedisAccess = (kind: RedisUserKind) => Record<string, string>;

async function startRedis(secrets: ClusterSecrets): Promise<RedisAccess> {
  if (config.common.redisUrl) return () => ({ REDIS_URL: config.common.redisUrl! });
  if (await portAnswers('127.0.0.1', 6379)) {
    log.warn('a Redis answers at 127.0.0.1:6379: using it as it is, without Wharf\'s Redis users (set REDIS_URL to give credentials)');
    return () => ({ REDIS_URL: 'redis://127.0.0.1:6379' });
  }
  const dir = join(STATE_DIR, 'redis');
  mkdirSync(dir, { recursive: true });
  log.info({ dir }, 'no Redis at 127.0.0.1:6379: starting an embedded redis-server');
  // Stopped last, once the services are gone, so none of them sees its Redis vanish first.
  embeddedRedis = launch('redis', 'redis-server', ['--port', '6379', '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--loglevel', 'warning', '--aclfile', secrets.aclFile], process.env, true);
  await until(async () => ((await portAnswers('127.0.0.1', 6379)) ? undefined : `the embedded redis-server does not answer on 127.0.0.1:6379`), REDIS_START_TIMEOUT_MS);
  // The password from a file, so it shows in no process's environment.
  return (kind) => ({ REDIS_URL: `redis://${redisUserName(kind)}@127.0.0.1:6379`, WHARF_REDIS_PASSWORD_FILE: secrets.passwordFile(redisUserName(kind)) });
}

async function shutdown(code = 0): Promise<void> {
  if (stopping) return;
  stopping = true;
  for (const c of [...children].reverse()) c.kill('SIGTERM');
  await Promise.all(children.map((c) => exited(c, 5000)));
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (embeddedRedis) {
    embeddedRedis.kill('SIGTERM');
    await exited(embeddedRedis, 5000);
  }
  process.exit(code);
}

process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

/** Starts every component, and returns once kubectl would see the node Ready. */
async function start(): Promise<{ kubeconfig: KubeconfigParts; nodes: string[] }> {
  const startedAt = Date.now();
  const secrets = ensureClusterSecrets(join(STATE_DIR, 'secrets'), new Keys(config.common.keyPrefix));
  if (secrets.created.length) log.info({ dir: secrets.dir }, 'made the Redis users\' passwords and the Secrets encryption key');
  const access = await startRedis(secrets);
  const encryption = config.common.encryptionConfig ?? secrets.encryptionConfig;
  const tsx = ['--import', 'tsx'];
  const service = (name: RedisUserKind, extra: NodeJS.ProcessEnv = {}) => {
    // The scheduler never reads a Secret, so it gets no key.
    const env = { ...process.env, ...access(name), WHARF_ENCRYPTION_CONFIG: name === 'scheduler' ? '' : encryption, ...extra };
    return launch(name, process.execPath, [...tsx, join(ROOT, 'services', name, 'main.ts')], env);
  };
  // The kubeconfig of an earlier run goes: the one this run's API server writes says it is serving.
  rmSync(KUBECONFIG, { force: true });
  // On every address unless told otherwise, as k3s listens: pods reach the API through the
  // kubernetes Service, whose endpoint is this host's advertised address, not loopback.
  service('api', { WHARF_API_HOST: process.env.WHARF_API_HOST || '0.0.0.0', WHARF_ADMIN_TOKEN_FILE: ADMIN_TOKEN_FILE, WHARF_API_WRITE_KUBECONFIG: KUBECONFIG });
  await until(apiNotReady, API_START_TIMEOUT_MS);
  const kubeconfig = writtenKubeconfig()!;
  service('scheduler');
  service('controller-manager');
  service('node-agent');
  const nodes = agentNodeNames(config.nodeAgent);
  await until(async () => {
    for (const name of nodes) {
      let node: Node | undefined;
      try {
        node = await fetchNode(kubeconfig, name);
      } catch (err) {
        return `node "${name}" could not be read: ${(err as Error).message}`;
      }
      const missing = nodeNotReady(name, node, startedAt);
      if (missing) return missing;
    }
    return undefined;
  }, NODE_START_TIMEOUT_MS);
  return { kubeconfig, nodes };
}

try {
  const { kubeconfig, nodes } = await start();
  console.log(`\nWharf is up: API ${kubeconfig.server}, node ${nodes.join(', ')} Ready.\n  export KUBECONFIG=${KUBECONFIG}\n  kubectl get nodes\nThe admin token is kept in ${ADMIN_TOKEN_FILE}. Ctrl-C stops the cluster.\n`);
} catch (err) {
  if (!stopping) {
    console.error(`Wharf did not come up: ${(err as Error).message}`);
    await shutdown(1);
  }
}
