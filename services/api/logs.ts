// `kubectl logs`: the API server finds the node that runs the pod and streams the container's
// output from that node's agent, as the Kubernetes API server proxies to the kubelet: over HTTPS,
// presenting the client certificate the agent accepts only from the API server.
import { request as httpsRequest } from 'node:https';
import type { Request, Response } from 'express';
import type { Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import { BadRequestError, ServiceUnavailableError } from '../../shared/errors.ts';
import { queryBool, queryInt, queryString } from './request.ts';

// Passed on to the node's agent in one spelling, parsed here as Kubernetes parses PodLogOptions.
const BOOLEAN_OPTIONS = ['follow', 'previous', 'timestamps'];
const INTEGER_OPTIONS = ['tailLines', 'sinceSeconds', 'limitBytes'];

/** The API server's client certificate for node agents (kubeadm's apiserver-kubelet-client). */
export interface AgentClientCredentials {
  cert: string;
  key: string;
}

export async function streamPodLogs(store: Store, client: AgentClientCredentials, req: Request, res: Response, namespace: string, name: string): Promise<void> {
  const pod = await store.mustGet<Pod>('pods', namespace, name);
  const names = [...(pod.spec.initContainers ?? []), ...pod.spec.containers, ...(pod.spec.ephemeralContainers ?? [])].map((c) => c.name);
  let container = queryString(req, 'container');
  if (!container) {
    if (pod.spec.containers.length !== 1) {
      throw new BadRequestError(`a container name must be specified for pod ${name}, choose one of: [${pod.spec.containers.map((c) => c.name).join(' ')}]`);
    }
    container = pod.spec.containers[0].name;
  }
  if (!names.includes(container)) throw new BadRequestError(`container ${container} is not valid for pod ${name}`);
  if (!pod.spec.nodeName) throw new BadRequestError(`container "${container}" in pod "${name}" is waiting to start: ContainerCreating`);
  const endpoint = await store.agentEndpoint(pod.spec.nodeName);
  if (!endpoint) throw new ServiceUnavailableError(`no agent endpoint is known for node ${pod.spec.nodeName}`);
  const params = new URLSearchParams();
  for (const p of BOOLEAN_OPTIONS) if (queryString(req, p) !== undefined) params.set(p, String(queryBool(req, p)));
  for (const p of INTEGER_OPTIONS) {
    const v = queryInt(req, p);
    if (v !== undefined) params.set(p, String(v));
  }
  const [host, port] = endpoint.split(':');
  const path = `/containerLogs/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${encodeURIComponent(container)}?${params}`;
  await new Promise<void>((resolve, reject) => {
    // An agent serves under a certificate of its own making (it holds no CA key), which the API
    // server does not verify, as kube-apiserver without --kubelet-certificate-authority does not.
    const upstream = httpsRequest({ host, port: Number(port), path, method: 'GET', cert: client.cert, key: client.key, rejectUnauthorized: false }, (agentRes) => {
      if (agentRes.statusCode !== 200) {
        let text = '';
        agentRes.on('data', (d) => (text += d));
        agentRes.on('end', () => reject(new BadRequestError(text.trim() || `agent answered ${agentRes.statusCode}`)));
        return;
      }
      res.status(200);
      res.setHeader('Content-Type', 'text/plain');
      res.setHeader('Transfer-Encoding', 'chunked');
      res.flushHeaders();
      agentRes.pipe(res);
      agentRes.on('end', resolve);
      agentRes.on('error', resolve);
    });
    upstream.on('error', (err) => reject(new ServiceUnavailableError(`cannot reach the agent of node ${pod.spec.nodeName}: ${err.message}`)));
    res.on('close', () => upstream.destroy());
    upstream.end();
  });
}
