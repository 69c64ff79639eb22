// Node agent entry point: one agent per node. With the Docker runtime this process is the node;
// with the simulated runtime one process can host many nodes (WHARF_SIMULATED_NODES), as kwok does.
import { lookup } from 'node:dns/promises';
import { agentNodeNames, loadConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { openStore } from '../../shared/store/open.ts';
import { WebhookConfigSync } from '../../shared/store/webhook-config-sync.ts';
import { AdmissionPolicySync } from '../../shared/store/admission-policy-sync.ts';
import { EventRecorder } from '../../shared/events.ts';
import { NodeAgent } from './agent.ts';
import { SimulatedNodeHost } from './simulated-host.ts';
import type { Pod } from '../../shared/types.ts';
import { DockerRuntime } from './runtime/docker.ts';
import { SimulatedRuntime } from './runtime/simulated.ts';
import type { ContainerRuntime } from './runtime/types.ts';
import { startAgentServer } from './server.ts';
import { ServiceProxy } from './proxy/service-proxy.ts';
import { podDnsConfig } from './proxy/dns-records.ts';
import { PodTokens } from './pod-tokens.ts';
import { requestPodToken } from '../../shared/auth/token-queue.ts';
import { CgroupStats } from './runtime/cgroup-stats.ts';
import { UsageCollector } from './usage-collector.ts';
import { serveMetrics } from '../../shared/metrics-endpoint.ts';
import { LocalPathProvisioner } from './local-path.ts';
import { PodNetwork } from './pod-network.ts';

const config = loadConfig();
const cfg = config.nodeAgent;
const log = createLogger('node-agent', config.common.logLevel);
const { connect, redis, keys, store } = openStore(config, log);

const nodeNames = agentNodeNames(cfg);
// Admission webhooks: the agent's own writes (its Node and Lease, pods' final deletion, the
// volumes it provisions) are admitted as users' are, from its first write on.
const webhookConfigs = new WebhookConfigSync(store, connect(), keys, log);
await webhookConfigs.start();
// Validating admission policies: the agent's own writes are held to them as users' are.
const admissionPolicies = new AdmissionPolicySync(store, connect(), keys, log);
await admissionPolicies.start();

const runtimes = new Map<string, ContainerRuntime>();

// A pod network spanning hosts (WHARF_CLUSTER_CIDR): this node's pods take its Node's podCIDR, and
// the other nodes' blocks are routed to them. Only for a Docker node (one per process).
const podNetwork = cfg.runtime === 'docker' && config.network.clusterCidr
  ? new PodNetwork({ store, connect, log, nodeName: nodeNames[0], clusterCidr: config.network.clusterCidr, resyncMs: cfg.resyncMs })
  : undefined;

/** Each simulated node gets its own /24 so pod IPs never overlap between nodes of one process. */
function simulatedIpBase(index: number): string {
  // 10.244.0.0 - 10.255.255.0 for the first 3,072 nodes, then on from 10.128.0.0 (35,840 in all).
  const block = index < 3072 ? 244 * 256 + index : 128 * 256 + (index - 3072);
  return `10.${Math.floor(block / 256)}.${block % 256}.0`;
}
function runtimeFor(node: string): ContainerRuntime {
  if (cfg.runtime === 'docker') {
    // One Docker engine serves every node this process hosts (normally just one).
    // The containers' cgroups are this host's only when the engine is (its socket is local).
    const localEngine = !cfg.dockerHost || cfg.dockerHost.startsWith('unix://');
    const cgroups = localEngine && cfg.cgroupRoot ? new CgroupStats(cfg.cgroupRoot) : undefined;
    const shared = runtimes.get('docker') ?? new DockerRuntime({ network: cfg.podNetwork, pauseImage: cfg.pauseImage, address: cfg.nodeAddress, log, cgroups, podSubnet: podNetwork && (() => podNetwork.podCidr()) });
    runtimes.set('docker', shared);
    return shared;
  }
  const sim = new SimulatedRuntime({ cpuMillis: cfg.cpuMillis, memoryBytes: cfg.memoryBytes, address: cfg.nodeAddress, podIpBase: simulatedIpBase(runtimes.size) });
  runtimes.set(node, sim);
  return sim;
}

// Service traffic and cluster DNS are served where pods really run; simulated pods have no network.
let proxy: ServiceProxy | undefined;
if (cfg.runtime === 'docker' && config.network.proxy) {
  const docker = runtimeFor(nodeNames[0]) as DockerRuntime;
  const { address } = await docker.describeNode();
  const runIp = async (args: string[]) => {
    const r = await docker.runInHostNetwork(['ip', ...args]);
    if (r.exitCode !== 0) throw new Error(`ip ${args.join(' ')}: exit ${r.exitCode}: ${r.output.trim()}`);
  };
  proxy = new ServiceProxy({ store, connect, log, network: config.network, nodeAddresses: [address], runIp, nodeName: nodeNames[0] });
  await proxy.start();
}
await podNetwork?.start();
const cluster = { dnsServiceIp: config.network.dnsServiceIp, domain: config.network.clusterDomain };

// The endpoint listens on the node's own address (the advertised host's), never on every address.
const bindAddress = cfg.bindAddress ?? (await lookup(cfg.advertiseHost, { family: 4 })).address;
const server = await startAgentServer({ port: cfg.logPort, host: bindAddress, names: [cfg.advertiseHost], store, runtimeFor: (node) => runtimes.get(cfg.runtime === 'docker' ? 'docker' : node), log });
const agentOptions = (nodeName: string) => ({
  nodeName,
  store,
  runtime: runtimeFor(nodeName),
  events: new EventRecorder(store, 'kubelet', nodeName, log),
  log,
  redis,
  connect,
  backoff: { baseMs: cfg.backoffBaseMs, maxMs: cfg.backoffMaxMs, resetMs: cfg.backoffResetMs },
  heartbeatMs: cfg.heartbeatMs,
  resyncMs: cfg.resyncMs,
  concurrency: cfg.concurrency,
  maxPods: cfg.maxPods,
  cpuMillis: cfg.cpuMillis,
  memoryBytes: cfg.memoryBytes,
  endpoint: { host: cfg.advertiseHost, port: server.port },
  dataDir: cfg.dataDir,
  podSandbox: cfg.podSandbox,
  podDns: proxy ? (pod: Pod) => podDnsConfig(pod, cluster) : undefined,
  drainPod: proxy ? (ip: string | undefined, graceMs: number) => proxy.drainPod(ip, graceMs) : undefined,
  // Pods' ServiceAccount tokens come from the API servers (the agent never holds the signing key);
  // simulated pods have no files to put them in.
  podTokens: cfg.runtime === 'docker' ? new PodTokens((req) => requestPodToken(connect, keys, { ...req, node: nodeName })) : undefined,
});
const agents: NodeAgent[] = [];
const collectors: UsageCollector[] = [];
const provisioners: LocalPathProvisioner[] = [];
// Many simulated nodes share one queue worker, heartbeat timer and pod list (SimulatedNodeHost).
let host: SimulatedNodeHost | undefined;
if (nodeNames.length > 1) {
  host = new SimulatedNodeHost({
    hostName: cfg.nodeName,
    nodeNames,
    store,
    redis,
    connect,
    log,
    heartbeatMs: cfg.heartbeatMs,
    resyncMs: cfg.resyncMs,
    concurrency: Math.max(cfg.concurrency, 32),
    agentOptions,
  });
  await host.start();
} else {
  for (const nodeName of nodeNames) {
    const agent = new NodeAgent(agentOptions(nodeName));
    await agent.start();
    agents.push(agent);
    // The node's local-path provisioner: it owns the directories under this node's data directory.
    const provisioner = new LocalPathProvisioner({ store, nodeName, dataDir: cfg.dataDir, connect, log, events: new EventRecorder(store, 'rancher.io/local-path', nodeName, log), resyncMs: cfg.resyncMs });
    await provisioner.start();
    provisioners.push(provisioner);
    const collector = new UsageCollector({ nodeName, runtime: runtimes.get(cfg.runtime === 'docker' ? 'docker' : nodeName)!, redis, keys, periodMs: cfg.metricsPeriodMs, log });
    collector.start();
    collectors.push(collector);
  }
}
const metricsEndpoint = await serveMetrics(cfg.metricsPort, config.common.metricsBindAddress, log);
log.info({ nodes: nodeNames.length, runtime: cfg.runtime }, 'node agent started');

async function shutdown(signal: string) {
  log.info({ signal }, 'shutting down');
  await Promise.all(collectors.map((c) => c.stop()));
  await Promise.all(provisioners.map((p) => p.stop()));
  await Promise.all(agents.map((a) => a.stop()));
  metricsEndpoint.close();
  await host?.stop();
  await proxy?.stop();
  await podNetwork?.stop();
  await webhookConfigs.stop();
  await admissionPolicies.stop();
  await Promise.all([...runtimes.values()].map((r) => r.close()));
  server.close();
  redis.disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
