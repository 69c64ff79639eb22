// A Redis replication group under Sentinel for integration tests: one primary, replicas and
// sentinels, each a real redis-server process on 127.0.0.1 (Debian's redis-sentinel is the same
// binary run with --sentinel), with the ACL users of a cluster's key prefix on every data node.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { Keys } from '../../shared/keys.ts';
import { ADMIN_USER, aclUsers, redisUrlFor, redisUserName } from '../../shared/redis-acl.ts';
import { eventually, freePort, type RedisHandle } from './cluster.ts';

export const MASTER_NAME = 'wharf';

export interface RedisNode {
  port: number;
  /** Sends the process a signal (SIGKILL: resolves once it is gone; SIGSTOP / SIGCONT: hang, resume). */
  signal(signal: NodeJS.Signals): Promise<void>;
  running(): boolean;
}

export interface SentinelGroup {
  /** Data nodes; nodes[0] starts as the primary. */
  nodes: RedisNode[];
  sentinelPorts: number[];
  /** The environment that points Wharf's processes at the sentinels. */
  env: Record<string, string>;
  /** The port of the primary the sentinels name now. */
  primaryPort(): Promise<number>;
  /**
   * Resolves once a failover has settled: every running sentinel names the same primary, and it
   * has `replicas` replicas online. Until then each sentinel that learns of the new primary
   * announces +switch-master, which makes clients drop their connections once more.
   */
  settled(replicas: number): Promise<number>;
  /** An administrator's connection to a data node (every command, every key). */
  admin(port: number): Redis;
  /** The cluster harness' view: url and urlFor name the first primary, but with sentinels configured only their credentials count. */
  handle: RedisHandle & { env: Record<string, string> };
  stop(): Promise<void>;
}

async function waitForPing(port: number, password: string): Promise<void> {
  await eventually(async () => {
    const c = new Redis({ port, host: '127.0.0.1', password: password || undefined, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } finally {
      c.disconnect();
    }
  }, { timeoutMs: 10_000, message: `redis on port ${port}` });
}

function launch(args: string[]): ChildProcess {
  return spawn('redis-server', args, { stdio: 'ignore' });
}

function nodeOf(child: () => ChildProcess, port: number): RedisNode {
  const exited = () => child().exitCode !== null || child().signalCode !== null;
  return {
    port,
    running: () => !exited(),
    async signal(signal) {
      if (exited()) return;
      const gone = signal === 'SIGKILL' || signal === 'SIGTERM' ? new Promise<void>((res) => child().once('exit', () => res())) : undefined;
      child().kill(signal);
      await gone;
    },
  };
}

/**
 * Starts 1 primary + `replicas` replicas + `sentinels` sentinels (quorum: a majority), with
 * down-after-milliseconds `downAfterMs`, and waits until every replica is in sync and every
 * sentinel knows every replica and the other sentinels (so a failover can start at once).
 */
export async function startSentinelGroup(opts: { prefix: string; replicas?: number; sentinels?: number; downAfterMs?: number }): Promise<SentinelGroup> {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-sentinel-'));
  const users = aclUsers(new Keys(opts.prefix));
  const adminPassword = users.passwords[ADMIN_USER];
  const aclFile = join(dir, 'users.acl');
  writeFileSync(aclFile, users.file, { mode: 0o600 });
  const dataPorts: number[] = [];
  for (let i = 0; i < 1 + (opts.replicas ?? 2); i++) dataPorts.push(await freePort());
  const children: ChildProcess[] = [];
  const nodes: RedisNode[] = [];
  for (const [i, port] of dataPorts.entries()) {
    const nodeDir = join(dir, `node-${i}`);
    mkdirSync(nodeDir);
    const conf = join(dir, `node-${i}.conf`);
    // A config file of its own: Sentinel rewrites it (CONFIG REWRITE) when it changes the node's role.
    writeFileSync(conf, [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${nodeDir}`,
      'save ""',
      'appendonly no',
      `aclfile ${aclFile}`,
      // Replicas authenticate to their primary as the administrator.
      `masteruser ${ADMIN_USER}`,
      `masterauth ${adminPassword}`,
      'repl-diskless-sync yes',
      'repl-diskless-sync-delay 0',
      ...(i > 0 ? [`replicaof 127.0.0.1 ${dataPorts[0]}`] : []),
      '',
    ].join('\n'));
    children[i] = launch([conf]);
    nodes.push(nodeOf(() => children[i], port));
  }
  for (const port of dataPorts) await waitForPing(port, adminPassword);
  const sentinelPorts: number[] = [];
  const sentinelChildren: ChildProcess[] = [];
  const count = opts.sentinels ?? 3;
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    sentinelPorts.push(port);
    const conf = join(dir, `sentinel-${i}.conf`);
    writeFileSync(conf, [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${dataPorts[0]} ${Math.floor(count / 2) + 1}`,
      `sentinel auth-user ${MASTER_NAME} ${ADMIN_USER}`,
      `sentinel auth-pass ${MASTER_NAME} ${adminPassword}`,
      `sentinel down-after-milliseconds ${MASTER_NAME} ${opts.downAfterMs ?? 2000}`,
      `sentinel failover-timeout ${MASTER_NAME} 10000`,
      `sentinel parallel-syncs ${MASTER_NAME} 1`,
      '',
    ].join('\n'));
    sentinelChildren.push(launch([conf, '--sentinel']));
  }
  for (const port of sentinelPorts) await waitForPing(port, '');
  const admin = (port: number) => {
    const c = new Redis({ port, host: '127.0.0.1', password: adminPassword, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    return c;
  };
  const sentinelCall = async <T>(port: number, ...args: string[]): Promise<T> => {
    const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
    try {
      return (await c.call('SENTINEL', ...args)) as T;
    } finally {
      c.disconnect();
    }
  };
  // Ready for a failover: the replicas in sync, and every sentinel knowing them and its peers.
  await eventually(async () => {
    const c = admin(dataPorts[0]);
    try {
      const info = (await c.info('replication')) as string;
      return [...info.matchAll(/^slave\d+:.*state=online/gm)].length === dataPorts.length - 1;
    } finally {
      c.disconnect();
    }
  }, { timeoutMs: 20_000, message: 'replicas online' });
  await eventually(async () => {
    for (const port of sentinelPorts) {
      const master = Object.fromEntries(chunk(await sentinelCall<string[]>(port, 'MASTER', MASTER_NAME)));
      if (Number(master['num-slaves']) !== dataPorts.length - 1 || Number(master['num-other-sentinels']) !== count - 1) return false;
    }
    return true;
  }, { timeoutMs: 30_000, message: 'sentinels know every replica and each other' });
  const base = `redis://127.0.0.1:${dataPorts[0]}`;
  const stopAll = async () => {
    const all = [...children, ...sentinelChildren];
    await Promise.all(all.map((c) => new Promise<void>((res) => {
      if (c.exitCode !== null || c.signalCode !== null) return res();
      c.once('exit', () => res());
      c.kill('SIGCONT');
      c.kill('SIGKILL');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  const primaryPort = async () => {
    for (const port of sentinelPorts) {
      try {
        const [, p] = await sentinelCall<[string, string]>(port, 'get-master-addr-by-name', MASTER_NAME);
        return Number(p);
      } catch {
        // that sentinel is down: ask the next
      }
    }
    throw new Error('no sentinel answered');
  };
  const env = { WHARF_REDIS_SENTINELS: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','), WHARF_REDIS_MASTER_NAME: MASTER_NAME };
  const settled = (replicas: number) => eventually(async () => {
    const named = new Set<number>();
    for (const port of sentinelPorts) named.add(Number((await sentinelCall<[string, string]>(port, 'get-master-addr-by-name', MASTER_NAME))[1]));
    if (named.size !== 1) return false;
    const [port] = named;
    const c = admin(port);
    try {
      const info = (await c.info('replication')) as string;
      return /^role:master/m.test(info) && [...info.matchAll(/^slave\d+:.*state=online/gm)].length >= replicas ? port : false;
    } finally {
      c.disconnect();
    }
  }, { timeoutMs: 60_000, message: 'the failover settled' });
  return {
    nodes,
    sentinelPorts,
    env,
    settled,
    primaryPort,
    admin,
    handle: {
      env,
      port: dataPorts[0],
      url: redisUrlFor(base, ADMIN_USER, adminPassword),
      urlFor: (kind) => redisUrlFor(base, redisUserName(kind), users.passwords[redisUserName(kind)]),
      anonymousUrl: base,
      dir,
      stop: stopAll,
      restart: async () => {
        throw new Error('a Sentinel group is not restarted as a whole: signal its nodes');
      },
      signal: (signal) => nodes[0].signal(signal),
    },
    stop: stopAll,
  };
}

function chunk(flat: string[]): [string, string][] {
  return Array.from({ length: flat.length / 2 }, (_, i) => [flat[2 * i], flat[2 * i + 1]]);
}
