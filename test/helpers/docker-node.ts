// A cluster with one real Docker node, as the Docker-backed integration tests need it: its own
// node name and pod network (so parallel test files never touch each other's containers), and a
// cleanup that removes every container and the network it created.
import Docker from 'dockerode';
import { randomBytes } from 'node:crypto';
import { startCluster, eventually, type Cluster, type ClusterOptions } from './cluster.ts';
import { requireImages } from './images.ts';

export interface DockerNode {
  name: string;
  network: string;
  /** The agent's environment; start another agent for the same node with it. */
  env: Record<string, string>;
}

export function dockerNode(label: string, extraEnv: Record<string, string> = {}): DockerNode {
  const suffix = randomBytes(3).toString('hex');
  const name = `${label}-${suffix}`;
  const network = `wharf-test-${suffix}`;
  return {
    name,
    network,
    // Node address on loopback: tests only ever send traffic to this machine.
    env: { WHARF_NODE_NAME: name, WHARF_RUNTIME: 'docker', WHARF_POD_NETWORK: network, WHARF_NODE_ADDRESS: '127.0.0.1', ...extraEnv },
  };
}

/** Starts a cluster whose only agent serves `node` on the local Docker engine, once it is registered. */
export async function startDockerCluster(node: DockerNode, images: string[], opts: ClusterOptions = {}): Promise<Cluster> {
  await requireImages(images);
  const cluster = await startCluster({ ...opts, agents: [node.env] });
  await eventually(async () => (await cluster.api.get(`/api/v1/nodes/${node.name}`)).status === 200, { timeoutMs: 20_000, message: `node ${node.name} registered` });
  return cluster;
}

/** Removes every container the node's agent created, and its pod network. */
export async function removeDockerNode(node: DockerNode, docker = new Docker()): Promise<void> {
  const list = await docker.listContainers({ all: true, filters: { label: [`io.wharf.node=${node.name}`] } });
  for (const c of list) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
  await docker.getNetwork(node.network).remove().catch(() => undefined);
}

/** Runs a command in a container (docker exec): its stdout and stderr, demultiplexed, and its exit code. */
export async function execInContainer(id: string, cmd: string[], docker = new Docker()): Promise<{ out: string; code: number }> {
  const e = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
  const stream = await e.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve) => {
    stream.on('data', (d: Buffer) => chunks.push(d));
    stream.on('end', () => resolve());
  });
  // Docker's 8-byte multiplexing headers: stream, 3 bytes of nothing, the frame's size.
  const buf = Buffer.concat(chunks);
  let out = '';
  for (let i = 0; i + 8 <= buf.length;) {
    const size = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + size).toString('utf8');
    i += 8 + size;
  }
  return { out, code: (await e.inspect()).ExitCode ?? -1 };
}

/** The running container of a pod's named container on the local engine. */
export async function runningContainerId(podName: string, container: string, docker = new Docker()): Promise<string> {
  const [c] = await docker.listContainers({ filters: { label: [`io.wharf.pod.name=${podName}`, `io.wharf.container.name=${container}`], status: ['running'] } });
  if (!c) throw new Error(`no running container ${container} of ${podName}`);
  return c.Id;
}
