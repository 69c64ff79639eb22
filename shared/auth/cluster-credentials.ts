// The cluster's credentials as Redis keeps them (Keys.clusterPublicCredentials / ...Private): the
// CA that every API server replica serves under and issues from, and the admin token's digest.
// Only the store's named methods touch Redis; this says which fields mean what.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Store } from '../store/store.ts';
import { generateCa, type CertificateAndKey } from './pki.ts';

/** Field names in the credentials hashes. */
export const CREDENTIAL_FIELDS = {
  /** public: the cluster CA's certificate (PEM). */
  caCert: 'ca.crt',
  /** private: the cluster CA's key (PEM). */
  caKey: 'ca.key',
  /** private: the SHA-256 (hex) of the administrator's bearer token; the token itself is never stored. */
  adminTokenDigest: 'admin-token.sha256',
} as const;

/**
 * The cluster's CA: the one stored, or on the cluster's first start a new one, stored atomically so
 * that API servers starting together agree on one (the loser of the race drops its own).
 */
export async function ensureClusterCa(store: Store): Promise<CertificateAndKey & { created: boolean }> {
  const [cert, key] = await Promise.all([store.publicCredential(CREDENTIAL_FIELDS.caCert), store.privateCredential(CREDENTIAL_FIELDS.caKey)]);
  if (cert && key) return { cert, key, created: false };
  const offered = generateCa();
  const held = await store.ensureCredentialPair({ public: CREDENTIAL_FIELDS.caCert, private: CREDENTIAL_FIELDS.caKey }, { public: offered.cert, private: offered.key });
  return { cert: held.public, key: held.private, created: held.created };
}

/** The cluster CA's certificate, or null before any API server has started: all a non-API process may read. */
export function clusterCaCertificate(store: Store): Promise<string | null> {
  return store.publicCredential(CREDENTIAL_FIELDS.caCert);
}

/** A new bearer token: 256 random bits, hex (safe unquoted in a kubeconfig, a header, a shell). */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** What Redis keeps of a token: its SHA-256, hex. A token is random, so no salt or slow hash adds anything. */
export function tokenDigest(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Compares two digests in constant time. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
