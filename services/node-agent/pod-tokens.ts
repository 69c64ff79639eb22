// The tokens of a node's pods' serviceAccountToken projections, as the kubelet's token manager
// keeps them: asked for once (through the API servers: shared/auth/token-queue.ts), reused, and
// asked for again once 80% of their life has passed, so the file a pod reads is always valid.
import type { Pod } from '../../shared/types.ts';

export interface TokenProjection {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}

export interface IssuedToken {
  token: string;
  expirationTimestamp: string;
}

/** Asks the API servers for a token of the pod's ServiceAccount, bound to the pod. */
export type TokenFetcher = (req: { namespace: string; pod: string; podUid: string; serviceAccount: string; audience: string; expirationSeconds: number }) => Promise<IssuedToken>;

/** The kubelet's requiresRefresh: past 80% of the token's life (or a day old). Pure. */
export function needsRefresh(issuedAtMs: number, expiresAtMs: number, nowMs: number): boolean {
  const life = expiresAtMs - issuedAtMs;
  return nowMs >= issuedAtMs + Math.min(life * 0.8, 24 * 3_600_000);
}

export class PodTokens {
  private readonly cache = new Map<string, { token: string; issuedAtMs: number; expiresAtMs: number }>();

  constructor(private readonly fetch: TokenFetcher, private readonly now = () => Date.now()) {}

  /** The pod's current token for this projection: the cached one while fresh, else a new one. */
  async token(pod: Pod, projection: TokenProjection): Promise<string> {
    const audience = projection.audience ?? '';
    const expirationSeconds = projection.expirationSeconds ?? 3600;
    const key = `${pod.metadata.uid}|${audience}|${expirationSeconds}`;
    const cached = this.cache.get(key);
    const now = this.now();
    if (cached && !needsRefresh(cached.issuedAtMs, cached.expiresAtMs, now)) return cached.token;
    const issued = await this.fetch({
      namespace: pod.metadata.namespace!,
      pod: pod.metadata.name!,
      podUid: pod.metadata.uid!,
      serviceAccount: pod.spec.serviceAccountName || 'default',
      audience,
      expirationSeconds,
    });
    const expiresAtMs = Date.parse(issued.expirationTimestamp);
    // The token's own life as the server gave it (a maximum may have shortened what was asked).
    const issuedAtMs = Math.min(now, expiresAtMs);
    this.cache.set(key, { token: issued.token, issuedAtMs, expiresAtMs });
    return issued.token;
  }

  /** Drops a pod's tokens (it is gone from this node). */
  forget(podUid: string): void {
    for (const key of this.cache.keys()) if (key.startsWith(`${podUid}|`)) this.cache.delete(key);
  }
}
