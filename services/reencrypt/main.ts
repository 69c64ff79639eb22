// `npm run rotate-secrets [resource ...]`: the second step of an encryption key rotation. After a
// new key was put first in the EncryptionConfiguration (and every process restarted with it), this
// writes again every object stored under an older key — or in plaintext, from before encryption —
// so that all are stored under the new key; the old key can then be removed from the file.
// Kubernetes' way, `kubectl get secrets -A -o json | kubectl replace -f -`, does the same here.
// Runs with the API server's Redis user and the same WHARF_ENCRYPTION_CONFIG.
import { loadConfig } from '../../shared/config.ts';
import { Keys } from '../../shared/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { connectRedis, redisTarget } from '../../shared/redis.ts';
import { Store } from '../../shared/store/store.ts';
import { loadEncryptionConfig } from '../../shared/store/encryption.ts';

const config = loadConfig();
const log = createLogger('reencrypt', config.common.logLevel);
const encryption = loadEncryptionConfig(config.common.encryptionConfig);
if (!config.common.encryptionConfig) log.warn('WHARF_ENCRYPTION_CONFIG is not set: objects are rewritten in plaintext');
const redis = connectRedis(redisTarget(config.common), { maxRetriesPerRequest: 3 });
const store = new Store(redis, new Keys(config.common.keyPrefix), config.common.watchHistory, config.admission, encryption, { replicas: config.common.redisWaitReplicas, timeoutMs: config.common.redisWaitTimeoutMs });
const resources = process.argv.slice(2).length ? process.argv.slice(2) : ['secrets'];
let failed = false;
for (const resource of resources) {
  try {
    const { rewritten, total } = await store.rewriteStale(resource);
    log.info({ resource, rewritten, total }, 'rewritten with the current encryption key');
  } catch (err) {
    failed = true;
    log.error({ resource, err: (err as Error).message }, 'rewrite failed');
  }
}
redis.disconnect();
process.exit(failed ? 1 : 0);
