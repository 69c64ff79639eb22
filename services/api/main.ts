// API server entry point: wires config, Redis, the store, the cluster's credentials and the HTTPS
// server together.
import { createServer } from 'node:https';
import { hostname } from 'node:os';
import { loadConfig } from '../../shared/config.ts';
import { createLogger } from '../../shared/log.ts';
import { failFastOptions, retryWhileRedisDown, untilReady } from '../../shared/redis.ts';
import { openStore } from '../../shared/store/open.ts';
import { answerMalformedRequests, createApiServer } from './server.ts';
import { WakeHub } from './watch.ts';
import { serveUpgrades } from './stream-tunnel.ts';
import { backfillObjectIndex, backfillServiceClaims, ensureDnsService, ensureKubernetesService, ensureSystemNamespaces } from './bootstrap.ts';
import { ApiServerEndpoints } from './apiserver-endpoints.ts';
import { hostIPv4 } from '../../shared/util.ts';
import { OpenApiV3 } from './openapi.ts';
import { CustomKindsSync } from '../../shared/store/custom-kinds-sync.ts';
import { WebhookConfigSync } from '../../shared/store/webhook-config-sync.ts';
import { AdmissionPolicySync } from '../../shared/store/admission-policy-sync.ts';
import { ServiceAccountTokens } from '../../shared/auth/service-account-tokens.ts';
import { PodTokenServer } from '../../shared/auth/token-queue.ts';
import { podTokenAnswerer } from './pod-tokens.ts';
import { ensureClusterCa } from '../../shared/auth/cluster-credentials.ts';
import { apiServingNames, issueCertificate, KUBELET_CLIENT } from '../../shared/auth/pki.ts';
import { kubeconfigYaml } from '../../shared/auth/kubeconfig.ts';
import { AdminTokenAuthenticator, RequestAuthenticator } from './authentication.ts';
import { loadOrCreateTokenFile, writeCredentialFile } from './admin-credentials.ts';
import { RbacCache } from './authz/rbac-cache.ts';
import { Authorizer } from './authz/authorizer.ts';
import { ensureRbacDefaults } from './authz/bootstrap-policy.ts';

const config = loadConfig();
const log = createLogger('api', config.common.logLevel);
// Requests fail fast while Redis is unreachable or hung (503/504), never queue for it.
const { connect, redis, keys, store } = openStore(config, log, { command: failFastOptions(config.api.redisTimeoutMs) });
// The wake readers block on XREAD: they keep ioredis' defaults and wait out an outage.
const hub = new WakeHub(keys, () => connect(), log, { stallTimeoutMs: config.api.watchStallTimeoutMs });
// The roles and bindings, followed by informers (each holds a connection blocked on XREAD).
const rbac = new RbacCache(store, () => connect(), log);

const tokens = new ServiceAccountTokens(store, {
  issuer: config.api.serviceAccountIssuer,
  apiAudiences: config.api.apiAudiences,
  maxExpirationSeconds: config.api.serviceAccountMaxTokenExpirationSeconds,
});
// Node agents' requests for their pods' tokens, answered by whichever API server pops them first.
const podTokens = new PodTokenServer(connect(), keys, podTokenAnswerer(store, tokens), (err) => log.warn({ err: err.message }, 'pod token request failed'));

// The connection queues nothing, so start-up waits for Redis itself, and starts over if it goes.
await untilReady(redis);
await retryWhileRedisDown(redis, async () => {
  await ensureSystemNamespaces(store, log);
  await backfillServiceClaims(store);
  await backfillObjectIndex(store, log);
  await ensureDnsService(store, config.network.dnsServiceIp, log);
  await ensureKubernetesService(store, config.network.kubernetesServiceIp, config.api.port, log);
  // The ServiceAccount signing key: made by the first API server, read by the others.
  await tokens.init();
  await ensureRbacDefaults(store, log);
});
podTokens.start();
// Requests are authorized from the cache: it holds every role and binding before the server listens.
await rbac.start();
const advertised = config.api.advertiseAddress ?? hostIPv4();
if (!advertised) log.warn('no address to advertise (WHARF_API_ADVERTISE_ADDRESS): this API server is not in the kubernetes Service\'s endpoints');

// The cluster CA (made by the first API server ever started), this server's serving certificate,
// and the client certificate it presents to node agents. Certificates are issued anew each start.
const admin = new AdminTokenAuthenticator(store);
const adminToken = config.api.adminTokenFile ? loadOrCreateTokenFile(config.api.adminTokenFile) : undefined;
if (adminToken?.created) log.info({ file: config.api.adminTokenFile }, 'made a new admin token');
const ca = await retryWhileRedisDown(redis, async () => {
  const held = await ensureClusterCa(store);
  if (held.created) log.info('made the cluster CA');
  if (adminToken) await admin.register(adminToken.token);
  return held;
});
const servingNames = apiServingNames({
  addresses: [advertised, config.api.host === '0.0.0.0' ? undefined : config.api.host, hostname(), ...config.api.tlsSans],
  kubernetesServiceIp: config.network.kubernetesServiceIp,
  clusterDomain: config.network.clusterDomain,
});
const serving = issueCertificate(ca, { commonName: 'kube-apiserver', usages: ['server'], ...servingNames });
const agentClient = issueCertificate(ca, { commonName: KUBELET_CLIENT.commonName, organizations: [...KUBELET_CLIENT.organizations], usages: ['client'] });
const authenticator = new RequestAuthenticator([admin.authenticate, tokens.authenticator()], log);

// The kinds CustomResourceDefinitions define, served from before the first request.
const customKinds = new CustomKindsSync(store, connect(), keys, log);
await retryWhileRedisDown(redis, () => customKinds.start());
// Admission webhooks, called by every write this server makes.
const webhookConfigs = new WebhookConfigSync(store, connect(), keys, log);
await retryWhileRedisDown(redis, () => webhookConfigs.start());
// Validating admission policies, enforced on every write this server makes.
const admissionPolicies = new AdmissionPolicySync(store, connect(), keys, log);
await retryWhileRedisDown(redis, () => admissionPolicies.start());

const app = createApiServer({
  store,
  redis,
  hub,
  log,
  maxBodyBytes: config.api.maxBodyBytes,
  advertiseAddress: () => `${config.api.host}:${config.api.port}`,
  openapi: new OpenApiV3(),
  requestTimeoutMs: config.api.requestTimeoutMs,
  authorizer: new Authorizer(rbac),
  authenticator,
  createOnly: { ...authenticator.reviews() },
  agentClient,
  tokens,
  resourceMetrics: { keys, maxAgeMs: config.api.metricsMaxAgeMs },
});
const endpoints = new ApiServerEndpoints({ store, log, address: advertised ? { ip: advertised, port: config.api.port } : undefined, ttlMs: config.api.endpointLeaseTtlMs });
const server = createServer({
  key: serving.key,
  cert: serving.cert,
  // Client certificates are asked for, never required (tokens and the public paths need none);
  // one the cluster CA did not issue is refused by authentication, not by the handshake.
  ca: [ca.cert],
  requestCert: true,
  rejectUnauthorized: false,
  // These bound receiving a request (a client that sends half its headers or body and stops is
  // cut off), not the response: a watch, whose request was received whole, stays open.
  requestTimeout: config.api.requestTimeoutMs,
  headersTimeout: Math.min(32_000, config.api.requestTimeoutMs), // Kubernetes' ReadHeaderTimeout
  // How often the two above are checked (Node's default, 30 s, would stretch them by as much).
  connectionsCheckingInterval: Math.min(1_000, config.api.requestTimeoutMs),
  keepAliveTimeout: 75_000,
}, app);
answerMalformedRequests(server);
// exec, attach and port-forward arrive as upgrade requests: the app serves them as any other.
serveUpgrades(server, app);
server.on('error', (err) => {
  log.fatal({ err: err.message, host: config.api.host, port: config.api.port }, 'API server cannot listen');
  process.exit(1);
});
function shutdown(signal: string) {
  log.info({ signal }, 'shutting down');
  server.close();
  // Open watches end cleanly first (clients re-watch from their last resourceVersion elsewhere).
  // Settled, not all: one part failing to stop must not cut short the others (giving the Lease up).
  void Promise.allSettled([hub.close(), endpoints.stop(), podTokens.stop(), rbac.stop(), customKinds.stop(), webhookConfigs.stop(), admissionPolicies.stop()])
    .then((results) => {
      for (const r of results) if (r.status === 'rejected') log.warn({ err: (r.reason as Error)?.message }, 'a part did not stop cleanly');
      return new Promise((resolve) => setTimeout(resolve, 200));
    })
    .finally(() => {
      server.closeAllConnections();
      redis.disconnect();
      process.exit(0);
    });
}
// Before the first pass takes a Lease: a signal from then on gives it up, never leaves it to run out.
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));

// Listening after the first pass: the cluster shows this server among the endpoints by the time it answers.
await endpoints.start();
server.listen(config.api.port, config.api.host, () => {
  log.info({ host: config.api.host, port: config.api.port }, 'API server listening (HTTPS)');
  if (config.api.writeKubeconfig && adminToken) {
    writeCredentialFile(config.api.writeKubeconfig, kubeconfigYaml({ server: config.api.kubeconfigServer, caPem: ca.cert, token: adminToken.token }));
    log.info({ file: config.api.writeKubeconfig, server: config.api.kubeconfigServer }, 'wrote the admin kubeconfig');
  }
});

