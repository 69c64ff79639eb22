// Several "hosts" on this one machine: each a Docker-in-Docker container (the wharf-host:local image
// that test/images/build-host.sh makes from this machine's own binaries) with its own Docker engine,
// network namespace, routes and iptables, and a Wharf node agent running inside it as it would on a
// real machine — the pods' bridge, the service proxy's listeners and the host-gw routes all live in
// the host, so they must be the agent's too. The hosts share one Docker network the caller creates
// here; Redis (on this machine) is reached through that network's gateway. Each inner engine's
// socket is bind-mounted out for dockerode. Stopping a host's container stops its engine and agent
// together, as losing the machine does.
import Docker from 'dockerode';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ROOT, eventually, startCluster, type Cluster } from './cluster.ts';
import type { Node } from '../../shared/types.ts';
import { intToIpv4, ipv4ToInt } from '../../shared/util.ts';

const exec = promisify(execFile);

export const HOST_IMAGE = process.env.WHARF_HOST_IMAGE || 'wharf-host:local';
export const BUILD_HOST_COMMAND = 'bash test/images/build-host.sh';
const SOCKET_DIR_INSIDE = '/run/wharf-host-socket';

export interface HostNetwork {
  name: string;
  subnet: string;
  /** This machine's address on the network: where the hosts reach Redis and the API servers. */
  gateway: string;
  /** The address of the i-th host (from 0). */
  addressOf(i: number): string;
}

/**
 * A Docker network for the hosts, on a subnet the engine picks: fixed host addresses need a subnet
 * given at creation, so the network is made once to learn a free one and made again with it.
 */
export async function createHostNetwork(label: string, docker = new Docker()): Promise<HostNetwork> {
  const name = `wharf-${label}-${randomBytes(3).toString('hex')}`;
  const labels = { 'io.wharf.test': label };
  for (let attempt = 1; ; attempt++) {
    await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels });
    const picked = (await docker.getNetwork(name).inspect()).IPAM?.Config?.find((c) => c.Subnet && !c.Subnet.includes(':'));
    await docker.getNetwork(name).remove();
    if (!picked?.Subnet || !picked.Gateway) throw new Error(`network ${name} got no IPv4 subnet`);
    try {
      await docker.createNetwork({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: labels, IPAM: { Driver: 'default', Config: [{ Subnet: picked.Subnet, Gateway: picked.Gateway }] } });
    } catch (err) {
      if (attempt < 3) continue; // another network took the subnet in between
      throw err;
    }
    const { Subnet: subnet, Gateway: gateway } = picked;
    const base = ipv4ToInt(subnet.split('/')[0])!;
    return { name, subnet, gateway, addressOf: (i) => intToIpv4(base + 10 + i) };
  }
}

export interface DindHost {
  /** The container's name, its hostname and the Node's name. */
  name: string;
  address: string;
  /** The inner engine, through its socket bind-mounted out. */
  docker: Docker;
  socketPath: string;
}

export interface DindHostsOptions {
  label: string;
  count: number;
  network: HostNetwork;
  /** The agent's environment on host i (its REDIS_URL must name the network's gateway). */
  agentEnv: (host: { name: string; address: string; index: number }) => Record<string, string>;
  /** Images loaded into every inner engine (docker save | docker load): nothing can be pulled. */
  images: string[];
  /** Directories of this machine the agents read (the encryption config's), mounted at the same path. */
  mounts?: string[];
}

export interface DindHosts {
  hosts: DindHost[];
  /** Kills a host's container outright: its engine, its pods and its agent at once. */
  kill(i: number): Promise<void>;
  /** Starts a killed host again; resolves once its engine answers. */
  start(i: number): Promise<void>;
  /** Loads one more image into host i's engine. */
  load(i: number, image: string): Promise<void>;
  /** The agent's and entrypoint's output of host i (the container's log), and dockerd's last lines. */
  logs(i: number): Promise<string>;
  /** Removes every container, volume, socket directory and the network. */
  remove(): Promise<void>;
}

/** Fails with a message saying what to run when the host image is missing. */
export async function requireHostImage(docker = new Docker()): Promise<void> {
  try {
    await docker.getImage(HOST_IMAGE).inspect();
  } catch {
    throw new Error(`Missing Docker image ${HOST_IMAGE}: run \`${BUILD_HOST_COMMAND}\` (it builds a Docker-in-Docker host from this machine's binaries).`);
  }
}

export async function startDindHosts(opts: DindHostsOptions, docker = new Docker()): Promise<DindHosts> {
  await requireHostImage(docker);
  const socketRoot = mkdtempSync(join(tmpdir(), `wharf-${opts.label}-`));
  const modules = realpathSync(join(ROOT, 'node_modules'));
  const binds = [`${ROOT}:${ROOT}:ro`, ...(modules.startsWith(`${ROOT}/`) ? [] : [`${modules}:${modules}:ro`]), ...(opts.mounts ?? []).map((d) => `${d}:${d}:ro`)];
  const hosts: DindHost[] = [];
  const names: string[] = [];
  const volumes: string[] = [];
  const remove = async () => {
    for (const name of names) await docker.getContainer(name).remove({ force: true, v: true }).catch(() => undefined);
    for (const v of volumes) await docker.getVolume(v).remove().catch(() => undefined);
    await docker.getNetwork(opts.network.name).remove().catch(() => undefined);
    rmSync(socketRoot, { recursive: true, force: true });
  };
  try {
    for (let index = 0; index < opts.count; index++) {
      const name = `${opts.network.name}-h${index + 1}`;
      const address = opts.network.addressOf(index);
      const socketDir = join(socketRoot, `h${index + 1}`);
      mkdirSync(socketDir);
      const volume = `${name}-docker`;
      await docker.createVolume({ Name: volume, Labels: { 'io.wharf.test': opts.label } });
      volumes.push(volume);
      const env = { ...opts.agentEnv({ name, address, index }), WHARF_HOST_SOCKET_DIR: SOCKET_DIR_INSIDE };
      await docker.createContainer({
        name,
        Hostname: name,
        Image: HOST_IMAGE,
        // The node agent, run from the checkout mounted at its own path; restarted by the entrypoint if it exits.
        Cmd: ['/usr/local/bin/node', '--import', 'tsx', join(ROOT, 'services', 'node-agent', 'main.ts')],
        WorkingDir: ROOT,
        Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
        Labels: { 'io.wharf.test': opts.label },
        HostConfig: {
          NetworkMode: opts.network.name,
          // What runs Docker inside a container on this kernel without --privileged (which needs
          // CAP_SYS_RESOURCE, missing from the bounding set): see test/images/build-host.sh.
          CapAdd: ['ALL'],
          CapDrop: ['SYS_RESOURCE'],
          SecurityOpt: ['seccomp=unconfined'],
          // the CLI's --security-opt systempaths=unconfined: nothing of /proc or /sys masked or read-only
          MaskedPaths: [],
          ReadonlyPaths: [],
          CgroupnsMode: 'private',
          DeviceCgroupRules: ['a *:* rwm'],
          // /tmp a tmpfs from the start (the entrypoint would mount one over the directories bound below it).
          Tmpfs: { '/tmp': 'rw,mode=1777' },
          Binds: [`${volume}:/var/lib/docker`, `${socketDir}:${SOCKET_DIR_INSIDE}`, ...binds],
        } as Docker.HostConfig,
        NetworkingConfig: { EndpointsConfig: { [opts.network.name]: { IPAMConfig: { IPv4Address: address } } } },
      });
      names.push(name);
      const socketPath = join(socketDir, 'docker.sock');
      hosts.push({ name, address, docker: new Docker({ socketPath }), socketPath });
    }
    for (const name of names) await docker.getContainer(name).start();
    await Promise.all(hosts.map((h) => engineAnswers(h)));
    // Images: one save, loaded into each engine in turn (parallel loads would only fight for the two cores).
    for (const image of opts.images) for (const h of hosts) await load(h, image);
  } catch (err) {
    await remove();
    throw err;
  }
  return {
    hosts,
    async kill(i) {
      await docker.getContainer(hosts[i].name).kill().catch(() => undefined);
      await docker.getContainer(hosts[i].name).wait();
    },
    async start(i) {
      await docker.getContainer(hosts[i].name).start();
      await engineAnswers(hosts[i]);
    },
    load: (i, image) => load(hosts[i], image),
    async logs(i) {
      const c = docker.getContainer(hosts[i].name);
      const out = await c.logs({ stdout: true, stderr: true, tail: 60 }).catch((e: Error) => Buffer.from(e.message));
      return demux(out as unknown as Buffer);
    },
    remove,
  };
}

async function load(h: DindHost, image: string): Promise<void> {
  await exec('sh', ['-c', `docker save "$0" | docker -H "unix://$1" load -q`, image, h.socketPath], { maxBuffer: 1 << 20 });
}

async function engineAnswers(h: DindHost): Promise<void> {
  await eventually(async () => (await h.docker.ping()) && true, { timeoutMs: 90_000, intervalMs: 250, message: `the engine of ${h.name} answers`, detail: () => '' });
}

/** Docker's multiplexed log stream (8-byte frame headers) as text. */
function demux(buf: Buffer): string {
  let out = '';
  for (let i = 0; i + 8 <= buf.length;) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return out || buf.toString('utf8');
}

export interface MultiHostCluster {
  cluster: Cluster;
  network: HostNetwork;
  hosts: DindHosts;
  /** The Node names, host 1 first. */
  names: string[];
  stop(): Promise<void>;
}

/**
 * A control plane on this machine (Redis, API server, scheduler, controller manager, as
 * startCluster makes them, with WHARF_CLUSTER_CIDR set) and `count` Docker-in-Docker hosts, each
 * with a node agent inside; resolves once every host's Node is Ready with a podCIDR.
 */
export async function startMultiHostCluster(opts: { count: number; label?: string; env?: Record<string, string>; images?: string[]; clusterCidr?: string }): Promise<MultiHostCluster> {
  const label = opts.label ?? 'mh';
  await requireHostImage();
  const network = await createHostNetwork(label);
  let cluster: Cluster | undefined;
  let hosts: DindHosts | undefined;
  const stop = async () => {
    await cluster?.stop();
    if (hosts) await hosts.remove();
    else await new Docker().getNetwork(network.name).remove().catch(() => undefined);
  };
  try {
    cluster = await startCluster({ redisBind: network.gateway, env: { WHARF_CLUSTER_CIDR: opts.clusterCidr ?? '10.244.0.0/16', ...opts.env } });
    const redisUrl = cluster.redis.urlFor('node-agent').replace('@127.0.0.1:', `@${network.gateway}:`);
    const env = cluster.env;
    hosts = await startDindHosts({
      label,
      count: opts.count,
      network,
      images: opts.images ?? ['busybox:latest'],
      mounts: [cluster.redis.dir],
      agentEnv: ({ name, address }) => ({
        ...env,
        REDIS_URL: redisUrl,
        WHARF_NODE_NAME: name,
        WHARF_RUNTIME: 'docker',
        // The node's address on the hosts' network: its InternalIP (the next hop of the routes to
        // its pods), where its node ports answer and where the API server reaches its endpoint.
        WHARF_NODE_ADDRESS: address,
        WHARF_AGENT_ADVERTISE_HOST: address,
        WHARF_AGENT_PORT: '10250',
        WHARF_AGENT_DATA_DIR: '/var/lib/wharf-agent',
        WHARF_LOG_LEVEL: env.WHARF_LOG_LEVEL ?? 'info',
      }),
    });
    const names = hosts.hosts.map((h) => h.name);
    const started = hosts;
    try {
      await eventually(async () => {
        const nodes = await Promise.all(names.map(async (n) => (await cluster!.api.get<Node>(`/api/v1/nodes/${n}`)).body));
        return nodes.every((n) => n?.spec?.podCIDR && (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True'));
      }, { timeoutMs: 120_000, message: `${opts.count} hosts registered, Ready, each with a podCIDR`, detail: () => cluster!.dumpLogs() });
    } catch (err) {
      const logs: string[] = [];
      for (let i = 0; i < names.length; i++) logs.push(`==== ${names[i]}\n${await started.logs(i)}`);
      throw new Error(`${(err as Error).message}\n${logs.join('\n')}`);
    }
    return { cluster, network, hosts, names, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
