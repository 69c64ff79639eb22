// The admin kubeconfig Wharf writes (as k3s writes /etc/rancher/k3s/k3s.yaml): one cluster with
// the CA's certificate inline, one user with the admin token, one context, current. kubectl, the
// official clients and the tests read it with no other flags.
import { parse, stringify } from 'yaml';

export interface KubeconfigParts {
  server: string;
  caPem: string;
  token: string;
  /** The name of the cluster, user and context. */
  name?: string;
  namespace?: string;
}

export function kubeconfigYaml(p: KubeconfigParts): string {
  const name = p.name ?? 'wharf';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: p.server, 'certificate-authority-data': Buffer.from(p.caPem).toString('base64') } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: p.namespace ?? 'default' } }],
    'current-context': name,
    users: [{ name, user: { token: p.token } }],
    preferences: {},
  });
}

/** The current context's server, CA and token, from a kubeconfig this module wrote (or one shaped like it). */
export function parseKubeconfig(text: string): KubeconfigParts {
  const doc = parse(text) as any;
  const context = doc?.contexts?.find((c: any) => c.name === doc['current-context'])?.context;
  const cluster = doc?.clusters?.find((c: any) => c.name === context?.cluster)?.cluster;
  const user = doc?.users?.find((u: any) => u.name === context?.user)?.user;
  if (!cluster?.server || !cluster['certificate-authority-data'] || !user?.token) throw new Error('the kubeconfig names no server, CA data and token for its current context');
  return {
    server: cluster.server,
    caPem: Buffer.from(cluster['certificate-authority-data'], 'base64').toString('utf8'),
    token: user.token,
    name: doc['current-context'],
    namespace: context?.namespace,
  };
}
