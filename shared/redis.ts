// Redis connections. Blocking readers (BullMQ workers, stream consumers) each need their own
// connection; everything else shares one per process.
import { Redis, type RedisOptions } from 'ioredis';

export function connectRedis(url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    // BullMQ requires null here; for ordinary commands it means "wait for the reconnect" rather
    // than failing a request while Redis restarts.
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** times, 2000),
    ...options,
  });
}
