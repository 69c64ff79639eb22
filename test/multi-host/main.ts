// `npm run multi-host`: a Wharf cluster on several hosts, on this one machine, to try what the
// README's "Nodes on several hosts" section describes — the control plane (Redis, an API server, a
// scheduler, a controller manager) as processes here, and WHARF_HOSTS (3) Docker-in-Docker hosts,
// each its own Docker engine and network namespace with a node agent inside, the pods of all of
// them on one pod network (WHARF_CLUSTER_CIDR, 10.244.0.0/16 unless set; a /24 per node, routed
// host-gw). Builds the host image first (test/images/build-host.sh; the local images with
// test/images/build.sh). Prints the kubeconfig to use; Ctrl-C removes everything it made.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/cluster.ts';
import { startMultiHostCluster } from '../helpers/dind-hosts.ts';

const count = Number(process.env.WHARF_HOSTS || 3);
if (!Number.isInteger(count) || count < 1 || count > 8) throw new Error(`WHARF_HOSTS: expected 1 to 8, got "${process.env.WHARF_HOSTS}"`);
execFileSync('bash', [join(ROOT, 'test/images/build.sh'), 'busybox:latest'], { stdio: 'inherit' });
execFileSync('bash', [join(ROOT, 'test/images/build-host.sh')], { stdio: 'inherit' });
console.log(`starting the control plane and ${count} hosts ...`);
const mh = await startMultiHostCluster({
  count,
  label: 'local',
  clusterCidr: process.env.WHARF_CLUSTER_CIDR,
  env: { WHARF_NODE_MONITOR_GRACE: process.env.WHARF_NODE_MONITOR_GRACE ?? '20s', WHARF_POD_EVICTION_TOLERATION: process.env.WHARF_POD_EVICTION_TOLERATION ?? '30s' },
});
const rows = mh.hosts.hosts.map((h, i) => `  host ${i + 1}: ${h.name}  address ${h.address}  engine unix://${h.socketPath}`);
console.log(`
Wharf on ${count} hosts is up.
${rows.join('\n')}

  export KUBECONFIG=${mh.cluster.kubeconfig}
  kubectl get nodes -o custom-columns=NAME:.metadata.name,STATUS:.status.conditions[-1].type,IP:.status.addresses[0].address,PODCIDR:.spec.podCIDR
  docker kill ${mh.hosts.hosts[Math.min(1, count - 1)].name}     # lose a host; docker start it to bring it back

Ctrl-C stops the control plane and removes the hosts, their volumes and their network.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log('stopping ...');
  await mh.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
