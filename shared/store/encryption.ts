// Encryption at rest, as Kubernetes' EncryptionConfiguration (apiserver.config.k8s.io/v1): per
// resource, an ordered list of providers. The first provider writes; every provider listed reads,
// each recognising its own values by their prefix (`k8s:enc:aesgcm:v1:<key name>:`), identity (no
// prefix) the plaintext written before encryption was turned on. The keys live in a file outside
// Redis (WHARF_ENCRYPTION_CONFIG), so a copy of Redis — a dump, an AOF file, a replica, a process
// whose Redis user may read the objects but which was never given the file — holds no Secret in
// clear.
//
// AES-GCM as Kubernetes' aesgcm provider: a random 12-byte nonce per write, the nonce, ciphertext
// and tag together after the prefix, and the object's storage path as additional authenticated
// data, so a ciphertext copied onto another object's place fails to decrypt instead of showing that
// object another Secret. Two differences, both because Redis values pass through Lua scripts and
// ioredis as text: the nonce, ciphertext and tag are base64, and the resourceVersion (which the
// write script assigns after encryption) follows them in clear, after a ':'.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';

export const AESGCM_PREFIX = 'k8s:enc:aesgcm:v1:';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
/** Kubernetes accepts AES keys of 16, 24 or 32 bytes; Wharf generates 32 (AES-256). */
const KEY_SIZES = [16, 24, 32];

export interface EncryptionKey {
  name: string;
  secret: Buffer;
}

export type Provider = { type: 'aesgcm'; keys: EncryptionKey[] } | { type: 'identity' };

/** The file is wrong: start-up stops with this, naming the field as Kubernetes' validation does. */
export class EncryptionConfigError extends Error {
  constructor(readonly source: string, readonly field: string, detail: string) {
    super(`${source}: ${field}: ${detail}`);
    this.name = 'EncryptionConfigError';
  }
}

/**
 * A stored value could not be turned back into the object: its key is not configured (any more),
 * or the value was altered or copied from another object. The API answers it as Kubernetes does
 * (500, "unable to transform key ..."); controllers and agents log it and carry on.
 */
export class DecryptionError extends Error {
  constructor(readonly location: string, detail: string) {
    super(`unable to transform key "${location}": ${detail}`);
    this.name = 'DecryptionError';
  }
}

/** A value as stored: written whole (plaintext) or split where the write script puts the resourceVersion. */
export interface StoredForm {
  /** Text before the resourceVersion. */
  pre: string;
  /** Text after it. */
  post: string;
}

/** What reading a stored value gives: the object's JSON, and whether it was written other than the first provider writes now. */
export interface ReadValue {
  json: string;
  /** The resourceVersion carried outside the JSON (encrypted values), to be set on the object. */
  resourceVersion?: string;
  /** True when the value was not written by the first provider (key): rewriting it re-encrypts it. */
  stale: boolean;
}

/** How one resource's values are stored: its providers, in order. */
export class ResourceTransformer {
  constructor(readonly providers: Provider[]) {}

  /** True when new values are encrypted (the first provider is not identity). */
  get encrypts(): boolean {
    return this.providers[0]?.type === 'aesgcm';
  }

  /**
   * The stored form of an object's JSON, whose resourceVersion is `rvPlaceholder` (a unique
   * quoted string); location is the object's storage path (the authenticated data).
   */
  toStorage(json: string, rvPlaceholder: string, location: string): StoredForm {
    const first = this.providers[0];
    if (!first || first.type === 'identity') return splitAt(json, `"${rvPlaceholder}"`, 1);
    const key = first.keys[0];
    // The resourceVersion inside the ciphertext is empty; the one outside it is the truth.
    const plain = json.replace(`"${rvPlaceholder}"`, '""');
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv(algorithm(key.secret), key.secret, nonce);
    cipher.setAAD(Buffer.from(location));
    const sealed = Buffer.concat([nonce, cipher.update(plain, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return { pre: `${AESGCM_PREFIX}${key.name}:${sealed.toString('base64')}:`, post: '' };
  }

  /** The object JSON behind a stored value. Throws DecryptionError. */
  fromStorage(value: string, location: string): ReadValue {
    if (!value.startsWith(AESGCM_PREFIX)) {
      // Plaintext: readable when identity is listed (or nothing is configured for the resource).
      if (!this.providers.length || this.providers.some((p) => p.type === 'identity')) return { json: value, stale: this.encrypts };
      throw new DecryptionError(location, 'the value is not encrypted and the identity provider is not configured to read it');
    }
    const rest = value.slice(AESGCM_PREFIX.length);
    const lastColon = rest.lastIndexOf(':');
    const rv = rest.slice(lastColon + 1);
    for (const [p, provider] of this.providers.entries()) {
      if (provider.type !== 'aesgcm') continue;
      for (const [k, key] of provider.keys.entries()) {
        if (!rest.startsWith(`${key.name}:`)) continue;
        const sealed = Buffer.from(rest.slice(key.name.length + 1, lastColon), 'base64');
        if (sealed.length < NONCE_BYTES + TAG_BYTES) throw new DecryptionError(location, 'the data is too short to hold a nonce and a tag');
        const decipher = createDecipheriv(algorithm(key.secret), key.secret, sealed.subarray(0, NONCE_BYTES));
        decipher.setAAD(Buffer.from(location));
        decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
        let json: string;
        try {
          json = Buffer.concat([decipher.update(sealed.subarray(NONCE_BYTES, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8');
        } catch {
          // Go's words, which Kubernetes passes on.
          throw new DecryptionError(location, `cipher: message authentication failed (aesgcm key "${key.name}")`);
        }
        return { json, resourceVersion: rv, stale: p !== 0 || k !== 0 };
      }
    }
    const named = /^([^:]*):/.exec(rest)?.[1] ?? '';
    throw new DecryptionError(location, `no matching prefix found: the value is encrypted with aesgcm key "${named}", which the encryption configuration does not list`);
  }
}

const IDENTITY = new ResourceTransformer([]);

/** Every resource's transformer, from an EncryptionConfiguration; resources it does not name are stored as they are. */
export class Encryption {
  constructor(private readonly rules: { match: (plural: string, group: string) => boolean; transformer: ResourceTransformer }[] = []) {}

  /** The transformer for a resource (group '' for the core group). */
  forResource(plural: string, group = ''): ResourceTransformer {
    return this.rules.find((r) => r.match(plural, group))?.transformer ?? IDENTITY;
  }

  /** True when some resource is encrypted on write. */
  get enabled(): boolean {
    return this.rules.some((r) => r.transformer.encrypts);
  }
}

export const NO_ENCRYPTION = new Encryption();

/** Where Wharf keeps an object, as the authenticated data of its encrypted value (etcd's key in Kubernetes). */
export function storageLocation(plural: string, group: string, namespace: string, name: string): string {
  const resource = group ? `${group}/${plural}` : plural;
  return namespace ? `/registry/${resource}/${namespace}/${name}` : `/registry/${resource}/${name}`;
}

/** Reads and checks the EncryptionConfiguration file at path (YAML or JSON). */
export function loadEncryptionConfig(path: string | undefined): Encryption {
  if (!path) return NO_ENCRYPTION;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new EncryptionConfigError(path, 'file', `cannot be read: ${(err as Error).message}`);
  }
  return parseEncryptionConfig(text, path);
}

export function parseEncryptionConfig(text: string, source = 'encryption configuration'): Encryption {
  let doc: any;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new EncryptionConfigError(source, 'file', `is not YAML or JSON: ${(err as Error).message}`);
  }
  const fail = (field: string, detail: string): never => {
    throw new EncryptionConfigError(source, field, detail);
  };
  if (!doc || typeof doc !== 'object') fail('file', 'expected an EncryptionConfiguration object');
  if (doc.kind !== 'EncryptionConfiguration') fail('kind', `Unsupported value: "${doc.kind}": supported values: "EncryptionConfiguration"`);
  if (doc.apiVersion !== 'apiserver.config.k8s.io/v1') fail('apiVersion', `Unsupported value: "${doc.apiVersion}": supported values: "apiserver.config.k8s.io/v1"`);
  if (!Array.isArray(doc.resources) || !doc.resources.length) fail('resources', 'Required value: at least one resource is required');
  const seen = new Set<string>();
  const rules = (doc.resources as any[]).map((entry, i) => {
    const at = `resources[${i}]`;
    if (!Array.isArray(entry?.resources) || !entry.resources.length) fail(`${at}.resources`, 'Required value: at least one resource is required');
    const matchers = (entry.resources as unknown[]).map((name, j) => {
      if (typeof name !== 'string' || !name) return fail(`${at}.resources[${j}]`, 'Required value');
      if (seen.has(name)) fail(`${at}.resources[${j}]`, `Duplicate value: "${name}"`);
      seen.add(name);
      return resourceMatcher(name, `${at}.resources[${j}]`, fail);
    });
    if (!Array.isArray(entry.providers) || !entry.providers.length) fail(`${at}.providers`, 'Required value: at least one provider is required');
    const names = new Set<string>();
    const providers = (entry.providers as any[]).map((p, j) => parseProvider(p, `${at}.providers[${j}]`, fail, names));
    const transformer = new ResourceTransformer(providers);
    return { match: (plural: string, group: string) => matchers.some((m) => m(plural, group)), transformer };
  });
  return new Encryption(rules);
}

function resourceMatcher(name: string, field: string, fail: (field: string, detail: string) => never): (plural: string, group: string) => boolean {
  if (name === '*.*') return () => true;
  if (name === '*.') return (_plural, group) => group === '';
  if (name.startsWith('*.')) {
    const group = name.slice(2);
    return (_plural, g) => g === group;
  }
  if (name.includes('*')) fail(field, `Invalid value: "${name}": wildcards are "*.*", "*." and "*.<group>"`);
  const dot = name.indexOf('.');
  const plural = dot < 0 ? name : name.slice(0, dot);
  const group = dot < 0 ? '' : name.slice(dot + 1);
  return (p, g) => p === plural && g === group;
}

function parseProvider(p: any, at: string, fail: (field: string, detail: string) => never, names: Set<string>): Provider {
  const types = p && typeof p === 'object' ? Object.keys(p) : [];
  if (types.length !== 1) fail(at, 'Invalid value: exactly one provider type must be given per entry');
  const type = types[0];
  if (type === 'identity') return { type: 'identity' };
  if (type !== 'aesgcm') fail(`${at}.${type}`, `Unsupported value: "${type}": supported values: "aesgcm", "identity"`);
  const keys = p.aesgcm?.keys;
  if (!Array.isArray(keys) || !keys.length) fail(`${at}.aesgcm.keys`, 'Required value: at least one key is required');
  return {
    type: 'aesgcm',
    keys: keys.map((k: any, i: number) => {
      const field = `${at}.aesgcm.keys[${i}]`;
      if (typeof k?.name !== 'string' || !k.name) fail(`${field}.name`, 'Required value: key name is required');
      if (k.name.length > 200) fail(`${field}.name`, 'Invalid value: a key name is at most 200 characters');
      if (/[:\s]/.test(k.name)) fail(`${field}.name`, `Invalid value: "${k.name}": a key name may not contain ':' or white space`);
      if (names.has(k.name)) fail(`${field}.name`, `Duplicate value: "${k.name}"`);
      names.add(k.name);
      if (typeof k.secret !== 'string' || !k.secret) fail(`${field}.secret`, 'Required value: secret is required');
      const secret = Buffer.from(k.secret, 'base64');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(k.secret) || !KEY_SIZES.includes(secret.length)) {
        fail(`${field}.secret`, `Invalid value: "REDACTED": secret is not of the expected length, got ${secret.length}, expected one of [16 24 32]`);
      }
      return { name: k.name, secret };
    }),
  };
}

function algorithm(secret: Buffer): 'aes-128-gcm' | 'aes-192-gcm' | 'aes-256-gcm' {
  return secret.length === 16 ? 'aes-128-gcm' : secret.length === 24 ? 'aes-192-gcm' : 'aes-256-gcm';
}

function splitAt(json: string, quoted: string, keep: number): StoredForm {
  const i = json.indexOf(quoted);
  if (i < 0 || json.indexOf(quoted, i + 1) >= 0) throw new Error('resourceVersion placeholder not unique');
  return { pre: json.slice(0, i + keep), post: json.slice(i + quoted.length - keep) };
}

/** A new EncryptionConfiguration that encrypts Secrets with one fresh AES-256 key (what `npm start` and Compose write on first start). */
export function generateEncryptionConfig(keyName = 'key1'): string {
  return stringifyYaml({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [
      {
        resources: ['secrets'],
        providers: [{ aesgcm: { keys: [{ name: keyName, secret: randomBytes(32).toString('base64') }] } }, { identity: {} }],
      },
    ],
  });
}
