// How a node agent gets its pods' ServiceAccount tokens without holding the signing key: it
// pushes a request onto a Redis list, an API server pops it, checks it as Kubernetes' TokenRequest
// and NodeRestriction check a kubelet's (the pod exists with that uid, runs on that node as that
// ServiceAccount, and its spec asks for a token of that audience and lifetime), signs a token
// bound to the pod, and pushes the answer onto a list of the request's own, which the agent reads
// with a blocking pop. Kubernetes' kubelet calls the TokenRequest API with its node credential;
// Wharf's agents talk to Redis only, so the request travels there, and the key stays with the API
// servers (Redis ACLs keep agents off the private credentials hash).
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keys } from '../keys.ts';

/** What an agent asks for: a token for a pod of its node, as one of the pod's projected volumes says. */
export interface PodTokenRequest {
  id: string;
  /** The node the agent serves: the pod must be bound to it. */
  node: string;
  namespace: string;
  pod: string;
  podUid: string;
  serviceAccount: string;
  /** The projection's audience; '' for the API's own. */
  audience: string;
  expirationSeconds: number;
  /** When the agent asked (ms): answers to a request nobody waits for any more are not made. */
  requestedAtMs: number;
}

export type PodTokenReply = { token: string; expirationTimestamp: string } | { error: string; code: number };

/** A request the API servers refused (or none answered in time). */
export class PodTokenError extends Error {
  constructor(message: string, readonly code: number) {
    super(message);
    this.name = 'PodTokenError';
  }
}

/** How long an answer waits for its agent, and how old a request may be before it is dropped unanswered. */
const REPLY_TTL_SECONDS = 60;

/** The agent's side: one request, one blocking read of its answer, on a connection of its own. */
export async function requestPodToken(connect: () => Redis, keys: Keys, req: Omit<PodTokenRequest, 'id' | 'requestedAtMs'>, timeoutMs = 15_000): Promise<{ token: string; expirationTimestamp: string }> {
  const id = randomUUID();
  // BLPOP blocks its connection: each request takes one for the time it waits.
  const redis = connect();
  try {
    await redis.lpush(keys.tokenRequests, JSON.stringify({ ...req, id, requestedAtMs: Date.now() } satisfies PodTokenRequest));
    const popped = await redis.blpop(keys.tokenReply(id), Math.max(1, Math.ceil(timeoutMs / 1000)));
    if (!popped) throw new PodTokenError(`no API server answered the token request for pod ${req.namespace}/${req.pod} within ${Math.round(timeoutMs / 1000)}s`, 504);
    const reply = JSON.parse(popped[1]) as PodTokenReply;
    if ('error' in reply) throw new PodTokenError(reply.error, reply.code);
    return reply;
  } finally {
    redis.disconnect();
  }
}

/** The API server's side: pops requests and answers each with what `answer` returns. */
export class PodTokenServer {
  private stopped = false;
  private loop?: Promise<void>;

  constructor(
    /** A connection of its own: BRPOP holds it. */
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly answer: (req: PodTokenRequest) => Promise<PodTokenReply>,
    private readonly onError: (err: Error) => void,
  ) {}

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.redis.disconnect();
    await this.loop?.catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let popped: [string, string] | null;
      try {
        popped = await this.redis.brpop(this.keys.tokenRequests, 2);
      } catch (err) {
        if (this.stopped) return;
        this.onError(err as Error);
        await new Promise((r) => setTimeout(r, 1000));
        continue;
      }
      if (!popped) continue;
      // Answered one at a time per API server: each is a few reads and a signature.
      await this.serve(popped[1]).catch((err) => this.onError(err as Error));
    }
  }

  private async serve(raw: string): Promise<void> {
    let req: PodTokenRequest;
    try {
      req = JSON.parse(raw);
    } catch {
      return; // not a request: nobody to answer
    }
    if (typeof req?.id !== 'string' || !req.id) return;
    if (!(Date.now() - Number(req.requestedAtMs) < REPLY_TTL_SECONDS * 1000)) return; // its agent gave up long ago
    const reply = await this.answer(req).catch((err): PodTokenReply => ({ error: (err as Error).message, code: (err as { code?: number }).code ?? 500 }));
    const key = this.keys.tokenReply(req.id);
    await this.redis.multi().rpush(key, JSON.stringify(reply)).expire(key, REPLY_TTL_SECONDS).exec();
  }
}
