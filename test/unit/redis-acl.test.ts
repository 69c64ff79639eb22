// The Redis users of Wharf's processes, as shared/redis-acl.ts writes them: checked here for their
// shape; the integration tests (secrets-at-rest) prove against a real redis-server what they allow.
import test from 'ava';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keys } from '../../shared/keys.ts';
import { aclUsers, keyRules, redisUrlFor, redisUserName } from '../../shared/redis-acl.ts';
import { ensureClusterSecrets } from '../../shared/cluster-secrets.ts';
import { parseEncryptionConfig } from '../../shared/store/encryption.ts';

const keys = new Keys('wharf');

test('the default user is off, each kind has a user whose password is stored only as its SHA-256', (t) => {
  const { file, passwords } = aclUsers(keys, { passwords: { 'wharf-api': 'secret-api' } });
  const lines = file.trim().split('\n');
  // The default user is the administrator behind a password (never nopass): no credentials, no access.
  t.regex(lines[0], /^user default reset on #[0-9a-f]{64} ~\* &\* \+@all$/);
  t.false(file.includes('nopass'));
  t.deepEqual(lines.slice(1).map((l) => l.split(' ')[1]), ['wharf-api', 'wharf-controller-manager', 'wharf-scheduler', 'wharf-node-agent']);
  t.is(passwords['wharf-api'], 'secret-api');
  t.true(lines[1].includes(`#${createHash('sha256').update('secret-api').digest('hex')}`));
  t.false(file.includes('secret-api'));
  for (const p of Object.values(passwords)) t.false(file.includes(`>${p}`));
  t.regex(passwords['wharf-scheduler'], /^[0-9a-f]{64}$/);
});

test('only the API server\'s user names the private credentials; the others read the public ones only', (t) => {
  t.true(keyRules('api', keys).includes(`~${keys.clusterPrivateCredentials}`));
  for (const kind of ['controller-manager', 'scheduler', 'node-agent'] as const) {
    const rules = keyRules(kind, keys);
    t.false(rules.some((r) => r.endsWith(keys.clusterPrivateCredentials)), kind);
    t.true(rules.includes(`%R~${keys.clusterPublicCredentials}`), kind);
    t.false(rules.includes(`~${keys.clusterPublicCredentials}`), kind);
    // Every other rule lies inside the cluster's prefix, which the credentials are outside of.
    for (const r of rules) t.regex(r, /^(%R)?~wharf(:|-bull:|-credentials:public$)/);
  }
  t.false(keys.clusterPrivateCredentials.startsWith(`${keys.prefix}:`));
});

test('agents and schedulers write only their own kinds of objects', (t) => {
  const writes = (kind: 'scheduler' | 'node-agent') => keyRules(kind, keys).filter((r) => r.startsWith('~') && r.includes(':obj:'));
  t.deepEqual(writes('scheduler'), ['~wharf:obj:pods:*', '~wharf:obj:events:*', '~wharf:obj:persistentvolumeclaims:*']);
  t.deepEqual(writes('node-agent'), ['~wharf:obj:pods:*', '~wharf:obj:nodes:*', '~wharf:obj:leases:*', '~wharf:obj:events:*', '~wharf:obj:persistentvolumes:*']);
  t.true(keyRules('controller-manager', keys).includes('~wharf:*'));
});

test('redisUrlFor puts the user and an encoded password in the URL', (t) => {
  t.is(redisUrlFor('redis://127.0.0.1:6379', redisUserName('node-agent'), 'p@ss'), 'redis://wharf-node-agent:p%40ss@127.0.0.1:6379');
});

test('ensureClusterSecrets makes the files once, keeps them after, and they agree', (t) => {
  const dir = join(mkdtempSync(join(tmpdir(), 'wharf-secrets-')), 'secrets');
  try {
    const first = ensureClusterSecrets(dir, keys, { healthcheck: true });
    t.is(first.created.length, 8); // the administrator's, 4 kinds' and the health check's passwords, the ACL file, the encryption config
    t.is(statSync(first.passwordFile('wharf-api')).mode & 0o777, 0o600);
    t.is(statSync(first.encryptionConfig).mode & 0o777, 0o600);
    t.true(parseEncryptionConfig(readFileSync(first.encryptionConfig, 'utf8')).forResource('secrets').encrypts);
    const again = ensureClusterSecrets(dir, keys, { healthcheck: true });
    t.deepEqual(again.created, []);
    t.deepEqual(again.passwords, first.passwords);
    t.is(readFileSync(first.passwordFile('wharf-api'), 'utf8').trim(), first.passwords['wharf-api']);
    t.true(readFileSync(first.aclFile, 'utf8').includes(createHash('sha256').update(first.passwords['wharf-node-agent']).digest('hex')));
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true });
  }
});
