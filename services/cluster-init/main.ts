// Compose's first step: the secrets the cluster keeps outside Redis — the Redis ACL file with a
// user per kind of Wharf process, each user's password file, and the EncryptionConfiguration —
// made in WHARF_SECRETS_DIR on the first `up` and kept on every later one (shared/cluster-secrets.ts).
// Redis starts only after this has finished, with the ACL file; each Wharf service reads its own
// password file (WHARF_REDIS_PASSWORD_FILE) and the encryption configuration (WHARF_ENCRYPTION_CONFIG).
import { loadConfig } from '../../shared/config.ts';
import { Keys } from '../../shared/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { ensureClusterSecrets } from '../../shared/cluster-secrets.ts';

const config = loadConfig();
const log = createLogger('cluster-init', config.common.logLevel);
const dir = process.env.WHARF_SECRETS_DIR || '/wharf-secrets';
const secrets = ensureClusterSecrets(dir, new Keys(config.common.keyPrefix), { healthcheck: true });
log.info({ dir, created: secrets.created }, secrets.created.length ? 'cluster secrets created' : 'cluster secrets kept from an earlier start');
