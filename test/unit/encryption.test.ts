import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AESGCM_PREFIX,
  DecryptionError,
  EncryptionConfigError,
  generateEncryptionConfig,
  loadEncryptionConfig,
  parseEncryptionConfig,
  storageLocation,
  type ResourceTransformer,
} from '../../shared/store/encryption.ts';
import { loadConfig, ConfigError } from '../../shared/config.ts';

const keyA = randomBytes(32).toString('base64');
const keyB = randomBytes(32).toString('base64');

function config(providers: unknown[], resources = ['secrets']): string {
  return JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources: [{ resources, providers }] });
}
const aesgcm = (...keys: [string, string][]) => ({ aesgcm: { keys: keys.map(([name, secret]) => ({ name, secret })) } });
const identity = { identity: {} };

const LOCATION = storageLocation('secrets', '', 'default', 's1');
const PLACEHOLDER = 'wharf-rv-0123';
const OBJECT = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's1', namespace: 'default', resourceVersion: PLACEHOLDER }, data: { password: Buffer.from('hunter2').toString('base64') } };
const JSON_TEXT = JSON.stringify(OBJECT);

/** What write-object.lua stores: the stored form with the resourceVersion between its halves. */
function store(t: ResourceTransformer, rv = '42', location = LOCATION): string {
  const { pre, post } = t.toStorage(JSON_TEXT, PLACEHOLDER, location);
  return `${pre}${rv}${post}`;
}

test('the first aesgcm key encrypts: the prefix names it, nothing of the object is in clear, and it reads back with the resourceVersion', (t) => {
  const secrets = parseEncryptionConfig(config([aesgcm(['keyA', keyA]), identity])).forResource('secrets');
  const stored = store(secrets);
  t.true(stored.startsWith(`${AESGCM_PREFIX}keyA:`));
  t.true(stored.endsWith(':42'));
  for (const clear of ['hunter2', OBJECT.data.password, '"password"', 's1']) t.false(stored.includes(clear), clear);
  const read = secrets.fromStorage(stored, LOCATION);
  t.is(read.resourceVersion, '42');
  t.false(read.stale);
  t.deepEqual(JSON.parse(read.json), { ...OBJECT, metadata: { ...OBJECT.metadata, resourceVersion: '' } });
});

test('a random nonce per write: the same object stored twice differs', (t) => {
  const secrets = parseEncryptionConfig(config([aesgcm(['keyA', keyA])])).forResource('secrets');
  t.not(store(secrets), store(secrets));
});

test('a ciphertext moved to another object fails authentication', (t) => {
  const secrets = parseEncryptionConfig(config([aesgcm(['keyA', keyA])])).forResource('secrets');
  const stored = store(secrets);
  const error = t.throws(() => secrets.fromStorage(stored, storageLocation('secrets', '', 'default', 'other')), { instanceOf: DecryptionError });
  t.is(error!.message, 'unable to transform key "/registry/secrets/default/other": cipher: message authentication failed (aesgcm key "keyA")');
});

test('a tampered ciphertext fails authentication', (t) => {
  const secrets = parseEncryptionConfig(config([aesgcm(['keyA', keyA])])).forResource('secrets');
  const stored = store(secrets);
  const body = stored.slice(`${AESGCM_PREFIX}keyA:`.length, stored.lastIndexOf(':'));
  const bytes = Buffer.from(body, 'base64');
  bytes[20] ^= 1;
  const tampered = `${AESGCM_PREFIX}keyA:${bytes.toString('base64')}:42`;
  t.throws(() => secrets.fromStorage(tampered, LOCATION), { instanceOf: DecryptionError, message: /message authentication failed/ });
});

test('rotation: [B, A] reads what A wrote (stale), writes with B; [B] alone no longer reads A', (t) => {
  const a = parseEncryptionConfig(config([aesgcm(['keyA', keyA]), identity])).forResource('secrets');
  const ba = parseEncryptionConfig(config([aesgcm(['keyB', keyB], ['keyA', keyA]), identity])).forResource('secrets');
  const b = parseEncryptionConfig(config([aesgcm(['keyB', keyB]), identity])).forResource('secrets');
  const underA = store(a);
  t.true(ba.fromStorage(underA, LOCATION).stale);
  const underB = store(ba);
  t.true(underB.startsWith(`${AESGCM_PREFIX}keyB:`));
  t.false(ba.fromStorage(underB, LOCATION).stale);
  t.false(b.fromStorage(underB, LOCATION).stale);
  const error = t.throws(() => b.fromStorage(underA, LOCATION), { instanceOf: DecryptionError });
  t.regex(error!.message, /no matching prefix found: the value is encrypted with aesgcm key "keyA", which the encryption configuration does not list/);
});

test('identity reads plaintext written before encryption (stale while aesgcm writes); without identity plaintext is refused', (t) => {
  const none = parseEncryptionConfig(config([identity])).forResource('secrets');
  const plain = store(none);
  t.is(plain, JSON_TEXT.replace(PLACEHOLDER, '42'));
  const on = parseEncryptionConfig(config([aesgcm(['keyA', keyA]), identity])).forResource('secrets');
  const read = on.fromStorage(plain, LOCATION);
  t.is(read.json, plain);
  t.true(read.stale);
  t.is(read.resourceVersion, undefined);
  const strict = parseEncryptionConfig(config([aesgcm(['keyA', keyA])])).forResource('secrets');
  t.throws(() => strict.fromStorage(plain, LOCATION), { instanceOf: DecryptionError, message: /not encrypted and the identity provider is not configured/ });
  // identity first, aesgcm after: decrypting back to plaintext, as Kubernetes' procedure does.
  const decrypting = parseEncryptionConfig(config([identity, aesgcm(['keyA', keyA])])).forResource('secrets');
  t.is(JSON.parse(decrypting.fromStorage(store(on), LOCATION).json).data.password, OBJECT.data.password);
  t.true(decrypting.fromStorage(store(on), LOCATION).stale);
  t.is(store(decrypting), plain);
});

test('only the resources named are encrypted; group-qualified names and wildcards', (t) => {
  const enc = parseEncryptionConfig(JSON.stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [
      { resources: ['secrets', 'deployments.apps'], providers: [aesgcm(['k', keyA])] },
      { resources: ['*.batch'], providers: [aesgcm(['j', keyB])] },
    ],
  }));
  t.true(enc.enabled);
  t.true(enc.forResource('secrets').encrypts);
  t.true(enc.forResource('deployments', 'apps').encrypts);
  t.false(enc.forResource('configmaps').encrypts);
  t.false(enc.forResource('secrets', 'apps').encrypts);
  t.true(enc.forResource('jobs', 'batch').encrypts);
  const configmaps = enc.forResource('configmaps');
  t.is(store(configmaps), JSON_TEXT.replace(PLACEHOLDER, '42'));
});

test('generated configurations encrypt Secrets with a fresh 32-byte key, keep identity for older plaintext, and differ each time', (t) => {
  const text = generateEncryptionConfig();
  const secrets = parseEncryptionConfig(text).forResource('secrets');
  t.true(secrets.encrypts);
  t.deepEqual(secrets.providers.map((p) => p.type), ['aesgcm', 'identity']);
  t.is((secrets.providers[0] as { keys: { secret: Buffer }[] }).keys[0].secret.length, 32);
  t.not(text, generateEncryptionConfig());
});

test('bad configurations are refused at start-up, naming the field', (t) => {
  const bad = (text: string, field: RegExp) => {
    const err = t.throws(() => parseEncryptionConfig(text, 'enc.yaml'), { instanceOf: EncryptionConfigError });
    t.regex(err!.message, field);
  };
  bad(JSON.stringify({ apiVersion: 'v1', kind: 'EncryptionConfiguration', resources: [] }), /^enc.yaml: apiVersion: Unsupported value/);
  bad(config([aesgcm(['k', Buffer.alloc(8).toString('base64')])]), /resources\[0\]\.providers\[0\]\.aesgcm\.keys\[0\]\.secret: Invalid value: "REDACTED": secret is not of the expected length, got 8, expected one of \[16 24 32\]/);
  bad(config([aesgcm(['k', keyA], ['k', keyB])]), /keys\[1\]\.name: Duplicate value: "k"/);
  bad(config([aesgcm(['a:b', keyA])]), /may not contain ':'/);
  bad(config([{ aescbc: { keys: [] } }]), /providers\[0\]\.aescbc: Unsupported value: "aescbc"/);
  bad(config([{ identity: {}, aesgcm: {} }]), /exactly one provider type/);
  bad(config([]), /providers: Required value/);
  bad('resources: [', /is not YAML or JSON/);
  t.throws(() => loadEncryptionConfig('/nonexistent/enc.yaml'), { instanceOf: EncryptionConfigError, message: /cannot be read/ });
});

test('WHARF_ENCRYPTION_CONFIG and WHARF_REDIS_PASSWORD_FILE', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'wharf-enc-'));
  try {
    const path = join(dir, 'enc.yaml');
    writeFileSync(path, generateEncryptionConfig());
    t.is(loadConfig({ WHARF_ENCRYPTION_CONFIG: path }).common.encryptionConfig, path);
    t.true(loadEncryptionConfig(path).enabled);
    t.is(loadConfig({}).common.encryptionConfig, undefined);
    const pw = join(dir, 'pw');
    writeFileSync(pw, 'p@ss/word\n');
    t.is(loadConfig({ REDIS_URL: 'redis://wharf-api@redis:6379', WHARF_REDIS_PASSWORD_FILE: pw }).common.redisUrl, 'redis://wharf-api:p%40ss%2Fword@redis:6379');
    t.throws(() => loadConfig({ WHARF_REDIS_PASSWORD_FILE: pw }), { instanceOf: ConfigError, message: /needs REDIS_URL/ });
    t.throws(() => loadConfig({ REDIS_URL: 'redis://u@h:1', WHARF_REDIS_PASSWORD_FILE: join(dir, 'missing') }), { instanceOf: ConfigError, message: /^WHARF_REDIS_PASSWORD_FILE: cannot read/ });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
