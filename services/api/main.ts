// API server entry point: wires config, Redis, the store and the HTTP server together.
import { createServer } from 'node:http';
import { loadConfig } from '../../shared/config.ts';
import { Keys } from '../../shared/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { failFastOptions, redisConnector, retryWhileRedisDown, untilReady } from '../../shared/redis.ts';
import { loadEncryptionConfig } from '../../shared/store/encryption.ts';
import { Store } from '../../shared/store/store.ts';
import { answerMalformedRequests, createApiServer } from './server.ts';
import { WakeHub } from './watch.ts';
import { backfillObjectIndex, backfillServiceClaims, ensureDnsService, ensureKubernetesService, ensureSystemNamespaces } from './bootstrap.ts';
import { ApiServerEndpoints } from './apiserver-endpoints.ts';
import { hostIPv4 } from '../../shared/util.ts';
import { OpenApiV3 } from './openapi.ts';

const config = loadConfig();
const log = createLogger('api', config.common.logLevel);
const redisUrl = config.common.redisUrl ?? 'redis://127.0.0.1:6379';
const connect = redisConnector(redisUrl, log);
// Requests fail fast while Redis is unreachable or hung (503/504), never queue for it.
const redis = connect(failFastOptions(config.api.redisTimeoutMs));
const keys = new Keys(config.common.keyPrefix);
const store = new Store(redis, keys, config.common.watchHistory, config.admission, loadEncryptionConfig(config.common.encryptionConfig));
// The wake readers block on XREAD: they keep ioredis' defaults and wait out an outage.
const hub = new WakeHub(keys, () => connect(), log, { stallTimeoutMs: config.api.watchStallTimeoutMs });

const app = createApiServer({
  store,
  redis,
  hub,
  log,
  maxBodyBytes: config.api.maxBodyBytes,
  advertiseAddress: () => `${config.api.host}:${config.api.port}`,
  openapi: new OpenApiV3(),
  requestTimeoutMs: config.api.requestTimeoutMs,
});

// The connection queues nothing, so start-up waits for Redis itself, and starts over if it goes.
await untilReady(redis);
await retryWhileRedisDown(redis, async () => {
  await ensureSystemNamespaces(store, log);
  await backfillServiceClaims(store);
  await backfillObjectIndex(store, log);
  await ensureDnsService(store, config.network.dnsServiceIp, log);
  await ensureKubernetesService(store, config.network.kubernetesServiceIp, config.api.port, log);
});
const advertised = config.api.advertiseAddress ?? hostIPv4();
if (!advertised) log.warn('no address to advertise (WHARF_API_ADVERTISE_ADDRESS): this API server is not in the kubernetes Service\'s endpoints');
const endpoints = new ApiServerEndpoints({ store, log, address: advertised ? { ip: advertised, port: config.api.port } : undefined, ttlMs: config.api.endpointLeaseTtlMs });
// Listening after the first pass: the cluster shows this server among the endpoints by the time it answers.
await endpoints.start();
const server = createServer({
  // These bound receiving a request (a client that sends half its headers or body and stops is
  // cut off), not the response: a watch, whose request was received whole, stays open.
  requestTimeout: config.api.requestTimeoutMs,
  headersTimeout: Math.min(32_000, config.api.requestTimeoutMs), // Kubernetes' ReadHeaderTimeout
  // How often the two above are checked (Node's default, 30 s, would stretch them by as much).
  connectionsCheckingInterval: Math.min(1_000, config.api.requestTimeoutMs),
  keepAliveTimeout: 75_000,
}, app);
answerMalformedRequests(server);
server.on('error', (err) => {
  log.fatal({ err: err.message, host: config.api.host, port: config.api.port }, 'API server cannot listen');
  process.exit(1);
});
server.listen(config.api.port, config.api.host, () => {
  log.info({ host: config.api.host, port: config.api.port }, 'API server listening');
});

function shutdown(signal: string) {
  log.info({ signal }, 'shutting down');
  server.close();
  // Open watches end cleanly first (clients re-watch from their last resourceVersion elsewhere).
  void Promise.all([hub.close(), endpoints.stop()])
    .then(() => new Promise((resolve) => setTimeout(resolve, 200)))
    .finally(() => {
      server.closeAllConnections();
      redis.disconnect();
      process.exit(0);
    });
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
