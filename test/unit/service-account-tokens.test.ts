// ServiceAccount tokens without Redis: the claims Kubernetes puts in a bound token, signing and
// verification (issuer, audience, lifetime with go-jose's minute of leeway, signature, key id), the
// check that what a token names still exists, and the signing key made once for every API server.
import test from 'ava';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { KubeObject } from '../../shared/types.ts';
import {
  DEFAULT_ISSUER,
  ServiceAccountTokens,
  TokenRejectedError,
  generateSigningKey,
  keyIdOf,
  tokenClaims,
  validateTokenObjects,
  verificationKeys,
  verifyToken,
  type TokenKeyStore,
} from '../../shared/auth/service-account-tokens.ts';
import { createPrivateKey } from 'node:crypto';

/** The store's credential hashes and objects, in memory: a fake for the pure logic only. */
class FakeStore implements TokenKeyStore {
  readonly hashes = { private: new Map<string, string>(), public: new Map<string, string>() };
  readonly objects = new Map<string, KubeObject>();
  async serviceAccountSigningKey() {
    return this.hashes.private.get('sa.key') ?? null;
  }
  async initServiceAccountSigningKey(pem: string) {
    if (!this.hashes.private.has('sa.key')) this.hashes.private.set('sa.key', pem);
    return this.hashes.private.get('sa.key')!;
  }
  async serviceAccountVerificationKeys() {
    return this.hashes.public.get('sa.pub') ?? null;
  }
  async publishServiceAccountVerificationKey(pem: string) {
    const current = this.hashes.public.get('sa.pub') ?? '';
    if (!current.includes(pem.trim())) this.hashes.public.set('sa.pub', `${current}${pem.trim()}\n`);
  }
  async get(resource: string, namespace: string | undefined, name: string) {
    return this.objects.get(`${resource}/${namespace ?? ''}/${name}`) ?? null;
  }
  put(resource: string, namespace: string | undefined, name: string, uid: string, extra: Partial<KubeObject['metadata']> = {}) {
    this.objects.set(`${resource}/${namespace ?? ''}/${name}`, { apiVersion: 'v1', kind: 'X', metadata: { name, namespace, uid, ...extra } });
  }
}

const settings = { issuer: DEFAULT_ISSUER, apiAudiences: [DEFAULT_ISSUER], maxExpirationSeconds: 0 };
const sa = { name: 'robot', uid: 'sa-uid' };

async function cluster() {
  const store = new FakeStore();
  store.put('serviceaccounts', 'ns', 'robot', 'sa-uid');
  const tokens = new ServiceAccountTokens(store, settings);
  await tokens.init();
  const keys = verificationKeys((await store.serviceAccountVerificationKeys())!);
  return { store, tokens, keys };
}

test('the claims of a bound token are Kubernetes\': sub, aud, iat = nbf, exp, jti, and kubernetes.io with the bound pod and its node', (t) => {
  const claims = tokenClaims({ namespace: 'ns', serviceAccount: sa, pod: { name: 'p', uid: 'pod-uid' }, node: { name: 'n1', uid: 'node-uid' } }, DEFAULT_ISSUER, ['api'], 3607, 1000, 'id-1');
  t.deepEqual(claims, {
    aud: ['api'], exp: 4607, iat: 1000, nbf: 1000, iss: DEFAULT_ISSUER, jti: 'id-1', sub: 'system:serviceaccount:ns:robot',
    'kubernetes.io': { namespace: 'ns', serviceaccount: { name: 'robot', uid: 'sa-uid' }, pod: { name: 'p', uid: 'pod-uid' }, node: { name: 'n1', uid: 'node-uid' } },
  });
  t.deepEqual(tokenClaims({ namespace: 'ns', serviceAccount: sa }, DEFAULT_ISSUER, ['api'], 600, 0, 'x')['kubernetes.io'], { namespace: 'ns', serviceaccount: { name: 'robot', uid: 'sa-uid' } });
  t.deepEqual(tokenClaims({ namespace: 'ns', serviceAccount: sa, secret: { name: 's', uid: 'su' } }, DEFAULT_ISSUER, ['api'], 600, 0, 'x')['kubernetes.io'].secret, { name: 's', uid: 'su' });
  t.deepEqual(tokenClaims({ namespace: 'ns', serviceAccount: sa, node: { name: 'n', uid: 'nu' } }, DEFAULT_ISSUER, ['api'], 600, 0, 'x')['kubernetes.io'].node, { name: 'n', uid: 'nu' });
});

test('the signing key is made once: a second API server signs with the first one\'s key, and sa.pub holds its public half once', async (t) => {
  const { store, tokens } = await cluster();
  const second = new ServiceAccountTokens(store, settings);
  await second.init();
  const a = await tokens.issue({ namespace: 'ns', serviceAccount: sa }, [DEFAULT_ISSUER], 600);
  const b = await second.issue({ namespace: 'ns', serviceAccount: sa }, [DEFAULT_ISSUER], 600);
  t.is(decodeProtectedHeader(a.token).kid, decodeProtectedHeader(b.token).kid);
  t.is(decodeProtectedHeader(a.token).kid, keyIdOf(createPrivateKey((await store.serviceAccountSigningKey())!)));
  t.is(((await store.serviceAccountVerificationKeys())!.match(/BEGIN PUBLIC KEY/g) ?? []).length, 1);
  // A key that lost the race is not used: the stored one wins.
  t.is(await store.initServiceAccountSigningKey(generateSigningKey()), (await store.serviceAccountSigningKey())!);
});

test('verification: issuer, audience, lifetime (a minute of leeway), signature and key id', async (t) => {
  const { tokens, keys } = await cluster();
  const now = Math.floor(Date.now() / 1000);
  const opts = { issuer: DEFAULT_ISSUER, audiences: [DEFAULT_ISSUER] };
  const { token } = await tokens.issue({ namespace: 'ns', serviceAccount: sa }, [DEFAULT_ISSUER], 600, now * 1000);
  t.like(await verifyToken(token, keys, opts), { sub: 'system:serviceaccount:ns:robot' });
  t.like(await verifyToken(token, keys, { ...opts, nowSeconds: now + 600 + 59 }), { sub: 'system:serviceaccount:ns:robot' }, 'within the leeway');
  await t.throwsAsync(verifyToken(token, keys, { ...opts, nowSeconds: now + 600 + 61 }), { instanceOf: TokenRejectedError, message: 'service account token has expired' });
  await t.throwsAsync(verifyToken(token, keys, { ...opts, nowSeconds: now - 120 }), { instanceOf: TokenRejectedError, message: 'service account token is not valid yet' });
  await t.throwsAsync(verifyToken(token, keys, { ...opts, audiences: ['vault'] }), { instanceOf: TokenRejectedError, message: /token audiences \["https:\/\/kubernetes.default.svc.cluster.local"\] is invalid for the target audiences \["vault"\]/ });
  const [h, p] = token.split('.');
  const forged = `${h}.${Buffer.from(JSON.stringify({ ...decodeJwt(token), sub: 'system:serviceaccount:kube-system:admin' })).toString('base64url')}.${token.split('.')[2]}`;
  void p;
  await t.throwsAsync(verifyToken(forged, keys, opts), { instanceOf: TokenRejectedError, message: 'invalid signature' });
  // Another cluster's key (same issuer): its key id is unknown here.
  const other = await cluster();
  const foreign = (await other.tokens.issue({ namespace: 'ns', serviceAccount: sa }, [DEFAULT_ISSUER], 600)).token;
  await t.throwsAsync(verifyToken(foreign, keys, opts), { instanceOf: TokenRejectedError, message: /no key of this cluster/ });
  // Not this authenticator's: another issuer, or no JWT at all.
  t.is(await verifyToken(foreign, keys, { ...opts, issuer: 'https://elsewhere' }), undefined);
  t.is(await verifyToken('0123456789abcdef', keys, opts), undefined);
});

test('a verified token authenticates only while its ServiceAccount and bound object exist with the uids it names', async (t) => {
  const { store, tokens } = await cluster();
  const authenticate = tokens.authenticator();
  store.put('pods', 'ns', 'p', 'pod-uid');
  const { token, claims } = await tokens.issue({ namespace: 'ns', serviceAccount: sa, pod: { name: 'p', uid: 'pod-uid' }, node: { name: 'n1' } }, [DEFAULT_ISSUER], 600);
  t.deepEqual(await authenticate(token), {
    username: 'system:serviceaccount:ns:robot',
    uid: 'sa-uid',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
    extra: {
      'authentication.kubernetes.io/node-name': ['n1'],
      'authentication.kubernetes.io/pod-name': ['p'],
      'authentication.kubernetes.io/pod-uid': ['pod-uid'],
      'authentication.kubernetes.io/credential-id': [`JTI=${claims.jti}`],
    },
  });
  const now = Date.now();
  // Marked for deletion a moment ago: still valid (Kubernetes' leeway); a minute ago: not.
  store.put('pods', 'ns', 'p', 'pod-uid', { deletionTimestamp: new Date(now - 30_000).toISOString() });
  t.truthy(await validateTokenObjects(claims, store, now));
  store.put('pods', 'ns', 'p', 'pod-uid', { deletionTimestamp: new Date(now - 61_000).toISOString() });
  await t.throwsAsync(validateTokenObjects(claims, store, now), { message: 'service account token has been invalidated' });
  store.put('pods', 'ns', 'p', 'new-uid');
  await t.throwsAsync(authenticate(token), { message: 'pod UID (new-uid) does not match service account pod ref claim (pod-uid)' });
  store.objects.delete('pods/ns/p');
  await t.throwsAsync(authenticate(token), { message: 'service account token has been invalidated' });

  const plain = (await tokens.issue({ namespace: 'ns', serviceAccount: sa }, [DEFAULT_ISSUER], 600)).token;
  store.put('serviceaccounts', 'ns', 'robot', 'other-uid');
  await t.throwsAsync(authenticate(plain), { message: 'service account UID (other-uid) does not match claim (sa-uid)' });
  store.objects.delete('serviceaccounts/ns/robot');
  await t.throwsAsync(authenticate(plain), { message: 'serviceaccounts "robot" not found' });
});

test('a token bound to a node or a secret lives as long as it does', async (t) => {
  const { store, tokens } = await cluster();
  const authenticate = tokens.authenticator();
  store.put('nodes', undefined, 'n1', 'node-uid');
  store.put('secrets', 'ns', 's', 'secret-uid');
  const onNode = (await tokens.issue({ namespace: 'ns', serviceAccount: sa, node: { name: 'n1', uid: 'node-uid' } }, [DEFAULT_ISSUER], 600)).token;
  const onSecret = (await tokens.issue({ namespace: 'ns', serviceAccount: sa, secret: { name: 's', uid: 'secret-uid' } }, [DEFAULT_ISSUER], 600)).token;
  t.like(await authenticate(onNode), { extra: { 'authentication.kubernetes.io/node-name': ['n1'], 'authentication.kubernetes.io/node-uid': ['node-uid'] } });
  t.like(await authenticate(onSecret), { username: 'system:serviceaccount:ns:robot' });
  store.objects.delete('nodes//n1');
  store.objects.delete('secrets/ns/s');
  await t.throwsAsync(authenticate(onNode), { message: 'service account token has been invalidated' });
  await t.throwsAsync(authenticate(onSecret), { message: 'service account token has been invalidated' });
});
