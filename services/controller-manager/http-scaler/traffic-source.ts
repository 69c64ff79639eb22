// The HTTPScaledObject controller's Redis side: the Service traffic the node proxies report, a
// short history of the controller's own recommendations (for scale-down stabilization), and the
// Deployment's size before the object took it over (restored when it is deleted), kept in Redis so
// that whichever controller manager runs the next reconcile sees them.
import type { Redis } from 'ioredis';
import type { Keys } from '../../../shared/keys.ts';
import { readTraffic } from '../../../shared/http-scaling.ts';
import type { TrafficSource } from './controller.ts';

export function redisTrafficSource(redis: Redis, keys: Keys, reportMs: number): TrafficSource {
  // A node report older than a few intervals is from a proxy that stopped: its connections are gone.
  const staleMs = Math.max(3 * reportMs, 3000);
  return {
    read: (namespace, service, now) => readTraffic(redis, keys, namespace, service, staleMs, now),
    async remember(namespace, name, recommendation, now, windowMs) {
      const key = keys.httpScaleRecommendations(namespace, name);
      const results = await redis
        .multi()
        .zadd(key, String(now), `${now}:${recommendation}`)
        .zremrangebyscore(key, '-inf', `(${now - windowMs}`)
        .zrangebyscore(key, '-inf', '+inf')
        .pexpire(key, windowMs + 60_000)
        .exec();
      const members = (results?.[2]?.[1] as string[] | undefined) ?? [];
      return members.map((m) => Number(m.split(':')[1])).filter((n) => Number.isFinite(n));
    },
    async original(uid, replicas) {
      const key = keys.httpScaleOriginalReplicas(uid);
      await redis.set(key, String(replicas), 'NX');
      const stored = Number(await redis.get(key));
      return Number.isInteger(stored) ? stored : replicas;
    },
    async forgetOriginal(uid, namespace, name) {
      const key = keys.httpScaleOriginalReplicas(uid);
      const stored = await redis.get(key);
      await redis.del(key, keys.httpScaleRecommendations(namespace, name));
      return stored === null || !Number.isInteger(Number(stored)) ? undefined : Number(stored);
    },
  };
}
