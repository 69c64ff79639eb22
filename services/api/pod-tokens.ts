// What an API server answers a node agent's request for a pod's token (shared/auth/token-queue.ts):
// the checks Kubernetes' NodeRestriction admission makes of a kubelet's TokenRequest, and then the
// TokenRequest itself, bound to the pod. Agents are not authenticated per node here (they share
// Redis), so the request must also match a token projection the pod's own spec asks for: whoever
// can push onto the queue gets no token the pod itself would not get.
import type { Pod } from '../../shared/types.ts';
import type { Store } from '../../shared/store/store.ts';
import type { ServiceAccountTokens } from '../../shared/auth/service-account-tokens.ts';
import { DEFAULT_EXPIRATION_SECONDS } from '../../shared/auth/service-account-tokens.ts';
import type { PodTokenReply, PodTokenRequest } from '../../shared/auth/token-queue.ts';
import { issueToken } from './token-request.ts';

/** The serviceAccountToken projections of a pod's volumes, defaulted (expirationSeconds 3600). */
export function tokenProjections(pod: Pod): { audience: string; expirationSeconds: number }[] {
  const out: { audience: string; expirationSeconds: number }[] = [];
  for (const v of (pod.spec.volumes ?? []) as any[]) {
    for (const source of v?.projected?.sources ?? []) {
      const p = source?.serviceAccountToken;
      if (p) out.push({ audience: p.audience ?? '', expirationSeconds: p.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS });
    }
  }
  return out;
}

/** Why a node's request for a pod's token is refused, or undefined when it may have one. Pure. */
export function podTokenRefusal(pod: Pod | null, req: PodTokenRequest): { error: string; code: number } | undefined {
  if (!pod || pod.metadata.uid !== req.podUid) return { error: `pods "${req.pod}" not found`, code: 404 };
  if (pod.spec.nodeName !== req.node) return { error: `node "${req.node}" requested a token bound to a pod scheduled on a different node`, code: 403 };
  const sa = pod.spec.serviceAccountName || 'default';
  if (req.serviceAccount !== sa) return { error: `pod ${req.namespace}/${req.pod} runs as serviceaccount "${sa}", not "${req.serviceAccount}"`, code: 403 };
  if (!tokenProjections(pod).some((p) => p.audience === req.audience && p.expirationSeconds === req.expirationSeconds)) {
    return { error: `pod ${req.namespace}/${req.pod} projects no token of audience "${req.audience}" lasting ${req.expirationSeconds}s`, code: 403 };
  }
  return undefined;
}

export function podTokenAnswerer(store: Store, tokens: ServiceAccountTokens): (req: PodTokenRequest) => Promise<PodTokenReply> {
  return async (req) => {
    const pod = await store.get<Pod>('pods', req.namespace, req.pod);
    const refusal = podTokenRefusal(pod, req);
    if (refusal) return refusal;
    const answer = await issueToken(store, tokens, req.namespace, req.serviceAccount, {
      audiences: req.audience ? [req.audience] : [],
      expirationSeconds: req.expirationSeconds,
      boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: req.pod, uid: req.podUid },
    });
    return { token: answer.status.token, expirationTimestamp: answer.status.expirationTimestamp };
  };
}
