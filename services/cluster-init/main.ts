// Compose's first step: the secrets the cluster keeps outside Redis — the Redis ACL file, each Redis
// user's password, and the EncryptionConfiguration — made on the first `up` and kept on every later
// one (shared/cluster-secrets.ts), in a volume only this step mounts. Each service then gets only
// its own share, in a volume of its own, so that a compromised node agent finds its own password
// there and not the API server's:
//   <dir>/redis/                  users.acl, the health check's and the administrator's passwords
//   <dir>/<kind>/redis.password   that kind's Redis password (WHARF_REDIS_PASSWORD_FILE)
//   <dir>/<kind>/encryption-config.yaml   for the kinds that read Secrets (WHARF_ENCRYPTION_CONFIG)
// Redis starts only after this has finished.
import { chmodSync, copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../shared/config.ts';
import { Keys } from '../../shared/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { ensureClusterSecrets } from '../../shared/cluster-secrets.ts';
import { ADMIN_USER, HEALTHCHECK_USER, REDIS_USER_KINDS, redisUserName } from '../../shared/redis-acl.ts';

const config = loadConfig();
const log = createLogger('cluster-init', config.common.logLevel);
const dir = process.env.WHARF_SECRETS_DIR || '/wharf-secrets';
const secrets = ensureClusterSecrets(join(dir, 'all'), new Keys(config.common.keyPrefix), { healthcheck: true });

/** The kinds that read Secrets, and so hold the encryption key (the scheduler never does). */
const DECRYPTS = new Set(['api', 'controller-manager', 'node-agent']);

/** Copies a file into a service's volume (mounted at <dir>/<service>), readable as mode says. */
function publish(from: string, service: string, name: string, mode: number): void {
  const volume = join(dir, service);
  if (!existsSync(volume)) throw new Error(`${volume} is not mounted: every service's secrets volume must be`);
  copyFileSync(from, join(volume, name));
  chmodSync(join(volume, name), mode);
}

publish(secrets.aclFile, 'redis', 'users.acl', 0o644);
// Any user of the Redis container may run its health check: that password allows only PING.
publish(secrets.passwordFile(HEALTHCHECK_USER), 'redis', `${HEALTHCHECK_USER}.password`, 0o644);
publish(secrets.passwordFile(ADMIN_USER), 'redis', 'admin.password', 0o600);
for (const kind of REDIS_USER_KINDS) {
  publish(secrets.passwordFile(redisUserName(kind)), kind, 'redis.password', 0o600);
  if (DECRYPTS.has(kind)) publish(secrets.encryptionConfig, kind, 'encryption-config.yaml', 0o600);
}
log.info({ dir, created: secrets.created }, secrets.created.length ? 'cluster secrets created' : 'cluster secrets kept from an earlier start');
