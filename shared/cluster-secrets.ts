// The secrets a cluster keeps outside Redis, made once on its first start and kept after: the
// Redis ACL file with a user per kind of Wharf process, each user's password in a file of its own
// (WHARF_REDIS_PASSWORD_FILE), and the EncryptionConfiguration that encrypts Secrets
// (WHARF_ENCRYPTION_CONFIG). `npm start` keeps them under .wharf/; Compose makes them in a volume
// (services/cluster-init) before Redis starts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Keys } from './keys.ts';
import { ADMIN_USER, aclUsers, HEALTHCHECK_USER, REDIS_USER_KINDS, redisUserName, type RedisUserKind } from './redis-acl.ts';
import { generateEncryptionConfig } from './store/encryption.ts';

export interface ClusterSecrets {
  dir: string;
  /** redis-server --aclfile */
  aclFile: string;
  encryptionConfig: string;
  /** user name -> password */
  passwords: Record<string, string>;
  /** The file holding a user's password. */
  passwordFile(user: string): string;
  /** Which of the files this call created (empty when all were there already). */
  created: string[];
}

export function passwordFileOf(dir: string, user: string): string {
  return join(dir, `${user}.password`);
}

/**
 * Makes what is missing in dir and reads what is there. The ACL file is written from the password
 * files (kept or new), so a password file is the truth and both always agree. Files that hold a
 * secret are readable by their owner only; the ACL file holds only SHA-256 digests and is
 * world-readable, for a Redis that runs as another user.
 */
export function ensureClusterSecrets(dir: string, keys: Keys, opts: { healthcheck?: boolean } = {}): ClusterSecrets {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const created: string[] = [];
  const users = [ADMIN_USER, ...REDIS_USER_KINDS.map((k: RedisUserKind) => redisUserName(k)), ...(opts.healthcheck ? [HEALTHCHECK_USER] : [])];
  const kept: Record<string, string> = {};
  for (const user of users) {
    const file = passwordFileOf(dir, user);
    if (existsSync(file)) kept[user] = readFileSync(file, 'utf8').trim();
  }
  const acl = aclUsers(keys, { passwords: kept, healthcheck: opts.healthcheck });
  for (const user of users) {
    if (kept[user]) continue;
    // A health check runs as whichever user the Redis image's healthcheck runs as: readable to all, it grants only PING.
    writeFileSync(passwordFileOf(dir, user), `${acl.passwords[user]}\n`, { mode: user === HEALTHCHECK_USER ? 0o644 : 0o600 });
    created.push(passwordFileOf(dir, user));
  }
  const aclFile = join(dir, 'users.acl');
  if (!existsSync(aclFile) || readFileSync(aclFile, 'utf8') !== acl.file || created.length) {
    if (!existsSync(aclFile)) created.push(aclFile);
    writeFileSync(aclFile, acl.file, { mode: 0o644 });
  }
  const encryptionConfig = join(dir, 'encryption-config.yaml');
  if (!existsSync(encryptionConfig)) {
    writeFileSync(encryptionConfig, generateEncryptionConfig(), { mode: 0o600 });
    created.push(encryptionConfig);
  }
  return { dir, aclFile, encryptionConfig, passwords: acl.passwords, passwordFile: (user) => passwordFileOf(dir, user), created };
}
