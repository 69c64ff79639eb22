// ServiceAccount tokens as Kubernetes issues them (pkg/serviceaccount): short-lived JWTs signed by
// the cluster, bound to an audience and, when asked, to a Pod or a Secret, so that they die with
// it. API servers sign (the key lives in the private credentials hash, made once by whichever
// server starts first) and verify with the public keys ("sa.pub"); a verified token still
// authenticates only while its ServiceAccount, and the object it is bound to, exist with the uids
// it names.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { KubeObject } from '../types.ts';
import { serviceAccountUser, type TokenAuthenticator, type UserInfo } from './user.ts';
import { storeFailure } from '../errors.ts';

/** Kubernetes' --service-account-issuer default on a kubeadm cluster (cluster domain cluster.local). */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** TokenRequest's default lifetime (SetDefaults_TokenRequestSpec). */
export const DEFAULT_EXPIRATION_SECONDS = 3600;
/** ValidateTokenRequest's bounds: at least 10 minutes, at most 2^32 seconds. */
export const MIN_EXPIRATION_SECONDS = 600;
export const MAX_EXPIRATION_SECONDS = 2 ** 32;
/** go-jose's jwt.DefaultLeeway: clocks may disagree this much, and a deletion counts this late. */
const LEEWAY_SECONDS = 60;
const ALGORITHM = 'RS256';

export interface ObjectRef {
  name: string;
  uid: string;
}

/** Whom a token is for: a ServiceAccount, and the object it is bound to, if any. */
export interface TokenSubject {
  namespace: string;
  serviceAccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  /**
   * The node the token is bound to, or the node of its bound pod (ServiceAccountTokenPodNodeInfo:
   * informative there, not checked).
   */
  node?: ObjectRef | { name: string; uid?: string };
}

/** The `kubernetes.io` private claim. */
export interface KubernetesClaim {
  namespace: string;
  serviceaccount: ObjectRef;
  pod?: ObjectRef;
  secret?: ObjectRef;
  node?: { name: string; uid?: string };
}

export interface TokenClaims extends JWTPayload {
  'kubernetes.io': KubernetesClaim;
}

export interface TokenSettings {
  /** The `iss` of every token this cluster signs (Kubernetes' --service-account-issuer). */
  issuer: string;
  /** What the API itself accepts as `aud` (--api-audiences), and the default audience of a TokenRequest. */
  apiAudiences: string[];
  /** The longest lifetime a TokenRequest gets; longer requests are shortened (0: only the 2^32 s bound). */
  maxExpirationSeconds: number;
}

/** Kubernetes' claims of a bound token (pkg/serviceaccount/claims.go Claims). Pure. */
export function tokenClaims(subject: TokenSubject, issuer: string, audiences: string[], expirationSeconds: number, nowSeconds: number, jti: string): TokenClaims {
  const k8s: KubernetesClaim = { namespace: subject.namespace, serviceaccount: { name: subject.serviceAccount.name, uid: subject.serviceAccount.uid } };
  if (subject.pod) k8s.pod = { name: subject.pod.name, uid: subject.pod.uid };
  else if (subject.secret) k8s.secret = { name: subject.secret.name, uid: subject.secret.uid };
  // A pod-bound token names the pod's node too; a node-bound one only the node.
  if (subject.node && !subject.secret) k8s.node = subject.node.uid ? { name: subject.node.name, uid: subject.node.uid } : { name: subject.node.name };
  return {
    aud: audiences,
    exp: nowSeconds + expirationSeconds,
    iat: nowSeconds,
    iss: issuer,
    jti,
    'kubernetes.io': k8s,
    nbf: nowSeconds,
    sub: `system:serviceaccount:${subject.namespace}:${subject.serviceAccount.name}`,
  };
}

/** Kubernetes' key id: the unpadded base64url SHA-256 of the public key's DER (PKIX) form. */
export function keyIdOf(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('base64url');
}

/** A new signing key, as PEM (PKCS#8). */
export function generateSigningKey(): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** The public keys of a PEM bundle, by key id. */
export function verificationKeys(pemBundle: string): Map<string, KeyObject> {
  const out = new Map<string, KeyObject>();
  for (const block of pemBundle.match(/-----BEGIN PUBLIC KEY-----[\s\S]+?-----END PUBLIC KEY-----/g) ?? []) {
    const key = createPublicKey(block);
    out.set(keyIdOf(key), key);
  }
  return out;
}

/** A token this cluster signed, that it refuses: the reason is logged, the client sees 401 only. */
export class TokenRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenRejectedError';
  }
}

/**
 * Verifies a token's signature, issuer, audience and lifetime (pure but for the clock). Returns
 * undefined for a token that is not a JWT of this issuer (another authenticator's); throws
 * TokenRejectedError for one of this issuer that does not hold.
 */
export async function verifyToken(token: string, keys: Map<string, KeyObject>, opts: { issuer: string; audiences: string[]; nowSeconds?: number }): Promise<TokenClaims | undefined> {
  let kid: string | undefined;
  try {
    const unverified = decodeJwt(token);
    if (unverified.iss !== opts.issuer) return undefined;
    kid = decodeProtectedHeader(token).kid;
  } catch {
    return undefined; // not a JWT
  }
  const key = kid ? keys.get(kid) : keys.size === 1 ? [...keys.values()][0] : undefined;
  if (!key) throw new TokenRejectedError('invalid signature: no key of this cluster has the token\'s key id');
  try {
    const { payload } = await jwtVerify(token, key, {
      issuer: opts.issuer,
      algorithms: [ALGORITHM],
      clockTolerance: LEEWAY_SECONDS,
      currentDate: opts.nowSeconds !== undefined ? new Date(opts.nowSeconds * 1000) : undefined,
      requiredClaims: ['exp', 'sub'],
    });
    const auds = typeof payload.aud === 'string' ? [payload.aud] : payload.aud ?? [];
    if (!auds.some((a) => opts.audiences.includes(a))) {
      throw new TokenRejectedError(`token audiences ${JSON.stringify(auds)} is invalid for the target audiences ${JSON.stringify(opts.audiences)}`);
    }
    const k8s = (payload as TokenClaims)['kubernetes.io'];
    if (!k8s || typeof k8s.namespace !== 'string' || typeof k8s.serviceaccount?.name !== 'string' || typeof k8s.serviceaccount?.uid !== 'string') {
      throw new TokenRejectedError('service account token claims could not be validated: missing kubernetes.io claim');
    }
    return payload as TokenClaims;
  } catch (err) {
    if (err instanceof TokenRejectedError) throw err;
    if (err instanceof joseErrors.JWTExpired) throw new TokenRejectedError('service account token has expired');
    if (err instanceof joseErrors.JWTClaimValidationFailed && err.claim === 'nbf') throw new TokenRejectedError('service account token is not valid yet');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw new TokenRejectedError('invalid signature');
    throw new TokenRejectedError(`service account token could not be validated: ${(err as Error).message}`);
  }
}

/** What the authenticator reads of the cluster: the objects a token names. */
export interface TokenObjectReader {
  get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | null>;
}

/**
 * Kubernetes' validator (pkg/serviceaccount/claims.go Validate): the ServiceAccount and the bound
 * Pod or Secret must still exist with the uids the token names, and not have been deleted more
 * than a minute ago. Returns the user the token stands for.
 */
export async function validateTokenObjects(claims: TokenClaims, reader: TokenObjectReader, nowMs = Date.now()): Promise<UserInfo> {
  const k8s = claims['kubernetes.io'];
  const ns = k8s.namespace;
  const deletedLongAgo = (obj: KubeObject) => !!obj.metadata.deletionTimestamp && Date.parse(obj.metadata.deletionTimestamp) < nowMs - LEEWAY_SECONDS * 1000;
  const sa = await reader.get('serviceaccounts', ns, k8s.serviceaccount.name);
  if (!sa) throw new TokenRejectedError(`serviceaccounts "${k8s.serviceaccount.name}" not found`);
  if (deletedLongAgo(sa)) throw new TokenRejectedError(`service account ${ns}/${k8s.serviceaccount.name} has been deleted`);
  if (sa.metadata.uid !== k8s.serviceaccount.uid) throw new TokenRejectedError(`service account UID (${sa.metadata.uid}) does not match claim (${k8s.serviceaccount.uid})`);
  const extra: Record<string, string[]> = {};
  for (const [kind, ref] of [['secrets', k8s.secret], ['pods', k8s.pod]] as const) {
    if (!ref) continue;
    const obj = await reader.get(kind, ns, ref.name);
    if (!obj || deletedLongAgo(obj)) throw new TokenRejectedError('service account token has been invalidated');
    if (obj.metadata.uid !== ref.uid) throw new TokenRejectedError(`${kind === 'pods' ? 'pod' : 'secret'} UID (${obj.metadata.uid}) does not match service account ${kind === 'pods' ? 'pod' : 'secret'} ref claim (${ref.uid})`);
  }
  if (k8s.node && !k8s.pod) {
    // Bound to a node (ServiceAccountTokenNodeBinding): valid while that node exists.
    const node = await reader.get('nodes', undefined, k8s.node.name);
    if (!node || deletedLongAgo(node)) throw new TokenRejectedError('service account token has been invalidated');
    if (node.metadata.uid !== k8s.node.uid) throw new TokenRejectedError(`node UID (${node.metadata.uid}) does not match service account node ref claim (${k8s.node.uid})`);
  }
  if (k8s.node?.name) extra['authentication.kubernetes.io/node-name'] = [k8s.node.name];
  if (k8s.node?.uid) extra['authentication.kubernetes.io/node-uid'] = [k8s.node.uid];
  if (k8s.pod) {
    extra['authentication.kubernetes.io/pod-name'] = [k8s.pod.name];
    extra['authentication.kubernetes.io/pod-uid'] = [k8s.pod.uid];
  }
  if (typeof claims.jti === 'string' && claims.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${claims.jti}`];
  const user = serviceAccountUser(ns, k8s.serviceaccount.name, k8s.serviceaccount.uid);
  return Object.keys(extra).length ? { ...user, extra } : user;
}

/** What the API server's token service needs of the store: the keys, by name, and the objects. */
export interface TokenKeyStore extends TokenObjectReader {
  serviceAccountSigningKey(): Promise<string | null>;
  initServiceAccountSigningKey(pem: string): Promise<string>;
  serviceAccountVerificationKeys(): Promise<string | null>;
  publishServiceAccountVerificationKey(pem: string): Promise<void>;
}

/** How soon after an unknown key id the verification keys are read again (a new key after rotation). */
const KEY_RELOAD_MS = 5_000;

/** The API server's side of ServiceAccount tokens: signs them, and authenticates them. */
export class ServiceAccountTokens {
  private signingKey?: KeyObject;
  private kid = '';
  private keys = new Map<string, KeyObject>();
  private keysReadAt = 0;

  constructor(
    private readonly store: TokenKeyStore,
    readonly settings: TokenSettings,
  ) {}

  /**
   * Loads the cluster's signing key, making it first if the cluster has none (the first API server
   * to write wins; the others read its key back), and publishes its public half in "sa.pub".
   */
  async init(): Promise<void> {
    let pem = await this.store.serviceAccountSigningKey();
    if (!pem) pem = await this.store.initServiceAccountSigningKey(generateSigningKey());
    const key = createPrivateKey(pem);
    const publicPem = createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string;
    await this.store.publishServiceAccountVerificationKey(publicPem);
    this.signingKey = key;
    this.kid = keyIdOf(key);
    await this.reloadKeys();
  }

  /** Signs a token for `subject`, valid for expirationSeconds from now. */
  async issue(subject: TokenSubject, audiences: string[], expirationSeconds: number, nowMs = Date.now()): Promise<{ token: string; claims: TokenClaims }> {
    if (!this.signingKey) throw new Error('ServiceAccountTokens.init() has not run');
    const claims = tokenClaims(subject, this.settings.issuer, audiences, expirationSeconds, Math.floor(nowMs / 1000), randomUUID());
    const token = await new SignJWT(claims).setProtectedHeader({ alg: ALGORITHM, kid: this.kid }).sign(this.signingKey);
    return { token, claims };
  }

  /** The TokenAuthenticator of the API's authentication chain for ServiceAccount tokens. */
  authenticator(): TokenAuthenticator {
    return async (token) => {
      try {
        const claims = await verifyToken(token, await this.keysFor(token), { issuer: this.settings.issuer, audiences: this.settings.apiAudiences });
        if (!claims) return undefined;
        return await validateTokenObjects(claims, this.store);
      } catch (err) {
        // Redis away is the server's trouble (503), not the token's (401).
        throw err instanceof TokenRejectedError ? err : storeFailure(err) ?? err;
      }
    };
  }

  /** The verification keys, read again when a token names a key id not among them (rotation). */
  private async keysFor(token: string): Promise<Map<string, KeyObject>> {
    let kid: string | undefined;
    try {
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return this.keys;
    }
    if (kid && !this.keys.has(kid) && Date.now() - this.keysReadAt > KEY_RELOAD_MS) await this.reloadKeys();
    return this.keys;
  }

  private async reloadKeys(): Promise<void> {
    this.keysReadAt = Date.now();
    this.keys = verificationKeys((await this.store.serviceAccountVerificationKeys()) ?? '');
  }
}
