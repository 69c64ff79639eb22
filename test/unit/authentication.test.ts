// Authentication's decisions (services/api/authentication.ts): which credential a request carries,
// the user it names, the union's rule (a refused credential does not stop the next; refused with
// none accepted is 401), the anonymous paths, and the admin token's digest cache. The requests are
// plain objects shaped as Node's; the store holding the digest is a small fake of its two methods.
import test from 'ava';
import type { IncomingMessage } from 'node:http';
import { AUTHENTICATED, type TokenAuthenticator, type UserInfo } from '../../shared/auth/user.ts';
import { tokenDigest, digestsEqual, newToken, CREDENTIAL_FIELDS } from '../../shared/auth/cluster-credentials.ts';
import type { Store } from '../../shared/store/store.ts';
import {
  AdminTokenAuthenticator,
  RequestAuthenticator,
  bearerTokenOf,
  isPublicInfoPath,
  userFromCertificateSubject,
  withAuthenticatedGroup,
} from '../../services/api/authentication.ts';

test('bearerTokenOf: the token of "Bearer <token>", any case of the scheme; nothing for other schemes or none', (t) => {
  t.is(bearerTokenOf('Bearer abc'), 'abc');
  t.is(bearerTokenOf('bearer abc'), 'abc');
  t.is(bearerTokenOf('BEARER abc extra'), 'abc');
  t.is(bearerTokenOf('Basic dXNlcjpwdw=='), undefined);
  t.is(bearerTokenOf('Bearer'), undefined);
  t.is(bearerTokenOf('Bearer '), undefined);
  t.is(bearerTokenOf(''), undefined);
  t.is(bearerTokenOf(undefined), undefined);
});

test('a client certificate\'s CN is the user, its Os the groups; no CN, no user', (t) => {
  t.deepEqual(userFromCertificateSubject({ CN: 'jane', O: ['devs', 'ops'] }), { username: 'jane', groups: ['devs', 'ops'] });
  t.deepEqual(userFromCertificateSubject({ CN: 'jane', O: 'devs' }), { username: 'jane', groups: ['devs'] });
  t.deepEqual(userFromCertificateSubject({ CN: 'jane' }), { username: 'jane', groups: [] });
  t.deepEqual(userFromCertificateSubject({ CN: ['first', 'last'] }), { username: 'last', groups: [] }, 'Go keeps the last CN');
  t.is(userFromCertificateSubject({ O: 'devs' }), undefined);
  t.is(userFromCertificateSubject(undefined), undefined);
});

test('system:authenticated is added once, and never to the anonymous user', (t) => {
  t.deepEqual(withAuthenticatedGroup({ username: 'jane', groups: ['devs'] }).groups, ['devs', AUTHENTICATED]);
  t.deepEqual(withAuthenticatedGroup({ username: 'jane', groups: [AUTHENTICATED] }).groups, [AUTHENTICATED]);
  t.deepEqual(withAuthenticatedGroup({ username: 'system:anonymous', groups: ['system:unauthenticated'] }).groups, ['system:unauthenticated']);
});

test('only the health and version paths are open without credentials', (t) => {
  for (const path of ['/healthz', '/livez', '/readyz', '/version', '/version/']) t.true(isPublicInfoPath(path), path);
  for (const path of ['/', '/api', '/apis', '/openapi/v3', '/metrics', '/api/v1/secrets', '/healthz/../api', '/versions']) t.false(isPublicInfoPath(path), path);
});

/** A request as Node hands it over TLS: headers, and a socket that may carry a verified certificate. */
function request(opts: { authorization?: string; cert?: { CN?: string | string[]; O?: string | string[] }; authorized?: boolean; authorizationError?: string } = {}): IncomingMessage {
  return {
    headers: opts.authorization ? { authorization: opts.authorization } : {},
    socket: {
      getPeerCertificate: () => (opts.cert ? { subject: opts.cert } : {}),
      authorized: opts.authorized ?? false,
      authorizationError: opts.authorizationError,
    },
  } as unknown as IncomingMessage;
}

const alice: UserInfo = { username: 'alice', groups: ['team'] };
const knowsAlice: TokenAuthenticator = async (token) => (token === 'alice-token' ? alice : undefined);
const refusesExpired: TokenAuthenticator = async (token) => {
  if (token.startsWith('expired.')) throw new Error('token has expired');
  return undefined;
};

test('the token chain: the first authenticator that knows the token names the user, with system:authenticated', async (t) => {
  const auth = new RequestAuthenticator([refusesExpired, knowsAlice]);
  t.deepEqual(await auth.authenticateRequest(request({ authorization: 'Bearer alice-token' })), { user: { username: 'alice', groups: ['team', AUTHENTICATED] } });
  t.deepEqual(await auth.authenticateRequest(request({ authorization: 'Bearer nobody' })), { refused: 'invalid bearer token' });
  // An authenticator that recognises a token as its own and refuses it ends the chain.
  t.deepEqual(await auth.authenticateRequest(request({ authorization: 'Bearer expired.x' })), { refused: 'token has expired' });
  t.deepEqual(await auth.authenticateRequest(request()), { none: true });
  t.deepEqual(await auth.authenticateRequest(request({ authorization: 'Basic x' })), { none: true }, 'another scheme is no credential');
});

test('a verified client certificate wins; an unverified one is refused unless a token is accepted', async (t) => {
  const auth = new RequestAuthenticator([knowsAlice]);
  t.deepEqual(await auth.authenticateRequest(request({ cert: { CN: 'jane', O: 'devs' }, authorized: true, authorization: 'Bearer alice-token' })), { user: { username: 'jane', groups: ['devs', AUTHENTICATED] } });
  t.deepEqual(await auth.authenticateRequest(request({ cert: { CN: 'mallory' }, authorized: false, authorizationError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' })), { refused: 'x509: UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
  t.deepEqual(await auth.authenticateRequest(request({ cert: { CN: 'mallory' }, authorized: false, authorization: 'Bearer alice-token' })), { user: { username: 'alice', groups: ['team', AUTHENTICATED] } });
  t.deepEqual(await auth.authenticateRequest(request({ cert: { CN: 'mallory' }, authorized: false, authorization: 'Bearer wrong' })), { refused: 'x509: certificate not verified; invalid bearer token' });
  // A verified certificate without a CN names nobody: the token is tried.
  t.deepEqual(await auth.authenticateRequest(request({ cert: { O: 'devs' }, authorized: true })), { none: true });
});

test('TokenReview answers who a token is, or why not; SelfSubjectReview who asks', async (t) => {
  const reviews = new RequestAuthenticator([refusesExpired, knowsAlice]).reviews();
  const review = (token: string) => reviews.TokenReview({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', metadata: {}, spec: { token } } as any, { user: alice });
  t.deepEqual((await review('alice-token')).status, { authenticated: true, user: { username: 'alice', groups: ['team', AUTHENTICATED] } });
  t.deepEqual((await review('expired.y')).status, { user: {}, error: 'token has expired' });
  t.deepEqual((await review('nobody')).status, { user: {}, error: 'invalid bearer token' });
  await t.throwsAsync(() => review(''), { message: 'token is required for TokenReview in authentication' });
  const self = await reviews.SelfSubjectReview({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', metadata: {} } as any, { user: { username: 'sa', uid: 'u-1', groups: ['g'], extra: { scope: ['a'] } } });
  t.deepEqual(self.status, { userInfo: { username: 'sa', uid: 'u-1', groups: ['g'], extra: { scope: ['a'] } } });
  t.regex(String(self.metadata.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

/** The two store methods the admin token's authenticator uses, over a map; `down` makes reads fail as an outage would. */
function fakeStore() {
  const fields = new Map<string, string>();
  const state = { reads: 0, down: false };
  const store = {
    async privateCredential(field: string) {
      state.reads++;
      if (state.down) throw new Error('Connection is closed.');
      return fields.get(field) ?? null;
    },
    async setPrivateCredential(field: string, value: string) {
      fields.set(field, value);
    },
  } as unknown as Store;
  return { store, fields, state };
}

test('the admin token: accepted by its digest, which is all the store holds', async (t) => {
  const { store, fields } = fakeStore();
  const token = newToken();
  t.regex(token, /^[0-9a-f]{64}$/);
  await new AdminTokenAuthenticator(store).register(token);
  t.is(fields.get(CREDENTIAL_FIELDS.adminTokenDigest), tokenDigest(token));
  t.false([...fields.values()].some((v) => v.includes(token)));
  // Another replica, which never saw the token, accepts it from the digest.
  const replica = new AdminTokenAuthenticator(store);
  t.like(await replica.authenticate(token), { username: 'system:admin', groups: ['system:masters', AUTHENTICATED] });
  t.is(await replica.authenticate(`${token}x`), undefined);
  t.true(digestsEqual(tokenDigest('a'), tokenDigest('a')));
  t.false(digestsEqual(tokenDigest('a'), tokenDigest('b')));
});

test('the admin token: a rotated token is accepted at once, the old one within the cache\'s term; an outage keeps the known digest', async (t) => {
  const { store, state } = fakeStore();
  let now = 1_000_000;
  const clock = () => now;
  const oldToken = newToken();
  await new AdminTokenAuthenticator(store, clock).register(oldToken);
  const replica = new AdminTokenAuthenticator(store, clock);
  t.truthy(await replica.authenticate(oldToken));

  // Another replica rotates the token: a request with the new one makes this replica read again.
  const newer = newToken();
  await new AdminTokenAuthenticator(store, clock).register(newer);
  now += 1_500;
  t.truthy(await replica.authenticate(newer));
  // The old digest is gone from this replica too.
  t.is(await replica.authenticate(oldToken), undefined);

  // Strangers' tokens read the store at most once a second.
  const before = state.reads;
  for (let i = 0; i < 20; i++) await replica.authenticate(`stranger-${i}`);
  t.true(state.reads - before <= 1, `${state.reads - before} reads`);

  // Redis away: the digest known still admits the admin, stale reads or not.
  state.down = true;
  now += 60_000;
  t.truthy(await replica.authenticate(newer));
  now += 2_000;
  t.is(await replica.authenticate('wrong'), undefined);
  // With no digest known yet, an outage is the request's failure (503), not a 401.
  const fresh = new AdminTokenAuthenticator(store, clock);
  await t.throwsAsync(() => fresh.authenticate(newer), { message: 'Connection is closed.' });
});
