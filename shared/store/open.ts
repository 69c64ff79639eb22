// What every service opens first, from its one config: the Redis connection factory (every
// connection reporting to one outage log), the command connection, the key layout and the store.
import type { RedisOptions } from 'ioredis';
import type { WharfConfig } from '../config.ts';
import { Keys } from '../keys.ts';
import type { Logger } from '../log.ts';
import { redisConnector, redisTarget } from '../redis.ts';
import { loadEncryptionConfig, type Encryption } from './encryption.ts';
import { Store } from './store.ts';

export function openStore(config: WharfConfig, log: Logger, options: { command?: RedisOptions; encryption?: Encryption } = {}) {
  const connect = redisConnector(redisTarget(config.common), log);
  const redis = connect(options.command);
  const keys = new Keys(config.common.keyPrefix);
  const encryption = options.encryption ?? loadEncryptionConfig(config.common.encryptionConfig);
  const store = new Store(redis, keys, config.common.watchHistory, config.admission, encryption, {
    replicas: config.common.redisWaitReplicas,
    timeoutMs: config.common.redisWaitTimeoutMs,
  });
  return { connect, redis, keys, store };
}
