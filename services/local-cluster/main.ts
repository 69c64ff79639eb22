// `npm start`: an all-in-one local cluster — Redis (an embedded redis-server when none answers),
// the API server, a scheduler, a controller manager and a node agent for the local Docker engine,
// each its own process, plus a kubeconfig under .wharf/ for kubectl.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { loadConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';

const ROOT = resolve(import.meta.dirname, '..', '..');
const config = loadConfig();
const STATE_DIR = config.local.stateDir;
const log = createLogger('local-cluster', config.common.logLevel);
const children: ChildProcess[] = [];
let embeddedRedis: ChildProcess | undefined;
let stopping = false;

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

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
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

async function redisUrl(): Promise<string> {
  if (config.common.redisUrl) return config.common.redisUrl;
  if (await portAnswers('127.0.0.1', 6379)) return 'redis://127.0.0.1:6379';
  const dir = join(STATE_DIR, 'redis');
  mkdirSync(dir, { recursive: true });
  log.info({ dir }, 'no Redis at 127.0.0.1:6379: starting an embedded redis-server');
  // Stopped last, once the services are gone, so none of them sees its Redis vanish first.
  embeddedRedis = launch('redis', 'redis-server', ['--port', '6379', '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--save', '', '--loglevel', 'warning'], process.env, true);
  await until(() => portAnswers('127.0.0.1', 6379), 'redis-server');
  return 'redis://127.0.0.1:6379';
}

function writeKubeconfig(server: string): string {
  mkdirSync(STATE_DIR, { recursive: true });
  const path = join(STATE_DIR, 'kubeconfig');
  writeFileSync(path, [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: wharf',
    '  cluster:',
    `    server: ${server}`,
    'contexts:',
    '- name: wharf',
    '  context:',
    '    cluster: wharf',
    '    user: wharf',
    '    namespace: default',
    'current-context: wharf',
    'users:',
    '- name: wharf',
    '  user: {}',
    '',
  ].join('\n'));
  return path;
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

const url = await redisUrl();
const env = { ...process.env, REDIS_URL: url };
const tsx = ['--import', 'tsx'];
const service = (name: string) => launch(name, process.execPath, [...tsx, join(ROOT, 'services', name, 'main.ts')], env);
service('api');
const apiBase = `http://${config.api.host === '0.0.0.0' ? '127.0.0.1' : config.api.host}:${config.api.port}`;
await until(async () => {
  try {
    return (await fetch(`${apiBase}/readyz`)).ok;
  } catch {
    return false;
  }
}, 'the API server');
service('scheduler');
service('controller-manager');
service('node-agent');
const kubeconfig = writeKubeconfig(apiBase);
console.log(`\nWharf is up: API ${apiBase}, node ${config.nodeAgent.nodeName}.\n  export KUBECONFIG=${kubeconfig}\n  kubectl get nodes\nCtrl-C stops the cluster.\n`);
