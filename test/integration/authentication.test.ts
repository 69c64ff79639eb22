// Authentication of the secured API, as a user meets it with curl and the real kubectl: HTTPS
// under the cluster CA only, 401 for no credentials and for a wrong token (health and version
// excepted), the admin token, an X.509 client certificate the cluster CA signed (CN=jane, O=devs),
// TokenReview and SelfSubjectReview (`kubectl auth whoami`), the serving certificate's names,
// two API servers started at once on a new cluster serving one CA, and the node agent's endpoint,
// which answers the API server's client certificate and nobody else's.
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually, freePort, startCluster, type Cluster } from '../helpers/cluster.ts';
import { kubectlRunner } from '../helpers/kubectl.ts';
import { Keys } from '../../shared/keys.ts';
import { generateCa, issueCertificate, type CertificateAndKey } from '../../shared/auth/pki.ts';
import { kubeconfigYaml, parseKubeconfig } from '../../shared/auth/kubeconfig.ts';
import { tokenDigest } from '../../shared/auth/cluster-credentials.ts';
import { hostIPv4 } from '../../shared/util.ts';

const work = mkdtempSync(join(tmpdir(), 'wharf-authn-'));
const NODE = 'authn-node';
let cluster: Cluster;
let redis: Redis;
let jane: CertificateAndKey;
const kubectl = kubectlRunner(() => ({ cacheDir: join(work, 'cache'), kubeconfig: cluster.kubeconfig }));

const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

interface Curl {
  status: number;
  body: any;
  stderr: string;
}

/** The real curl: its HTTP status and the body (parsed when JSON). */
function curl(args: string[]): Promise<Curl> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', '-w', '\n%{http_code}', ...args], (_err, stdout, stderr) => {
      const text = String(stdout);
      const nl = text.lastIndexOf('\n');
      const raw = text.slice(0, nl);
      let body: any = raw;
      try {
        body = JSON.parse(raw);
      } catch {
        /* not JSON */
      }
      resolve({ status: Number(text.slice(nl + 1)), body, stderr: String(stderr) });
    });
  });
}

const caFile = () => join(cluster.dir, 'ca.crt');
const url = (path: string) => `${cluster.apiUrls[0]}${path}`;

test.before(async () => {
  cluster = await startCluster({ schedulers: 1, controllerManagers: 0, agents: [{ WHARF_NODE_NAME: NODE, WHARF_RUNTIME: 'simulated' }] });
  redis = new Redis(cluster.redis.url);
  // The administrator signs a user's certificate with the cluster CA's key, as with kubeadm's CA.
  const keys = new Keys(cluster.prefix);
  const caKey = await redis.hget(keys.clusterPrivateCredentials, 'ca.key');
  jane = issueCertificate({ cert: cluster.ca, key: caKey! }, { commonName: 'jane', organizations: ['devs'], usages: ['client'] });
  writeFileSync(join(work, 'jane.crt'), jane.cert);
  writeFileSync(join(work, 'jane.key'), jane.key);
});

test.after.always(async () => {
  redis?.disconnect();
  await cluster?.stop();
  rmSync(work, { recursive: true, force: true });
});

test('curl without credentials gets 401 as Kubernetes words it; health and version stay open', async (t) => {
  for (const path of ['/api/v1/namespaces/default/secrets', '/api', '/apis', '/openapi/v3', '/metrics', '/', '/apis/authentication.k8s.io/v1/selfsubjectreviews']) {
    const r = await curl(['--cacert', caFile(), url(path)]);
    t.is(r.status, 401, `${path} ${r.stderr}`);
    t.deepEqual(r.body, UNAUTHORIZED, path);
  }
  for (const path of ['/healthz', '/livez', '/readyz']) {
    const r = await curl(['--cacert', caFile(), url(path)]);
    t.is(r.status, 200, path);
    t.is(r.body, 'ok', path);
  }
  const version = await curl(['--cacert', caFile(), url('/version')]);
  t.is(version.status, 200);
  t.like(version.body, { major: '1', minor: '32' });
});

test('a wrong token is 401 everywhere, health included; the admin token is 200', async (t) => {
  for (const path of ['/api/v1/namespaces', '/healthz', '/version']) {
    const r = await curl(['--cacert', caFile(), '-H', 'Authorization: Bearer garbage', url(path)]);
    t.is(r.status, 401, path);
    t.deepEqual(r.body, UNAUTHORIZED, path);
  }
  // The digest of the token is not a token.
  const digest = await curl(['--cacert', caFile(), '-H', `Authorization: Bearer ${tokenDigest(cluster.adminToken)}`, url('/api/v1/namespaces')]);
  t.is(digest.status, 401);
  const admin = await curl(['--cacert', caFile(), '-H', `Authorization: Bearer ${cluster.adminToken}`, url('/api/v1/namespaces/default/secrets')]);
  t.is(admin.status, 200, admin.stderr);
  t.is(admin.body.kind, 'SecretList');
});

test('HTTPS only, under the cluster CA: plain HTTP is no API, and a client trusting other CAs refuses the server', async (t) => {
  const plain = await curl([url('/healthz').replace('https://', 'http://')]);
  t.not(plain.status, 200);
  const untrusted = await curl([url('/healthz')]);
  t.is(untrusted.status, 0);
  t.regex(untrusted.stderr, /certificate/i);
});

test('the serving certificate holds the kubernetes Service\'s IP and DNS names, loopback, and chains to the cluster CA', async (t) => {
  const peer = await new Promise<PeerCertificate>((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port: Number(new URL(cluster.apiUrls[0]).port), ca: cluster.ca, servername: 'kubernetes.default.svc' }, () => {
      resolve(socket.getPeerCertificate());
      socket.end();
    });
    socket.on('error', reject);
  });
  const serviceIp = (await cluster.api.get('/api/v1/namespaces/default/services/kubernetes')).body.spec.clusterIP;
  const sans = (peer.subjectaltname ?? '').split(', ');
  for (const san of ['DNS:kubernetes', 'DNS:kubernetes.default', 'DNS:kubernetes.default.svc', 'DNS:kubernetes.default.svc.cluster.local', 'DNS:localhost', 'IP Address:127.0.0.1', `IP Address:${serviceIp}`]) {
    t.true(sans.includes(san), `${san} in ${peer.subjectaltname}`);
  }
  t.is(peer.issuer.CN, 'wharf-ca');
});

test('an X.509 client certificate the cluster CA signed is user jane in group devs; another CA\'s is 401', async (t) => {
  const review = await curl(['--cacert', caFile(), '--cert', join(work, 'jane.crt'), '--key', join(work, 'jane.key'), '-X', 'POST', '-H', 'Content-Type: application/json',
    '-d', JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }), url('/apis/authentication.k8s.io/v1/selfsubjectreviews')]);
  t.is(review.status, 201, review.stderr);
  t.like(review.body, { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview', status: { userInfo: { username: 'jane', groups: ['devs', 'system:authenticated'] } } });

  const foreignCa = generateCa('not-the-cluster');
  const mallory = issueCertificate(foreignCa, { commonName: 'mallory', organizations: ['system:masters'], usages: ['client'] });
  writeFileSync(join(work, 'mallory.crt'), mallory.cert);
  writeFileSync(join(work, 'mallory.key'), mallory.key);
  const refused = await curl(['--cacert', caFile(), '--cert', join(work, 'mallory.crt'), '--key', join(work, 'mallory.key'), url('/api/v1/namespaces')]);
  t.is(refused.status, 401);
  t.deepEqual(refused.body, UNAUTHORIZED);
});

test('kubectl auth whoami: the admin through the cluster\'s kubeconfig, jane through a kubeconfig with her certificate', async (t) => {
  const admin = await kubectl(['auth', 'whoami']);
  t.is(admin.stdout, 'ATTRIBUTE   VALUE\nUsername    system:admin\nGroups      [system:masters system:authenticated]\n', admin.stderr);
  const asJson = await kubectl(['auth', 'whoami', '-o', 'json']);
  t.like(JSON.parse(asJson.stdout), { kind: 'SelfSubjectReview', apiVersion: 'authentication.k8s.io/v1', status: { userInfo: { username: 'system:admin' } } });

  const janeConfig = join(work, 'jane.kubeconfig');
  writeFileSync(janeConfig, [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    `- name: wharf\n  cluster:\n    server: ${cluster.apiUrls[0]}\n    certificate-authority-data: ${Buffer.from(cluster.ca).toString('base64')}`,
    'users:',
    `- name: jane\n  user:\n    client-certificate-data: ${Buffer.from(jane.cert).toString('base64')}\n    client-key-data: ${Buffer.from(jane.key).toString('base64')}`,
    'contexts:',
    '- name: jane\n  context:\n    cluster: wharf\n    user: jane',
    'current-context: jane',
    '',
  ].join('\n'));
  const whoami = await kubectlRunner({ cacheDir: join(work, 'cache-jane'), kubeconfig: janeConfig })(['auth', 'whoami']);
  t.is(whoami.stdout, 'ATTRIBUTE   VALUE\nUsername    jane\nGroups      [devs system:authenticated]\n', whoami.stderr);

  // A kubeconfig with a wrong token: kubectl 1.32 reports Kubernetes' 401 so.
  const wrong = join(work, 'wrong.kubeconfig');
  writeFileSync(wrong, kubeconfigYaml({ server: cluster.apiUrls[0], caPem: cluster.ca, token: 'not-the-token' }));
  const refused = await kubectlRunner({ cacheDir: join(work, 'cache-wrong'), kubeconfig: wrong })(['get', 'pods']);
  t.is(refused.code, 1);
  t.regex(refused.stderr, /\nerror: You must be logged in to the server \(the server has asked for the client to provide credentials\)\n$/);
});

test('TokenReview: kubectl create shows who a token is, or that it is not one; a token is required', async (t) => {
  const review = (token: string) => `apiVersion: authentication.k8s.io/v1\nkind: TokenReview\nspec:\n  token: "${token}"\n`;
  const admin = await kubectl(['create', '-f', '-', '-o', 'json'], { input: review(cluster.adminToken) });
  t.is(admin.code, 0, admin.stderr);
  t.deepEqual(JSON.parse(admin.stdout).status, { authenticated: true, user: { username: 'system:admin', groups: ['system:masters', 'system:authenticated'] } });
  const bad = await kubectl(['create', '-f', '-', '-o', 'json'], { input: review('garbage') });
  t.is(bad.code, 0, bad.stderr);
  t.deepEqual(JSON.parse(bad.stdout).status, { user: {}, error: 'invalid bearer token' });
  const empty = await cluster.api.post('/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: {} });
  t.like(empty, { status: 400, body: { reason: 'BadRequest', message: 'token is required for TokenReview in authentication' } });
  const unknownField = await cluster.api.post('/apis/authentication.k8s.io/v1/tokenreviews?fieldValidation=Strict', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'x', tokn: 'y' } });
  t.like(unknownField, { status: 400, body: { message: 'TokenReview in version "v1" cannot be handled as a TokenReview: strict decoding error: unknown field "spec.tokn"' } });
  // Created and answered, never stored: there is nothing to get, list or delete.
  t.like(await cluster.api.get('/apis/authentication.k8s.io/v1/tokenreviews'), { status: 405, body: { reason: 'MethodNotAllowed' } });
  t.like(await cluster.api.get('/apis/authentication.k8s.io/v1/tokenreviews/x'), { status: 404 });
  // An anonymous client may not ask.
  t.like(await cluster.api.as({}).post('/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: cluster.adminToken } }), { status: 401, body: UNAUTHORIZED });
});

test('discovery and OpenAPI serve authentication.k8s.io/v1 with its create-only kinds', async (t) => {
  const list = await cluster.api.get('/apis/authentication.k8s.io/v1');
  t.deepEqual(list.body.resources.map((r: any) => [r.name, r.kind, r.namespaced, r.verbs]), [
    ['tokenreviews', 'TokenReview', false, ['create']],
    ['selfsubjectreviews', 'SelfSubjectReview', false, ['create']],
  ]);
  t.true((await cluster.api.get('/apis')).body.groups.some((g: any) => g.name === 'authentication.k8s.io'));
  const index = (await cluster.api.get('/openapi/v3')).body.paths['apis/authentication.k8s.io/v1'];
  const doc = (await cluster.api.get(index.serverRelativeURL)).body;
  // A POST; the PATCH is there only to tell kubectl the server validates fields (it is answered 405).
  t.deepEqual(Object.keys(doc.paths['/apis/authentication.k8s.io/v1/tokenreviews']), ['post', 'patch']);
  t.like(await cluster.api.patch('/apis/authentication.k8s.io/v1/tokenreviews', {}), { status: 405 });
  t.false('/apis/authentication.k8s.io/v1/tokenreviews/{name}' in doc.paths);
  t.truthy(doc.components.schemas['io.k8s.api.authentication.v1.TokenReview'].properties.spec);
  const explain = await kubectl(['explain', 'selfsubjectreview.status.userInfo']);
  t.regex(explain.stdout, /username\s+<string>/, explain.stderr);
});

test('two API servers started at once on a new cluster make and serve one CA', async (t) => {
  const prefix = `race${Date.now().toString(36)}`;
  const started = await Promise.all([0, 1].map(async (i) => {
    const port = await freePort();
    const kubeconfig = join(work, `race-${i}.kubeconfig`);
    // As Redis' administrator: the cluster's own API user reaches only its prefix's keys.
    cluster.start('api', { REDIS_URL: cluster.env.REDIS_URL, WHARF_KEY_PREFIX: prefix, WHARF_API_PORT: String(port), WHARF_API_WRITE_KUBECONFIG: kubeconfig }, `api-race-${i}`);
    return { port, kubeconfig };
  }));
  await eventually(() => started.every((s) => existsSync(s.kubeconfig)), { timeoutMs: 90_000, message: 'both kubeconfigs written', detail: cluster.dumpLogs });
  const [a, b] = started.map((s) => parseKubeconfig(readFileSync(s.kubeconfig, 'utf8')));
  t.is(a.caPem, b.caPem, 'one CA');
  t.not(a.caPem, cluster.ca, 'a new cluster (prefix) has a CA of its own');
  t.is(await redis.hget(new Keys(prefix).clusterPublicCredentials, 'ca.crt'), a.caPem);
  // Each serves under a certificate of that CA: a client trusting only it reaches both.
  for (const s of started) {
    await eventually(async () => (await cluster.client(`https://127.0.0.1:${s.port}`, { ca: a.caPem, token: cluster.adminToken }).get('/api/v1/namespaces/default')).status === 200, { timeoutMs: 20_000, message: `api on ${s.port}` });
  }
});

/** The node agent's endpoint, as it advertises it in Redis (host:port). */
async function agentEndpoint(): Promise<{ host: string; port: number }> {
  const endpoint = await eventually(() => redis.hget(new Keys(cluster.prefix).agentEndpoints, NODE).then((e) => e ?? undefined), { timeoutMs: 20_000, message: 'the agent endpoint' });
  const [host, port] = endpoint.split(':');
  return { host, port: Number(port) };
}

test('the node agent answers the API server only: no certificate 401, a user\'s certificate 403; kubectl logs goes through', async (t) => {
  await cluster.waitForNodes([NODE]);
  const { host, port } = await agentEndpoint();
  const agent = (path: string) => `https://${host}:${port}${path}`;
  const path = '/containerLogs/default/logged/c';

  const created = await cluster.api.post('/api/v1/namespaces/default/pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'logged' }, spec: { nodeName: NODE, containers: [{ name: 'c', image: 'busybox:latest' }] } });
  t.is(created.status, 201, JSON.stringify(created.body));
  await eventually(async () => (await cluster.api.get('/api/v1/namespaces/default/pods/logged')).body.status?.phase === 'Running', { timeoutMs: 20_000, message: 'pod logged Running' });
  const logs = await kubectl(['logs', 'logged']);
  t.is(logs.stdout, 'simulated container c\n', logs.stderr);

  // Wait until the agent trusts the CA (it reads it once an API server has made it), then knock without credentials.
  const anonymous = await curl(['-k', agent(path)]);
  t.is(anonymous.status, 401, anonymous.stderr);
  t.is(anonymous.body, 'Unauthorized');
  const asJane = await curl(['-k', '--cert', join(work, 'jane.crt'), '--key', join(work, 'jane.key'), agent(path)]);
  t.is(asJane.status, 403);
  t.regex(asJane.body, /^Forbidden \(user=jane/);
  const asApiServerIdentity = issueCertificate({ cert: cluster.ca, key: (await redis.hget(new Keys(cluster.prefix).clusterPrivateCredentials, 'ca.key'))! }, { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'], usages: ['client'] });
  writeFileSync(join(work, 'kubelet-client.crt'), asApiServerIdentity.cert);
  writeFileSync(join(work, 'kubelet-client.key'), asApiServerIdentity.key);
  const trusted = await curl(['-k', '--cert', join(work, 'kubelet-client.crt'), '--key', join(work, 'kubelet-client.key'), agent(path)]);
  t.is(trusted.status, 200, JSON.stringify(trusted.body));
  t.is(trusted.body, 'simulated container c\n');

  // It listens on the node's address (127.0.0.1 here), not on every address of the host.
  t.is(host, '127.0.0.1');
  const other = hostIPv4();
  if (other) {
    const reachable = await new Promise<boolean>((resolve) => {
      const socket = tcpConnect(port, other);
      socket.on('connect', () => (socket.destroy(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    t.false(reachable, `the agent port answers on ${other}`);
  }
});
