// API server entry point: wires config, Redis, the store and the HTTP server together.
import { loadConfig } from '../../shared/config.ts';
import { Keys } from '../../shared/keys.ts';
import { createLogger } from '../../shared/log.ts';
import { connectRedis } from '../../shared/redis.ts';
import { Store } from '../../shared/store/store.ts';
import { createApiServer } from './server.ts';
import { WakeHub } from './watch.ts';
import { backfillObjectIndex, backfillServiceClaims, ensureDnsService, ensureSystemNamespaces } from './bootstrap.ts';
import { OpenApiV3 } from './openapi.ts';
import { schemaFor } from '../../shared/api/schemas.ts';

const config = loadConfig();
const log = createLogger('api', config.common.logLevel);
const redisUrl = config.common.redisUrl ?? 'redis://127.0.0.1:6379';
const redis = connectRedis(redisUrl);
const keys = new Keys(config.common.keyPrefix);
const store = new Store(redis, keys, config.common.watchHistory, config.admission);
const hub = new WakeHub(keys, () => connectRedis(redisUrl), log);

const app = createApiServer({
  store,
  redis,
  hub,
  log,
  maxBodyBytes: config.api.maxBodyBytes,
  advertiseAddress: () => `${config.api.host}:${config.api.port}`,
  openapi: new OpenApiV3(schemaFor),
});

await ensureSystemNamespaces(store, log);
await backfillServiceClaims(store);
await backfillObjectIndex(store, log);
await ensureDnsService(store, config.network.dnsServiceIp, log);
const server = app.listen(config.api.port, config.api.host, () => {
  log.info({ host: config.api.host, port: config.api.port }, 'API server listening');
});
server.keepAliveTimeout = 75_000;
server.requestTimeout = 0; // watches stay open

function shutdown(signal: string) {
  log.info({ signal }, 'shutting down');
  server.close();
  // Open watches end cleanly first (clients re-watch from their last resourceVersion elsewhere).
  void hub.close()
    .then(() => new Promise((resolve) => setTimeout(resolve, 200)))
    .finally(() => {
      server.closeAllConnections();
      redis.disconnect();
      process.exit(0);
    });
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
