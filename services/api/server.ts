// The API server's HTTP surface: health, discovery, metrics, and every resource path routed to
// the handlers. Stateless: all it knows is in Redis, so any number can run side by side.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Redis } from 'ioredis';
import type { Store } from '../../shared/store/store.ts';
import { ApiError, RequestEntityTooLargeError, toStatus, BadRequestError } from '../../shared/errors.ts';
import { metricsRegistry, apiRequests } from '../../shared/metrics.ts';
import type { Logger } from '../../shared/log.ts';
import { handle } from './handlers.ts';
import { parseResourcePath } from './request.ts';
import type { WakeHub } from './watch.ts';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SERVER_VERSION } from './discovery.ts';
import type { OpenApiV3 } from './openapi.ts';

export interface ApiServerDeps {
  store: Store;
  redis: Redis;
  hub: WakeHub;
  log: Logger;
  maxBodyBytes: number;
  advertiseAddress: () => string;
  openapi: OpenApiV3;
}

type AsyncHandler = (req: Request, res: Response) => Promise<void> | void;

function wrap(fn: AsyncHandler) {
  return (req: Request, res: Response, next: NextFunction) => {
    Promise.resolve(fn(req, res)).catch(next);
  };
}

export function createApiServer(deps: ApiServerDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      apiRequests.observe({ verb: req.method, resource: req.path.split('/')[req.path.startsWith('/apis/') ? 5 : 4] ?? '', code: String(res.statusCode) }, seconds);
    });
    next();
  });

  const ping = async (_req: Request, res: Response) => {
    res.type('text/plain').send('ok');
  };
  app.get(['/healthz', '/livez'], wrap(ping));
  app.get('/readyz', wrap(async (_req, res) => {
    try {
      await deps.redis.ping();
      res.type('text/plain').send('ok');
    } catch {
      res.status(503).type('text/plain').send('redis: not reachable');
    }
  }));
  app.get('/metrics', wrap(async (_req, res) => {
    res.type(metricsRegistry.contentType).send(await metricsRegistry.metrics());
  }));
  app.get('/version', (_req, res) => {
    res.json(SERVER_VERSION);
  });
  app.get('/api', (_req, res) => {
    res.json(apiVersions(deps.advertiseAddress()));
  });
  app.get('/apis', (_req, res) => {
    res.json(apiGroupList());
  });
  app.get('/openapi/v3', (_req, res) => {
    res.json(deps.openapi.index());
  });
  app.get(/^\/openapi\/v3\/(.+)$/, (req, res, next) => {
    const doc = deps.openapi.document(req.params[0]);
    if (!doc) return next(notFoundPath());
    // Documents are addressed by content hash, so clients may cache them for good.
    if (req.query.hash) res.setHeader('Cache-Control', 'public, immutable');
    res.type('application/json').send(doc);
  });

  app.use(express.raw({ type: () => true, limit: deps.maxBodyBytes }));

  const ctx = { store: deps.store, hub: deps.hub, log: deps.log };
  app.use(wrap(async (req, res) => {
    const parts = req.path.split('/').filter(Boolean);
    if (req.method === 'GET' && parts[0] === 'api' && parts.length === 2) {
      const list = apiResourceList('', parts[1]);
      if (!list) throw notFoundPath();
      res.json(list);
      return;
    }
    if (req.method === 'GET' && parts[0] === 'apis' && parts.length === 2) {
      const group = apiGroup(parts[1]);
      if (!group) throw notFoundPath();
      res.json(group);
      return;
    }
    if (req.method === 'GET' && parts[0] === 'apis' && parts.length === 3) {
      const list = apiResourceList(parts[1], parts[2]);
      if (!list) throw notFoundPath();
      res.json(list);
      return;
    }
    const path = parseResourcePath(req.path);
    if (!path) throw notFoundPath();
    await handle(ctx, req, res, path);
  }));

  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    let error = err;
    const type = (err as { type?: string })?.type;
    if (type === 'entity.too.large') error = new RequestEntityTooLargeError(deps.maxBodyBytes);
    else if (type && type.startsWith('entity.')) error = new BadRequestError((err as Error).message);
    if (!(error instanceof ApiError)) deps.log.error({ err: (err as Error)?.stack ?? String(err), path: req.path }, 'request failed');
    const status = toStatus(error);
    if (res.headersSent) {
      res.end();
      return;
    }
    res.status(status.code).json(status);
  });
  return app;
}

/** A path that names nothing served: Kubernetes' mux answers "404 page not found", which clients show as this Status. */
function notFoundPath(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', { causes: [{ reason: 'UnexpectedServerResponse', message: '404 page not found', field: '' }] });
}
